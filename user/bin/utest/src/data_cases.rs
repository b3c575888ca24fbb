//! Cases on PPC bulk data: bytes in the dispatcher page's PPC data area (`ppc_data`, up to
//! `PPC_DATA_BYTES` each way) through the echo server's `echo_data`, which answers with their
//! count and digest and a reply of data the client can predict (`k42_ifaces::echo`). Sizes
//! around the word and the area's bounds, one way and both, to the shared echo server (the
//! kernel's same-CPU path) and to one on another CPU (its mailed path), into a buffer and into
//! a vector (`Ppc::with_data_vec`); a size over the area
//! refused with `BadArgument` by the runtime and by the kernel; and a call that gets `Retry`,
//! while another of our threads scribbles over the data area, still delivering its own bytes.

use alloc::format;
use alloc::vec::Vec;

use k42_abi::kernel::{PPC_DATA_BYTES, Status};
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::echo::{EchoClient, EchoMethod, data_digest, reply_byte};
use k42_kapi::{class, counter};
use k42_rights::wire::{ARG_WORDS, DispatchError};
use k42_rt::sys::kcall;
use k42_rt::sys::page::Page;
use k42_rt::{Ppc, thread};

use crate::ctx::{Case, Ctx, NotPassed, Outcome, end_helper, ensure, failed};

/// The cases of this file (before the PPC cases, which end the shared echo server).
pub const CASES: &[Case] = &[
    Case {
        name: "ppc.data_roundtrip",
        run: data_roundtrip,
    },
    Case {
        name: "ppc.data_too_long",
        run: data_too_long,
    },
    Case {
        name: "ppc.data_after_retry",
        run: data_after_retry,
    },
    Case {
        name: "ppc.data_cross_cpu",
        run: data_cross_cpu,
    },
];

/// (bytes sent, bytes asked back): nothing, one byte, around a word, one short of the area and
/// the whole area, each way alone and both ways.
const SIZES: &[(usize, usize)] = &[
    (0, 0),
    (1, 1),
    (7, 9),
    (8, 8),
    (PPC_DATA_BYTES - 1, PPC_DATA_BYTES - 1),
    (PPC_DATA_BYTES, PPC_DATA_BYTES),
    (PPC_DATA_BYTES, 0),
    (0, PPC_DATA_BYTES),
    (3, PPC_DATA_BYTES),
];

/// `n` bytes that differ with their place and with `n` and `salt`.
pub(crate) fn pattern(n: usize, salt: u64) -> Vec<u8> {
    (0..n)
        // Truncated on purpose: a byte pattern.
        .map(|i| (i as u64 * 7 + n as u64 * 13 + salt) as u8)
        .collect()
}

/// One `echo_data` call through `ppc` with `sent`, asking `want` bytes back: the server must
/// have seen exactly `sent` and replied with exactly the bytes `echo::reply_byte` predicts.
pub(crate) fn check_echo_data(ppc: &mut Ppc, sent: &[u8], want: usize, what: &str) -> Outcome {
    let mut recv = alloc::vec![0xeeu8; PPC_DATA_BYTES];
    let mut transport = ppc.with_data(sent, &mut recv);
    let got = EchoClient::new(&mut transport, SPAWNER_HANDLE)
        .echo_data(want as u64)
        .map_err(|e| failed(&format!("{what}: Echo::echo_data"), e))?;
    let received = transport.received();
    let expected = (sent.len() as u64, data_digest(sent));
    ensure!(
        got == expected,
        "{what}: the server saw (count, digest) {got:x?}, we sent {expected:x?}"
    );
    ensure!(
        received == want,
        "{what}: {received} bytes of reply data came back, {want} were asked for"
    );
    if let Some(i) = (0..want).find(|&i| recv[i] != reply_byte(sent, i)) {
        return Err(NotPassed::Failed(format!(
            "{what}: reply byte {i} is {:#x}, want {:#x}",
            recv[i],
            reply_byte(sent, i)
        )));
    }
    Ok(())
}

/// [`check_echo_data`] through the transport that leaves the reply's bytes in a vector
/// (`Ppc::with_data_vec`): exactly them, whatever the vector held before.
fn check_echo_data_vec(ppc: &mut Ppc, sent: &[u8], want: usize, what: &str) -> Outcome {
    let mut recv = alloc::vec![0xeeu8; 5];
    let mut transport = ppc.with_data_vec(sent, &mut recv);
    let got = EchoClient::new(&mut transport, SPAWNER_HANDLE)
        .echo_data(want as u64)
        .map_err(|e| failed(&format!("{what}: Echo::echo_data into a vector"), e))?;
    let received = transport.received();
    ensure!(
        got == (sent.len() as u64, data_digest(sent)),
        "{what}: the server saw (count, digest) {got:x?} through the vector transport"
    );
    let expected: Vec<u8> = (0..want).map(|i| reply_byte(sent, i)).collect();
    ensure!(
        received == want && recv == expected,
        "{what}: the vector holds {} bytes ({received} received), not the {want} of the reply",
        recv.len()
    );
    Ok(())
}

/// Every size of [`SIZES`] through `ppc`, then a word-only method called with data (whose
/// reply carries none) and a word-only call (which still works after data calls).
fn round_trips(ppc: &mut Ppc, round: u64) -> Outcome {
    for (k, &(send, want)) in SIZES.iter().enumerate() {
        let sent = pattern(send, round * 100 + k as u64);
        check_echo_data(ppc, &sent, want, &format!("{send} bytes out, {want} back"))?;
        check_echo_data_vec(ppc, &sent, want, &format!("{send} bytes out, {want} back"))?;
    }
    let sent = pattern(100, round);
    let mut recv = alloc::vec![0u8; PPC_DATA_BYTES];
    let mut transport = ppc.with_data(&sent, &mut recv);
    EchoClient::new(&mut transport, SPAWNER_HANDLE)
        .whoami()
        .map_err(|e| failed("Echo::whoami with data", e))?;
    ensure!(
        transport.received() == 0,
        "a method that sets no reply data gave {} bytes of it",
        transport.received()
    );
    EchoClient::new(&mut *ppc, SPAWNER_HANDLE)
        .whoami()
        .map_err(|e| failed("Echo::whoami after data calls", e))?;
    Ok(())
}

/// Data both ways to the shared echo server (same CPU: the kernel's fast path).
fn data_roundtrip(ctx: &mut Ctx) -> Outcome {
    let mut ppc = Ppc::new(ctx.echo()?.comm);
    round_trips(&mut ppc, 0)
}

/// A call with more than the area is refused with `BadArgument`: by the runtime before it
/// calls, and by the kernel for a raw PPC_CALL whose `r15` says so (which also reports no
/// reply data). Calls of the right size work after.
fn data_too_long(ctx: &mut Ctx) -> Outcome {
    let comm = ctx.echo()?.comm;
    let mut ppc = Ppc::new(comm);
    let bad = Err(DispatchError::Transport(Status::BadArgument as u64));
    let too_long = pattern(PPC_DATA_BYTES + 1, 1);
    let mut recv = alloc::vec![0u8; PPC_DATA_BYTES];
    let (reply, received) = ppc.call_with_data(
        SPAWNER_HANDLE,
        EchoMethod::EchoData.number(),
        &[0; ARG_WORDS],
        &too_long,
        &mut recv,
    );
    ensure!(
        reply == bad && received == 0,
        "Ppc::call_with_data with {} bytes gave {reply:?} and {received} bytes, not BadArgument",
        too_long.len()
    );
    let (out, received) = {
        let _upcalls = k42_rt::sys::critical::disable();
        kcall::ppc_call_data(
            comm,
            SPAWNER_HANDLE.to_word(),
            EchoMethod::EchoData.number(),
            &[0; ARG_WORDS],
            PPC_DATA_BYTES + 1,
        )
    };
    ensure!(
        out.status == Status::BadArgument as u64 && received == 0,
        "PPC_CALL with r15 = {} gave status {} and r15 = {received}, not BadArgument and 0",
        PPC_DATA_BYTES + 1,
        out.status
    );
    check_echo_data(
        &mut ppc,
        &pattern(PPC_DATA_BYTES, 2),
        5,
        "after the refusals",
    )
}

/// How long `Echo::busy` keeps the server busy (ms).
const BUSY_MS: u64 = 30;

/// A call to a busy server gets `Retry` and waits for IPC_RETRY while our other threads run; one
/// of them overwrites our data area meanwhile. The call must still bring the server its own
/// bytes (the transport fills the area again for each attempt) and its reply. The kernel's PPC
/// counter on our CPU shows the call took more than one attempt.
fn data_after_retry(ctx: &mut Ctx) -> Outcome {
    let cpu = u32::try_from(ctx.env.page.cpu()).map_err(|e| failed("our CPU", e))?;
    let comm = ctx.echo()?.comm;
    let mut ppc = Ppc::new(comm);
    EchoClient::new(&mut ppc, SPAWNER_HANDLE)
        .busy(BUSY_MS)
        .map_err(|e| failed("Echo::busy", e))?;
    // Ready now, run only once this thread waits: it scribbles over the data area.
    let scribbler = thread::spawn("scribbler", || {
        Page::current().write_ppc_data(&[0x5a; PPC_DATA_BYTES]);
    });
    let before = ctx
        .boot()?
        .counter(counter::PPC_CALLS, cpu)
        .map_err(|e| failed("Boot::counter", e))?;
    let sent = pattern(PPC_DATA_BYTES, 3);
    let outcome = check_echo_data(&mut ppc, &sent, PPC_DATA_BYTES, "a call after Retry");
    let after = ctx
        .boot()?
        .counter(counter::PPC_CALLS, cpu)
        .map_err(|e| failed("Boot::counter", e))?;
    scribbler.join();
    outcome?;
    // Each counter read counts itself: the second one is in `after`.
    let attempts = after - before - 1;
    ensure!(
        attempts >= 2,
        "the call took {attempts} PPC_CALL(s): the busy server never said Retry"
    );
    Ok(())
}

/// Rounds of sizes to the cross-CPU server, and the status it is ended with.
const CROSS_ROUNDS: u64 = 3;
const CROSS_STATUS: u32 = 44;

/// Data both ways to an echo server on another CPU (the kernel's mailed path: the call's bytes
/// are copied on arrival there, the reply's at its PPC_RETURN). Skipped with one CPU.
fn data_cross_cpu(ctx: &mut Ctx) -> Outcome {
    let (_here, there) = ctx.here_and_next_cpu()?;
    let pid = ctx.env.pid();
    let (comm, process) = ctx.spawn_helper("echo", class::APPLICATION, there, pid, 0)?;
    let outcome = (|| {
        let mut ppc = Ppc::new(comm);
        let its = EchoClient::new(&mut ppc, SPAWNER_HANDLE)
            .cpu()
            .map_err(|e| failed("Echo::cpu", e))?;
        ensure!(
            its == u64::from(there),
            "the server runs on CPU {its}; we asked for {there}"
        );
        for round in 0..CROSS_ROUNDS {
            round_trips(&mut ppc, round + 1)?;
        }
        Ok(())
    })();
    end_helper(process, comm, CROSS_STATUS, "cross-CPU server", outcome)
}
