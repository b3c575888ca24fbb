//! The kernel's physical memory: one frame allocator behind a lock for now. It is
//! the natural first clustered object (per-CPU free lists) when SMP arrives
//! (issue #3); callers go through `with_frames` so that change stays local.

use k42_hal::FrameAllocator;
use spin::Mutex;

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
