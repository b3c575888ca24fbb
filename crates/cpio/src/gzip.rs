//! One gzip member (RFC 1952): header parsed here, deflate body inflated by `miniz_oxide` under a
//! size budget, trailer CRC-32 and ISIZE verified.
//!
//! Linux's own gunzip does not check the trailer; we do, because a boot image that fails its CRC
//! is better refused with a clear message than unpacked into a subtly broken root.

use alloc::boxed::Box;
use alloc::vec::Vec;

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

use crate::Error;

/// The two bytes every gzip member starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const METHOD_DEFLATE: u8 = 8;

const METHOD_OFF: usize = 2;
const FLAGS_OFF: usize = 3;
/// Magic, method, flags, mtime (4), extra flags, OS.
const FIXED_HEADER_LEN: usize = 10;
const XLEN_LEN: usize = 2;
const HEADER_CRC_LEN: usize = 2;
/// CRC-32 then ISIZE, both little-endian u32.
const TRAILER_LEN: usize = 8;
const CRC_LEN: usize = 4;

const FLAG_HCRC: u8 = 1 << 1;
const FLAG_EXTRA: u8 = 1 << 2;
const FLAG_NAME: u8 = 1 << 3;
const FLAG_COMMENT: u8 = 1 << 4;
/// RFC 1952: a decoder must refuse a member with any of these set.
const FLAGS_RESERVED: u8 = 0b1110_0000;

/// Deflate rarely expands past this ratio on executables and text, so starting the output buffer
/// there saves most of the regrowth without committing much memory up front.
const EXPANSION_GUESS: usize = 4;
const MIN_INITIAL_OUTPUT: usize = 64 * 1024;

/// Header of the members `compress` writes: deflate, no flags, no mtime (so images are
/// reproducible), no extra flags, OS "Unix".
const WRITE_HEADER: [u8; FIXED_HEADER_LEN] = [
    GZIP_MAGIC[0],
    GZIP_MAGIC[1],
    METHOD_DEFLATE,
    0,
    0,
    0,
    0,
    0,
    0,
    3,
];
const WRITE_LEVEL: u8 = 6;
/// Linux looks for a plain archive after a member only at a 4-byte aligned offset.
const MEMBER_ALIGN: usize = 4;

/// One gzip member holding `data`, zero-padded to a multiple of 4 bytes so that any
/// archive may follow it, as Linux's unpacker requires (the parser skips the zeros).
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::from(WRITE_HEADER);
    out.extend(miniz_oxide::deflate::compress_to_vec(data, WRITE_LEVEL));
    out.extend(crc32fast::hash(data).to_le_bytes());
    // ISIZE is the length modulo 2^32 (RFC 1952).
    out.extend((data.len() as u32).to_le_bytes());
    out.resize(out.len().next_multiple_of(MEMBER_ALIGN), 0);
    out
}

/// Whether `data` starts with a gzip member.
pub(crate) fn is_member(data: &[u8]) -> bool {
    data.starts_with(&GZIP_MAGIC)
}

/// A decompressed member and where it ended in the input.
#[derive(Debug)]
pub(crate) struct Member {
    pub data: Vec<u8>,
    /// Offset in the input just past the member's trailer.
    pub end: usize,
}

/// Inflates the gzip member starting at `start` in `input`, producing at most `budget` bytes;
/// `limit` is the configured total only quoted in the error.
pub(crate) fn inflate_member(
    input: &[u8],
    start: usize,
    budget: usize,
    limit: usize,
) -> Result<Member, Error> {
    let offset = start;
    let truncated = Error::GzipTruncated { offset };
    let member = input.get(start..).ok_or(truncated.clone())?;
    let body_start = header_len(member, offset)?;
    let body = member.get(body_start..).ok_or(truncated.clone())?;
    let (data, body_len) = inflate(body, offset, budget, limit)?;

    let trailer_start = body_start.checked_add(body_len).ok_or(truncated.clone())?;
    let trailer_end = trailer_start
        .checked_add(TRAILER_LEN)
        .ok_or(truncated.clone())?;
    let trailer = member.get(trailer_start..trailer_end).ok_or(truncated)?;
    let (crc, isize) = trailer.split_at(CRC_LEN);
    let expected = le_u32(crc);
    let actual = crc32fast::hash(&data);
    if expected != actual {
        return Err(Error::GzipCrcMismatch {
            offset,
            expected,
            actual,
        });
    }
    let expected = le_u32(isize);
    // ISIZE is the size modulo 2^32, so the truncating cast is the comparison RFC 1952 asks for.
    let actual = data.len() as u32;
    if expected != actual {
        return Err(Error::GzipSizeMismatch {
            offset,
            expected,
            actual,
        });
    }
    Ok(Member {
        data,
        end: start + trailer_end,
    })
}

/// Length of the member's header, optional fields included; validates what it can.
fn header_len(member: &[u8], offset: usize) -> Result<usize, Error> {
    let truncated = || Error::GzipTruncated { offset };
    let bad = |reason| Error::GzipHeader { offset, reason };
    let fixed = member.get(..FIXED_HEADER_LEN).ok_or_else(truncated)?;
    if fixed[METHOD_OFF] != METHOD_DEFLATE {
        return Err(bad("compression method is not deflate"));
    }
    let flags = fixed[FLAGS_OFF];
    if flags & FLAGS_RESERVED != 0 {
        return Err(bad("reserved flag bits are set"));
    }
    let mut pos = FIXED_HEADER_LEN;
    if flags & FLAG_EXTRA != 0 {
        let xlen_end = pos + XLEN_LEN;
        let xlen = member.get(pos..xlen_end).ok_or_else(truncated)?;
        let xlen = usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
        pos = xlen_end.checked_add(xlen).ok_or_else(truncated)?;
    }
    for flag in [FLAG_NAME, FLAG_COMMENT] {
        if flags & flag != 0 {
            let field = member.get(pos..).ok_or_else(truncated)?;
            let nul = field.iter().position(|&b| b == 0).ok_or_else(truncated)?;
            pos += nul + 1;
        }
    }
    if flags & FLAG_HCRC != 0 {
        let covered = member.get(..pos).ok_or_else(truncated)?;
        let stored = member
            .get(pos..pos + HEADER_CRC_LEN)
            .ok_or_else(truncated)?;
        // The header CRC is the low 16 bits of the CRC-32 of the header before it.
        let actual = crc32fast::hash(covered) as u16;
        if u16::from_le_bytes([stored[0], stored[1]]) != actual {
            return Err(bad("header CRC does not match"));
        }
        pos += HEADER_CRC_LEN;
    }
    if pos > member.len() {
        return Err(truncated());
    }
    Ok(pos)
}

/// Inflates the raw deflate stream at the start of `body`; returns the output and how many bytes
/// of `body` the stream took, so the caller can find the trailer and the next segment.
fn inflate(
    body: &[u8],
    offset: usize,
    budget: usize,
    limit: usize,
) -> Result<(Vec<u8>, usize), Error> {
    let mut out = Vec::new();
    let initial = body
        .len()
        .saturating_mul(EXPANSION_GUESS)
        .max(MIN_INITIAL_OUTPUT)
        .min(budget);
    grow(&mut out, initial, offset)?;
    // Boxed: the decompressor's tables are about 10 KiB, too much for a kernel stack.
    let mut state = Box::<DecompressorOxide>::default();
    // The whole output so far stays in one buffer, so back-references need no window copy;
    // HAS_MORE_INPUT is left clear because the whole input is here: running out is truncation.
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (mut in_pos, mut out_pos) = (0usize, 0usize);
    loop {
        let input = body.get(in_pos..).unwrap_or_default();
        let (status, read, written) = decompress(&mut state, input, &mut out, out_pos, flags);
        in_pos = in_pos.saturating_add(read);
        out_pos = out_pos.saturating_add(written);
        match status {
            TINFLStatus::Done => {
                out.truncate(out_pos);
                return Ok((out, in_pos));
            }
            TINFLStatus::HasMoreOutput => {
                if out.len() >= budget {
                    return Err(Error::DecompressedTooLarge { offset, limit });
                }
                // Never zero: a zero-length buffer would ask for more output forever.
                let new_len = out
                    .len()
                    .saturating_mul(2)
                    .max(MIN_INITIAL_OUTPUT)
                    .min(budget);
                grow(&mut out, new_len, offset)?;
            }
            TINFLStatus::FailedCannotMakeProgress | TINFLStatus::NeedsMoreInput => {
                return Err(Error::GzipTruncated { offset });
            }
            _ => return Err(Error::GzipCorrupt { offset }),
        }
    }
}

/// Grows `out` to `new_len` zeroed bytes, turning allocation failure into an error rather than
/// the abort a plain `resize` would give in the kernel.
fn grow(out: &mut Vec<u8>, new_len: usize, offset: usize) -> Result<(), Error> {
    let extra = new_len.saturating_sub(out.len());
    out.try_reserve_exact(extra)
        .map_err(|_| Error::OutOfMemory {
            offset,
            size: new_len,
        })?;
    out.resize(new_len, 0);
    Ok(())
}

fn le_u32(bytes: &[u8]) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(bytes);
    u32::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// A member with every optional header field, hand-built.
    fn member_with_all_fields(payload: &[u8]) -> Vec<u8> {
        let mut m = vec![0x1f, 0x8b, METHOD_DEFLATE];
        m.push(FLAG_EXTRA | FLAG_NAME | FLAG_COMMENT | FLAG_HCRC);
        m.extend_from_slice(&[0, 0, 0, 0, 0, 3]);
        m.extend_from_slice(&3u16.to_le_bytes());
        m.extend_from_slice(b"xyz");
        m.extend_from_slice(b"name\0comment\0");
        let hcrc = crc32fast::hash(&m) as u16;
        m.extend_from_slice(&hcrc.to_le_bytes());
        m.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(payload, 6));
        m.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        m.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        m
    }

    #[test]
    fn decompressor_state_is_worth_boxing() {
        assert!(core::mem::size_of::<DecompressorOxide>() > 8 * 1024);
    }

    #[test]
    fn optional_header_fields_are_skipped() {
        let m = member_with_all_fields(b"payload payload payload");
        let out = inflate_member(&m, 0, usize::MAX, usize::MAX).unwrap();
        assert_eq!(out.data, b"payload payload payload");
        assert_eq!(out.end, m.len());
    }

    #[test]
    fn header_crc_is_checked() {
        let mut m = member_with_all_fields(b"x");
        // The header CRC sits right after "comment\0".
        let hcrc_at = FIXED_HEADER_LEN + XLEN_LEN + 3 + b"name\0comment\0".len();
        m[hcrc_at] ^= 1;
        assert!(matches!(
            inflate_member(&m, 0, usize::MAX, usize::MAX),
            Err(Error::GzipHeader { offset: 0, .. })
        ));
    }

    #[test]
    fn reserved_flags_and_other_methods_are_refused() {
        let good = member_with_all_fields(b"x");
        let mut m = good.clone();
        m[FLAGS_OFF] |= 0x80;
        assert!(matches!(
            inflate_member(&m, 0, usize::MAX, usize::MAX),
            Err(Error::GzipHeader { .. })
        ));
        let mut m = good;
        m[METHOD_OFF] = 7;
        assert!(matches!(
            inflate_member(&m, 0, usize::MAX, usize::MAX),
            Err(Error::GzipHeader { .. })
        ));
    }

    #[test]
    fn budget_is_enforced() {
        let payload = vec![b'a'; 300_000];
        let m = member_with_all_fields(&payload);
        assert_eq!(
            inflate_member(&m, 0, 200_000, 7).unwrap_err(),
            Error::DecompressedTooLarge {
                offset: 0,
                limit: 7
            }
        );
        // Exactly enough budget is enough.
        assert!(inflate_member(&m, 0, 300_000, 7).is_ok());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let m = member_with_all_fields(b"some data to compress, some data to compress");
        for cut in 0..m.len() {
            let err = inflate_member(&m[..cut], 0, usize::MAX, usize::MAX).unwrap_err();
            assert!(
                matches!(err, Error::GzipTruncated { .. } | Error::GzipCorrupt { .. }),
                "cut at {cut}: {err:?}"
            );
        }
    }
}
