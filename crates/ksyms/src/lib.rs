//! Compact kernel symbol table: written into the linked kernel image by the xtask, searched by the kernel
//! to name the functions in its own backtraces.
//!
//! The kernel image reserves a fixed-size section, [`SECTION`], holding [`empty_table`] (the hal crate owns
//! that static). After linking, `xtask/src/ksyms.rs` reads the ELF's function symbols, encodes them with
//! `encode` (behind the `std` feature) and overwrites the section in place, so symbolization needs no
//! second link and no debug info at run time.
//! The kernel's exception report calls [`Table::parse`] and [`Table::lookup`]; both work on untrusted bytes
//! and never panic.
//!
//! Layout, all little-endian:
//! - header ([`HEADER_LEN`] bytes): [`MAGIC`], entry count `u32`, string-table offset `u32`,
//!   string-table length `u32`, reserved `u32` (zero);
//! - `count` entries of [`ENTRY_LEN`] bytes sorted by start: start `u64`, size `u32`, name offset `u32`
//!   (into the string table), name length `u16`, reserved `u16`;
//! - the string table: UTF-8 names, not terminated, shared between entries with equal names.
#![no_std]

#[cfg(any(feature = "std", test))]
extern crate std;

/// Name of the ELF section that holds the table.
pub const SECTION: &str = ".ksyms";

/// Bytes reserved for the table in the kernel image.
pub const CAPACITY: usize = 256 * 1024;

/// First bytes of every table; nonzero so the section can never be placed in `.bss`-like zero storage.
pub const MAGIC: [u8; 8] = *b"K42SYMS1";

/// Bytes in the header.
pub const HEADER_LEN: usize = 24;

/// Bytes in one entry.
pub const ENTRY_LEN: usize = 20;

const COUNT_AT: usize = 8;
const STRINGS_OFFSET_AT: usize = 12;
const STRINGS_LEN_AT: usize = 16;

const ENTRY_START_AT: usize = 0;
const ENTRY_SIZE_AT: usize = 8;
const ENTRY_NAME_OFFSET_AT: usize = 12;
const ENTRY_NAME_LEN_AT: usize = 16;

/// The content of the unpatched section: the magic and a zero count, padded with zeros to [`CAPACITY`].
pub const fn empty_table() -> [u8; CAPACITY] {
    let mut table = [0u8; CAPACITY];
    let mut i = 0;
    while i < MAGIC.len() {
        table[i] = MAGIC[i];
        i += 1;
    }
    // An empty string table right after the (empty) entries, so the header is consistent.
    let strings_offset = (HEADER_LEN as u32).to_le_bytes();
    let mut i = 0;
    while i < strings_offset.len() {
        table[STRINGS_OFFSET_AT + i] = strings_offset[i];
        i += 1;
    }
    table
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        bytes.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// One decoded entry.
#[derive(Clone, Copy, Debug)]
struct Entry {
    start: u64,
    size: u32,
    name_offset: usize,
    name_len: usize,
}

/// A validated view of an encoded symbol table.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    entries: &'a [u8],
    strings: &'a str,
}

impl<'a> Table<'a> {
    /// Validates `bytes` (magic, counts, offsets, UTF-8 names, sort order) and returns a view of them.
    ///
    /// Trailing bytes past the string table (the rest of the section) are ignored. Returns `None` for
    /// anything malformed, never panics.
    pub fn parse(bytes: &'a [u8]) -> Option<Table<'a>> {
        if bytes.get(..MAGIC.len())? != MAGIC {
            return None;
        }
        let count = usize::try_from(read_u32(bytes, COUNT_AT)?).ok()?;
        let strings_offset = usize::try_from(read_u32(bytes, STRINGS_OFFSET_AT)?).ok()?;
        let strings_len = usize::try_from(read_u32(bytes, STRINGS_LEN_AT)?).ok()?;
        let entries_end = count.checked_mul(ENTRY_LEN)?.checked_add(HEADER_LEN)?;
        if strings_offset < entries_end {
            return None;
        }
        let entries = bytes.get(HEADER_LEN..entries_end)?;
        let strings = bytes.get(strings_offset..strings_offset.checked_add(strings_len)?)?;
        let strings = core::str::from_utf8(strings).ok()?;
        let table = Table { entries, strings };
        let mut previous_start = None;
        for index in 0..count {
            let entry = table.entry(index)?;
            let end = entry.name_offset.checked_add(entry.name_len)?;
            strings.get(entry.name_offset..end)?;
            entry.start.checked_add(u64::from(entry.size))?;
            if previous_start.is_some_and(|p| p > entry.start) {
                return None;
            }
            previous_start = Some(entry.start);
        }
        Some(table)
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.entries.len() / ENTRY_LEN
    }

    /// Whether the table has no symbols (as in an unpatched image).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The symbol containing `addr` and the offset of `addr` into it.
    ///
    /// Only hits when `start <= addr < start + size` for the symbol with the greatest start not above
    /// `addr`; an address in a gap between symbols is a miss.
    pub fn lookup(&self, addr: u64) -> Option<(&'a str, u64)> {
        // Binary search for the number of entries whose start is <= addr.
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entry(mid)?.start <= addr {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let entry = self.entry(lo.checked_sub(1)?)?;
        let offset = addr - entry.start;
        if offset >= u64::from(entry.size) {
            return None;
        }
        Some((self.name(&entry)?, offset))
    }

    /// Every symbol as `(start, size, name)`, in address order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64, &'a str)> + '_ {
        (0..self.len()).filter_map(|i| {
            let entry = self.entry(i)?;
            Some((entry.start, u64::from(entry.size), self.name(&entry)?))
        })
    }

    fn entry(&self, index: usize) -> Option<Entry> {
        let at = index.checked_mul(ENTRY_LEN)?;
        let bytes = self.entries.get(at..at.checked_add(ENTRY_LEN)?)?;
        Some(Entry {
            start: read_u64(bytes, ENTRY_START_AT)?,
            size: read_u32(bytes, ENTRY_SIZE_AT)?,
            name_offset: usize::try_from(read_u32(bytes, ENTRY_NAME_OFFSET_AT)?).ok()?,
            name_len: usize::from(read_u16(bytes, ENTRY_NAME_LEN_AT)?),
        })
    }

    fn name(&self, entry: &Entry) -> Option<&'a str> {
        self.strings
            .get(entry.name_offset..entry.name_offset.checked_add(entry.name_len)?)
    }
}

#[cfg(any(feature = "std", test))]
pub use encode::{EncodeError, encode};

/// Host-side writer, used by the xtask.
#[cfg(any(feature = "std", test))]
mod encode {
    use super::{CAPACITY, ENTRY_LEN, HEADER_LEN, MAGIC};
    use std::collections::BTreeMap;
    use std::fmt;
    use std::string::String;
    use std::vec::Vec;

    /// Why a symbol table could not be encoded.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum EncodeError {
        /// The encoded table would not fit in the section.
        TooLarge {
            /// Bytes the table needs.
            needed: usize,
            /// Symbols it would hold.
            symbols: usize,
        },
        /// A symbol's size does not fit the entry's 32-bit size field.
        SymbolTooLarge {
            /// The symbol.
            name: String,
            /// Its size in bytes.
            size: u64,
        },
    }

    impl fmt::Display for EncodeError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                EncodeError::TooLarge { needed, symbols } => write!(
                    f,
                    "the kernel symbol table needs {needed} bytes for {symbols} symbols but the {} section \
                     holds {CAPACITY}; raise k42_ksyms::CAPACITY to at least {needed} and rebuild the kernel",
                    super::SECTION
                ),
                EncodeError::SymbolTooLarge { name, size } => write!(
                    f,
                    "symbol {name} is {size} bytes, more than a symbol table entry can describe ({} bytes); \
                     it is probably not a function",
                    u32::MAX
                ),
            }
        }
    }

    impl std::error::Error for EncodeError {}

    /// Longest name an entry can hold; longer names are cut at a character boundary.
    const MAX_NAME: usize = u16::MAX as usize;

    fn truncate(name: &str) -> &str {
        let mut end = name.len().min(MAX_NAME);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        &name[..end]
    }

    /// Encodes `(start, size, name)` symbols into a table for the section.
    ///
    /// Symbols are sorted by start; zero-sized symbols are dropped (no address is inside them); of several
    /// symbols with the same start (aliases) the largest is kept. Equal names share one string. The result
    /// is the table alone, not padded to [`CAPACITY`]; it fails if it would not fit there.
    pub fn encode(symbols: &[(u64, u64, &str)]) -> Result<Vec<u8>, EncodeError> {
        let mut sorted: Vec<(u64, u32, &str)> = Vec::with_capacity(symbols.len());
        for &(start, size, name) in symbols {
            if size == 0 {
                continue;
            }
            let size = u32::try_from(size).map_err(|_| EncodeError::SymbolTooLarge {
                name: String::from(name),
                size,
            })?;
            sorted.push((start, size, truncate(name)));
        }
        // Largest first within a start, then by name so the output does not depend on input order.
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
        sorted.dedup_by_key(|s| s.0);

        let mut strings = Vec::new();
        let mut offsets: BTreeMap<&str, u32> = BTreeMap::new();
        let mut name_offsets = Vec::with_capacity(sorted.len());
        for &(_, _, name) in &sorted {
            let offset = match offsets.get(name) {
                Some(&offset) => offset,
                None => {
                    let offset = u32::try_from(strings.len()).unwrap_or(u32::MAX);
                    strings.extend_from_slice(name.as_bytes());
                    offsets.insert(name, offset);
                    offset
                }
            };
            name_offsets.push(offset);
        }

        let strings_offset = HEADER_LEN + sorted.len() * ENTRY_LEN;
        let needed = strings_offset + strings.len();
        if needed > CAPACITY {
            return Err(EncodeError::TooLarge {
                needed,
                symbols: sorted.len(),
            });
        }
        // Every count and offset is below CAPACITY, so the u32 fields cannot truncate.
        let as_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let mut out = Vec::with_capacity(needed);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&as_u32(sorted.len()).to_le_bytes());
        out.extend_from_slice(&as_u32(strings_offset).to_le_bytes());
        out.extend_from_slice(&as_u32(strings.len()).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for (&(start, size, name), offset) in sorted.iter().zip(name_offsets) {
            let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&start.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&name_len.to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
        }
        out.extend_from_slice(&strings);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    const KERNEL_BASE: u64 = 0xffff_ffff_8000_0000;

    fn sample() -> Vec<(u64, u64, &'static str)> {
        vec![
            // Deliberately out of order, with a gap, a duplicate name, an alias and a zero-sized symbol.
            (KERNEL_BASE + 0x300, 0x10, "kernel::panic"),
            (KERNEL_BASE + 0x100, 0x80, "kernel::main"),
            (KERNEL_BASE + 0x180, 0x40, "core::fmt::write"),
            (KERNEL_BASE + 0x200, 0x20, "core::fmt::write"),
            (KERNEL_BASE + 0x100, 0x8, "kernel::main_alias"),
            (KERNEL_BASE + 0x280, 0, "zero_sized"),
        ]
    }

    #[test]
    fn round_trip_lookup() {
        let bytes = encode(&sample()).unwrap();
        let table = Table::parse(&bytes).unwrap();
        assert_eq!(table.len(), 4);
        assert!(!table.is_empty());
        // Hits at the start, in the middle, on the last byte.
        assert_eq!(table.lookup(KERNEL_BASE + 0x100), Some(("kernel::main", 0)));
        assert_eq!(
            table.lookup(KERNEL_BASE + 0x140),
            Some(("kernel::main", 0x40))
        );
        assert_eq!(
            table.lookup(KERNEL_BASE + 0x17f),
            Some(("kernel::main", 0x7f))
        );
        assert_eq!(
            table.lookup(KERNEL_BASE + 0x180),
            Some(("core::fmt::write", 0))
        );
        assert_eq!(
            table.lookup(KERNEL_BASE + 0x21f),
            Some(("core::fmt::write", 0x1f))
        );
        assert_eq!(
            table.lookup(KERNEL_BASE + 0x30f),
            Some(("kernel::panic", 0xf))
        );
        // Misses before the first, in gaps (including the zero-sized symbol), after the last.
        assert_eq!(table.lookup(0), None);
        assert_eq!(table.lookup(KERNEL_BASE + 0xff), None);
        assert_eq!(table.lookup(KERNEL_BASE + 0x220), None);
        assert_eq!(table.lookup(KERNEL_BASE + 0x280), None);
        assert_eq!(table.lookup(KERNEL_BASE + 0x310), None);
        assert_eq!(table.lookup(u64::MAX), None);
    }

    #[test]
    fn encode_is_deterministic_and_shares_names() {
        let mut reversed = sample();
        reversed.reverse();
        let bytes = encode(&sample()).unwrap();
        assert_eq!(bytes, encode(&reversed).unwrap());
        let table = Table::parse(&bytes).unwrap();
        let names: Vec<_> = table.iter().map(|(_, _, n)| n).collect();
        assert_eq!(
            names,
            [
                "kernel::main",
                "core::fmt::write",
                "core::fmt::write",
                "kernel::panic"
            ]
        );
        let unique: usize = ["kernel::main", "core::fmt::write", "kernel::panic"]
            .iter()
            .map(|n| n.len())
            .sum();
        assert_eq!(bytes.len(), HEADER_LEN + 4 * ENTRY_LEN + unique);
    }

    #[test]
    fn empty_table_parses_empty() {
        let empty = empty_table();
        assert_eq!(&empty[..MAGIC.len()], &MAGIC);
        let table = Table::parse(&empty).unwrap();
        assert_eq!(table.len(), 0);
        assert!(table.is_empty());
        assert_eq!(table.lookup(KERNEL_BASE), None);
        let encoded = encode(&[]).unwrap();
        assert_eq!(
            &empty[..encoded.len()],
            &encoded[..],
            "encoding nothing gives the unpatched header"
        );
    }

    #[test]
    fn patched_section_with_trailing_zeros_parses() {
        let bytes = encode(&sample()).unwrap();
        let mut section = empty_table();
        section[..bytes.len()].copy_from_slice(&bytes);
        assert_eq!(Table::parse(&section).unwrap().len(), 4);
    }

    #[test]
    fn truncations_never_panic() {
        let bytes = encode(&sample()).unwrap();
        for len in 0..bytes.len() {
            assert!(
                Table::parse(&bytes[..len]).is_none(),
                "truncated to {len} parsed"
            );
        }
    }

    #[test]
    fn garbage_never_panics() {
        // Every single-byte corruption of a valid table, then xorshift noise with a valid magic.
        let bytes = encode(&sample()).unwrap();
        for at in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[at] ^= flip;
                if let Some(table) = Table::parse(&bad) {
                    for (start, size, _) in table.iter() {
                        let _ = table.lookup(start);
                        let _ = table.lookup(start.wrapping_add(size));
                    }
                }
            }
        }
        const ROUNDS: usize = 2000;
        const NOISE_LEN: usize = 256;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..ROUNDS {
            let mut noise: Vec<u8> = (0..NOISE_LEN)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            noise[..MAGIC.len()].copy_from_slice(&MAGIC);
            // Small counts and offsets so some headers get past the first checks.
            noise[COUNT_AT + 1..COUNT_AT + 4].fill(0);
            noise[STRINGS_OFFSET_AT + 1..STRINGS_OFFSET_AT + 4].fill(0);
            noise[STRINGS_LEN_AT + 1..STRINGS_LEN_AT + 4].fill(0);
            if let Some(table) = Table::parse(&noise) {
                let _ = table.lookup(state);
                let _ = table.iter().count();
            }
        }
        assert!(Table::parse(b"K42SYMS0").is_none());
        assert!(Table::parse(&[]).is_none());
    }

    #[test]
    fn unsorted_or_out_of_bounds_tables_are_rejected() {
        let bytes = encode(&sample()).unwrap();
        // Swap the first two entries' starts so the order breaks.
        let mut unsorted = bytes.clone();
        let first = HEADER_LEN + ENTRY_START_AT;
        let second = HEADER_LEN + ENTRY_LEN + ENTRY_START_AT;
        let a: [u8; 8] = unsorted[first..first + 8].try_into().unwrap();
        let b: [u8; 8] = unsorted[second..second + 8].try_into().unwrap();
        unsorted[first..first + 8].copy_from_slice(&b);
        unsorted[second..second + 8].copy_from_slice(&a);
        assert!(Table::parse(&unsorted).is_none());
        // A name running past the string table.
        let mut long_name = bytes.clone();
        let at = HEADER_LEN + ENTRY_NAME_LEN_AT;
        long_name[at..at + 2].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(Table::parse(&long_name).is_none());
    }

    #[test]
    fn over_capacity_is_an_error_with_the_size() {
        const NAME_LEN: usize = 200;
        const SYMBOL_SIZE: u64 = 16;
        let name = "x".repeat(NAME_LEN);
        let count = CAPACITY / NAME_LEN;
        // Distinct names, so string sharing cannot save the day.
        let names: Vec<String> = (0..count).map(|i| format!("{i}{name}")).collect();
        let symbols: Vec<(u64, u64, &str)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    KERNEL_BASE + i as u64 * SYMBOL_SIZE,
                    SYMBOL_SIZE,
                    n.as_str(),
                )
            })
            .collect();
        let err = encode(&symbols).unwrap_err();
        let EncodeError::TooLarge { needed, symbols: n } = err.clone() else {
            panic!("unexpected {err:?}");
        };
        assert_eq!(n, count);
        let expected =
            HEADER_LEN + count * ENTRY_LEN + names.iter().map(String::len).sum::<usize>();
        assert_eq!(needed, expected);
        let msg = format!("{err}");
        assert!(
            msg.contains(&format!("{needed}")) && msg.contains("CAPACITY"),
            "{msg}"
        );
    }

    #[test]
    fn oversized_symbol_and_long_name() {
        let err = encode(&[(0, u64::from(u32::MAX) + 1, "huge")]).unwrap_err();
        assert!(matches!(err, EncodeError::SymbolTooLarge { .. }));
        assert!(format!("{err}").contains("huge"));
        // A name longer than an entry can hold is cut on a character boundary.
        let long = "é".repeat(u16::MAX as usize);
        let bytes = encode(&[(0, 1, long.as_str())]).unwrap();
        let (name, _) = Table::parse(&bytes).unwrap().lookup(0).unwrap();
        assert!(name.len() <= u16::MAX as usize && long.starts_with(name));
    }
}
