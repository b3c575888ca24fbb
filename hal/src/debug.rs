//! Deliberate faults, for the tests that prove the exception report works.

use crate::layout::NEVER_MAPPED;

/// Writes to the one kernel page that is never mapped (`layout::NEVER_MAPPED`),
/// taking a page fault. The trap handler reports it and ends the machine.
#[inline(never)]
pub fn fault_on_never_mapped_page() -> ! {
    // SAFETY: NEVER_MAPPED is never mapped (paging refuses to map it), so the
    // write cannot alias any object: it can only fault.
    unsafe { core::ptr::write_volatile(NEVER_MAPPED as *mut u64, 0xdead) };
    unreachable!("a write to the never-mapped page returned")
}
