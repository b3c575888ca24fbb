//! User address spaces (the HAT's hardware half) and the frames mapped into them.
//!
//! An [`AddressSpace`] is a PML4 whose upper half is the kernel's (the same PDPT entries, shared
//! by every space — `paging::init` creates every upper-half PML4 entry up front so later kernel
//! mappings appear everywhere) and whose lower half holds one process's user mappings, changed
//! only through this module's checked calls. The kernel's memory objects decide what is mapped;
//! the page tables are a cache of that (DESIGN §2.5), so tearing a space down frees only its
//! page-table frames, never the frames it mapped.
//!
//! A [`SpaceRoot`] names a space's PML4 for loading it, without the space: what a dispatcher
//! keeps, so a switch to it loads CR3 with no lock taken and nothing looked up. Loading one is
//! always safe for the kernel because every PML4 this module makes stays a PML4 for the rest of
//! the run: a destroyed space's PML4 has its user half emptied before its tables are freed and
//! goes to a pool the next space takes it from ([`RETIRED_ROOTS`]), never back to the frame
//! allocator. That a root is its dispatcher's process's is the kernel's to keep true (it takes
//! the root when it makes the dispatcher, and a dispatcher goes before its space).
//!
//! A [`PageFrame`] is a frame the kernel owns and may read and write through the direct map; it
//! is the only kind of frame the kernel can put into a user space. The kernel must unmap a frame
//! from every space before freeing it (the memory objects' job); this module cannot see that.

use alloc::vec::Vec;
use core::sync::atomic::AtomicU64;

use spin::Mutex;

use k42_frames::FrameAllocator as Frames;
use x86_64::PhysAddr;
use x86_64::structures::paging::{PageTable, PageTableFlags as F};

use super::USER_TOP;
use crate::layout::{self, PAGE_SIZE};
use crate::paging::MapError;

/// The bits of CR3 that hold the PML4's physical address.
const CR3_ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Physical address of the PML4 loaded on this CPU. Read raw: a space switch asks twice per
/// PPC, and `Cr3::read` checks and converts what it reads.
#[inline]
fn loaded_root() -> u64 {
    let cr3: u64;
    // SAFETY: reading CR3 in ring 0 has no side effects.
    unsafe { core::arch::asm!("mov {}, cr3", out(reg) cr3, options(nostack, preserves_flags)) };
    cr3 & CR3_ADDRESS_MASK
}

/// PML4s of destroyed spaces, their user halves empty, for the next spaces made (module
/// comment: a PML4 is never freed, so a [`SpaceRoot`] always names one).
static RETIRED_ROOTS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// A space's PML4, to load on a CPU (module comment). Made only by [`AddressSpace::root`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaceRoot(u64);

impl SpaceRoot {
    /// Whether this is the PML4 loaded on this CPU.
    #[inline]
    pub fn is_active(self) -> bool {
        loaded_root() == self.0
    }

    /// Loads this PML4 on this CPU (which flushes its non-global TLB entries); `false` if it
    /// was loaded already (nothing done).
    #[inline]
    pub fn activate(self) -> bool {
        if self.is_active() {
            return false;
        }
        // SAFETY: `self.0` is a PML4 this module made and never frees (module comment), whose
        // upper half is the kernel's own, so the kernel keeps running unchanged; no PCID or
        // cache-control flag is set (as `Cr3::write` with empty flags would).
        unsafe {
            core::arch::asm!("mov cr3, {}", in(reg) self.0, options(nostack, preserves_flags))
        };
        true
    }
}

/// PML4 entries of the lower (user) half.
const USER_PML4_ENTRIES: usize = 256;
/// Entries in one page table.
const ENTRIES: usize = 512;
/// Bits of a virtual address each level's index is shifted by, from the PML4 down.
const LEVEL_SHIFTS: [u32; 4] = [39, 30, 21, 12];
/// Mask of one 9-bit table index.
const INDEX_MASK: u64 = 0x1ff;
/// User address space one last-level table maps (2 MiB).
const TABLE_SPAN: u64 = PAGE_SIZE * ENTRIES as u64;

/// A frame the kernel owns: zeroed when allocated, read and written through the direct map,
/// mappable into user spaces. Not `Clone`: one owner frees it.
#[derive(Debug)]
pub struct PageFrame {
    paddr: u64,
}

impl PageFrame {
    /// A fresh zeroed frame, or `None` when memory is exhausted.
    pub fn alloc(frames: &mut Frames<'_>) -> Option<Self> {
        let paddr = frames.alloc()?;
        crate::phys::zero_frame(paddr);
        Some(Self { paddr })
    }

    /// Zeroes the whole frame (before it is handed out again).
    pub fn zero(&self) {
        crate::phys::zero_frame(self.paddr);
    }

    /// Its physical address.
    pub fn paddr(&self) -> u64 {
        self.paddr
    }

    #[inline]
    fn ptr(&self, offset: usize, len: usize) -> *mut u8 {
        let end = offset.checked_add(len);
        assert!(
            end.is_some_and(|e| e as u64 <= PAGE_SIZE),
            "page frame access {offset:#x}+{len:#x} outside the page"
        );
        (layout::phys_to_virt(self.paddr) + offset as u64) as *mut u8
    }

    /// Copies `bytes` into the frame at `offset` (panics past the end: a kernel bug).
    pub fn write(&self, offset: usize, bytes: &[u8]) {
        let dst = self.ptr(offset, bytes.len());
        // SAFETY: `dst..dst+len` lies in this owned frame's direct-map window (checked by
        // `ptr`); no Rust reference to frame memory exists (user code may write it concurrently,
        // which only changes which bytes the kernel sees).
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len()) };
    }

    /// Copies from the frame at `offset` into `buf` (panics past the end: a kernel bug).
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        let src = self.ptr(offset, buf.len());
        // SAFETY: as in `write`.
        unsafe { core::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len()) };
    }

    /// Copies all of `other` into this frame (a copy-on-write copy).
    pub fn copy_from(&self, other: &PageFrame) {
        let (dst, src) = (
            self.ptr(0, PAGE_SIZE as usize),
            other.ptr(0, PAGE_SIZE as usize),
        );
        // SAFETY: two distinct owned frames (distinct owners, so distinct addresses), whole pages.
        unsafe { core::ptr::copy_nonoverlapping(src, dst, PAGE_SIZE as usize) };
    }

    /// Copies `len` bytes at `offset` of `other` to the same offset of this frame (panics past
    /// the end: a kernel bug). A PPC's data goes from one dispatcher page to another so.
    pub fn copy_range_from(&self, other: &PageFrame, offset: usize, len: usize) {
        let (dst, src) = (self.ptr(offset, len), other.ptr(offset, len));
        // SAFETY: both ranges lie in owned frames' direct-map windows (checked by `ptr`); no Rust
        // reference to frame memory exists (user code may write it concurrently, which only
        // changes which bytes are copied); `copy` allows the ranges to overlap (the same frame).
        unsafe { core::ptr::copy(src, dst, len) };
    }

    /// The 8-byte word at `offset` (8-aligned) as an atomic, for fields shared with user code
    /// (a dispatcher's disabled flag and soft-interrupt bits).
    #[inline]
    pub fn atomic(&self, offset: usize) -> &AtomicU64 {
        assert!(
            offset.is_multiple_of(8),
            "unaligned atomic word at {offset:#x}"
        );
        let ptr = self.ptr(offset, 8) as *mut u64;
        // SAFETY: aligned, inside the owned frame, valid for as long as `self` (the frame is
        // freed only by consuming `self`); every kernel access to shared words is atomic, and
        // user code's accesses are outside the Rust memory model.
        unsafe { AtomicU64::from_ptr(ptr) }
    }

    /// The `N` consecutive 8-byte words from `offset` (8-aligned) as atomics: one bounds check
    /// for a run of shared words (a dispatcher's save area) instead of one per word.
    #[inline]
    pub fn atomics<const N: usize>(&self, offset: usize) -> &[AtomicU64; N] {
        assert!(
            offset.is_multiple_of(8),
            "unaligned atomic words at {offset:#x}"
        );
        let ptr = self.ptr(offset, N * 8) as *const [AtomicU64; N];
        // SAFETY: as in `atomic`, for each of the `N` words: aligned, inside the owned frame
        // (checked by `ptr` for the whole run), valid for as long as `self`; `AtomicU64` has
        // the layout of `u64`, so the run is a valid `[AtomicU64; N]`.
        unsafe { &*ptr }
    }

    /// Returns the frame to the allocator. It must be mapped in no user space any more.
    pub fn free(self, frames: &mut Frames<'_>) {
        frames
            .free(self.paddr)
            .expect("a PageFrame is allocated exactly once and freed by its one owner");
    }
}

/// How a user page may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserFlags {
    /// Writes allowed.
    pub writable: bool,
    /// Instruction fetch allowed.
    pub executable: bool,
}

impl UserFlags {
    fn bits(self) -> F {
        let mut f = F::PRESENT | F::USER_ACCESSIBLE;
        if self.writable {
            f |= F::WRITABLE;
        }
        if !self.executable {
            f |= F::NO_EXECUTE;
        }
        f
    }

    fn of(entry: F) -> Self {
        Self {
            writable: entry.contains(F::WRITABLE),
            executable: !entry.contains(F::NO_EXECUTE),
        }
    }
}

/// One process's page tables: the kernel's upper half plus its own lower half.
#[derive(Debug)]
pub struct AddressSpace {
    root: u64,
    /// Every table below the root, in the order made: what `destroy` frees, without walking
    /// the tables (a table, once made, stays until the space goes).
    tables: Vec<u64>,
}

/// The entries `first..=last` of one last-level table (at `table`), which maps the 2 MiB from
/// `base`: what [`AddressSpace::next_table`] finds of a range.
struct TableRun {
    table: u64,
    base: u64,
    first: usize,
    last: usize,
}

fn table(paddr: u64) -> *mut PageTable {
    layout::phys_to_virt(paddr) as *mut PageTable
}

fn index(virt: u64, level: usize) -> usize {
    ((virt >> LEVEL_SHIFTS[level]) & INDEX_MASK) as usize
}

fn check_user_page(virt: u64) -> Result<(), MapError> {
    if virt >= USER_TOP {
        return Err(MapError::NotAllowed(virt));
    }
    if !virt.is_multiple_of(PAGE_SIZE) {
        return Err(MapError::Unaligned(virt));
    }
    Ok(())
}

impl AddressSpace {
    /// A space with no user mappings.
    pub fn new(frames: &mut Frames<'_>) -> Result<Self, MapError> {
        if let Some(root) = RETIRED_ROOTS.lock().pop() {
            // Its user half was emptied when it retired; its upper half is the kernel's.
            return Ok(Self {
                root,
                tables: Vec::new(),
            });
        }
        let root = frames.alloc().ok_or(MapError::OutOfFrames)?;
        crate::phys::zero_frame(root);
        let kernel = crate::paging::kernel_root();
        // SAFETY: both roots are page tables in the direct map; the new one is exclusively ours
        // and the kernel's upper-half entries are never changed after `paging::init`.
        unsafe {
            let (new, kernel) = (&mut *table(root), &*table(kernel));
            for i in USER_PML4_ENTRIES..ENTRIES {
                new[i] = kernel[i].clone();
            }
        }
        Ok(Self {
            root,
            tables: Vec::new(),
        })
    }

    /// Its PML4, to load ([`SpaceRoot::activate`]).
    pub fn root(&self) -> SpaceRoot {
        SpaceRoot(self.root)
    }

    /// Whether this space is the one loaded on this CPU.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.root().is_active()
    }

    /// Loads this space on this CPU (which flushes its non-global TLB entries); `false` if it
    /// was loaded already (nothing done).
    #[inline]
    pub fn activate(&self) -> bool {
        self.root().activate()
    }

    /// The leaf entry for `virt`, creating intermediate tables when `frames` is given.
    fn leaf(
        &mut self,
        virt: u64,
        frames: Option<&mut Frames<'_>>,
    ) -> Result<*mut x86_64::structures::paging::page_table::PageTableEntry, MapError> {
        let last = self.last_table_mut(virt, frames)?;
        // SAFETY: `last` is one of this space's last-level tables, in the direct map.
        Ok(unsafe { &raw mut (&mut *table(last))[index(virt, 3)] })
    }

    /// The last-level table for `virt`, creating it and the tables above it when `frames` is
    /// given.
    fn last_table_mut(
        &mut self,
        virt: u64,
        mut frames: Option<&mut Frames<'_>>,
    ) -> Result<u64, MapError> {
        let mut paddr = self.root;
        for level in 0..3 {
            // SAFETY: `paddr` is one of this space's page tables (the root, or a table an upper
            // entry points at, which only this module creates), mapped in the direct map;
            // `&mut self` makes this the only access.
            let entry = unsafe { &mut (&mut *table(paddr))[index(virt, level)] };
            if entry.is_unused() {
                let Some(frames) = frames.as_deref_mut() else {
                    return Err(MapError::NotMapped(virt));
                };
                self.tables
                    .try_reserve(1)
                    .map_err(|_| MapError::OutOfFrames)?;
                let new = frames.alloc().ok_or(MapError::OutOfFrames)?;
                crate::phys::zero_frame(new);
                self.tables.push(new);
                entry.set_addr(
                    PhysAddr::new(new),
                    F::PRESENT | F::WRITABLE | F::USER_ACCESSIBLE,
                );
            }
            paddr = entry.addr().as_u64();
        }
        Ok(paddr)
    }

    /// The next last-level table holding entries of `*at..end`, and which of its entries lie
    /// there; `*at` moves past them. The walk steps over whatever an absent upper-level entry
    /// leaves unmapped, so a sparse range costs a walk per table in use, not per page.
    fn next_table(&self, at: &mut u64, end: u64) -> Option<TableRun> {
        'walk: while *at < end {
            let mut paddr = self.root;
            for (level, &shift) in LEVEL_SHIFTS.iter().enumerate().take(3) {
                // SAFETY: as in `lookup`.
                let entry = unsafe { &(&*table(paddr))[index(*at, level)] };
                if entry.is_unused() {
                    // Nothing below this entry: on past the span it maps.
                    let span = 1u64 << shift;
                    *at = (*at - *at % span).saturating_add(span);
                    continue 'walk;
                }
                paddr = entry.addr().as_u64();
            }
            let base = *at - *at % TABLE_SPAN;
            let run_end = base.saturating_add(TABLE_SPAN).min(end);
            let run = TableRun {
                table: paddr,
                base,
                first: index(*at, 3),
                last: index(run_end - PAGE_SIZE, 3),
            };
            *at = run_end;
            return Some(run);
        }
        None
    }

    /// The user pages present in `start..end` (page aligned), in address order: one walk,
    /// stepping over whatever an absent upper-level entry leaves unmapped.
    pub fn present(&self, start: u64, end: u64) -> Vec<u64> {
        let mut pages = Vec::new();
        let mut at = start - start % PAGE_SIZE;
        while let Some(run) = self.next_table(&mut at, end.min(USER_TOP)) {
            // SAFETY: as in `lookup`, for the last-level table.
            let last_table = unsafe { &*table(run.table) };
            pages.extend(
                (run.first..=run.last)
                    .filter(|&i| !last_table[i].is_unused())
                    .map(|i| run.base + i as u64 * PAGE_SIZE),
            );
        }
        pages
    }

    /// Maps in `child` every page this space maps in `start..end`, to the same frames with
    /// the same rights — minus write, in both spaces, when `copy_on_write`: a fork's copy of
    /// page tables (Linux's `copy_page_range`), one walk per 2 MiB of address space instead of
    /// two per page. `child` must map nothing there. As for [`AddressSpace::map`], the frames' memory objects must unmap them from
    /// every space, the child's now too, before freeing them. This CPU's TLB is flushed if
    /// this space is loaded here and lost a right; other CPUs running it need a shootdown.
    pub fn share_into(
        &mut self,
        child: &mut AddressSpace,
        start: u64,
        end: u64,
        copy_on_write: bool,
        frames: &mut Frames<'_>,
    ) -> Result<(), MapError> {
        check_user_page(start)?;
        if end > USER_TOP || !end.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::NotAllowed(end));
        }
        let mut write_protected = false;
        let mut at = start;
        while let Some(run) = self.next_table(&mut at, end) {
            // SAFETY: `run.table` is one of this space's last-level tables, in the direct map;
            // `&mut self` makes this the only access to it.
            let source_table = unsafe { &mut *table(run.table) };
            let mut to = None;
            let mut i = run.first;
            while i <= run.last {
                // Most entries of a table are empty: find the next one in use first.
                let Some(used) = (i..=run.last).find(|&j| !source_table[j].is_unused()) else {
                    break;
                };
                i = used;
                let virt = run.base + i as u64 * PAGE_SIZE;
                let source = &mut source_table[i];
                let mut flags = source.flags();
                if copy_on_write && flags.contains(F::WRITABLE) {
                    flags.remove(F::WRITABLE);
                    source.set_flags(flags);
                    write_protected = true;
                }
                let to = match to {
                    Some(to) => to,
                    None => *to.insert(child.last_table_mut(virt, Some(&mut *frames))?),
                };
                // SAFETY: `to` is one of the child's last-level tables (`&mut child`: the only
                // access), not `run.table`: two spaces never share a table.
                let target = unsafe { &mut (&mut *table(to))[i] };
                if !target.is_unused() {
                    return Err(MapError::AlreadyMapped(virt));
                }
                target.set_addr(source.addr(), flags);
                i += 1;
            }
        }
        if write_protected && self.is_active() {
            x86_64::instructions::tlb::flush_all();
        }
        Ok(())
    }

    /// Maps `frame` at user address `virt`.
    pub fn map(
        &mut self,
        virt: u64,
        frame: &PageFrame,
        flags: UserFlags,
        frames: &mut Frames<'_>,
    ) -> Result<(), MapError> {
        check_user_page(virt)?;
        let entry = self.leaf(virt, Some(frames))?;
        // SAFETY: `leaf` returned an entry of this space's last-level table; `&mut self`.
        let entry = unsafe { &mut *entry };
        if !entry.is_unused() {
            return Err(MapError::AlreadyMapped(virt));
        }
        entry.set_addr(PhysAddr::new(frame.paddr()), flags.bits());
        Ok(())
    }

    /// Unmaps the page at `virt` and returns the physical address that was mapped there. Only
    /// this CPU's TLB is flushed; other CPUs running this space need a shootdown.
    pub fn unmap(&mut self, virt: u64) -> Result<u64, MapError> {
        check_user_page(virt)?;
        let entry = self.leaf(virt, None)?;
        // SAFETY: as in `map`.
        let entry = unsafe { &mut *entry };
        if entry.is_unused() {
            return Err(MapError::NotMapped(virt));
        }
        let paddr = entry.addr().as_u64();
        entry.set_unused();
        self.flush(virt);
        Ok(paddr)
    }

    /// Changes how the page at `virt` may be used (this CPU's TLB flushed, as for `unmap`).
    pub fn protect(&mut self, virt: u64, flags: UserFlags) -> Result<(), MapError> {
        check_user_page(virt)?;
        let entry = self.leaf(virt, None)?;
        // SAFETY: as in `map`.
        let entry = unsafe { &mut *entry };
        if entry.is_unused() {
            return Err(MapError::NotMapped(virt));
        }
        entry.set_flags(flags.bits());
        self.flush(virt);
        Ok(())
    }

    fn flush(&self, virt: u64) {
        if self.is_active() {
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(virt));
        }
    }

    /// The physical address and flags of the page mapped at user address `virt`, if any.
    pub fn lookup(&self, virt: u64) -> Option<(u64, UserFlags)> {
        if virt >= USER_TOP {
            return None;
        }
        let mut paddr = self.root;
        for level in 0..4 {
            // SAFETY: as in `leaf`, read-only; callers that change the space hold `&mut self`.
            let entry = unsafe { &(&*table(paddr))[index(virt, level)] };
            if entry.is_unused() {
                return None;
            }
            if level == 3 {
                return Some((entry.addr().as_u64(), UserFlags::of(entry.flags())));
            }
            paddr = entry.addr().as_u64();
        }
        None
    }

    /// Frees the space's page tables (not the frames it maps: their memory objects own them);
    /// its PML4, its user half emptied, goes to the pool the next space is made from (module
    /// comment). It must not be loaded on any CPU.
    pub fn destroy(self, frames: &mut Frames<'_>) {
        assert!(
            !self.is_active(),
            "destroying the address space this CPU runs"
        );
        // SAFETY: `root` is this space's PML4 in the direct map, ours alone now (`self` is
        // consumed); emptying its user half first means it never points at the tables freed
        // below, whoever loads it later (module comment).
        let pml4 = unsafe { &mut *table(self.root) };
        for entry in pml4.iter_mut().take(USER_PML4_ENTRIES) {
            entry.set_unused();
        }
        for paddr in self.tables {
            frames
                .free(paddr)
                .expect("page-table frames of a space are freed once, when it is destroyed");
        }
        RETIRED_ROOTS.lock().push(self.root);
    }
}
