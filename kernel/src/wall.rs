//! The wall clock: the CMOS real-time clock read once at boot (`k42_hal::rtc`, decoded by
//! `k42_rtc`) and pinned to the kernel clock's origin, so wall time is that plus the
//! TSC-based clock every dispatcher reads in user mode. Each dispatcher page carries it
//! (`DispatcherPage::boot_epoch_ns`, written in `dispatcher.rs`); Linux's `CLOCK_REALTIME` is
//! built from it in the personality. Nothing sets the clock later (no `settimeofday` yet).

use core::sync::atomic::{AtomicU64, Ordering};

const NS_PER_SEC: u64 = 1_000_000_000;

/// Ns since the epoch at the kernel clock's origin (`boot_tsc`); 0: unknown.
static BOOT_EPOCH_NS: AtomicU64 = AtomicU64::new(0);

/// Reads the clock (after the TSC is calibrated); returns the Unix time it read, if any.
pub fn init() -> Option<u64> {
    let Some(unix) = k42_hal::rtc::read().and_then(|r| r.unix_time()) else {
        log::warn!("the CMOS clock gave no valid date: the wall clock starts at the epoch");
        return None;
    };
    let at_boot = unix
        .saturating_mul(NS_PER_SEC)
        .saturating_sub(k42_hal::time::uptime_ns());
    BOOT_EPOCH_NS.store(at_boot, Ordering::Relaxed);
    Some(unix)
}

/// Ns since the epoch at the kernel clock's origin; 0 when the clock was not read.
pub fn boot_epoch_ns() -> u64 {
    BOOT_EPOCH_NS.load(Ordering::Relaxed)
}
