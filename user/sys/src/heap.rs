//! The growing heap: a `linked_list_allocator` heap over a virtual range reserved for it, grown
//! on demand by mapping more demand-paged anonymous memory right after what it has (through
//! `vm::map` with the process's own `Memory` handle). `k42_rt` declares the one instance as the
//! `#[global_allocator]`, with its range from its address-space layout.
//!
//! Growth needs no allocation and makes one kernel call while the heap lock is held. The lock is
//! a spin lock taken only with upcalls disabled (`critical::disable`): an upcall handler, or
//! another thread the upcall switches to, can then never find it held by the code it
//! interrupted on the same dispatcher (it would spin forever); other dispatchers of the process
//! wait for a holder that is running, or resumed soon after a preemption.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{NonNull, null_mut};

use k42_kapi::prot;
use linked_list_allocator::Heap;
use spin::Mutex;

use crate::{critical, vm};

/// Bytes the list allocator may need beyond a request for its own bookkeeping (a hole header
/// before and after the block).
const BOOKKEEPING: usize = 4 * size_of::<usize>();

/// The heap's mutable part.
struct State {
    heap: Heap,
    /// Bytes mapped from the base so far (the heap owns exactly `[base, base + mapped)`).
    mapped: u64,
}

/// A heap in `[base, base + limit)`, mapped `step` bytes (or more, for a large request) at a
/// time.
pub struct GrowingHeap {
    state: Mutex<State>,
    base: u64,
    limit: u64,
    step: u64,
}

impl GrowingHeap {
    /// A heap that will own `[base, base + limit)` (page aligned, and left unmapped by everything
    /// else: mapping is refused over anything already there) and grows by multiples of `step`
    /// (a multiple of the page size). Nothing is mapped until the first allocation.
    pub const fn new(base: u64, limit: u64, step: u64) -> Self {
        Self {
            state: Mutex::new(State {
                heap: Heap::empty(),
                mapped: 0,
            }),
            base,
            limit,
            step,
        }
    }

    /// Bytes mapped so far.
    pub fn mapped(&self) -> u64 {
        let _upcalls = critical::disable();
        self.state.lock().mapped
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        let _upcalls = critical::disable();
        self.state.lock().heap.used()
    }

    /// Maps enough after the current end for `layout`; false if the range is exhausted or the
    /// kernel refused.
    fn grow(&self, state: &mut State, layout: Layout) -> bool {
        let Some(want) = layout
            .size()
            .checked_add(layout.align())
            .and_then(|n| n.checked_add(BOOKKEEPING))
            .and_then(|n| u64::try_from(n).ok())
            .and_then(|n| n.checked_next_multiple_of(self.step))
        else {
            return false;
        };
        let at = self.base + state.mapped;
        if state.mapped + want > self.limit {
            return false;
        }
        if vm::map(vm::own_memory(), at, want, prot::READ | prot::WRITE).is_err() {
            return false;
        }
        // Lossless: `want` came from a usize sum above.
        let bytes = want as usize;
        // SAFETY: the kernel just mapped [at, at + want) read-write in this address space, and it
        // refuses maps over existing ones, so the range was free and is now the heap's alone
        // (vm.rs). It lies right after the heap's current range (`at` = base + mapped) and stays
        // mapped for the process's life: the runtime never unmaps the heap.
        unsafe {
            if state.mapped == 0 {
                state.heap.init(at as *mut u8, bytes);
            } else {
                state.heap.extend(bytes);
            }
        }
        state.mapped += want;
        true
    }
}

// SAFETY: allocations come from the list allocator over memory the heap alone owns (see
// `grow`), under one lock, so blocks never overlap and each is returned exactly as allocated.
unsafe impl GlobalAlloc for GrowingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _upcalls = critical::disable();
        let mut state = self.state.lock();
        loop {
            if state.mapped != 0
                && let Ok(block) = state.heap.allocate_first_fit(layout)
            {
                return block.as_ptr();
            }
            if !self.grow(&mut state, layout) {
                return null_mut();
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(block) = NonNull::new(ptr) {
            let _upcalls = critical::disable();
            // SAFETY: the GlobalAlloc contract: `ptr` came from `alloc` with this `layout`.
            unsafe { self.state.lock().heap.deallocate(block, layout) }
        }
    }
}
