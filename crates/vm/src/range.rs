//! The page-granular address ranges every region operation takes ([`VRange`]) and the window of an
//! address space they must fall in ([`Bounds`]).
//!
//! Validation lives here, once, so the map (`map/`) only ever sees ranges that are aligned,
//! non-empty and free of overflow, and the Linux personality gets its `EINVAL`s from the same
//! checks the kernel's object calls use.

use core::fmt;

use crate::VmError;

/// Size of a page: the unit of every range, length and backing offset in this crate.
pub const PAGE_SIZE: u64 = 4096;

/// Low bits that must be clear in a page-aligned value.
const PAGE_MASK: u64 = PAGE_SIZE - 1;

/// Whether `value` is a multiple of [`PAGE_SIZE`].
pub const fn is_page_aligned(value: u64) -> bool {
    value & PAGE_MASK == 0
}

/// `value` rounded down to a page boundary.
pub const fn page_floor(value: u64) -> u64 {
    value & !PAGE_MASK
}

/// `value` rounded up to a page boundary, or `None` if that passes the end of the 64-bit space.
pub const fn page_ceil(value: u64) -> Option<u64> {
    match value.checked_add(PAGE_MASK) {
        Some(v) => Some(page_floor(v)),
        None => None,
    }
}

/// A half-open virtual range `[start, end)`: page-aligned, non-empty and not wrapping. The fields
/// are private so every `VRange` in existence has passed [`VRange::new`].
///
/// `end` is a `u64`, so the very last page of the 64-bit space cannot be named; no address space
/// reaches it (user spaces end at the canonical-address hole).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VRange {
    start: u64,
    end: u64,
}

impl VRange {
    /// The range of `len` bytes at `start`.
    ///
    /// # Errors
    /// [`VmError::UnalignedAddress`], [`VmError::ZeroLength`], [`VmError::UnalignedLength`] or
    /// [`VmError::Overflow`] (`start + len` passes the end of the 64-bit space), checked in that
    /// order.
    pub const fn new(start: u64, len: u64) -> Result<Self, VmError> {
        if !is_page_aligned(start) {
            return Err(VmError::UnalignedAddress(start));
        }
        if len == 0 {
            return Err(VmError::ZeroLength);
        }
        if !is_page_aligned(len) {
            return Err(VmError::UnalignedLength(len));
        }
        match start.checked_add(len) {
            Some(end) => Ok(Self { start, end }),
            None => Err(VmError::Overflow { start, len }),
        }
    }

    /// [`VRange::new`], and the range must also lie inside `bounds`.
    ///
    /// # Errors
    /// As [`VRange::new`], then [`VmError::OutOfBounds`].
    pub fn within(start: u64, len: u64, bounds: Bounds) -> Result<Self, VmError> {
        let range = Self::new(start, len)?;
        bounds.check(range)?;
        Ok(range)
    }

    /// `[start, end)` from two boundaries the caller already knows are valid (pieces of an
    /// existing range).
    pub(crate) const fn between(start: u64, end: u64) -> Self {
        debug_assert!(start < end && is_page_aligned(start) && is_page_aligned(end));
        Self { start, end }
    }

    /// First address in the range.
    pub const fn start(self) -> u64 {
        self.start
    }

    /// First address after the range.
    pub const fn end(self) -> u64 {
        self.end
    }

    /// Length in bytes; never zero, so there is no `is_empty`.
    #[allow(clippy::len_without_is_empty)] // a VRange is non-empty by construction
    pub const fn len(self) -> u64 {
        self.end - self.start
    }

    /// Length in pages.
    pub const fn pages(self) -> u64 {
        self.len() / PAGE_SIZE
    }

    /// Whether `addr` lies inside the range.
    pub const fn contains(self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    /// Whether the two ranges share at least one page.
    pub const fn overlaps(self, other: VRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

impl fmt::Display for VRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:#x}, {:#x})", self.start, self.end)
    }
}

/// The usable window `[min, top)` of an address space: nothing may be mapped below `min` (Linux's
/// `mmap_min_addr`, which keeps NULL-pointer dereferences faulting) or at or above `top` (the end
/// of the user half, Linux's `TASK_SIZE`).
///
/// The fields are public because the window is the kernel's layout choice, not an invariant of
/// this crate; an unaligned end simply shrinks the window to the pages wholly inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bounds {
    /// Lowest mappable address.
    pub min: u64,
    /// First address past the mappable window.
    pub top: u64,
}

impl Bounds {
    /// Whether every page of `range` lies inside the window.
    pub const fn contains(self, range: VRange) -> bool {
        self.min <= range.start && range.end <= self.top
    }

    /// [`Bounds::contains`] as a `Result`, for `?`.
    ///
    /// # Errors
    /// [`VmError::OutOfBounds`] naming the range and this window.
    pub const fn check(self, range: VRange) -> Result<(), VmError> {
        if self.contains(range) {
            Ok(())
        } else {
            Err(VmError::OutOfBounds {
                range,
                bounds: self,
            })
        }
    }

    /// The page-aligned window inside both `self` and `other`, as `(floor, ceiling)`, or `None`
    /// if no whole page lies in both.
    pub(crate) fn aligned_intersection(self, other: Bounds) -> Option<(u64, u64)> {
        let floor = page_ceil(self.min.max(other.min))?;
        let ceiling = page_floor(self.top.min(other.top));
        (floor < ceiling).then_some((floor, ceiling))
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:#x}, {:#x})", self.min, self.top)
    }
}
