//! `mmap` of a file descriptor, the personality's part: which open file the descriptor names
//! and what it is to Linux's checks ([`source`]; the checks and what a mapping becomes are
//! `k42_linux::mmap_space::file`, host-tested), and the filling of a new mapping with the
//! file's bytes ([`fill`]). `crate::mem::mmap` places and records the mapping, maps it
//! writable in the kernel, calls [`fill`], then gives it the protection the program asked for.
//!
//! A regular file with an image at the file server (`k42_ifaces::fs::Fs::image`, every
//! non-empty one) is not filled at all: [`map_image`] maps its pages privately from the image,
//! as `execve` maps programs (`crate::file_bytes`), so nothing is read or copied until written.
//! [`fill`] is for the rest (a file with no image).
//!
//! The bytes come from the file server as `pread64`'s do (`calls/file.rs`: `Fs::read` at an
//! offset, a PPC data area at a time), and go into the mapping through `uaccess`'s checked
//! copy. No lock is held across the server calls (a call that must wait lets the process's
//! other threads run: `k42_rt::ppc`), so each piece is written under the memory map's lock
//! on its own.

use alloc::sync::Arc;

use k42_linux::mmap_space::file::{Object, Source};
use k42_linux::raw::general as g;
use k42_linux::{Errno, PAGE_SIZE};

use k42_kapi::{ImageClient, MemoryClient};
use k42_rt::KernelPpc;

use crate::calls::file::CHUNK;
use crate::fd::{Kind, OpenFile};
use crate::file_bytes::FileImage;
use crate::files;
use crate::mem;
use crate::state::Linux;
use crate::uaccess;

/// The open file `fd` names and what it is to `mmap`: `EBADF` if none, or if it was opened
/// `O_PATH` (Linux's `fget` does not hand those out).
pub fn source(linux: &Linux, fd: u64) -> Result<(Arc<OpenFile>, Source), Errno> {
    // Linux's `fget` takes an unsigned int: the upper half of the register is ignored.
    let file = linux.fds.lock().get(u64::from(fd as u32))?;
    if file.flags() & g::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let object = match file.kind {
        // A FIFO opened O_RDWR is a `Kind::File` holding its pipe end (`crate::fd::Kind`).
        Kind::File if file.fifo.is_none() && file.node.is_some() => Object::Regular,
        Kind::Zero => Object::Zero,
        _ => Object::Unmappable,
    };
    let source = Source {
        object,
        readable: file.readable(),
        writable: file.writable(),
    };
    Ok((file, source))
}

/// The image of the regular file `file` is open on, if the file server gives one (an empty
/// file has none): a server call, so no lock may be held.
pub fn image(file: &OpenFile) -> Option<FileImage> {
    file.node.as_deref().and_then(FileImage::of)
}

/// Maps `len` bytes (whole pages) at `start` from `image` at file `offset` (page aligned),
/// privately, with `prot` (Linux's bits): the file's pages from the image (read-only until
/// written, then the process's own; the last file page's bytes past the end are zero in the
/// image, as Linux shows them). Pages wholly past the file's end are mapped with no access and
/// returned, for the caller to record as such (`mem::Mem::past_eof`: a touch is SIGBUS, as on
/// Linux). Nothing is read or copied.
pub fn map_image(
    linux: &Linux,
    image: &FileImage,
    start: u64,
    len: u64,
    offset: u64,
    prot: u8,
) -> Result<Option<(u64, u64)>, Errno> {
    let file_pages = image.size().div_ceil(PAGE_SIZE);
    let first = offset / PAGE_SIZE;
    let covered = file_pages
        .saturating_sub(first)
        .saturating_mul(PAGE_SIZE)
        .min(len);
    let kprot = mem::kernel_prot(prot);
    if covered != 0 {
        ImageClient::new(KernelPpc, image.handle())
            .map_private(start, covered, first, kprot)
            .map_err(|_| Errno::ENOMEM)?;
    }
    if len == covered {
        return Ok(None);
    }
    let mapped =
        MemoryClient::new(KernelPpc, linux.memory).map(start + covered, len - covered, NO_ACCESS);
    if mapped.is_err() {
        if covered != 0 {
            let _ = MemoryClient::new(KernelPpc, linux.memory).unmap(start, covered);
        }
        return Err(Errno::ENOMEM);
    }
    Ok(Some((start + covered, start + len)))
}

/// The kernel protection of pages past a file's end: none.
const NO_ACCESS: u8 = 0;

/// Fills the `len` bytes of program memory at `start` — a new mapping, writable, zero-filled —
/// with the file's bytes from `offset`, as many server calls as it takes, stopping at the end
/// of the file: what lies past it stays zero (the rest of the last page, as on Linux; the
/// caller makes whole pages past it inaccessible). Pieces of zeros are not written, so a file's
/// holes leave the mapping's pages untouched until the program writes them. Returns how many
/// bytes the file had for the mapping.
pub fn fill(
    linux: &Linux,
    file: &OpenFile,
    start: u64,
    len: u64,
    offset: u64,
) -> Result<u64, Errno> {
    let node = file.node.as_ref().ok_or(Errno::EBADF)?;
    let mut done = 0u64;
    while done < len {
        let want = (len - done).min(CHUNK as u64);
        // Within the largest file offset: `mmap_space::file::plan` checked offset + len.
        let at = offset.checked_add(done).ok_or(Errno::EOVERFLOW)?;
        let (n, bytes) = files::call(node, &[], |c| c.read(at, want))?;
        let n = n.min(want).min(bytes.len() as u64);
        let piece = &bytes[..n as usize];
        if piece.iter().any(|&b| b != 0) {
            uaccess::write(linux, start + done, piece)?;
        }
        done += n;
        if n < want {
            break;
        }
    }
    Ok(done)
}
