//! signalfd: `signalfd`, `signalfd4`, and the reads and readiness of the descriptor one makes
//! (Linux's `fs/signalfd.c`): a program blocks some signals and reads them as records from a
//! descriptor, or waits for them with `poll` or epoll, instead of taking them in a handler.
//!
//! A signalfd is the personality's own open file (`Kind::SignalFd`, [`OpenFile::signalfd`])
//! holding only its mask: the signals it reads are the reading thread's pending ones, which
//! the personality keeps (`crate::signals`). A read takes the lowest pending signal of the mask
//! at a time, without delivering it, as a `struct signalfd_siginfo`; with none pending it
//! waits until one of the mask is pending (blocked or not) or a signal to deliver ends the
//! wait (`ERESTARTSYS`). `poll`, `select` and epoll report it readable while one of its mask
//! is pending, and wait for one (`calls/poll.rs`, `Waits::signals`). As on Linux, a fork
//! child's copy reads the child's own signals, and `signalfd` on an existing one changes its
//! mask, waking the reads that wait on it; a `poll` or epoll wait already asleep keeps the
//! mask it began with until something else wakes it (a departure).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use k42_linux::raw::general as g;
use k42_linux::signal::{self as sig, Info};
use k42_linux::{Errno, SysResult};

use crate::calls::poll::INPUT as READABLE;
use crate::fd::OpenFile;
use crate::signals::{self, Woken};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;
use crate::waiters::Waiters;
use spin::Mutex;

/// What `/proc/self/fd` shows for a signalfd (Linux's anonymous inode name).
pub const SIGNALFD_NAME: &str = "anon_inode:[signalfd]";
/// `SFD_CLOEXEC` and `SFD_NONBLOCK`: the open flags of the same values (`signalfd.h`).
const SFD_CLOEXEC: u32 = g::O_CLOEXEC;
const SFD_NONBLOCK: u32 = g::O_NONBLOCK;
/// Bytes of the kernel's `sigset_t`, the one mask size `signalfd` takes.
const SIGSET_BYTES: u64 = 8;
/// Bytes of a `struct signalfd_siginfo`, what a read returns per signal.
const SIGINFO_BYTES: u64 = 128;
/// Offsets of the fields of `struct signalfd_siginfo` a read fills.
const SSI_SIGNO: usize = 0;
const SSI_CODE: usize = 8;
const SSI_PID: usize = 12;
const SSI_UID: usize = 16;
const SSI_STATUS: usize = 40;
const SSI_ADDR: usize = 72;

/// A signalfd: the signals it reads, and the threads whose read waits on it (woken when the
/// mask changes, as Linux's `signalfd4` wakes the signalfd wait queue).
#[derive(Debug)]
pub struct SignalFd {
    mask: AtomicU64,
    waiters: Mutex<Waiters>,
}

impl SignalFd {
    /// The signals it reads.
    pub fn mask(&self) -> u64 {
        self.mask.load(Ordering::Acquire)
    }

    fn new(mask: u64) -> Self {
        Self {
            mask: AtomicU64::new(mask),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// A copy for a fork child (whose threads wait on nothing yet).
    pub fn copy(&self) -> Self {
        Self::new(self.mask())
    }

    /// Whether another thread holds the waiters' lock (a fork waits until none does).
    pub fn is_locked(&self) -> bool {
        self.waiters.is_locked()
    }

    /// Readable while a signal of its mask is pending (`signalfd_poll`).
    pub fn revents(&self, linux: &Linux) -> u16 {
        if signals::pending_in(linux, self.mask()) != 0 {
            READABLE
        } else {
            0
        }
    }
}

/// `signalfd(fd, mask, sizemask)`: `signalfd4` without flags.
pub fn signalfd(linux: &Linux, args: &Args) -> SysResult {
    signalfd4(linux, &[args[0], args[1], args[2], 0, 0, 0])
}

/// `signalfd4(fd, mask, sizemask, flags)`, its checks in Linux's order: the size (`EINVAL`),
/// the mask (`EFAULT`), the flags (`EINVAL`); then a new signalfd for `fd` = -1, or the mask
/// of signalfd `fd` changed (`EBADF`, `EINVAL` for another kind of file). SIGKILL and SIGSTOP
/// are never read.
pub fn signalfd4(linux: &Linux, args: &Args) -> SysResult {
    if args[2] != SIGSET_BYTES {
        return Err(Errno::EINVAL);
    }
    let [mask] = uaccess::read_words::<1>(linux, args[1])?;
    let flags = args[3] as u32;
    if flags & !(SFD_CLOEXEC | SFD_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let mask = mask & !sig::UNBLOCKABLE;
    // A C int.
    let fd = args[0] as i32;
    if fd == -1 {
        let file = OpenFile::signalfd(g::O_RDWR | (flags & SFD_NONBLOCK), SignalFd::new(mask));
        return linux.fds.lock().install(file, flags & SFD_CLOEXEC != 0);
    }
    let file = linux.fds.lock().get(u64::from(fd as u32))?;
    let signalfd = file.signalfd.as_ref().ok_or(Errno::EINVAL)?;
    signalfd.mask.store(mask, Ordering::Release);
    // Reads waiting on it look again with the new mask.
    let woken = signalfd.waiters.lock().wake_all();
    woken.wake();
    Ok(fd as u64)
}

/// A signal as a `struct signalfd_siginfo` (`signalfd_copyinfo`): its number and code, and
/// the sender for a signal sent, the child's status for SIGCHLD, the address for a fault.
fn siginfo(info: &Info) -> [u8; SIGINFO_BYTES as usize] {
    let mut out = [0u8; SIGINFO_BYTES as usize];
    let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
    put(SSI_SIGNO, &info.signo.to_le_bytes());
    put(SSI_CODE, &info.code.to_le_bytes());
    if info.addr != 0 {
        put(SSI_ADDR, &info.addr.to_le_bytes());
    } else {
        put(SSI_PID, &info.pid.to_le_bytes());
        put(SSI_UID, &info.uid.to_le_bytes());
    }
    if info.signo == g::SIGCHLD {
        // `si_status`, a C int.
        put(SSI_STATUS, &(info.status as u32).to_le_bytes());
    }
    out
}

/// A read of a signalfd into the program's buffer at `addr`: as many pending signals of its
/// mask as records fit (at least one: waiting for it unless `O_NONBLOCK`). A record that
/// cannot be written loses its signal, as on Linux; `EFAULT` if it was the first.
pub fn read(linux: &Linux, file: &OpenFile, addr: u64, len: u64) -> SysResult {
    let room = len / SIGINFO_BYTES;
    if room == 0 {
        return Err(Errno::EINVAL);
    }
    let signalfd = file.signalfd.as_ref().ok_or(Errno::EINVAL)?;
    let mut read = 0u64;
    while read < room {
        let Some(info) = take_or_wait(linux, file, signalfd, read == 0)? else {
            break;
        };
        let at = addr
            .checked_add(read * SIGINFO_BYTES)
            .ok_or(Errno::EFAULT)?;
        if let Err(e) = uaccess::write(linux, at, &siginfo(&info)) {
            if read == 0 {
                return Err(e);
            }
            break;
        }
        read += 1;
    }
    Ok(read * SIGINFO_BYTES)
}

/// The next pending signal of `signalfd`'s mask; with none, `None` unless `wait`, when the
/// thread waits for one (`EAGAIN` with `O_NONBLOCK`): until a signal of the mask is pending
/// (blocked or not), the mask changes, or a signal to deliver ends the wait (`ERESTARTSYS`).
/// The thread joins the waiters before each look, so a change just after it is not missed.
fn take_or_wait(
    linux: &Linux,
    file: &OpenFile,
    signalfd: &SignalFd,
    wait: bool,
) -> Result<Option<Info>, Errno> {
    loop {
        let woken = Arc::new(AtomicBool::new(false));
        signalfd.waiters.lock().add(&woken);
        let mask = signalfd.mask();
        let taken = signals::take_pending_in(linux, mask);
        if taken.is_some() || !wait || file.flags() & g::O_NONBLOCK != 0 {
            signalfd.waiters.lock().remove(&woken);
            return match taken {
                None if wait => Err(Errno::EAGAIN),
                taken => Ok(taken),
            };
        }
        let cond = || woken.load(Ordering::Acquire);
        let woke = signals::wait_or_pending(linux, None, |_| false, mask, cond);
        signalfd.waiters.lock().remove(&woken);
        // A signal of the mask (one not blocked, too) is read before a signal ends the read,
        // as `signalfd_dequeue` dequeues before it looks for one pending.
        if matches!(woke, Woken::Signal) && signals::pending_in(linux, signalfd.mask()) == 0 {
            return Err(Errno::ERESTARTSYS);
        }
    }
}
