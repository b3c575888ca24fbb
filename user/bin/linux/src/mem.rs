//! The program's memory (DESIGN §2.5, issue #4 item 2): `brk`, `mmap`, `munmap`, `mprotect`,
//! `madvise`, `mremap`. The personality keeps the map of the program's address space
//! (`k42_linux::mmap_space`: the host-tested rules of splitting, protection and placement)
//! and asks the kernel's `Memory` object to make each change; the kernel's regions and page
//! tables follow.
//!
//! `mmap` of a file (`calls/mmap_file.rs`; Linux's checks and the kinds of range in
//! `k42_linux::mmap_space::file`) maps the file's kernel image (`k42_kapi::Image`, the file
//! server's copy of the file as it is now) privately — anonymous memory filled with the file's
//! bytes for a file without one: `MAP_PRIVATE` of any protection, and `MAP_SHARED` read-only,
//! a copy that later writes to the file do not change; pages wholly past the file's end have no
//! access (`Mem::past_eof`: SIGBUS). A writable `MAP_SHARED`
//! mapping of a file is refused with `ENODEV` (its writes would have to reach the file). Each
//! file mapping's file and offset are recorded beside the map (`Mem::origins`, holding the
//! file's node as Linux's mapping holds its file), for an `mremap` that grows it;
//! `/dev/zero` maps as anonymous memory. docs/linux-personality.md, "Program memory", lists
//! the departures from Linux.
//!
//! `execve` empties it ([`unmap_all`]) before the new image is loaded (`exec.rs`).
//!
//! The map is also what makes program pointers checkable (`uaccess.rs`, [`Mem::check`]).
//! Ranges the personality and the runtime live in can never be mapped, unmapped or protected
//! by the program ([`program_may_use`]).
//!
//! The map's lock is held across the kernel's `Memory` calls that change what it records — the
//! one place the personality holds a lock across an object invocation. It must: a checked copy
//! (`uaccess`) holds the same lock, so no range can be unmapped between its check and its
//! copy. It cannot deadlock: the kernel's object calls complete without waiting for anything
//! at user level. It is *not* held across the file server's calls that fill a file mapping
//! (such a call may wait for the server, and the process's other threads run meanwhile): the
//! fill takes it for each piece it writes, and again to give the range its protection.

use alloc::sync::Arc;
use alloc::vec::Vec;

use k42_abi::kernel::{DISPATCHER_PAGE_BASE, PERSONALITY_BASE, PERSONALITY_LIMIT};
use k42_kapi::{MemoryClient, prot as kprot};
use k42_linux::mmap_space::file::{Plan, plan as file_plan};
use k42_linux::mmap_space::origins::Origins;
use k42_linux::mmap_space::past_eof::PastEof;
use k42_linux::mmap_space::{Brk, BrkChange, MmapSpace, Range, check_range, page_ceil};
use k42_linux::raw::general as g;
use k42_linux::{Errno, PAGE_SIZE, SysResult};
use k42_rt::layout::HEAP_BASE;
use k42_rt::{KernelPpc, log};

use crate::calls::mmap_file;
use crate::fd::OpenFile;
use crate::file_bytes::FileImage;
use crate::files::Node;
use crate::layout::{BRK_MAX, MMAP_CEILING, MMAP_FLOOR, STACK_SIZE, STACK_TOP};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

pub use k42_linux::mmap_space::Kind;

/// Linux protection bits.
const PROT_READ: u8 = g::PROT_READ as u8;
const PROT_WRITE: u8 = g::PROT_WRITE as u8;
const PROT_EXEC: u8 = g::PROT_EXEC as u8;
/// Read and write.
pub const PROT_RW: u8 = PROT_READ | PROT_WRITE;

/// What an access needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reading.
    Read,
    /// Writing.
    Write,
}

/// The program's memory state.
#[derive(Debug, Default)]
pub struct Mem {
    /// Every mapping of the program.
    pub space: MmapSpace,
    /// The brk heap, once the image is loaded.
    pub brk: Option<Brk>,
    /// Pages of file mappings wholly past their file's end: mapped with no access, a touch is
    /// SIGBUS (`BUS_ADRERR`) as on Linux (`crate::signals`), and `mprotect` leaves them so.
    pub past_eof: PastEof,
    /// The file each file mapping's pages come from, and where in it: what `mremap` maps into
    /// a file mapping it grows. A record holds its file's node, as a Linux mapping holds its
    /// file; a node whose last record went is dropped (a file server call) only once the map's
    /// lock is let go ([`Mem::take_unmapped_files`]).
    pub origins: Origins<Arc<Node>>,
}

impl Mem {
    /// Nothing mapped yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `[start, start + len)` as mapped with `prot` (replacing what was recorded there).
    pub fn record(&mut self, start: u64, len: u64, prot: u8, kind: Kind) {
        if let Err(e) = self.space.insert_fixed(start, len, prot, kind) {
            log!("linux: cannot record {start:#x}+{len:#x}: {e}");
        }
    }

    /// The nodes of file mappings that went, to drop once the map's lock is let go: dropping a
    /// node may release it at its file server, a call no spin lock may be held across.
    #[must_use]
    pub fn take_unmapped_files(&mut self) -> Vec<Arc<Node>> {
        self.origins.take_gone()
    }

    /// Starts the brk heap at the end of the image (rounded up to a page, as Linux does).
    pub fn start_brk(&mut self, image_end: u64) {
        let start = page_ceil(image_end).unwrap_or(image_end);
        let mut limit = start.saturating_add(BRK_MAX);
        if start < PERSONALITY_BASE {
            limit = limit.min(PERSONALITY_BASE);
        }
        self.brk = Some(Brk::new(start, limit));
    }

    /// `Ok` if every byte of `[addr, addr + len)` is mapped with the access; `EFAULT` otherwise.
    pub fn check(&self, addr: u64, len: u64, access: Access) -> Result<(), Errno> {
        let end = uaccess::end(addr, len)?;
        let need = match access {
            Access::Read => PROT_READ,
            Access::Write => PROT_WRITE,
        };
        let mut cursor = addr;
        while cursor < end {
            let range = self.space.lookup(cursor).ok_or(Errno::EFAULT)?;
            if range.prot & need == 0 {
                return Err(Errno::EFAULT);
            }
            cursor = range.end;
        }
        // Pages past a file's end have no access whatever the map says: Linux's copy faults
        // there too (SIGBUS in the program, EFAULT in a syscall).
        if !self.past_eof.within(addr, end).is_empty() {
            return Err(Errno::EFAULT);
        }
        Ok(())
    }
}

/// Unmaps every range of the program's memory — its image, brk heap, stack and every `mmap` —
/// and forgets the map and the brk heap: `execve`'s teardown of the old image, past its point
/// of no return. Only what the map records goes: the personality's image, the runtime's heap
/// and thread and upcall stacks are never in it ([`program_may_use`]), so they stay. Returns
/// the nodes of the file mappings that went, for the caller to drop once it lets the map's
/// lock go ([`Mem::take_unmapped_files`]).
#[must_use]
pub fn unmap_all(linux: &Linux, mem: &mut Mem) -> Vec<Arc<Node>> {
    let ranges: Vec<Range> = mem.space.iter().copied().collect();
    kernel_unmap(linux, mem, &ranges);
    // Every record goes, whatever the map held: none may be dropped with the map's lock held.
    mem.origins.remove(0, u64::MAX);
    let unmapped = mem.take_unmapped_files();
    *mem = Mem::new();
    unmapped
}

/// The kernel's protection bits for Linux's.
pub fn kernel_prot(linux_prot: u8) -> u8 {
    let mut p = 0;
    for (l, k) in [
        (PROT_READ, kprot::READ),
        (PROT_WRITE, kprot::WRITE),
        (PROT_EXEC, kprot::EXEC),
    ] {
        if linux_prot & l != 0 {
            p |= k;
        }
    }
    p
}

/// Linux's protection bits for an ELF segment's.
pub fn elf_prot(p: k42_elf::Prot) -> u8 {
    let mut out = 0;
    for (e, l) in [
        (k42_elf::Prot::READ, PROT_READ),
        (k42_elf::Prot::WRITE, PROT_WRITE),
        (k42_elf::Prot::EXEC, PROT_EXEC),
    ] {
        if p.contains(e) {
            out |= l;
        }
    }
    out
}

/// Whether the program may have `[start, end)`: not the personality's image, not the runtime's
/// heap and stacks, not the dispatcher pages or the personality's first stack, nothing above
/// the program's stack.
pub fn program_may_use(start: u64, end: u64) -> bool {
    let forbidden = [
        (PERSONALITY_BASE, PERSONALITY_LIMIT),
        (HEAP_BASE, MMAP_FLOOR),
        (DISPATCHER_PAGE_BASE, STACK_TOP - STACK_SIZE),
        (STACK_TOP, u64::MAX),
    ];
    start < end && forbidden.iter().all(|&(lo, hi)| end <= lo || start >= hi)
}

fn memory(linux: &Linux) -> MemoryClient<KernelPpc> {
    MemoryClient::new(KernelPpc, linux.memory)
}

/// Maps fresh zero-filled memory in the kernel.
fn kernel_map(linux: &Linux, start: u64, len: u64, prot: u8) -> Result<(), Errno> {
    memory(linux)
        .map(start, len, kernel_prot(prot))
        .map_err(|_| Errno::ENOMEM)
}

/// Maps `len` bytes at `start` for memory of `kind`: shared anonymous memory is one kernel
/// object whose pages a fork child shares instead of copying (`Memory::map_shared`); every
/// other kind, file mappings included (a read-only shared one never changes), is private.
fn kernel_map_kind(linux: &Linux, start: u64, len: u64, prot: u8, kind: Kind) -> Result<(), Errno> {
    if kind != Kind::AnonShared {
        return kernel_map(linux, start, len, prot);
    }
    memory(linux)
        .map_shared(start, len, kernel_prot(prot))
        .map_err(|_| Errno::ENOMEM)
}

/// Unmaps the pieces the map removed, and forgets what `mem` recorded of them beside the map.
fn kernel_unmap(linux: &Linux, mem: &mut Mem, pieces: &[Range]) {
    for piece in pieces {
        mem.past_eof.remove(piece.start, piece.end);
        mem.origins.remove(piece.start, piece.end);
        if let Err(e) = memory(linux).unmap(piece.start, piece.len()) {
            log!(
                "linux: the kernel refused to unmap {:#x}+{:#x}: {e}",
                piece.start,
                piece.len()
            );
        }
    }
}

/// `brk(addr)`: the new break, or the old one when refused (Linux's convention).
pub fn brk(linux: &Linux, args: &Args) -> SysResult {
    let mut mem = linux.mem.lock();
    let Mem {
        space,
        brk,
        past_eof,
        origins,
    } = &mut *mem;
    let Some(brk) = brk.as_mut() else {
        return Ok(0);
    };
    let old = brk.current;
    let (new, change) = brk.set(args[0], space);
    match change {
        BrkChange::None => {}
        BrkChange::Map { start, len } => {
            if kernel_map(linux, start, len, PROT_RW).is_err() {
                brk.set(old, space);
                return Ok(old);
            }
        }
        BrkChange::Unmap { start, len } => {
            // What the shrink cut may hold a file mapping placed over the heap (`MAP_FIXED`).
            past_eof.remove(start, start + len);
            origins.remove(start, start + len);
            if let Err(e) = memory(linux).unmap(start, len) {
                log!("linux: the kernel refused to unmap brk pages {start:#x}+{len:#x}: {e}");
            }
        }
    }
    let unmapped = mem.take_unmapped_files();
    drop(mem);
    drop(unmapped);
    Ok(new)
}

/// The bits of `mmap`'s flags that give the mapping's type. Flags this personality does not
/// act on are ignored, as Linux ignores unknown flags for `MAP_PRIVATE`/`MAP_SHARED`.
const MAP_TYPE: u32 = g::MAP_TYPE;

/// `mmap(addr, len, prot, flags, fd, offset)`: anonymous mappings, private (copy-on-write
/// across fork) or shared (the same pages in a fork child); `/dev/zero` as anonymous memory;
/// files, private or read-only shared, as memory filled from the file (`calls/mmap_file.rs`).
/// Errors in Linux's order: the offset's alignment, the descriptor, the length, the place
/// (`get_unmapped_area`), then the file's checks (`k42_linux::mmap_space::file`).
pub fn mmap(linux: &Linux, args: &Args) -> SysResult {
    let (hint, len, prot, flags) = (args[0], args[1], args[2] as u32, args[3] as u32);
    let offset = args[5];
    // x86_64's `sys_mmap` refuses an unaligned offset before it looks at the descriptor.
    if !offset.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let file = if flags & g::MAP_ANONYMOUS == 0 {
        Some(mmap_file::source(linux, args[4])?)
    } else {
        None
    };
    // A file's mapping type is checked with its other flags (`mmap_space::file::plan`);
    // anonymous memory knows no `MAP_SHARED_VALIDATE` in Linux 6.1.
    if file.is_none() && !matches!(flags & MAP_TYPE, g::MAP_PRIVATE | g::MAP_SHARED) {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_ceil(len).ok_or(Errno::ENOMEM)?;
    // Linux's `mmap` ignores protection bits it does not know (`mprotect` refuses them).
    let prot = (prot & (g::PROT_READ | g::PROT_WRITE | g::PROT_EXEC)) as u8;
    // What a file's mapping becomes, decided once (it depends on nothing the lock guards); its
    // error is the call's only after the placement's, Linux's order. A mapping filled from the
    // file is mapped from its image instead, asked for before the lock (a server call).
    let planned = file
        .as_ref()
        .map(|(open, source)| (open, file_plan(flags, prot, offset, len, *source)));
    let image = match &planned {
        Some((open, Ok(Plan::Filled(_)))) => mmap_file::image(open),
        _ => None,
    };
    let mut mem = linux.mem.lock();
    let start = place(&mem, hint, len, flags)?;
    // Borrowed: the open file is dropped (maybe releasing its node at the file server, if
    // another thread closed the descriptor) only after the map's lock, declared later.
    let (kind, fill) = match planned {
        None if flags & MAP_TYPE == g::MAP_PRIVATE => (Kind::AnonPrivate, None),
        None => (Kind::AnonShared, None),
        Some((open, plan)) => match plan? {
            Plan::Anonymous(kind) => (kind, None),
            Plan::Filled(kind) if image.is_some() => (kind, None),
            Plan::Filled(kind) => (kind, Some(open)),
            Plan::SharedWritable => {
                log!("linux: mmap: a writable MAP_SHARED mapping of a file is not served: ENODEV");
                return Err(Errno::ENODEV);
            }
        },
    };
    // A mapping to be filled is writable until it is ([`fill_file_mapping`]).
    let first_prot = if fill.is_some() { PROT_RW } else { prot };
    if flags & g::MAP_FIXED != 0 && flags & g::MAP_FIXED_NOREPLACE == 0 {
        let removed = mem.space.insert_fixed(start, len, first_prot, kind)?;
        kernel_unmap(linux, &mut mem, &removed);
    } else {
        mem.space.insert(start, len, first_prot, kind)?;
    }
    let mapped = match &image {
        Some(image) if matches!(kind, Kind::FilePrivate | Kind::FileShared) => {
            mmap_file::map_image(linux, image, start, len, offset, prot).map(|past_eof| {
                if let Some((from, to)) = past_eof {
                    mem.past_eof.add(from, to);
                }
            })
        }
        _ => kernel_map_kind(linux, start, len, first_prot, kind),
    };
    if let Err(e) = mapped {
        mem.space.remove(start, len);
        let unmapped = mem.take_unmapped_files();
        drop(mem);
        drop(unmapped);
        return Err(e);
    }
    let node = file.as_ref().and_then(|(open, _)| open.node.clone());
    if let (Kind::FilePrivate | Kind::FileShared, Some(node)) = (kind, node) {
        mem.origins.add(start, start + len, node, offset);
    }
    let unmapped = mem.take_unmapped_files();
    drop(mem);
    drop(unmapped);
    if let Some(open) = fill {
        fill_file_mapping(linux, open, start, len, offset, prot)?;
    }
    Ok(start)
}

/// Where a new mapping of `len` bytes (whole pages) goes, as Linux's `get_unmapped_area`
/// decides, without recording it: exactly at `hint` for `MAP_FIXED` and `MAP_FIXED_NOREPLACE`
/// (`EEXIST` if the latter finds anything there), else at `hint` if free, else the highest
/// free place.
fn place(mem: &Mem, hint: u64, len: u64, flags: u32) -> Result<u64, Errno> {
    if flags & (g::MAP_FIXED | g::MAP_FIXED_NOREPLACE) != 0 {
        let (start, end) = check_range(hint, len)?;
        if !program_may_use(start, end) {
            return Err(Errno::ENOMEM);
        }
        if flags & g::MAP_FIXED_NOREPLACE != 0 && !mem.space.is_free(start, end) {
            return Err(Errno::EEXIST);
        }
        return Ok(start);
    }
    let hint = if program_may_use(hint, hint.saturating_add(len)) {
        hint
    } else {
        0
    };
    mem.space
        .find_free(len, hint, MMAP_FLOOR, MMAP_CEILING)
        .ok_or(Errno::ENOMEM)
}

/// Fills the new file mapping `[start, start + len)` — recorded and mapped read-write — from
/// `file` at `offset`, then gives it `prot`. The map's lock is let go for the fill (its server
/// calls may wait: `calls/mmap_file.rs`) and taken again for the protection. On failure the
/// mapping goes again and the error is the call's.
fn fill_file_mapping(
    linux: &Linux,
    file: &OpenFile,
    start: u64,
    len: u64,
    offset: u64,
    prot: u8,
) -> Result<(), Errno> {
    let filled = mmap_file::fill(linux, file, start, len, offset);
    let mut mem = linux.mem.lock();
    let result = filled.and_then(|read| {
        if prot != PROT_RW {
            mem.space.protect(start, len, prot)?;
            memory(linux)
                .protect(start, len, kernel_prot(prot))
                .map_err(|_| Errno::ENOMEM)?;
        }
        // The pages wholly past the file's end: no access, a touch is SIGBUS.
        let past = start + page_ceil(read).unwrap_or(len).min(len);
        if past < start + len {
            memory(linux)
                .protect(past, start + len - past, NO_ACCESS)
                .map_err(|_| Errno::ENOMEM)?;
            mem.past_eof.add(past, start + len);
        }
        Ok(())
    });
    if result.is_err() {
        let removed = mem.space.remove(start, len);
        kernel_unmap(linux, &mut mem, &removed);
    }
    let unmapped = mem.take_unmapped_files();
    drop(mem);
    drop(unmapped);
    result
}

/// `munmap(addr, len)`.
pub fn munmap(linux: &Linux, args: &Args) -> SysResult {
    let (start, end) = check_range(args[0], args[1]).map_err(|_| Errno::EINVAL)?;
    if !program_may_use(start, end) {
        return Err(Errno::EINVAL);
    }
    let mut mem = linux.mem.lock();
    let removed = mem.space.remove(start, end - start);
    kernel_unmap(linux, &mut mem, &removed);
    let unmapped = mem.take_unmapped_files();
    drop(mem);
    drop(unmapped);
    Ok(0)
}

/// `mprotect(addr, len, prot)`.
pub fn mprotect(linux: &Linux, args: &Args) -> SysResult {
    let (addr, len, prot) = (args[0], args[1], args[2] as u32);
    // PROT_GROWSDOWN/UP ask to extend the change to a stack's whole mapping; the one stack is
    // mapped whole, so the bits change nothing.
    let prot = prot & !(g::PROT_GROWSDOWN | g::PROT_GROWSUP);
    if prot & !(g::PROT_READ | g::PROT_WRITE | g::PROT_EXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let prot = prot as u8;
    let mut mem = linux.mem.lock();
    let changed = mem.space.protect(addr, len, prot)?;
    for piece in &changed {
        if memory(linux)
            .protect(piece.start, piece.len(), kernel_prot(prot))
            .is_err()
        {
            return Err(Errno::ENOMEM);
        }
        // Past a file's end a page stays inaccessible whatever the protection (SIGBUS).
        for (from, to) in mem.past_eof.within(piece.start, piece.end) {
            if memory(linux).protect(from, to - from, NO_ACCESS).is_err() {
                return Err(Errno::ENOMEM);
            }
        }
    }
    Ok(0)
}

/// Advice `madvise` accepts and follows by doing nothing: hints about access patterns, paging,
/// merging, huge pages and core dumps, none of which changes what the program can observe
/// here (`MADV_FREE` lets the kernel drop the pages lazily, so keeping them is one of its
/// outcomes), and the two that restore a default (`MADV_DOFORK`, `MADV_KEEPONFORK`).
const MADV_HINTS: [u32; 18] = [
    g::MADV_NORMAL,
    g::MADV_RANDOM,
    g::MADV_SEQUENTIAL,
    g::MADV_WILLNEED,
    g::MADV_FREE,
    g::MADV_DOFORK,
    g::MADV_MERGEABLE,
    g::MADV_UNMERGEABLE,
    g::MADV_HUGEPAGE,
    g::MADV_NOHUGEPAGE,
    g::MADV_DONTDUMP,
    g::MADV_DODUMP,
    g::MADV_KEEPONFORK,
    g::MADV_COLD,
    g::MADV_PAGEOUT,
    g::MADV_POPULATE_READ,
    g::MADV_POPULATE_WRITE,
    g::MADV_COLLAPSE,
];

/// `madvise(addr, len, advice)`: `MADV_DONTNEED` (and `MADV_DONTNEED_LOCKED`: nothing is
/// locked) drops the process's own copies of the pages (`Memory::discard`), as Linux does:
/// private anonymous memory reads zeros afterwards, a private mapping of a file (or of the
/// program's file) its file's bytes again, and a shared object keeps its pages; the advice of
/// [`MADV_HINTS`] is accepted and changes nothing. Any other advice is `EINVAL`, checked first
/// as Linux's `madvise_behavior_valid` is: advice Linux 6.1 does not know, and advice whose
/// effect the personality does not have (`MADV_REMOVE`, `MADV_DONTFORK`, `MADV_WIPEONFORK`,
/// `MADV_HWPOISON`, `MADV_SOFT_OFFLINE`), which a Linux built without it also refuses so.
pub fn madvise(linux: &Linux, args: &Args) -> SysResult {
    let (addr, len, advice) = (args[0], args[1], args[2] as u32);
    let discard = matches!(advice, g::MADV_DONTNEED | g::MADV_DONTNEED_LOCKED);
    if !discard && !MADV_HINTS.contains(&advice) {
        return Err(Errno::EINVAL);
    }
    if len == 0 && addr.is_multiple_of(PAGE_SIZE) {
        return Ok(0);
    }
    let (start, end) = check_range(addr, len)?;
    let mem = linux.mem.lock();
    let mut pieces: Vec<Range> = Vec::new();
    let mut cursor = start;
    while cursor < end {
        let r = mem.space.lookup(cursor).ok_or(Errno::ENOMEM)?;
        pieces.push(Range {
            start: cursor,
            end: r.end.min(end),
            ..r
        });
        cursor = r.end;
    }
    if !discard {
        return Ok(0);
    }
    for piece in pieces {
        // A shared object keeps its pages for the other processes that map it, as Linux's
        // shmem does: nothing to drop.
        if piece.kind == Kind::AnonShared {
            continue;
        }
        memory(linux)
            .discard(piece.start, piece.len())
            .map_err(|_| Errno::ENOMEM)?;
    }
    Ok(0)
}

/// Copies program memory `[from, till)` to the same offsets `shift` bytes on (a moving
/// `mremap`), through `buf` (at least as long).
fn copy_moved(mem: &Mem, from: u64, till: u64, shift: u64, buf: &mut [u8]) -> Result<(), Errno> {
    if from >= till {
        return Ok(());
    }
    let piece = &mut buf[..(till - from) as usize];
    uaccess::read_locked(mem, from, piece)?;
    uaccess::write_locked(mem, from.wrapping_add(shift), piece)
}

/// Copies a moving `mremap`'s old pages `[old, old + old_len)` to `to` (mapped read-write),
/// if their protection `prot` lets them be read: all but the pages past a file's end, which
/// have nothing to copy.
fn move_contents(mem: &Mem, old: u64, old_len: u64, to: u64, prot: u8) -> Result<(), Errno> {
    if prot & PROT_READ == 0 {
        return Ok(());
    }
    let past_eof = mem.past_eof.within(old, old + old_len);
    let mut done = 0;
    while done < old_len {
        let n = (old_len - done).min(MOVE_CHUNK);
        let (from, till) = (old + done, old + done + n);
        let mut buf = alloc::vec![0u8; n as usize];
        let mut at = from;
        for (s, e) in past_eof.iter().map(|&(s, e)| (s.max(from), e.min(till))) {
            if s >= e {
                continue;
            }
            copy_moved(mem, at, s, to.wrapping_sub(old), &mut buf)?;
            at = e;
        }
        copy_moved(mem, at, till, to.wrapping_sub(old), &mut buf)?;
        done += n;
    }
    Ok(())
}

/// The kernel protection of pages past a file's end: none.
const NO_ACCESS: u8 = 0;

/// Bytes copied at once when `mremap` moves a mapping.
const MOVE_CHUNK: u64 = 64 * 1024;

/// `mremap(old, old_len, new_len, flags, new_addr)`: shrinking, growing in place, and moving
/// with `MREMAP_MAYMOVE` (the contents copied; `MREMAP_FIXED` and `MREMAP_DONTUNMAP` not yet).
/// A file mapping that grows maps the file's bytes that follow, as Linux's does
/// ([`FileGrowth`]).
pub fn mremap(linux: &Linux, args: &Args) -> SysResult {
    let (old, old_len, new_len, flags) = (args[0], args[1], args[2], args[3] as u32);
    if flags & !g::MREMAP_MAYMOVE != 0 {
        return Err(Errno::EINVAL);
    }
    if !old.is_multiple_of(PAGE_SIZE) || new_len == 0 {
        return Err(Errno::EINVAL);
    }
    let old_len = page_ceil(old_len).ok_or(Errno::EINVAL)?;
    let new_len = page_ceil(new_len).ok_or(Errno::ENOMEM)?;
    for _ in 0..GROWTH_TRIES {
        // What a growing file mapping maps, asked of its file server before the lock; declared
        // before the lock, so that it is dropped (releasing the image) after it.
        let growth = (new_len > old_len)
            .then(|| FileGrowth::of(linux, old, old_len))
            .flatten();
        let mut mem = linux.mem.lock();
        let changed = match &growth {
            Some(g) => !g.still_holds(&mem),
            // Not a file mapping when looked at; one now, if another thread mapped a file here.
            None => new_len > old_len && FileGrowth::file_at(&mem, old, old_len).is_some(),
        };
        if changed {
            // The mapping changed while its file was asked: ask again.
            continue;
        }
        let result = remap_locked(
            linux,
            &mut mem,
            old,
            old_len,
            new_len,
            flags,
            growth.as_ref(),
        );
        let unmapped = mem.take_unmapped_files();
        drop(mem);
        drop(unmapped);
        return result;
    }
    // Linux's answer for a mapping it cannot expand.
    log!("linux: mremap: a file mapping kept changing under the call: ENOMEM");
    Err(Errno::ENOMEM)
}

/// How many times `mremap` asks again for a growing file mapping's image when another thread
/// changes the mapping meanwhile.
const GROWTH_TRIES: usize = 4;

/// What a file mapping that `mremap` grows maps in its new pages: the file's bytes that follow
/// its old end, from the file's image (as `mmap` maps them), and pages wholly past the file's
/// end with no access (SIGBUS). Read before the map's lock is taken (the image is a file
/// server call), and checked again under it ([`FileGrowth::still_holds`]).
struct FileGrowth {
    /// The mapping's start, as `mremap` named it.
    old: u64,
    node: Arc<Node>,
    /// The file offset of `old`.
    offset: u64,
    /// `None`: the file server gives none (an empty file), so every new page is past the end.
    image: Option<FileImage>,
}

impl FileGrowth {
    /// The growth of the file mapping at `[old, old + old_len)`, if that is one.
    fn of(linux: &Linux, old: u64, old_len: u64) -> Option<Self> {
        let (node, offset) = {
            let mem = linux.mem.lock();
            let (node, offset) = Self::file_at(&mem, old, old_len)?;
            (node.clone(), offset)
        };
        let image = FileImage::of(&node);
        Some(Self {
            old,
            node,
            offset,
            image,
        })
    }

    /// The file and offset of the file mapping at `[old, old + old_len)`, if that is one.
    fn file_at(mem: &Mem, old: u64, old_len: u64) -> Option<(&Arc<Node>, u64)> {
        let range = mem.space.covering(old, old_len)?;
        if !matches!(range.kind, Kind::FilePrivate | Kind::FileShared) {
            return None;
        }
        mem.origins.at(old)
    }

    /// Whether the map still has this file at this offset where the growth was read.
    fn still_holds(&self, mem: &Mem) -> bool {
        mem.origins
            .at(self.old)
            .is_some_and(|(node, offset)| Arc::ptr_eq(node, &self.node) && offset == self.offset)
    }

    /// Maps the new pages `[at, at + len)` — `grown` bytes past the mapping's old start's
    /// page, which the old length covered — with Linux's `prot`, and records them in `mem`.
    fn map(
        &self,
        linux: &Linux,
        mem: &mut Mem,
        at: u64,
        len: u64,
        grown: u64,
        prot: u8,
    ) -> Result<(), Errno> {
        let offset = self.offset.checked_add(grown).ok_or(Errno::EOVERFLOW)?;
        let past_eof = match &self.image {
            Some(image) => mmap_file::map_image(linux, image, at, len, offset, prot)?,
            None => {
                memory(linux)
                    .map(at, len, NO_ACCESS)
                    .map_err(|_| Errno::ENOMEM)?;
                Some((at, at + len))
            }
        };
        if let Some((from, to)) = past_eof {
            mem.past_eof.add(from, to);
        }
        mem.origins.add(at, at + len, self.node.clone(), offset);
        Ok(())
    }
}

/// `mremap`'s work under the map's lock.
fn remap_locked(
    linux: &Linux,
    mem: &mut Mem,
    old: u64,
    old_len: u64,
    new_len: u64,
    flags: u32,
    growth: Option<&FileGrowth>,
) -> SysResult {
    let range = mem.space.covering(old, old_len).ok_or(Errno::EFAULT)?;
    if new_len <= old_len {
        let removed = mem.space.remove(old + new_len, old_len - new_len);
        kernel_unmap(linux, mem, &removed);
        return Ok(old);
    }
    let grow_end = old.checked_add(new_len).ok_or(Errno::ENOMEM)?;
    if old + old_len == range.end
        && mem.space.is_free(range.end, grow_end)
        && program_may_use(old, grow_end)
    {
        let extra = grow_end - range.end;
        match growth {
            Some(g) => g.map(linux, mem, range.end, extra, old_len, range.prot)?,
            None => kernel_map_kind(linux, range.end, extra, range.prot, range.kind)?,
        }
        // One mapping, grown: a file's or a shared one is never merged with its new pages.
        mem.record(range.start, grow_end - range.start, range.prot, range.kind);
        return Ok(old);
    }
    if flags & g::MREMAP_MAYMOVE == 0 {
        return Err(Errno::ENOMEM);
    }
    let to = mem
        .space
        .find_free(new_len, 0, MMAP_FLOOR, MMAP_CEILING)
        .ok_or(Errno::ENOMEM)?;
    // A file mapping's new pages are its file's (below); the rest is fresh memory the old
    // pages are copied into.
    let copied_len = if growth.is_some() { old_len } else { new_len };
    kernel_map_kind(linux, to, copied_len, PROT_RW, range.kind)?;
    mem.record(to, copied_len, PROT_RW, range.kind);
    if let Err(e) = move_contents(mem, old, old_len, to, range.prot) {
        let removed = mem.space.remove(to, copied_len);
        kernel_unmap(linux, mem, &removed);
        return Err(e);
    }
    // Pages past a file's end moved as they were: no access at the new place (below).
    let past_eof = mem.past_eof.within(old, old + old_len);
    if let Some(g) = growth {
        // Mapped before the old pages go, so that a failure leaves the old mapping as it was.
        let mapped = g.map(
            linux,
            mem,
            to + old_len,
            new_len - old_len,
            old_len,
            range.prot,
        );
        if let Err(e) = mapped {
            let removed = mem.space.remove(to, new_len);
            kernel_unmap(linux, mem, &removed);
            return Err(e);
        }
    }
    mem.origins.moved(old, old_len, to);
    let removed = mem.space.remove(old, old_len);
    kernel_unmap(linux, mem, &removed);
    if range.prot != PROT_RW {
        memory(linux)
            .protect(to, copied_len, kernel_prot(range.prot))
            .map_err(|_| Errno::ENOMEM)?;
    }
    mem.record(to, new_len, range.prot, range.kind);
    for (s, e) in past_eof {
        let (s, e) = (s - old + to, e - old + to);
        memory(linux)
            .protect(s, e - s, NO_ACCESS)
            .map_err(|_| Errno::ENOMEM)?;
        mem.past_eof.add(s, e);
    }
    Ok(to)
}
