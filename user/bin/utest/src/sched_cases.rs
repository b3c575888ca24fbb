//! Cases on the kernel's scheduling of dispatchers as native programs see it: strict priority
//! classes, with a SYSTEM-class helper next to an APPLICATION-class busy loop on one CPU.

use alloc::format;

use k42_abi::kernel::comm_pid;
use k42_ifaces::ticker::{Plan, Report, STOLEN_GAP_NS};
use k42_kapi::class;
use k42_rt::{clock, log, ring, thread};

use crate::ctx::{Case, Ctx, NotPassed, Outcome, ensure, failed, wait_exits};

/// The cases of this file.
pub const CASES: &[Case] = &[Case {
    name: "sched.server_not_starved",
    run: server_not_starved,
}];

/// Nanoseconds per millisecond.
const MS: u64 = 1_000_000;
/// The ticker's work: twenty 10 ms sleeps, each followed by 15 ms of spinning — longer than a
/// quantum (10 ms), so a dispatcher of its own class would get the CPU in the middle of it.
const PLAN: Plan = Plan {
    ticks: 20,
    spin_us: 15_000,
};
/// How long the ticker's report may take (its work takes about 0.5 s).
const REPORT_NS: u64 = 5000 * MS;
/// The median lateness after a deadline the ticker may have: one kernel tick (the timer's
/// resolution: it fires at the first tick at or after the deadline) and some slack; with strict
/// classes it is about half a tick.
const MEDIAN_LATE_ALLOWED_US: u32 = 12_000;
/// Spins in which the kernel may preempt the ticker without failing the case: strict classes
/// allow none for the busy loop; one or two allow for the console or bootstrap (SYSTEM, on the
/// same CPU) waking meanwhile, which they have no reason to.
const PREEMPTED_ALLOWED: u16 = 2;
/// The status the spinner is ended with.
const SPINNER_STATUS: u32 = 7;

/// An APPLICATION busy loop that never yields shares a CPU with the SYSTEM-class ticker, which
/// sleeps 10 ms on the kernel TIMER twenty times and spins 15 ms after each wake-up. Its report
/// must come within 5 s, it must run promptly after each deadline — a median lateness of at
/// most one tick, the kernel timer's resolution — and the kernel must not have asked it for
/// the CPU (PREEMPT) during its spins.
///
/// Why this fails without strict classes: with one class and fair shares (measured by spawning
/// the ticker as an APPLICATION: median lateness 21–25 ms against 5 ms, the whole run 0.93–0.99 s
/// against 0.60 s), the woken ticker waits until the loop has had its share, so it runs one to
/// two ticks late; with the classes inverted it would never run and the report would not come.
/// The gaps in the ticker's clock are logged, not judged: the host can take QEMU's vCPU away
/// just as well as the guest's scheduler can.
fn server_not_starved(ctx: &mut Ctx) -> Outcome {
    let cpu = u32::try_from(ctx.env.page.cpu()).map_err(|e| failed("our CPU", e))?;
    let (spinner_comm, mut spinner) = ctx.spawn_helper("spinner", class::APPLICATION, cpu, 0, 0)?;
    // Let the spinner take the CPU before the ticker comes.
    thread::sleep(20 * MS);
    let start = clock::now_ns();
    let ticker = ctx.spawn_helper(
        "ticker",
        class::SYSTEM,
        cpu,
        ctx.env.comm_id,
        PLAN.to_word(),
    );
    let report = match &ticker {
        Ok((comm, _)) => {
            let pid = comm_pid(*comm);
            ring::wait_message_where_until(
                start + REPORT_NS,
                |m| Report::from_message(m, pid).is_some(),
                |m| log!("utest: ignored a message while waiting for the ticker: {m:?}"),
            )
            .and_then(|m| Report::from_message(&m, pid))
        }
        Err(_) => None,
    };
    let waited = clock::now_ns() - start;
    // End the spinner whatever happened, or it keeps the CPU for the rest of the run.
    let ended = spinner.exit(SPINNER_STATUS);
    let (ticker_comm, _) = ticker?;
    ended.map_err(|e| failed("Process::exit on the spinner", e))?;
    let statuses = wait_exits(&[comm_pid(spinner_comm), comm_pid(ticker_comm)], REPORT_NS)?;
    let Some(report) = report else {
        return Err(NotPassed::Failed(format!(
            "no report from the SYSTEM-class ticker within {} ms while an APPLICATION busy \
             loop ran on its CPU",
            waited / MS
        )));
    };
    log!(
        "utest: the ticker reported after {} ms: {report:?}",
        waited / MS
    );
    ensure!(
        u32::from(report.ticks) == PLAN.ticks,
        "the ticker slept {} times, want {}",
        report.ticks,
        PLAN.ticks
    );
    ensure!(
        report.median_late_us <= MEDIAN_LATE_ALLOWED_US,
        "the SYSTEM ticker ran a median {} µs (at worst {} µs) after its timer deadlines beside \
         an APPLICATION busy loop, want at most {MEDIAN_LATE_ALLOWED_US}: the loop kept it off \
         the CPU, classes are not strict",
        report.median_late_us,
        report.max_late_us
    );
    ensure!(
        report.preempted <= PREEMPTED_ALLOWED,
        "the kernel preempted the SYSTEM ticker in {} of {} spins beside an APPLICATION busy \
         loop (and its clock jumped by over {} ms in {}, longest {} µs): classes are not strict",
        report.preempted,
        PLAN.ticks,
        STOLEN_GAP_NS / MS,
        report.stolen,
        report.max_gap_us
    );
    ensure!(
        statuses == [SPINNER_STATUS, 0],
        "the spinner and the ticker exited with {statuses:?}, want [{SPINNER_STATUS}, 0]"
    );
    Ok(())
}
