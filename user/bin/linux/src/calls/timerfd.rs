//! timerfd: `timerfd_create`, `timerfd_settime`, `timerfd_gettime`, and the reads and
//! readiness of the timer one makes (Linux's `fs/timerfd.c`): a timer a program reads its
//! expirations from, or waits for with `poll` or epoll, instead of taking a signal.
//!
//! A timerfd is the personality's own open file (`Kind::TimerFd`, [`OpenFile::timer`]), and
//! nothing runs when it expires: its state is when it next expires and its interval, so the
//! expirations due are a function of the clock ([`Armed::ticks`]), counted when a read or a
//! look asks. A read takes them (moving the next expiry past now); a read with none due
//! sleeps until the next expiry, a change by `timerfd_settime` on another thread
//! (`crate::waiters`) or a signal (`ERESTARTSYS`). `poll`, `select` and epoll ask
//! [`TimerFd::revents`] and wait no longer than the next expiry of any timer they watch
//! (`calls/poll.rs`). Every clock Linux takes for a timerfd runs at the kernel clock's rate
//! here (the wall clock is the kernel clock plus the boot time, and nothing sets it), so a
//! timer keeps its expiry in kernel-clock nanoseconds; an absolute `CLOCK_REALTIME` time is
//! turned into one when set. The `_ALARM` clocks are their plain ones (nothing suspends).
//!
//! Departure, which `docs/linux-personality.md` lists: a fork child has a copy of the timer,
//! not the same one (it expires alike, but a read in one process takes nothing from the other).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rt::clock;
use k42_rt::sys::page::Page;
use spin::Mutex;

use crate::calls::poll::INPUT as READABLE;
use crate::fd::{Kind, OpenFile};
use crate::signals::{self, Woken};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;
use crate::waiters::Waiters;

/// What `/proc/self/fd` shows for a timerfd (Linux's anonymous inode name).
pub const TIMERFD_NAME: &str = "anon_inode:[timerfd]";
/// The flags `timerfd_create` takes.
const CREATE_FLAGS: u32 = g::TFD_CLOEXEC | g::TFD_NONBLOCK;
/// The flags `timerfd_settime` takes (`TFD_TIMER_CANCEL_ON_SET` never cancels: nothing sets
/// the wall clock here).
const SETTIME_FLAGS: u32 = g::TFD_TIMER_ABSTIME | g::TFD_TIMER_CANCEL_ON_SET;
/// Bytes a read moves: the expiration count.
const TICKS_BYTES: u64 = 8;
const NS_PER_SEC: u64 = 1_000_000_000;

/// An armed timer: when it next expires (kernel-clock ns) and its interval (0: once).
#[derive(Clone, Copy, Debug)]
struct Armed {
    next: u64,
    interval: u64,
}

impl Armed {
    /// The expirations due at `now`: the one at `next` and every interval after it.
    fn ticks(&self, now: u64) -> u64 {
        match now.checked_sub(self.next) {
            None => 0,
            Some(_) if self.interval == 0 => 1,
            Some(late) => 1 + late / self.interval,
        }
    }

    /// The first expiry after `now` (None: a one-shot timer that has expired).
    fn next_after(&self, now: u64) -> Option<u64> {
        match self.ticks(now) {
            0 => Some(self.next),
            _ if self.interval == 0 => None,
            ticks => Some(
                self.next
                    .saturating_add(ticks.saturating_mul(self.interval)),
            ),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    armed: Option<Armed>,
    /// The interval last set, which `timerfd_gettime` reports even while the timer is
    /// disarmed (Linux's `tintv`).
    interval: u64,
    waiters: Waiters,
}

impl State {
    /// What `timerfd_gettime` reports: the interval and the time to the next expiry (0:
    /// disarmed, or a one-shot timer that has expired).
    fn get(&self, now: u64) -> (u64, u64) {
        let left = self
            .armed
            .and_then(|armed| armed.next_after(now))
            .map_or(0, |next| next - now);
        (self.interval, left)
    }
}

/// A timerfd's timer (module comment).
#[derive(Debug)]
pub struct TimerFd {
    /// The clock it was made for: `CLOCK_REALTIME` turns absolute times into kernel-clock ones.
    clock: u32,
    state: Mutex<State>,
}

impl TimerFd {
    fn new(clock: u32) -> Self {
        Self {
            clock,
            state: Mutex::new(State::default()),
        }
    }

    /// A copy for a fork child (whose threads wait on nothing yet).
    pub fn copy(&self) -> Self {
        let state = self.state.lock();
        Self {
            clock: self.clock,
            state: Mutex::new(State {
                armed: state.armed,
                interval: state.interval,
                waiters: Waiters::default(),
            }),
        }
    }

    /// Whether another thread holds the lock (a fork waits until none does).
    pub fn is_locked(&self) -> bool {
        self.state.is_locked()
    }

    /// Readable once an expiration is due (`timerfd_poll`).
    pub fn revents(&self) -> u16 {
        let due = self
            .state
            .lock()
            .armed
            .is_some_and(|a| a.ticks(clock::now_ns()) > 0);
        if due { READABLE } else { 0 }
    }

    /// Makes this thread a waiter (`poll`'s wait): `woken` is set at the timer's next change
    /// (another thread's `timerfd_settime`, which may arm a disarmed one), or at once if an
    /// expiration is due. The next expiry, which the wait must not outlast (None: disarmed).
    pub fn wait_for(&self, woken: &Arc<AtomicBool>) -> Option<u64> {
        let mut state = self.state.lock();
        let armed = state.armed;
        if armed.is_some_and(|a| a.ticks(clock::now_ns()) > 0) {
            woken.store(true, Ordering::Release);
            return None;
        }
        state.waiters.add(woken);
        armed.map(|a| a.next)
    }

    /// Removes the waiter whose flag is `woken` (if a change has not already).
    pub fn stop_waiting(&self, woken: &Arc<AtomicBool>) {
        self.state.lock().waiters.remove(woken);
    }

    /// Takes the expirations due (moving the next expiry past now), or, with none, the next
    /// expiry a read waits for (None: disarmed) after joining the waiters through `woken`.
    fn take(&self, woken: &Arc<AtomicBool>) -> Result<u64, Option<u64>> {
        let mut state = self.state.lock();
        let Some(armed) = state.armed else {
            state.waiters.add(woken);
            return Err(None);
        };
        let now = clock::now_ns();
        let ticks = armed.ticks(now);
        if ticks == 0 {
            state.waiters.add(woken);
            return Err(Some(armed.next));
        }
        state.armed = armed.next_after(now).map(|next| Armed { next, ..armed });
        Ok(ticks)
    }

    /// What `timerfd_gettime` reports ([`State::get`]).
    fn get(&self) -> (u64, u64) {
        self.state.lock().get(clock::now_ns())
    }

    /// Arms the timer to expire at `next` (None: disarms it) and then every `interval`,
    /// dropping the expirations not yet read, and wakes its waiters; what `get` said just
    /// before, under the same lock.
    fn set(&self, next: Option<u64>, interval: u64) -> (u64, u64) {
        let mut state = self.state.lock();
        let old = state.get(clock::now_ns());
        state.armed = next.map(|next| Armed { next, interval });
        state.interval = interval;
        let woken = state.waiters.wake_all();
        drop(state);
        woken.wake();
        old
    }
}

/// `timerfd_create(clockid, flags)`.
pub fn timerfd_create(linux: &Linux, args: &Args) -> SysResult {
    let (clock_id, flags) = (args[0] as u32, args[1] as u32);
    let clocks = [
        g::CLOCK_MONOTONIC,
        g::CLOCK_REALTIME,
        g::CLOCK_REALTIME_ALARM,
        g::CLOCK_BOOTTIME,
        g::CLOCK_BOOTTIME_ALARM,
    ];
    if flags & !CREATE_FLAGS != 0 || !clocks.contains(&clock_id) {
        return Err(Errno::EINVAL);
    }
    let file = OpenFile::timerfd(
        g::O_RDWR | (flags & g::TFD_NONBLOCK),
        TimerFd::new(clock_id),
    );
    linux.fds.lock().install(file, flags & g::TFD_CLOEXEC != 0)
}

/// The timer of timerfd `fd`: `EBADF` for no descriptor, `EINVAL` for another kind of file.
fn timer_of(linux: &Linux, fd: u64) -> Result<Arc<OpenFile>, Errno> {
    let file = linux.fds.lock().get(fd)?;
    if file.kind != Kind::TimerFd {
        return Err(Errno::EINVAL);
    }
    Ok(file)
}

fn timer(file: &OpenFile) -> Result<&TimerFd, Errno> {
    file.timer.as_deref().ok_or(Errno::EINVAL)
}

/// A `struct timespec` of an `itimerspec` in ns: `EINVAL` unless valid (`timespec64_valid`).
fn timespec_ns([sec, nsec]: [u64; 2]) -> Result<u64, Errno> {
    if (sec as i64) < 0 || nsec >= NS_PER_SEC {
        return Err(Errno::EINVAL);
    }
    Ok(sec.saturating_mul(NS_PER_SEC).saturating_add(nsec))
}

/// Writes `(interval, value)` as a `struct itimerspec` at `addr`.
fn write_itimerspec(linux: &Linux, addr: u64, (interval, value): (u64, u64)) -> SysResult {
    let words = [
        interval / NS_PER_SEC,
        interval % NS_PER_SEC,
        value / NS_PER_SEC,
        value % NS_PER_SEC,
    ];
    uaccess::write_words(linux, addr, &words)?;
    Ok(0)
}

/// `timerfd_settime(fd, flags, new, old)`, its checks in Linux's order: the new value
/// (`EFAULT`), the flags and the value (`EINVAL`), the descriptor (`EBADF`, `EINVAL`); the old
/// value written last (`EFAULT`, the timer set all the same).
pub fn timerfd_settime(linux: &Linux, args: &Args) -> SysResult {
    let flags = args[1] as u32;
    let [isec, insec, vsec, vnsec] = uaccess::read_words::<4>(linux, args[2])?;
    if flags & !SETTIME_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let (interval, value) = (timespec_ns([isec, insec])?, timespec_ns([vsec, vnsec])?);
    let file = timer_of(linux, args[0])?;
    let timer = timer(&file)?;
    let now = clock::now_ns();
    let next = match value {
        0 => None,
        value if flags & g::TFD_TIMER_ABSTIME == 0 => Some(now.saturating_add(value)),
        at if matches!(timer.clock, g::CLOCK_REALTIME | g::CLOCK_REALTIME_ALARM) => {
            Some(at.saturating_sub(Page::current().boot_epoch_ns()))
        }
        at => Some(at),
    };
    let old = timer.set(next, interval);
    if args[3] != 0 {
        write_itimerspec(linux, args[3], old)?;
    }
    Ok(0)
}

/// `timerfd_gettime(fd, cur)`.
pub fn timerfd_gettime(linux: &Linux, args: &Args) -> SysResult {
    let file = timer_of(linux, args[0])?;
    let now = timer(&file)?.get();
    write_itimerspec(linux, args[1], now)
}

/// A read of a timerfd into the program's buffer at `addr`: the expirations since the last
/// read (or the setting), once there is one.
pub fn read(linux: &Linux, file: &OpenFile, addr: u64, len: u64) -> SysResult {
    if len < TICKS_BYTES {
        return Err(Errno::EINVAL);
    }
    let timer = timer(file)?;
    let ticks = loop {
        let woken = Arc::new(AtomicBool::new(false));
        let next = match timer.take(&woken) {
            Ok(ticks) => break ticks,
            Err(next) => next,
        };
        if file.flags() & g::O_NONBLOCK != 0 {
            timer.stop_waiting(&woken);
            return Err(Errno::EAGAIN);
        }
        let woke = signals::wait_or(linux, next, |_| false, || woken.load(Ordering::Acquire));
        timer.stop_waiting(&woken);
        if matches!(woke, Woken::Signal) {
            return Err(Errno::ERESTARTSYS);
        }
    };
    uaccess::write(linux, addr, &ticks.to_le_bytes())?;
    Ok(TICKS_BYTES)
}
