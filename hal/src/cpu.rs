//! Per-CPU descriptor tables: GDT, TSS (with separate, guarded stacks for double
//! fault, NMI and machine check, so those exceptions are reported even when the
//! kernel stack itself overflowed) and IDT. Built for each CPU as it starts; the
//! boot CPU goes first, and nothing here assumes it is the only one.

use alloc::boxed::Box;

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr2};
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use x86_64::structures::tss::TaskStateSegment;

use crate::paging::KernelStack;
use crate::trap::{self, Idt};

/// Code segment the PVH trampoline's GDT uses.
const BOOT_CODE_SELECTOR: u16 = 0x08;
/// IST slots (1-based as in the IDT; the TSS array is 0-based).
const IST_DOUBLE_FAULT: u8 = 1;
const IST_NMI: u8 = 2;
const IST_MACHINE_CHECK: u8 = 3;

static EARLY_IDT: Once<Idt> = Once::new();

/// Bytes of an I/O permission bitmap covering every port (one bit each).
pub(crate) const IOMAP_BYTES: usize = 65536 / 8;
/// A bitmap byte denying its eight ports (and the byte the CPU requires after the bitmap).
const IOMAP_DENY_ALL: u8 = 0xff;

/// A TSS followed by its I/O permission bitmap, as the CPU finds them.
#[repr(C)]
struct TssBlock {
    tss: TaskStateSegment,
    iomap: [u8; IOMAP_BYTES + 1],
}

/// The exception stacks one CPU needs besides its kernel stack.
pub struct TrapStacks {
    /// Stack for double faults.
    pub double_fault: KernelStack,
    /// Stack for NMIs.
    pub nmi: KernelStack,
    /// Stack for machine checks.
    pub machine_check: KernelStack,
    /// Stack every entry from user mode lands on (TSS RSP0 and the `syscall` entry): the kernel
    /// is event-driven, so each entry starts afresh at its top.
    pub entry: KernelStack,
}

/// Installs an IDT on the boot GDT so exceptions during early boot are
/// reported (without IST stacks: the TSS does not exist yet).
pub(crate) fn init_early_traps() {
    EARLY_IDT
        .call_once(|| Idt::new(BOOT_CODE_SELECTOR, &[]))
        .load();
}

/// Builds and loads this CPU's GDT, TSS and IDT.
pub fn init_cpu(stacks: &TrapStacks) {
    // SAFETY: setting CR0.WP makes read-only pages read-only for ring 0 too; the
    // kernel never writes to its own read-only mappings, so nothing it does
    // breaks, and W^X becomes enforced rather than advisory.
    unsafe { Cr0::update(|flags| flags.insert(Cr0Flags::WRITE_PROTECT)) };
    let mut tss = TaskStateSegment::new();
    let ist = [
        (IST_DOUBLE_FAULT, stacks.double_fault),
        (IST_NMI, stacks.nmi),
        (IST_MACHINE_CHECK, stacks.machine_check),
    ];
    for (slot, stack) in ist {
        tss.interrupt_stack_table[usize::from(slot - 1)] = VirtAddr::new(stack.top);
    }
    tss.privilege_stack_table[0] = VirtAddr::new(stacks.entry.top);
    // The TSS with an I/O permission bitmap right behind it (all ports denied): the kernel
    // opens the ports a process was granted while its dispatcher runs (`user::io`).
    tss.iomap_base = core::mem::size_of::<TaskStateSegment>() as u16;
    let block: *mut TssBlock = Box::into_raw(Box::new(TssBlock {
        tss,
        iomap: [IOMAP_DENY_ALL; IOMAP_BYTES + 1],
    }));
    // SAFETY: `block` was just leaked, so it lives forever; the shared references made here are
    // used only to build the descriptor, after which the bitmap is written only through
    // `iomap` (a raw pointer from the same allocation) by this CPU with interrupts off.
    let (tss, iomap, iomap_ptr) = unsafe {
        (
            &(*block).tss,
            (&(*block).iomap)[..].as_ref(),
            (&raw mut (*block).iomap).cast::<u8>(),
        )
    };
    let mut gdt = GlobalDescriptorTable::new();
    let code = gdt.append(Descriptor::kernel_code_segment());
    let data = gdt.append(Descriptor::kernel_data_segment());
    // `sysret` takes the user selectors from one base in STAR: data at base + 8, code at
    // base + 16, so user data must come directly before user code (`user::selectors`).
    let user_data = gdt.append(Descriptor::user_data_segment());
    let user_code = gdt.append(Descriptor::user_code_segment());
    let tss_sel = gdt.append(
        Descriptor::tss_segment_with_iomap(tss, iomap)
            .expect("the bitmap directly follows the TSS"),
    );
    crate::user::check_selectors(code, data, user_data, user_code);
    let gdt: &'static GlobalDescriptorTable = Box::leak(Box::new(gdt));
    gdt.load();
    // SAFETY: the selectors index the GDT just loaded, whose descriptors are a
    // flat 64-bit code segment, a flat data segment and this CPU's TSS.
    unsafe {
        CS::set_reg(code);
        SS::set_reg(data);
        DS::set_reg(data);
        ES::set_reg(data);
        load_tss(tss_sel);
    }
    let idt: &'static Idt = Box::leak(Box::new(Idt::new(
        code.0,
        &[
            (trap::DOUBLE_FAULT, IST_DOUBLE_FAULT),
            (trap::NMI, IST_NMI),
            (trap::MACHINE_CHECK, IST_MACHINE_CHECK),
        ],
    )));
    idt.load();
    crate::user::init_cpu(stacks.entry, iomap_ptr);
}

/// Whether ring 0 honours read-only pages on this CPU (CR0.WP).
pub fn write_protect_enabled() -> bool {
    Cr0::read().contains(Cr0Flags::WRITE_PROTECT)
}

/// The faulting address of the last page fault.
pub fn read_cr2() -> u64 {
    Cr2::read_raw()
}

/// Enables interrupts on this CPU.
pub fn enable_interrupts() {
    x86_64::instructions::interrupts::enable();
}

/// Waits for the next interrupt.
pub fn wait_for_interrupt() {
    x86_64::instructions::interrupts::enable_and_hlt();
}

/// The current frame pointer and stack pointer, for a backtrace of the caller.
#[inline(always)]
pub fn frame_registers() -> (u64, u64) {
    let (rsp, rbp): (u64, u64);
    // SAFETY: reads two registers; no memory is touched.
    unsafe {
        core::arch::asm!("mov {}, rsp", "mov {}, rbp", out(reg) rsp, out(reg) rbp, options(nomem, nostack, preserves_flags))
    };
    (rsp, rbp)
}

/// Disables interrupts on this CPU (the kernel runs with them off outside its idle loop).
pub fn disable_interrupts() {
    x86_64::instructions::interrupts::disable();
}
