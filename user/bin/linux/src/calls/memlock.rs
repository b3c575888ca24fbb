//! Locking memory and writing it back: `mlock`, `mlock2`, `munlock`, `mlockall`,
//! `munlockall`, `msync`, with Linux 6.1's checks in its order (`mm/mlock.c`, `mm/msync.c`).
//!
//! K42 never pages a program's memory out, so a locked page stays resident as every page does,
//! and nothing the program can map is written back later: a writable shared mapping of a file
//! is refused at `mmap` (`calls/mmap_file.rs`), and shared anonymous memory has no file. So
//! each call checks its arguments and that the range is mapped (`ENOMEM` for a hole, from the
//! personality's map, `crate::mem`) and succeeds. Departures: `mlock` does not fault the pages
//! in ahead of time (a later touch may still take a page fault, which on K42 is the kernel's
//! zero-fill or copy, never a wait for a disk), no lock is recorded (`/proc/PID/status` shows
//! no `VmLck`, and `msync(MS_INVALIDATE)` of a locked range is not `EBUSY`), and
//! `RLIMIT_MEMLOCK` bounds nothing but the unprivileged caller's right to lock at all.

use k42_linux::raw::general as g;
use k42_linux::{Errno, PAGE_SIZE, SysResult};

use crate::state::Linux;
use crate::table::Args;

/// Offset of `addr` in its page.
fn in_page(addr: u64) -> u64 {
    addr & (PAGE_SIZE - 1)
}

/// `can_do_mlock`: a nonzero `RLIMIT_MEMLOCK`, or root (`CAP_IPC_LOCK`); `EPERM` otherwise.
fn may_lock(linux: &Linux) -> Result<(), Errno> {
    let limit = linux
        .fds
        .lock()
        .limits
        .get(g::RLIMIT_MEMLOCK)
        .map_or(0, |l| l.soft);
    if limit != 0 || linux.creds.euid() == 0 {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// The whole pages `[start, end)` that `addr` and `len` touch, as `do_mlock` rounds them:
/// modulo 2^64, as Linux's `PAGE_ALIGN` (a length that wraps to 0 is an empty range); `EINVAL`
/// if the end wraps below the start.
fn touched_pages(addr: u64, len: u64) -> Result<(u64, u64), Errno> {
    let start = addr - in_page(addr);
    let len = len.wrapping_add(in_page(addr)).wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    let end = start.wrapping_add(len);
    if end < start {
        return Err(Errno::EINVAL);
    }
    Ok((start, end))
}

/// `ENOMEM` unless every page of `[start, end)` is mapped.
fn mapped(linux: &Linux, start: u64, end: u64) -> Result<(), Errno> {
    if linux.mem.lock().space.is_mapped(start, end) {
        Ok(())
    } else {
        Err(Errno::ENOMEM)
    }
}

/// `mlock`'s and `mlock2`'s work once the flags are checked.
fn lock(linux: &Linux, addr: u64, len: u64) -> SysResult {
    may_lock(linux)?;
    let (start, end) = touched_pages(addr, len)?;
    mapped(linux, start, end).map(|()| 0)
}

/// `mlock(addr, len)`.
pub fn mlock(linux: &Linux, args: &Args) -> SysResult {
    lock(linux, args[0], args[1])
}

/// `mlock2(addr, len, flags)`: `MLOCK_ONFAULT` is the only flag.
pub fn mlock2(linux: &Linux, args: &Args) -> SysResult {
    if args[2] as u32 & !g::MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    lock(linux, args[0], args[1])
}

/// `munlock(addr, len)`: anyone may.
pub fn munlock(linux: &Linux, args: &Args) -> SysResult {
    let (start, end) = touched_pages(args[0], args[1])?;
    mapped(linux, start, end).map(|()| 0)
}

/// `mlockall(flags)`: `MCL_CURRENT`, `MCL_FUTURE`, and `MCL_ONFAULT` with one of them.
pub fn mlockall(linux: &Linux, args: &Args) -> SysResult {
    let flags = args[0] as u32;
    let known = g::MCL_CURRENT | g::MCL_FUTURE | g::MCL_ONFAULT;
    if flags == 0 || flags & !known != 0 || flags == g::MCL_ONFAULT {
        return Err(Errno::EINVAL);
    }
    may_lock(linux).map(|()| 0)
}

/// `munlockall()`.
pub fn munlockall(_: &Linux, _: &Args) -> SysResult {
    Ok(0)
}

/// `msync(addr, len, flags)`: `EINVAL` for an unknown flag, an address inside a page, or
/// `MS_ASYNC` with `MS_SYNC`; `ENOMEM` if the end wraps or the range has a hole.
pub fn msync(linux: &Linux, args: &Args) -> SysResult {
    let (addr, len, flags) = (args[0], args[1], args[2] as u32);
    let known = g::MS_ASYNC | g::MS_INVALIDATE | g::MS_SYNC;
    let both = g::MS_ASYNC | g::MS_SYNC;
    if flags & !known != 0 || in_page(addr) != 0 || flags & both == both {
        return Err(Errno::EINVAL);
    }
    // Linux rounds the length up modulo 2^64: a length that wraps to 0 is an empty range.
    let len = len.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
    mapped(linux, addr, end).map(|()| 0)
}
