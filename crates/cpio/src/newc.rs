//! The newc cpio format: header layout, and decoding one entry (header, name, data) from a byte
//! slice with every offset bounds- and overflow-checked.
//!
//! Layout (Linux `Documentation/driver-api/early-userspace/buffer-format.rst`): a 110-byte ASCII
//! header (6-byte magic, then 13 fields of 8 hex digits), the NUL-terminated name padded so that
//! header + name is a multiple of 4, then the data padded to a multiple of 4. Padding is
//! relative to the start of the stream, and every header starts 4-aligned, so aligning absolute
//! stream offsets gives the same result as Linux's `N_ALIGN`.

use crate::{Error, Limits};

/// Magic of a newc header.
pub const NEWC_MAGIC: &[u8; MAGIC_LEN] = b"070701";
/// Magic of a newc header whose check field is the byte sum of the file data.
pub const NEWC_CRC_MAGIC: &[u8; MAGIC_LEN] = b"070702";
/// Magic of the old portable ASCII format, which Linux refuses with a message of its own.
const ODC_MAGIC: &[u8; MAGIC_LEN] = b"070707";
/// Name of the entry that ends an archive.
pub const TRAILER_NAME: &str = "TRAILER!!!";
/// Linux's `PATH_MAX`: the longest name (NUL included) and symlink target it unpacks.
pub const PATH_MAX: usize = 4096;
/// Headers, names and data all start on multiples of this.
pub const ALIGN: usize = 4;

const MAGIC_LEN: usize = 6;
const FIELD_LEN: usize = 8;
const HEX_RADIX: u32 = 16;
const BITS_PER_HEX_DIGIT: usize = 4;
const HEX_DIGIT_MASK: u32 = 0xf;

// Field offsets within the header, in on-disk order.
const INO_OFF: usize = MAGIC_LEN;
const MODE_OFF: usize = INO_OFF + FIELD_LEN;
const UID_OFF: usize = MODE_OFF + FIELD_LEN;
const GID_OFF: usize = UID_OFF + FIELD_LEN;
const NLINK_OFF: usize = GID_OFF + FIELD_LEN;
const MTIME_OFF: usize = NLINK_OFF + FIELD_LEN;
const FILESIZE_OFF: usize = MTIME_OFF + FIELD_LEN;
const DEVMAJOR_OFF: usize = FILESIZE_OFF + FIELD_LEN;
const DEVMINOR_OFF: usize = DEVMAJOR_OFF + FIELD_LEN;
const RDEVMAJOR_OFF: usize = DEVMINOR_OFF + FIELD_LEN;
const RDEVMINOR_OFF: usize = RDEVMAJOR_OFF + FIELD_LEN;
const NAMESIZE_OFF: usize = RDEVMINOR_OFF + FIELD_LEN;
const CHECK_OFF: usize = NAMESIZE_OFF + FIELD_LEN;
/// Length of a newc header.
pub const HEADER_LEN: usize = CHECK_OFF + FIELD_LEN;
const _: () = assert!(HEADER_LEN == 110);

/// `n` rounded up to a multiple of [`ALIGN`], or `None` on overflow.
pub(crate) fn align_up(n: usize) -> Option<usize> {
    Some(n.checked_add(ALIGN - 1)? & !(ALIGN - 1))
}

/// Which of the two newc magics a header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Magic {
    Newc,
    /// `070702`: `check` must equal the byte sum of a regular file's data.
    NewcCrc,
}

/// The decoded fields of one header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub magic: Magic,
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub filesize: u32,
    pub devmajor: u32,
    pub devminor: u32,
    pub rdevmajor: u32,
    pub rdevminor: u32,
    pub namesize: u32,
    pub check: u32,
}

/// One decoded entry, borrowing its name and data from the stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    /// Offset of the header in the stream.
    pub offset: usize,
    pub header: Header,
    /// The name without its NUL, as written (not yet normalised).
    pub name: &'a str,
    pub data: &'a [u8],
    /// Offset just past the data's padding: where the next header starts.
    pub next: usize,
}

impl Entry<'_> {
    pub fn is_trailer(&self) -> bool {
        self.name == TRAILER_NAME
    }
}

/// Decodes the entry whose header starts at `offset` in `stream`.
pub(crate) fn parse_entry<'a>(
    stream: &'a [u8],
    offset: usize,
    limits: &Limits,
) -> Result<Entry<'a>, Error> {
    let rest = stream.get(offset..).unwrap_or_default();
    let magic = check_magic(rest, offset)?;
    let raw = rest
        .get(..HEADER_LEN)
        .ok_or(Error::TruncatedHeader { offset })?;
    let field = |at: usize| hex_field(raw, at, offset);
    let header = Header {
        magic,
        ino: field(INO_OFF)?,
        mode: field(MODE_OFF)?,
        uid: field(UID_OFF)?,
        gid: field(GID_OFF)?,
        nlink: field(NLINK_OFF)?,
        mtime: field(MTIME_OFF)?,
        filesize: field(FILESIZE_OFF)?,
        devmajor: field(DEVMAJOR_OFF)?,
        devminor: field(DEVMINOR_OFF)?,
        rdevmajor: field(RDEVMAJOR_OFF)?,
        rdevminor: field(RDEVMINOR_OFF)?,
        namesize: field(NAMESIZE_OFF)?,
        check: field(CHECK_OFF)?,
    };

    let overflow = Error::Overflow { offset };
    let namesize = usize::try_from(header.namesize).map_err(|_| overflow.clone())?;
    if namesize == 0 || namesize > PATH_MAX {
        return Err(Error::BadNameSize {
            offset,
            size: header.namesize,
        });
    }
    let name_start = offset.checked_add(HEADER_LEN).ok_or(overflow.clone())?;
    let name_end = name_start.checked_add(namesize).ok_or(overflow.clone())?;
    let data_start = align_up(name_end).ok_or(overflow.clone())?;
    if data_start > stream.len() {
        return Err(Error::TruncatedName { offset });
    }
    let name = decode_name(&stream[name_start..name_end], offset)?;

    let size = usize::try_from(header.filesize).map_err(|_| overflow.clone())?;
    if size > limits.max_file_size {
        return Err(Error::FileTooLarge {
            offset,
            size: header.filesize,
            limit: limits.max_file_size,
        });
    }
    let data_end = data_start.checked_add(size).ok_or(overflow.clone())?;
    let next = align_up(data_end).ok_or(overflow)?;
    if next > stream.len() {
        return Err(Error::TruncatedData {
            offset,
            size: header.filesize,
        });
    }
    Ok(Entry {
        offset,
        header,
        name,
        data: &stream[data_start..data_end],
        next,
    })
}

/// Checks the magic, telling a header cut short (a prefix of a valid magic) from a wrong one.
fn check_magic(rest: &[u8], offset: usize) -> Result<Magic, Error> {
    let Some(magic) = rest.get(..MAGIC_LEN) else {
        return if NEWC_MAGIC.starts_with(rest) || NEWC_CRC_MAGIC.starts_with(rest) {
            Err(Error::TruncatedHeader { offset })
        } else {
            Err(Error::BadMagic { offset })
        };
    };
    match magic {
        m if m == NEWC_MAGIC => Ok(Magic::Newc),
        m if m == NEWC_CRC_MAGIC => Ok(Magic::NewcCrc),
        m if m == ODC_MAGIC => Err(Error::UnsupportedFormat { offset }),
        _ => Err(Error::BadMagic { offset }),
    }
}

/// Reads the 8-hex-digit field at `at` of `header`. Linux's `simple_strntoul` stops quietly at
/// the first non-digit; a stray byte there means a corrupt archive, so it is refused.
fn hex_field(header: &[u8], at: usize, header_offset: usize) -> Result<u32, Error> {
    let digits = header.get(at..at + FIELD_LEN).unwrap_or_default();
    let mut value: u32 = 0;
    for (i, &byte) in digits.iter().enumerate() {
        let digit = char::from(byte)
            .to_digit(HEX_RADIX)
            .ok_or(Error::BadHexDigit {
                offset: header_offset + at + i,
                byte,
            })?;
        // Eight hex digits fill exactly 32 bits, so this never loses a digit.
        value = value << BITS_PER_HEX_DIGIT | digit;
    }
    Ok(value)
}

/// Checks the NUL terminator and returns the name before it.
fn decode_name(raw: &[u8], offset: usize) -> Result<&str, Error> {
    let Some((&0, name)) = raw.split_last() else {
        return Err(Error::NameNotTerminated { offset });
    };
    // Linux would silently cut the name at an inner NUL; that can only be corruption.
    if name.contains(&0) {
        return Err(Error::InvalidName { offset });
    }
    core::str::from_utf8(name).map_err(|_| Error::InvalidName { offset })
}

/// Appends one header (magic `070701`) to `out`, fields as 8 upper-case hex digits like Linux's
/// `gen_init_cpio`.
pub(crate) fn push_header(out: &mut alloc::vec::Vec<u8>, h: &Header) {
    const DIGITS: &[u8; HEX_RADIX as usize] = b"0123456789ABCDEF";
    out.extend_from_slice(match h.magic {
        Magic::Newc => NEWC_MAGIC,
        Magic::NewcCrc => NEWC_CRC_MAGIC,
    });
    for value in [
        h.ino,
        h.mode,
        h.uid,
        h.gid,
        h.nlink,
        h.mtime,
        h.filesize,
        h.devmajor,
        h.devminor,
        h.rdevmajor,
        h.rdevminor,
        h.namesize,
        h.check,
    ] {
        for nibble in (0..FIELD_LEN).rev() {
            let digit = value >> (nibble * BITS_PER_HEX_DIGIT) & HEX_DIGIT_MASK;
            out.push(DIGITS[digit as usize]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn header(name_len_with_nul: u32, filesize: u32) -> Header {
        Header {
            magic: Magic::Newc,
            ino: 0x1234_abcd,
            mode: 0o100_644,
            uid: 1,
            gid: 2,
            nlink: 1,
            mtime: 0xffff_ffff,
            filesize,
            devmajor: 3,
            devminor: 4,
            rdevmajor: 5,
            rdevminor: 6,
            namesize: name_len_with_nul,
            check: 0,
        }
    }

    fn entry_bytes(h: &Header, name: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        push_header(&mut out, h);
        out.extend_from_slice(name);
        out.resize(align_up(out.len()).unwrap(), 0);
        out.extend_from_slice(data);
        out.resize(align_up(out.len()).unwrap(), 0);
        out
    }

    #[test]
    fn header_round_trips_through_push_and_parse() {
        let h = header(4, 5);
        let bytes = entry_bytes(&h, b"abc\0", b"hello");
        let e = parse_entry(&bytes, 0, &Limits::default()).unwrap();
        assert_eq!(e.header, h);
        assert_eq!(e.name, "abc");
        assert_eq!(e.data, b"hello");
        assert_eq!(e.next, bytes.len());
        assert_eq!(e.next % ALIGN, 0);
    }

    #[test]
    fn lower_case_hex_is_accepted() {
        let mut bytes = entry_bytes(&header(2, 0), b"a\0", b"");
        bytes[..HEADER_LEN].make_ascii_lowercase();
        let e = parse_entry(&bytes, 0, &Limits::default()).unwrap();
        assert_eq!(e.header.ino, 0x1234_abcd);
    }

    #[test]
    fn align_up_rounds_and_detects_overflow() {
        assert_eq!(align_up(0), Some(0));
        assert_eq!(align_up(1), Some(4));
        assert_eq!(align_up(112), Some(112));
        assert_eq!(align_up(113), Some(116));
        assert_eq!(align_up(usize::MAX), None);
        assert_eq!(align_up(usize::MAX - 2), None);
    }

    #[test]
    fn offset_beyond_the_stream_is_an_error_not_a_panic() {
        let bytes = entry_bytes(&header(2, 0), b"a\0", b"");
        assert_eq!(
            parse_entry(&bytes, usize::MAX - 1, &Limits::default()).unwrap_err(),
            Error::TruncatedHeader {
                offset: usize::MAX - 1
            }
        );
    }

    #[test]
    fn truncated_magic_prefix_is_truncated_header() {
        assert_eq!(
            parse_entry(b"0707", 0, &Limits::default()).unwrap_err(),
            Error::TruncatedHeader { offset: 0 }
        );
        assert_eq!(
            parse_entry(b"07x", 0, &Limits::default()).unwrap_err(),
            Error::BadMagic { offset: 0 }
        );
    }
}
