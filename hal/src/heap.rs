//! The kernel heap: `talc` (a binned free-list allocator: constant-time for the
//! small blocks the kernel's maps and lists want, where the linked-list allocator
//! it replaced walked its holes) over a region of fresh frames mapped at
//! `layout::HEAP_BASE`. Sized at boot by the kernel's needs (the initramfs tree
//! lives here); growth on demand can come when a workload needs it.

use core::sync::atomic::{AtomicU64, Ordering};

use k42_frames::FrameAllocator as Frames;
use talc::{ErrOnOom, Span, Talc, Talck};

use crate::layout::{HEAP_BASE, HEAP_MAX, PAGE_SIZE};
use crate::paging::{self, MapError};

#[global_allocator]
static HEAP: Talck<spin::Mutex<()>, ErrOnOom> = Talc::new(ErrOnOom).lock();
static HEAP_SIZE: AtomicU64 = AtomicU64::new(0);

/// Maps `bytes` (rounded up to pages) at the heap base and hands them to the
/// allocator. Only the first call does anything.
pub fn init(bytes: u64, frames: &mut Frames<'_>) -> Result<(), MapError> {
    let bytes = bytes
        .div_ceil(PAGE_SIZE)
        .saturating_mul(PAGE_SIZE)
        .min(HEAP_MAX);
    if HEAP_SIZE
        .compare_exchange(0, bytes, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return Ok(());
    }
    paging::map_fresh(HEAP_BASE, bytes / PAGE_SIZE, frames)?;
    let span = Span::from_base_size(HEAP_BASE as *mut u8, bytes as usize);
    // SAFETY: [HEAP_BASE, HEAP_BASE + bytes) was just mapped to fresh frames,
    // nothing else refers to it, and this runs once (guarded by HEAP_SIZE).
    unsafe { HEAP.lock().claim(span) }.map_err(|()| MapError::OutOfFrames)?;
    Ok(())
}

/// Bytes (total, used) of the heap.
pub fn usage() -> (usize, usize) {
    let heap = HEAP.lock();
    let counters = heap.get_counters();
    (counters.claimed_bytes, counters.allocated_bytes)
}
