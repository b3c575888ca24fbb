//! The kernel's page tables: built once at boot (image mapped W^X, all RAM in a
//! non-executable direct map, nothing at low addresses), then changed only in the
//! dynamic regions of `layout` — guarded kernel stacks, the heap, MMIO windows and
//! the general-purpose region the kernel maps its own frames into.
//!
//! The mapping primitives come from the `x86_64` crate; this module decides which
//! addresses a safe caller may touch, so a bug above cannot remap the kernel image
//! or the direct map.

use core::sync::atomic::{AtomicU64, Ordering};

use k42_frames::FrameAllocator as Frames;
use spin::Mutex;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::mapper::{MapToError, TranslateResult, UnmapError};
use x86_64::structures::paging::{
    FrameAllocator as X86FrameAllocator, Mapper, OffsetPageTable, Page, PageSize, PageTable,
    PageTableFlags as F, PhysFrame, Size2MiB, Size4KiB, Translate,
};
use x86_64::{PhysAddr, VirtAddr};

use crate::layout::{
    self, KERNEL_VIRT_BASE, KSTACK_BASE, KSTACK_GUARD, KSTACK_SIZE, MMIO_BASE, PAGE_SIZE,
    PHYS_OFFSET,
};

const HUGE_PAGE: u64 = 2 * 1024 * 1024;
/// PML4 slots of the kernel's (upper) half.
const UPPER_HALF_PML4: core::ops::Range<usize> = 256..512;

/// Physical address of the kernel's PML4 (0 until `init` ran).
static KERNEL_PML4: AtomicU64 = AtomicU64::new(0);
/// Serializes every change to the kernel page tables.
static LOCK: Mutex<()> = Mutex::new(());
static NEXT_STACK_SLOT: AtomicU64 = AtomicU64::new(0);
static NEXT_MMIO: AtomicU64 = AtomicU64::new(MMIO_BASE);

/// Why a mapping request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// The virtual address is outside the region the caller may change.
    NotAllowed(u64),
    /// The address is not page aligned.
    Unaligned(u64),
    /// Something is already mapped there.
    AlreadyMapped(u64),
    /// Nothing is mapped there.
    NotMapped(u64),
    /// No frame was left for a page table.
    OutOfFrames,
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotAllowed(a) => write!(f, "address {a:#x} is outside the caller's region"),
            Self::Unaligned(a) => write!(f, "address {a:#x} is not page aligned"),
            Self::AlreadyMapped(a) => write!(f, "address {a:#x} is already mapped"),
            Self::NotMapped(a) => write!(f, "address {a:#x} is not mapped"),
            Self::OutOfFrames => write!(f, "out of physical frames for page tables"),
        }
    }
}

/// How a page may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageFlags {
    /// Writes allowed.
    pub writable: bool,
    /// Instruction fetch allowed.
    pub executable: bool,
}

impl PageFlags {
    /// Read and write, never execute: kernel data.
    pub const DATA: Self = Self {
        writable: true,
        executable: false,
    };
    /// Read only, never execute.
    pub const READ_ONLY: Self = Self {
        writable: false,
        executable: false,
    };

    fn bits(self) -> F {
        let mut f = F::PRESENT | F::GLOBAL;
        if self.writable {
            f |= F::WRITABLE;
        }
        if !self.executable {
            f |= F::NO_EXECUTE;
        }
        f
    }
}

struct FrameSource<'a, 'b>(&'a mut Frames<'b>);

// SAFETY: `Frames::alloc` hands out each free frame once; a frame it returns is
// unused until freed, which is what the `x86_64` crate requires.
unsafe impl X86FrameAllocator<Size4KiB> for FrameSource<'_, '_> {
    fn allocate_frame(&mut self) -> Option<PhysFrame> {
        self.0
            .alloc()
            .map(|a| PhysFrame::containing_address(PhysAddr::new(a)))
    }
}

/// Physical address of the kernel's PML4.
pub(crate) fn kernel_root() -> u64 {
    KERNEL_PML4.load(Ordering::Acquire)
}

/// The mapper over the live kernel tables. Callers hold `LOCK`.
fn mapper() -> OffsetPageTable<'static> {
    let root = KERNEL_PML4.load(Ordering::Acquire);
    assert!(root != 0, "kernel page tables used before paging::init");
    // SAFETY: `root` is the PML4 `init` built; every page-table frame is reachable
    // through the direct map at PHYS_OFFSET; callers serialize on `LOCK`, so this
    // is the only live reference to the table.
    unsafe {
        OffsetPageTable::new(
            &mut *(layout::phys_to_virt(root) as *mut PageTable),
            VirtAddr::new(PHYS_OFFSET),
        )
    }
}

/// Maps one page of size `S` (4 KiB, or 2 MiB for the direct map; the mapper
/// sets the huge-page bit itself).
fn map<S: PageSize>(
    m: &mut OffsetPageTable<'_>,
    virt: u64,
    phys: u64,
    flags: F,
    frames: &mut Frames<'_>,
) -> Result<(), MapError>
where
    for<'a> OffsetPageTable<'a>: Mapper<S>,
{
    let page = Page::<S>::containing_address(VirtAddr::new(virt));
    let frame = PhysFrame::<S>::containing_address(PhysAddr::new(phys));
    // SAFETY: callers pass a virtual address in a region this module owns and a
    // frame that backs nothing else at that address; the flush makes the new
    // entry visible on this CPU (other CPUs never cached a not-present entry).
    let result = unsafe { m.map_to(page, frame, flags, &mut FrameSource(frames)) };
    match result {
        Ok(flush) => {
            flush.flush();
            Ok(())
        }
        Err(MapToError::FrameAllocationFailed) => Err(MapError::OutOfFrames),
        Err(_) => Err(MapError::AlreadyMapped(virt)),
    }
}

/// A kernel image section and how to map it.
pub(crate) struct Section {
    pub start: u64,
    pub end: u64,
    pub flags: PageFlags,
}

/// Builds the kernel's own tables and switches to them. `direct` lists physical
/// ranges (sorted, non-overlapping, page aligned) to place in the direct map.
pub(crate) fn init(
    frames: &mut Frames<'_>,
    sections: &[Section],
    direct: &[(u64, u64)],
) -> Result<(), MapError> {
    let root = frames.alloc().ok_or(MapError::OutOfFrames)?;
    crate::phys::zero_frame(root);
    KERNEL_PML4.store(root, Ordering::Release);
    let _guard = LOCK.lock();
    let mut m = mapper();
    for s in sections {
        for virt in (s.start..s.end).step_by(PAGE_SIZE as usize) {
            map::<Size4KiB>(
                &mut m,
                virt,
                virt - KERNEL_VIRT_BASE,
                s.flags.bits(),
                frames,
            )?;
        }
    }
    for &(start, end) in direct {
        let mut p = start;
        while p < end {
            if p % HUGE_PAGE == 0 && end - p >= HUGE_PAGE {
                map::<Size2MiB>(
                    &mut m,
                    layout::phys_to_virt(p),
                    p,
                    PageFlags::DATA.bits(),
                    frames,
                )?;
                p += HUGE_PAGE;
            } else {
                map::<Size4KiB>(
                    &mut m,
                    layout::phys_to_virt(p),
                    p,
                    PageFlags::DATA.bits(),
                    frames,
                )?;
                p += PAGE_SIZE;
            }
        }
    }
    // Every upper-half PML4 entry exists from now on, so user spaces, which copy these
    // entries once when they are made, see every kernel mapping made later too.
    for slot in UPPER_HALF_PML4 {
        let entry = &mut m.level_4_table_mut()[slot];
        if entry.is_unused() {
            let pdpt = frames.alloc().ok_or(MapError::OutOfFrames)?;
            crate::phys::zero_frame(pdpt);
            entry.set_addr(PhysAddr::new(pdpt), F::PRESENT | F::WRITABLE);
        }
    }
    // SAFETY: the new tables map the running code (text), its stack and data (the
    // image's data segment) and the direct map at the same virtual addresses as
    // the boot tables, so execution continues unchanged after the switch.
    unsafe {
        Cr3::write(
            PhysFrame::containing_address(PhysAddr::new(root)),
            Cr3Flags::empty(),
        )
    };
    Ok(())
}

/// Flushes this CPU's TLB of every non-global entry (the user half): a shootdown's work.
pub fn flush_user_tlb() {
    x86_64::instructions::tlb::flush_all();
}

/// Loads the kernel's own tables (no user half) on this CPU, so a user space can be destroyed.
pub fn activate_kernel() {
    let root = kernel_root();
    if Cr3::read().0.start_address().as_u64() == root {
        return;
    }
    // SAFETY: the kernel tables map the kernel exactly as every user space's upper half does.
    unsafe {
        Cr3::write(
            PhysFrame::containing_address(PhysAddr::new(root)),
            Cr3Flags::empty(),
        )
    };
}

/// Maps the frame at `phys` at `virt` in the general-purpose region
/// (`layout::VMALLOC_BASE..VMALLOC_END`).
pub fn map_page(
    virt: u64,
    phys: u64,
    flags: PageFlags,
    frames: &mut Frames<'_>,
) -> Result<(), MapError> {
    check_vmalloc(virt)?;
    if !phys.is_multiple_of(PAGE_SIZE) {
        return Err(MapError::Unaligned(phys));
    }
    let _guard = LOCK.lock();
    map::<Size4KiB>(&mut mapper(), virt, phys, flags.bits(), frames)
}

/// Unmaps the page at `virt` in the general-purpose region, flushes it from this
/// CPU's TLB and returns the frame that was mapped there.
pub fn unmap_page(virt: u64) -> Result<u64, MapError> {
    check_vmalloc(virt)?;
    let _guard = LOCK.lock();
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
    match mapper().unmap(page) {
        Ok((frame, flush)) => {
            flush.flush();
            Ok(frame.start_address().as_u64())
        }
        Err(UnmapError::PageNotMapped) => Err(MapError::NotMapped(virt)),
        Err(_) => Err(MapError::NotAllowed(virt)),
    }
}

fn check_vmalloc(virt: u64) -> Result<(), MapError> {
    if !layout::in_vmalloc(virt) {
        return Err(MapError::NotAllowed(virt));
    }
    if !virt.is_multiple_of(PAGE_SIZE) {
        return Err(MapError::Unaligned(virt));
    }
    Ok(())
}

/// The physical address `virt` maps to in the kernel tables, if any.
pub fn translate(virt: u64) -> Option<u64> {
    let virt = VirtAddr::try_new(virt).ok()?;
    let _guard = LOCK.lock();
    match mapper().translate(virt) {
        TranslateResult::Mapped { frame, offset, .. } => {
            Some(frame.start_address().as_u64() + offset)
        }
        _ => None,
    }
}

/// How the page holding `virt` is mapped in the kernel tables, if it is.
pub fn flags(virt: u64) -> Option<PageFlags> {
    let virt = VirtAddr::try_new(virt).ok()?;
    let _guard = LOCK.lock();
    match mapper().translate(virt) {
        TranslateResult::Mapped { flags, .. } => Some(PageFlags {
            writable: flags.contains(F::WRITABLE),
            executable: !flags.contains(F::NO_EXECUTE),
        }),
        _ => None,
    }
}

/// Volatile 64-bit write to a page the caller mapped with `map_page`.
pub fn write_u64(virt: u64, value: u64) -> Result<(), MapError> {
    check_mapped_vmalloc(virt)?;
    // SAFETY: `virt` is 8-byte aligned, in the general-purpose region (where the
    // kernel holds no Rust references) and currently mapped.
    unsafe { core::ptr::write_volatile(virt as *mut u64, value) };
    Ok(())
}

/// Volatile 64-bit read from a page the caller mapped with `map_page`.
pub fn read_u64(virt: u64) -> Result<u64, MapError> {
    check_mapped_vmalloc(virt)?;
    // SAFETY: as in `write_u64`.
    Ok(unsafe { core::ptr::read_volatile(virt as *const u64) })
}

fn check_mapped_vmalloc(virt: u64) -> Result<(), MapError> {
    let page = virt & !(PAGE_SIZE - 1);
    check_vmalloc(page)?;
    if !virt.is_multiple_of(8) {
        return Err(MapError::Unaligned(virt));
    }
    translate(virt).map(|_| ()).ok_or(MapError::NotMapped(virt))
}

/// A kernel stack: `[bottom, top)` is mapped; the page below `bottom` never is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelStack {
    /// Lowest mapped address.
    pub bottom: u64,
    /// One past the highest mapped address (the initial stack pointer).
    pub top: u64,
}

impl KernelStack {
    /// Whether `addr` lies inside the mapped stack.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.bottom && addr < self.top
    }

    /// The stack whose slot (stack or guard page) contains `addr`, if `addr` is in
    /// the stack region.
    pub fn slot_of(addr: u64) -> Option<Self> {
        let slot_size = KSTACK_SIZE + KSTACK_GUARD;
        let used = NEXT_STACK_SLOT.load(Ordering::Acquire);
        let index = addr.checked_sub(KSTACK_BASE)? / slot_size;
        (index < used).then(|| Self::for_slot(index))
    }

    /// Whether `addr` is the guard page of an allocated stack.
    pub fn is_guard_page(addr: u64) -> bool {
        Self::slot_of(addr).is_some_and(|s| addr < s.bottom && addr >= s.bottom - KSTACK_GUARD)
    }

    fn for_slot(index: u64) -> Self {
        let bottom = KSTACK_BASE + index * (KSTACK_SIZE + KSTACK_GUARD) + KSTACK_GUARD;
        Self {
            bottom,
            top: bottom + KSTACK_SIZE,
        }
    }
}

/// Maps a new kernel stack with an unmapped guard page below it.
pub fn alloc_kernel_stack(frames: &mut Frames<'_>) -> Result<KernelStack, MapError> {
    let stack = KernelStack::for_slot(NEXT_STACK_SLOT.fetch_add(1, Ordering::AcqRel));
    let _guard = LOCK.lock();
    let mut m = mapper();
    for virt in (stack.bottom..stack.top).step_by(PAGE_SIZE as usize) {
        let frame = frames.alloc().ok_or(MapError::OutOfFrames)?;
        map::<Size4KiB>(&mut m, virt, frame, PageFlags::DATA.bits(), frames)?;
    }
    Ok(stack)
}

/// Maps `pages` fresh frames at `base` (heap growth). Crate-internal: the heap
/// region is not open to safe callers.
pub(crate) fn map_fresh(base: u64, pages: u64, frames: &mut Frames<'_>) -> Result<(), MapError> {
    let _guard = LOCK.lock();
    let mut m = mapper();
    for i in 0..pages {
        let frame = frames.alloc().ok_or(MapError::OutOfFrames)?;
        map::<Size4KiB>(
            &mut m,
            base + i * PAGE_SIZE,
            frame,
            PageFlags::DATA.bits(),
            frames,
        )?;
    }
    Ok(())
}

/// Maps a device's registers uncached in the MMIO region and returns the virtual
/// address of `phys` (which need not be page aligned).
pub(crate) fn map_mmio(phys: u64, len: u64, frames: &mut Frames<'_>) -> Result<u64, MapError> {
    let first = phys & !(PAGE_SIZE - 1);
    let pages = (phys + len - first).div_ceil(PAGE_SIZE);
    let base = NEXT_MMIO.fetch_add(pages * PAGE_SIZE, Ordering::AcqRel);
    let flags = PageFlags::DATA.bits() | F::NO_CACHE | F::WRITE_THROUGH;
    let _guard = LOCK.lock();
    let mut m = mapper();
    for i in 0..pages {
        map::<Size4KiB>(
            &mut m,
            base + i * PAGE_SIZE,
            first + i * PAGE_SIZE,
            flags,
            frames,
        )?;
    }
    Ok(base + (phys - first))
}
