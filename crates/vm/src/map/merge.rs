//! Re-joining regions after an edit. The map is kept fully merged: no two neighbours touch with
//! the same protection, the same backing and continuous offsets. Since that holds before every
//! edit, only the regions an edit touched and their immediate neighbours can need merging, so each
//! edit in `edit.rs` ends with [`RegionMap::merge_around`] over its range; the cost is the number
//! of regions in that window, not the size of the map.
//!
//! Merging is what lets `mprotect` of a whole region and back, or a run of adjacent maps of one
//! object, leave one region behind (as Linux's `vma_merge` does), so faults and the HAT see few,
//! large regions.

use alloc::vec::Vec;

use super::RegionMap;
use crate::VRange;

impl<B: PartialEq> RegionMap<B> {
    /// Merges every continuous pair among the regions overlapping `range` and the one region on
    /// each side of it.
    pub(super) fn merge_around(&mut self, range: VRange) {
        let first = self
            .regions
            .range(..range.start())
            .next_back()
            .map_or(range.start(), |(&start, _)| start);
        // The first region at or after the end is the right-hand neighbour to include.
        let after = self.regions.range(range.end()..).next().map(|(&s, _)| s);
        let starts: Vec<u64> = match after {
            Some(last) => self.regions.range(first..=last).map(|(&s, _)| s).collect(),
            None => self.regions.range(first..).map(|(&s, _)| s).collect(),
        };
        let mut starts = starts.into_iter();
        let Some(mut left) = starts.next() else {
            return;
        };
        for right in starts {
            let continues = match (self.regions.get(&left), self.regions.get(&right)) {
                (Some(l), Some(r)) => l.continues_into(r),
                _ => false,
            };
            if !continues {
                left = right;
                continue;
            }
            let Some(absorbed) = self.regions.remove(&right) else {
                continue;
            };
            if let Some(l) = self.regions.get_mut(&left) {
                l.range = VRange::between(l.range.start(), absorbed.range.end());
            }
        }
    }
}
