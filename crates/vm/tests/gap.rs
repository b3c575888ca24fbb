//! Unit cases for the gap search (`RegionMap::free_gap`) and hinted maps (`Policy::Hint`): top-down
//! placement under a ceiling, exact fits, skipped small gaps, the floor of the bounds, narrower
//! windows, the preferred address and its "no preference" zero, the fallback above the ceiling,
//! and `NoSpace`.

mod common;

use common::{MIN_PAGE, Obj, TOP_PAGE, bounds, empty, fixed, pg, r, rows};
use k42_vm::{Bounds, PAGE_SIZE, Policy, Prot, VmError};

const A: Obj = 1;
const B: Obj = 2;
/// A ceiling in the middle of the test window, standing in for Linux's `mmap_base`.
const BASE_PAGE: u64 = 200;

#[test]
fn empty_map_places_at_the_top_of_the_window_or_under_the_ceiling() {
    let map = empty();
    assert_eq!(
        map.free_gap(pg(4), bounds(), u64::MAX),
        Some(r(TOP_PAGE - 4, 4))
    );
    assert_eq!(
        map.free_gap(pg(4), bounds(), pg(BASE_PAGE)),
        Some(r(BASE_PAGE - 4, 4))
    );
    // An unaligned ceiling rounds down.
    assert_eq!(
        map.free_gap(pg(4), bounds(), pg(BASE_PAGE) + 1),
        Some(r(BASE_PAGE - 4, 4))
    );
}

#[test]
fn top_down_takes_the_highest_gap_that_fits_not_the_tightest() {
    let mut map = empty();
    // Gaps under the ceiling, from the top: [196,200) 4 pages, [180,190) 10, [100,103) 3.
    fixed(&mut map, 190, 6, Prot::RW, A, 0);
    fixed(&mut map, 103, 77, Prot::RW, A, 0);
    fixed(&mut map, MIN_PAGE, 100 - MIN_PAGE, Prot::RW, B, 0);
    let ceiling = pg(BASE_PAGE);
    assert_eq!(
        map.free_gap(pg(4), bounds(), ceiling),
        Some(r(196, 4)),
        "exact fit at the top"
    );
    assert_eq!(map.free_gap(pg(3), bounds(), ceiling), Some(r(197, 3)));
    assert_eq!(map.free_gap(pg(5), bounds(), ceiling), Some(r(185, 5)));
    assert_eq!(map.free_gap(pg(10), bounds(), ceiling), Some(r(180, 10)));
    assert_eq!(map.free_gap(pg(11), bounds(), ceiling), None);
    // A ceiling inside a region starts the search at that region's start.
    assert_eq!(map.free_gap(pg(3), bounds(), pg(150)), Some(r(100, 3)));
}

#[test]
fn the_floor_of_the_bounds_is_a_gap_edge() {
    let mut map = empty();
    fixed(
        &mut map,
        MIN_PAGE + 2,
        TOP_PAGE - MIN_PAGE - 2,
        Prot::RW,
        A,
        0,
    );
    assert_eq!(
        map.free_gap(pg(2), bounds(), u64::MAX),
        Some(r(MIN_PAGE, 2))
    );
    assert_eq!(map.free_gap(pg(3), bounds(), u64::MAX), None);
    assert_eq!(
        map.free_gap(pg(1), bounds(), pg(MIN_PAGE)),
        None,
        "ceiling at the floor"
    );
}

#[test]
fn a_window_narrows_the_search_and_never_widens_the_bounds() {
    let map = empty();
    // MAP_32BIT-style: only below a lower top.
    let low = Bounds {
        min: 0,
        top: pg(64),
    };
    assert_eq!(map.free_gap(pg(2), low, u64::MAX), Some(r(62, 2)));
    // The window's part below the map's floor is not usable.
    let under = Bounds {
        min: 0,
        top: pg(MIN_PAGE),
    };
    assert_eq!(map.free_gap(pg(1), under, u64::MAX), None);
    // Unaligned window ends shrink to whole pages.
    let ragged = Bounds {
        min: pg(40) + 1,
        top: pg(43) - 1,
    };
    assert_eq!(map.free_gap(pg(1), ragged, u64::MAX), Some(r(41, 1)));
    assert_eq!(map.free_gap(pg(2), ragged, u64::MAX), None);
}

#[test]
fn bad_lengths_find_nothing() {
    let map = empty();
    assert_eq!(map.free_gap(0, bounds(), u64::MAX), None);
    assert_eq!(map.free_gap(PAGE_SIZE + 1, bounds(), u64::MAX), None);
    assert_eq!(map.free_gap(pg(TOP_PAGE), bounds(), u64::MAX), None);
}

#[test]
fn hint_uses_a_free_preferred_range_as_is() {
    let mut map = empty();
    let hint = Policy::Hint {
        below: pg(BASE_PAGE),
    };
    let mapped = map.insert(r(40, 4), Prot::RW, A, 0, hint).unwrap();
    assert_eq!(mapped.range, r(40, 4));
    assert!(mapped.displaced.is_empty());
    // Above the ceiling is fine too when asked for by address.
    let mapped = map.insert(r(220, 4), Prot::RW, A, 0, hint).unwrap();
    assert_eq!(mapped.range, r(220, 4));
}

#[test]
fn hint_that_is_taken_zero_or_out_of_bounds_searches_top_down() {
    let mut map = empty();
    fixed(&mut map, 40, 4, Prot::RW, A, 0);
    let hint = Policy::Hint {
        below: pg(BASE_PAGE),
    };
    let taken = map.insert(r(42, 4), Prot::RW, B, 0, hint).unwrap();
    assert_eq!(taken.range, r(BASE_PAGE - 4, 4), "never displaces");
    let zero = map.insert(r(0, 2), Prot::RW, B, 0, hint).unwrap();
    assert_eq!(zero.range, r(BASE_PAGE - 6, 2), "0 is no preference");
    let outside = map.insert(r(TOP_PAGE, 2), Prot::RW, B, 0, hint).unwrap();
    assert_eq!(outside.range, r(BASE_PAGE - 8, 2));
    assert_eq!(rows(&map).len(), 4);
}

#[test]
fn hint_placed_next_to_a_continuous_region_merges() {
    let mut map = empty();
    let hint = Policy::Hint {
        below: pg(BASE_PAGE),
    };
    // Placed top-down one under the other: the lower one continues into the upper one only if
    // its offsets run into it, which these are chosen to do.
    let upper = map.insert(r(0, 2), Prot::RW, A, pg(2), hint).unwrap();
    assert_eq!(upper.range, r(BASE_PAGE - 2, 2));
    let lower = map.insert(r(0, 2), Prot::RW, A, 0, hint).unwrap();
    assert_eq!(lower.range, r(BASE_PAGE - 4, 2));
    assert_eq!(rows(&map), vec![(BASE_PAGE - 4, 4, Prot::RW, A, 0)]);
}

#[test]
fn hint_falls_back_above_the_ceiling_then_reports_no_space() {
    let mut map = empty();
    fixed(&mut map, MIN_PAGE, BASE_PAGE - MIN_PAGE, Prot::RW, A, 0);
    let hint = Policy::Hint {
        below: pg(BASE_PAGE),
    };
    let above = map.insert(r(0, 6), Prot::RW, B, 0, hint).unwrap();
    assert_eq!(above.range, r(TOP_PAGE - 6, 6));
    let rest = TOP_PAGE - BASE_PAGE - 6;
    let filled = map.insert(r(0, rest), Prot::RW, B, 0, hint).unwrap();
    assert_eq!(filled.range, r(BASE_PAGE, rest));
    let before = rows(&map);
    assert_eq!(
        map.insert(r(0, 1), Prot::RW, B, 0, hint),
        Err(VmError::NoSpace { len: pg(1) })
    );
    assert_eq!(rows(&map), before);
    assert_eq!(map.total_mapped(), pg(TOP_PAGE - MIN_PAGE));
}
