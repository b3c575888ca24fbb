//! What happens when the Linux program faults: the kernel delivers a TRAP upcall (a bad access,
//! #UD, #GP, a divide error); until signals exist (issue #5) the process ends as Linux ends a
//! program that does not handle the signal — with the status of a death by that signal
//! (128 + signal number) and one log line saying what and where, after telling the process
//! server the wait status of that death for the parent to collect (`crate::procs::exited`).

use k42_ptree::WaitStatus;
use k42_rt::sys::page::Page;
use k42_rt::sys::upcall;
use k42_rt::{log, process};

/// x86 exception vectors and the Linux signal each one raises.
const SIGNALS: [(u64, u32, &str); 7] = [
    (0, 8, "SIGFPE (divide error)"),
    (6, 4, "SIGILL (invalid opcode)"),
    (13, 11, "SIGSEGV (general protection)"),
    (14, 11, "SIGSEGV (page fault)"),
    (16, 8, "SIGFPE (x87 error)"),
    (17, 7, "SIGBUS (alignment check)"),
    (19, 8, "SIGFPE (SIMD error)"),
];
/// A fault with no better signal: SIGSEGV.
const DEFAULT: (u32, &str) = (11, "SIGSEGV");
/// A process killed by signal N exits with this plus N (what a shell and the runner report).
const SIGNAL_STATUS_BASE: u32 = 128;

/// Ends the process from the program's thread as Linux ends a program killed by `signal`
/// that it does not handle (`what` names it in the log): its descriptors closed, the process
/// server told the wait status, the status of a death by that signal. For deaths a syscall
/// decides (a write to a pipe with no reader: `SIGPIPE`) until signal delivery exists.
pub fn die_of_signal(linux: &crate::state::Linux, signal: u32, what: &str) -> ! {
    log!("linux: the program got {what}; default action: killed");
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
    let (signal, what) = SIGNALS
        .iter()
        .find(|(v, ..)| *v == trap.vector)
        .map_or(DEFAULT, |&(_, s, w)| (s, w));
    log!(
        "linux: the program got {what} at rip {:#x} (address {:#x}, error {:#x}); no handler yet: killed",
        regs.rip,
        trap.address,
        trap.error_code
    );
    // The parent's wait sees the death by this signal; without a core (`RLIMIT_CORE` is 0).
    crate::procs::exited(WaitStatus::signaled(signal, false));
    process::exit(SIGNAL_STATUS_BASE + signal)
}
