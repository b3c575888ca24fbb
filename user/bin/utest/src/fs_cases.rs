//! Cases on the file server (`user/bin/fs`, `k42_ifaces::fs`): its permission checks use the
//! credentials it holds for the caller's *badge*, set only through the root with `SET_CREDENTIALS` —
//! a process with no credentials is refused everything, one given uid 1000 gets exactly what
//! Linux gives uid 1000 on the initramfs's files, and a program's root handle cannot set any.
//! The test spawns its own file server (as the bootstrap does for Linux programs) and is its
//! spawner, so it holds the root with every right.

use alloc::vec;

use k42_abi::kernel::PPC_DATA_BYTES;
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::fs::FsClient;
use k42_ifaces::start::{HANDLES_METHOD, StartHandles};
use k42_kapi::class;
use k42_linux::Errno;
use k42_linux::raw::general as g;
use k42_rights::wire::{CallError, meta};
use k42_rights::{Badge, Rights, XHandle};
use k42_rt::sys::kcall;
use k42_rt::{Ppc, clock, thread};

use crate::ctx::{Case, Ctx, Outcome, ensure, failed, lacks, wait_exits};

/// The cases of this file.
pub const CASES: &[Case] = &[Case {
    name: "fs.credentials_come_from_the_badge",
    run: credentials,
}];

/// The file server's program name.
const FS_SERVER: &str = "fs";
/// An unprivileged user and group.
const USER: u64 = 1000;
/// How long the server may take to unpack the initramfs before it answers.
const START_NS: u64 = 5_000_000_000;
/// Pause between attempts while it starts.
const RETRY_NS: u64 = 10_000_000;
/// How long its exit may take.
const EXIT_NS: u64 = 2_000_000_000;

/// An `open` of `path` with `flags` through `root`: the errno, or `None` on success.
fn open_errno(
    root: &mut FsClient<Ppc>,
    path: &str,
    flags: u32,
) -> Result<Option<Errno>, CallError<Errno>> {
    let mut recv = vec![0u8; PPC_DATA_BYTES];
    let mut client = FsClient::new(
        root.transport.with_data(path.as_bytes(), &mut recv),
        root.handle,
    );
    match client.open(u64::from(flags), 0o644, 0o022) {
        Ok((handle, ..)) => {
            // Drop the node again.
            let _ = meta::release(&mut root.transport, XHandle::from_word(handle));
            Ok(None)
        }
        Err(CallError::Method(e)) => Ok(Some(e)),
        Err(e) => Err(e),
    }
}

fn credentials(ctx: &mut Ctx) -> Outcome {
    let pid = ctx.env.pid();
    let (comm, mut process) = ctx.spawn_helper(
        FS_SERVER,
        class::SYSTEM,
        k42_kapi::SAME_CPU,
        pid,
        ctx.env.comm_id,
    )?;
    let fs_pid = k42_abi::kernel::comm_pid(comm);
    let boot = ctx.boot()?;
    let given = meta::give_access(
        &mut boot.transport,
        boot.handle,
        Badge(fs_pid),
        Rights::READ,
    )
    .map_err(|e| failed("give the file server Boot", e))?;
    let handles = StartHandles {
        console: XHandle::NULL,
        boot: Some(given),
    };
    let sent = kcall::async_send(comm, 0, HANDLES_METHOD, &handles.to_payload());
    ensure!(
        kcall::is_ok(sent),
        "start-up message refused: status {sent}"
    );

    let mut root = FsClient::new(Ppc::new(comm), SPAWNER_HANDLE);
    // No credentials yet: refused (and it tells us when it serves).
    let deadline = clock::now_ns() + START_NS;
    let first = loop {
        match open_errno(&mut root, "/etc/passwd", g::O_RDONLY) {
            Ok(answer) => break answer,
            Err(_) if clock::now_ns() < deadline => thread::sleep(RETRY_NS),
            Err(e) => return Err(failed("the file server never answered", e)),
        }
    };
    ensure!(
        first == Some(Errno::EACCES),
        "a badge without credentials opened a file: {first:?}"
    );

    root.set_credentials(pid, USER, USER)
        .map_err(|e| failed("set_credentials", e))?;
    let cases = [
        ("/etc/passwd", g::O_RDONLY, None),
        ("/etc/passwd", g::O_WRONLY, Some(Errno::EACCES)),
        (
            "/root/secret",
            g::O_CREAT | g::O_WRONLY,
            Some(Errno::EACCES),
        ),
        ("/tmp/utest-fs", g::O_CREAT | g::O_WRONLY, None),
        ("/etc/new", g::O_CREAT | g::O_WRONLY, Some(Errno::EACCES)),
    ];
    for (path, flags, want) in cases {
        let got = open_errno(&mut root, path, flags).map_err(|e| failed(path, e))?;
        ensure!(
            got == want,
            "uid {USER}: open({path}, {flags:#o}) gave {got:?}, expected {want:?}"
        );
    }

    // A program's root handle (it may give it on, to a fork child) cannot hand out
    // credentials, not even its holder's own.
    let weaker = meta::give_access(
        &mut root.transport,
        SPAWNER_HANDLE,
        Badge(pid),
        k42_ifaces::fs::PROGRAM_ROOT_RIGHTS,
    )
    .map_err(|e| failed("give_access(PROGRAM_ROOT_RIGHTS)", e))?;
    let mut weak = FsClient::new(Ppc::new(comm), weaker);
    let escalate = weak.set_credentials(pid, 0, 0);
    ensure!(
        lacks(&escalate, k42_ifaces::fs::SET_CREDENTIALS),
        "set_credentials with a program's rights: {escalate:?}"
    );
    let still = open_errno(&mut root, "/etc/passwd", g::O_WRONLY).map_err(|e| failed("open", e))?;
    ensure!(
        still == Some(Errno::EACCES),
        "uid changed after a refused set_credentials"
    );

    process
        .exit(0)
        .map_err(|e| failed("Process::exit(fs)", e))?;
    wait_exits(&[fs_pid], EXIT_NS).map(|_| ())
}
