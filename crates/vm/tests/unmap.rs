//! Unit cases for `RegionMap::unmap`: exact regions, splits in the middle and at either end,
//! ranges spanning several regions and holes, holes alone (not an error, as with Linux munmap),
//! and ranges outside the bounds.

mod common;

use common::{Obj, TOP_PAGE, empty, fixed, pg, r, rows, rows_of};
use k42_vm::Prot;

const A: Obj = 1;
const B: Obj = 2;

#[test]
fn unmap_an_exact_region() {
    let mut map = empty();
    fixed(&mut map, 20, 4, Prot::RW, A, 3);
    let removed = map.unmap(r(20, 4));
    assert_eq!(rows_of(&removed), vec![(20, 4, Prot::RW, A, 3)]);
    assert!(rows(&map).is_empty());
    assert_eq!(map.total_mapped(), 0);
}

#[test]
fn unmap_in_the_middle_splits_with_the_right_offsets() {
    let mut map = empty();
    fixed(&mut map, 20, 10, Prot::RW, A, 100);
    let removed = map.unmap(r(23, 3));
    assert_eq!(rows_of(&removed), vec![(23, 3, Prot::RW, A, 103)]);
    assert_eq!(
        rows(&map),
        vec![(20, 3, Prot::RW, A, 100), (26, 4, Prot::RW, A, 106)]
    );
    assert_eq!(map.total_mapped(), pg(7));
}

#[test]
fn unmap_either_end_of_a_region() {
    let mut map = empty();
    fixed(&mut map, 20, 10, Prot::RW, A, 0);
    assert_eq!(rows_of(&map.unmap(r(20, 2))), vec![(20, 2, Prot::RW, A, 0)]);
    assert_eq!(rows_of(&map.unmap(r(28, 2))), vec![(28, 2, Prot::RW, A, 8)]);
    assert_eq!(rows(&map), vec![(22, 6, Prot::RW, A, 2)]);
}

#[test]
fn unmap_spanning_regions_and_holes_returns_the_trimmed_pieces() {
    let mut map = empty();
    fixed(&mut map, 20, 4, Prot::RW, A, 0);
    fixed(&mut map, 26, 2, Prot::READ, B, 10);
    fixed(&mut map, 28, 2, Prot::RW, A, 90);
    fixed(&mut map, 34, 4, Prot::RX, B, 0);
    let removed = map.unmap(r(22, 14));
    assert_eq!(
        rows_of(&removed),
        vec![
            (22, 2, Prot::RW, A, 2),
            (26, 2, Prot::READ, B, 10),
            (28, 2, Prot::RW, A, 90),
            (34, 2, Prot::RX, B, 0),
        ]
    );
    assert_eq!(
        rows(&map),
        vec![(20, 2, Prot::RW, A, 0), (36, 2, Prot::RX, B, 2)]
    );
    assert_eq!(map.total_mapped(), pg(4));
}

#[test]
fn unmapping_a_hole_is_not_an_error() {
    let mut map = empty();
    fixed(&mut map, 20, 2, Prot::RW, A, 0);
    fixed(&mut map, 30, 2, Prot::RW, A, 0);
    assert!(
        map.unmap(r(22, 8)).is_empty(),
        "the hole between touching ends"
    );
    assert!(map.unmap(r(100, 50)).is_empty());
    assert_eq!(rows(&map).len(), 2);
}

#[test]
fn unmap_outside_the_bounds_finds_nothing() {
    let mut map = empty();
    fixed(&mut map, TOP_PAGE - 2, 2, Prot::RW, A, 0);
    assert!(map.unmap(r(0, 4)).is_empty());
    // Straddling the top: the in-bounds part goes, the rest contributes nothing.
    let removed = map.unmap(r(TOP_PAGE - 1, 10));
    assert_eq!(rows_of(&removed), vec![(TOP_PAGE - 1, 1, Prot::RW, A, 1)]);
    assert_eq!(rows(&map), vec![(TOP_PAGE - 2, 1, Prot::RW, A, 0)]);
}

#[test]
fn unmap_never_merges_what_it_leaves() {
    // Continuous pieces either side of a hole stay two regions; refilling the hole re-joins them.
    let mut map = empty();
    fixed(&mut map, 20, 6, Prot::RW, A, 0);
    map.unmap(r(22, 2));
    assert_eq!(rows(&map).len(), 2);
    fixed(&mut map, 22, 2, Prot::RW, A, 2);
    assert_eq!(rows(&map), vec![(20, 6, Prot::RW, A, 0)]);
}
