//! Shared anonymous memory (`mmap(MAP_SHARED | MAP_ANONYMOUS)`): one memory object whose pages
//! every region mapping it sees — in one process, and in its fork children, whose copies of the
//! region name the same object instead of a copy-on-write leaf (`space.rs`). Pages are
//! zero-filled on first touch and freed when the last region naming the object goes, which the
//! caller arranges to happen only after the TLB shootdown (`space::Released`).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use k42_hal::user::PageFrame;
use spin::Mutex;

use crate::mm;

/// The object: its pages by index from its start.
#[derive(Debug, Default)]
pub struct SharedMem {
    pages: Mutex<BTreeMap<u64, PageFrame>>,
}

/// A region's reference to an object. Two are equal when they name the same object, so
/// adjacent regions of one object merge and regions of two never do.
#[derive(Clone, Debug)]
pub struct SharedRef(Arc<SharedMem>);

impl PartialEq for SharedRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedRef {}

impl SharedRef {
    /// A new, empty object.
    pub fn new() -> Self {
        Self(Arc::new(SharedMem::default()))
    }

    /// Runs `f` on page `index`'s frame, zero-filling it on first touch; `None` when memory
    /// is out. The object's lock is held while `f` runs (it maps the frame).
    pub fn with_page<R>(&self, index: u64, f: impl FnOnce(&PageFrame) -> R) -> Option<R> {
        let mut pages = self.0.pages.lock();
        let frame = match pages.entry(index) {
            alloc::collections::btree_map::Entry::Occupied(page) => page.into_mut(),
            alloc::collections::btree_map::Entry::Vacant(hole) => hole.insert(mm::alloc_page()?),
        };
        Some(f(frame))
    }
}

impl Drop for SharedMem {
    fn drop(&mut self) {
        let pages = core::mem::take(self.pages.get_mut());
        pages.into_values().for_each(mm::free_page);
    }
}
