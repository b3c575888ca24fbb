//! Cases on PPC to a user-level server: the echo server (`user/bin/echo`, `k42_ifaces::echo`)
//! spawned through the `Boot` handle — every argument and result register, the badge the kernel
//! stamps, the server's own rights check, a call that blocks inside the server on a thread —
//! the end of that server through our handle on it, reported by the kernel's EXITED message,
//! a second echo server on another CPU (calls by mail), and one spawned on another CPU that
//! serves on every CPU (our calls served on ours).

use alloc::format;

use k42_abi::kernel::{Status, comm_pid};
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::echo::{self, EchoClient, digest};
use k42_kapi::class;
use k42_rights::wire::{CallError, DispatchError, meta};
use k42_rights::{Badge, Rights, RightsError, XHandle};
use k42_rt::{Ppc, clock, process, ring};

use crate::ctx::{Case, Ctx, NotPassed, Outcome, end_helper, ensure, failed, lacks};

/// The cases of this file (the last one ends the shared echo server).
pub const CASES: &[Case] = &[
    Case {
        name: "ppc.echo_roundtrip",
        run: echo_roundtrip,
    },
    Case {
        name: "ppc.rights",
        run: rights,
    },
    Case {
        name: "process.child_exit_reported",
        run: child_exit_reported,
    },
    Case {
        name: "ppc.server_call_blocks_on_fairblock",
        run: server_call_blocks_on_fairblock,
    },
    Case {
        name: "ppc.cross_cpu",
        run: cross_cpu,
    },
    Case {
        name: "ppc.served_on_callers_cpu",
        run: served_on_callers_cpu,
    },
];

/// Six arguments that differ in every byte, so a mixed-up register shows.
const ARGS: [u64; 6] = [
    0x0123_4567_89ab_cdef,
    0x1122_3344_5566_7788,
    0xfedc_ba98_7654_3210,
    0x0f1e_2d3c_4b5a_6978,
    0x8899_aabb_ccdd_eeff,
    0x7766_5544_3322_1100,
];
/// A handle index the echo server never issued.
const FORGED_INDEX: u32 = 9;
/// The status the echo server is ended with.
const CHILD_STATUS: u32 = 42;
/// How long the kernel may take to report the end (nanoseconds).
const EXIT_REPORT_NS: u64 = 2_000_000_000;

/// `echo` returns the digest of its arguments; `whoami` returns our pid.
fn echo_roundtrip(ctx: &mut Ctx) -> Outcome {
    let pid = ctx.env.pid();
    let mut echo = ctx.echo()?.client();
    let [a, b, c, d, e, f] = ARGS;
    let got = echo
        .echo(a, b, c, d, e, f)
        .map_err(|e| failed("Echo::echo", e))?;
    let want = digest(ARGS);
    ensure!(got == want, "Echo::echo gave {got:x?}, want {want:x?}");
    let seen = echo.whoami().map_err(|e| failed("Echo::whoami", e))?;
    ensure!(
        seen == pid,
        "the echo server saw badge {seen}, our pid is {pid}"
    );
    Ok(())
}

/// The server's rights check refuses a method and a give-access needing CONTROL, and a handle
/// it never issued; calls with our rights still work after.
fn rights(ctx: &mut Ctx) -> Outcome {
    let pid = Badge(ctx.env.pid());
    let child = ctx.echo()?;
    let mut echo = child.client();
    let privileged = echo.privileged();
    ensure!(
        lacks(&privileged, Rights::CONTROL),
        "Echo::privileged gave {privileged:?}, not Lacking CONTROL"
    );
    let give = meta::give_access(&mut echo.transport, echo.handle, pid, Rights::READ);
    ensure!(
        lacks(&give, Rights::CONTROL),
        "give-access on the echo object gave {give:?}, not Lacking CONTROL"
    );
    let forged = XHandle {
        index: FORGED_INDEX,
        seq: echo.handle.seq,
    };
    let stranger = EchoClient::new(Ppc::new(child.comm), forged).whoami();
    ensure!(
        matches!(
            stranger,
            Err(CallError::Failed(DispatchError::Rights(
                RightsError::NoSuchHandle(_)
            )))
        ),
        "a forged handle gave {stranger:?}, not NoSuchHandle"
    );
    echo.whoami()
        .map_err(|e| failed("Echo::whoami after the refusals", e))?;
    Ok(())
}

/// How long `Echo::hold` holds its lock, in ms, and the least the call must then wait (µs):
/// the holder sleeps 30 ms from just before the call starts waiting.
const HOLD_MS: u64 = 30;
const HOLD_WAIT_MIN_US: u64 = 20_000;
/// The most the call may wait (µs): a lost wake-up would make it hang, or take this long.
const HOLD_WAIT_MAX_US: u64 = 2_000_000;

/// A call that blocks inside the server: its server thread waits for a FairBLock another server
/// thread holds while it sleeps, so the server's dispatcher runs its other threads (and yields
/// to the kernel: it may not sleep while serving) until the lock is handed over. The call must
/// come back having waited about as long as the lock was held, and the server must go on
/// answering: right away, while its holder thread finishes after the reply (the caller may get
/// `Retry` and be told when the server is idle again).
fn server_call_blocks_on_fairblock(ctx: &mut Ctx) -> Outcome {
    let pid = ctx.env.pid();
    let mut echo = ctx.echo()?.client();
    for round in 0..2 {
        let waited = echo.hold(HOLD_MS).map_err(|e| failed("Echo::hold", e))?;
        ensure!(
            (HOLD_WAIT_MIN_US..=HOLD_WAIT_MAX_US).contains(&waited),
            "round {round}: the call waited {waited} µs for a lock held {HOLD_MS} ms"
        );
        let seen = echo
            .whoami()
            .map_err(|e| failed("Echo::whoami after Echo::hold", e))?;
        ensure!(seen == pid, "after Echo::hold the server saw badge {seen}");
        let [a, b, c, d, e, f] = ARGS;
        let got = echo
            .echo(a, b, c, d, e, f)
            .map_err(|e| failed("Echo::echo after Echo::hold", e))?;
        ensure!(
            got == digest(ARGS),
            "Echo::echo after Echo::hold gave {got:x?}"
        );
    }
    Ok(())
}

/// Ending the echo server through our handle on it (DESTROY, as its spawner) brings the
/// kernel's EXITED message with the status, and its CommID is gone afterwards.
fn child_exit_reported(ctx: &mut Ctx) -> Outcome {
    ctx.echo()?;
    let Some(mut child) = ctx.echo.take() else {
        return Err(NotPassed::Failed("echo server lost".into()));
    };
    let pid = comm_pid(child.comm);
    child
        .process
        .exit(CHILD_STATUS)
        .map_err(|e| failed("Process::exit on the echo server", e))?;
    let deadline = clock::now_ns().saturating_add(EXIT_REPORT_NS);
    let status = loop {
        let Some(msg) = ring::wait_message_until(deadline) else {
            return Err(NotPassed::Failed(
                "no EXITED message within 2 s of ending the echo server".into(),
            ));
        };
        if let Some(status) = process::exited(&msg, pid) {
            ensure!(
                msg.handle == child.process.handle.to_word(),
                "EXITED names handle {:#x}, ours is {}",
                msg.handle,
                child.process.handle
            );
            break status;
        }
    };
    ensure!(
        status == CHILD_STATUS,
        "EXITED says status {status}, the server was ended with {CHILD_STATUS}"
    );
    let gone = child.client().whoami();
    ensure!(
        gone == Err(CallError::Failed(DispatchError::Transport(
            Status::NoSuchTarget as u64
        ))),
        "a call to the ended server gave {gone:?}, not NoSuchTarget"
    );
    Ok(())
}

/// Round trips to the cross-CPU server.
const CROSS_ROUNDS: u64 = 50;
/// The status the cross-CPU server is ended with.
const CROSS_STATUS: u32 = 43;

/// [`CROSS_ROUNDS`] `Echo::echo` calls through `echo`, each with other arguments, every result
/// word checked (`how` says where the server runs, for messages).
fn echo_rounds(echo: &mut EchoClient<Ppc>, how: &str) -> Outcome {
    for round in 0..CROSS_ROUNDS {
        let args = ARGS.map(|a| a.rotate_left(round as u32) ^ round);
        let [a, b, c, d, e, f] = args;
        let got = echo
            .echo(a, b, c, d, e, f)
            .map_err(|e| failed(&format!("Echo::echo {how}"), e))?;
        let want = digest(args);
        ensure!(
            got == want,
            "round {round}: Echo::echo {how} gave {got:x?}, want {want:x?}"
        );
    }
    Ok(())
}

/// A second echo server on another CPU (`Boot::spawn`'s `cpu`): PPC round trips to it (the
/// kernel's slow path, by mail between CPUs) carry every argument and result word and our
/// badge, and the server says it runs on the CPU we chose. Skipped with one CPU.
fn cross_cpu(ctx: &mut Ctx) -> Outcome {
    let (here, there) = ctx.here_and_next_cpu()?;
    let pid = ctx.env.pid();
    let (comm, process) = ctx.spawn_helper("echo", class::APPLICATION, there, pid, 0)?;
    let outcome = (|| {
        let mut echo = EchoClient::new(Ppc::new(comm), SPAWNER_HANDLE);
        echo_rounds(&mut echo, "across CPUs")?;
        let seen = echo
            .whoami()
            .map_err(|e| failed("Echo::whoami across CPUs", e))?;
        ensure!(
            seen == pid,
            "the server on CPU {there} saw badge {seen}, our pid is {pid}"
        );
        let its = echo.cpu().map_err(|e| failed("Echo::cpu", e))?;
        ensure!(
            its == u64::from(there) && its != u64::from(here),
            "the server runs on CPU {its}; we asked for {there} (we are on {here})"
        );
        Ok(())
    })();
    end_helper(process, comm, CROSS_STATUS, "cross-CPU server", outcome)
}

/// How long a server spread over every CPU may take to have its dispatcher on ours serving.
const SPREAD_NS: u64 = 2_000_000_000;
/// Bytes of data each way to the spread server.
const SPREAD_DATA_BYTES: usize = 300;
/// The status the spread server is ended with.
const SPREAD_STATUS: u32 = 44;

/// An echo server spawned on another CPU that serves on every CPU (`Cpus::Every`, a dispatcher
/// added on each): once its dispatcher on our CPU is up, our calls — naming its first
/// dispatcher, on the other CPU — are served on our CPU (the kernel gives them to its
/// dispatcher here), with every argument and result word, our badge, data both ways, and a
/// call that blocks on a lock inside the server (threads run on the added dispatcher too).
/// Skipped with one CPU.
fn served_on_callers_cpu(ctx: &mut Ctx) -> Outcome {
    let (here, there) = ctx.here_and_next_cpu()?;
    let here = u64::from(here);
    let pid = ctx.env.pid();
    let (comm, process) =
        ctx.spawn_helper("echo", class::APPLICATION, there, pid, echo::ON_EVERY_CPU)?;
    let outcome = (|| {
        let mut echo = EchoClient::new(Ppc::new(comm), SPAWNER_HANDLE);
        let deadline = clock::now_ns().saturating_add(SPREAD_NS);
        loop {
            let its = echo.cpu().map_err(|e| failed("Echo::cpu", e))?;
            if its == here {
                break;
            }
            ensure!(
                clock::now_ns() < deadline,
                "calls to the server spread from CPU {there} are still served on CPU {its}, \
                 not ours ({here})"
            );
            k42_rt::thread::yield_now();
        }
        echo_rounds(&mut echo, "on our CPU")?;
        let seen = echo.whoami().map_err(|e| failed("Echo::whoami", e))?;
        ensure!(seen == pid, "the server saw badge {seen}, our pid is {pid}");
        let waited = echo.hold(HOLD_MS).map_err(|e| failed("Echo::hold", e))?;
        ensure!(
            (HOLD_WAIT_MIN_US..=HOLD_WAIT_MAX_US).contains(&waited),
            "the call waited {waited} µs for a lock held {HOLD_MS} ms"
        );
        let sent = crate::data_cases::pattern(SPREAD_DATA_BYTES, 5);
        crate::data_cases::check_echo_data(
            &mut Ppc::new(comm),
            &sent,
            SPREAD_DATA_BYTES,
            "on our CPU",
        )?;
        let its = echo.cpu().map_err(|e| failed("Echo::cpu", e))?;
        ensure!(
            its == here,
            "after the rounds the server answered on CPU {its}, not ours ({here})"
        );
        Ok(())
    })();
    end_helper(process, comm, SPREAD_STATUS, "spread server", outcome)
}
