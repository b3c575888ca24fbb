//! A self-check of the map's invariants, for the host tests (the model test calls it after every
//! operation) and for a kernel's debug builds. Kept apart from the operations so checking stays
//! optional and the fault path stays a single tree lookup.

use super::RegionMap;
use crate::is_page_aligned;

impl<B: PartialEq> RegionMap<B> {
    /// Checks the invariants every operation keeps, returning the first one broken: each region is
    /// keyed by its start, lies inside the bounds, has a page-aligned offset whose end fits in 64
    /// bits, starts at or after the previous one's end and cannot be merged with it; the total
    /// mapped is the sum of the lengths. (Ranges are aligned and non-empty by construction.)
    pub fn audit(&self) -> Result<(), &'static str> {
        let mut total: u64 = 0;
        let mut prev = None;
        for (&key, region) in &self.regions {
            if key != region.range.start() {
                return Err("a region is filed under another address than its start");
            }
            if !self.bounds.contains(region.range) {
                return Err("a region lies outside the bounds");
            }
            if !is_page_aligned(region.offset)
                || region.offset.checked_add(region.range.len()).is_none()
            {
                return Err("a region's backing offset is unaligned or overflows");
            }
            if let Some(prev) = prev {
                let prev: &crate::Region<B> = prev;
                if prev.range.end() > region.range.start() {
                    return Err("two regions overlap");
                }
                if prev.continues_into(region) {
                    return Err("two neighbouring regions were left unmerged");
                }
            }
            total = total
                .checked_add(region.range.len())
                .ok_or("the region lengths overflow")?;
            prev = Some(region);
        }
        if total != self.mapped {
            return Err("total_mapped disagrees with the regions");
        }
        Ok(())
    }
}
