//! Fresh anonymous memory from the kernel (`k42_kapi::Memory::map`), turned into Rust memory.
//! This is where a kernel-confirmed mapping becomes a `&mut [u8]` or heap space, so it lives in
//! the one crate allowed `unsafe`; the heap (`heap.rs`) and `k42_rt::memory` build on it.
//!
//! The soundness argument rests on one documented kernel rule: `Memory::map` refuses a range
//! that overlaps any existing mapping (`k42_kapi::Memory::map`: "not overlapping a mapping";
//! the kernel maps with a fixed, no-replace policy). So once a map call succeeds, nothing mapped
//! the range before and no Rust reference can point into it: the caller holds the only way to
//! the memory. The calls go through this module's own private transport, so a successful reply
//! really is the kernel's, and with the process's own `Memory` handle from its first entry
//! (recorded by `entry.rs`), so the mapping is in this address space and not another process's.
//!
//! Caveat (the object interface's, not this module's): the generated `MemoryClient::unmap` and
//! `protect` stubs are safe functions that can take memory away from under a reference — and an
//! unmap followed by a second `map_fresh` of the same range would alias the first slice. Unmap
//! only through [`unmap_fresh`], which takes the slice, as the runtime does; closing the hole
//! for good means not handing programs raw `Memory` clients (a later runtime change).

use core::sync::atomic::{AtomicU64, Ordering};

use k42_abi::kernel::{KERNEL_COMM_ID, Status};
use k42_kapi::{ImageClient, KError, MemoryClient, prot};
use k42_rights::XHandle;
use k42_rights::wire::{ARG_WORDS, CallError, DispatchError, Reply, Transport, decode_reply};

use crate::kcall::{self, UNDECODABLE_REPLY};

/// Why a map or unmap failed.
pub type MapError = CallError<KError>;

/// PPC to the kernel for this module's calls. `k42_rt::ppc::KernelPpc` is the same transport for
/// everyone else; this one is private so that a successful map below is known to be real.
struct Kernel;

impl Transport for Kernel {
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
        let out = kcall::ppc_call(KERNEL_COMM_ID, handle.to_word(), method, args);
        if out.status != Status::Ok as u64 {
            return Err(DispatchError::Transport(out.status));
        }
        decode_reply(out.words).unwrap_or(Err(DispatchError::Transport(UNDECODABLE_REPLY)))
    }
}

/// This process's own `Memory` handle word, from the first entry's `rsi` (0 before it).
static OWN_MEMORY: AtomicU64 = AtomicU64::new(0);

/// Records the first entry's `Memory` handle: the only one [`map_fresh`] and the heap use.
pub(crate) fn set_own_memory(handle: u64) {
    OWN_MEMORY.store(handle, Ordering::Release);
}

/// This process's own `Memory` handle word.
pub fn own_memory() -> u64 {
    OWN_MEMORY.load(Ordering::Acquire)
}

/// Maps `len` bytes at `addr` (page aligned, free) with `prot` (`k42_kapi::prot`) in the
/// address space `memory` (a `Memory` handle word) names. Mapping creates memory no Rust value
/// refers to yet, so this is safe; turning it into Rust memory is [`map_fresh`]'s job.
pub fn map(memory: u64, addr: u64, len: u64, prot: u8) -> Result<(), MapError> {
    MemoryClient::new(Kernel, XHandle::from_word(memory)).map(addr, len, prot)
}

/// Maps `len` bytes of fresh, zero-filled, read-write memory at `addr` of this process and
/// returns it.
pub fn map_fresh(addr: u64, len: u64) -> Result<&'static mut [u8], MapError> {
    let size = usize::try_from(len)
        .ok()
        .filter(|&n| n > 0 && isize::try_from(n).is_ok() && addr != 0)
        .ok_or(CallError::Method(KError::BadArgument))?;
    map(own_memory(), addr, len, prot::READ | prot::WRITE)?;
    // SAFETY: the kernel just mapped [addr, addr + len) read-write in this address space (the
    // handle is the process's own, from its first entry). The range was unmapped before (module
    // comment), so this slice is the only reference into it; it is non-null, within isize::MAX
    // (checked above), and stays mapped for 'static unless handed to `unmap_fresh`.
    Ok(unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, size) })
}

/// Maps `len` bytes of image `image` (an `Image` handle word with READ) from page `first` at
/// `addr` of this process, privately and read-write, and returns it: it reads as the image's
/// pages, and what is written goes into this process's own copies (`k42_kapi::Image`). The
/// kernel maps only a sealed image, which never changes, so nothing but the returned slice
/// changes these bytes. Unmap with [`unmap_fresh`].
pub fn map_image(
    image: u64,
    addr: u64,
    len: u64,
    first: u64,
) -> Result<&'static mut [u8], MapError> {
    let size = usize::try_from(len)
        .ok()
        .filter(|&n| n > 0 && isize::try_from(n).is_ok() && addr != 0)
        .ok_or(CallError::Method(KError::BadArgument))?;
    ImageClient::new(Kernel, XHandle::from_word(image)).map_private(
        addr,
        len,
        first,
        prot::READ | prot::WRITE,
    )?;
    // SAFETY: as in `map_fresh`: the kernel just mapped [addr, addr + len) read-write into this
    // address space (`map_private` maps into the caller's own memory only, and refuses a range
    // that overlaps a mapping), so this slice is the only reference into it. Its bytes change
    // only through it: `map_private` maps only a sealed image, which the kernel never changes
    // again (`Image::fill` refuses one).
    Ok(unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, size) })
}

/// Unmaps memory [`map_fresh`] returned, taking the reference so nothing can use it after.
pub fn unmap_fresh(region: &'static mut [u8]) -> Result<(), MapError> {
    let (addr, len) = (region.as_mut_ptr() as u64, region.len() as u64);
    MemoryClient::new(Kernel, XHandle::from_word(own_memory())).unmap(addr, len)
}
