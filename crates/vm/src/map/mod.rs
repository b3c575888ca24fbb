//! The region map of one address space: the [`RegionMap`] type and its read side (fault lookup,
//! iteration, totals). The operations that change it are split by job: `edit.rs` (insert, unmap,
//! protect, grow in place), `merge.rs` (re-joining regions after an edit), `gap.rs` (free-space
//! search for hinted maps) and `audit.rs` (the invariant self-check the tests run).
//!
//! Invariants every operation keeps, checked by [`RegionMap::audit`]: regions are keyed by their
//! start, lie inside the map's [`Bounds`], do not overlap, and no two neighbours could be merged
//! (see `Region::continues_into`); `total_mapped` is the sum of their lengths.

mod audit;
mod edit;
mod gap;
mod merge;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::{Bounds, Region, VRange};

/// Where [`RegionMap::insert`] may put a new region; Linux's `MAP_FIXED`,
/// `MAP_FIXED_NOREPLACE` and a plain `mmap` address hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Exactly at the range given, replacing whatever overlaps it; the replaced pieces come back
    /// in [`Mapped::displaced`] so the caller can drop their pages.
    Fixed,
    /// Exactly at the range given, or fail with [`crate::VmError::Exists`] if anything overlaps.
    FixedNoReplace,
    /// At the range given if it is free, inside the map's bounds and does not start at 0 (0 means
    /// "no preference", as `mmap(NULL, …)`); otherwise in the highest free gap of the same length
    /// ending at or below `below` (Linux's `mmap_base`), and failing that the highest free gap
    /// anywhere in the bounds. See `map/gap.rs`.
    Hint {
        /// Ceiling of the first, top-down search.
        below: u64,
    },
}

/// What [`RegionMap::insert`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "displaced regions still own pages the caller must drop and unmap from the HAT"]
pub struct Mapped<B> {
    /// Where the new region was placed (for a hint, the chosen range).
    pub range: VRange,
    /// The pieces of older regions a [`Policy::Fixed`] map replaced, trimmed to the new range, in
    /// address order; empty for the other policies.
    pub displaced: Vec<Region<B>>,
}

/// The regions of one user address space, sorted by address.
#[derive(Clone, Debug)]
pub struct RegionMap<B> {
    bounds: Bounds,
    /// Keyed by each region's start address.
    regions: BTreeMap<u64, Region<B>>,
    /// Sum of the regions' lengths, kept so `total_mapped` is O(1) like Linux's `total_vm`.
    mapped: u64,
}

impl<B> RegionMap<B> {
    /// An empty map whose regions must all lie inside `bounds`.
    pub const fn new(bounds: Bounds) -> Self {
        Self {
            bounds,
            regions: BTreeMap::new(),
            mapped: 0,
        }
    }

    /// The window regions must lie in.
    pub const fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// The region holding `addr`, if any: the page-fault path's lookup (O(log n)).
    pub fn find(&self, addr: u64) -> Option<&Region<B>> {
        self.regions
            .range(..=addr)
            .next_back()
            .map(|(_, r)| r)
            .filter(|r| r.range.contains(addr))
    }

    /// Every region, in address order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Region<B>> + '_ {
        self.regions.values()
    }

    /// The regions sharing at least one page with `range`, in address order (whole regions, not
    /// trimmed to the range).
    pub fn overlapping(&self, range: VRange) -> impl DoubleEndedIterator<Item = &Region<B>> + '_ {
        // A region starting before the range reaches into it only if it contains its start.
        let first = self
            .find(range.start())
            .map_or(range.start(), |r| r.range.start());
        self.regions.range(first..range.end()).map(|(_, r)| r)
    }

    /// Whether no page of `range` is mapped.
    pub fn is_free(&self, range: VRange) -> bool {
        self.overlapping(range).next().is_none()
    }

    /// Bytes mapped in total.
    pub const fn total_mapped(&self) -> u64 {
        self.mapped
    }

    /// Number of regions.
    pub fn len(&self) -> usize {
        self.regions.len()
    }

    /// Whether nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }
}

impl<'a, B> IntoIterator for &'a RegionMap<B> {
    type Item = &'a Region<B>;
    type IntoIter = alloc::collections::btree_map::Values<'a, u64, Region<B>>;

    fn into_iter(self) -> Self::IntoIter {
        self.regions.values()
    }
}
