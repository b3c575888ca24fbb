//! Copy-on-write memory, as the kernel holds it: one [`Family`] per tree of processes related by
//! fork — the `k42-cow` tree of FCMs (page index → frame handle) plus the frames themselves. The
//! tree names a frame by its physical address (`Cow<u64>`: the crate wants a `Copy` handle); the
//! owning `PageFrame`s live in the family's frame register, so only this module allocates,
//! copies and frees them, and a frame leaves the register exactly when the tree hands it back
//! (`Cow::reclaim`, or a discard's own frames).
//!
//! # Locking: one step at a time
//!
//! DESIGN §2.8: no lock is held across an object invocation, and requests in flight during a
//! fork-chain collapse are accounted for by the algorithm, not locked out. The family has two
//! locks, and each is held for one short step of the crate's protocol, never across another:
//!
//! - **The tree's**, for one step: starting a search, looking at one node of it, committing a
//!   fault (and installing its page-table entry, so nothing moves the page in between), one
//!   page of a collapse (or a collapse's merge of a leaf's few pages at once), beginning or
//!   finishing a collapse, a fork, a discard, a release. A fault's frame allocation and page
//!   copy happen with it released. So a fault on one CPU walks up the tree while an exit on
//!   another collapses nodes on its path: a search that meets a collapsing or deleted node
//!   gives up its place and starts over, and an operation refused as busy (a collapse is
//!   moving pages next to it) tries again, both spinning outside the lock. Neither waits for
//!   anything that waits in turn: a collapse, once begun, only takes steps, and the kernel
//!   does not preempt itself.
//! - **The frame register's**, for a lookup, an insert or a removal, and for copying out of a
//!   frame (the source of a copy-on-write copy must stay registered while it is read; the
//!   tree's deferred reuse keeps it in the tree until the search that found it is done).
//!
//! Lock order: the caller's space (`space.rs`), then the tree, then the register. Families are
//! independent: processes that are not related by fork never share a lock here.
//!
//! Frames that leave the tree while a search is in flight stay parked until a later reclaim.
//! Every such frame is mapped in no page table: an exited leaf's space is gone (and loaded on
//! no CPU), and a collapse's shadowed copies were never mapped by a committed fault. So any
//! reclaim may free them. A discard's frames, which the discarding space's TLBs may still
//! reach until its shootdown, are never parked: they go back to the discard's caller.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use k42_cow::{Access, Collapse, CollapseStep, Commit, Cow, CowError, NodeId, Plan, Search, Step};
use k42_hal::user::PageFrame;
use k42_kapi::KError;
use spin::Mutex;

use crate::image::ImageRef;
use crate::mm;

/// A fork family's tree and frames.
pub struct Family {
    tree: Mutex<Cow<u64>>,
    /// Every frame the tree holds or has parked, by physical address.
    frames: Mutex<BTreeMap<u64, PageFrame>>,
    /// Searches that met a collapse and started over (statistics for tests).
    restarts: AtomicU64,
    /// Commits that found their search's answer changed meanwhile.
    retries: AtomicU64,
    /// Operations refused as busy by a collapse next to them and tried again.
    busy_waits: AtomicU64,
}

/// What a family's operations met of each other's ([`Family::contention`]).
pub struct Contention {
    /// Searches that met a collapsing or deleted node and started over.
    pub restarts: u64,
    /// Commits that found what their search had found changed, and started over.
    pub retries: u64,
    /// Forks, discards, exits and collapses refused as busy by a collapse next to them and
    /// tried again.
    pub busy_waits: u64,
}

/// A family, shared by its processes' spaces.
pub type FamilyRef = Arc<Family>;

/// How a fault in a region over an image (`space.rs`, `Backing::Image`) ends.
pub enum ImageFault<R> {
    /// The tree held the page (the process, or a fork ancestor, wrote it), or it does now (a
    /// write copied it): the committed mapping's result.
    Tree(R),
    /// Nobody wrote it, the image has the page (not a hole), and the fault is a read: map the
    /// image's own frame, read-only.
    Image,
}

/// A search that has run to its plan, awaiting its commit.
type Planned = (Search<u64>, Plan<u64>);

/// What a search's plan asked the caller for.
enum Frame {
    /// Nothing: the plan maps a frame the tree holds.
    None,
    /// This new frame (registered), which the commit makes the leaf's own.
    New(u64),
    /// Nothing: the fault is a read of an image page nobody wrote.
    ImagePage,
}

impl Family {
    /// A new family with one process; returns it and that process's leaf.
    pub fn new() -> (FamilyRef, NodeId) {
        let mut cow = Cow::new();
        let leaf = cow.create();
        let family = Self {
            tree: Mutex::new(cow),
            frames: Mutex::new(BTreeMap::new()),
            restarts: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            busy_waits: AtomicU64::new(0),
        };
        (Arc::new(family), leaf)
    }

    /// Runs `f` on the frame at `paddr`, if the family holds it.
    pub fn with_frame<R>(&self, paddr: u64, f: impl FnOnce(&PageFrame) -> R) -> Option<R> {
        self.frames.lock().get(&paddr).map(f)
    }

    /// Resolves a fault of `leaf` at page index `page` and has `map` install the answer — the
    /// frame, and whether writes may go through — at the commit, before anything can move it.
    /// `NoMemory` when memory is out; `WrongState` if the tree is broken (logged).
    pub fn fault<R>(
        &self,
        leaf: NodeId,
        page: u64,
        write: bool,
        map: impl FnOnce(&PageFrame, bool) -> Result<R, KError>,
    ) -> Result<R, KError> {
        match self.resolve(leaf, page, write, |plan| self.frame_for(plan, None), map)? {
            ImageFault::Tree(r) => Ok(r),
            ImageFault::Image => {
                log::error!("copy-on-write fault of page {page:#x}: an image answer without one");
                Err(KError::WrongState)
            }
        }
    }

    /// [`Family::fault`] in a region over page `index` of `image`: the tree's copy if it holds
    /// one (as for anonymous memory); else, for a read, [`ImageFault::Image`] (the caller maps
    /// the image's own frame), and for a write a copy of the image's page that becomes the
    /// leaf's own — where anonymous memory would zero-fill.
    pub fn fault_image<R>(
        &self,
        leaf: NodeId,
        page: u64,
        write: bool,
        image: &ImageRef,
        index: u64,
        map: impl FnOnce(&PageFrame, bool) -> Result<R, KError>,
    ) -> Result<ImageFault<R>, KError> {
        self.resolve(
            leaf,
            page,
            write,
            |plan| self.frame_for(plan, Some((image, index, write))),
            map,
        )
    }

    /// The protocol of a fault: search, one node per hold of the tree's lock; get the frame the
    /// plan asks for with the lock released; commit and map under it. Starts over when the
    /// search meets a collapse or the commit finds its answer changed.
    fn resolve<R>(
        &self,
        leaf: NodeId,
        page: u64,
        write: bool,
        frame_for: impl Fn(Plan<u64>) -> Result<Frame, KError>,
        map: impl FnOnce(&PageFrame, bool) -> Result<R, KError>,
    ) -> Result<ImageFault<R>, KError> {
        let access = if write { Access::Write } else { Access::Read };
        loop {
            let Some((search, plan)) = self.search(leaf, page, access)? else {
                self.restarts.fetch_add(1, Ordering::Relaxed);
                core::hint::spin_loop();
                continue;
            };
            let new = match frame_for(plan) {
                Ok(Frame::None) => None,
                Ok(Frame::New(paddr)) => Some(paddr),
                Ok(Frame::ImagePage) => {
                    self.tree.lock().abandon(search);
                    return Ok(ImageFault::Image);
                }
                Err(e) => {
                    self.tree.lock().abandon(search);
                    return Err(e);
                }
            };
            let mut tree = self.tree.lock();
            let commit = tree.commit(search, new).map_err(|e| {
                log::error!("copy-on-write commit of page {page:#x}: {e}");
                KError::WrongState
            })?;
            match commit {
                Commit::Mapped(mapping) => {
                    let mut frames = self.frames.lock();
                    if let Some(unused) = mapping.unused.and_then(|f| unregister(&mut frames, f)) {
                        mm::free_page(unused);
                    }
                    let frame = frames.get(&mapping.frame).ok_or_else(|| {
                        log::error!("copy-on-write: frame {:#x} is unregistered", mapping.frame);
                        KError::WrongState
                    })?;
                    return map(frame, mapping.writable).map(ImageFault::Tree);
                }
                Commit::Retry { unused } => {
                    drop(tree);
                    if let Some(unused) =
                        unused.and_then(|f| unregister(&mut self.frames.lock(), f))
                    {
                        mm::free_page(unused);
                    }
                    self.retries.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// A search run to its plan, one node per hold of the tree's lock: `None` if it met a
    /// collapse or a deleted node (abandoned: the caller starts over).
    fn search(&self, leaf: NodeId, page: u64, access: Access) -> Result<Option<Planned>, KError> {
        // Starting the search and looking at the leaf share a hold.
        let mut tree = self.tree.lock();
        let mut search = tree.search(leaf, page, access).map_err(|e| {
            log::error!("copy-on-write fault of page {page:#x}: {e}");
            KError::WrongState
        })?;
        loop {
            match tree.step(&mut search) {
                Step::Continue => {
                    drop(tree);
                    tree = self.tree.lock();
                }
                Step::Found(plan) => return Ok(Some((search, plan))),
                Step::Restarted => {
                    tree.abandon(search);
                    return Ok(None);
                }
                Step::Gone => {
                    tree.abandon(search);
                    log::error!("copy-on-write fault of page {page:#x}: the leaf is gone");
                    return Err(KError::WrongState);
                }
            }
        }
    }

    /// The frame `plan` asks for, registered: a copy of a tree frame or a zeroed frame — or,
    /// over an image whose page nobody wrote, a copy of the image's page for a write, a zeroed
    /// frame for a hole, and nothing for a read of a page the image has.
    fn frame_for(
        &self,
        plan: Plan<u64>,
        image: Option<(&ImageRef, u64, bool)>,
    ) -> Result<Frame, KError> {
        let new = match (plan, image) {
            (Plan::Map { .. }, _) => return Ok(Frame::None),
            (Plan::Copy { from }, _) => {
                let mut frames = self.frames.lock();
                let source = frames.get(&from).ok_or_else(|| {
                    log::error!("copy-on-write: frame {from:#x} is in the tree but unregistered");
                    KError::WrongState
                })?;
                let new = mm::alloc_page_copy(source).ok_or(KError::NoMemory)?;
                return Ok(Frame::New(register(&mut frames, new)));
            }
            (Plan::ZeroFill, None) => mm::alloc_page(),
            // Past the image's end (`None`) cannot be: `space.rs` checks a region's range
            // against its image; the access is refused if it were.
            (Plan::ZeroFill, Some((image, index, write))) => {
                match image.with_page(index, |page| match page {
                    Some(_) if !write => None,
                    Some(source) => Some(mm::alloc_page_copy(source)),
                    None => Some(mm::alloc_page()),
                }) {
                    Some(None) => return Ok(Frame::ImagePage),
                    Some(Some(new)) => new,
                    None => return Err(KError::BadAddress),
                }
            }
        };
        let new = new.ok_or(KError::NoMemory)?;
        Ok(Frame::New(register(&mut self.frames.lock(), new)))
    }

    /// Forks `leaf`: its pages become shared, copy-on-write, with a new leaf, returned.
    pub fn fork(&self, leaf: NodeId) -> Result<NodeId, CowError> {
        self.unless_busy(|tree| tree.fork(leaf)).map(|f| f.child)
    }

    /// Makes `leaf` read zeros at page indexes `pages`; returns the frames that can be freed
    /// once no TLB reaches them.
    pub fn discard(&self, leaf: NodeId, pages: core::ops::Range<u64>) -> Vec<PageFrame> {
        let mut gone = Vec::new();
        if let Err(e) = self.unless_busy(|tree| tree.discard(leaf, pages.clone(), |f| gone.push(f)))
        {
            log::error!("copy-on-write discard: {e}");
        }
        let mut freed = self.reclaim();
        let mut frames = self.frames.lock();
        freed.extend(
            gone.into_iter()
                .filter_map(|paddr| unregister(&mut frames, paddr)),
        );
        freed
    }

    /// Ends `leaf` (its process is gone), collapsing the chain it leaves, a step at a time;
    /// returns the frames that can be freed.
    pub fn exit(&self, leaf: NodeId) -> Vec<PageFrame> {
        match self.unless_busy(|tree| tree.release(leaf)) {
            Ok(released) => {
                let mut lone = released.lone;
                while let Some(node) = lone {
                    lone = self.collapse(node);
                }
            }
            Err(e) => log::error!("copy-on-write exit: {e}"),
        }
        self.reclaim()
    }

    /// Collapses interior node `node`, left with one child, taking the tree's lock once per
    /// step; returns the node it leaves with one child in turn, if any. Nothing if the node
    /// stopped being lone meanwhile (a collapse next to it took it in).
    fn collapse(&self, node: NodeId) -> Option<NodeId> {
        let mut collapse = match self.unless_busy(|tree| tree.collapse_begin(node)) {
            Ok(collapse) => collapse,
            Err(CowError::NoSuchNode | CowError::NotLone) => return None,
            Err(e) => {
                log::error!("copy-on-write collapse: {e}");
                return None;
            }
        };
        if let Err(e) = self.tree.lock().merge_down_at_once(&mut collapse) {
            log::error!("copy-on-write collapse: {e}");
        }
        self.collapse_steps(&mut collapse);
        match self.tree.lock().collapse_finish(collapse) {
            Ok(collapsed) => collapsed.lone,
            Err(e) => {
                log::error!("copy-on-write collapse: {e}");
                None
            }
        }
    }

    /// Moves a collapse's pages one step per hold of the tree's lock.
    fn collapse_steps(&self, collapse: &mut Collapse<u64>) {
        loop {
            match self.tree.lock().collapse_step(collapse) {
                Ok(CollapseStep::Done) => return,
                Ok(_) => {}
                Err(e) => {
                    log::error!("copy-on-write collapse step: {e}");
                    return;
                }
            }
        }
    }

    /// Runs `op` under the tree's lock until no collapse next to what it changes refuses it.
    fn unless_busy<T>(
        &self,
        mut op: impl FnMut(&mut Cow<u64>) -> Result<T, CowError>,
    ) -> Result<T, CowError> {
        loop {
            match op(&mut self.tree.lock()) {
                Err(CowError::Busy) => {
                    self.busy_waits.fetch_add(1, Ordering::Relaxed);
                    core::hint::spin_loop();
                }
                done => return done,
            }
        }
    }

    /// The longest chain (nodes from a leaf to its root) in the family.
    pub fn longest_chain(&self) -> usize {
        self.tree.lock().longest_chain()
    }

    /// Frames the family holds (in the tree, or parked until no search can reach them).
    pub fn frames_held(&self) -> usize {
        self.frames.lock().len()
    }

    /// Since the family began: searches that met a collapse and started over, commits that
    /// found their answer changed, and operations that waited for a collapse next to them.
    pub fn contention(&self) -> Contention {
        Contention {
            restarts: self.restarts.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            busy_waits: self.busy_waits.load(Ordering::Relaxed),
        }
    }

    /// The frames parked in the tree that no search in flight can reach any more.
    fn reclaim(&self) -> Vec<PageFrame> {
        let mut paddrs = Vec::new();
        self.tree.lock().reclaim(|paddr| paddrs.push(paddr));
        let mut frames = self.frames.lock();
        paddrs
            .into_iter()
            .filter_map(|paddr| unregister(&mut frames, paddr))
            .collect()
    }
}

fn register(frames: &mut BTreeMap<u64, PageFrame>, frame: PageFrame) -> u64 {
    let paddr = frame.paddr();
    frames.insert(paddr, frame);
    paddr
}

fn unregister(frames: &mut BTreeMap<u64, PageFrame>, paddr: u64) -> Option<PageFrame> {
    let frame = frames.remove(&paddr);
    if frame.is_none() {
        log::error!("copy-on-write: frame {paddr:#x} left the tree but was never registered");
    }
    frame
}
