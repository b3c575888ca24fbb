//! The time-stamp counter: the kernel's clock source, calibrated against the PIT
//! once at boot (see `apic`).

use core::sync::atomic::{AtomicU64, Ordering};

static TSC_PER_MS: AtomicU64 = AtomicU64::new(0);
static BOOT_TSC: AtomicU64 = AtomicU64::new(0);

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects; it is available on every x86_64 CPU.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Records the TSC value at kernel entry, the zero of `uptime_us`.
pub(crate) fn mark_boot() {
    BOOT_TSC.store(rdtsc(), Ordering::Relaxed);
}

pub(crate) fn set_tsc_per_ms(ticks: u64) {
    TSC_PER_MS.store(ticks.max(1), Ordering::Relaxed);
}

/// TSC ticks per millisecond (0 before calibration).
pub fn tsc_per_ms() -> u64 {
    TSC_PER_MS.load(Ordering::Relaxed)
}

/// Microseconds since kernel entry (0 before calibration).
pub fn uptime_us() -> u64 {
    let per_ms = tsc_per_ms();
    if per_ms == 0 {
        return 0;
    }
    let ticks = rdtsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed));
    (u128::from(ticks) * 1000 / u128::from(per_ms)) as u64
}

/// Nanoseconds since kernel entry (0 before calibration): the kernel clock.
pub fn uptime_ns() -> u64 {
    let per_ms = tsc_per_ms();
    if per_ms == 0 {
        return 0;
    }
    let ticks = rdtsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed));
    (u128::from(ticks) * 1_000_000 / u128::from(per_ms)) as u64
}

/// The TSC value the kernel clock counts from.
pub fn boot_tsc() -> u64 {
    BOOT_TSC.load(Ordering::Relaxed)
}

/// Busy-waits `us` microseconds on the TSC (returns at once before calibration).
pub fn delay_us(us: u64) {
    let per_ms = tsc_per_ms();
    let ticks = us.saturating_mul(per_ms) / 1000;
    let start = rdtsc();
    while rdtsc().wrapping_sub(start) < ticks {
        core::hint::spin_loop();
    }
}
