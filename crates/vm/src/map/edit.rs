//! The operations that change a [`RegionMap`]: insert (mmap), unmap (munmap), protect (mprotect)
//! and grow in place (mremap's cheap case, brk). Each validates everything first, so a refusal
//! changes nothing, then splits regions at the edges of the range, edits whole regions between
//! the cuts, and finally lets `merge.rs` re-join whatever became continuous.

use alloc::vec::Vec;

use super::{Mapped, Policy, RegionMap};
use crate::{Prot, Region, VRange, VmError, is_page_aligned};

impl<B: Clone + PartialEq> RegionMap<B> {
    /// Maps `range` (or, for [`Policy::Hint`], a range of its length) to `backing` from byte
    /// `offset` on, with protection `prot`, then merges it with continuous neighbours.
    ///
    /// # Errors
    /// [`VmError::UnalignedOffset`] and [`VmError::OffsetOverflow`] for a bad offset;
    /// [`VmError::OutOfBounds`] if a fixed range leaves the map's bounds;
    /// [`VmError::Exists`] if a [`Policy::FixedNoReplace`] range overlaps a region;
    /// [`VmError::NoSpace`] if a hinted map finds no gap.
    pub fn insert(
        &mut self,
        range: VRange,
        prot: Prot,
        backing: B,
        offset: u64,
        policy: Policy,
    ) -> Result<Mapped<B>, VmError> {
        if !is_page_aligned(offset) {
            return Err(VmError::UnalignedOffset(offset));
        }
        if offset.checked_add(range.len()).is_none() {
            return Err(VmError::OffsetOverflow {
                offset,
                len: range.len(),
            });
        }
        let place = match policy {
            Policy::Fixed => {
                self.bounds.check(range)?;
                range
            }
            Policy::FixedNoReplace => {
                self.bounds.check(range)?;
                if let Some(occupied) = self.overlapping(range).next() {
                    return Err(VmError::Exists {
                        range,
                        occupied: occupied.range,
                    });
                }
                range
            }
            Policy::Hint { below } => self.place(range, below)?,
        };
        // Only a fixed map can overlap anything; for the others this finds nothing to remove.
        let displaced = self.remove_range(place);
        self.add(Region {
            range: place,
            prot,
            backing,
            offset,
        });
        self.merge_around(place);
        Ok(Mapped {
            range: place,
            displaced,
        })
    }

    /// Unmaps every page of `range`, splitting regions that straddle its ends, and returns the
    /// removed pieces in address order with their offsets adjusted. Holes in the range, or a range
    /// outside the bounds, are not an error (as with Linux `munmap`): they contribute nothing.
    ///
    /// Nothing needs merging afterwards: the pieces left on either side are separated by the new
    /// hole.
    pub fn unmap(&mut self, range: VRange) -> Vec<Region<B>> {
        self.remove_range(range)
    }

    /// Gives every page of `range` the protection `prot`, splitting regions at both ends, then
    /// merges what became continuous (including pieces that only differed in protection).
    ///
    /// # Errors
    /// [`VmError::NotMapped`] naming the lowest unmapped page, if any page of `range` is unmapped;
    /// nothing is changed then.
    pub fn protect(&mut self, range: VRange, prot: Prot) -> Result<(), VmError> {
        let mut covered_to = range.start();
        for r in self.overlapping(range) {
            if r.range.start() > covered_to {
                break;
            }
            covered_to = r.range.end();
        }
        if covered_to < range.end() {
            return Err(VmError::NotMapped { addr: covered_to });
        }
        self.split_at(range.start());
        self.split_at(range.end());
        for r in self.regions.range_mut(range.start()..range.end()) {
            r.1.prot = prot;
        }
        self.merge_around(range);
        Ok(())
    }

    /// Grows the region whose last pages are `range` so that `range` becomes `new_len` bytes long,
    /// if the pages after it are free and inside the bounds: mremap's in-place case and brk's
    /// growth. The new pages continue the region's backing offsets.
    ///
    /// Returns `false`, changing nothing, if `range` is not the tail of one region, `new_len` is not
    /// a whole number of pages larger than `range`, the pages after are taken or out of bounds, or
    /// the offsets would overflow. Shrinking is [`RegionMap::unmap`] of the tail.
    pub fn grow_in_place(&mut self, range: VRange, new_len: u64) -> bool {
        if !is_page_aligned(new_len) || new_len <= range.len() {
            return false;
        }
        let Some(region) = self.find(range.start()) else {
            return false;
        };
        if region.range.end() != range.end() {
            return false;
        }
        let start = region.range.start();
        let Some(extra) = range
            .start()
            .checked_add(new_len)
            .and_then(|new_end| VRange::new(range.end(), new_end - range.end()).ok())
        else {
            return false;
        };
        if !self.bounds.contains(extra) || !self.is_free(extra) {
            return false;
        }
        if region.offset.checked_add(extra.end() - start).is_none() {
            return false;
        }
        let grown = VRange::between(start, extra.end());
        if let Some(region) = self.regions.get_mut(&start) {
            region.range = grown;
        }
        self.account_add(extra.len());
        self.merge_around(grown);
        true
    }

    /// Cuts the region strictly containing `at`, if any, into two at `at`. The total mapped does
    /// not change, and the two pieces are exactly the kind `merge.rs` would re-join, so every
    /// caller either removes or re-protects one side before merging.
    fn split_at(&mut self, at: u64) {
        let Some(start) = self
            .find(at)
            .map(|r| r.range.start())
            .filter(|&start| start < at)
        else {
            return;
        };
        let Some(region) = self.regions.remove(&start) else {
            return;
        };
        let (left, right) = region.split(at);
        self.regions.insert(left.range.start(), left);
        self.regions.insert(right.range.start(), right);
    }

    /// Removes every page of `range`, returning the pieces in address order.
    fn remove_range(&mut self, range: VRange) -> Vec<Region<B>> {
        self.split_at(range.start());
        self.split_at(range.end());
        let starts: Vec<u64> = self
            .regions
            .range(range.start()..range.end())
            .map(|(&start, _)| start)
            .collect();
        let mut removed = Vec::with_capacity(starts.len());
        for start in starts {
            if let Some(region) = self.regions.remove(&start) {
                self.account_remove(region.range.len());
                removed.push(region);
            }
        }
        removed
    }

    /// Adds a region whose range is known to be free.
    fn add(&mut self, region: Region<B>) {
        self.account_add(region.range.len());
        self.regions.insert(region.range.start(), region);
    }

    fn account_add(&mut self, len: u64) {
        debug_assert!(is_page_aligned(len));
        self.mapped = self
            .mapped
            .checked_add(len)
            .expect("disjoint regions inside the bounds total less than 2^64 bytes");
    }

    fn account_remove(&mut self, len: u64) {
        self.mapped = self
            .mapped
            .checked_sub(len)
            .expect("a removed region was counted when it was added");
    }
}
