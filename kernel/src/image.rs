//! File images (`k42_kapi::Image`): the bytes of one version of a file as whole pages, K42's FR
//! for a file whose pages are resident. The file server fills an image once; the processes it
//! gives access to map ranges of it privately (`space.rs`, `Backing::Image`): a read maps the
//! image's frame read-only, a write copies it into the process's copy-on-write leaf. So every
//! process running one program shares its text, and an `execve` reads nothing through the file
//! server per page.
//!
//! An image's pages are made when it is (zeroed) and only ever overwritten in place by `fill`,
//! so a frame a page table maps stays the image's until the image goes — which is when the last
//! region naming it goes, after the TLB shootdown (`space::Released`), or with its space.

use alloc::sync::Arc;
use alloc::vec::Vec;

use k42_hal::user::PageFrame;
use k42_kapi::{IMAGE_PAGE_SIZE, KError, MAX_IMAGE_PAGES};
use spin::Mutex;

use crate::mm;

/// An image: its frames, by page index.
#[derive(Debug)]
pub struct ImageMem {
    pages: Mutex<Vec<PageFrame>>,
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
    /// A new image of `pages` zeroed pages: `BadArgument` for none or more than
    /// `MAX_IMAGE_PAGES`, `NoMemory` when frames run out (those taken go back).
    pub fn new(pages: u64) -> Result<Self, KError> {
        if pages == 0 || pages > MAX_IMAGE_PAGES {
            return Err(KError::BadArgument);
        }
        // Lossless: at most MAX_IMAGE_PAGES.
        let count = pages as usize;
        let mut frames = Vec::new();
        frames
            .try_reserve_exact(count)
            .map_err(|_| KError::NoMemory)?;
        for _ in 0..count {
            match mm::alloc_page() {
                Some(frame) => frames.push(frame),
                None => {
                    frames.into_iter().for_each(mm::free_page);
                    return Err(KError::NoMemory);
                }
            }
        }
        Ok(Self(Arc::new(ImageMem {
            pages: Mutex::new(frames),
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

    /// Overwrites page `index` with `bytes` (`IMAGE_PAGE_SIZE` of them), or zeros with `None`.
    pub fn fill(&self, index: u64, bytes: Option<&[u8]>) -> Result<(), KError> {
        let pages = self.0.pages.lock();
        let frame = usize::try_from(index)
            .ok()
            .and_then(|i| pages.get(i))
            .ok_or(KError::BadArgument)?;
        match bytes {
            Some(bytes) if bytes.len() as u64 == IMAGE_PAGE_SIZE => frame.write(0, bytes),
            Some(_) => return Err(KError::BadArgument),
            None => frame.zero(),
        }
        Ok(())
    }

    /// Runs `f` on page `index`'s frame (`None` past the end). The image's lock is held while
    /// `f` runs (it maps or copies the frame).
    pub fn with_page<R>(&self, index: u64, f: impl FnOnce(&PageFrame) -> R) -> Option<R> {
        let pages = self.0.pages.lock();
        let frame = pages.get(usize::try_from(index).ok()?)?;
        Some(f(frame))
    }
}

impl Drop for ImageMem {
    fn drop(&mut self) {
        let pages = core::mem::take(self.pages.get_mut());
        pages.into_iter().for_each(mm::free_page);
    }
}
