//! The one error type of the crate: every way an initramfs can be malformed or too big.
//!
//! The kernel reports these at boot and the xtask when checking an image, so each variant says
//! exactly what was wrong and carries the byte offset where it was found, instead of a bare
//! "malformed archive" as Linux prints.

use alloc::boxed::Box;
use core::fmt;

/// Why an initramfs could not be unpacked.
///
/// `offset` is a byte offset into the data being parsed: the input given to [`crate::Tree::parse`]
/// or, for an error wrapped in [`Error::Compressed`], the decompressed contents of that gzip
/// member. Entry-level errors point at the start of the entry's 110-byte header, header-digit
/// errors at the offending byte.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A header does not start with the newc magic `070701` (or `070702`).
    BadMagic {
        /// Start of the header.
        offset: usize,
    },
    /// A cpio header in a format Linux does not unpack either (the old portable `070707` format).
    UnsupportedFormat {
        /// Start of the header.
        offset: usize,
    },
    /// A compressed segment in a format this crate does not inflate (only gzip is supported).
    UnsupportedCompression {
        /// Start of the segment.
        offset: usize,
        /// The format recognised from its magic bytes.
        format: &'static str,
    },
    /// A header field holds a byte that is not an ASCII hex digit.
    BadHexDigit {
        /// The offending byte's offset.
        offset: usize,
        /// The offending byte.
        byte: u8,
    },
    /// The input ends inside a 110-byte header.
    TruncatedHeader {
        /// Start of the header.
        offset: usize,
    },
    /// The name size is 0 or over `PATH_MAX` (4096, the terminating NUL included).
    BadNameSize {
        /// Start of the header.
        offset: usize,
        /// The name size from the header.
        size: u32,
    },
    /// The input ends inside an entry's name or its padding.
    TruncatedName {
        /// Start of the header.
        offset: usize,
    },
    /// The name's last byte (per the name size) is not a NUL.
    NameNotTerminated {
        /// Start of the header.
        offset: usize,
    },
    /// The name holds a NUL before its end or is not UTF-8.
    InvalidName {
        /// Start of the header.
        offset: usize,
    },
    /// The input ends inside an entry's data or its padding.
    TruncatedData {
        /// Start of the header.
        offset: usize,
        /// The file size from the header.
        size: u32,
    },
    /// An offset computed from header fields does not fit in `usize`.
    Overflow {
        /// Start of the header.
        offset: usize,
    },
    /// The path has a `..` component, which could escape the root.
    PathEscape {
        /// Start of the header.
        offset: usize,
    },
    /// A leading component of the path exists and is not a directory (a file, device or symlink:
    /// symlinks are not followed while unpacking).
    NotADirectory {
        /// Start of the header.
        offset: usize,
    },
    /// An entry for the root itself (`.` or `/`) that is not a directory.
    RootNotDirectory {
        /// Start of the header.
        offset: usize,
    },
    /// A symlink target longer than `PATH_MAX`.
    SymlinkTargetTooLong {
        /// Start of the header.
        offset: usize,
        /// The target's length from the header.
        len: u32,
    },
    /// A symlink target that is empty or not UTF-8.
    InvalidSymlinkTarget {
        /// Start of the header.
        offset: usize,
    },
    /// A directory, device, FIFO or socket entry that carries data.
    UnexpectedData {
        /// Start of the header.
        offset: usize,
        /// The file size from the header.
        size: u32,
    },
    /// A mode whose file-type bits name no file type.
    UnknownFileType {
        /// Start of the header.
        offset: usize,
        /// The whole mode from the header.
        mode: u32,
    },
    /// A `070702` entry whose data does not sum to the header's checksum.
    ChecksumMismatch {
        /// Start of the header.
        offset: usize,
        /// The checksum from the header.
        expected: u32,
        /// The sum of the data bytes.
        actual: u32,
    },
    /// A non-zero byte that is not on a 4-byte boundary where an archive would have to start.
    Misaligned {
        /// The byte's offset.
        offset: usize,
    },
    /// Bytes after an archive that are neither zero padding nor the start of another archive.
    TrailingGarbage {
        /// The first such byte.
        offset: usize,
    },
    /// The data ends without the `TRAILER!!!` entry closing the archive.
    MissingTrailer {
        /// The end of the data.
        offset: usize,
    },
    /// A file larger than [`crate::Limits::max_file_size`].
    FileTooLarge {
        /// Start of the header.
        offset: usize,
        /// The file size from the header.
        size: u32,
        /// The limit in force.
        limit: usize,
    },
    /// The tree would hold more than [`crate::Limits::max_entries`] entries.
    TooManyEntries {
        /// Start of the header of the entry that would pass the limit.
        offset: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The tree's file data would pass [`crate::Limits::max_total_bytes`].
    TreeTooLarge {
        /// Start of the header of the entry that would pass the limit.
        offset: usize,
        /// The limit in force.
        limit: usize,
    },
    /// Decompressing would produce more than [`crate::Limits::max_total_bytes`] in all.
    DecompressedTooLarge {
        /// Start of the gzip member.
        offset: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The allocator refused memory the limits allowed.
    OutOfMemory {
        /// Where the allocation was needed.
        offset: usize,
        /// The size asked for.
        size: usize,
    },
    /// A gzip header that is malformed or uses something this crate does not support.
    GzipHeader {
        /// Start of the gzip member.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The input ends inside a gzip member.
    GzipTruncated {
        /// Start of the gzip member.
        offset: usize,
    },
    /// The deflate data of a gzip member is invalid.
    GzipCorrupt {
        /// Start of the gzip member.
        offset: usize,
    },
    /// The CRC-32 in a gzip trailer does not match the decompressed data.
    GzipCrcMismatch {
        /// Start of the gzip member.
        offset: usize,
        /// The CRC-32 from the trailer.
        expected: u32,
        /// The CRC-32 of the decompressed data.
        actual: u32,
    },
    /// The size in a gzip trailer (modulo 2^32) does not match the decompressed data.
    GzipSizeMismatch {
        /// Start of the gzip member.
        offset: usize,
        /// The size from the trailer.
        expected: u32,
        /// The decompressed size modulo 2^32.
        actual: u32,
    },
    /// An error inside the decompressed contents of a gzip member; the inner error's offsets are
    /// into those contents.
    Compressed {
        /// Start of the gzip member in the input.
        member_offset: usize,
        /// What went wrong inside it.
        inner: Box<Error>,
    },
}

impl Error {
    /// The offset this error carries; for [`Error::Compressed`], the gzip member's offset in the
    /// input (see [`Error::root_cause`] for the offset inside it).
    pub fn offset(&self) -> usize {
        match *self {
            Error::Compressed { member_offset, .. } => member_offset,
            Error::BadMagic { offset }
            | Error::UnsupportedFormat { offset }
            | Error::UnsupportedCompression { offset, .. }
            | Error::BadHexDigit { offset, .. }
            | Error::TruncatedHeader { offset }
            | Error::BadNameSize { offset, .. }
            | Error::TruncatedName { offset }
            | Error::NameNotTerminated { offset }
            | Error::InvalidName { offset }
            | Error::TruncatedData { offset, .. }
            | Error::Overflow { offset }
            | Error::PathEscape { offset }
            | Error::NotADirectory { offset }
            | Error::RootNotDirectory { offset }
            | Error::SymlinkTargetTooLong { offset, .. }
            | Error::InvalidSymlinkTarget { offset }
            | Error::UnexpectedData { offset, .. }
            | Error::UnknownFileType { offset, .. }
            | Error::ChecksumMismatch { offset, .. }
            | Error::Misaligned { offset }
            | Error::TrailingGarbage { offset }
            | Error::MissingTrailer { offset }
            | Error::FileTooLarge { offset, .. }
            | Error::TooManyEntries { offset, .. }
            | Error::TreeTooLarge { offset, .. }
            | Error::DecompressedTooLarge { offset, .. }
            | Error::OutOfMemory { offset, .. }
            | Error::GzipHeader { offset, .. }
            | Error::GzipTruncated { offset }
            | Error::GzipCorrupt { offset }
            | Error::GzipCrcMismatch { offset, .. }
            | Error::GzipSizeMismatch { offset, .. } => offset,
        }
    }

    /// The innermost error, looking through [`Error::Compressed`] wrappers.
    pub fn root_cause(&self) -> &Error {
        match self {
            Error::Compressed { inner, .. } => inner.root_cause(),
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Compressed {
                member_offset,
                inner,
            } => {
                return write!(
                    f,
                    "in the gzip member at offset {member_offset:#x}, decompressed data: {inner}"
                );
            }
            Error::BadMagic { .. } => f.write_str("no newc cpio magic (070701 or 070702)")?,
            Error::UnsupportedFormat { .. } => {
                f.write_str("old portable cpio format (070707); only newc (-H newc) is supported")?
            }
            Error::UnsupportedCompression { format, .. } => {
                write!(f, "{format} compression is not supported (only gzip)")?
            }
            Error::BadHexDigit { byte, .. } => {
                write!(f, "header byte {byte:#04x} is not a hex digit")?
            }
            Error::TruncatedHeader { .. } => f.write_str("input ends inside a cpio header")?,
            Error::BadNameSize { size, .. } => {
                write!(f, "name size {size} is 0 or over PATH_MAX (4096)")?
            }
            Error::TruncatedName { .. } => f.write_str("input ends inside an entry name")?,
            Error::NameNotTerminated { .. } => f.write_str("entry name is not NUL-terminated")?,
            Error::InvalidName { .. } => {
                f.write_str("entry name holds a NUL byte or is not UTF-8")?
            }
            Error::TruncatedData { size, .. } => {
                write!(f, "input ends inside the {size} bytes of an entry's data")?
            }
            Error::Overflow { .. } => f.write_str("offset arithmetic overflows")?,
            Error::PathEscape { .. } => f.write_str("path has a '..' component")?,
            Error::NotADirectory { .. } => {
                f.write_str("a leading path component exists and is not a directory")?
            }
            Error::RootNotDirectory { .. } => f.write_str("the root entry is not a directory")?,
            Error::SymlinkTargetTooLong { len, .. } => {
                write!(f, "symlink target of {len} bytes is over PATH_MAX (4096)")?
            }
            Error::InvalidSymlinkTarget { .. } => {
                f.write_str("symlink target is empty or not UTF-8")?
            }
            Error::UnexpectedData { size, .. } => write!(
                f,
                "{size} bytes of data on an entry that is not a regular file or symlink"
            )?,
            Error::UnknownFileType { mode, .. } => {
                write!(f, "unknown file type in mode {mode:#o}")?
            }
            Error::ChecksumMismatch {
                expected, actual, ..
            } => write!(
                f,
                "data checksum {actual:#010x} does not match header checksum {expected:#010x}"
            )?,
            Error::Misaligned { .. } => {
                f.write_str("non-zero byte off a 4-byte boundary: broken padding between archives")?
            }
            Error::TrailingGarbage { .. } => {
                f.write_str("data after an archive is neither zero padding nor another archive")?
            }
            Error::MissingTrailer { .. } => {
                f.write_str("data ends without a TRAILER!!! entry closing the archive")?
            }
            Error::FileTooLarge { size, limit, .. } => write!(
                f,
                "file of {size} bytes is over the {limit}-byte file size limit"
            )?,
            Error::TooManyEntries { limit, .. } => {
                write!(f, "tree would pass the limit of {limit} entries")?
            }
            Error::TreeTooLarge { limit, .. } => {
                write!(f, "file data would pass the limit of {limit} bytes")?
            }
            Error::DecompressedTooLarge { limit, .. } => {
                write!(f, "decompressed data would pass the limit of {limit} bytes")?
            }
            Error::OutOfMemory { size, .. } => write!(f, "could not allocate {size} bytes")?,
            Error::GzipHeader { reason, .. } => write!(f, "bad gzip header: {reason}")?,
            Error::GzipTruncated { .. } => f.write_str("input ends inside a gzip member")?,
            Error::GzipCorrupt { .. } => f.write_str("gzip member holds invalid deflate data")?,
            Error::GzipCrcMismatch {
                expected, actual, ..
            } => write!(
                f,
                "gzip CRC-32 {actual:#010x} does not match the trailer's {expected:#010x}"
            )?,
            Error::GzipSizeMismatch {
                expected, actual, ..
            } => write!(
                f,
                "gzip decompressed size {actual} does not match the trailer's {expected}"
            )?,
        }
        write!(f, " (at offset {:#x})", self.offset())
    }
}

impl core::error::Error for Error {}
