//! epoll: `epoll_create`, `epoll_create1`, `epoll_ctl`, `epoll_wait`, `epoll_pwait`,
//! `epoll_pwait2`.
//!
//! An epoll instance is the personality's own: an open file of `Kind::Epoll` whose interest
//! list ([`Interest`]) names descriptors of this process. A wait asks each watched descriptor
//! for its readiness as `poll` does (`calls/poll.rs`: pipe ends and console input from their
//! servers, everything else ready at once) and, when none is ready, waits as `poll` does for
//! what can change that: the watched pipe ends' notifications and the console's. So there is
//! no server and no kernel state for it, and nothing to tell anyone when a watched file
//! changes.
//!
//! The rules are Linux 6.1's (`fs/eventpoll.c`): `EPOLLERR` and `EPOLLHUP` are always watched,
//! `EPOLLONESHOT` disables a watch once it reports, until `EPOLL_CTL_MOD`, and ready watches
//! are reported in turn when more are ready than `maxevents`. Regular files, directories,
//! `/proc` files and the memory devices cannot be watched (`EPERM`).
//!
//! Departures, each of which `docs/linux-personality.md` lists:
//! - `EPOLLET` reports as level-triggered does. A program that reads until `EAGAIN`, as
//!   edge-triggered use requires, sees the same events.
//! - A watch names a descriptor, not an open file description. A closed descriptor's watch
//!   ends at the next wait, even if a `dup` of it is still open.
//! - After a fork the child has a copy of the list, not the same instance.
//! - An epoll instance cannot be watched by another (`EINVAL`; Linux nests them four deep).
//! - The signal mask of `epoll_pwait` is not applied, as `ppoll`'s is not.

use alloc::sync::Arc;
use alloc::vec::Vec;

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use spin::Mutex;

use crate::calls::pipe::Notified;
use crate::calls::poll::{self, Waits};
use crate::fd::{Kind, OpenFile};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// What `/proc/PID/fd/N` names an epoll instance by, as Linux does.
pub const EPOLL_NAME: &str = "anon_inode:[eventpoll]";

/// Bytes of `struct epoll_event` on x86_64: a `u32` of events and a `u64` of data, packed.
const EVENT_BYTES: usize = 12;
/// Most events one wait returns (Linux's `EP_MAX_EVENTS`: `INT_MAX / sizeof(struct
/// epoll_event)`).
const MAX_EVENTS: i32 = i32::MAX / EVENT_BYTES as i32;
/// What every watch reports whether asked or not.
const ALWAYS: u32 = g::EPOLLERR | g::EPOLLHUP;
/// The bits of a watch that say how it reports, not what it waits for (Linux's
/// `EP_PRIVATE_BITS`): a disabled one-shot watch keeps only these.
const PRIVATE: u32 = g::EPOLLWAKEUP | g::EPOLLONESHOT | g::EPOLLET | g::EPOLLEXCLUSIVE;
/// What `EPOLLEXCLUSIVE` may come with (Linux's `EPOLLEXCLUSIVE_OK_BITS`).
const EXCLUSIVE_OK: u32 = g::EPOLLIN
    | g::EPOLLOUT
    | g::EPOLLERR
    | g::EPOLLHUP
    | g::EPOLLWAKEUP
    | g::EPOLLET
    | g::EPOLLEXCLUSIVE;
const NS_PER_MS: u64 = 1_000_000;

/// One watched descriptor: the events it waits for (with [`PRIVATE`] bits) and the data the
/// program gets back with them.
#[derive(Clone, Copy, Debug)]
struct Watch {
    fd: u64,
    events: u32,
    data: u64,
}

/// An epoll instance's interest list, in the order its watches are next looked at.
#[derive(Debug, Default)]
pub struct Interest {
    watches: Mutex<Vec<Watch>>,
}

impl Interest {
    /// A copy of the list, for a fork child.
    pub fn copy(&self) -> Self {
        Self {
            watches: Mutex::new(self.watches.lock().clone()),
        }
    }

    /// Ends the watches of descriptors a look found closed.
    fn end_closed(&self, closed: &[u64]) {
        if !closed.is_empty() {
            self.watches.lock().retain(|w| !closed.contains(&w.fd));
        }
    }

    /// After a wait reported the watches of `fds`: a one-shot one is disabled, and each goes to
    /// the end of the list, so the next look starts with the others.
    fn reported(&self, fds: &[u64]) {
        let mut list = self.watches.lock();
        for fd in fds {
            if let Some(i) = list.iter().position(|w| w.fd == *fd) {
                let mut w = list.remove(i);
                if w.events & g::EPOLLONESHOT != 0 {
                    w.events &= PRIVATE;
                }
                list.push(w);
            }
        }
    }
}

/// `epoll_create(size)`: `size` only has to be positive.
pub fn epoll_create(linux: &Linux, args: &Args) -> SysResult {
    if args[0] as i32 <= 0 {
        return Err(Errno::EINVAL);
    }
    create(linux, 0)
}

/// `epoll_create1(flags)`: `EPOLL_CLOEXEC` is the one flag.
pub fn epoll_create1(linux: &Linux, args: &Args) -> SysResult {
    let flags = args[0] as u32;
    if flags & !g::EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    create(linux, flags)
}

fn create(linux: &Linux, flags: u32) -> SysResult {
    let file = OpenFile::epoll(g::O_RDWR);
    linux
        .fds
        .lock()
        .install(file, flags & g::EPOLL_CLOEXEC != 0)
}

/// `epoll_ctl(epfd, op, fd, event)`, its checks in Linux's order (`do_epoll_ctl`).
pub fn epoll_ctl(linux: &Linux, args: &Args) -> SysResult {
    let (op, fd) = (args[1] as u32, args[2]);
    // Every operation but a removal reads its event first, whatever the descriptors.
    let asked = match op {
        g::EPOLL_CTL_DEL => None,
        _ => Some(read_event(linux, args[3])?),
    };
    let (epoll, target) = {
        let fds = linux.fds.lock();
        (fds.get(args[0])?, fds.get(fd)?)
    };
    if !can_poll(&target) {
        return Err(Errno::EPERM);
    }
    let Some(interest) = epoll.epoll.as_ref() else {
        return Err(Errno::EINVAL);
    };
    if Arc::ptr_eq(&epoll, &target) || target.kind == Kind::Epoll {
        return Err(Errno::EINVAL);
    }
    if let Some((events, _)) = asked
        && events & g::EPOLLEXCLUSIVE != 0
        && (op == g::EPOLL_CTL_MOD || events & !EXCLUSIVE_OK != 0)
    {
        return Err(Errno::EINVAL);
    }
    let mut watches = interest.watches.lock();
    let at = watches.iter().position(|w| w.fd == fd);
    match (op, at, asked) {
        (g::EPOLL_CTL_ADD, Some(_), _) => Err(Errno::EEXIST),
        (g::EPOLL_CTL_ADD, None, Some((events, data))) => {
            watches.push(Watch {
                fd,
                events: watched(events),
                data,
            });
            Ok(0)
        }
        (g::EPOLL_CTL_MOD | g::EPOLL_CTL_DEL, None, _) => Err(Errno::ENOENT),
        // An exclusive watch cannot be changed (`EINVAL`, as Linux answers).
        (g::EPOLL_CTL_MOD, Some(i), _) if watches[i].events & g::EPOLLEXCLUSIVE != 0 => {
            Err(Errno::EINVAL)
        }
        (g::EPOLL_CTL_MOD, Some(i), Some((events, data))) => {
            watches[i] = Watch {
                fd,
                events: watched(events),
                data,
            };
            Ok(0)
        }
        (g::EPOLL_CTL_DEL, Some(i), _) => {
            watches.remove(i);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// The events a watch keeps from those asked: [`ALWAYS`] added; `EPOLLWAKEUP` dropped, as
/// Linux drops it for a process without `CAP_BLOCK_SUSPEND` (nothing here suspends).
fn watched(events: u32) -> u32 {
    (events | ALWAYS) & !g::EPOLLWAKEUP
}

/// Whether `file` has readiness to watch (Linux's `file_can_poll`): not a regular file, a
/// directory, a `/proc` file or a memory device, whose readiness never changes.
fn can_poll(file: &OpenFile) -> bool {
    match file.kind {
        Kind::File => file.fifo.is_some(),
        // Linux's `/proc` files of a process have no `poll` either (a few others do,
        // `/proc/self/mounts` among them).
        Kind::Dir | Kind::ProcDir | Kind::ProcFile | Kind::Null | Kind::Zero | Kind::Full => false,
        Kind::Console | Kind::Random | Kind::PipeRead | Kind::PipeWrite | Kind::Epoll => true,
    }
}

/// The `struct epoll_event` at `addr`: its events and data.
fn read_event(linux: &Linux, addr: u64) -> Result<(u32, u64), Errno> {
    let mut bytes = [0u8; EVENT_BYTES];
    uaccess::read_into(linux, addr, &mut bytes)?;
    let (events, data) = bytes.split_at(4);
    let events = u32::from_le_bytes(events.try_into().map_err(|_| Errno::EFAULT)?);
    let data = u64::from_le_bytes(data.try_into().map_err(|_| Errno::EFAULT)?);
    Ok((events, data))
}

/// `epoll_wait(epfd, events, maxevents, timeout_ms)`: a negative timeout waits forever.
pub fn epoll_wait(linux: &Linux, args: &Args) -> SysResult {
    let timeout = u64::try_from(args[3] as i32).ok().map(|ms| ms * NS_PER_MS);
    wait(linux, args[0], args[1], args[2], timeout)
}

/// `epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask, sigsetsize)` (module comment:
/// the mask is not applied).
pub fn epoll_pwait(linux: &Linux, args: &Args) -> SysResult {
    epoll_wait(linux, args)
}

/// `epoll_pwait2(epfd, events, maxevents, timeout, sigmask, sigsetsize)`: the timeout a
/// `struct timespec` (null: forever).
pub fn epoll_pwait2(linux: &Linux, args: &Args) -> SysResult {
    let timeout = poll::timespec(linux, args[3])?;
    wait(linux, args[0], args[1], args[2], timeout)
}

/// The wait: Linux's checks in its order (`do_epoll_wait`), then the ready watches as
/// `struct epoll_event`s at `addr`, at most `max`; when none is ready, a wait until one may
/// be (module comment), the deadline, or a signal (`EINTR`: an epoll wait is never restarted).
fn wait(linux: &Linux, epfd: u64, addr: u64, max: u64, timeout_ns: Option<u64>) -> SysResult {
    let max = max as i32;
    if max <= 0 || max > MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    // Lossless: positive.
    let max = max as usize;
    uaccess::end(addr, (max * EVENT_BYTES) as u64)?;
    let epoll = linux.fds.lock().get(epfd)?;
    let interest = epoll.epoll.as_ref().ok_or(Errno::EINVAL)?;
    let deadline = poll::deadline(timeout_ns);
    loop {
        let look = scan(linux, interest, max);
        interest.end_closed(&look.closed);
        if !look.ready.is_empty() {
            let mut bytes = Vec::with_capacity(look.ready.len() * EVENT_BYTES);
            for &(events, data) in &look.ready {
                bytes.extend_from_slice(&events.to_le_bytes());
                bytes.extend_from_slice(&data.to_le_bytes());
            }
            // Reported only once the program has them: a fault leaves every watch as it was.
            uaccess::write(linux, addr, &bytes)?;
            interest.reported(&look.reported);
            return Ok(look.ready.len() as u64);
        }
        if timeout_ns == Some(0) {
            return Ok(0);
        }
        let woken = match (look.waits.pipes.is_empty(), look.waits.console) {
            (true, false) => poll::nap(linux, deadline).map(|()| Notified::Timeout),
            _ => Ok(poll::wait_ready(linux, &look.waits, deadline)),
        };
        match woken {
            Ok(Notified::Notice) => {}
            Ok(Notified::Timeout) => return Ok(0),
            Ok(Notified::Signal) | Err(_) => return Err(Errno::EINTR),
        }
    }
}

/// What one look at an interest list found.
#[derive(Default)]
struct Look {
    /// The events and data of each ready watch, at most the `max` asked for.
    ready: Vec<(u32, u64)>,
    /// The descriptors of the watches in `ready`.
    reported: Vec<u64>,
    /// The descriptors of watches found closed.
    closed: Vec<u64>,
    /// What to wait on when nothing is ready: the watched pipe ends and console input.
    waits: Waits,
}

/// Looks at each watch of `interest` in turn, its readiness as `poll` answers it, until `max`
/// are ready. An epoll instance found behind a watch's descriptor (the descriptor closed and
/// reused since) is not ready: one instance never asks another.
fn scan(linux: &Linux, interest: &Interest, max: usize) -> Look {
    let watches = interest.watches.lock().clone();
    // The open files are taken out of the fd table first: no server is called under a lock.
    let files: Vec<Option<Arc<OpenFile>>> = {
        let fds = linux.fds.lock();
        watches.iter().map(|w| fds.get(w.fd).ok()).collect()
    };
    let mut out = Look::default();
    for (watch, file) in watches.iter().zip(files) {
        let Some(file) = file else {
            out.closed.push(watch.fd);
            continue;
        };
        // Lossless: the poll events are the low 16 bits of epoll's.
        let asked = (watch.events & !PRIVATE) as u16;
        if asked == 0 || file.kind == Kind::Epoll || out.ready.len() == max {
            continue;
        }
        let revents = u32::from(poll::revents(linux, &file, asked, &mut out.waits));
        let revents = revents & (watch.events | ALWAYS);
        if revents != 0 {
            out.ready.push((revents, watch.data));
            out.reported.push(watch.fd);
        }
    }
    out
}

/// `poll` and `select` on epoll instance `file`: whether any of its watches is ready (it is
/// then readable, as Linux's `ep_eventpoll_poll` answers); if none is, what to wait on is
/// added to `waits`.
pub fn readable(linux: &Linux, file: &OpenFile, waits: &mut Waits) -> bool {
    let Some(interest) = &file.epoll else {
        return false;
    };
    let look = scan(linux, interest, 1);
    waits.console |= look.waits.console;
    waits.pipes.extend(look.waits.pipes);
    !look.ready.is_empty()
}
