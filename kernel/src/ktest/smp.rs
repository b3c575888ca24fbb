//! Tests of SMP bring-up: every CPU the MADT lists runs kernel code, and each
//! takes its own timer ticks.

use super::{Case, Context, Outcome, skip};
use crate::{ensure, tick};

pub const CASES: &[Case] = &[
    Case {
        name: "smp.all_cpus_online",
        run: all_online,
    },
    Case {
        name: "smp.every_cpu_ticks",
        run: every_cpu_ticks,
    },
];

/// Ticks each CPU must take; the wait is bounded so a dead timer fails the test
/// instead of hanging the run.
const TICKS_TO_SEE: u64 = 3;
const WAIT_LIMIT_US: u64 = 10_000_000;

fn all_online(ctx: &Context<'_>) -> Outcome {
    let online = k42_hal::smp::online() as usize;
    ensure!(
        online == ctx.apic_ids.len(),
        "{online} CPUs online, the MADT lists {}",
        ctx.apic_ids.len()
    );
    Ok(())
}

fn every_cpu_ticks(ctx: &Context<'_>) -> Outcome {
    if ctx.apic_ids.len() < 2 {
        return skip("one CPU (run with --smp 2 or more)");
    }
    let start: alloc::vec::Vec<u64> = ctx.apic_ids.iter().map(|&id| tick::ticks_of(id)).collect();
    let t0 = k42_hal::time::uptime_us();
    loop {
        let behind: alloc::vec::Vec<u32> = ctx
            .apic_ids
            .iter()
            .zip(&start)
            .filter(|&(&id, &s)| tick::ticks_of(id) < s + TICKS_TO_SEE)
            .map(|(&id, _)| id)
            .collect();
        if behind.is_empty() {
            return Ok(());
        }
        ensure!(
            k42_hal::time::uptime_us() - t0 < WAIT_LIMIT_US,
            "APIC ids {behind:?} took fewer than {TICKS_TO_SEE} ticks in {WAIT_LIMIT_US} us"
        );
        k42_hal::cpu::wait_for_interrupt();
    }
}
