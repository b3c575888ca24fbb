//! Linux pipes as pure logic, host-tested here and run by the pipe server (`user/bin/pipes`,
//! interface `k42_ifaces::pipes`), which owns one [`Pipes`] registry and maps each of its
//! handles onto a pipe end. The Linux personality (`user/bin/linux/src/calls/pipe.rs`) turns
//! the answers into `pipe(2)`, `read(2)`, `write(2)` and `poll(2)` semantics.
//!
//! What it keeps, per pipe, is what Linux's `fs/pipe.c` keeps:
//! - the bytes, a ring of at most [`CAPACITY`] (64 KiB: Linux's default of 16 pages);
//! - how many holders each end has (readers, writers): no writers and no bytes is end of file,
//!   no readers makes a write fail with `EPIPE`; a pipe whose ends are all closed goes away;
//! - `PIPE_BUF` atomicity: a write of at most [`PIPE_BUF`] bytes goes in whole or not at all,
//!   never interleaved with another writer's bytes. A larger one may be partial.
//!
//! **Nothing here ever waits.** An operation that would block on Linux answers `EAGAIN`; the
//! caller waits in its own process. To wait it *arms* a one-shot watch ([`Pipes::arm`]) for
//! the poll events it needs; each change of the pipe (bytes in, bytes out, an end closed)
//! moves every watcher whose events became true to [`Pipes::take_wakes`], for the server to
//! send one notification each. Every `EAGAIN` an operation answers implies the event its
//! caller would arm for is false, so a waiter never spins.
//!
//! **Atomic writes in pieces.** A server call carries at most 2 KiB (the PPC data area), less
//! than `PIPE_BUF`. So an atomic write may come in several calls: the first names the whole
//! size (`atomic`), and is taken only if that much is free; the pipe is then *held* for that
//! writer ([`Key`]) until the rest came, other writers answered `EAGAIN` meanwhile (and the
//! space is there for the rest, since only readers run). Closing the holder's key drops the
//! hold.
//!
//! Readiness uses Linux's `poll` bits (`POLLIN`, `POLLOUT`, `POLLHUP`, `POLLERR`) as
//! `fs/pipe.c`'s `pipe_poll` reports them, except that an end is writable when [`PIPE_BUF`]
//! bytes are free (Linux: a free page slot, which is the same amount in a pipe written by
//! whole pages), so a writer woken for `POLLOUT` can always make an atomic write.
#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use k42_linux::Errno;
use k42_linux::raw::general as g;

/// Bytes a write may hold to be atomic (Linux's `PIPE_BUF`).
pub const PIPE_BUF: usize = g::PIPE_BUF as usize;
/// Bytes of a page: Linux sizes pipes in pages.
const PAGE_SIZE: usize = 4096;
/// Pages of a new pipe on Linux (`PIPE_DEF_BUFFERS`, not in the UAPI headers).
const PIPE_DEF_BUFFERS: usize = 16;
/// Bytes a pipe holds: Linux's default, 16 pages.
pub const CAPACITY: usize = PIPE_DEF_BUFFERS * PAGE_SIZE;

/// Readiness bits (`poll`'s `revents`): bytes to read.
pub const READABLE: u16 = (g::POLLIN | g::POLLRDNORM) as u16;
/// Room for an atomic write ([`PIPE_BUF`] bytes), with no other writer's atomic write in
/// progress.
pub const WRITABLE: u16 = (g::POLLOUT | g::POLLWRNORM) as u16;
/// The read end's: no writer is left.
pub const HANGUP: u16 = g::POLLHUP as u16;
/// The write end's: no reader is left.
pub const ERROR: u16 = g::POLLERR as u16;
/// Reported whatever was asked, as `poll(2)` does.
const ALWAYS: u16 = HANGUP | ERROR;

/// Names a pipe in the registry.
pub type PipeId = u64;
/// Names one holder of a pipe end (the server's handle on it): an atomic write's holder.
pub type Key = u64;
/// Who a watch wakes (the server: a dispatcher's CommID).
pub type Watcher = u64;

/// A pipe's two ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The end that reads.
    Read,
    /// The end that writes.
    Write,
}

/// An atomic write in progress: its writer and the bytes still to come.
#[derive(Clone, Copy, Debug)]
struct Hold {
    key: Key,
    remaining: usize,
}

/// One armed watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Watch {
    who: Watcher,
    side: Side,
    events: u16,
}

/// One pipe.
#[derive(Debug, Default)]
struct Pipe {
    /// The bytes written and not yet read, oldest first.
    buf: VecDeque<u8>,
    /// Holders of the read end.
    readers: u32,
    /// Holders of the write end.
    writers: u32,
    hold: Option<Hold>,
    watches: Vec<Watch>,
}

impl Pipe {
    fn free(&self) -> usize {
        CAPACITY - self.buf.len()
    }

    fn revents(&self, side: Side) -> u16 {
        match side {
            Side::Read => {
                let data = if self.buf.is_empty() { 0 } else { READABLE };
                let hup = if self.writers == 0 { HANGUP } else { 0 };
                data | hup
            }
            Side::Write => {
                let room = self.hold.is_none() && self.free() >= PIPE_BUF;
                let out = if room { WRITABLE } else { 0 };
                let err = if self.readers == 0 { ERROR } else { 0 };
                out | err
            }
        }
    }

    fn count(&mut self, side: Side) -> &mut u32 {
        match side {
            Side::Read => &mut self.readers,
            Side::Write => &mut self.writers,
        }
    }
}

/// Every pipe of a server (module comment).
#[derive(Debug, Default)]
pub struct Pipes {
    pipes: BTreeMap<PipeId, Pipe>,
    next: PipeId,
    wakes: Vec<(Watcher, PipeId)>,
}

impl Pipes {
    /// No pipes (a `const fn`, for a server's static).
    pub const fn new() -> Self {
        Self {
            pipes: BTreeMap::new(),
            next: 0,
            wakes: Vec::new(),
        }
    }

    /// Live pipes.
    pub fn len(&self) -> usize {
        self.pipes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pipes.is_empty()
    }

    /// A new empty pipe with one reader and one writer.
    pub fn create(&mut self) -> PipeId {
        self.next += 1;
        let id = self.next;
        let pipe = Pipe {
            readers: 1,
            writers: 1,
            ..Pipe::default()
        };
        self.pipes.insert(id, pipe);
        id
    }

    fn pipe(&mut self, id: PipeId) -> Result<&mut Pipe, Errno> {
        self.pipes.get_mut(&id).ok_or(Errno::EBADF)
    }

    /// One more holder of `side` (a handle given to another process, or a second handle).
    pub fn open(&mut self, id: PipeId, side: Side) -> Result<(), Errno> {
        let count = self.pipe(id)?.count(side);
        *count = count.checked_add(1).ok_or(Errno::ENFILE)?;
        Ok(())
    }

    /// One holder of `side` less, the one known as `key` (its atomic write, if one was in
    /// progress, is over: the bytes it wrote stay). The last writer gone is end of file for the
    /// readers; the last reader gone makes writes fail with `EPIPE`; with neither left the pipe
    /// goes away.
    pub fn close(&mut self, id: PipeId, side: Side, key: Key) -> Result<(), Errno> {
        let pipe = self.pipe(id)?;
        let count = pipe.count(side);
        *count = count.checked_sub(1).ok_or(Errno::EBADF)?;
        if pipe.hold.is_some_and(|h| h.key == key) {
            pipe.hold = None;
        }
        if pipe.readers == 0 && pipe.writers == 0 {
            self.pipes.remove(&id);
            return Ok(());
        }
        self.changed(id);
        Ok(())
    }

    /// Up to `max` bytes, oldest first. Empty: end of file when no writer is left (or `max` is
    /// 0), `EAGAIN` while one is.
    pub fn read(&mut self, id: PipeId, max: usize) -> Result<Vec<u8>, Errno> {
        let pipe = self.pipe(id)?;
        if pipe.buf.is_empty() {
            return match pipe.writers {
                _ if max == 0 => Ok(Vec::new()),
                0 => Ok(Vec::new()),
                _ => Err(Errno::EAGAIN),
            };
        }
        let n = max.min(pipe.buf.len());
        let bytes: Vec<u8> = pipe.buf.drain(..n).collect();
        self.changed(id);
        Ok(bytes)
    }

    /// Writes `data` for the holder `key`; returns how many bytes went in.
    ///
    /// - `atomic` 0: a plain write (part of a write larger than [`PIPE_BUF`]): as many bytes
    ///   as fit, `EAGAIN` when none does — or, from the holder of an atomic write in progress,
    ///   the next piece of it (always fits).
    /// - `atomic` n (at most [`PIPE_BUF`], at least `data.len()`): the first piece of an
    ///   atomic write of n bytes: taken whole only if n bytes are free (`EAGAIN` otherwise,
    ///   nothing written); if `data` is shorter, the pipe is held for `key` until the rest came
    ///   (module comment).
    ///
    /// `EPIPE` when no reader is left; `EAGAIN` while another writer's atomic write is in
    /// progress; `EINVAL` for an `atomic` that does not fit those rules.
    pub fn write(
        &mut self,
        id: PipeId,
        key: Key,
        data: &[u8],
        atomic: usize,
    ) -> Result<usize, Errno> {
        let pipe = self.pipe(id)?;
        if data.is_empty() && atomic == 0 {
            return Ok(0);
        }
        if pipe.readers == 0 {
            return Err(Errno::EPIPE);
        }
        let n = match pipe.hold {
            Some(hold) if hold.key == key => {
                if atomic != 0 || data.len() > hold.remaining {
                    return Err(Errno::EINVAL);
                }
                let remaining = hold.remaining - data.len();
                pipe.hold = (remaining != 0).then_some(Hold { key, remaining });
                data.len()
            }
            Some(_) => return Err(Errno::EAGAIN),
            None if atomic != 0 => {
                if atomic > PIPE_BUF || data.len() > atomic {
                    return Err(Errno::EINVAL);
                }
                if pipe.free() < atomic {
                    return Err(Errno::EAGAIN);
                }
                let remaining = atomic - data.len();
                pipe.hold = (remaining != 0).then_some(Hold { key, remaining });
                data.len()
            }
            None => match pipe.free().min(data.len()) {
                0 => return Err(Errno::EAGAIN),
                n => n,
            },
        };
        pipe.buf.extend(&data[..n]);
        self.changed(id);
        Ok(n)
    }

    /// `side`'s readiness now ([`READABLE`], [`WRITABLE`], [`HANGUP`], [`ERROR`]).
    pub fn revents(&self, id: PipeId, side: Side) -> Result<u16, Errno> {
        let pipe = self.pipes.get(&id).ok_or(Errno::EBADF)?;
        Ok(pipe.revents(side))
    }

    /// Bytes waiting to be read.
    pub fn buffered(&self, id: PipeId) -> Result<usize, Errno> {
        let pipe = self.pipes.get(&id).ok_or(Errno::EBADF)?;
        Ok(pipe.buf.len())
    }

    /// `side`'s readiness now; when none of `events` (nor [`HANGUP`] or [`ERROR`]) is true,
    /// also arms a one-shot watch: `who` goes to [`Pipes::take_wakes`] at the first change
    /// that makes one true. Arming again adds events to the same watch.
    pub fn arm(&mut self, id: PipeId, side: Side, who: Watcher, events: u16) -> Result<u16, Errno> {
        let pipe = self.pipe(id)?;
        let now = pipe.revents(side);
        if now & (events | ALWAYS) != 0 {
            return Ok(now);
        }
        match pipe
            .watches
            .iter_mut()
            .find(|w| w.who == who && w.side == side)
        {
            Some(watch) => watch.events |= events,
            None => pipe.watches.push(Watch { who, side, events }),
        }
        Ok(now)
    }

    /// The watchers to notify since the last call, each with its pipe (once per pair).
    pub fn take_wakes(&mut self) -> Vec<(Watcher, PipeId)> {
        core::mem::take(&mut self.wakes)
    }

    /// Pipe `id` changed: every watch it satisfies now fires (and is disarmed).
    fn changed(&mut self, id: PipeId) {
        let Some(pipe) = self.pipes.get_mut(&id) else {
            return;
        };
        let mut fired = Vec::new();
        let revents = [pipe.revents(Side::Read), pipe.revents(Side::Write)];
        pipe.watches.retain(|w| {
            let now = match w.side {
                Side::Read => revents[0],
                Side::Write => revents[1],
            };
            let ready = now & (w.events | ALWAYS) != 0;
            if ready {
                fired.push(w.who);
            }
            !ready
        });
        for who in fired {
            if !self.wakes.contains(&(who, id)) {
                self.wakes.push((who, id));
            }
        }
    }
}

#[cfg(test)]
mod tests;
