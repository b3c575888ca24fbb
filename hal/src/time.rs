//! The time-stamp counter: the kernel's clock source, calibrated against the PIT
//! once at boot (see `apic`).

use core::sync::atomic::{AtomicU64, Ordering};

static TSC_PER_MS: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick as a 32.32 fixed-point factor, so the hot clock read multiplies
/// instead of dividing 128-bit numbers.
static NS_PER_TICK_FIXED: AtomicU64 = AtomicU64::new(0);
/// Fraction bits of `NS_PER_TICK_FIXED`.
const FIXED_SHIFT: u32 = 32;
/// Nanoseconds per millisecond.
const NS_PER_MS: u128 = 1_000_000;
static BOOT_TSC: AtomicU64 = AtomicU64::new(0);

/// Reads the time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects; it is available on every x86_64 CPU.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Records the TSC value at kernel entry, the zero of `uptime_us`.
pub(crate) fn mark_boot() {
    BOOT_TSC.store(rdtsc(), Ordering::Relaxed);
}

pub(crate) fn set_tsc_per_ms(ticks: u64) {
    let ticks = ticks.max(1);
    let fixed = (NS_PER_MS << FIXED_SHIFT) / u128::from(ticks);
    NS_PER_TICK_FIXED.store(u64::try_from(fixed).unwrap_or(u64::MAX), Ordering::Relaxed);
    TSC_PER_MS.store(ticks, Ordering::Relaxed);
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
    let factor = NS_PER_TICK_FIXED.load(Ordering::Relaxed);
    let ticks = rdtsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed));
    ((u128::from(ticks) * u128::from(factor)) >> FIXED_SHIFT) as u64
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
