//! Unit cases for `RegionMap::protect`: splits at one or both ends, ranges spanning several
//! regions, merging of pieces that only differed in protection, and the all-or-nothing refusal
//! when any page is unmapped (Linux mprotect's ENOMEM).

mod common;

use common::{Obj, empty, fixed, pg, r, rows};
use k42_vm::{Prot, VmError};

const A: Obj = 1;
const B: Obj = 2;

#[test]
fn protect_in_the_middle_splits_into_three_and_back_merges_into_one() {
    let mut map = empty();
    fixed(&mut map, 20, 10, Prot::RW, A, 50);
    map.protect(r(23, 2), Prot::READ).unwrap();
    assert_eq!(
        rows(&map),
        vec![
            (20, 3, Prot::RW, A, 50),
            (23, 2, Prot::READ, A, 53),
            (25, 5, Prot::RW, A, 55),
        ]
    );
    assert_eq!(map.total_mapped(), pg(10));
    map.protect(r(23, 2), Prot::RW).unwrap();
    assert_eq!(rows(&map), vec![(20, 10, Prot::RW, A, 50)]);
}

#[test]
fn protect_one_end_splits_once() {
    let mut map = empty();
    fixed(&mut map, 20, 10, Prot::RW, A, 0);
    map.protect(r(20, 3), Prot::NONE).unwrap();
    map.protect(r(27, 3), Prot::READ).unwrap();
    assert_eq!(
        rows(&map),
        vec![
            (20, 3, Prot::NONE, A, 0),
            (23, 4, Prot::RW, A, 3),
            (27, 3, Prot::READ, A, 7),
        ]
    );
}

#[test]
fn protect_an_exact_region_or_with_its_own_protection_changes_only_prot() {
    let mut map = empty();
    fixed(&mut map, 20, 4, Prot::RW, A, 0);
    fixed(&mut map, 24, 4, Prot::RW, B, 0);
    map.protect(r(20, 4), Prot::RX).unwrap();
    assert_eq!(
        rows(&map),
        vec![(20, 4, Prot::RX, A, 0), (24, 4, Prot::RW, B, 0)]
    );
    let before = rows(&map);
    map.protect(r(21, 5), Prot::RX).unwrap();
    map.protect(r(21, 5), Prot::RW).unwrap();
    map.protect(r(21, 3), Prot::RX).unwrap();
    assert_eq!(rows(&map), before);
}

#[test]
fn protect_spanning_several_regions_splits_only_the_ends() {
    let mut map = empty();
    fixed(&mut map, 20, 4, Prot::RW, A, 0);
    fixed(&mut map, 24, 4, Prot::READ, B, 0);
    fixed(&mut map, 28, 4, Prot::RX, A, 40);
    map.protect(r(22, 8), Prot::NONE).unwrap();
    assert_eq!(
        rows(&map),
        vec![
            (20, 2, Prot::RW, A, 0),
            (22, 2, Prot::NONE, A, 2),
            (24, 4, Prot::NONE, B, 0),
            (28, 2, Prot::NONE, A, 40),
            (30, 2, Prot::RX, A, 42),
        ]
    );
}

#[test]
fn protect_merges_pieces_that_differed_only_in_protection() {
    // One object mapped continuously with three protections, then made uniform.
    let mut map = empty();
    fixed(&mut map, 20, 2, Prot::READ, A, 0);
    fixed(&mut map, 22, 2, Prot::RW, A, 2);
    fixed(&mut map, 24, 2, Prot::RX, A, 4);
    fixed(&mut map, 26, 2, Prot::READ, A, 6);
    assert_eq!(rows(&map).len(), 4);
    map.protect(r(22, 4), Prot::READ).unwrap();
    assert_eq!(rows(&map), vec![(20, 8, Prot::READ, A, 0)]);
}

#[test]
fn protect_over_a_hole_fails_naming_the_first_unmapped_page_and_changes_nothing() {
    let mut map = empty();
    fixed(&mut map, 20, 4, Prot::RW, A, 0);
    fixed(&mut map, 26, 4, Prot::RW, B, 0);
    let before = rows(&map);
    let cases = [
        (r(22, 6), pg(24)), // hole in the middle
        (r(18, 4), pg(18)), // hole at the start
        (r(28, 4), pg(30)), // hole at the end
        (r(40, 2), pg(40)), // nothing mapped at all
        (r(20, 11), pg(24)),
    ];
    for (range, addr) in cases {
        assert_eq!(
            map.protect(range, Prot::NONE),
            Err(VmError::NotMapped { addr }),
            "protect {range}"
        );
        assert_eq!(
            rows(&map),
            before,
            "a refused protect of {range} changed the map"
        );
    }
}

#[test]
fn protect_across_touching_regions_is_fully_mapped() {
    let mut map = empty();
    fixed(&mut map, 20, 4, Prot::RW, A, 0);
    fixed(&mut map, 24, 4, Prot::RW, B, 0);
    map.protect(r(20, 8), Prot::READ).unwrap();
    assert_eq!(
        rows(&map),
        vec![(20, 4, Prot::READ, A, 0), (24, 4, Prot::READ, B, 0)]
    );
}
