//! From the boot loader's entry to the kernel's main function.
//!
//! `pvh.S` enters long mode on throw-away tables and calls `hal_boot_entry`, which
//! copies what the loader handed over (memory map, command line, initramfs
//! location, ACPI RSDP) out of PVH's `hvm_start_info` or GRUB's multiboot2
//! information, builds the frame
//! allocator, the kernel page tables (W^X image, direct map), the heap, guarded
//! stacks and this CPU's tables, starts the tick, and finally calls the kernel's
//! `entry!` function on a guarded stack.

mod handover;
mod multiboot2;
mod pvh;

use k42_frames::FrameAllocator as Frames;
use spin::{Mutex, Once};

use crate::layout::{self, KERNEL_VIRT_BASE, PAGE_SIZE};
use crate::paging::{KernelStack, PageFlags, Section};
pub use handover::{MemKind, MemRegion};

core::arch::global_asm!(include_str!("pvh.S"));

unsafe extern "C" {
    static __kernel_start: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __data_end: u8;
    static __kernel_end: u8;
    static boot_stack_top: u8;
}

unsafe extern "Rust" {
    fn __k42_kernel_main(info: BootInfo) -> !;
}

/// Boot protocols, as pvh.S passes them (BOOT_PROTOCOL_*).
const BOOT_PROTOCOL_PVH: u32 = 0;
const BOOT_PROTOCOL_MULTIBOOT2: u32 = 1;

/// Size of the boot stack in pvh.S.
const BOOT_STACK_SIZE: u64 = 65536;
/// Physical memory below this is left to firmware (real-mode IVT, BIOS data).
const LOW_MEMORY_END: u64 = 0x10_0000;
/// Start of the image's boot section (BOOT_PHYS in linker.ld).
const IMAGE_PHYS_START: u64 = 0x10_0000;
/// The boot tables' direct map covers this much; early allocations stay below.
const BOOT_MAPPED_LIMIT: u64 = 4 << 30;
/// Heap size: a base for the kernel's own needs plus room for the initramfs
/// tree, which copies file contents out of the archive.
const HEAP_BASE_BYTES: u64 = 16 << 20;
const HEAP_PER_INITRD_BYTE: u64 = 3;

/// Everything the kernel gets from the boot path.
pub struct BootInfo {
    /// The firmware's memory map, sorted by address.
    pub memory_map: &'static [MemRegion],
    /// The kernel command line (`-append`), empty if none.
    pub cmdline: &'static str,
    /// The initramfs (`-initrd`) as loaded, empty if none.
    pub initrd: &'static [u8],
    /// Physical range of the initramfs.
    pub initrd_phys: (u64, u64),
    /// Physical range of the kernel image.
    pub kernel_phys: (u64, u64),
    /// Physical address of the ACPI RSDP, if the loader gave one.
    pub rsdp: Option<u64>,
    /// The frame allocator, with the image, initramfs, low memory and its own
    /// bitmap reserved.
    pub frames: Frames<'static>,
    /// The stack the kernel's main function runs on.
    pub kernel_stack: KernelStack,
    /// The exception stacks of the boot CPU.
    pub trap_stacks: crate::cpu::TrapStacks,
    /// Timer calibration, or why the timer could not start.
    pub timer: Result<crate::apic::TimerInfo, crate::apic::ApicError>,
    /// Microseconds from kernel entry to the kernel's main function.
    pub boot_us: u64,
}

static BOOT_INFO: Mutex<Option<BootInfo>> = Mutex::new(None);
static BOOT_STACK: Once<KernelStack> = Once::new();

fn addr_of(sym: &u8) -> u64 {
    sym as *const u8 as u64
}

/// The stack `pvh.S` started on, for backtraces taken while still on it.
pub(crate) fn boot_stack() -> Option<KernelStack> {
    BOOT_STACK.get().copied()
}

/// Stops with a message when boot cannot go on; the exception handler is not
/// there yet, so the log port is written directly.
fn boot_failure(what: &str, why: &dyn core::fmt::Display) -> ! {
    use core::fmt::Write;
    crate::serial::with_log_forced(|log| {
        let _ = writeln!(log, "\n!!! K42 boot failed: {what}: {why}");
    });
    crate::exit::qemu_exit(k42_abi::runner::DEBUG_EXIT_KERNEL_FAILURE)
}

#[unsafe(no_mangle)]
extern "C" fn hal_boot_entry(loader_info_paddr: u32, protocol: u32) -> ! {
    crate::time::mark_boot();
    crate::serial::init();
    crate::cpu::init_early_traps();
    // SAFETY: the symbols are defined by the linker script and pvh.S.
    let (text, rodata, data, image_end, stack_top) = unsafe {
        (
            (addr_of(&__text_start), addr_of(&__text_end)),
            (addr_of(&__rodata_start), addr_of(&__rodata_end)),
            (addr_of(&__data_start), addr_of(&__data_end)),
            addr_of(&__kernel_end),
            addr_of(&boot_stack_top),
        )
    };
    BOOT_STACK.call_once(|| KernelStack {
        bottom: stack_top - BOOT_STACK_SIZE,
        top: stack_top,
    });
    let paddr = u64::from(loader_info_paddr);
    let info = match protocol {
        BOOT_PROTOCOL_PVH => {
            pvh::read(paddr).unwrap_or_else(|e| boot_failure("reading the PVH start info", &e))
        }
        BOOT_PROTOCOL_MULTIBOOT2 => multiboot2::read(paddr)
            .unwrap_or_else(|e| boot_failure("reading the multiboot2 information", &e)),
        other => boot_failure("entered by an unknown boot protocol", &other),
    };
    let kernel_phys = (IMAGE_PHYS_START, image_end - KERNEL_VIRT_BASE);

    let mut frames =
        build_frame_allocator(info.memory_map, kernel_phys, info.initrd_phys, info.keep)
            .unwrap_or_else(|e| boot_failure("building the frame allocator", &e));
    let sections = [
        Section {
            start: text.0,
            end: text.1,
            flags: PageFlags {
                writable: false,
                executable: true,
            },
        },
        Section {
            start: rodata.0,
            end: rodata.1,
            flags: PageFlags::READ_ONLY,
        },
        Section {
            start: data.0,
            end: data.1,
            flags: PageFlags::DATA,
        },
    ];
    let mut direct = [(0u64, 0u64); handover::MAX_REGIONS + 1];
    let direct_len = direct_map_ranges(info.memory_map, &mut direct);
    crate::paging::init(&mut frames, &sections, &direct[..direct_len])
        .unwrap_or_else(|e| boot_failure("building the kernel page tables", &e));

    let initrd_len = info.initrd_phys.1 - info.initrd_phys.0;
    crate::heap::init(
        HEAP_BASE_BYTES + HEAP_PER_INITRD_BYTE * initrd_len,
        &mut frames,
    )
    .unwrap_or_else(|e| boot_failure("mapping the kernel heap", &e));
    let mut stack = || {
        crate::paging::alloc_kernel_stack(&mut frames)
            .unwrap_or_else(|e| boot_failure("mapping a kernel stack", &e))
    };
    let kernel_stack = stack();
    let trap_stacks = crate::cpu::TrapStacks {
        double_fault: stack(),
        nmi: stack(),
        machine_check: stack(),
        entry: stack(),
    };
    crate::cpu::init_cpu(&trap_stacks);
    let timer = crate::apic::init(&mut frames);

    // SAFETY: the initramfs range was reserved in the frame allocator, lies in
    // the direct map (it is usable RAM) and nothing writes it after boot.
    let initrd = unsafe { crate::phys::static_bytes(info.initrd_phys.0, initrd_len as usize) };
    *BOOT_INFO.lock() = Some(BootInfo {
        memory_map: info.memory_map,
        cmdline: info.cmdline,
        initrd,
        initrd_phys: info.initrd_phys,
        kernel_phys,
        rsdp: info.rsdp,
        frames,
        kernel_stack,
        trap_stacks,
        timer,
        boot_us: 0,
    });
    // SAFETY: `kernel_stack` is freshly mapped and unused; `continue_on_stack`
    // never returns, so nothing on the boot stack is needed again.
    unsafe {
        core::arch::asm!(
            "mov rsp, {top}",
            "xor ebp, ebp",
            "call {next}",
            "ud2",
            top = in(reg) kernel_stack.top,
            next = sym continue_on_stack,
            options(noreturn)
        )
    }
}

extern "C" fn continue_on_stack() -> ! {
    let mut info = BOOT_INFO
        .lock()
        .take()
        .expect("boot info stored before the stack switch");
    info.boot_us = crate::time::uptime_us();
    // SAFETY: `__k42_kernel_main` is defined by the kernel crate's `entry!`.
    unsafe { __k42_kernel_main(info) }
}

/// The physical span the frame allocator manages, its bitmap storage and the
/// ranges it must never hand out.
fn build_frame_allocator(
    map: &[MemRegion],
    kernel: (u64, u64),
    initrd: (u64, u64),
    keep: (u64, u64),
) -> Result<Frames<'static>, &'static str> {
    let usable = || {
        map.iter()
            .filter(|r| r.kind == MemKind::Usable)
            .map(|r| (r.start, r.end))
    };
    let (base, end) = k42_frames::span_of(usable()).ok_or("no usable memory in the memory map")?;
    let base = base & !(PAGE_SIZE - 1);
    let frame_count = ((end - base) / PAGE_SIZE) as usize;
    let words = Frames::words_needed(frame_count);
    let bytes = (words as u64 * 8).next_multiple_of(PAGE_SIZE);
    let overlaps = |a: (u64, u64), b: (u64, u64)| a.0 < b.1 && b.0 < a.1;
    let storage = usable()
        .filter_map(|(s, e)| {
            let s = s
                .max(LOW_MEMORY_END)
                .max(kernel.1)
                .next_multiple_of(PAGE_SIZE);
            let s = if overlaps((s, s + bytes), initrd) {
                initrd.1.next_multiple_of(PAGE_SIZE)
            } else {
                s
            };
            (s + bytes <= e && s + bytes <= BOOT_MAPPED_LIMIT).then_some(s)
        })
        .next()
        .ok_or("no room below 4 GiB for the frame bitmap")?;
    // SAFETY: [storage, storage + bytes) is usable RAM outside the image and the
    // initramfs, inside the boot direct map, and reserved in the allocator below
    // so it is never handed out; this is its only reference, for the kernel's life.
    let bitmap = unsafe {
        let p = layout::phys_to_virt(storage) as *mut u64;
        core::ptr::write_bytes(p, 0, words);
        core::slice::from_raw_parts_mut(p, words)
    };
    let mut frames =
        Frames::new(bitmap, base, frame_count).map_err(|_| "frame bitmap too small")?;
    usable().for_each(|(s, e)| frames.add_usable(s, e));
    frames.reserve(0, LOW_MEMORY_END);
    frames.reserve(kernel.0, kernel.1);
    frames.reserve(initrd.0, initrd.1);
    frames.reserve(keep.0, keep.1);
    frames.reserve(storage, storage + bytes);
    Ok(frames)
}

/// The physical ranges for the direct map: low memory and every RAM or ACPI
/// region, page aligned and merged. Returns how many were written.
fn direct_map_ranges(map: &[MemRegion], out: &mut [(u64, u64)]) -> usize {
    let mut n = 0;
    let wanted = core::iter::once((0, LOW_MEMORY_END)).chain(
        map.iter()
            .filter(|r| {
                matches!(
                    r.kind,
                    MemKind::Usable | MemKind::AcpiReclaimable | MemKind::AcpiNvs
                )
            })
            .map(|r| {
                (
                    r.start & !(PAGE_SIZE - 1),
                    r.end.next_multiple_of(PAGE_SIZE),
                )
            }),
    );
    for (s, e) in wanted {
        if n > 0 && s <= out[n - 1].1 {
            out[n - 1].1 = out[n - 1].1.max(e);
        } else if n < out.len() {
            out[n] = (s, e);
            n += 1;
        }
    }
    n
}
