//! What happens when the Linux program faults: the kernel delivers a TRAP upcall (a bad access,
//! #UD, #GP, a divide error, a breakpoint). The fault becomes its Linux signal — SIGSEGV with
//! `SEGV_MAPERR`/`SEGV_ACCERR` and the address, SIGFPE with `FPE_INTDIV`, SIGILL with
//! `ILL_ILLOPN`, SIGBUS, SIGTRAP — handed to `signals.rs`, which runs the program's handler if
//! one is installed and the signal is not blocked, and otherwise ends the process as Linux
//! does: with the status of a death by that signal (128 + signal number) after telling the
//! process server the wait status for the parent to collect (`crate::procs::exited`).
//! A fault in the personality's own code is not the program's: it ends the process at once.

use k42_abi::kernel::{PERSONALITY_BASE, PERSONALITY_LIMIT};
use k42_linux::raw::general as g;
use k42_linux::signal::{Info, Trap};
use k42_ptree::WaitStatus;
use k42_rt::sys::page::Page;
use k42_rt::sys::upcall;
use k42_rt::{log, process, program};

/// x86 exception vectors (Intel SDM vol. 3, table 6-1) and the Linux signal and `si_code`
/// each raises (`arch/x86/kernel/traps.c`).
const SIGNALS: [(u64, u32, u32, &str); 8] = [
    (0, g::SIGFPE, g::FPE_INTDIV, "SIGFPE (divide error)"),
    (3, g::SIGTRAP, g::TRAP_BRKPT, "SIGTRAP (breakpoint)"),
    (6, g::SIGILL, g::ILL_ILLOPN, "SIGILL (invalid opcode)"),
    (
        GENERAL_PROTECTION,
        g::SIGSEGV,
        g::SI_KERNEL,
        "SIGSEGV (general protection)",
    ),
    (14, g::SIGSEGV, g::SEGV_MAPERR, "SIGSEGV (page fault)"),
    (16, g::SIGFPE, g::FPE_FLTINV, "SIGFPE (x87 error)"),
    (17, g::SIGBUS, g::BUS_ADRALN, "SIGBUS (alignment check)"),
    (19, g::SIGFPE, g::FPE_FLTINV, "SIGFPE (SIMD error)"),
];
/// A fault with no better signal: SIGSEGV.
const DEFAULT: (u32, u32, &str) = (g::SIGSEGV, g::SI_KERNEL, "SIGSEGV");
/// The page-fault vector, and its error code's "the page was present" bit (a protection
/// violation: `SEGV_ACCERR` rather than `SEGV_MAPERR`).
const PAGE_FAULT: u64 = 14;
/// The general-protection vector (no address: `si_addr` 0, as Linux reports it).
const GENERAL_PROTECTION: u64 = 13;
const PF_PRESENT: u64 = 1;
/// A process killed by signal N exits with this plus N (what a shell and the runner report).
const SIGNAL_STATUS_BASE: u32 = 128;

/// Ends the process from the program's thread as Linux ends a program killed by `signal`
/// that it does not handle (`what` names it in the log): its descriptors closed, the process
/// server told the wait status, the status of a death by that signal.
pub fn die_of_signal(linux: &crate::state::Linux, signal: u32, what: &str) -> ! {
    log!("linux: the program got {what} ({signal}); default action: killed");
    crate::fd::close_all(linux);
    crate::procs::exited(WaitStatus::signaled(signal, false));
    process::exit(SIGNAL_STATUS_BASE + signal)
}

/// Installs the handler (replacing the runtime's, which knows only native threads).
pub fn install() {
    upcall::set_trap_handler(on_trap);
}

fn on_trap() -> ! {
    let page = Page::current();
    let trap = page.trap();
    let regs = page.saved();
    page.set_saved_live(false);
    let (signo, mut code, what) = SIGNALS
        .iter()
        .find(|(v, ..)| *v == trap.vector)
        .map_or(DEFAULT, |&(_, s, c, w)| (s, c, w));
    if (PERSONALITY_BASE..PERSONALITY_LIMIT).contains(&regs.rip) {
        log!(
            "linux: the personality got {what} at rip {:#x} (address {:#x}, error {:#x}): killed",
            regs.rip,
            trap.address,
            trap.error_code
        );
        crate::procs::exited(WaitStatus::signaled(signo, false));
        process::exit(SIGNAL_STATUS_BASE + signo)
    }
    if trap.vector == PAGE_FAULT && trap.error_code & PF_PRESENT != 0 {
        code = g::SEGV_ACCERR;
    }
    // Linux reports the faulting address for page faults, the instruction's for the others
    // that have an address (#DE, #UD, #MF, #XM), 0 for #GP.
    let addr = match trap.vector {
        PAGE_FAULT => trap.address,
        GENERAL_PROTECTION => 0,
        _ => regs.rip,
    };
    let info = Info {
        signo,
        code: code as i32,
        addr,
        ..Info::default()
    };
    crate::signals::fault(
        info,
        Trap {
            err: trap.error_code,
            trapno: trap.vector,
            cr2: if trap.vector == PAGE_FAULT {
                trap.address
            } else {
                0
            },
        },
        what,
    );
    program::trapped(regs)
}
