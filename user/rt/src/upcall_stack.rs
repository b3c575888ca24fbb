//! The stack upcalls run on: the kernel enters every upcall with `rsp` = the dispatcher page's
//! `upcall_stack` word (but an IPC_CALL while the page's `call_stack` names a server thread's
//! stack: `crate::server`), which must be set before any entry vector is installed. Each dispatcher
//! gets its own mapping in the range [`crate::layout`] reserves, with unmapped space below as
//! its guard.

use k42_abi::kernel::COMM_DISPATCHER_BITS;
use k42_sys::page::Page;
use k42_sys::vm::{self, MapError};

use crate::layout::{UPCALL_STACK_SIZE, UPCALL_STACK_STRIDE, UPCALL_STACKS_BASE};

/// The top of this dispatcher's upcall stack in the range the layout reserves.
fn top_for(page: Page) -> u64 {
    let index = page.comm_id() & ((1 << COMM_DISPATCHER_BITS) - 1);
    UPCALL_STACKS_BASE + (index + 1) * UPCALL_STACK_STRIDE
}

/// Names the upcall stack a forked child inherited (mapped, copy-on-write, at the same place
/// as its parent's) in its new dispatcher page; returns its top.
pub(crate) fn adopt() -> u64 {
    let page = Page::current();
    let top = top_for(page);
    page.set_upcall_stack(top);
    top
}

/// Makes sure this dispatcher's page names an upcall stack; returns its top.
pub(crate) fn ensure() -> Result<u64, MapError> {
    let page = Page::current();
    let top = page.upcall_stack();
    if top != 0 {
        return Ok(top);
    }
    let top = top_for(page);
    let bottom = top - UPCALL_STACK_SIZE;
    // Only the address matters: the stack is used by upcall code, never through a Rust slice.
    vm::map_fresh(bottom, UPCALL_STACK_SIZE)?;
    page.set_upcall_stack(top);
    Ok(top)
}
