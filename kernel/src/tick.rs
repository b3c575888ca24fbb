//! The periodic tick taken in ring 0 (a CPU idling in the kernel, or the in-kernel tests):
//! counts timer interrupts per CPU, which proves the local APIC timer runs. Ticks taken while
//! a dispatcher runs go to the scheduler policy instead (`entry.rs`).

use core::sync::atomic::{AtomicU64, Ordering};

use k42_hal::BootInfo;

/// Most CPUs with a tick counter (APIC ids above this share the last slot).
const MAX_CPUS: usize = 64;

static TICKS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

fn slot() -> usize {
    (k42_hal::apic::cpu_id() as usize).min(MAX_CPUS - 1)
}

fn on_tick(_frame: &k42_hal::trap::TrapFrame) {
    TICKS[slot()].fetch_add(1, Ordering::Relaxed);
}

/// Registers the tick handler and enables interrupts, if the timer started.
pub fn start(info: &BootInfo) {
    match &info.timer {
        Ok(t) => {
            k42_hal::trap::set_timer_handler(on_tick);
            k42_hal::cpu::enable_interrupts();
            log::debug!(
                "timer: {} Hz tick, APIC {} ticks/ms, TSC {} ticks/ms",
                k42_hal::apic::TICK_HZ,
                t.apic_per_ms,
                t.tsc_per_ms
            );
        }
        Err(e) => log::error!("timer not started: {e:?}; the kernel runs without a tick"),
    }
}

/// Ticks seen by the CPU with local APIC id `apic_id`.
pub fn ticks_of(apic_id: u32) -> u64 {
    TICKS[(apic_id as usize).min(MAX_CPUS - 1)].load(Ordering::Relaxed)
}

/// Ticks seen on this CPU.
pub fn ticks() -> u64 {
    TICKS[slot()].load(Ordering::Relaxed)
}
