//! The ticker (`k42_ifaces::ticker`), a helper of the native tests (`user/bin/utest`): it sleeps
//! `TICK_NS` at a time on the kernel TIMER (through the runtime's `thread::sleep`), `ticks`
//! times, noting how late after each deadline it ran; after each wake-up it spins `spin_us` µs, reading the clock all the while, and counts
//! the spins in which the kernel asked for the processor back (the runtime's count of PREEMPT
//! soft interrupts moved) and those in which the clock jumped by more than `STOLEN_GAP_NS`
//! between two reads. Then it sends its report to `arg0` and exits.
//!
//! Spawned as SYSTEM next to an APPLICATION busy loop, it shows strict classes: with them, the
//! loop can never take the CPU from it, so no spin is preempted; with a shared class, the
//! kernel would preempt it at each quantum's end, in the middle of the spins, for the loop.
//! (The gaps are reported too, but they also count time the host took QEMU's vCPU away.)
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use k42_ifaces::ticker::{DONE_METHOD, MAX_TICKS, Plan, Report, STOLEN_GAP_NS, TICK_NS};
use k42_rt::sys::kcall;
use k42_rt::{Env, clock, log, thread};

k42_rt::entry!(main);

/// Nanoseconds per microsecond.
const NS_PER_US: u64 = 1000;
/// Exit status when the report cannot be sent.
const NOT_SENT: u32 = 1;

fn main(env: Env) -> u32 {
    let plan = Plan::from_word(env.arg1);
    let ticks = plan.ticks.min(MAX_TICKS);
    let start = clock::now_ns();
    let mut report = Report::default();
    let mut late = Vec::new();
    for _ in 0..ticks {
        let deadline = clock::now_ns() + TICK_NS;
        thread::sleep_until(deadline);
        let woke = clock::now_ns();
        late.push(woke - deadline);
        report.ticks += 1;
        let preemptions = thread::stats().preemptions;
        let spin_end = woke + u64::from(plan.spin_us) * NS_PER_US;
        let mut last = woke;
        let mut worst = 0;
        while last < spin_end {
            let now = clock::now_ns();
            worst = worst.max(now.saturating_sub(last));
            last = now;
        }
        if thread::stats().preemptions != preemptions {
            report.preempted += 1;
        }
        if worst > STOLEN_GAP_NS {
            report.stolen += 1;
        }
        report.max_gap_us = report.max_gap_us.max(us(worst));
    }
    late.sort_unstable();
    report.median_late_us = late.get(late.len() / 2).copied().map_or(0, us);
    report.max_late_us = late.last().copied().map_or(0, us);
    report.elapsed_us = us(clock::now_ns() - start);
    let status = kcall::async_send(env.arg0, 0, DONE_METHOD, &report.to_payload());
    if !kcall::is_ok(status) {
        log!("ticker: cannot report to {:#x}: status {status}", env.arg0);
        return NOT_SENT;
    }
    0
}

/// Nanoseconds as whole microseconds, saturating.
fn us(ns: u64) -> u32 {
    u32::try_from(ns / NS_PER_US).unwrap_or(u32::MAX)
}
