//! The global allocator: `k42-sys`'s growing heap over the range [`crate::layout`] reserves for
//! it. It maps with the process's own `Memory` handle, which `k42-sys` recorded at the first
//! entry, so it works from the first allocation on without set-up here.

use k42_sys::heap::GrowingHeap;

use crate::layout::{HEAP_BASE, HEAP_LIMIT, HEAP_STEP};

#[global_allocator]
static HEAP: GrowingHeap = GrowingHeap::new(HEAP_BASE, HEAP_LIMIT, HEAP_STEP);

/// Bytes of the heap in use.
pub(crate) fn used() -> usize {
    HEAP.used()
}

/// Bytes of address space the heap has mapped.
pub(crate) fn mapped() -> u64 {
    HEAP.mapped()
}
