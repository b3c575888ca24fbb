//! eventfd: `eventfd`, `eventfd2`, and the reads, writes and readiness of the counter one
//! makes (Linux's `fs/eventfd.c`). Programs use it to wake a thread that waits in `read`,
//! `poll` or `epoll_wait` (mio's and tokio's waker, glib's main loop).
//!
//! An eventfd is the personality's own open file (`Kind::EventFd`, [`OpenFile::counter`]): a
//! 64-bit counter and the threads waiting on it, under one lock. No server keeps it, because
//! every thread that reads or writes it runs in this process: a write adds to the counter, a
//! read takes it (or one, with `EFD_SEMAPHORE`), and either wakes every waiter, which looks
//! again. A read of a zero counter, or a write that would take it to `u64::MAX`, waits as
//! Linux's does (or answers `EAGAIN` with `O_NONBLOCK`); a signal ends the wait
//! (`ERESTARTSYS`). `poll`, `select` and epoll ask [`Counter::revents`] and wait through
//! [`Counter::wait_for`] (`calls/poll.rs`).
//!
//! Departure, which `docs/linux-personality.md` lists: after a fork the child has a copy of
//! the counter, not the same one (a process's memory is its own here), so a parent and its
//! child cannot signal each other through an eventfd they share.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use spin::Mutex;

use crate::calls::poll::INPUT as READABLE;
use crate::fd::OpenFile;
use crate::signals::{self, Woken};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess::{self, Source};
use crate::waiters::Waiters;

/// What `/proc/self/fd` shows for an eventfd (Linux's anonymous inode name).
pub const EVENTFD_NAME: &str = "anon_inode:[eventfd]";
/// The flags `eventfd2` takes.
const FLAGS: u32 = g::EFD_SEMAPHORE | g::EFD_CLOEXEC | g::EFD_NONBLOCK;
/// Bytes a read or write moves: the counter's.
const COUNT_BYTES: u64 = 8;
/// The most the counter holds: a write never takes it to `u64::MAX`.
const MAX_COUNT: u64 = u64::MAX - 1;
const WRITABLE: u16 = (g::POLLOUT | g::POLLWRNORM) as u16;

#[derive(Debug, Default)]
struct State {
    value: u64,
    waiters: Waiters,
}

/// An eventfd's counter (module comment).
#[derive(Debug, Default)]
pub struct Counter {
    /// `EFD_SEMAPHORE`: a read takes one, not the whole count.
    semaphore: bool,
    state: Mutex<State>,
}

impl Counter {
    fn new(value: u64, semaphore: bool) -> Self {
        Self {
            semaphore,
            state: Mutex::new(State {
                value,
                waiters: Waiters::default(),
            }),
        }
    }

    /// A copy for a fork child (whose threads wait on nothing yet).
    pub fn copy(&self) -> Self {
        Self::new(self.state.lock().value, self.semaphore)
    }

    /// Whether another thread holds the lock (a fork waits until none does).
    pub fn is_locked(&self) -> bool {
        self.state.is_locked()
    }

    /// The readiness `eventfd_poll` reports: readable with a count, writable while one more
    /// can be added.
    pub fn revents(&self) -> u16 {
        readiness(self.state.lock().value)
    }

    /// Makes this thread a waiter for `events` (`poll`'s wait): [`Counter::wait_until`] they
    /// hold.
    pub fn wait_for(&self, events: u16, woken: &Arc<AtomicBool>) {
        self.wait_until(|value| readiness(value) & events != 0, woken);
    }

    /// Makes this thread a waiter until `ready` holds of the count: `woken` is set (and the
    /// thread unparked) at the counter's next change, or at once if `ready` holds already (the
    /// look that found it false came before this).
    fn wait_until(&self, ready: impl Fn(u64) -> bool, woken: &Arc<AtomicBool>) {
        let mut state = self.state.lock();
        if ready(state.value) {
            woken.store(true, Ordering::Release);
            return;
        }
        state.waiters.add(woken);
    }

    /// Removes the waiter whose flag is `woken` (if a change has not already).
    pub fn stop_waiting(&self, woken: &Arc<AtomicBool>) {
        self.state.lock().waiters.remove(woken);
    }

    /// Takes the count (one with `EFD_SEMAPHORE`) if there is any, waking the waiters.
    fn take(&self) -> Option<u64> {
        let mut state = self.state.lock();
        if state.value == 0 {
            return None;
        }
        let taken = if self.semaphore { 1 } else { state.value };
        state.value -= taken;
        let woken = state.waiters.wake_all();
        drop(state);
        woken.wake();
        Some(taken)
    }

    /// Adds `n` if the count stays at most [`MAX_COUNT`], waking the waiters.
    fn add(&self, n: u64) -> bool {
        let mut state = self.state.lock();
        if MAX_COUNT - state.value < n {
            return false;
        }
        state.value += n;
        if n != 0 {
            let woken = state.waiters.wake_all();
            drop(state);
            woken.wake();
        }
        true
    }
}

fn readiness(value: u64) -> u16 {
    let readable = if value > 0 { READABLE } else { 0 };
    let writable = if value < MAX_COUNT { WRITABLE } else { 0 };
    readable | writable
}

/// `eventfd(initval)`: `eventfd2` without flags.
pub fn eventfd(linux: &Linux, args: &Args) -> SysResult {
    create(linux, args[0], 0)
}

/// `eventfd2(initval, flags)`.
pub fn eventfd2(linux: &Linux, args: &Args) -> SysResult {
    create(linux, args[0], args[1] as u32)
}

fn create(linux: &Linux, initval: u64, flags: u32) -> SysResult {
    if flags & !FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    // The initial value is a C unsigned int.
    let counter = Counter::new(u64::from(initval as u32), flags & g::EFD_SEMAPHORE != 0);
    let file = OpenFile::eventfd(g::O_RDWR | (flags & g::EFD_NONBLOCK), counter);
    linux.fds.lock().install(file, flags & g::EFD_CLOEXEC != 0)
}

fn counter(file: &OpenFile) -> Result<&Counter, Errno> {
    file.counter.as_deref().ok_or(Errno::EINVAL)
}

fn nonblocking(file: &OpenFile) -> bool {
    file.flags() & g::O_NONBLOCK != 0
}

/// Waits until `ready` may hold of the count: `ERESTARTSYS` when a signal is to be delivered
/// first, as Linux's eventfd waits answer.
fn wait_change(linux: &Linux, counter: &Counter, ready: impl Fn(u64) -> bool) -> Result<(), Errno> {
    let woken = Arc::new(AtomicBool::new(false));
    counter.wait_until(ready, &woken);
    let woke = signals::wait_or(linux, None, |_| false, || woken.load(Ordering::Acquire));
    counter.stop_waiting(&woken);
    match woke {
        Woken::Signal => Err(Errno::ERESTARTSYS),
        Woken::Timeout | Woken::Message => Ok(()),
    }
}

/// A read of an eventfd into the program's buffer at `addr`: the count (or one), once there
/// is one. Taken before it is written out, as on Linux: a buffer that faults loses it.
pub fn read(linux: &Linux, file: &OpenFile, addr: u64, len: u64) -> SysResult {
    read_scattered(linux, file, &[(addr, len)])
}

/// A read of an eventfd into the program's buffers `vecs` (address, length), as Linux 6.1's
/// `read_iter` reads it: one count over them all (`readv` with two 8-byte buffers takes one,
/// and one may span two smaller buffers), `EINVAL` when they hold less than one.
pub fn read_scattered(linux: &Linux, file: &OpenFile, vecs: &[(u64, u64)]) -> SysResult {
    let room = vecs
        .iter()
        .fold(0u64, |room, &(_, len)| room.saturating_add(len));
    if room < COUNT_BYTES {
        return Err(Errno::EINVAL);
    }
    let counter = counter(file)?;
    let taken = loop {
        if let Some(taken) = counter.take() {
            break taken;
        }
        if nonblocking(file) {
            return Err(Errno::EAGAIN);
        }
        wait_change(linux, counter, |value| value > 0)?;
    };
    let mut bytes: &[u8] = &taken.to_le_bytes();
    for &(addr, len) in vecs.iter().filter(|&&(_, len)| len != 0) {
        if bytes.is_empty() {
            break;
        }
        // Lossless: at most COUNT_BYTES.
        let (piece, rest) = bytes.split_at(len.min(bytes.len() as u64) as usize);
        uaccess::write(linux, addr, piece)?;
        bytes = rest;
    }
    Ok(COUNT_BYTES)
}

/// A write to an eventfd of the count at `src`: added once it fits under `u64::MAX`.
pub fn write(linux: &Linux, file: &OpenFile, src: Source, len: u64) -> SysResult {
    if len < COUNT_BYTES {
        return Err(Errno::EINVAL);
    }
    let bytes = src.read(linux, 0, COUNT_BYTES as usize)?;
    let n = u64::from_le_bytes(bytes.try_into().map_err(|_| Errno::EFAULT)?);
    if n == u64::MAX {
        return Err(Errno::EINVAL);
    }
    let counter = counter(file)?;
    while !counter.add(n) {
        if nonblocking(file) {
            return Err(Errno::EAGAIN);
        }
        wait_change(linux, counter, |value| MAX_COUNT - value >= n)?;
    }
    Ok(COUNT_BYTES)
}
