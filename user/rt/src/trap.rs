//! The TRAP handler every program gets (installed with the thread runtime, before `main`): the
//! kernel enters the TRAP vector for a fault it cannot fix, with the faulting registers in the
//! page's save area and the exception in its `trap` words (`k42_abi::kernel::Entry::Trap`).
//!
//! - A page fault in some thread's red page (the unmapped page below each thread stack) is a
//!   stack overflow: the log says `thread NAME overflowed its stack (red page at ADDR)` and the
//!   process exits with [`STACK_OVERFLOW_STATUS`]. So does an interrupted thread whose stack
//!   pointer had already run into its red page (found when its registers are saved).
//! - Any other fault is logged with its vector, error code, address, `rip`, `rsp` and thread,
//!   and the process exits with [`FAULT_STATUS`], as the kernel's own kill for a fault would.

use k42_abi::kernel::{INITIAL_STACK_SIZE, INITIAL_STACK_TOP};
use k42_sys::page::Page;
use k42_sys::thread::{self as sys_thread, PAGE_SIZE};
use k42_sys::upcall::InstallError;

use crate::{log, process, sched};

/// Exit status after a fault that is not a stack overflow: a Linux death by SIGSEGV (128 + 11),
/// as the kernel uses for a fault it ends a process for.
pub const FAULT_STATUS: u32 = 128 + 11;

/// Exit status after a thread overflowed its stack: 128 + SIGABRT (6), what a Rust program on
/// Linux exits with after "thread '…' has overflowed its stack" — distinct from a plain fault
/// ([`FAULT_STATUS`]) and from a panic (`PANIC_STATUS`).
pub const STACK_OVERFLOW_STATUS: u32 = 128 + 6;

/// The CPU exception vector of a page fault.
const PAGE_FAULT: u64 = 14;

/// Kept for programs written before every program got the handler: it is installed already
/// (by `crate::start`), so this only reports whether that worked.
pub fn report_traps() -> Result<(), InstallError> {
    if Page::current().upcall_stack() == 0 {
        return Err(InstallError::NoUpcallStack);
    }
    Ok(())
}

/// The name of the thread whose red page holds `addr`, and that page.
fn red_page_owner(addr: u64) -> Option<(alloc::string::String, u64)> {
    if let Some(owner) = sched::with(|s| s.red_page_owner(addr)) {
        return Some(owner);
    }
    // The first thread's stack is the kernel's initial one, even after the thread ended.
    let initial_red = INITIAL_STACK_TOP - INITIAL_STACK_SIZE - PAGE_SIZE;
    if (initial_red..initial_red + PAGE_SIZE).contains(&addr) {
        return Some((alloc::string::String::from("main"), initial_red));
    }
    // A stack whose thread record is gone but which was running (cannot happen, but name it).
    sys_thread::interrupted_stack()
        .filter(|(red, _)| (*red..*red + PAGE_SIZE).contains(&addr))
        .map(|(red, _)| (alloc::string::String::from("?"), red))
}

/// The interrupted thread's name (upcalls disabled).
fn current_name() -> alloc::string::String {
    sched::with(|s| s.current())
        .map_or_else(|| alloc::string::String::from("(none)"), |t| t.name.clone())
}

/// The TRAP upcall (module comment).
pub(crate) fn on_trap() -> ! {
    let page = Page::current();
    let trap = page.trap();
    let regs = page.saved();
    page.set_saved_live(false);
    if trap.vector == PAGE_FAULT
        && let Some((name, red)) = red_page_owner(trap.address)
    {
        log!("thread {name} overflowed its stack (red page at {red:#x})");
        process::exit(STACK_OVERFLOW_STATUS)
    }
    log!(
        "trap: vector {} error {:#x} address {:#x} at rip {:#x} rsp {:#x} in thread {}",
        trap.vector,
        trap.error_code,
        trap.address,
        regs.rip,
        regs.rsp,
        current_name()
    );
    process::exit(FAULT_STATUS)
}

/// An interrupted thread's stack pointer left no room below it in its stack (`red_page` is the
/// stack's): it overflowed, or was about to (upcalls disabled).
pub(crate) fn overflowed(red_page: u64, rsp: u64) -> ! {
    log!(
        "thread {} overflowed its stack (red page at {red_page:#x}, rsp {rsp:#x})",
        current_name()
    );
    process::exit(STACK_OVERFLOW_STATUS)
}
