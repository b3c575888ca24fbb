//! Cases on the pipe server (`user/bin/pipes`, `k42_ifaces::pipes`): what happens to the ends a
//! process held when it ends without closing them. The bootstrap, told by the kernel that a
//! process ended, has the server `forget` it; this test plays the bootstrap: it spawns its own
//! pipe server (so it holds the factory with every right), gives a write end to a helper
//! process, ends the helper, and checks that the reader sees end of file only after `forget`,
//! and that a process without the spawner's REAP right cannot forget anyone.

use alloc::vec;

use k42_abi::kernel::{PPC_DATA_BYTES, comm_pid};
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::pipes::{self, PipesClient};
use k42_ifaces::start::{HANDLES_METHOD, StartHandles};
use k42_kapi::class;
use k42_linux::Errno;
use k42_rights::wire::{CallError, meta};
use k42_rights::{Badge, XHandle};
use k42_rt::sys::kcall;
use k42_rt::{Ppc, clock, thread};

use crate::ctx::{Case, Ctx, Outcome, ensure, failed, lacks, wait_exits};

/// The cases of this file.
pub const CASES: &[Case] = &[Case {
    name: "pipes.forget_closes_a_dead_holders_ends",
    run: forget_closes_ends,
}];

/// The pipe server's program name.
const PIPES_SERVER: &str = "pipes";
/// A process to hold an end: any helper that waits (the echo server waits for calls).
const HOLDER: &str = "echo";
/// How long the server may take to answer at first, and the pause between attempts.
const START_NS: u64 = 5_000_000_000;
const RETRY_NS: u64 = 10_000_000;
/// How long an exit may take.
const EXIT_NS: u64 = 2_000_000_000;
/// The status the holder is ended with.
const HOLDER_STATUS: u32 = 9;

/// One read of `end`: the byte count, or the server's errno.
fn read(ppc: &mut Ppc, end: XHandle) -> Result<u64, CallError<Errno>> {
    let mut recv = vec![0u8; PPC_DATA_BYTES];
    PipesClient::new(ppc.with_data(&[], &mut recv), end).read(1)
}

fn forget_closes_ends(ctx: &mut Ctx) -> Outcome {
    let pid = ctx.env.pid();
    let (comm, mut server) = ctx.spawn_helper(
        PIPES_SERVER,
        class::SYSTEM,
        k42_kapi::SAME_CPU,
        pid,
        ctx.env.comm_id,
    )?;
    let handles = StartHandles {
        console: XHandle::NULL,
        boot: None,
    };
    let sent = kcall::async_send(comm, 0, HANDLES_METHOD, &handles.to_payload());
    ensure!(
        kcall::is_ok(sent),
        "start-up message refused: status {sent}"
    );
    let mut factory = PipesClient::new(Ppc::new(comm), SPAWNER_HANDLE);
    let deadline = clock::now_ns() + START_NS;
    let (read_end, write_end, _) = loop {
        match factory.create() {
            Ok(made) => break made,
            Err(_) if clock::now_ns() < deadline => thread::sleep(RETRY_NS),
            Err(e) => return Err(failed("the pipe server never answered", e)),
        }
    };
    let (read_end, write_end) = (XHandle::from_word(read_end), XHandle::from_word(write_end));

    // The holder gets a write end; ours goes, so the holder's is the only one.
    let (holder_comm, mut holder) =
        ctx.spawn_helper(HOLDER, class::APPLICATION, k42_kapi::SAME_CPU, 0, 0)?;
    let holder_pid = comm_pid(holder_comm);
    let mut ppc = Ppc::new(comm);
    meta::give_access(
        &mut ppc,
        write_end,
        Badge(holder_pid),
        pipes::WRITE_END_RIGHTS,
    )
    .map_err(|e| failed("give the holder the write end", e))?;
    meta::release(&mut ppc, write_end).map_err(|e| failed("release our write end", e))?;
    let before = read(&mut ppc, read_end);
    ensure!(
        before == Err(CallError::Method(Errno::EAGAIN)),
        "an empty pipe with a writer read {before:?}, expected EAGAIN"
    );

    holder
        .exit(HOLDER_STATUS)
        .map_err(|e| failed("Process::exit(holder)", e))?;
    wait_exits(&[holder_pid], EXIT_NS)?;
    let dead = read(&mut ppc, read_end);
    ensure!(
        dead == Err(CallError::Method(Errno::EAGAIN)),
        "the server learnt of the death by itself? read {dead:?}"
    );

    // Only the spawner's REAP right forgets: a handle without it is refused.
    let weak = meta::give_access(&mut ppc, SPAWNER_HANDLE, Badge(pid), pipes::PROCESS_RIGHTS)
        .map_err(|e| failed("give ourselves a process's factory", e))?;
    let refused = PipesClient::new(Ppc::new(comm), weak).forget(holder_pid);
    ensure!(
        lacks(&refused, pipes::REAP),
        "forget without REAP: {refused:?}"
    );
    factory
        .forget(holder_pid)
        .map_err(|e| failed("forget", e))?;
    let eof = read(&mut ppc, read_end);
    ensure!(
        eof == Ok(0),
        "after forget the read gave {eof:?}, expected end of file (0)"
    );

    server
        .exit(0)
        .map_err(|e| failed("Process::exit(pipes)", e))?;
    wait_exits(&[comm_pid(comm)], EXIT_NS).map(|_| ())
}
