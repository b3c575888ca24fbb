//! An optional TRAP handler that reports a fault before the process ends: the kernel enters the
//! TRAP vector with the faulting registers in the page's save area and the exception in its
//! `trap` words (`k42_abi::kernel::Entry::Trap`). Without it the kernel ends the process
//! itself; with it, the log names the instruction and address first. Not installed by default:
//! a program asks with [`report_traps`].

use k42_abi::kernel::Entry;
use k42_sys::page::Page;
use k42_sys::upcall::{self, InstallError};

use crate::{log, process};

/// Exit status after a reported fault: a Linux death by SIGSEGV (128 + 11), as the kernel uses
/// for a fault it ends a process for.
pub const FAULT_STATUS: u32 = 128 + 11;

/// Installs the reporting TRAP handler (mapping this dispatcher's upcall stack if needed).
pub fn report_traps() -> Result<(), InstallError> {
    crate::upcall_stack::ensure().map_err(|_| InstallError::NoUpcallStack)?;
    upcall::set_trap_handler(on_trap);
    upcall::install(Entry::Trap)
}

fn on_trap() -> ! {
    let page = Page::current();
    let trap = page.trap();
    let regs = page.saved();
    log!(
        "trap: vector {} error {:#x} address {:#x} at rip {:#x} rsp {:#x}",
        trap.vector,
        trap.error_code,
        trap.address,
        regs.rip,
        regs.rsp
    );
    process::exit(FAULT_STATUS)
}
