//! epoll: `epoll_create`, `epoll_create1`, `epoll_ctl`, `epoll_wait`, `epoll_pwait`,
//! `epoll_pwait2`.
//!
//! An epoll instance is the personality's own: an open file of `Kind::Epoll` whose interest
//! list ([`Interest`]) names open files of this process by descriptor and description
//! (`OpenFile::serial`). A wait asks each watched file for its readiness as `poll` does
//! (`calls/poll.rs`: pipe ends and console input from their servers, eventfds, timerfds and
//! signalfds from the personality's state, everything else ready at once) and, when none is
//! ready, waits as `poll` does for what can change that (the watched pipe ends' notifications
//! and the console's, eventfd and timerfd changes, timer expiries, signals of a signalfd's
//! mask), or a change of the list by another thread
//! (each waiter is unparked, as Linux's `ep_insert` and `ep_modify` wake the instance's
//! waiters). So there is no server and no kernel state for it.
//!
//! The rules are Linux 6.1's (`fs/eventpoll.c`): `EPOLLERR` and `EPOLLHUP` are always watched;
//! `EPOLLONESHOT` disables a watch once it reports, until `EPOLL_CTL_MOD`, and two threads'
//! waits never both report it (a wait claims what it reports under the instance's lock, as
//! `ep_send_events`); ready watches are reported in turn when more are ready than
//! `maxevents`; a watch ends when its file is closed, so a reused descriptor can be added
//! again. Regular files, directories, `/proc` files and the memory devices cannot be watched
//! (`EPERM`).
//!
//! Departures, each of which `docs/linux-personality.md` lists:
//! - `EPOLLET` reports as level-triggered does. A program that reads until `EAGAIN`, as
//!   edge-triggered use requires, sees the same events; one that waits with `EPOLLOUT |
//!   EPOLLET` on a writable end it has nothing to write to is told `EPOLLOUT` on every wait,
//!   where Linux tells it once.
//! - A watch ends when its descriptor is closed, even if a `dup` of it is still open (Linux
//!   ends it at the description's last close).
//! - A sleeping wait holds the watched pipe ends it waits on: another thread's `close` of one
//!   takes effect at the pipe server when the wait ends.
//! - After a fork the child has a copy of the list, not the same instance.
//! - An epoll instance cannot be watched by another (`EINVAL`; Linux nests them four deep).

use alloc::sync::Arc;
use alloc::vec::Vec;

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use spin::Mutex;

use core::sync::atomic::{AtomicBool, Ordering};

use crate::calls::pipe::Notified;
use crate::calls::poll::{self, Waits};
use crate::calls::signal;
use crate::fd::{Kind, OpenFile};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;
use crate::waiters::Waiters;

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

/// One watched descriptor: the open file description it names (its descriptor and
/// [`OpenFile::serial`]), the events it waits for (with [`PRIVATE`] bits) and the data the
/// program gets back with them.
#[derive(Clone, Copy, Debug)]
struct Watch {
    fd: u64,
    serial: u64,
    events: u32,
    data: u64,
}

/// An instance's state under its one lock.
#[derive(Debug, Default)]
struct State {
    /// The watches, in the order the next look takes them.
    watches: Vec<Watch>,
    /// The threads in a wait on the instance, woken when the list changes.
    waiters: Waiters,
}

/// An epoll instance: its interest list and waiters.
#[derive(Debug, Default)]
pub struct Interest {
    state: Mutex<State>,
}

impl Interest {
    /// A copy of the list, for a fork child (whose threads wait on nothing yet).
    pub fn copy(&self) -> Self {
        let watches = self.state.lock().watches.clone();
        Self {
            state: Mutex::new(State {
                watches,
                waiters: Waiters::default(),
            }),
        }
    }

    /// Whether another thread holds the lock (a fork waits until none does: `calls/fork.rs`).
    pub fn is_locked(&self) -> bool {
        self.state.is_locked()
    }

    /// Ends the watches a look found naming a closed descriptor.
    fn end_closed(&self, closed: &[(u64, u64)]) {
        if !closed.is_empty() {
            let mut state = self.state.lock();
            state
                .watches
                .retain(|w| !closed.contains(&(w.fd, w.serial)));
        }
    }

    /// Claims the ready watches `ready` found for a wait's report, as `ep_send_events` does
    /// under the instance's lock: a one-shot watch that another thread's wait claimed since,
    /// or that was changed or removed since, is not reported; a claimed one-shot watch is
    /// disabled; each claimed watch goes to the end of the list, so the next look starts with
    /// the others. Which of `ready` are claimed.
    fn claim(&self, ready: &[Ready]) -> Vec<bool> {
        let mut state = self.state.lock();
        ready
            .iter()
            .map(|r| {
                let found = state
                    .watches
                    .iter()
                    .position(|w| (w.fd, w.serial) == (r.fd, r.serial) && w.events == r.watched);
                let Some(i) = found else {
                    return false;
                };
                let mut w = state.watches.remove(i);
                if w.events & g::EPOLLONESHOT != 0 {
                    w.events &= PRIVATE;
                }
                state.watches.push(w);
                true
            })
            .collect()
    }

    /// Re-arms the one-shot watches a wait claimed but could not report (its buffer faulted).
    fn unclaim(&self, ready: &[Ready]) {
        let mut state = self.state.lock();
        for r in ready {
            if let Some(w) = state
                .watches
                .iter_mut()
                .find(|w| (w.fd, w.serial) == (r.fd, r.serial) && w.events == r.watched & PRIVATE)
            {
                w.events = r.watched;
            }
        }
    }

    /// Adds this thread as a waiter: its flag, set when the list changes.
    fn wait_here(&self) -> Arc<AtomicBool> {
        let woken = Arc::new(AtomicBool::new(false));
        self.state.lock().waiters.add(&woken);
        woken
    }

    /// Removes the waiter whose flag is `woken` (if a change has not already).
    fn stop_waiting(&self, woken: &Arc<AtomicBool>) {
        self.state.lock().waiters.remove(woken);
    }

    /// After a change of the list: every waiter looks again, as Linux's `ep_insert` and
    /// `ep_modify` wake the instance's waiters (a new watch may be ready already). The threads
    /// are unparked after the lock is let go.
    fn changed(&self) {
        let woken = self.state.lock().waiters.wake_all();
        woken.wake();
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
    // Descriptors are C ints: the upper half of the register is not part of them.
    let (op, fd) = (args[1] as u32, u64::from(args[2] as u32));
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
    let result = change(interest, op, fd, target.serial, asked);
    if result.is_ok() {
        interest.changed();
    }
    result
}

/// The change `epoll_ctl` asks of `interest` for descriptor `fd` of description `serial`. A
/// watch of `fd` that names another description (the descriptor closed and reused since) has
/// ended: Linux ends a watch when its file is closed.
fn change(
    interest: &Interest,
    op: u32,
    fd: u64,
    serial: u64,
    asked: Option<(u32, u64)>,
) -> SysResult {
    let mut state = interest.state.lock();
    let watches = &mut state.watches;
    watches.retain(|w| w.fd != fd || w.serial == serial);
    let at = watches.iter().position(|w| w.fd == fd);
    match (op, at, asked) {
        (g::EPOLL_CTL_ADD, Some(_), _) => Err(Errno::EEXIST),
        (g::EPOLL_CTL_ADD, None, Some((events, data))) => {
            watches.push(Watch {
                fd,
                serial,
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
                serial,
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
        Kind::Console
        | Kind::Random
        | Kind::PipeRead
        | Kind::PipeWrite
        | Kind::Epoll
        | Kind::EventFd
        | Kind::TimerFd
        | Kind::SignalFd => true,
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

/// `epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask, sigsetsize)`: `epoll_wait`
/// with the mask as the blocked mask while it waits (`signal::with_wait_mask`).
pub fn epoll_pwait(linux: &Linux, args: &Args) -> SysResult {
    let mask = signal::wait_mask(linux, args[4], args[5])?;
    signal::with_wait_mask(linux, mask, || epoll_wait(linux, args))
}

/// `epoll_pwait2(epfd, events, maxevents, timeout, sigmask, sigsetsize)`: the timeout a
/// `struct timespec` (null: forever), read before the mask.
pub fn epoll_pwait2(linux: &Linux, args: &Args) -> SysResult {
    let timeout = poll::timespec(linux, args[3])?;
    let mask = signal::wait_mask(linux, args[4], args[5])?;
    signal::with_wait_mask(linux, mask, || {
        wait(linux, args[0], args[1], args[2], timeout)
    })
}

/// The wait: Linux's checks in its order (`do_epoll_wait`), then the ready watches as
/// `struct epoll_event`s at `addr`, at most `max`; when none is ready, a wait until one may
/// be (module comment) or the list changes, the deadline, or a signal (`EINTR`: an epoll wait
/// is never restarted).
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
        // A waiter before the look: a change made after it wakes this thread.
        let changed = interest.wait_here();
        let look = scan(linux, interest, max);
        interest.end_closed(&look.closed);
        if !look.ready.is_empty() {
            interest.stop_waiting(&changed);
            match report(linux, interest, addr, &look.ready) {
                Ok(0) => continue, // another thread's wait reported them first
                answer => return answer,
            }
        }
        if timeout_ns == Some(0) {
            interest.stop_waiting(&changed);
            return Ok(0);
        }
        let flag = changed.clone();
        let woken = poll::wait_ready(linux, &look.waits, deadline, &move || {
            flag.load(Ordering::Acquire)
        });
        interest.stop_waiting(&changed);
        match woken {
            Notified::Notice => {}
            Notified::Timeout => return Ok(0),
            Notified::Signal => return Err(Errno::EINTR),
        }
    }
}

/// Reports the ready watches `ready` that this wait claims ([`Interest::claim`]) as
/// `struct epoll_event`s at `addr`: how many, or `EFAULT` if not even the first could be
/// written (as Linux's `ep_send_events`: those not written stay as they were).
fn report(linux: &Linux, interest: &Interest, addr: u64, ready: &[Ready]) -> SysResult {
    let claimed: Vec<Ready> = ready
        .iter()
        .zip(interest.claim(ready))
        .filter_map(|(r, mine)| mine.then_some(*r))
        .collect();
    for (i, r) in claimed.iter().enumerate() {
        let mut bytes = [0u8; EVENT_BYTES];
        bytes[..4].copy_from_slice(&r.revents.to_le_bytes());
        bytes[4..].copy_from_slice(&r.data.to_le_bytes());
        // Lossless: i < max, and max events fit (checked by `wait`).
        let at = addr + (i * EVENT_BYTES) as u64;
        if let Err(e) = uaccess::write(linux, at, &bytes) {
            interest.unclaim(&claimed[i..]);
            return if i == 0 { Err(e) } else { Ok(i as u64) };
        }
    }
    Ok(claimed.len() as u64)
}

/// A watch found ready: which it is, the events it had when looked at, and what to report.
#[derive(Clone, Copy, Debug)]
struct Ready {
    fd: u64,
    serial: u64,
    watched: u32,
    revents: u32,
    data: u64,
}

/// What one look at an interest list found.
#[derive(Default)]
struct Look {
    /// The ready watches, at most the `max` asked for.
    ready: Vec<Ready>,
    /// The watches found naming a closed descriptor (descriptor, description).
    closed: Vec<(u64, u64)>,
    /// What to wait on when nothing is ready: the watched pipe ends and console input.
    waits: Waits,
}

/// Looks at each watch of `interest` in turn, its readiness as `poll` answers it, until `max`
/// are ready. A watch whose descriptor is closed, or names another description now (closed
/// and reused), is closed. An epoll instance behind a watch's descriptor is not ready: one
/// instance never asks another.
fn scan(linux: &Linux, interest: &Interest, max: usize) -> Look {
    let watches = interest.state.lock().watches.clone();
    // The open files are taken out of the fd table first: no server is called under a lock.
    let files: Vec<Option<Arc<OpenFile>>> = {
        let fds = linux.fds.lock();
        watches
            .iter()
            .map(|w| fds.get(w.fd).ok().filter(|f| f.serial == w.serial))
            .collect()
    };
    let mut out = Look::default();
    for (watch, file) in watches.iter().zip(files) {
        let Some(file) = file else {
            out.closed.push((watch.fd, watch.serial));
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
            out.ready.push(Ready {
                fd: watch.fd,
                serial: watch.serial,
                watched: watch.events,
                revents,
                data: watch.data,
            });
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
    waits.counters.extend(look.waits.counters);
    waits.timers.extend(look.waits.timers);
    waits.signals |= look.waits.signals;
    !look.ready.is_empty()
}
