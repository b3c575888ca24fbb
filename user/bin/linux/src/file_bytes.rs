//! A program file's bytes for `execve` (`exec.rs`, `interp.rs`): mapped from the file server's
//! image of the file (`k42_ifaces::fs::Fs::image`, a kernel `k42_kapi::Image`) or, without one,
//! read through the server. Mapped, the file costs `execve` one call to the server and only the
//! pages the ELF checks touch (its headers); its segments are then mapped from the same image
//! into the program (`exec.rs`'s `map_segments`), so its text is shared by every process
//! running it and nothing is copied that is only read — where reading would copy the whole
//! file twice, a PPC data area at a time.
//!
//! The mapping is the personality's own, in a scratch range the program may not use
//! ([`EXEC_SCRATCH_BASE`], refused by `mem::program_may_use`), one slot per file at once (a
//! program and its interpreter); it goes, with the handle on the image, when the bytes are
//! dropped.

use alloc::vec::Vec;
use core::ops::Deref;
use core::sync::atomic::{AtomicU64, Ordering};

use k42_kapi::{IMAGE_PAGE_SIZE, MAX_IMAGE_PAGES};
use k42_rights::XHandle;
use k42_rights::wire::meta;
use k42_rt::{KernelPpc, log};

use crate::files::{self, Node};
use crate::layout::{EXEC_SCRATCH_BASE, EXEC_SCRATCH_SLOTS};

/// Bytes of one scratch slot: the largest image.
const SLOT_BYTES: u64 = MAX_IMAGE_PAGES * IMAGE_PAGE_SIZE;

/// Scratch slots in use, one bit each.
static SLOTS: AtomicU64 = AtomicU64::new(0);

/// A program file's bytes.
pub enum FileBytes {
    /// Read whole into the personality's heap.
    Read(Vec<u8>),
    /// Mapped from the file's image.
    Mapped(Mapped),
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Read(bytes) => bytes,
            Self::Mapped(m) => &m.region[..m.len],
        }
    }
}

/// A handle (READ) on the image the file server gives of a regular file
/// (`k42_ifaces::fs::Fs::image`), released when dropped: mappings made from it keep the image.
/// `execve` maps a program from one ([`Mapped`]), `mmap` a file (`calls/mmap_file.rs`).
pub struct FileImage {
    handle: XHandle,
    size: u64,
}

impl FileImage {
    /// The image of the regular file `node` is open on, if the server gives one (none for an
    /// empty file). A server call: no lock may be held.
    pub fn of(node: &Node) -> Option<Self> {
        let ((handle, size), _) = files::call(node, &[], |c| c.image()).ok()?;
        Some(Self {
            handle: XHandle::from_word(handle),
            size,
        })
    }

    /// The handle, for `k42_kapi::Image` calls.
    pub fn handle(&self) -> XHandle {
        self.handle
    }

    /// The file's size when the image was made.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Drop for FileImage {
    fn drop(&mut self) {
        if let Err(e) = meta::release(&mut KernelPpc, self.handle) {
            log!("linux: cannot release a file image: {e:?}");
        }
    }
}

/// A file image mapped privately in a scratch slot.
pub struct Mapped {
    /// The image, for mapping its pages into the program too.
    pub image: FileImage,
    region: &'static mut [u8],
    /// The file's length (the mapping is whole pages).
    len: usize,
    slot: u32,
}

impl Mapped {
    /// Maps all of `image` (`None` if it cannot be: the caller reads the file instead, and the
    /// image goes).
    pub fn new(image: FileImage) -> Option<Self> {
        let len = usize::try_from(image.size).ok()?;
        let bytes = image
            .size
            .div_ceil(IMAGE_PAGE_SIZE)
            .checked_mul(IMAGE_PAGE_SIZE)?;
        if bytes == 0 || bytes > SLOT_BYTES {
            return None;
        }
        let slot = take_slot()?;
        let at = EXEC_SCRATCH_BASE + u64::from(slot) * SLOT_BYTES;
        // The kernel maps only sealed images, which never change (`k42_kapi::Image`).
        match k42_rt::memory::map_image(image.handle.to_word(), at, bytes, 0) {
            Ok(region) => Some(Self {
                image,
                region,
                len,
                slot,
            }),
            Err(e) => {
                log!("linux: cannot map a program's file image: {e:?}");
                free_slot(slot);
                None
            }
        }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        let region = core::mem::take(&mut self.region);
        if let Err(e) = k42_rt::memory::unmap(region) {
            log!("linux: cannot unmap a program's file image: {e:?}");
        }
        free_slot(self.slot);
        // The handle goes with `image`, after the mapping.
    }
}

/// A free scratch slot, marked used.
fn take_slot() -> Option<u32> {
    let mut used = SLOTS.load(Ordering::Acquire);
    loop {
        let slot = (!used).trailing_zeros();
        if slot >= EXEC_SCRATCH_SLOTS {
            return None;
        }
        match SLOTS.compare_exchange(used, used | 1 << slot, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(slot),
            Err(now) => used = now,
        }
    }
}

fn free_slot(slot: u32) {
    SLOTS.fetch_and(!(1 << slot), Ordering::AcqRel);
}
