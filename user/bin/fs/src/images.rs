//! File images for [`Fs::image`](k42_ifaces::fs::Fs::image): one kernel image
//! (`k42_kapi::Image`) per file version, made here from the ramfs's pages and given to callers
//! with READ, so `execve` and `mmap(MAP_PRIVATE)` map a file's pages instead of reading them
//! through this server (`serve.rs` keeps them by inode and data version).
//!
//! The kernel copies the pages straight out of the ramfs's memory: `Image::fill` takes a table
//! of addresses in this process. The ramfs's lock (`serve::STATE`) is held across those kernel
//! object calls, which the kernel answers at once without waiting on anyone, so the pages stay
//! put — unlike a call to another server, which this server never makes holding it.

use alloc::vec::Vec;

use k42_kapi::{IMAGE_PAGE_SIZE, ImageClient, KError, MAX_FILL_PAGES, MemoryClient};
use k42_linux::Errno;
use k42_ramfs::Ino;
use k42_rights::wire::{CallError, meta};
use k42_rights::{Badge, Rights, XHandle};
use k42_rt::{KernelPpc, log};

/// A kernel refusal as the errno a client sees: memory ran out, or the kernel's tables are full.
fn errno(e: CallError<KError>) -> Errno {
    match e {
        CallError::Method(KError::NoMemory | KError::Full) => Errno::ENOMEM,
        other => {
            log!("fs: a file image call failed: {other:?}");
            Errno::EIO
        }
    }
}

/// A new image of regular file `ino` (`size` bytes, not 0) as it is in `fs`; this server's
/// handle on it.
pub fn make(fs: &k42_ramfs::Fs, ino: Ino, size: u64) -> Result<XHandle, Errno> {
    let pages = size.div_ceil(IMAGE_PAGE_SIZE);
    let memory = XHandle::from_word(k42_rt::sys::vm::own_memory());
    let handle = MemoryClient::new(KernelPpc, memory)
        .make_image(pages)
        .map_err(errno)?;
    let handle = XHandle::from_word(handle);
    let mut image = ImageClient::new(KernelPpc, handle);
    let mut first = 0;
    while first < pages {
        let count = (pages - first).min(MAX_FILL_PAGES);
        // Each page's address in this process, 0 for a hole (a hole in the image too: no
        // memory, zeros when mapped).
        let table: Vec<u64> = (first..first + count)
            .map(|i| {
                fs.file_page(ino, i)
                    .map(|page| page.map_or(0, |p| p.as_ptr() as u64))
            })
            .collect::<Result<_, _>>()?;
        if let Err(e) = image.fill(first, table.as_ptr() as u64, count) {
            release(handle);
            return Err(errno(e));
        }
        first += count;
    }
    if let Err(e) = image.seal() {
        release(handle);
        return Err(errno(e));
    }
    Ok(handle)
}

/// A handle on `image` for `caller`, READ only.
pub fn give(image: XHandle, caller: Badge) -> Result<XHandle, Errno> {
    meta::give_access(&mut KernelPpc, image, caller, Rights::READ).map_err(|e| {
        log!("fs: cannot give a file image to {}: {e:?}", caller.0);
        Errno::ENOMEM
    })
}

/// Lets go of this server's handle on an image (its mappings keep it).
pub fn release(image: XHandle) {
    if let Err(e) = meta::release(&mut KernelPpc, image) {
        log!("fs: releasing a file image failed: {e:?}");
    }
}
