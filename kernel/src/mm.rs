//! The kernel's physical memory. The frame allocator proper (a bitmap) sits behind one lock
//! and serves page tables, stacks and the heap. The pages of user memory — the hot path: every
//! demand-zero fault and every unmap — go through [`PAGES`], the first clustered object
//! (`clustered.rs`): each CPU's representative keeps a small cache of frames and goes to the
//! locked bitmap (the root) only to refill or drain a batch.

use alloc::vec::Vec;

use k42_hal::FrameAllocator;
use k42_hal::user::PageFrame;
use spin::Mutex;

use crate::clustered::{Clustered, Root};

static FRAMES: Mutex<Option<FrameAllocator<'static>>> = Mutex::new(None);

/// Frame counts at boot.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Frames free for use.
    pub free: usize,
    /// Frames the allocator manages.
    pub total: usize,
}

/// Takes ownership of the boot frame allocator.
pub fn init(frames: FrameAllocator<'static>) -> Stats {
    let stats = Stats {
        free: frames.free_frames(),
        total: frames.total_frames(),
    };
    *FRAMES.lock() = Some(frames);
    stats
}

/// Runs `f` with the frame allocator locked. Keep `f` short and never call
/// another object from it: no lock is held across an object invocation.
pub fn with_frames<R>(f: impl FnOnce(&mut FrameAllocator<'static>) -> R) -> R {
    f(FRAMES.lock().as_mut().expect("mm::init ran at boot"))
}

/// Frames a representative takes from (or gives back to) the bitmap at once.
const BATCH: usize = 32;
/// Frames a representative keeps before it gives a batch back.
const HIGH_WATER: usize = 4 * BATCH;

/// The root of the page allocator: the shared bitmap is behind `with_frames`.
pub struct PageRoot;

/// One CPU's cache of free frames, locked only by that CPU (and by nobody else: frames freed
/// on a CPU go to its own cache).
pub struct PageRep {
    free: Mutex<Vec<PageFrame>>,
}

impl Root for PageRoot {
    type Rep = PageRep;
    fn make_rep(&self, _cpu: usize) -> PageRep {
        PageRep {
            free: Mutex::new(Vec::with_capacity(HIGH_WATER + BATCH)),
        }
    }
}

/// The clustered page allocator.
pub static PAGES: Clustered<PageRoot> = Clustered::new(PageRoot);

/// A zeroed frame for user memory, from this CPU's cache (refilled from the bitmap in
/// batches); `None` when memory is exhausted.
pub fn alloc_page() -> Option<PageFrame> {
    let page = take_page()?;
    page.zero();
    Some(page)
}

/// A frame for user memory holding a copy of `from` (a copy-on-write copy): not zeroed first,
/// since every byte is overwritten. `None` when memory is exhausted.
pub fn alloc_page_copy(from: &PageFrame) -> Option<PageFrame> {
    let page = take_page()?;
    page.copy_from(from);
    Some(page)
}

/// A frame from this CPU's cache, refilled from the bitmap in batches, holding whatever it
/// last held: the caller overwrites all of it before anyone sees it.
fn take_page() -> Option<PageFrame> {
    let rep = PAGES.rep();
    let mut free = rep.free.lock();
    if free.is_empty() {
        with_frames(|f| {
            for _ in 0..BATCH {
                match PageFrame::alloc(f) {
                    Some(page) => free.push(page),
                    None => break,
                }
            }
        });
    }
    free.pop()
}

/// Returns a frame of user memory (mapped nowhere any more) to this CPU's cache.
pub fn free_page(page: PageFrame) {
    let rep = PAGES.rep();
    let mut free = rep.free.lock();
    free.push(page);
    if free.len() > HIGH_WATER {
        let surplus: Vec<PageFrame> = free.drain(..BATCH).collect();
        drop(free);
        with_frames(|f| surplus.into_iter().for_each(|p| p.free(f)));
    }
}
