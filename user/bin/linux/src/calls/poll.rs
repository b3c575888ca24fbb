//! Readiness: `poll`, `ppoll`, `select`, `pselect6`. Pipe ends are as ready as their server
//! says (`calls/pipe.rs`: `POLLIN`, `POLLOUT`, `POLLHUP`, `POLLERR`); console input as its
//! server says (`Console::poll_input`: a complete line in canonical mode, `VMIN` bytes or one
//! in raw mode, as Linux's `n_tty_poll`); an epoll instance, an eventfd, a timerfd and a
//! signalfd as the personality's own state says (`calls/epoll.rs`, `calls/eventfd.rs`,
//! `calls/timerfd.rs`, `calls/signalfd.rs`); every other open file the personality has is
//! always ready — files and the memory devices never block (as on Linux), and console output
//! is written synchronously.
//!
//! When nothing is ready, the program's thread waits for what can change that: a pipe end's
//! notification (armed on each asked about), the console's input notification (armed by the
//! question itself), a change of an eventfd or a timerfd, a timerfd's next expiry, a signal of
//! a signalfd's mask, the timeout — then looks again. With neither a pipe end nor console input
//! asked about, nothing can become ready, and the poll sleeps its timeout. A signal to deliver
//! ends any wait: `EINTR` once its handler runs. `ppoll` and `pselect6` wait with the mask
//! they are given (`calls/signal.rs`, `with_wait_mask`). The open files are taken out of the
//! fd table first: no server is called under its lock.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_abi::kernel::AsyncMessage;

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rt::clock;

use crate::calls::eventfd::Counter;
use crate::calls::pipe::{self, Notified};
use crate::calls::timerfd::TimerFd;
use crate::calls::{epoll, io, signal};
use crate::fd::Kind;
use crate::fd::{MAX_FDS, OpenFile};
use crate::signals::{self, Woken};
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
/// The input events: what console input, eventfds, timerfds and signalfds report when readable.
pub(crate) const INPUT: u16 = (g::POLLIN | g::POLLRDNORM) as u16;

/// What a look that found nothing ready can wait on: the pipe ends and eventfd counters asked
/// about, with their events (an epoll instance's watched ones among them), and whether console
/// input was asked about and is not ready (the console then notifies).
#[derive(Default)]
pub struct Waits {
    pub pipes: Vec<(Arc<OpenFile>, u16)>,
    pub counters: Vec<(Arc<Counter>, u16)>,
    pub timers: Vec<Arc<TimerFd>>,
    /// The signals of the signalfds asked about: one pending ends the wait.
    pub signals: u64,
    pub console: bool,
}

impl Waits {
    /// Whether anything can end a wait (else nothing asked about can become ready).
    fn any(&self) -> bool {
        !self.pipes.is_empty()
            || !self.counters.is_empty()
            || !self.timers.is_empty()
            || self.signals != 0
            || self.console
    }
}

/// The kernel clock at which a wait of `timeout_ns` from now ends (None: never).
pub fn deadline(timeout_ns: Option<u64>) -> Option<u64> {
    timeout_ns.map(|ns| clock::now_ns().saturating_add(ns))
}

/// A wait's timeout: how long (None: for ever) and the kernel clock time it ends, fixed when
/// the call read it (Linux's `poll_select_set_timeout`). For the calls that write the time
/// left back, also the process's stopped time then (`job::stopped_ns`): a stop interrupts
/// them, and they restart for what was left when it came, as on Linux; `poll` restarts for
/// the same end (Linux's `do_restart_poll`), so it simply waits on.
#[derive(Clone, Copy)]
struct Timeout {
    ns: Option<u64>,
    deadline: Option<u64>,
    stopped_mark: Option<u64>,
}

impl Timeout {
    /// `poll`'s: a stop does not end the wait.
    fn from_now(ns: Option<u64>) -> Self {
        Self {
            ns,
            deadline: deadline(ns),
            stopped_mark: None,
        }
    }

    /// `select`'s, `pselect6`'s and `ppoll`'s: a stop ends the wait ([`Timeout::stopped`]).
    fn restartable(ns: Option<u64>) -> Self {
        Self {
            stopped_mark: Some(crate::job::stopped_ns()),
            ..Self::from_now(ns)
        }
    }

    /// How long the process has been stopped since the call began (0 for `poll`).
    fn stopped(self) -> u64 {
        self.stopped_mark
            .map_or(0, |mark| crate::job::stopped_ns().saturating_sub(mark))
    }

    /// A wait that ended (or found nothing to wait on) after a stop: the call ends with
    /// `ERESTARTNOHAND`, to be restarted for the time it had left (`write_back`).
    fn check_stop(self) -> Result<(), Errno> {
        match self.stopped() {
            0 => Ok(()),
            _ => Err(Errno::ERESTARTNOHAND),
        }
    }

    fn is_zero(self) -> bool {
        self.ns == Some(0)
    }
}

/// The form of a timeout in the caller's memory.
#[derive(Clone, Copy)]
enum Form {
    /// `struct timeval`: seconds, microseconds (`select`).
    Timeval,
    /// `struct timespec`: seconds, nanoseconds (`pselect6`, `ppoll`).
    Timespec,
}

/// Writes the time left of `timeout` (0 once it has passed) back into the caller's timeout at
/// `addr` once the call has its `result`, as Linux's `poll_select_finish` does for `select`,
/// `pselect6` and `ppoll`: a program may wait again for what is left, and a call a signal
/// without a handler interrupts is restarted with it. Time spent stopped is not taken from
/// it. A null or zero timeout is left as it is. One that cannot be written (read-only memory)
/// leaves the result as it is, except that the call is not restarted with its whole timeout
/// again: `ERESTARTNOHAND` becomes `EINTR`.
fn write_back(
    linux: &Linux,
    addr: u64,
    timeout: Timeout,
    form: Form,
    result: SysResult,
) -> SysResult {
    let Some(deadline) = timeout.deadline.filter(|_| addr != 0 && !timeout.is_zero()) else {
        return result;
    };
    let deadline = deadline.saturating_add(timeout.stopped());
    let left = deadline.saturating_sub(clock::now_ns());
    let (sec, ns) = (left / NS_PER_SEC, left % NS_PER_SEC);
    let fraction = match form {
        Form::Timeval => ns / NS_PER_US,
        Form::Timespec => ns,
    };
    match (uaccess::write_words(linux, addr, &[sec, fraction]), result) {
        (Err(_), Err(Errno::ERESTARTNOHAND)) => Err(Errno::EINTR),
        (_, result) => result,
    }
}

/// The readiness of `file` among `events` (and `POLLHUP`/`POLLERR`, which a pipe end always
/// reports): a pipe end's from its server (the end added to `waits`), console input from its
/// server (`waits.console` set when it is asked about and not ready), an epoll instance's from
/// its watches (`calls/epoll.rs`: readable when one is ready), any other file's at once.
pub fn revents(linux: &Linux, file: &Arc<OpenFile>, events: u16, waits: &mut Waits) -> u16 {
    if pipe::is_pipe(file) {
        waits.pipes.push((file.clone(), events));
        return pipe::poll_events(file, events);
    }
    // A signalfd and a timerfd only ever turn readable: a wait for anything else of theirs
    // waits on nothing of theirs (else a due one would end every wait at once).
    if let Some(signalfd) = &file.signalfd {
        if events & INPUT != 0 {
            waits.signals |= signalfd.mask();
        }
        return signalfd.revents(linux) & events;
    }
    if let Some(timer) = &file.timer {
        if events & INPUT != 0 {
            waits.timers.push(timer.clone());
        }
        return timer.revents() & events;
    }
    if let Some(counter) = &file.counter {
        waits.counters.push((counter.clone(), events));
        return counter.revents() & events;
    }
    if file.kind == Kind::Epoll {
        let readable = epoll::readable(linux, file, waits);
        return if readable { events & INPUT } else { 0 };
    }
    if file.kind == Kind::Console && events & INPUT != 0 {
        let ready = match io::console_input_ready(linux) {
            Ok(ready) => ready,
            Err(_) => return g::POLLERR as u16,
        };
        waits.console |= !ready;
        let input = if ready { events & INPUT } else { 0 };
        return input | (events & READY & !INPUT);
    }
    events & READY
}

/// Polls `nfds` entries at `addr` until `timeout` (for ever without one). More entries than
/// the soft `RLIMIT_NOFILE` is `EINVAL`, as on Linux.
fn poll_fds(linux: &Linux, addr: u64, nfds: u64, timeout: Timeout) -> SysResult {
    if nfds > linux.fds.lock().bound() as u64 {
        return Err(Errno::EINVAL);
    }
    let mut bytes = uaccess::read(linux, addr, nfds as usize * POLLFD_BYTES)?;
    // Each entry's open file (None: a negative fd, ignored; Err: not open), taken out under
    // the table's lock.
    let files: Vec<Option<Result<Arc<OpenFile>, Errno>>> = {
        let fds = linux.fds.lock();
        bytes
            .chunks(POLLFD_BYTES)
            .map(|entry| {
                let fd = i32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]);
                u64::try_from(fd).ok().map(|fd| fds.get(fd))
            })
            .collect()
    };
    let deadline = timeout.deadline;
    loop {
        let mut ready = 0u64;
        let mut waits = Waits::default();
        for (entry, file) in bytes.chunks_mut(POLLFD_BYTES).zip(&files) {
            let events = u16::from_le_bytes([entry[4], entry[5]]);
            let revents = match file {
                None => 0,
                Some(Ok(file)) => revents(linux, file, events, &mut waits),
                Some(Err(_)) => g::POLLNVAL as u16,
            };
            entry[6..8].copy_from_slice(&revents.to_le_bytes());
            ready += u64::from(revents != 0);
        }
        let waitable = waits.any();
        if ready != 0 || !waitable || timeout.is_zero() {
            uaccess::write(linux, addr, &bytes)?;
            if ready == 0 && !waitable {
                nap(linux, timeout)?;
            }
            return Ok(ready);
        }
        let woken = wait_ready(linux, &waits, deadline, &|| false);
        timeout.check_stop()?;
        match woken {
            Notified::Notice => {}
            Notified::Timeout => {
                // The timeout ran out with nothing ready: every revents is 0 already.
                uaccess::write(linux, addr, &bytes)?;
                return Ok(0);
            }
            Notified::Signal => return Err(Errno::ERESTARTNOHAND),
        }
    }
}

/// Waits until something asked about may have become ready (module comment): a notice from a
/// pipe end of `waits` or, with `waits.console`, the console's input notification; a change
/// of an eventfd counter or a timerfd of `waits`, or a timerfd's next expiry; or `cond` holds (whoever makes it hold unparks the thread: an epoll instance's change), the
/// deadline, or a signal. With nothing to wait on, only the last three end it.
pub fn wait_ready(
    linux: &Linux,
    waits: &Waits,
    deadline: Option<u64>,
    cond: &dyn Fn() -> bool,
) -> Notified {
    let pipes: Vec<(&OpenFile, u16)> = waits
        .pipes
        .iter()
        .map(|(file, events)| (file.as_ref(), *events))
        .collect();
    let also = |msg: &AsyncMessage| waits.console && io::is_console_input(linux, msg);
    // A change of an eventfd or a timerfd (another thread's read, write or settime) sets the
    // flag and unparks this thread (`crate::waiters`).
    let changed = Arc::new(AtomicBool::new(false));
    for (counter, events) in &waits.counters {
        counter.wait_for(*events, &changed);
    }
    // A timer's next expiry ends the wait too (nothing else tells of it), as a notice.
    let expiry = waits
        .timers
        .iter()
        .filter_map(|t| t.wait_for(&changed))
        .min();
    let until = match (deadline, expiry) {
        (Some(d), Some(e)) => Some(d.min(e)),
        (d, e) => d.or(e),
    };
    let changed_or = || changed.load(Ordering::Acquire) || cond();
    let woken = if changed.load(Ordering::Acquire) {
        Notified::Notice
    } else {
        pipe::wait_any(linux, &pipes, until, also, waits.signals, &changed_or)
    };
    for (counter, _) in &waits.counters {
        counter.stop_waiting(&changed);
    }
    for timer in &waits.timers {
        timer.stop_waiting(&changed);
    }
    let expired = expiry.is_some_and(|e| deadline.is_none_or(|d| e <= d));
    if woken == Notified::Timeout && expired {
        Notified::Notice
    } else {
        woken
    }
}

/// Nothing is ready and nothing can become ready (module comment): sleeps until `timeout`'s
/// deadline (None: for ever) or a signal, which ends the call with `ERESTARTNOHAND` (`EINTR`
/// once its handler runs, as Linux's `poll` and `select` answer), as does a stop of a call
/// that restarts for the time it has left (`Timeout::check_stop`).
fn nap(linux: &Linux, timeout: Timeout) -> Result<(), Errno> {
    loop {
        let woken = signals::wait(linux, timeout.deadline, |_| false);
        timeout.check_stop()?;
        match woken {
            Woken::Timeout => return Ok(()),
            Woken::Signal => return Err(Errno::ERESTARTNOHAND),
            Woken::Message => {}
        }
    }
}

/// `poll(fds, nfds, timeout_ms)`: a negative timeout waits forever.
pub fn poll(linux: &Linux, args: &Args) -> SysResult {
    let ms = args[2] as i32;
    let timeout = u64::try_from(ms).ok().map(|ms| ms * NS_PER_MS);
    poll_fds(linux, args[0], args[1], Timeout::from_now(timeout))
}

/// A `struct timespec` timeout (null: forever).
pub fn timespec(linux: &Linux, addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let [sec, nsec] = uaccess::read_words::<2>(linux, addr)?;
    if (sec as i64) < 0 || nsec >= NS_PER_SEC {
        return Err(Errno::EINVAL);
    }
    Ok(Some(sec.saturating_mul(NS_PER_SEC).saturating_add(nsec)))
}

/// `ppoll(fds, nfds, timeout, sigmask, sigsetsize)`: the timeout is read first, then the
/// mask, which is the blocked mask while the call waits (`signal::with_wait_mask`); the time
/// left is written back (`write_back`).
pub fn ppoll(linux: &Linux, args: &Args) -> SysResult {
    let timeout = Timeout::restartable(timespec(linux, args[2])?);
    let mask = signal::wait_mask(linux, args[3], args[4])?;
    signal::with_wait_mask(linux, mask, || {
        let result = poll_fds(linux, args[0], args[1], timeout);
        write_back(linux, args[2], timeout, Form::Timespec, result)
    })
}

/// Words of an `fd_set` for `nfds` descriptors.
fn set_words(nfds: usize) -> usize {
    nfds.div_ceil(64)
}

/// The `poll` events a descriptor's bit in each of select's three sets stands for (Linux's
/// `POLLIN_SET`, `POLLOUT_SET`, `POLLEX_SET`).
const SELECT_EVENTS: [u16; 3] = [
    (g::POLLIN | g::POLLRDNORM | g::POLLRDBAND | g::POLLHUP | g::POLLERR) as u16,
    (g::POLLOUT | g::POLLWRNORM | g::POLLWRBAND | g::POLLERR) as u16,
    g::POLLPRI as u16,
];

/// The select core: pipe ends and console input are ready as their servers say; every other
/// valid descriptor in the read and write sets is ready and none has an exceptional
/// condition; a descriptor not open is `EBADF`.
fn select_fds(linux: &Linux, nfds: u64, sets: [u64; 3], timeout: Timeout) -> SysResult {
    let nfds = usize::try_from(nfds as u32 as i32).map_err(|_| Errno::EINVAL)?;
    if nfds > MAX_FDS {
        return Err(Errno::EINVAL);
    }
    let words = set_words(nfds);
    let mut asked: Vec<Option<Vec<u8>>> = Vec::new();
    for addr in sets {
        asked.push(match addr {
            0 => None,
            addr => Some(uaccess::read(linux, addr, words * 8)?),
        });
    }
    let is_asked = |fd: usize| {
        let (byte, bit) = (fd / 8, 1u8 << (fd % 8));
        asked.iter().flatten().any(|set| set[byte] & bit != 0)
    };
    // The open file of every descriptor asked about, taken out under the table's lock.
    let mut files: Vec<(usize, Arc<OpenFile>)> = Vec::new();
    {
        let fds = linux.fds.lock();
        for fd in (0..nfds).filter(|&fd| is_asked(fd)) {
            files.push((fd, fds.get(fd as u64)?));
        }
    }
    let deadline = timeout.deadline;
    loop {
        let mut result = asked.clone();
        let mut waits = Waits::default();
        for (fd, file) in &files {
            let (byte, bit) = (fd / 8, 1u8 << (fd % 8));
            let wanted: u16 = SELECT_EVENTS
                .iter()
                .zip(&asked)
                .filter(|(_, set)| set.as_ref().is_some_and(|set| set[byte] & bit != 0))
                .fold(0, |all, (events, _)| all | events);
            let now = revents(linux, file, wanted, &mut waits);
            for (set, events) in result.iter_mut().zip(SELECT_EVENTS) {
                if let Some(set) = set
                    && now & events == 0
                {
                    set[byte] &= !bit;
                }
            }
        }
        let ready: u64 = result
            .iter()
            .flatten()
            .map(|set| set.iter().map(|b| u64::from(b.count_ones())).sum::<u64>())
            .sum();
        let waitable = waits.any();
        let waited = if ready == 0 && waitable && !timeout.is_zero() {
            wait_ready(linux, &waits, deadline, &|| false)
        } else {
            Notified::Notice
        };
        timeout.check_stop()?;
        if waited == Notified::Signal {
            return Err(Errno::ERESTARTNOHAND);
        }
        let timed_out = waited == Notified::Timeout;
        if ready != 0 || !waitable || timeout.is_zero() || timed_out {
            for (addr, set) in sets.iter().zip(&result) {
                if let Some(set) = set {
                    uaccess::write(linux, *addr, set)?;
                }
            }
            if ready == 0 && !waitable {
                nap(linux, timeout)?;
            }
            return Ok(ready);
        }
    }
}

/// `select(nfds, readfds, writefds, exceptfds, timeout)` (a `struct timeval`); the time left
/// is written back (`write_back`).
pub fn select(linux: &Linux, args: &Args) -> SysResult {
    let timeout = match args[4] {
        0 => None,
        addr => Some(timeval(uaccess::read_words::<2>(linux, addr)?)?),
    };
    let timeout = Timeout::restartable(timeout);
    let result = select_fds(linux, args[0], [args[1], args[2], args[3]], timeout);
    write_back(linux, args[4], timeout, Form::Timeval, result)
}

/// A `struct timeval` timeout in nanoseconds. Whole seconds in `tv_usec` (of either sign) are
/// carried into `tv_sec` first, as Linux's `kern_select` does; what is invalid then — a
/// negative time, or microseconds left negative — is `EINVAL`.
fn timeval([sec, usec]: [u64; 2]) -> Result<u64, Errno> {
    const US_PER_SEC: i64 = (NS_PER_SEC / NS_PER_US) as i64;
    // The words are C longs.
    let (sec, usec) = (sec as i64, usec as i64);
    let sec = sec.checked_add(usec / US_PER_SEC).ok_or(Errno::EINVAL)?;
    let (Ok(sec), Ok(usec)) = (u64::try_from(sec), u64::try_from(usec % US_PER_SEC)) else {
        return Err(Errno::EINVAL);
    };
    Ok(sec
        .saturating_mul(NS_PER_SEC)
        .saturating_add(usec * NS_PER_US))
}

/// `pselect6(nfds, readfds, writefds, exceptfds, timeout, sig)`: `sig` points at a mask's
/// address and size (read first: `EFAULT`), then the timeout is read, then the mask, which is
/// the blocked mask while the call waits (`signal::with_wait_mask`); the time left is
/// written back (`write_back`).
pub fn pselect6(linux: &Linux, args: &Args) -> SysResult {
    let [mask_addr, mask_size] = match args[5] {
        0 => [0, 0],
        addr => uaccess::read_words::<2>(linux, addr)?,
    };
    let timeout = Timeout::restartable(timespec(linux, args[4])?);
    let mask = signal::wait_mask(linux, mask_addr, mask_size)?;
    signal::with_wait_mask(linux, mask, || {
        let result = select_fds(linux, args[0], [args[1], args[2], args[3]], timeout);
        write_back(linux, args[4], timeout, Form::Timespec, result)
    })
}
