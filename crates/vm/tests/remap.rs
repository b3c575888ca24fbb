//! Unit cases for `RegionMap::grow_in_place`, mremap's and brk's in-place growth: which ranges may
//! grow (the tail of one region), into what (free pages inside the bounds), what the new pages map
//! to (the region's continuing offsets) and every refusal leaving the map unchanged.

mod common;

use common::{MIN_PAGE, Obj, TOP_PAGE, empty, fixed, pg, r, rows};
use k42_vm::{PAGE_SIZE, Policy, Prot};

const A: Obj = 1;
const B: Obj = 2;

#[test]
fn grow_a_whole_region_into_free_space() {
    let mut map = empty();
    fixed(&mut map, 20, 2, Prot::RW, A, 5);
    assert!(map.grow_in_place(r(20, 2), pg(6)));
    assert_eq!(rows(&map), vec![(20, 6, Prot::RW, A, 5)]);
    assert_eq!(map.total_mapped(), pg(6));
    assert_eq!(map.find(pg(25)).unwrap().page_offset(pg(25)), Some(pg(10)));
}

#[test]
fn grow_the_tail_of_a_region_extends_the_whole_region() {
    let mut map = empty();
    fixed(&mut map, 20, 6, Prot::RW, A, 0);
    assert!(map.grow_in_place(r(24, 2), pg(4)));
    assert_eq!(rows(&map), vec![(20, 8, Prot::RW, A, 0)]);
}

#[test]
fn grow_up_to_a_touching_neighbour_and_merge_if_continuous() {
    let mut map = empty();
    fixed(&mut map, 20, 2, Prot::RW, A, 0);
    fixed(&mut map, 26, 2, Prot::RW, A, 6);
    assert!(map.grow_in_place(r(20, 2), pg(6)));
    assert_eq!(rows(&map), vec![(20, 8, Prot::RW, A, 0)]);
    // A neighbour that does not continue stays apart.
    let mut map = empty();
    fixed(&mut map, 20, 2, Prot::RW, A, 0);
    fixed(&mut map, 26, 2, Prot::RW, B, 6);
    assert!(map.grow_in_place(r(20, 2), pg(6)));
    assert_eq!(
        rows(&map),
        vec![(20, 6, Prot::RW, A, 0), (26, 2, Prot::RW, B, 6)]
    );
}

#[test]
fn refusals_change_nothing() {
    let mut map = empty();
    fixed(&mut map, 20, 4, Prot::RW, A, 0);
    fixed(&mut map, 26, 2, Prot::RW, B, 0);
    fixed(&mut map, TOP_PAGE - 2, 2, Prot::RW, A, 0);
    let before = rows(&map);
    let cases = [
        (r(20, 2), pg(4), "not the tail of its region"),
        (r(20, 4), pg(7), "the next region is in the way"),
        (r(30, 2), pg(4), "not mapped"),
        (r(22, 4), pg(6), "runs past its region"),
        (r(20, 4), pg(4), "not larger"),
        (r(20, 4), pg(2), "smaller"),
        (r(20, 4), pg(5) + 1, "not whole pages"),
        (r(TOP_PAGE - 2, 2), pg(3), "past the top of the bounds"),
        (r(TOP_PAGE - 2, 2), u64::MAX - (PAGE_SIZE - 1), "past 2^64"),
    ];
    for (range, new_len, why) in cases {
        assert!(!map.grow_in_place(range, new_len), "grew although {why}");
        assert_eq!(rows(&map), before, "changed although {why}");
    }
}

#[test]
fn growth_whose_offsets_would_overflow_is_refused() {
    let mut map = empty();
    let offset = u64::MAX - (PAGE_SIZE - 1) - pg(2);
    let mapped = map
        .insert(r(MIN_PAGE, 2), Prot::RW, A, offset, Policy::Fixed)
        .unwrap();
    assert!(mapped.displaced.is_empty());
    assert!(!map.grow_in_place(r(MIN_PAGE, 2), pg(3)));
    assert_eq!(map.total_mapped(), pg(2));
}
