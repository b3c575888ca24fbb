//! What the kernel says when it dies: an exception or panic report on the log
//! port — what happened, the registers, a symbolized backtrace — and then the
//! failure verdict through `isa-debug-exit`. Never a silent hang, never a
//! triple-fault reboot loop.

use core::fmt::Write;

use k42_abi::runner::{KERNEL_EXCEPTION_MARKER, KERNEL_PANIC_MARKER};
use k42_hal::paging::KernelStack;
use k42_hal::serial::Uart;
use k42_hal::trap::{self, TrapFrame};

const EXCEPTION_NAMES: [&str; 32] = [
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved",
    "#MF x87 floating point",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD floating point",
    "#VE virtualization",
    "#CP control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "#HV hypervisor injection",
    "#VC VMM communication",
    "#SX security",
    "reserved",
];

const PF_PRESENT: u64 = 1 << 0;
const PF_WRITE: u64 = 1 << 1;
const PF_USER: u64 = 1 << 2;
const PF_FETCH: u64 = 1 << 4;

/// The exception handler the kernel registers with the hardware crate.
pub fn exception(frame: &TrapFrame) -> ! {
    let vector = frame.vector as usize;
    let name = EXCEPTION_NAMES.get(vector).copied().unwrap_or("unknown");
    let cr2 = k42_hal::cpu::read_cr2();
    k42_hal::serial::with_log_forced(|log| {
        let _ = writeln!(
            log,
            "\n{KERNEL_EXCEPTION_MARKER}: {name} (vector {vector}), error code {:#x}",
            frame.error_code
        );
        if frame.vector == u64::from(trap::PAGE_FAULT) {
            let e = frame.error_code;
            let _ = writeln!(
                log,
                "    {} access to {cr2:#x}: {}, {} mode",
                if e & PF_FETCH != 0 {
                    "instruction fetch"
                } else if e & PF_WRITE != 0 {
                    "write"
                } else {
                    "read"
                },
                if e & PF_PRESENT != 0 {
                    "protection violation"
                } else {
                    "page not present"
                },
                if e & PF_USER != 0 { "user" } else { "kernel" },
            );
        }
        if KernelStack::is_guard_page(cr2) || KernelStack::is_guard_page(frame.rsp) {
            let _ = writeln!(
                log,
                "    the fault is in a kernel stack's guard page: stack overflow"
            );
        }
        registers(log, frame, cr2);
        backtrace(log, frame.rip, frame.rsp, frame.rbp);
        let _ = writeln!(log, "k42: kernel failure; ending the run");
    });
    k42_hal::exit::qemu_exit(k42_abi::runner::DEBUG_EXIT_KERNEL_FAILURE)
}

/// The panic handler's body.
pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let (rsp, rbp) = k42_hal::cpu::frame_registers();
    k42_hal::serial::with_log_forced(|log| {
        let _ = writeln!(log, "\n{KERNEL_PANIC_MARKER}: {info}");
        backtrace(log, 0, rsp, rbp);
        let _ = writeln!(log, "k42: kernel failure; ending the run");
    });
    k42_hal::exit::qemu_exit(k42_abi::runner::DEBUG_EXIT_KERNEL_FAILURE)
}

fn registers(log: &mut Uart, f: &TrapFrame, cr2: u64) {
    let _ = writeln!(
        log,
        "    RIP={:#018x} CS={:#06x} RFLAGS={:#010x}",
        f.rip, f.cs, f.rflags
    );
    let _ = writeln!(
        log,
        "    RSP={:#018x} SS={:#06x} CR2={cr2:#018x}",
        f.rsp, f.ss
    );
    let rows = [
        [
            ("RAX", f.rax),
            ("RBX", f.rbx),
            ("RCX", f.rcx),
            ("RDX", f.rdx),
        ],
        [
            ("RSI", f.rsi),
            ("RDI", f.rdi),
            ("RBP", f.rbp),
            ("R8 ", f.r8),
        ],
        [
            ("R9 ", f.r9),
            ("R10", f.r10),
            ("R11", f.r11),
            ("R12", f.r12),
        ],
    ];
    for row in rows {
        let _ = write!(log, "   ");
        for (name, value) in row {
            let _ = write!(log, " {name}={value:#018x}");
        }
        let _ = writeln!(log);
    }
    let _ = writeln!(
        log,
        "    R13={:#018x} R14={:#018x} R15={:#018x}",
        f.r13, f.r14, f.r15
    );
}

/// Writes `backtrace:` and one line per frame, innermost first; `rip` (if not
/// zero) is the faulting instruction itself.
pub fn backtrace(log: &mut impl Write, rip: u64, rsp: u64, rbp: u64) {
    let _ = writeln!(log, "backtrace:");
    let mut n = 0;
    let mut line = |addr: u64, lookup: u64| {
        let _ = write!(log, "  #{n:<2} {addr:#018x} ");
        let _ = match symbolize(lookup) {
            Some((name, off)) => writeln!(log, "{name}+{:#x}", off + (addr - lookup)),
            None => writeln!(log, "?"),
        };
        n += 1;
    };
    if rip != 0 {
        line(rip, rip);
    }
    // A return address points past the call; look up the byte before it so a
    // call at a function's very end still names that function.
    k42_hal::backtrace::walk(rsp, rbp, |ret| line(ret, ret - 1));
}

/// The function containing `addr` and the offset into it.
pub fn symbolize(addr: u64) -> Option<(&'static str, u64)> {
    k42_hal::ksyms::table()?.lookup(addr)
}
