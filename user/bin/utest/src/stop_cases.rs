//! Cases on job control in the kernel (`Process::stop` and `Process::cont`, kernel/src/jobstop.rs)
//! as native programs see it: a spinner (`user/bin/spinner`) reports its progress by async
//! message while it runs, so a stopped one falls silent and a continued one speaks again —
//! spinning on this CPU or another, not yet started, or in the middle of a PPC as the caller
//! or as the server.

use alloc::format;

use k42_abi::kernel::{AsyncMessage, Status, comm_pid};
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::echo::EchoMethod;
use k42_ifaces::spinner::{HOLD_MS, MODE_CALL, MODE_SPIN, Progress, TARGET_METHOD};
use k42_kapi::{ProcessClient, class};
use k42_rights::wire::meta;
use k42_rights::{Badge, Rights, XHandle};
use k42_rt::sys::kcall;
use k42_rt::{KernelPpc, clock, log, ring, thread};

use crate::ctx::{Case, Ctx, NotPassed, Outcome, ensure, failed, lacks, wait_exits};

/// The cases of this file.
pub const CASES: &[Case] = &[
    Case {
        name: "stop.spinner_here",
        run: spinner_here,
    },
    Case {
        name: "stop.spinner_other_cpu",
        run: spinner_other_cpu,
    },
    Case {
        name: "stop.not_started",
        run: not_started,
    },
    Case {
        name: "stop.caller_mid_ppc",
        run: caller_mid_ppc_here,
    },
    Case {
        name: "stop.caller_mid_ppc_other_cpu",
        run: caller_mid_ppc_other_cpu,
    },
    Case {
        name: "stop.server_mid_call",
        run: server_mid_call,
    },
    Case {
        name: "stop.needs_destroy",
        run: needs_destroy,
    },
];

/// Nanoseconds per millisecond.
const MS: u64 = 1_000_000;
/// How long anything the cases wait for may take (far more than it does, even under TCG).
const WITHIN_NS: u64 = 10_000 * MS;
/// How long a stopped helper is watched for staying silent.
const SILENT_NS: u64 = 300 * MS;
/// The status helpers are ended with.
const ENDED: u32 = 9;

/// A helper process: its CommID, pid and our handle on it (every right: we spawned it).
/// Dropped before [`end_all`] ended it (a case that failed half-way), it is ended then, so it
/// does not spin through the cases after.
struct Helper {
    comm: u64,
    pid: u64,
    process: ProcessClient<KernelPpc>,
    ended: bool,
}

impl Drop for Helper {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.process.exit(ENDED);
        }
    }
}

/// Spawns `name` on CPU `cpu` with the spawn words, not started.
fn spawn(ctx: &mut Ctx, name: &str, cpu: u32, arg0: u64, arg1: u64) -> Result<Helper, NotPassed> {
    let (comm, handle) = ctx
        .boot()?
        .spawn(
            name.as_ptr() as u64,
            name.len() as u64,
            class::APPLICATION,
            arg0,
            arg1,
            cpu,
        )
        .map_err(|e| failed(&format!("Boot::spawn({name})"), e))?;
    Ok(Helper {
        comm,
        pid: comm_pid(comm),
        process: ProcessClient::new(KernelPpc, XHandle::from_word(handle)),
        ended: false,
    })
}

impl Helper {
    fn start(&mut self) -> Outcome {
        self.process
            .start()
            .map_err(|e| failed("Process::start", e))
    }

    /// `Process::stop`, which must answer `want` (1: it ran, 0: it was stopped already).
    fn stop(&mut self, want: u64) -> Outcome {
        let was = self
            .process
            .stop()
            .map_err(|e| failed("Process::stop", e))?;
        ensure!(was == want, "Process::stop answered {was}, want {want}");
        Ok(())
    }

    /// `Process::cont`, which must answer `want` (1: it was stopped, 0: it was not).
    fn cont(&mut self, want: u64) -> Outcome {
        let was = self
            .process
            .cont()
            .map_err(|e| failed("Process::cont", e))?;
        ensure!(was == want, "Process::cont answered {was}, want {want}");
        Ok(())
    }
}

/// Ends the helpers and waits for the kernel's word that they ended, with [`ENDED`].
fn end_all(helpers: &mut [&mut Helper]) -> Outcome {
    for h in helpers.iter_mut() {
        h.ended = true;
        h.process
            .exit(ENDED)
            .map_err(|e| failed("Process::exit", e))?;
    }
    let pids: alloc::vec::Vec<u64> = helpers.iter().map(|h| h.pid).collect();
    let statuses = wait_exits(&pids, WITHIN_NS)?;
    ensure!(
        statuses.iter().all(|&s| s == ENDED),
        "the helpers exited with {statuses:?}, want {ENDED} each"
    );
    Ok(())
}

/// Logs a message a case did not wait for.
fn ignore(m: AsyncMessage) {
    log!("utest: ignored a message: {m:?}");
}

/// The next progress report of `pid` that `wanted` accepts, within [`WITHIN_NS`].
fn progress_where(
    pid: u64,
    what: &str,
    wanted: impl Fn(Progress) -> bool,
) -> Result<Progress, NotPassed> {
    let deadline = clock::now_ns() + WITHIN_NS;
    ring::wait_message_where_until(
        deadline,
        |m| Progress::from_message(m, pid).is_some_and(&wanted),
        |m| {
            if Progress::from_message(&m, pid).is_none() {
                ignore(m);
            }
        },
    )
    .and_then(|m| Progress::from_message(&m, pid))
    .ok_or_else(|| NotPassed::Failed(format!("no report from pid {pid} {what}")))
}

/// Takes every message waiting now: what a helper sent before it stopped. Its last report.
fn drain(pid: u64) -> Option<Progress> {
    let mut last = None;
    while let Some(m) = ring::next_message() {
        match Progress::from_message(&m, pid) {
            Some(p) => last = Some(p),
            None => ignore(m),
        }
    }
    last
}

/// Fails if `pid` reports within `ns` (it should be stopped).
fn silent(pid: u64, ns: u64, what: &str) -> Outcome {
    let deadline = clock::now_ns() + ns;
    let heard = ring::wait_message_where_until(
        deadline,
        |m| Progress::from_message(m, pid).is_some(),
        ignore,
    );
    match heard.and_then(|m| Progress::from_message(&m, pid)) {
        Some(p) => Err(NotPassed::Failed(format!(
            "pid {pid} {what} reported {p:?} while stopped"
        ))),
        None => Ok(()),
    }
}

/// Our CPU, and another if there is one.
fn cpus(ctx: &mut Ctx) -> Result<(u32, Option<u32>), NotPassed> {
    let here = u32::try_from(ctx.env.page.cpu()).map_err(|e| failed("our CPU", e))?;
    let count = ctx.boot()?.cpus().map_err(|e| failed("Boot::cpus", e))?;
    Ok((here, (count > 1).then(|| (here + 1) % count)))
}

/// A spinner on CPU `cpu` runs, is stopped (and stopped again: no change), stays silent, is
/// continued (and again: no change) and runs on from where it was; `end_stopped` ends it
/// while stopped (SIGKILL of a stopped process), else running.
fn spinner_on(ctx: &mut Ctx, cpu: u32, end_stopped: bool) -> Outcome {
    let tester = ctx.env.comm_id;
    let mut s = spawn(ctx, "spinner", cpu, tester, MODE_SPIN)?;
    s.start()?;
    progress_where(s.pid, "after its start", |_| true)?;
    s.stop(1)?;
    s.stop(0)?;
    // Stop returned once it was off its CPU: what it sent before is in our ring already.
    let before = drain(s.pid).map_or(0, |p| p.count);
    silent(s.pid, SILENT_NS, "spinning")?;
    s.cont(1)?;
    s.cont(0)?;
    let after = progress_where(s.pid, "after the continue", |_| true)?;
    ensure!(
        after.count > before,
        "after the continue the spinner counted {}, before the stop {before}",
        after.count
    );
    if end_stopped {
        s.stop(1)?;
        drain(s.pid);
    }
    end_all(&mut [&mut s])
}

fn spinner_here(ctx: &mut Ctx) -> Outcome {
    let (here, _) = cpus(ctx)?;
    spinner_on(ctx, here, false)
}

/// The remote path: the stop goes by mail and returns once the other CPU has it off.
fn spinner_other_cpu(ctx: &mut Ctx) -> Outcome {
    let Some(other) = cpus(ctx)?.1 else {
        return Err(NotPassed::Skipped("one CPU".into()));
    };
    spinner_on(ctx, other, true)
}

/// A process not started can be stopped; a continue does not start it, and a start while it is
/// stopped does not run it.
fn not_started(ctx: &mut Ctx) -> Outcome {
    let tester = ctx.env.comm_id;
    let (here, _) = cpus(ctx)?;
    let mut s = spawn(ctx, "spinner", here, tester, MODE_SPIN)?;
    s.stop(1)?;
    s.cont(1)?;
    silent(s.pid, SILENT_NS, "never started, stopped and continued")?;
    s.stop(1)?;
    s.start()?;
    silent(s.pid, SILENT_NS, "started while stopped")?;
    s.cont(1)?;
    progress_where(s.pid, "started while stopped, then continued", |_| true)?;
    end_all(&mut [&mut s])
}

/// Whether `server` takes a call now: a raw PPC that `Retry` refuses while it is busy or
/// stopped (the echo server answers ours with a rights error: it only serves its spawner).
fn takes_calls(server: u64) -> bool {
    let method = EchoMethod::Whoami.number();
    let out = kcall::ppc_call(server, SPAWNER_HANDLE.to_word(), method, &[0; 6]);
    out.status == Status::Ok as u64
}

/// Waits until `server` takes a call (within [`WITHIN_NS`]).
fn until_it_takes_calls(server: u64, what: &str) -> Outcome {
    let deadline = clock::now_ns() + WITHIN_NS;
    while !takes_calls(server) {
        ensure!(clock::now_ns() < deadline, "{what} never took a call again");
        thread::sleep(5 * MS);
    }
    Ok(())
}

/// A spinner calling an echo server (on `server_cpu`) in a loop, and the server; the spinner
/// has reported that it is in a call.
fn caller_and_server(ctx: &mut Ctx, server_cpu: u32) -> Result<(Helper, Helper), NotPassed> {
    let tester = ctx.env.comm_id;
    let (here, _) = cpus(ctx)?;
    let mut caller = spawn(ctx, "spinner", here, tester, MODE_CALL)?;
    let mut echo = spawn(ctx, "echo", server_cpu, caller.pid, 0)?;
    echo.start()?;
    caller.start()?;
    let sent = kcall::async_send(caller.comm, 0, TARGET_METHOD, &[echo.comm, 0, 0]);
    ensure!(
        kcall::is_ok(sent),
        "could not name the server: status {sent}"
    );
    progress_where(caller.pid, "entering its first call", |p| p.in_call)?;
    // The call is held HOLD_MS in the server: it is in the middle of it now.
    thread::sleep(HOLD_MS * MS / 10);
    Ok((caller, echo))
}

/// A caller stopped in the middle of a PPC: the server finishes the call (it takes calls again
/// while the caller is stopped), the caller does not go on until continued, then goes on with
/// the reply it got.
fn caller_mid_ppc(ctx: &mut Ctx, server_cpu: u32) -> Outcome {
    let (mut caller, mut echo) = caller_and_server(ctx, server_cpu)?;
    caller.stop(1)?;
    let done = drain(caller.pid).map_or(0, |p| p.count);
    ensure!(
        !takes_calls(echo.comm),
        "the server took a call right after its caller stopped: the caller was not in the \
         middle of one"
    );
    until_it_takes_calls(echo.comm, "the server of a stopped caller")?;
    silent(caller.pid, SILENT_NS, "stopped in a call")?;
    caller.cont(1)?;
    let next = progress_where(caller.pid, "after the continue", |p| !p.in_call)?;
    ensure!(
        next.count == done + 1,
        "after the continue the caller reported {} calls done, want {}",
        next.count,
        done + 1
    );
    end_all(&mut [&mut caller, &mut echo])
}

fn caller_mid_ppc_here(ctx: &mut Ctx) -> Outcome {
    let (here, _) = cpus(ctx)?;
    caller_mid_ppc(ctx, here)
}

/// The caller blocked on its CPU for a reply by mail.
fn caller_mid_ppc_other_cpu(ctx: &mut Ctx) -> Outcome {
    let Some(other) = cpus(ctx)?.1 else {
        return Err(NotPassed::Skipped("one CPU".into()));
    };
    caller_mid_ppc(ctx, other)
}

/// A server stopped while it serves a call finishes that call (its caller gets the reply),
/// then takes none until continued (its caller's next call waits on `Retry`).
fn server_mid_call(ctx: &mut Ctx) -> Outcome {
    let (here, _) = cpus(ctx)?;
    let (mut caller, mut echo) = caller_and_server(ctx, here)?;
    echo.stop(1)?;
    let done = drain(caller.pid).map_or(0, |p| p.count);
    let finished = progress_where(caller.pid, "after its server stopped", |p| !p.in_call)?;
    ensure!(
        finished.count == done + 1,
        "the call in progress when the server stopped ended as call {}, want {}",
        finished.count,
        done + 1
    );
    ensure!(!takes_calls(echo.comm), "the stopped server took a call");
    let deadline = clock::now_ns() + SILENT_NS;
    let more = ring::wait_message_where_until(
        deadline,
        |m| Progress::from_message(m, caller.pid).is_some_and(|p| !p.in_call),
        ignore,
    );
    ensure!(
        more.is_none(),
        "a call to the stopped server ended: {more:?}"
    );
    echo.cont(1)?;
    progress_where(caller.pid, "once its server continued", |p| {
        !p.in_call && p.count == done + 2
    })?;
    end_all(&mut [&mut caller, &mut echo])
}

/// Stop and continue need DESTROY: a handle with READ alone is refused.
fn needs_destroy(ctx: &mut Ctx) -> Outcome {
    let tester = ctx.env.comm_id;
    let (here, _) = cpus(ctx)?;
    let mut s = spawn(ctx, "spinner", here, tester, MODE_SPIN)?;
    let reader = meta::give_access(
        &mut KernelPpc,
        s.process.handle,
        Badge(ctx.env.pid()),
        Rights::READ,
    )
    .map_err(|e| failed("give-access READ on the spinner", e))?;
    let mut weak = ProcessClient::new(KernelPpc, reader);
    let stop = weak.stop();
    ensure!(
        lacks(&stop, Rights::DESTROY),
        "Process::stop with READ gave {stop:?}, not Lacking DESTROY"
    );
    let cont = weak.cont();
    ensure!(
        lacks(&cont, Rights::DESTROY),
        "Process::cont with READ gave {cont:?}, not Lacking DESTROY"
    );
    s.start()?;
    end_all(&mut [&mut s])
}
