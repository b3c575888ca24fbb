//! The kernel clock read in user mode: nanoseconds since the kernel's `boot_tsc`, from `rdtsc`
//! and the rate the dispatcher page publishes (`DispatcherPage::tsc_per_ms`, `boot_tsc`), the
//! same clock TIMER deadlines are given in.

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
