//! The kernel clock read in user mode: nanoseconds since the kernel's `boot_tsc`, from `rdtsc`
//! and the rate the dispatcher page publishes (`DispatcherPage::tsc_per_ms`, `boot_tsc`), the
//! same clock TIMER deadlines are given in; the wall clock ([`wall_ns`]) on top of it; and the
//! dispatcher's CPU time ([`cpu_ns`]), which the kernel keeps in the same page, also in a form
//! cheap enough to read at every thread switch ([`CpuReading`]: a thread's own CPU time).

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
    // A reading is the span from the dispatcher's first instant (no CPU time, at `boot_tsc`).
    CpuReading::now().ns()
}

/// The dispatcher's CPU time in a form cheap to read and subtract: a nanosecond part and a
/// TSC-tick part, converted to nanoseconds only when wanted ([`CpuReading::ns`]). The thread
/// scheduler reads it at each switch and adds up the differences, a thread's own CPU time
/// (`sched.rs`), so a switch pays a few loads of the page and `rdtsc`, not the division of
/// [`cpu_ns`].
/// Both parts wrap: a reading is an instant on a line, a difference of two is a span.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuReading {
    ns: u64,
    ticks: u64,
}

impl CpuReading {
    /// Now. While the dispatcher runs on its own time, its CPU time is `run_ns - run_since +
    /// now_ns()`, and `now_ns` is the ticks since `boot_tsc` scaled: the parts are the first
    /// two and the ticks. Otherwise it is `run_ns`.
    pub fn now() -> Self {
        let page = Page::current();
        loop {
            // The kernel may switch this dispatcher out and in again between the reads
            // (upcalls may be enabled): each switch in writes a new, nonzero `run_since`, so an
            // unchanged one brackets a consistent reading.
            let (_, before) = page.run_time();
            let (ran, since) = page.run_time();
            let tsc = rdtsc();
            let (_, after) = page.run_time();
            if before == since && since == after {
                return match since {
                    0 => Self { ns: ran, ticks: 0 },
                    since => Self {
                        ns: ran.wrapping_sub(since),
                        ticks: tsc.wrapping_sub(page.boot_tsc()),
                    },
                };
            }
        }
    }

    /// The span from `earlier` to this reading.
    #[must_use]
    pub fn since(self, earlier: Self) -> Self {
        Self {
            ns: self.ns.wrapping_sub(earlier.ns),
            ticks: self.ticks.wrapping_sub(earlier.ticks),
        }
    }

    /// Two spans as one.
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        Self {
            ns: self.ns.wrapping_add(other.ns),
            ticks: self.ticks.wrapping_add(other.ticks),
        }
    }

    /// A span in nanoseconds (0 if the page has no rate yet, or for a span that is negative,
    /// which only rounding could make).
    pub fn ns(self) -> u64 {
        let rate = i128::from(Page::current().tsc_per_ms());
        if rate == 0 {
            return 0;
        }
        // As two's complement: either part of a span may be negative.
        let ticks = i128::from(self.ticks as i64);
        let total = i128::from(self.ns as i64) + ticks * NS_PER_MS as i128 / rate;
        u64::try_from(total).unwrap_or(0)
    }
}
