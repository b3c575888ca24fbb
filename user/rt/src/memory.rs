//! Fresh memory for programs: anonymous, zero-filled, demand-paged mappings at addresses they
//! choose (from [`crate::layout::PROGRAM_BASE`] up), as `&'static mut [u8]`. The kernel call
//! and the step from "mapped" to "a Rust slice" are `k42_sys::vm`'s; this is the program-facing
//! name for them.

use k42_sys::vm;

pub use k42_sys::vm::MapError;

/// Maps `len` bytes (a multiple of the page size) of fresh read-write memory at `addr` (page
/// aligned, in a range nothing is mapped in) and returns it.
pub fn map_anon(addr: u64, len: u64) -> Result<&'static mut [u8], MapError> {
    vm::map_fresh(addr, len)
}

/// Maps `len` bytes of the sealed image `image` (a handle word with READ) from page `first`
/// privately at `addr` (page aligned, free) and returns it (`k42_sys::vm::map_image`).
pub fn map_image(
    image: u64,
    addr: u64,
    len: u64,
    first: u64,
) -> Result<&'static mut [u8], MapError> {
    vm::map_image(image, addr, len, first)
}

/// Unmaps a region [`map_anon`] (or [`map_image`]) returned; the region cannot be used afterwards.
pub fn unmap(region: &'static mut [u8]) -> Result<(), MapError> {
    vm::unmap_fresh(region)
}

/// Bytes of the heap in use (allocated blocks and their bookkeeping).
pub fn heap_used() -> usize {
    crate::heap::used()
}

/// Bytes of address space the heap has mapped so far (demand-paged: only touched pages are
/// backed).
pub fn heap_mapped() -> u64 {
    crate::heap::mapped()
}
