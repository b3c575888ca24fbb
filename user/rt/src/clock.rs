//! The kernel clock read in user mode: nanoseconds since the kernel's `boot_tsc`, from `rdtsc`
//! and the rate the dispatcher page publishes (`DispatcherPage::tsc_per_ms`, `boot_tsc`), the
//! same clock TIMER deadlines are given in; the wall clock ([`wall_ns`]) on top of it; and the
//! dispatcher's CPU time ([`cpu_ns`]), which the kernel keeps in the same page.

use k42_sys::cpu::rdtsc;
use k42_sys::page::Page;

/// Nanoseconds per millisecond.
const NS_PER_MS: u128 = 1_000_000;

/// Now, in nanoseconds of the kernel clock (0 if the page has no rate yet).
pub fn now_ns() -> u64 {
    let page = Page::current();
    let rate = u128::from(page.tsc_per_ms());
    if rate == 0 {
        return 0;
    }
    let ticks = u128::from(rdtsc().saturating_sub(page.boot_tsc()));
    u64::try_from(ticks * NS_PER_MS / rate).unwrap_or(u64::MAX)
}

/// Now, in nanoseconds since the Unix epoch (UTC): the wall clock the kernel read at boot
/// (`DispatcherPage::boot_epoch_ns`) plus the kernel clock; the kernel clock alone (time since
/// boot, as if booted at the epoch) when the kernel could not read one.
pub fn wall_ns() -> u64 {
    Page::current().boot_epoch_ns().saturating_add(now_ns())
}

/// The CPU time this dispatcher has had, in ns (`Page::run_time`): what it had when it last
/// stopped running on its own time, plus the time since it began again if it runs on it now.
/// A server serving a call runs on its caller's time, which this does not count.
pub fn cpu_ns() -> u64 {
    let page = Page::current();
    loop {
        // The kernel may switch this dispatcher out and in again between the reads (upcalls
        // may be enabled): each switch in writes a new, nonzero `run_since`, so an unchanged
        // one brackets a consistent reading.
        let (_, before) = page.run_time();
        let (ran, since) = page.run_time();
        let now = now_ns();
        let (_, after) = page.run_time();
        if before == since && since == after {
            return match since {
                0 => ran,
                since => ran.saturating_add(now.saturating_sub(since)),
            };
        }
    }
}
