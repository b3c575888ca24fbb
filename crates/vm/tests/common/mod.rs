//! Helpers shared by the host tests: ranges counted in pages, a small map with fixed bounds, and a
//! compact row view of regions so expected layouts read as tables.
#![allow(dead_code)] // each test binary uses a different part of the helpers

use k42_vm::{Bounds, PAGE_SIZE, Policy, Prot, Region, RegionMap, VRange};

/// The backing token of the tests: a memory object's number.
pub type Obj = u32;

/// First mappable page of the test maps: above zero so the NULL page is out of bounds, as in Linux.
pub const MIN_PAGE: u64 = 16;
/// First page past the test maps' window.
pub const TOP_PAGE: u64 = 256;

/// Address of page `n`.
pub const fn pg(n: u64) -> u64 {
    n * PAGE_SIZE
}

/// The range of `pages` pages starting at page `first`.
pub fn r(first: u64, pages: u64) -> VRange {
    VRange::new(pg(first), pg(pages)).expect("a valid test range")
}

/// The test window `[MIN_PAGE, TOP_PAGE)`.
pub const fn bounds() -> Bounds {
    Bounds {
        min: pg(MIN_PAGE),
        top: pg(TOP_PAGE),
    }
}

/// An empty map over the test window.
pub fn empty() -> RegionMap<Obj> {
    RegionMap::new(bounds())
}

/// A region as `(first page, pages, prot, backing, offset in pages)`.
pub type Row = (u64, u64, Prot, Obj, u64);

/// The row view of one region.
pub fn row(region: &Region<Obj>) -> Row {
    assert_eq!(
        region.offset % PAGE_SIZE,
        0,
        "unaligned offset in {region:?}"
    );
    (
        region.range.start() / PAGE_SIZE,
        region.range.pages(),
        region.prot,
        region.backing,
        region.offset / PAGE_SIZE,
    )
}

/// Every region of the map as rows, after checking the map's own invariants.
pub fn rows(map: &RegionMap<Obj>) -> Vec<Row> {
    map.audit().expect("map invariants");
    map.iter().map(row).collect()
}

/// Rows of a list of removed or displaced regions.
pub fn rows_of(regions: &[Region<Obj>]) -> Vec<Row> {
    regions.iter().map(row).collect()
}

/// Maps `pages` pages at page `first` with `Policy::Fixed`, returning the displaced pieces as rows.
pub fn fixed(
    map: &mut RegionMap<Obj>,
    first: u64,
    pages: u64,
    prot: Prot,
    obj: Obj,
    offset_page: u64,
) -> Vec<Row> {
    let mapped = map
        .insert(r(first, pages), prot, obj, pg(offset_page), Policy::Fixed)
        .expect("a fixed map inside the bounds");
    assert_eq!(mapped.range, r(first, pages));
    rows_of(&mapped.displaced)
}
