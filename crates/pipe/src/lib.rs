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
//! **Named pipes** (FIFOs, `named.rs`): every opener of one FIFO inode shares one pipe while
//! any end is open; opening counts the opener at once and answers whether it must wait for
//! the other side (Linux's `fifo_open` rendezvous), which the opener does in its own process
//! too ([`Pipes::arm_partner`]).
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
/// Names a named pipe: the file server's inode number of its FIFO (never reused).
pub type Name = u64;
/// Names one holder of a pipe end (the server's handle on it): an atomic write's holder.
pub type Key = u64;
/// Who a watch wakes (the server: a dispatcher's CommID).
pub type Watcher = u64;

/// A pipe's two ends, and what a FIFO opened `O_RDWR` holds: both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The end that reads.
    Read,
    /// The end that writes.
    Write,
    /// Both ends in one holder (a FIFO opened for reading and writing): one reader and one
    /// writer.
    Both,
}

impl Side {
    /// Whether this holder reads.
    pub fn reads(self) -> bool {
        matches!(self, Side::Read | Side::Both)
    }

    /// Whether this holder writes.
    pub fn writes(self) -> bool {
        matches!(self, Side::Write | Side::Both)
    }
}

/// How one holder sees its pipe: its side, and — for a FIFO reader that opened with
/// `O_NONBLOCK` while no writer was there — the count of writer opens at that moment: no
/// [`HANGUP`] is reported to it until a writer has opened since (Linux's `f_version` check in
/// `pipe_poll`). Any other holder is `End::from(side)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    /// Which end.
    pub side: Side,
    /// The writer opens seen at open, while no hang-up is reported (see above).
    pub quiet_until: Option<u64>,
}

impl From<Side> for End {
    fn from(side: Side) -> Self {
        Self {
            side,
            quiet_until: None,
        }
    }
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
    end: End,
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
    /// A named pipe's name (`named.rs`).
    name: Option<Name>,
    /// How many times each side was opened by name (reads, writes: Linux's `r_counter` and
    /// `w_counter`): what an opener waiting for the other side watches.
    opens: [u64; 2],
    /// Openers waiting for the other side (`named.rs`).
    partners: Vec<named::PartnerWatch>,
}

impl Pipe {
    fn free(&self) -> usize {
        CAPACITY - self.buf.len()
    }

    fn revents(&self, end: End) -> u16 {
        let mut revents = 0;
        if end.side.reads() {
            if !self.buf.is_empty() {
                revents |= READABLE;
            }
            let quiet = end.quiet_until == Some(self.opens[WRITES]);
            if self.writers == 0 && !quiet {
                revents |= HANGUP;
            }
        }
        if end.side.writes() {
            if self.hold.is_none() && self.free() >= PIPE_BUF {
                revents |= WRITABLE;
            }
            if self.readers == 0 {
                revents |= ERROR;
            }
        }
        revents
    }

    /// One holder of `side` more (both counts for [`Side::Both`]).
    fn add(&mut self, side: Side) -> Result<(), Errno> {
        let readers = self.readers.checked_add(u32::from(side.reads()));
        let writers = self.writers.checked_add(u32::from(side.writes()));
        let (Some(readers), Some(writers)) = (readers, writers) else {
            return Err(Errno::ENFILE);
        };
        (self.readers, self.writers) = (readers, writers);
        Ok(())
    }

    /// One holder of `side` less; `EBADF` if a count would go below zero.
    fn remove(&mut self, side: Side) -> Result<(), Errno> {
        let readers = self.readers.checked_sub(u32::from(side.reads()));
        let writers = self.writers.checked_sub(u32::from(side.writes()));
        let (Some(readers), Some(writers)) = (readers, writers) else {
            return Err(Errno::EBADF);
        };
        (self.readers, self.writers) = (readers, writers);
        Ok(())
    }
}

/// Index of the read side's open count in `Pipe::opens`.
const READS: usize = 0;
/// Index of the write side's.
const WRITES: usize = 1;

/// Every pipe of a server (module comment).
#[derive(Debug, Default)]
pub struct Pipes {
    pipes: BTreeMap<PipeId, Pipe>,
    next: PipeId,
    wakes: Vec<(Watcher, PipeId)>,
    /// Named pipes by name (`named.rs`).
    names: BTreeMap<Name, PipeId>,
}

impl Pipes {
    /// No pipes (a `const fn`, for a server's static).
    pub const fn new() -> Self {
        Self {
            pipes: BTreeMap::new(),
            next: 0,
            wakes: Vec::new(),
            names: BTreeMap::new(),
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
        self.insert(Pipe {
            readers: 1,
            writers: 1,
            ..Pipe::default()
        })
    }

    /// Adds `pipe` under a new number.
    fn insert(&mut self, pipe: Pipe) -> PipeId {
        self.next += 1;
        let id = self.next;
        self.pipes.insert(id, pipe);
        id
    }

    fn pipe(&mut self, id: PipeId) -> Result<&mut Pipe, Errno> {
        self.pipes.get_mut(&id).ok_or(Errno::EBADF)
    }

    /// One more holder of `side` (a handle given to another process, or a second handle).
    pub fn open(&mut self, id: PipeId, side: Side) -> Result<(), Errno> {
        self.pipe(id)?.add(side)
    }

    /// One holder of `side` less, the one known as `key` (its atomic write, if one was in
    /// progress, is over: the bytes it wrote stay). The last writer gone is end of file for the
    /// readers; the last reader gone makes writes fail with `EPIPE`; with neither left the pipe
    /// goes away — a named one with its buffered bytes, so the next open of its name starts a
    /// fresh pipe, as Linux's FIFOs do.
    pub fn close(&mut self, id: PipeId, side: Side, key: Key) -> Result<(), Errno> {
        let pipe = self.pipe(id)?;
        pipe.remove(side)?;
        if pipe.hold.is_some_and(|h| h.key == key) {
            pipe.hold = None;
        }
        if pipe.readers == 0 && pipe.writers == 0 {
            if let Some(name) = pipe.name {
                self.names.remove(&name);
            }
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
        let bytes = take_front(&mut pipe.buf, n);
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

    /// The readiness of `end` (a [`Side`], or an [`End`] as one holder sees it) now
    /// ([`READABLE`], [`WRITABLE`], [`HANGUP`], [`ERROR`]; both ends' for [`Side::Both`]).
    pub fn revents(&self, id: PipeId, end: impl Into<End>) -> Result<u16, Errno> {
        let pipe = self.pipes.get(&id).ok_or(Errno::EBADF)?;
        Ok(pipe.revents(end.into()))
    }

    /// Bytes waiting to be read.
    pub fn buffered(&self, id: PipeId) -> Result<usize, Errno> {
        let pipe = self.pipes.get(&id).ok_or(Errno::EBADF)?;
        Ok(pipe.buf.len())
    }

    /// `end`'s readiness now (as [`Pipes::revents`]); when none of `events` (nor [`HANGUP`]
    /// or [`ERROR`]) is true, also arms a one-shot watch: `who` goes to
    /// [`Pipes::take_wakes`] at the first change that makes one true. Arming again adds
    /// events to the same watch.
    pub fn arm(
        &mut self,
        id: PipeId,
        end: impl Into<End>,
        who: Watcher,
        events: u16,
    ) -> Result<u16, Errno> {
        let end = end.into();
        let pipe = self.pipe(id)?;
        let now = pipe.revents(end);
        if now & (events | ALWAYS) != 0 {
            return Ok(now);
        }
        match pipe
            .watches
            .iter_mut()
            .find(|w| w.who == who && w.end == end)
        {
            Some(watch) => watch.events |= events,
            None => pipe.watches.push(Watch { who, end, events }),
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
        let revents: Vec<u16> = pipe.watches.iter().map(|w| pipe.revents(w.end)).collect();
        let mut now = revents.into_iter();
        pipe.watches.retain(|w| {
            let ready = now.next().unwrap_or(0) & (w.events | ALWAYS) != 0;
            if ready {
                fired.push(w.who);
            }
            !ready
        });
        self.wake(id, fired);
    }

    /// Queues a notification about pipe `id` for each of `who` (once per pair).
    fn wake(&mut self, id: PipeId, who: Vec<Watcher>) {
        for who in who {
            if !self.wakes.contains(&(who, id)) {
                self.wakes.push((who, id));
            }
        }
    }
}

mod named;

pub use named::{NamedOpen, Rendezvous};

#[cfg(test)]
mod tests;

/// Takes the first `n` bytes of `buf` (at most its length) in at most two slice copies: a
/// byte-at-a-time `drain().collect()` costs several instructions a byte, and pipes move
/// tens of kilobytes a call pair.
fn take_front(buf: &mut VecDeque<u8>, n: usize) -> Vec<u8> {
    let n = n.min(buf.len());
    let (first, second) = buf.as_slices();
    let from_first = n.min(first.len());
    let mut bytes = Vec::with_capacity(n);
    bytes.extend_from_slice(&first[..from_first]);
    bytes.extend_from_slice(&second[..n - from_first]);
    buf.drain(..n);
    bytes
}
