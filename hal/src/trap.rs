//! Traps: the IDT, the assembly entry stubs (`trap.S`) and the dispatch of a
//! trap to the handler the kernel registered. The kernel decides what a trap
//! means (report and die, count a tick); this module only gets it there with
//! the registers saved.

use core::sync::atomic::{AtomicUsize, Ordering};

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;

core::arch::global_asm!(include_str!("trap.S"));

/// Exception vectors the CPU defines.
pub const EXCEPTION_COUNT: u8 = 32;
/// Vector of the local APIC timer.
pub const TIMER_VECTOR: u8 = 32;
/// Vector of the kernel's wake-up IPI (work queued for this CPU by another).
pub const WAKE_VECTOR: u8 = 33;
/// Vector the local APIC uses for spurious interrupts.
pub const SPURIOUS_VECTOR: u8 = 255;
/// Double fault.
pub const DOUBLE_FAULT: u8 = 8;
/// Non-maskable interrupt.
pub const NMI: u8 = 2;
/// Machine check.
pub const MACHINE_CHECK: u8 = 18;
/// Page fault.
pub const PAGE_FAULT: u8 = 14;

/// Vectors with a stub, in the order of `trap_stub_table`.
const STUB_VECTORS: [u8; 35] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    26, 27, 28, 29, 30, 31, 32, 33, 255,
];

unsafe extern "C" {
    static trap_stub_table: [u64; 35];
}

/// Registers saved at a trap, in the order the entry stub pushed them.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Handles a CPU exception in the kernel. It never returns: the kernel cannot yet
/// recover from any exception of its own.
pub type ExceptionHandler = fn(&TrapFrame) -> !;
/// Handles a device interrupt; the end-of-interrupt is sent after it returns.
pub type InterruptHandler = fn(&TrapFrame);

static EXCEPTION_HANDLER: Once<ExceptionHandler> = Once::new();
static TIMER_HANDLER: Once<InterruptHandler> = Once::new();
static WAKE_HANDLER: Once<InterruptHandler> = Once::new();
static SPURIOUS: AtomicUsize = AtomicUsize::new(0);

/// Sets the exception handler (once; later calls are ignored).
pub fn set_exception_handler(h: ExceptionHandler) {
    EXCEPTION_HANDLER.call_once(|| h);
}

/// Sets the timer interrupt handler (once; later calls are ignored).
pub fn set_timer_handler(h: InterruptHandler) {
    TIMER_HANDLER.call_once(|| h);
}

/// Sets the handler of the wake-up IPI taken in ring 0 (once; later calls are ignored).
pub fn set_wake_handler(h: InterruptHandler) {
    WAKE_HANDLER.call_once(|| h);
}

/// Spurious interrupts seen so far.
pub fn spurious_count() -> usize {
    SPURIOUS.load(Ordering::Relaxed)
}

#[unsafe(no_mangle)]
extern "C" fn hal_trap_entry(frame: &mut TrapFrame) {
    let vector = frame.vector as u8;
    if vector < EXCEPTION_COUNT {
        match EXCEPTION_HANDLER.get() {
            Some(h) => h(frame),
            None => early_exception(frame),
        }
    } else if vector == TIMER_VECTOR {
        if let Some(h) = TIMER_HANDLER.get() {
            h(frame);
        }
        crate::apic::end_of_interrupt();
    } else if vector == WAKE_VECTOR {
        if let Some(h) = WAKE_HANDLER.get() {
            h(frame);
        }
        crate::apic::end_of_interrupt();
    } else {
        SPURIOUS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Hands a trap the kernel cannot survive to the exception handler (or the early report).
pub(crate) fn fatal(frame: &TrapFrame) -> ! {
    match EXCEPTION_HANDLER.get() {
        Some(h) => h(frame),
        None => early_exception(frame),
    }
}

/// An exception before the kernel registered its handler: say what we can and stop.
fn early_exception(frame: &TrapFrame) -> ! {
    use core::fmt::Write;
    crate::serial::with_log_forced(|log| {
        let _ = writeln!(
            log,
            "\n!!! KERNEL EXCEPTION (early boot): vector {} error code {:#x} RIP={:#018x} CR2={:#018x}",
            frame.vector,
            frame.error_code,
            frame.rip,
            crate::cpu::read_cr2()
        );
    });
    crate::exit::qemu_exit(k42_abi::runner::DEBUG_EXIT_KERNEL_FAILURE)
}

/// One 16-byte IDT gate.
#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

const GATE_INTERRUPT_PRESENT: u8 = 0x8e;
const IDT_ENTRIES: usize = 256;

impl Gate {
    const MISSING: Self = Self {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attr: 0,
        offset_mid: 0,
        offset_high: 0,
        reserved: 0,
    };

    fn new(handler: u64, selector: u16, ist: u8) -> Self {
        Self {
            offset_low: handler as u16,
            selector,
            ist,
            type_attr: GATE_INTERRUPT_PRESENT,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

/// An interrupt descriptor table.
#[repr(C, align(16))]
pub struct Idt([Gate; IDT_ENTRIES]);

impl Idt {
    /// A table with every stub installed on code segment `selector`; vectors in
    /// `ist` use the given interrupt-stack-table slot (1-based, as the CPU counts).
    pub(crate) fn new(selector: u16, ist: &[(u8, u8)]) -> Self {
        let mut gates = [Gate::MISSING; IDT_ENTRIES];
        // SAFETY: `trap_stub_table` is a read-only table defined in trap.S.
        let stubs = unsafe { &trap_stub_table };
        for (&vector, &stub) in STUB_VECTORS.iter().zip(stubs.iter()) {
            let slot = ist
                .iter()
                .find(|(v, _)| *v == vector)
                .map_or(0, |&(_, s)| s);
            gates[usize::from(vector)] = Gate::new(stub, selector, slot);
        }
        Self(gates)
    }

    /// Loads this table into the IDTR of the running CPU.
    pub(crate) fn load(&'static self) {
        let ptr = DescriptorTablePointer {
            limit: (core::mem::size_of::<Self>() - 1) as u16,
            base: VirtAddr::new(self as *const Self as u64),
        };
        // SAFETY: the table is 'static and every present gate points at a stub
        // in trap.S that saves state and returns with iretq.
        unsafe { lidt(&ptr) };
    }
}
