//! Frame-pointer stack walk for exception reports. The kernel is built with
//! `-C force-frame-pointers=yes`, so each frame starts with the caller's RBP and
//! the return address above it. The walk reads only inside the stack the trap
//! happened on, so a corrupt chain ends the walk instead of faulting again.

use crate::paging::KernelStack;

/// Most frames a report shows.
pub const MAX_FRAMES: usize = 32;

/// Calls `f` with each return address up the chain that starts at `rbp`, while
/// the chain stays inside the stack containing `rsp`.
pub fn walk(rsp: u64, mut rbp: u64, mut f: impl FnMut(u64)) {
    let Some(stack) = stack_containing(rsp) else {
        return;
    };
    for _ in 0..MAX_FRAMES {
        if !rbp.is_multiple_of(8) || !stack.contains(rbp) || !stack.contains(rbp + 15) {
            return;
        }
        // SAFETY: [rbp, rbp+16) lies inside a mapped kernel stack (checked above);
        // reading two words of it cannot fault or alias a live `&mut`.
        let (next, ret) = unsafe {
            (
                core::ptr::read_volatile(rbp as *const u64),
                core::ptr::read_volatile((rbp + 8) as *const u64),
            )
        };
        if ret == 0 {
            return;
        }
        f(ret);
        if next <= rbp {
            return;
        }
        rbp = next;
    }
}

fn stack_containing(rsp: u64) -> Option<KernelStack> {
    KernelStack::slot_of(rsp)
        .filter(|s| s.contains(rsp))
        .or_else(|| crate::boot::boot_stack().filter(|s| s.contains(rsp)))
}
