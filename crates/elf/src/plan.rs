//! The planner: reads the ELF header and program header table with goblin, validates every
//! header a loader acts on, and gathers the result in a fixed-size [`LoadPlan`].
//!
//! One pass over the table does the work; a first, cheaper pass only counts `PT_LOAD`s so that
//! [`ElfError::TooManySegments`] can say how many there are. Checks run per header in the order
//! `binfmt_elf` would trip over them (sizes, file range, alignment, addresses), then across
//! headers (order, overlap, total size, entry point, `AT_PHDR`).

use goblin::elf::header::{
    EI_CLASS, EI_DATA, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_X86_64, ET_DYN, ET_EXEC, SELFMAG,
};
use goblin::elf::program_header::{
    PF_R, PF_W, PF_X, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_PHDR, PT_TLS,
};
use goblin::elf64::header::{Header, SIZEOF_EHDR};
use goblin::elf64::program_header::{ProgramHeader, SIZEOF_PHDR};
use scroll::{LE, Pread};

use crate::page::{is_page_aligned, page_ceil, page_floor, page_offset};
use crate::{ElfError, MAX_SEGMENTS, Options, Prot, Segment};

/// Longest `PT_INTERP` path accepted, its NUL included: Linux's `PATH_MAX`, which `binfmt_elf`
/// enforces too.
pub const INTERP_MAX: u64 = 4096;

/// Shortest `PT_INTERP` accepted: one character and its NUL (Linux refuses anything shorter).
const INTERP_MIN: u64 = 2;

/// `e_phentsize` as the header states it; goblin's constant is a `usize`, the field a `u16`.
const PHENTSIZE: u16 = SIZEOF_PHDR as u16;

/// What kind of image the file is, which decides whether addresses are biased.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `ET_EXEC`: absolute addresses, loaded where linked; the bias is 0.
    Exec,
    /// `ET_DYN`: position independent (static-PIE, or a PIE that names an interpreter in
    /// [`LoadPlan::interp`]); every address is offset by [`Options::bias_for_pie`].
    Pie,
}

/// Where the `PT_INTERP` path lies in the file. Reported, not followed: `exec` decides whether to
/// load the interpreter or refuse the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interp {
    /// `p_offset` of the path.
    pub file_offset: u64,
    /// `p_filesz`: the path's length with its terminating NUL.
    pub file_size: u64,
}

impl Interp {
    /// The interpreter's path, taken from `image` (the file the plan was made from) up to its
    /// first NUL, as Linux reads it (a C string: bytes after an early NUL are not part of it);
    /// `None` if `image` is too short to hold it.
    pub fn path<'a>(&self, image: &'a [u8]) -> Option<&'a [u8]> {
        let start = usize::try_from(self.file_offset).ok()?;
        // Checked by plan: file_size >= INTERP_MIN, so this does not underflow.
        let len = usize::try_from(self.file_size - 1).ok()?;
        let bytes = image.get(start..start.checked_add(len)?)?;
        Some(bytes.split(|&b| b == 0).next().unwrap_or(bytes))
    }
}

/// The thread-local storage template (`PT_TLS`): the runtime (or the personality, for the first
/// thread) copies `file_size` bytes from `vaddr` and zeroes up to `mem_size` for each thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tls {
    /// `p_offset` of the initialisation image (`.tdata`).
    pub file_offset: u64,
    /// `p_filesz`: size of the initialisation image.
    pub file_size: u64,
    /// `p_memsz`: size of a thread's block (`.tdata` + `.tbss`).
    pub mem_size: u64,
    /// `p_align`: alignment of a thread's block (0 or 1: none).
    pub align: u64,
    /// Biased address of the initialisation image in the loaded program.
    pub vaddr: u64,
}

/// Everything a loader needs to map a program and build its first stack, validated. Addresses are
/// biased: they are where things will be, not what the file says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// `ET_EXEC` or `ET_DYN`.
    pub kind: Kind,
    /// Where execution starts (biased `e_entry`), inside an executable segment: `AT_ENTRY`.
    pub entry: u64,
    /// What was added to every address: 0 for [`Kind::Exec`], [`Options::bias_for_pie`] for
    /// [`Kind::Pie`].
    pub bias: u64,
    /// Address of the program header table in the loaded image (`AT_PHDR`), from `PT_PHDR` or
    /// else from the `PT_LOAD` whose file bytes include the table; `None` if no segment maps it
    /// (native K42 programs leave it out).
    pub phdr: Option<u64>,
    /// Size of one program header (`AT_PHENT`).
    pub phent: u16,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: u16,
    /// The requested interpreter, if any (a dynamically linked program).
    pub interp: Option<Interp>,
    /// The thread-local storage template, if the program has one.
    pub tls: Option<Tls>,
    /// Whether `PT_GNU_STACK` asks for an executable stack. Without `PT_GNU_STACK` the stack is
    /// not executable, as Linux decides for 64-bit x86 programs.
    pub stack_executable: bool,
    /// End of the highest segment's last page: where the heap (`brk`) starts.
    pub brk_start: u64,
    segments: [Segment; MAX_SEGMENTS],
    segment_count: usize,
}

impl LoadPlan {
    /// The segments to load, in ascending address order, none sharing a page with another.
    pub fn segments(&self) -> &[Segment] {
        self.segments.get(..self.segment_count).unwrap_or(&[])
    }

    /// The pages from the lowest segment's first to the highest one's last (page-aligned, half
    /// open): the span an image needs in one piece, as Linux's `total_mapping_size` measures it
    /// to place an interpreter. A plan always holds a segment, so the range is never empty.
    pub fn map_bounds(&self) -> core::ops::Range<u64> {
        let segments = self.segments();
        let start = segments.first().map_or(0, |s| s.map_range().start);
        let end = segments.last().map_or(0, |s| s.map_range().end);
        start..end
    }

    /// The largest power-of-two `p_align` of the `PT_LOAD`s, at least a page: Linux's
    /// `maximum_alignment`, to which it aligns a PIE's load bias.
    pub fn max_align(&self) -> u64 {
        self.segments()
            .iter()
            .map(Segment::align)
            .filter(|a| a.is_power_of_two())
            .fold(crate::PAGE_SIZE, u64::max)
    }

    /// Bytes the segments map in all, counted in whole pages.
    pub fn mapped_bytes(&self) -> u64 {
        self.segments()
            .iter()
            .map(|s| s.map_range().end - s.map_range().start)
            .fold(0, u64::saturating_add)
    }
}

/// Validates `bytes` as an x86_64 executable and returns how to load it under `opts`.
///
/// Never panics and never allocates; every way the file (or the options) can make loading
/// unsafe or impossible is an [`ElfError`] naming the header and values at fault.
pub fn plan(bytes: &[u8], opts: &Options) -> Result<LoadPlan, ElfError> {
    let (header, kind) = read_header(bytes)?;
    let bias = match kind {
        Kind::Exec => 0,
        Kind::Pie if is_page_aligned(opts.bias_for_pie) => opts.bias_for_pie,
        Kind::Pie => {
            return Err(ElfError::BiasNotPageAligned {
                bias: opts.bias_for_pie,
            });
        }
    };
    let table = Table::new(bytes, &header)?;

    let max = opts.max_segments.min(MAX_SEGMENTS);
    let mut count = 0;
    for index in 0..table.phnum {
        if is_load(&table.get(index)?) {
            count += 1;
        }
    }
    if count > max {
        return Err(ElfError::TooManySegments { count, max });
    }

    let mut plan = LoadPlan {
        kind,
        entry: 0,
        bias,
        phdr: None,
        phent: header.e_phentsize,
        phnum: header.e_phnum,
        interp: None,
        tls: None,
        stack_executable: false,
        brk_start: 0,
        segments: [Segment::EMPTY; MAX_SEGMENTS],
        segment_count: 0,
    };
    // Indices of the headers checked against the segments once all are known.
    let mut phdr_index = None;
    let mut tls_index = 0;
    let mut seen_stack = false;

    for index in 0..table.phnum {
        let ph = table.get(index)?;
        match ph.p_type {
            PT_LOAD if is_load(&ph) => {
                let segment = load_segment(index, &ph, bias, opts, bytes.len())?;
                plan.push(index, segment, opts)?;
            }
            PT_INTERP => {
                if plan.interp.is_some() {
                    return Err(duplicate(index, &ph));
                }
                plan.interp = Some(interp(index, &ph, bytes)?);
            }
            PT_TLS => {
                if plan.tls.is_some() {
                    return Err(duplicate(index, &ph));
                }
                plan.tls = Some(tls(index, &ph, bias, bytes.len())?);
                tls_index = index;
            }
            PT_PHDR => {
                if plan.phdr.is_some() {
                    return Err(duplicate(index, &ph));
                }
                plan.phdr = Some(biased(index, bias, ph.p_vaddr)?);
                phdr_index = Some(index);
            }
            PT_GNU_STACK => {
                if seen_stack {
                    return Err(duplicate(index, &ph));
                }
                seen_stack = true;
                plan.stack_executable = ph.p_flags & PF_X != 0;
            }
            // PT_NOTE, PT_DYNAMIC, PT_GNU_RELRO, PT_GNU_PROPERTY, empty PT_LOADs...: nothing a
            // loader maps. Relocation (PT_DYNAMIC) is the static-PIE's own start-up code's job.
            _ => {}
        }
    }

    let Some(last) = plan.segments().last() else {
        return Err(ElfError::NoLoadSegments);
    };
    plan.brk_start = last.map_range().end;
    plan.entry = entry(&plan, header.e_entry)?;
    plan.check_loaded(tls_index, phdr_index, &table)?;
    if phdr_index.is_none() {
        plan.phdr = plan.segments().iter().find_map(|s| {
            let file = s.file_range();
            let inside = file.start <= table.offset && table.end() <= file.end;
            // In range: the table lies in the segment's file bytes, which are below its memsz.
            inside.then(|| s.vaddr() + (table.offset - file.start))
        });
    }
    Ok(plan)
}

impl LoadPlan {
    /// Appends the next `PT_LOAD` after checking it against the previous one (ascending, no
    /// shared page) and the memory limit.
    fn push(&mut self, index: u16, segment: Segment, opts: &Options) -> Result<(), ElfError> {
        let map = segment.map_range();
        if let Some(prev) = self.segments().last() {
            if segment.vaddr() < prev.vaddr() {
                return Err(ElfError::OutOfOrder {
                    index,
                    vaddr: segment.vaddr(),
                    prev_vaddr: prev.vaddr(),
                });
            }
            if map.start < prev.map_range().end {
                return Err(ElfError::Overlap {
                    index,
                    map_start: map.start,
                    prev_map_end: prev.map_range().end,
                });
            }
        }
        let size = map.end - map.start;
        let mapped = self.mapped_bytes();
        let total = mapped.checked_add(size).ok_or(ElfError::AddressOverflow {
            index: Some(index),
            what: "total mapped size",
            base: mapped,
            add: size,
        })?;
        if total > opts.max_total_mem {
            return Err(ElfError::TooMuchMemory {
                total,
                max: opts.max_total_mem,
            });
        }
        // The count pass already bounded the PT_LOADs by MAX_SEGMENTS; this only avoids a panic.
        let slot = self
            .segments
            .get_mut(self.segment_count)
            .ok_or(ElfError::TooManySegments {
                count: MAX_SEGMENTS + 1,
                max: MAX_SEGMENTS,
            })?;
        *slot = segment;
        self.segment_count += 1;
        Ok(())
    }

    /// Checks that what the program reads from its own memory at start-up is mapped: the
    /// `PT_TLS` initialisation image and the table `PT_PHDR` names.
    fn check_loaded(
        &self,
        tls_index: u16,
        phdr_index: Option<u16>,
        table: &Table,
    ) -> Result<(), ElfError> {
        let loaded = |start, len| self.segments().iter().any(|s| s.contains_range(start, len));
        if let Some(tls) = self.tls {
            // A template made only of .tbss is never read.
            if tls.file_size != 0 && !loaded(tls.vaddr, tls.file_size) {
                return Err(ElfError::NotLoaded {
                    index: tls_index,
                    what: "the PT_TLS initialisation image",
                    vaddr: tls.vaddr,
                    size: tls.file_size,
                });
            }
        }
        if let (Some(index), Some(vaddr)) = (phdr_index, self.phdr)
            && !loaded(vaddr, table.len)
        {
            return Err(ElfError::NotLoaded {
                index,
                what: "the program header table named by PT_PHDR",
                vaddr,
                size: table.len,
            });
        }
        Ok(())
    }
}

/// The biased entry point, which must lie inside an executable segment.
fn entry(plan: &LoadPlan, e_entry: u64) -> Result<u64, ElfError> {
    let entry = match plan.kind {
        Kind::Exec => e_entry,
        Kind::Pie => plan
            .bias
            .checked_add(e_entry)
            .ok_or(ElfError::AddressOverflow {
                index: None,
                what: "load bias + e_entry",
                base: plan.bias,
                add: e_entry,
            })?,
    };
    let executable = |s: &Segment| s.prot().contains(Prot::EXEC) && s.contains_range(entry, 1);
    if !plan.segments().iter().any(executable) {
        return Err(ElfError::EntryNotExecutable { entry });
    }
    Ok(entry)
}

/// Reads and checks the ELF header: magic, class, byte order, machine, type and program header
/// entry size, in that order (so that an object file is called one, not a bad table).
fn read_header(bytes: &[u8]) -> Result<(Header, Kind), ElfError> {
    let mut magic = [0; SELFMAG];
    for (to, from) in magic.iter_mut().zip(bytes) {
        *to = *from;
    }
    if bytes.len() < SELFMAG || &magic != ELFMAG {
        return Err(ElfError::NotElf { magic });
    }
    // The identification bytes decide how the rest is read, so check them before trusting a
    // little-endian 64-bit read of the header.
    let ident = |at: usize| bytes.get(at).copied();
    match ident(EI_CLASS) {
        Some(ELFCLASS64) => {}
        Some(class) => return Err(ElfError::WrongClass { class }),
        None => return Err(truncated_header(bytes)),
    }
    match ident(EI_DATA) {
        Some(ELFDATA2LSB) => {}
        Some(data) => return Err(ElfError::WrongEndianness { data }),
        None => return Err(truncated_header(bytes)),
    }
    let header: Header = bytes
        .pread_with(0, LE)
        .map_err(|_| truncated_header(bytes))?;
    if header.e_machine != EM_X86_64 {
        return Err(ElfError::WrongMachine {
            machine: header.e_machine,
        });
    }
    let kind = match header.e_type {
        ET_EXEC => Kind::Exec,
        ET_DYN => Kind::Pie,
        e_type => return Err(ElfError::WrongType { e_type }),
    };
    if header.e_phentsize != PHENTSIZE {
        return Err(ElfError::BadPhentsize {
            phentsize: header.e_phentsize,
            expected: PHENTSIZE,
        });
    }
    Ok((header, kind))
}

fn truncated_header(bytes: &[u8]) -> ElfError {
    ElfError::TruncatedHeader {
        len: bytes.len(),
        need: SIZEOF_EHDR,
    }
}

/// The program header table, known to lie inside the file.
struct Table<'a> {
    bytes: &'a [u8],
    /// `e_phoff`.
    offset: u64,
    /// `e_phnum`.
    phnum: u16,
    /// The table's size in bytes.
    len: u64,
}

impl<'a> Table<'a> {
    fn new(bytes: &'a [u8], header: &Header) -> Result<Table<'a>, ElfError> {
        let outside = ElfError::PhdrsOutsideFile {
            phoff: header.e_phoff,
            phnum: header.e_phnum,
            file_len: bytes.len(),
        };
        let len = u64::from(header.e_phnum) * u64::from(PHENTSIZE);
        let end = header.e_phoff.checked_add(len).ok_or(outside)?;
        if end > file_len(bytes) {
            return Err(outside);
        }
        Ok(Table {
            bytes,
            offset: header.e_phoff,
            phnum: header.e_phnum,
            len,
        })
    }

    /// One past the table's last byte in the file.
    fn end(&self) -> u64 {
        // Checked by Table::new.
        self.offset + self.len
    }

    /// Reads program header `index` (< `phnum`).
    fn get(&self, index: u16) -> Result<ProgramHeader, ElfError> {
        let outside = ElfError::PhdrsOutsideFile {
            phoff: self.offset,
            phnum: self.phnum,
            file_len: self.bytes.len(),
        };
        // Inside the file (Table::new), so these fit in usize and the read succeeds; errors are
        // still mapped rather than unwrapped.
        let at = u64::from(index)
            .checked_mul(u64::from(PHENTSIZE))
            .and_then(|rel| self.offset.checked_add(rel))
            .and_then(|at| usize::try_from(at).ok())
            .ok_or(outside)?;
        self.bytes.pread_with(at, LE).map_err(|_| outside)
    }
}

/// Whether a header is a `PT_LOAD` that occupies memory. Empty ones map nothing (Linux skips
/// them too) and are left out of the plan.
fn is_load(ph: &ProgramHeader) -> bool {
    ph.p_type == PT_LOAD && ph.p_memsz != 0
}

/// Validates one non-empty `PT_LOAD` and places it at `bias`.
fn load_segment(
    index: u16,
    ph: &ProgramHeader,
    bias: u64,
    opts: &Options,
    file_len: usize,
) -> Result<Segment, ElfError> {
    if ph.p_filesz > ph.p_memsz {
        return Err(ElfError::FileSizeOverMemSize {
            index,
            file_size: ph.p_filesz,
            mem_size: ph.p_memsz,
        });
    }
    check_file_range(index, ph, file_len)?;
    check_align(index, ph)?;
    if page_offset(ph.p_vaddr) != page_offset(ph.p_offset) {
        return Err(ElfError::NotPageCongruent {
            index,
            vaddr: ph.p_vaddr,
            offset: ph.p_offset,
        });
    }
    let vaddr = biased(index, bias, ph.p_vaddr)?;
    let end = vaddr
        .checked_add(ph.p_memsz)
        .ok_or(ElfError::AddressOverflow {
            index: Some(index),
            what: "segment start + p_memsz",
            base: vaddr,
            add: ph.p_memsz,
        })?;
    let map_end = page_ceil(end).ok_or(ElfError::AddressOverflow {
        index: Some(index),
        what: "segment end rounded up to a page",
        base: end,
        add: crate::PAGE_SIZE - 1,
    })?;
    let map_start = page_floor(vaddr);
    if map_start < opts.min_addr {
        return Err(ElfError::BelowMinAddr {
            index,
            map_start,
            min_addr: opts.min_addr,
        });
    }
    if map_end > opts.user_top {
        return Err(ElfError::AboveUserTop {
            index,
            map_end,
            user_top: opts.user_top,
        });
    }
    Ok(Segment::new(
        vaddr,
        ph.p_memsz,
        ph.p_offset,
        ph.p_filesz,
        prot(ph.p_flags),
        ph.p_align,
    ))
}

/// Validates `PT_INTERP`: inside the file, a sane length, NUL-terminated.
fn interp(index: u16, ph: &ProgramHeader, bytes: &[u8]) -> Result<Interp, ElfError> {
    check_file_range(index, ph, bytes.len())?;
    let bad = |reason| ElfError::BadInterp {
        index,
        size: ph.p_filesz,
        reason,
    };
    if ph.p_filesz < INTERP_MIN {
        return Err(bad("is empty"));
    }
    if ph.p_filesz > INTERP_MAX {
        return Err(bad("is longer than PATH_MAX (4096 bytes)"));
    }
    // In the file (checked above), so the last byte's offset fits and is present.
    let last = ph
        .p_offset
        .checked_add(ph.p_filesz - 1)
        .and_then(|at| usize::try_from(at).ok())
        .and_then(|at| bytes.get(at));
    if last != Some(&0) {
        return Err(bad("is not NUL-terminated"));
    }
    Ok(Interp {
        file_offset: ph.p_offset,
        file_size: ph.p_filesz,
    })
}

/// Validates `PT_TLS` (file range, sizes, alignment, addresses) and biases its address. Whether
/// the image is loaded is checked once all segments are known.
fn tls(index: u16, ph: &ProgramHeader, bias: u64, file_len: usize) -> Result<Tls, ElfError> {
    if ph.p_filesz > ph.p_memsz {
        return Err(ElfError::FileSizeOverMemSize {
            index,
            file_size: ph.p_filesz,
            mem_size: ph.p_memsz,
        });
    }
    check_file_range(index, ph, file_len)?;
    if ph.p_align > 1 && !ph.p_align.is_power_of_two() {
        return Err(ElfError::BadAlign {
            index,
            align: ph.p_align,
        });
    }
    let vaddr = biased(index, bias, ph.p_vaddr)?;
    vaddr
        .checked_add(ph.p_memsz)
        .ok_or(ElfError::AddressOverflow {
            index: Some(index),
            what: "PT_TLS start + p_memsz",
            base: vaddr,
            add: ph.p_memsz,
        })?;
    Ok(Tls {
        file_offset: ph.p_offset,
        file_size: ph.p_filesz,
        mem_size: ph.p_memsz,
        align: ph.p_align,
        vaddr,
    })
}

/// `p_offset + p_filesz` must not pass the end of the file (nor 2^64).
fn check_file_range(index: u16, ph: &ProgramHeader, file_len: usize) -> Result<(), ElfError> {
    match ph.p_offset.checked_add(ph.p_filesz) {
        Some(end) if end <= len_u64(file_len) => Ok(()),
        _ => Err(ElfError::FileRangeOutsideFile {
            index,
            offset: ph.p_offset,
            size: ph.p_filesz,
            file_len,
        }),
    }
}

/// `p_align` must be 0, 1 or a power of two, and `p_vaddr ≡ p_offset (mod p_align)`.
fn check_align(index: u16, ph: &ProgramHeader) -> Result<(), ElfError> {
    let align = ph.p_align;
    if align <= 1 {
        return Ok(());
    }
    if !align.is_power_of_two() {
        return Err(ElfError::BadAlign { index, align });
    }
    let mask = align - 1;
    if ph.p_vaddr & mask != ph.p_offset & mask {
        return Err(ElfError::Misaligned {
            index,
            vaddr: ph.p_vaddr,
            offset: ph.p_offset,
            align,
        });
    }
    Ok(())
}

/// `bias + p_vaddr`, checked.
fn biased(index: u16, bias: u64, vaddr: u64) -> Result<u64, ElfError> {
    bias.checked_add(vaddr).ok_or(ElfError::AddressOverflow {
        index: Some(index),
        what: "load bias + p_vaddr",
        base: bias,
        add: vaddr,
    })
}

fn duplicate(index: u16, ph: &ProgramHeader) -> ElfError {
    ElfError::DuplicateHeader {
        index,
        p_type: ph.p_type,
    }
}

/// Page protection from ELF segment flags; unknown (OS/processor-specific) bits are ignored.
fn prot(flags: u32) -> Prot {
    let mut prot = Prot::empty();
    prot.set(Prot::READ, flags & PF_R != 0);
    prot.set(Prot::WRITE, flags & PF_W != 0);
    prot.set(Prot::EXEC, flags & PF_X != 0);
    prot
}

fn file_len(bytes: &[u8]) -> u64 {
    len_u64(bytes.len())
}

/// A length as `u64`: lossless on every target this crate builds for (usize is at most 64 bits).
fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}
