//! File images (`k42_kapi::Image`): the bytes of one version of a file as whole pages, K42's FR
//! for a file whose pages are resident. The file server fills an image, then seals it; the
//! processes it gives access to map ranges of it privately (`space.rs`, `Backing::Image`): a
//! read maps the image's frame read-only, a write copies it into the process's copy-on-write
//! leaf. So every process running one program shares its text, and an `execve` reads nothing
//! through the file server per page.
//!
//! A page of the image is a frame or a hole (zeros, no frame: a sparse file costs what it
//! holds). Only a sealed image maps, and a sealed image never changes, so a frame a page table
//! maps stays the image's, with the same bytes, until the image goes — which is when the last
//! region or handle naming it goes (an unmapped region's after the TLB shootdown,
//! `space::Released`).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_hal::user::PageFrame;
use k42_kapi::{IMAGE_PAGE_SIZE, KError, MAX_IMAGE_PAGES};
use spin::Mutex;

use crate::mm;

/// An image: its pages by index (`None`: a hole), and whether it is sealed.
#[derive(Debug)]
pub struct ImageMem {
    pages: Mutex<Vec<Option<PageFrame>>>,
    sealed: AtomicBool,
}

/// A region's (or handle's) reference to an image. Two are equal when they name the same image,
/// so adjacent regions of one image merge and regions of two never do.
#[derive(Clone, Debug)]
pub struct ImageRef(Arc<ImageMem>);

impl PartialEq for ImageRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ImageRef {}

impl ImageRef {
    /// A new, unsealed image of `pages` holes: `BadArgument` for none or more than
    /// `MAX_IMAGE_PAGES`, `NoMemory` when the kernel heap has no room for its table.
    pub fn new(pages: u64) -> Result<Self, KError> {
        if pages == 0 || pages > MAX_IMAGE_PAGES {
            return Err(KError::BadArgument);
        }
        // Lossless: at most MAX_IMAGE_PAGES.
        let count = pages as usize;
        let mut table = Vec::new();
        table
            .try_reserve_exact(count)
            .map_err(|_| KError::NoMemory)?;
        table.resize_with(count, || None);
        Ok(Self(Arc::new(ImageMem {
            pages: Mutex::new(table),
            sealed: AtomicBool::new(false),
        })))
    }

    /// Its number of pages.
    pub fn pages(&self) -> u64 {
        self.0.pages.lock().len() as u64
    }

    /// Whether pages `first..first + count` lie in the image.
    pub fn holds(&self, first: u64, count: u64) -> bool {
        first
            .checked_add(count)
            .is_some_and(|end| end <= self.pages())
    }

    /// Whether it is sealed (it maps, and never changes again).
    pub fn sealed(&self) -> bool {
        self.0.sealed.load(Ordering::Acquire)
    }

    /// Seals it.
    pub fn seal(&self) {
        self.0.sealed.store(true, Ordering::Release);
    }

    /// Sets page `index` to `bytes` (`IMAGE_PAGE_SIZE` of them), or a hole with `None`.
    /// `WrongState` once sealed, `BadArgument` past the end, `NoMemory` without a frame.
    pub fn fill(&self, index: u64, bytes: Option<&[u8]>) -> Result<(), KError> {
        let mut pages = self.0.pages.lock();
        // Checked under the lock `seal` cannot take: a fill and a seal are both calls of the
        // image's maker, which the kernel serves one at a time per table.
        if self.sealed() {
            return Err(KError::WrongState);
        }
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| pages.get_mut(i))
            .ok_or(KError::BadArgument)?;
        match bytes {
            Some(bytes) if bytes.len() as u64 == IMAGE_PAGE_SIZE => {
                if slot.is_none() {
                    *slot = Some(mm::alloc_page().ok_or(KError::NoMemory)?);
                }
                if let Some(frame) = slot {
                    frame.write(0, bytes);
                }
            }
            Some(_) => return Err(KError::BadArgument),
            None => {
                if let Some(frame) = slot.take() {
                    mm::free_page(frame);
                }
            }
        }
        Ok(())
    }

    /// Runs `f` on page `index` (its frame, or `None` for a hole); `None` past the end. The
    /// image's lock is held while `f` runs (it maps or copies the frame).
    pub fn with_page<R>(&self, index: u64, f: impl FnOnce(Option<&PageFrame>) -> R) -> Option<R> {
        let pages = self.0.pages.lock();
        let page = pages.get(usize::try_from(index).ok()?)?;
        Some(f(page.as_ref()))
    }
}

impl Drop for ImageMem {
    fn drop(&mut self) {
        let pages = core::mem::take(self.pages.get_mut());
        pages.into_iter().flatten().for_each(mm::free_page);
    }
}
