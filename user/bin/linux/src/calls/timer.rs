//! `ITIMER_REAL` and `alarm` (issue #5): the process's one real-time interval timer, which
//! raises SIGALRM when it expires. It lives in the personality: a timer thread sleeps on the
//! runtime's timer queue until the deadline and then sends this dispatcher an
//! `ALARM_METHOD` message (`crate::signals`), so SIGALRM takes the path every other signal
//! from outside takes — it interrupts running program code or a blocked call the same way.
//! `ITIMER_VIRTUAL` and `ITIMER_PROF` (CPU-time timers) are not kept: `EINVAL`.
//!
//! Timers are not inherited by a fork child (its copy of [`TIMER`] is reset by
//! [`for_fork_child`]) and survive `execve`, as on Linux.

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rt::sys::kcall;
use k42_rt::sys::page::Page;
use k42_rt::{clock, log, thread};
use spin::Mutex;

use crate::signals::ALARM_METHOD;
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

const NS_PER_SEC: u64 = 1_000_000_000;
const NS_PER_US: u64 = 1_000;
/// Linux's `alarm` rounds a remainder of half a second or more up.
const HALF_SECOND_US: u64 = 500_000;

/// The timer: when it next expires (kernel clock), its interval, and which timer thread owns
/// it (a thread that wakes and finds another owner ends).
struct Timer {
    deadline: Option<u64>,
    interval: u64,
    owner: u64,
    /// When the owning thread will wake next (it re-sleeps if the deadline moved later).
    owner_wakes: Option<u64>,
}

static TIMER: Mutex<Timer> = Mutex::new(Timer {
    deadline: None,
    interval: 0,
    owner: 0,
    owner_wakes: None,
});

/// A fork child has no timer (and none of its parent's threads).
pub fn for_fork_child() {
    let mut t = TIMER.lock();
    t.deadline = None;
    t.interval = 0;
    t.owner_wakes = None;
    t.owner = t.owner.wrapping_add(1);
}

/// The timer thread `me`, first waking at `wake`.
fn run(me: u64, mut wake: u64) {
    loop {
        thread::sleep_until(wake);
        let fire = {
            let mut t = TIMER.lock();
            if t.owner != me {
                return;
            }
            match t.deadline {
                None => {
                    t.owner_wakes = None;
                    return;
                }
                Some(d) if d > clock::now_ns() => {
                    wake = d;
                    t.owner_wakes = Some(d);
                    false
                }
                Some(d) => {
                    t.deadline = (t.interval != 0).then(|| d.saturating_add(t.interval));
                    t.owner_wakes = t.deadline;
                    if let Some(next) = t.deadline {
                        wake = next;
                    }
                    true
                }
            }
        };
        if fire {
            let me_comm = Page::current().comm_id();
            // A full ring loses this expiry, as an overrun would on Linux.
            let _ = kcall::async_send(me_comm, 0, ALARM_METHOD, &[0; 3]);
            if TIMER.lock().owner_wakes.is_none() {
                return;
            }
        }
    }
}

/// Sets the timer to expire in `value_ns` (0: disarm) and every `interval_ns` after; returns
/// the old remaining time and interval.
fn set(value_ns: u64, interval_ns: u64) -> (u64, u64) {
    let now = clock::now_ns();
    let mut spawn = None;
    let old = {
        let mut t = TIMER.lock();
        let old = (
            t.deadline.map_or(0, |d| d.saturating_sub(now).max(1)),
            t.interval,
        );
        t.interval = if value_ns == 0 { 0 } else { interval_ns };
        t.deadline = (value_ns != 0).then(|| now.saturating_add(value_ns));
        if let Some(d) = t.deadline
            && t.owner_wakes.is_none_or(|w| w > d)
        {
            t.owner = t.owner.wrapping_add(1);
            t.owner_wakes = Some(d);
            spawn = Some((t.owner, d));
        }
        old
    };
    if let Some((me, wake)) = spawn {
        match thread::try_spawn("itimer", move || run(me, wake)) {
            // Let it start sleeping (arming the dispatcher's timer) before the program
            // continues: a program that never blocks would not let it run otherwise.
            Ok(_) => thread::yield_now(),
            Err(e) => log!("linux: cannot start the interval timer's thread: {e}"),
        }
    }
    old
}

/// The timer's remaining time and interval.
fn get() -> (u64, u64) {
    let now = clock::now_ns();
    let t = TIMER.lock();
    (
        t.deadline.map_or(0, |d| d.saturating_sub(now).max(1)),
        t.interval,
    )
}

/// A `struct timeval` in nanoseconds (`EINVAL` for a negative or out-of-range one).
fn timeval_ns(sec: u64, usec: u64) -> Result<u64, Errno> {
    if (sec as i64) < 0 || usec >= NS_PER_SEC / NS_PER_US {
        return Err(Errno::EINVAL);
    }
    Ok(sec
        .saturating_mul(NS_PER_SEC)
        .saturating_add(usec * NS_PER_US))
}

/// Nanoseconds as a `struct timeval`'s two words (rounded up to a microsecond, so a running
/// timer never reads as disarmed).
fn timeval(ns: u64) -> [u64; 2] {
    let us = ns.div_ceil(NS_PER_US);
    [us / (NS_PER_SEC / NS_PER_US), us % (NS_PER_SEC / NS_PER_US)]
}

/// `setitimer(which, new, old)`.
pub fn setitimer(linux: &Linux, args: &Args) -> SysResult {
    if args[0] as u32 != g::ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let (value, interval) = match args[1] {
        0 => (0, 0),
        addr => {
            let [isec, iusec, vsec, vusec] = uaccess::read_words::<4>(linux, addr)?;
            (timeval_ns(vsec, vusec)?, timeval_ns(isec, iusec)?)
        }
    };
    let (left, every) = set(value, interval);
    if args[2] != 0 {
        let [is, ius] = timeval(every);
        let [vs, vus] = timeval(left);
        uaccess::write_words(linux, args[2], &[is, ius, vs, vus])?;
    }
    Ok(0)
}

/// `getitimer(which, value)`.
pub fn getitimer(linux: &Linux, args: &Args) -> SysResult {
    if args[0] as u32 != g::ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let (left, every) = get();
    let [is, ius] = timeval(every);
    let [vs, vus] = timeval(left);
    uaccess::write_words(linux, args[1], &[is, ius, vs, vus])?;
    Ok(0)
}

/// `alarm(seconds)`: the seconds left of the previous alarm (rounded as Linux rounds them).
pub fn alarm(_linux: &Linux, args: &Args) -> SysResult {
    // Lossless: an unsigned int.
    let secs = u64::from(args[0] as u32);
    let (left, _) = set(secs * NS_PER_SEC, 0);
    if left == 0 {
        return Ok(0);
    }
    let [s, us] = timeval(left);
    Ok(if us >= HALF_SECOND_US {
        s + 1
    } else {
        s.max(1)
    })
}

/// Whether a fork may copy the process now (no other thread holds the timer's lock).
pub fn quiet() -> bool {
    !TIMER.is_locked()
}
