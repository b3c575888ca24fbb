//! Why a region operation was refused: the crate's one error type. A refused operation has changed
//! nothing. The Linux errno each variant becomes is tabled in the crate documentation (`lib.rs`);
//! the personality does that mapping in its one error-to-errno place, so this crate stays free of
//! errno numbers.

use core::fmt;

use crate::{Bounds, PAGE_SIZE, VRange};

/// A refused region operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmError {
    /// An address is not a multiple of [`PAGE_SIZE`].
    UnalignedAddress(u64),
    /// A length is not a whole number of pages.
    UnalignedLength(u64),
    /// A backing offset is not a multiple of [`PAGE_SIZE`].
    UnalignedOffset(u64),
    /// A length of zero: a range covers at least one page.
    ZeroLength,
    /// `start + len` passes the end of the 64-bit address space.
    Overflow {
        /// Start of the requested range.
        start: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// The range reaches outside the address space's usable window.
    OutOfBounds {
        /// The requested range.
        range: VRange,
        /// The window it had to fit in.
        bounds: Bounds,
    },
    /// The backing offset plus the length does not fit in 64 bits, so the region's last pages
    /// would have no offset in the object.
    OffsetOverflow {
        /// The requested backing offset.
        offset: u64,
        /// The length of the mapping.
        len: u64,
    },
    /// A no-replace mapping overlaps a region already mapped.
    Exists {
        /// The requested range.
        range: VRange,
        /// The first existing region in the way.
        occupied: VRange,
    },
    /// A page of the range is not mapped (protect needs every page mapped).
    NotMapped {
        /// The lowest unmapped page in the range.
        addr: u64,
    },
    /// No free gap of this many bytes is left in the window searched.
    NoSpace {
        /// The length that did not fit.
        len: u64,
    },
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnalignedAddress(addr) => write!(
                f,
                "address {addr:#x} is not page-aligned: it must be a multiple of {PAGE_SIZE}"
            ),
            Self::UnalignedLength(len) => write!(
                f,
                "length {len:#x} is not a whole number of {PAGE_SIZE}-byte pages; round it up"
            ),
            Self::UnalignedOffset(offset) => write!(
                f,
                "backing offset {offset:#x} is not page-aligned: it must be a multiple of {PAGE_SIZE}"
            ),
            Self::ZeroLength => f.write_str("length is zero: a range must cover at least one page"),
            Self::Overflow { start, len } => write!(
                f,
                "{len:#x} bytes at {start:#x} run past the end of the 64-bit address space"
            ),
            Self::OutOfBounds { range, bounds } => write!(
                f,
                "range {range} is outside the address space's usable window {bounds}"
            ),
            Self::OffsetOverflow { offset, len } => write!(
                f,
                "backing offset {offset:#x} plus length {len:#x} does not fit in 64 bits"
            ),
            Self::Exists { range, occupied } => write!(
                f,
                "range {range} overlaps the mapped region {occupied}; unmap it first or map with \
                 Fixed to replace it"
            ),
            Self::NotMapped { addr } => write!(
                f,
                "page {addr:#x} in the range is not mapped; nothing was changed"
            ),
            Self::NoSpace { len } => write!(
                f,
                "no free gap of {len:#x} bytes is left in the address space; unmap something or \
                 ask for less"
            ),
        }
    }
}

impl core::error::Error for VmError {}
