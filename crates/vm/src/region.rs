//! One region: a virtual range with one protection, mapping a window of a memory object (its
//! backing) page for page. The map (`map/`) keeps them sorted, disjoint and merged; this file holds
//! the per-region arithmetic the map and the fault path share: where an address lands in the
//! backing, how a region splits, and when two regions are one.

use crate::{Prot, VRange, is_page_aligned, page_floor};

/// A mapped region. `backing` is the caller's token for the memory object (the kernel's FCM/FR
/// reference, a test's integer); `offset` is where `range.start()` lands in it, so page `i` of the
/// region is page `offset / PAGE_SIZE + i` of the object.
///
/// Regions handed out by a [`crate::RegionMap`] always have a page-aligned `offset` and
/// `offset + range.len()` within `u64`; the map checks both when a region is inserted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region<B> {
    /// The virtual pages covered.
    pub range: VRange,
    /// Access allowed to every page of the range.
    pub prot: Prot,
    /// The memory object behind the pages.
    pub backing: B,
    /// Byte offset of `range.start()` in the backing.
    pub offset: u64,
}

impl<B> Region<B> {
    /// Byte offset in the backing of the page holding `addr`: what the fault path asks the FCM
    /// for. `None` if `addr` is outside the region (or the offset would not fit in 64 bits, which a
    /// map's regions never do).
    pub fn page_offset(&self, addr: u64) -> Option<u64> {
        if !self.range.contains(addr) {
            return None;
        }
        self.offset
            .checked_add(page_floor(addr) - self.range.start())
    }

    /// Whether `next` carries on exactly where `self` stops: touching, same protection, same
    /// backing, and the backing offset continuing without a gap. Two such regions are one region
    /// to the hardware and the object, so the map never keeps them apart.
    pub(crate) fn continues_into(&self, next: &Region<B>) -> bool
    where
        B: PartialEq,
    {
        self.range.end() == next.range.start()
            && self.prot == next.prot
            && self.backing == next.backing
            && self.offset.checked_add(self.range.len()) == Some(next.offset)
    }

    /// Cuts the region at `at`, strictly inside it, into `[start, at)` and `[at, end)`; the right
    /// piece's offset moves on by the bytes the left piece keeps.
    pub(crate) fn split(self, at: u64) -> (Region<B>, Region<B>)
    where
        B: Clone,
    {
        debug_assert!(self.range.start() < at && at < self.range.end() && is_page_aligned(at));
        let skipped = at - self.range.start();
        let right = Region {
            range: VRange::between(at, self.range.end()),
            prot: self.prot,
            backing: self.backing.clone(),
            offset: self
                .offset
                .checked_add(skipped)
                .expect("insert checked that offset + length fits in u64"),
        };
        let left = Region {
            range: VRange::between(self.range.start(), at),
            ..self
        };
        (left, right)
    }
}
