//! A busy loop that never yields, for the native tests (`user/bin/utest`). Spawned with
//! `arg0` = 0 (`sched.server_not_starved`), it spins silently as an APPLICATION on the same CPU
//! as a SYSTEM-class helper, which it must not keep off the CPU (strict classes), until the
//! test ends it through its `Process` handle. Spawned with `arg0` = a CommID it reports its
//! progress there (`k42_ifaces::spinner`): spinning and counting, or calling an echo server in
//! a loop — what the `stop.*` cases watch while they stop and continue it through the kernel.
//! Its program code makes no kernel call but its reports (and, calling, the PPCs); only its
//! runtime gives the processor back when the kernel asks (PREEMPT), or the kernel takes it.
#![no_std]
#![no_main]

use k42_abi::kernel::comm_pid;
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::echo::EchoClient;
use k42_ifaces::spinner::{
    HOLD_MS, MODE_CALL, MODE_SPIN, PROGRESS_METHOD, Progress, REPORT_NS, TARGET_METHOD,
};
use k42_rt::sys::kcall;
use k42_rt::{Env, Ppc, clock, log, ring};

k42_rt::entry!(main);

/// Exit status for a mode it does not know.
const BAD_MODE: u32 = 2;

fn main(env: Env) -> u32 {
    let report_to = env.arg0;
    match (report_to, env.arg1) {
        (0, _) => spin_silently(),
        (_, MODE_SPIN) => spin(report_to),
        (_, MODE_CALL) => call(report_to),
        (_, mode) => {
            log!("spinner: no mode {mode}");
            BAD_MODE
        }
    }
}

fn spin_silently() -> u32 {
    log!("spinner: spinning until ended");
    let mut turns: u64 = 0;
    loop {
        turns = core::hint::black_box(turns.wrapping_add(1));
    }
}

/// Sends `progress` to `report_to` (a full ring loses it: the next one says more).
fn report(report_to: u64, progress: Progress) {
    let _ = kcall::async_send(report_to, 0, PROGRESS_METHOD, &progress.to_payload());
}

fn spin(report_to: u64) -> u32 {
    let mut turns: u64 = 0;
    let mut next = clock::now_ns();
    loop {
        turns = core::hint::black_box(turns.wrapping_add(1));
        if clock::now_ns() >= next {
            report(
                report_to,
                Progress {
                    count: turns,
                    in_call: false,
                },
            );
            next = clock::now_ns() + REPORT_NS;
        }
    }
}

fn call(report_to: u64) -> u32 {
    let tester = comm_pid(report_to);
    let target = ring::wait_message_where(
        |m| m.method == TARGET_METHOD && m.badge == tester,
        |m| log!("spinner: ignored a message before the target: {m:?}"),
    )
    .payload[0];
    let mut echo = EchoClient::new(Ppc::new(target), SPAWNER_HANDLE);
    let mut done: u64 = 0;
    loop {
        report(
            report_to,
            Progress {
                count: done,
                in_call: true,
            },
        );
        if let Err(e) = echo.hold(HOLD_MS) {
            log!("spinner: Echo::hold failed: {e:?}");
        }
        done += 1;
        report(
            report_to,
            Progress {
                count: done,
                in_call: false,
            },
        );
    }
}
