//! Clocks and sleeping: `clock_gettime`, `clock_getres`, `gettimeofday`, `time`, `nanosleep`,
//! `clock_nanosleep`. Every clock reads the kernel clock (`k42_rt::clock`: TSC-based, ns since
//! boot, read in user mode from the dispatcher page's rate — no kernel entry); the wall clocks
//! add the time the kernel read from the CMOS clock at boot (`k42_rt::clock::wall_ns`). A sleep blocks the
//! program's thread in the runtime's scheduler, not the dispatcher.

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rt::clock;

use crate::calls::usage;
use crate::signals::{self, Woken};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

const NS_PER_SEC: u64 = 1_000_000_000;
const NS_PER_US: u64 = 1_000;
/// The clocks' resolution as `clock_getres` reports it (1 ns, like Linux's high-resolution
/// clocks).
const RESOLUTION_NS: u64 = 1;

/// Nanoseconds of clock `id`, `EINVAL` for a clock that does not exist.
fn now(id: u32) -> Result<u64, Errno> {
    match id {
        g::CLOCK_REALTIME | g::CLOCK_REALTIME_COARSE | g::CLOCK_TAI => Ok(clock::wall_ns()),
        g::CLOCK_MONOTONIC
        | g::CLOCK_MONOTONIC_RAW
        | g::CLOCK_MONOTONIC_COARSE
        | g::CLOCK_BOOTTIME => Ok(clock::now_ns()),
        // The process's CPU time, and the calling thread's (`calls/usage.rs`).
        g::CLOCK_PROCESS_CPUTIME_ID => Ok(usage::own_ns()),
        g::CLOCK_THREAD_CPUTIME_ID => Ok(usage::thread_ns()),
        _ => Err(Errno::EINVAL),
    }
}

fn timespec(ns: u64) -> [u64; 2] {
    [ns / NS_PER_SEC, ns % NS_PER_SEC]
}

/// A `struct timespec` the program passed, as nanoseconds (`EINVAL` when out of range).
pub(crate) fn read_timespec(linux: &Linux, addr: u64) -> Result<u64, Errno> {
    let [sec, nsec] = uaccess::read_words::<2>(linux, addr)?;
    if (sec as i64) < 0 || nsec >= NS_PER_SEC {
        return Err(Errno::EINVAL);
    }
    Ok(sec.saturating_mul(NS_PER_SEC).saturating_add(nsec))
}

/// `clock_gettime(id, tp)`.
pub fn clock_gettime(linux: &Linux, args: &Args) -> SysResult {
    let ns = now(args[0] as u32)?;
    uaccess::write_words(linux, args[1], &timespec(ns)).map(|()| 0)
}

/// `clock_getres(id, res)`.
pub fn clock_getres(linux: &Linux, args: &Args) -> SysResult {
    now(args[0] as u32)?;
    if args[1] != 0 {
        uaccess::write_words(linux, args[1], &timespec(RESOLUTION_NS))?;
    }
    Ok(0)
}

/// `gettimeofday(tv, tz)`: the time zone, if asked, is UTC.
pub fn gettimeofday(linux: &Linux, args: &Args) -> SysResult {
    let ns = clock::wall_ns();
    if args[0] != 0 {
        uaccess::write_words(
            linux,
            args[0],
            &[ns / NS_PER_SEC, ns % NS_PER_SEC / NS_PER_US],
        )?;
    }
    if args[1] != 0 {
        uaccess::write(linux, args[1], &[0u8; 8])?;
    }
    Ok(0)
}

/// `time(tloc)`.
pub fn time(linux: &Linux, args: &Args) -> SysResult {
    let secs = clock::wall_ns() / NS_PER_SEC;
    if args[0] != 0 {
        uaccess::write_words(linux, args[0], &[secs])?;
    }
    Ok(secs)
}

/// Sleeps the program's thread until the kernel clock reaches `deadline` or a signal is to
/// be delivered (`Err(EINTR)`: nanosleep is never restarted after a handler).
fn sleep_until(linux: &Linux, deadline: u64) -> Result<(), Errno> {
    loop {
        match signals::wait(linux, Some(deadline), |_| false) {
            Woken::Timeout => return Ok(()),
            Woken::Signal => return Err(Errno::EINTR),
            Woken::Message => {}
        }
    }
}

/// A relative sleep of `ns` that writes what is left to `rem` (if not null) when a signal
/// interrupts it, as Linux's `nanosleep` does.
fn sleep_relative(linux: &Linux, ns: u64, rem: u64) -> SysResult {
    let deadline = clock::now_ns().saturating_add(ns);
    if let Err(e) = sleep_until(linux, deadline) {
        if rem != 0 {
            let left = deadline.saturating_sub(clock::now_ns());
            uaccess::write_words(linux, rem, &[left / NS_PER_SEC, left % NS_PER_SEC])?;
        }
        return Err(e);
    }
    Ok(0)
}

/// `nanosleep(req, rem)`: sleeps the program's thread; a signal ends it early with `EINTR`
/// and the time left in `rem`.
pub fn nanosleep(linux: &Linux, args: &Args) -> SysResult {
    let ns = read_timespec(linux, args[0])?;
    sleep_relative(linux, ns, args[1])
}

/// `clock_nanosleep(id, flags, req, rem)`: relative or `TIMER_ABSTIME` (which leaves `rem`
/// alone, as Linux does).
pub fn clock_nanosleep(linux: &Linux, args: &Args) -> SysResult {
    let id = args[0] as u32;
    if matches!(id, g::CLOCK_THREAD_CPUTIME_ID) {
        return Err(Errno::EINVAL);
    }
    // How far clock `id` is ahead of the kernel clock the runtime's timers use.
    let offset = now(id)?.saturating_sub(clock::now_ns());
    let ns = read_timespec(linux, args[2])?;
    if args[1] as u32 & g::TIMER_ABSTIME != 0 {
        sleep_until(linux, ns.saturating_sub(offset))?;
        return Ok(0);
    }
    sleep_relative(linux, ns, args[3])
}
