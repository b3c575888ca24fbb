//! The running process's own `Process` object, remembered at start-up so that logging, panics
//! and exit work anywhere (a panic has no `Env` at hand).

use core::sync::atomic::{AtomicU64, Ordering};

use k42_abi::kernel::AsyncMessage;
use k42_kapi::{EXITED_METHOD, PROCESS_INTERFACE, ProcessClient};
use k42_rights::XHandle;
use k42_rights::wire::method_word;
use k42_sys::kcall;
use k42_sys::page::Page;

use crate::ppc::KernelPpc;

/// The process's handle word on itself (first entry `rdi`).
static OWN: AtomicU64 = AtomicU64::new(0);

/// Records the process's handle on itself (once, at start-up).
pub(crate) fn set_own(handle: u64) {
    OWN.store(handle, Ordering::Release);
}

/// A client of this process's own `Process` object.
pub fn own() -> ProcessClient<KernelPpc> {
    ProcessClient::new(KernelPpc, XHandle::from_word(OWN.load(Ordering::Acquire)))
}

/// Ends the process with `status` (its spawner gets an EXITED message). Never returns.
pub fn exit(status: u32) -> ! {
    // The kernel ends the process once the reply is in registers; the result does not matter,
    // because nothing follows but sleeping.
    let _ = own().exit(status);
    // Only reached if the kernel refused (or lets the context run a moment longer): never
    // return into code that believes the process ended.
    kcall::block_for_good(Page::current())
}

/// The badge the kernel stamps on its own messages.
const KERNEL_BADGE: u64 = 0;
/// Payload positions of the EXITED message (`k42_kapi::EXITED_METHOD`).
const EXITED_STATUS: usize = 0;
const EXITED_PID: usize = 1;

/// The exit status, if `msg` is the kernel's EXITED message for process `pid` (sent to the
/// process that spawned it: badge 0, method `Process`/`EXITED_METHOD`, payload `[status, pid,
/// 0]`, handle = the spawner's handle on the process).
pub fn exited(msg: &AsyncMessage, pid: u64) -> Option<u32> {
    let is_exit = msg.badge == KERNEL_BADGE
        && msg.method == method_word(PROCESS_INTERFACE, EXITED_METHOD)
        && msg.payload[EXITED_PID] == pid;
    // The kernel sends a u32 status; anything wider is reported as the widest.
    is_exit.then(|| u32::try_from(msg.payload[EXITED_STATUS]).unwrap_or(u32::MAX))
}
