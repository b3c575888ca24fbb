//! Unit cases for `RegionMap::insert` under each policy except hints (`gap.rs` has those), and for
//! the read side it feeds: `find`, `page_offset`, `overlapping`, iteration and totals.

mod common;

use common::{MIN_PAGE, Obj, TOP_PAGE, bounds, empty, fixed, pg, r, rows};
use k42_vm::{PAGE_SIZE, Policy, Prot, RegionMap, VmError};

const A: Obj = 1;
const B: Obj = 2;

#[test]
fn fixed_into_an_empty_map() {
    let mut map = empty();
    assert!(map.is_empty());
    assert_eq!(fixed(&mut map, 20, 4, Prot::RW, A, 7), vec![]);
    assert_eq!(rows(&map), vec![(20, 4, Prot::RW, A, 7)]);
    assert_eq!(map.total_mapped(), pg(4));
    assert_eq!(map.len(), 1);
}

#[test]
fn find_and_page_offset_at_the_edges() {
    let mut map = empty();
    fixed(&mut map, 20, 4, Prot::RW, A, 7);
    fixed(&mut map, 30, 1, Prot::READ, B, 0);
    let region = map.find(pg(20)).unwrap();
    assert_eq!(region.range, r(20, 4));
    assert_eq!(region.page_offset(pg(20)), Some(pg(7)));
    // An address inside a page maps to that page's offset.
    assert_eq!(region.page_offset(pg(23) + 5), Some(pg(10)));
    assert_eq!(region.page_offset(pg(24)), None);
    assert_eq!(map.find(pg(24) - 1).unwrap().range, r(20, 4));
    assert!(map.find(pg(24)).is_none(), "the end is exclusive");
    assert!(map.find(pg(20) - 1).is_none());
    assert!(map.find(0).is_none());
    assert_eq!(map.find(pg(30)).unwrap().backing, B);
    assert!(map.find(u64::MAX).is_none());
}

#[test]
fn iteration_is_in_address_order() {
    let mut map = empty();
    fixed(&mut map, 100, 1, Prot::READ, A, 0);
    fixed(&mut map, 20, 1, Prot::READ, A, 50);
    fixed(&mut map, 60, 1, Prot::READ, B, 0);
    let starts: Vec<u64> = map.iter().map(|reg| reg.range.start()).collect();
    assert_eq!(starts, vec![pg(20), pg(60), pg(100)]);
    let via_ref: Vec<u64> = (&map).into_iter().map(|reg| reg.range.start()).collect();
    assert_eq!(via_ref, starts);
    let backwards: Vec<u64> = map.iter().rev().map(|reg| reg.range.start()).collect();
    assert_eq!(backwards, vec![pg(100), pg(60), pg(20)]);
}

#[test]
fn overlapping_includes_a_region_reaching_in_from_the_left() {
    let mut map = empty();
    fixed(&mut map, 20, 10, Prot::READ, A, 0);
    fixed(&mut map, 35, 2, Prot::READ, B, 0);
    fixed(&mut map, 40, 2, Prot::READ, B, 0);
    let hit: Vec<u64> = map
        .overlapping(r(25, 12))
        .map(|reg| reg.range.start() / PAGE_SIZE)
        .collect();
    assert_eq!(hit, vec![20, 35]);
    assert!(map.is_free(r(30, 5)), "the hole between is free");
    assert!(!map.is_free(r(29, 1)));
    assert!(map.is_free(r(42, 1)), "touching the end is free");
}

#[test]
fn exact_fit_between_neighbours_merges_when_continuous() {
    let mut map = empty();
    fixed(&mut map, 20, 2, Prot::RW, A, 0);
    fixed(&mut map, 24, 2, Prot::RW, A, 4);
    assert_eq!(rows(&map).len(), 2);
    let mapped = map
        .insert(r(22, 2), Prot::RW, A, pg(2), Policy::FixedNoReplace)
        .unwrap();
    assert_eq!(mapped.range, r(22, 2));
    assert!(mapped.displaced.is_empty());
    assert_eq!(rows(&map), vec![(20, 6, Prot::RW, A, 0)]);
    assert_eq!(map.total_mapped(), pg(6));
}

#[test]
fn touching_neighbours_stay_apart_unless_everything_continues() {
    // Different protection, different backing, an offset gap, an offset going backwards.
    let cases: [(Prot, Obj, u64); 4] = [
        (Prot::READ, A, 2),
        (Prot::RW, B, 2),
        (Prot::RW, A, 3),
        (Prot::RW, A, 0),
    ];
    for (prot, obj, offset) in cases {
        let mut map = empty();
        fixed(&mut map, 20, 2, Prot::RW, A, 0);
        fixed(&mut map, 22, 2, prot, obj, offset);
        assert_eq!(
            rows(&map),
            vec![(20, 2, Prot::RW, A, 0), (22, 2, prot, obj, offset)]
        );
    }
    // And with everything continuing, on the left side too.
    let mut map = empty();
    fixed(&mut map, 22, 2, Prot::RW, A, 2);
    fixed(&mut map, 20, 2, Prot::RW, A, 0);
    assert_eq!(rows(&map), vec![(20, 4, Prot::RW, A, 0)]);
}

#[test]
fn fixed_in_the_middle_splits_and_reports_the_displaced_piece() {
    let mut map = empty();
    fixed(&mut map, 20, 10, Prot::RW, A, 100);
    let displaced = fixed(&mut map, 23, 2, Prot::READ, B, 0);
    assert_eq!(displaced, vec![(23, 2, Prot::RW, A, 103)]);
    assert_eq!(
        rows(&map),
        vec![
            (20, 3, Prot::RW, A, 100),
            (23, 2, Prot::READ, B, 0),
            (25, 5, Prot::RW, A, 105),
        ]
    );
    assert_eq!(map.total_mapped(), pg(10));
}

#[test]
fn fixed_over_several_regions_and_holes_reports_each_trimmed_piece() {
    let mut map = empty();
    fixed(&mut map, 20, 4, Prot::RW, A, 0);
    fixed(&mut map, 26, 2, Prot::READ, B, 10);
    fixed(&mut map, 30, 4, Prot::RX, A, 50);
    let displaced = fixed(&mut map, 22, 10, Prot::NONE, B, 0);
    assert_eq!(
        displaced,
        vec![
            (22, 2, Prot::RW, A, 2),
            (26, 2, Prot::READ, B, 10),
            (30, 2, Prot::RX, A, 50),
        ]
    );
    assert_eq!(
        rows(&map),
        vec![
            (20, 2, Prot::RW, A, 0),
            (22, 10, Prot::NONE, B, 0),
            (32, 2, Prot::RX, A, 52),
        ]
    );
    assert_eq!(map.total_mapped(), pg(14));
}

#[test]
fn fixed_over_an_identical_mapping_displaces_it_and_merges_back() {
    let mut map = empty();
    fixed(&mut map, 20, 10, Prot::RW, A, 0);
    let displaced = fixed(&mut map, 24, 2, Prot::RW, A, 4);
    assert_eq!(displaced, vec![(24, 2, Prot::RW, A, 4)]);
    assert_eq!(rows(&map), vec![(20, 10, Prot::RW, A, 0)]);
}

#[test]
fn fixed_exactly_over_one_region_replaces_it_whole() {
    let mut map = empty();
    fixed(&mut map, 20, 4, Prot::RW, A, 0);
    assert_eq!(
        fixed(&mut map, 20, 4, Prot::READ, B, 9),
        vec![(20, 4, Prot::RW, A, 0)]
    );
    assert_eq!(rows(&map), vec![(20, 4, Prot::READ, B, 9)]);
}

#[test]
fn fixed_at_the_very_edges_of_the_bounds() {
    let mut map = empty();
    fixed(&mut map, MIN_PAGE, 1, Prot::READ, A, 0);
    fixed(&mut map, TOP_PAGE - 1, 1, Prot::READ, B, 0);
    assert_eq!(map.total_mapped(), pg(2));
    let whole = TOP_PAGE - MIN_PAGE;
    let displaced = fixed(&mut map, MIN_PAGE, whole, Prot::RW, A, 0);
    assert_eq!(displaced.len(), 2);
    assert_eq!(rows(&map), vec![(MIN_PAGE, whole, Prot::RW, A, 0)]);
}

#[test]
fn out_of_bounds_is_refused_by_both_fixed_policies_and_changes_nothing() {
    for policy in [Policy::Fixed, Policy::FixedNoReplace] {
        let mut map = empty();
        fixed(&mut map, 20, 2, Prot::RW, A, 0);
        let before = rows(&map);
        for range in [r(MIN_PAGE - 1, 2), r(TOP_PAGE - 1, 2), r(0, 1)] {
            assert_eq!(
                map.insert(range, Prot::RW, A, 0, policy),
                Err(VmError::OutOfBounds {
                    range,
                    bounds: bounds()
                })
            );
        }
        assert_eq!(rows(&map), before);
    }
}

#[test]
fn no_replace_fails_on_any_overlap_and_names_the_first_region() {
    let mut map = empty();
    fixed(&mut map, 20, 2, Prot::RW, A, 0);
    fixed(&mut map, 24, 2, Prot::RW, B, 0);
    let before = rows(&map);
    for (first, pages) in [(19, 2), (21, 4), (18, 10), (20, 2)] {
        let range = r(first, pages);
        assert_eq!(
            map.insert(range, Prot::RW, A, 0, Policy::FixedNoReplace),
            Err(VmError::Exists {
                range,
                occupied: r(20, 2)
            }),
            "at {first}+{pages}"
        );
    }
    let range = r(23, 3);
    assert_eq!(
        map.insert(range, Prot::RW, A, 0, Policy::FixedNoReplace),
        Err(VmError::Exists {
            range,
            occupied: r(24, 2)
        })
    );
    assert_eq!(rows(&map), before);
    // Touching on both sides is not overlapping.
    assert!(
        map.insert(r(22, 2), Prot::READ, A, 0, Policy::FixedNoReplace)
            .is_ok()
    );
}

#[test]
fn bad_offsets_are_refused_before_anything_changes() {
    let mut map: RegionMap<Obj> = empty();
    fixed(&mut map, 20, 2, Prot::RW, A, 0);
    let before = rows(&map);
    assert_eq!(
        map.insert(r(20, 2), Prot::RW, B, 1, Policy::Fixed),
        Err(VmError::UnalignedOffset(1))
    );
    // The last page's offset would be past u64::MAX.
    let offset = u64::MAX - (PAGE_SIZE - 1);
    assert_eq!(
        map.insert(r(20, 2), Prot::RW, B, offset, Policy::Fixed),
        Err(VmError::OffsetOverflow { offset, len: pg(2) })
    );
    assert_eq!(rows(&map), before);
    // The largest offset that still fits is accepted, and its last page has an offset.
    let offset = u64::MAX - (PAGE_SIZE - 1) - pg(2);
    assert!(
        map.insert(r(30, 2), Prot::RW, B, offset, Policy::Fixed)
            .is_ok()
    );
    let region = map.find(pg(31)).unwrap();
    assert_eq!(region.page_offset(pg(31)), Some(offset + PAGE_SIZE));
}
