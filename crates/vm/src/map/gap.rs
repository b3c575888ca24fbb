//! Free-space search, for hinted maps and for callers (mremap's move, `MAP_32BIT`) that pick an
//! address themselves.
//!
//! The strategy is Linux's top-down allocator (`generic_get_unmapped_area_topdown`): take the
//! highest gap that fits below a ceiling (`mmap_base`, under the stack), placed at the top of that
//! gap; if nothing fits below the ceiling, try again with the whole window. Top-down keeps the low
//! addresses free for brk's heap to grow up into and packs mappings against each other, so the
//! address space stays in few large holes. The walk visits regions from the ceiling down, so it
//! costs the number of regions above the gap it finds; Linux's augmented tree (largest gap per
//! subtree) would make it logarithmic if maps with thousands of regions ever need it.

use super::RegionMap;
use crate::{Bounds, VRange, VmError, is_page_aligned, page_floor};

impl<B> RegionMap<B> {
    /// The highest free range of `len` bytes inside both `window` and the map's bounds that ends
    /// at or below `below`, placed at the top of its gap. `None` if there is none, or `len` is zero
    /// or not a whole number of pages.
    pub fn free_gap(&self, len: u64, window: Bounds, below: u64) -> Option<VRange> {
        if len == 0 || !is_page_aligned(len) {
            return None;
        }
        let (floor, ceiling) = self.bounds.aligned_intersection(window)?;
        let ceiling = ceiling.min(page_floor(below));
        let fits = |low: u64, high: u64| high.checked_sub(low).is_some_and(|gap| gap >= len);
        // `high` is the top of the gap being grown downwards: the ceiling, then each region's start.
        let mut high = ceiling;
        for region in self.regions.range(..ceiling).rev().map(|(_, r)| r) {
            let low = region.range.end().max(floor);
            if fits(low, high) {
                return Some(VRange::between(high - len, high));
            }
            high = high.min(region.range.start());
            if high <= floor {
                return None;
            }
        }
        fits(floor, high).then(|| VRange::between(high - len, high))
    }

    /// Where a [`super::Policy::Hint`] map of `hint.len()` bytes goes (see the policy's doc).
    pub(super) fn place(&self, hint: VRange, below: u64) -> Result<VRange, VmError> {
        // Address 0 is "no preference", as for mmap(NULL, ...), even where 0 is mappable.
        if hint.start() != 0 && self.bounds.contains(hint) && self.is_free(hint) {
            return Ok(hint);
        }
        let len = hint.len();
        self.free_gap(len, self.bounds, below)
            .or_else(|| self.free_gap(len, self.bounds, self.bounds.top))
            .ok_or(VmError::NoSpace { len })
    }
}
