//! Readiness: `poll`, `ppoll`, `select`, `pselect6`. Every open file the personality has now is
//! always ready — files and the memory devices never block (as on Linux), and console output
//! is written synchronously. Console *input* is reported ready too: a read that follows then
//! waits for the input in the program's thread (`io.rs`), which is what a program blocked in
//! poll would do next. Precise console readiness (a timeout that runs out with no key pressed,
//! `read -t`) needs a readiness query of the console server, and pipes need their server
//! (issue #5): both come with them. A poll with nothing ready sleeps its timeout.

use alloc::vec::Vec;

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rt::thread;

use crate::fd::MAX_FDS;
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// Bytes of `struct pollfd` (int fd; short events; short revents).
const POLLFD_BYTES: usize = 8;
/// The events an open file here reports when asked.
const READY: u16 = (g::POLLIN | g::POLLOUT | g::POLLRDNORM | g::POLLWRNORM) as u16;
const NS_PER_MS: u64 = 1_000_000;
const NS_PER_US: u64 = 1_000;
const NS_PER_SEC: u64 = 1_000_000_000;

/// Polls `nfds` entries at `addr`; `timeout_ns` None waits forever.
fn poll_fds(linux: &Linux, addr: u64, nfds: u64, timeout_ns: Option<u64>) -> SysResult {
    if nfds > MAX_FDS as u64 {
        return Err(Errno::EINVAL);
    }
    let mut bytes = uaccess::read(linux, addr, nfds as usize * POLLFD_BYTES)?;
    let mut ready = 0u64;
    {
        let fds = linux.fds.lock();
        for entry in bytes.chunks_mut(POLLFD_BYTES) {
            let fd = i32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]);
            let events = u16::from_le_bytes([entry[4], entry[5]]);
            let revents = match u64::try_from(fd) {
                Err(_) => 0,
                Ok(fd) => match fds.get(fd) {
                    Ok(_) => events & READY,
                    Err(_) => g::POLLNVAL as u16,
                },
            };
            entry[6..8].copy_from_slice(&revents.to_le_bytes());
            ready += u64::from(revents != 0);
        }
    }
    uaccess::write(linux, addr, &bytes)?;
    if ready == 0 {
        nap(timeout_ns);
    }
    Ok(ready)
}

/// Nothing is ready and nothing can become ready (module comment): sleeps the timeout; with
/// none, sleeps until a signal would interrupt it — forever, until signals exist.
fn nap(timeout_ns: Option<u64>) {
    match timeout_ns {
        Some(0) => {}
        Some(ns) => thread::sleep(ns),
        None => loop {
            thread::sleep(u64::MAX / 2);
        },
    }
}

/// `poll(fds, nfds, timeout_ms)`: a negative timeout waits forever.
pub fn poll(linux: &Linux, args: &Args) -> SysResult {
    let ms = args[2] as i32;
    let timeout = u64::try_from(ms).ok().map(|ms| ms * NS_PER_MS);
    poll_fds(linux, args[0], args[1], timeout)
}

/// A `struct timespec` timeout (null: forever).
fn timespec(linux: &Linux, addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let [sec, nsec] = uaccess::read_words::<2>(linux, addr)?;
    if (sec as i64) < 0 || nsec >= NS_PER_SEC {
        return Err(Errno::EINVAL);
    }
    Ok(Some(sec.saturating_mul(NS_PER_SEC).saturating_add(nsec)))
}

/// `ppoll(fds, nfds, timeout, sigmask, sigsetsize)`: the mask changes nothing until signals
/// are delivered.
pub fn ppoll(linux: &Linux, args: &Args) -> SysResult {
    let timeout = timespec(linux, args[2])?;
    poll_fds(linux, args[0], args[1], timeout)
}

/// Words of an `fd_set` for `nfds` descriptors.
fn set_words(nfds: usize) -> usize {
    nfds.div_ceil(64)
}

/// The select core: every valid descriptor in the read and write sets is ready; none has an
/// exceptional condition; a descriptor not open is `EBADF`.
fn select_fds(linux: &Linux, nfds: u64, sets: [u64; 3], timeout_ns: Option<u64>) -> SysResult {
    let nfds = usize::try_from(nfds as u32 as i32).map_err(|_| Errno::EINVAL)?;
    if nfds > MAX_FDS {
        return Err(Errno::EINVAL);
    }
    let words = set_words(nfds);
    let mut read_sets: Vec<Option<Vec<u8>>> = Vec::new();
    for addr in sets {
        read_sets.push(match addr {
            0 => None,
            addr => Some(uaccess::read(linux, addr, words * 8)?),
        });
    }
    let mut ready = 0u64;
    {
        let fds = linux.fds.lock();
        for fd in 0..nfds {
            let (byte, bit) = (fd / 8, 1u8 << (fd % 8));
            let asked = read_sets.iter().flatten().any(|set| set[byte] & bit != 0);
            if asked && fds.get(fd as u64).is_err() {
                return Err(Errno::EBADF);
            }
        }
    }
    for (i, set) in read_sets.iter_mut().enumerate() {
        if let Some(set) = set {
            if i == 2 {
                set.fill(0);
            }
            ready += set.iter().map(|b| u64::from(b.count_ones())).sum::<u64>();
        }
    }
    for (addr, set) in sets.iter().zip(&read_sets) {
        if let Some(set) = set {
            uaccess::write(linux, *addr, set)?;
        }
    }
    if ready == 0 {
        nap(timeout_ns);
    }
    Ok(ready)
}

/// `select(nfds, readfds, writefds, exceptfds, timeout)` (a `struct timeval`).
pub fn select(linux: &Linux, args: &Args) -> SysResult {
    let timeout = match args[4] {
        0 => None,
        addr => {
            let [sec, usec] = uaccess::read_words::<2>(linux, addr)?;
            if (sec as i64) < 0 || usec >= NS_PER_SEC / NS_PER_US {
                return Err(Errno::EINVAL);
            }
            Some(
                sec.saturating_mul(NS_PER_SEC)
                    .saturating_add(usec * NS_PER_US),
            )
        }
    };
    select_fds(linux, args[0], [args[1], args[2], args[3]], timeout)
}

/// `pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask)`.
pub fn pselect6(linux: &Linux, args: &Args) -> SysResult {
    let timeout = timespec(linux, args[4])?;
    select_fds(linux, args[0], [args[1], args[2], args[3]], timeout)
}
