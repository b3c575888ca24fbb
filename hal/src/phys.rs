//! Access to physical memory through the direct map (`layout::PHYS_OFFSET`).
//!
//! Only reads are open to safe callers, and only of memory the boot path found in
//! the firmware's memory map: writes to arbitrary physical memory could overwrite
//! the kernel itself, so frames are written through mappings their owner made.

use crate::layout::{self, PAGE_SIZE};

/// Zeroes one frame. Crate-internal: callers own the frame.
pub(crate) fn zero_frame(paddr: u64) {
    // SAFETY: the caller owns the frame (just allocated, so nothing else refers
    // to it) and it is reachable through the direct map.
    unsafe {
        core::ptr::write_bytes(
            layout::phys_to_virt(paddr) as *mut u8,
            0,
            PAGE_SIZE as usize,
        )
    };
}

/// Writes a u64 at physical address `paddr` (8-byte aligned). Crate-internal:
/// the caller owns the memory (a frame it allocated, or low memory the
/// allocator never hands out).
pub(crate) fn write_owned_u64(paddr: u64, value: u64) {
    debug_assert!(paddr.is_multiple_of(8));
    // SAFETY: the caller owns the memory and it is in the direct map; no Rust
    // reference to it exists.
    unsafe { core::ptr::write_volatile(layout::phys_to_virt(paddr) as *mut u64, value) };
}

/// Reads a little-endian u64 at physical address `paddr` (8-byte aligned, in RAM
/// the direct map covers), or `None` when it is not mapped.
pub fn read_u64(paddr: u64) -> Option<u64> {
    if !paddr.is_multiple_of(8) {
        return None;
    }
    let virt = layout::phys_to_virt(paddr);
    crate::paging::translate(virt)?;
    // SAFETY: aligned, mapped in the direct map; a volatile read of RAM has no
    // effect on any Rust object's validity.
    Some(unsafe { core::ptr::read_volatile(virt as *const u64) })
}

/// A shared view of `len` bytes of firmware- or loader-provided memory at
/// `paddr` that nothing ever writes after boot (the initramfs, ACPI tables).
///
/// # Safety
/// The range must be in the direct map and must never be written or handed to
/// the frame allocator while the returned slice lives.
pub(crate) unsafe fn static_bytes(paddr: u64, len: usize) -> &'static [u8] {
    // SAFETY: the caller guarantees the range is mapped and immutable.
    unsafe { core::slice::from_raw_parts(layout::phys_to_virt(paddr) as *const u8, len) }
}
