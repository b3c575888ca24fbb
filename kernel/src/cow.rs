//! Copy-on-write memory, as the kernel holds it: one [`Family`] per tree of processes related by
//! fork — the `k42-cow` tree of FCMs (page index → frame handle) plus the frames themselves. The
//! tree names a frame by its physical address (`Cow<u64>`: the crate wants a `Copy` handle); the
//! owning `PageFrame`s live here, so only this module allocates, copies and frees them, and a
//! frame leaves `frames` exactly when the tree hands it back (`Cow::reclaim`).
//!
//! Locking: a family has one lock, taken by `space.rs` for a whole fault, fork, discard or exit
//! of one of its processes. The crate's protocol (node states, generations, deferred reuse) is
//! what per-node locks will need; until the tree is split into per-node locks, whole operations
//! under the family's lock are its simplest correct use. Families are independent: processes
//! that are not related by fork never share a lock here.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use k42_cow::{Access, Commit, Cow, CowError, Fault, Frames, Mapping, NodeId, Plan, Step};
use k42_hal::user::PageFrame;
use spin::Mutex;

use crate::image::ImageRef;
use crate::mm;

/// Faults retried when the tree reports a collapse in progress (never with whole operations
/// under the family lock; the bound keeps a broken tree from looping forever).
const MAX_RESTARTS: usize = 8;

/// A fork family's tree and frames.
pub struct Family {
    cow: Cow<u64>,
    frames: BTreeMap<u64, PageFrame>,
}

/// A family, shared by its processes' spaces.
pub type FamilyRef = Arc<Mutex<Family>>;

/// The frame allocator the tree's faults use: the clustered page allocator, recording each new
/// frame as the family's.
struct KernelFrames<'a> {
    frames: &'a mut BTreeMap<u64, PageFrame>,
}

impl KernelFrames<'_> {
    fn keep(&mut self, frame: PageFrame) -> u64 {
        let paddr = frame.paddr();
        self.frames.insert(paddr, frame);
        paddr
    }
}

impl Frames<u64> for KernelFrames<'_> {
    fn zeroed(&mut self) -> Option<u64> {
        mm::alloc_page().map(|f| self.keep(f))
    }

    fn copy_of(&mut self, from: u64) -> Option<u64> {
        let Some(source) = self.frames.get(&from) else {
            log::error!("copy-on-write: frame {from:#x} is in the tree but not the family's");
            return None;
        };
        let new = mm::alloc_page_copy(source)?;
        Some(self.keep(new))
    }

    fn free(&mut self, frame: u64) {
        if let Some(f) = self.frames.remove(&frame) {
            mm::free_page(f);
        }
    }
}

/// What a fault resolved to: the frame to map and whether writes may go through.
pub struct Resolved {
    /// The frame's physical address (the key of [`Family::frame`]).
    pub paddr: u64,
    /// Whether the page is the process's own (else shared: map read-only).
    pub writable: bool,
}

/// What a fault in a region over an image (`space.rs`, `Backing::Image`) resolved to.
pub enum ImageFault {
    /// The tree holds the page — the process, or a fork ancestor, wrote it: map this.
    Tree(Resolved),
    /// Nobody wrote it, the image has the page (not a hole), and the fault is a read: map the
    /// image's own frame, read-only.
    Image,
}

impl Family {
    /// A new family with one process; returns it and that process's leaf.
    pub fn new() -> (FamilyRef, NodeId) {
        let mut cow = Cow::new();
        let leaf = cow.create();
        let family = Self {
            cow,
            frames: BTreeMap::new(),
        };
        (Arc::new(Mutex::new(family)), leaf)
    }

    /// The frame at `paddr`, if the family holds it.
    pub fn frame(&self, paddr: u64) -> Option<&PageFrame> {
        self.frames.get(&paddr)
    }

    /// Resolves a fault of `leaf` at page index `page`: `None` when memory is out.
    pub fn fault(&mut self, leaf: NodeId, page: u64, write: bool) -> Option<Resolved> {
        let access = if write { Access::Write } else { Access::Read };
        for _ in 0..MAX_RESTARTS {
            let mut frames = KernelFrames {
                frames: &mut self.frames,
            };
            match self.cow.fault(leaf, page, access, &mut frames) {
                Ok(Fault::Mapped { frame, writable }) => {
                    return Some(Resolved {
                        paddr: frame,
                        writable,
                    });
                }
                Ok(Fault::Restart) => continue,
                Err(CowError::NoMemory) => return None,
                Err(e) => {
                    log::error!("copy-on-write fault of page {page:#x}: {e}");
                    return None;
                }
            }
        }
        log::error!("copy-on-write fault of page {page:#x} kept restarting");
        None
    }

    /// Resolves a fault of `leaf` at page index `page` in a region over page `index` of
    /// `image`: the tree's copy if it holds one (as for anonymous memory); else, for a read,
    /// the image's own frame, and for a write a copy of it that becomes the leaf's own page —
    /// where anonymous memory would zero-fill. `None` when memory is out.
    pub fn fault_image(
        &mut self,
        leaf: NodeId,
        page: u64,
        write: bool,
        image: &ImageRef,
        index: u64,
    ) -> Option<ImageFault> {
        let access = if write { Access::Write } else { Access::Read };
        for _ in 0..MAX_RESTARTS {
            let mut search = match self.cow.search(leaf, page, access) {
                Ok(search) => search,
                Err(e) => {
                    log::error!("copy-on-write fault of image page {page:#x}: {e}");
                    return None;
                }
            };
            let plan = loop {
                match self.cow.step(&mut search) {
                    Step::Continue => {}
                    Step::Found(plan) => break Some(plan),
                    Step::Restarted | Step::Gone => break None,
                }
            };
            let mut frames = KernelFrames {
                frames: &mut self.frames,
            };
            let new = match plan {
                None => {
                    self.cow.abandon(search);
                    continue;
                }
                Some(Plan::Map { .. }) => None,
                Some(Plan::Copy { from }) => frames.copy_of(from),
                // Nobody wrote it: a read of a page the image has maps the image's frame; a
                // write copies it; a hole (no frame) zero-fills, as anonymous memory does.
                // Past the image's end (`None`) cannot be: `space.rs` checks a region's range
                // against its image; the access is refused if it were.
                Some(Plan::ZeroFill) => match image.with_page(index, |page| match page {
                    Some(_) if !write => None,
                    Some(source) => Some(mm::alloc_page_copy(source)),
                    None => Some(mm::alloc_page()),
                }) {
                    Some(None) => {
                        self.cow.abandon(search);
                        return Some(ImageFault::Image);
                    }
                    Some(Some(new)) => new.map(|new| frames.keep(new)),
                    None => None,
                },
            };
            if new.is_none() && !matches!(plan, Some(Plan::Map { .. })) {
                self.cow.abandon(search);
                return None;
            }
            match self.cow.commit(search, new) {
                Ok(Commit::Mapped(Mapping {
                    frame,
                    writable,
                    unused,
                })) => {
                    if let Some(unused) = unused {
                        KernelFrames::free(
                            &mut KernelFrames {
                                frames: &mut self.frames,
                            },
                            unused,
                        );
                    }
                    return Some(ImageFault::Tree(Resolved {
                        paddr: frame,
                        writable,
                    }));
                }
                Ok(Commit::Retry { unused }) => {
                    if let Some(unused) = unused {
                        KernelFrames::free(
                            &mut KernelFrames {
                                frames: &mut self.frames,
                            },
                            unused,
                        );
                    }
                }
                Err(e) => {
                    log::error!("copy-on-write commit of image page {page:#x}: {e}");
                    return None;
                }
            }
        }
        log::error!("copy-on-write fault of image page {page:#x} kept restarting");
        None
    }

    /// Forks `leaf`: its pages become shared, copy-on-write, with a new leaf, returned.
    pub fn fork(&mut self, leaf: NodeId) -> Result<NodeId, CowError> {
        self.cow.fork(leaf).map(|f| f.child)
    }

    /// Makes `leaf` read zeros at page indexes `pages`; returns the frames that can be freed
    /// once no TLB reaches them.
    pub fn discard(&mut self, leaf: NodeId, pages: core::ops::Range<u64>) -> Vec<PageFrame> {
        if let Err(e) = self.cow.discard(leaf, pages) {
            log::error!("copy-on-write discard: {e}");
        }
        self.reclaim()
    }

    /// Ends `leaf` (its process is gone), collapsing the chain it leaves; returns the frames
    /// that can be freed.
    pub fn exit(&mut self, leaf: NodeId) -> Vec<PageFrame> {
        if let Err(e) = self.cow.exit(leaf) {
            log::error!("copy-on-write exit: {e}");
        }
        self.reclaim()
    }

    /// The longest chain (nodes from a leaf to its root) in the family.
    pub fn longest_chain(&self) -> usize {
        self.cow.longest_chain()
    }

    /// Frames the family holds.
    pub fn frames_held(&self) -> usize {
        self.frames.len()
    }

    fn reclaim(&mut self) -> Vec<PageFrame> {
        let mut freed = Vec::new();
        let frames = &mut self.frames;
        self.cow.reclaim(|paddr| {
            if let Some(f) = frames.remove(&paddr) {
                freed.push(f);
            }
        });
        freed
    }
}
