//! The one error type of the crate: every reason an ELF file cannot be loaded, each carrying the
//! values that were wrong.
//!
//! The kernel logs these when a native program fails to start and the Linux personality maps them
//! to `ENOEXEC`/`EINVAL`/`ENOMEM`, so the message must let a person fix the binary or the
//! [`crate::Options`] without reaching for `readelf`: program headers are named by their index in
//! the table, as `readelf -lW` lists them.

use core::fmt;

use goblin::elf::header::machine_to_str;
use goblin::elf::program_header::pt_to_str;

/// Why an ELF file has no valid load plan. `index` is always a program header's position in the
/// program header table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElfError {
    /// The file does not start with `\x7fELF`.
    NotElf {
        /// The first four bytes (zero-filled if the file is shorter).
        magic: [u8; 4],
    },
    /// The file ends inside the 64-byte ELF header.
    TruncatedHeader {
        /// The file's length.
        len: usize,
        /// The header's size.
        need: usize,
    },
    /// `EI_CLASS` is not `ELFCLASS64`.
    WrongClass {
        /// The `EI_CLASS` byte.
        class: u8,
    },
    /// `EI_DATA` is not `ELFDATA2LSB` (little-endian).
    WrongEndianness {
        /// The `EI_DATA` byte.
        data: u8,
    },
    /// `e_machine` is not `EM_X86_64`.
    WrongMachine {
        /// The `e_machine` field.
        machine: u16,
    },
    /// `e_type` is neither `ET_EXEC` nor `ET_DYN` (a relocatable object or a core dump, say).
    WrongType {
        /// The `e_type` field.
        e_type: u16,
    },
    /// `e_phentsize` is not the size of an `Elf64_Phdr`.
    BadPhentsize {
        /// The `e_phentsize` field.
        phentsize: u16,
        /// The only size accepted.
        expected: u16,
    },
    /// The program header table (`e_phnum` entries at `e_phoff`) does not lie inside the file.
    PhdrsOutsideFile {
        /// The `e_phoff` field.
        phoff: u64,
        /// The `e_phnum` field.
        phnum: u16,
        /// The file's length.
        file_len: usize,
    },
    /// More `PT_LOAD` segments than [`crate::Options::max_segments`] allows.
    TooManySegments {
        /// How many non-empty `PT_LOAD` headers the file has.
        count: usize,
        /// The limit in force.
        max: usize,
    },
    /// The file has no non-empty `PT_LOAD` segment: nothing to run.
    NoLoadSegments,
    /// A segment claims more bytes from the file than it occupies in memory.
    FileSizeOverMemSize {
        /// The program header.
        index: u16,
        /// Its `p_filesz`.
        file_size: u64,
        /// Its `p_memsz`.
        mem_size: u64,
    },
    /// A segment's bytes (`p_offset`, `p_filesz`) run past the end of the file (or past 2^64).
    FileRangeOutsideFile {
        /// The program header.
        index: u16,
        /// Its `p_offset`.
        offset: u64,
        /// Its `p_filesz`.
        size: u64,
        /// The file's length.
        file_len: usize,
    },
    /// `p_align` is neither 0, 1 nor a power of two.
    BadAlign {
        /// The program header.
        index: u16,
        /// Its `p_align`.
        align: u64,
    },
    /// `p_vaddr` and `p_offset` differ modulo `p_align`, which the ELF specification forbids.
    Misaligned {
        /// The program header.
        index: u16,
        /// Its `p_vaddr` (unbiased).
        vaddr: u64,
        /// Its `p_offset`.
        offset: u64,
        /// Its `p_align`.
        align: u64,
    },
    /// `p_vaddr` and `p_offset` differ modulo the page size, so the file's pages cannot be mapped
    /// (or copied page for page) onto the segment's.
    NotPageCongruent {
        /// The program header.
        index: u16,
        /// Its `p_vaddr` (unbiased).
        vaddr: u64,
        /// Its `p_offset`.
        offset: u64,
    },
    /// A `PT_LOAD` starts below the one before it; the specification requires ascending
    /// `p_vaddr`.
    OutOfOrder {
        /// The program header.
        index: u16,
        /// Its biased start.
        vaddr: u64,
        /// The biased start of the previous `PT_LOAD`.
        prev_vaddr: u64,
    },
    /// A `PT_LOAD`'s first page is at or below the previous one's last page: the two segments
    /// overlap, or share a page that would need two protections.
    Overlap {
        /// The program header.
        index: u16,
        /// The first page it maps.
        map_start: u64,
        /// The end of the pages the previous `PT_LOAD` maps.
        prev_map_end: u64,
    },
    /// An address computation passes 2^64.
    AddressOverflow {
        /// The program header, or `None` for the entry point.
        index: Option<u16>,
        /// The computation that overflowed.
        what: &'static str,
        /// Its left operand.
        base: u64,
        /// Its right operand.
        add: u64,
    },
    /// A segment's first page lies below [`crate::Options::min_addr`].
    BelowMinAddr {
        /// The program header.
        index: u16,
        /// The first page it maps.
        map_start: u64,
        /// The limit in force.
        min_addr: u64,
    },
    /// A segment's last page ends above [`crate::Options::user_top`].
    AboveUserTop {
        /// The program header.
        index: u16,
        /// The end of the pages it maps.
        map_end: u64,
        /// The limit in force.
        user_top: u64,
    },
    /// The segments map more than [`crate::Options::max_total_mem`] bytes in all.
    TooMuchMemory {
        /// Bytes mapped, counted in whole pages, up to and including the segment that passed the
        /// limit.
        total: u64,
        /// The limit in force.
        max: u64,
    },
    /// The (biased) entry point is not inside any executable `PT_LOAD`.
    EntryNotExecutable {
        /// The biased entry point.
        entry: u64,
    },
    /// [`crate::Options::bias_for_pie`] is not page aligned, so an `ET_DYN` image's pages would
    /// not land on page boundaries.
    BiasNotPageAligned {
        /// The bias asked for.
        bias: u64,
    },
    /// `PT_INTERP` does not hold a usable path.
    BadInterp {
        /// The program header.
        index: u16,
        /// Its `p_filesz`.
        size: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A program header type that may appear once (`PT_INTERP`, `PT_PHDR`, `PT_TLS`,
    /// `PT_GNU_STACK`) appears again.
    DuplicateHeader {
        /// The second occurrence.
        index: u16,
        /// Its `p_type`.
        p_type: u32,
    },
    /// Something the program will read from its own memory is not inside any `PT_LOAD`: the
    /// program headers named by `PT_PHDR`, or the `PT_TLS` initialisation image.
    NotLoaded {
        /// The program header.
        index: u16,
        /// What is missing.
        what: &'static str,
        /// Its biased address.
        vaddr: u64,
        /// Its size.
        size: u64,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ElfError::NotElf { magic } => write!(
                f,
                "not an ELF file: it starts with {magic:02x?}, not 7f 45 4c 46 (\"\\x7fELF\")"
            ),
            ElfError::TruncatedHeader { len, need } => write!(
                f,
                "truncated ELF file: {len} bytes, shorter than the {need}-byte ELF header"
            ),
            ElfError::WrongClass { class } => write!(
                f,
                "ELF class {class} (EI_CLASS) is not ELFCLASS64: only 64-bit programs are loaded"
            ),
            ElfError::WrongEndianness { data } => write!(
                f,
                "ELF data encoding {data} (EI_DATA) is not ELFDATA2LSB: x86_64 programs are little-endian"
            ),
            ElfError::WrongMachine { machine } => write!(
                f,
                "ELF machine {machine} ({}) is not EM_X86_64: build the program for x86_64",
                machine_to_str(machine)
            ),
            ElfError::WrongType { e_type } => write!(
                f,
                "ELF type {e_type} is not an executable (ET_EXEC) or a position-independent \
                 executable (ET_DYN): link the object into a program first"
            ),
            ElfError::BadPhentsize {
                phentsize,
                expected,
            } => write!(
                f,
                "program header entries are {phentsize} bytes (e_phentsize), not the {expected} of Elf64_Phdr"
            ),
            ElfError::PhdrsOutsideFile {
                phoff,
                phnum,
                file_len,
            } => write!(
                f,
                "the program header table ({phnum} entries at file offset {phoff:#x}) runs past \
                 the end of the {file_len:#x}-byte file: the file is truncated or e_phoff/e_phnum are wrong"
            ),
            ElfError::TooManySegments { count, max } => write!(
                f,
                "{count} PT_LOAD segments, more than the {max} allowed (Options::max_segments, at most MAX_SEGMENTS)"
            ),
            ElfError::NoLoadSegments => {
                write!(f, "no non-empty PT_LOAD segment: there is nothing to load")
            }
            ElfError::FileSizeOverMemSize {
                index,
                file_size,
                mem_size,
            } => write!(
                f,
                "program header {index}: p_filesz {file_size:#x} is larger than p_memsz {mem_size:#x}"
            ),
            ElfError::FileRangeOutsideFile {
                index,
                offset,
                size,
                file_len,
            } => write!(
                f,
                "program header {index}: its {size:#x} bytes at file offset {offset:#x} run past the \
                 end of the {file_len:#x}-byte file: the file is truncated or the header is corrupt"
            ),
            ElfError::BadAlign { index, align } => write!(
                f,
                "program header {index}: p_align {align:#x} is not a power of two"
            ),
            ElfError::Misaligned {
                index,
                vaddr,
                offset,
                align,
            } => write!(
                f,
                "program header {index}: p_vaddr {vaddr:#x} and p_offset {offset:#x} differ modulo \
                 p_align {align:#x}; the linker output is corrupt"
            ),
            ElfError::NotPageCongruent {
                index,
                vaddr,
                offset,
            } => write!(
                f,
                "program header {index}: p_vaddr {vaddr:#x} and p_offset {offset:#x} differ modulo \
                 the {PAGE_SIZE}-byte page, so the segment cannot be mapped page by page",
                PAGE_SIZE = crate::PAGE_SIZE
            ),
            ElfError::OutOfOrder {
                index,
                vaddr,
                prev_vaddr,
            } => write!(
                f,
                "program header {index}: PT_LOAD at {vaddr:#x} comes after one at {prev_vaddr:#x}; \
                 PT_LOAD headers must be sorted by address"
            ),
            ElfError::Overlap {
                index,
                map_start,
                prev_map_end,
            } => write!(
                f,
                "program header {index}: PT_LOAD pages start at {map_start:#x}, before the previous \
                 PT_LOAD's pages end at {prev_map_end:#x}; segments may not overlap or share a page"
            ),
            ElfError::AddressOverflow {
                index,
                what,
                base,
                add,
            } => {
                if let Some(index) = index {
                    write!(f, "program header {index}: ")?;
                }
                write!(
                    f,
                    "{what} ({base:#x} + {add:#x}) overflows the 64-bit address space"
                )
            }
            ElfError::BelowMinAddr {
                index,
                map_start,
                min_addr,
            } => write!(
                f,
                "program header {index}: the segment maps from {map_start:#x}, below the lowest \
                 user address {min_addr:#x} (relink at a higher address or choose a larger PIE bias)"
            ),
            ElfError::AboveUserTop {
                index,
                map_end,
                user_top,
            } => write!(
                f,
                "program header {index}: the segment maps up to {map_end:#x}, past the end of user \
                 space at {user_top:#x}"
            ),
            ElfError::TooMuchMemory { total, max } => write!(
                f,
                "the segments map {total:#x} bytes, more than the {max:#x} allowed (Options::max_total_mem)"
            ),
            ElfError::EntryNotExecutable { entry } => write!(
                f,
                "the entry point {entry:#x} is not inside an executable PT_LOAD segment"
            ),
            ElfError::BiasNotPageAligned { bias } => write!(
                f,
                "the load bias {bias:#x} for a position-independent program is not page aligned"
            ),
            ElfError::BadInterp {
                index,
                size,
                reason,
            } => write!(
                f,
                "program header {index}: the PT_INTERP path ({size} bytes) {reason}"
            ),
            ElfError::DuplicateHeader { index, p_type } => write!(
                f,
                "program header {index}: a second {} header; only one is allowed",
                pt_to_str(p_type)
            ),
            ElfError::NotLoaded {
                index,
                what,
                vaddr,
                size,
            } => write!(
                f,
                "program header {index}: {what} ({size:#x} bytes at {vaddr:#x}) is not inside any \
                 PT_LOAD segment, so the program could not read it"
            ),
        }
    }
}

impl core::error::Error for ElfError {}
