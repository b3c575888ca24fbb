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
use k42_rt::{KernelPpc, Ppc, clock, thread};

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

    root.set_credentials(pid, USER, USER, USER, USER)
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
    let escalate = weak.set_credentials(pid, 0, 0, 0, 0);
    ensure!(
        lacks(&escalate, k42_ifaces::fs::SET_CREDENTIALS),
        "set_credentials with a program's rights: {escalate:?}"
    );
    let still = open_errno(&mut root, "/etc/passwd", g::O_WRONLY).map_err(|e| failed("open", e))?;
    ensure!(
        still == Some(Errno::EACCES),
        "uid changed after a refused set_credentials"
    );

    images(&mut root)?;

    process
        .exit(0)
        .map_err(|e| failed("Process::exit(fs)", e))?;
    wait_exits(&[fs_pid], EXIT_NS).map(|_| ())
}

/// Where the image cases map (the range programs may use for their own mappings).
const IMAGE_AT: u64 = k42_rt::layout::PROGRAM_BASE + 0x40_0000;
/// A page.
const PAGE: u64 = 4096;
/// The image file's first bytes, and what a later write puts over them.
const HEAD: &[u8] = b"hello image";
const NEW_HEAD: &[u8] = b"HELLO";
/// Where its second piece goes (on its second page, past a gap of zeros), and what it is.
const TAIL_AT: u64 = 5000;
const TAIL: &[u8] = b"tail";

/// Writes `bytes` at `offset` through `node`.
fn write_at(root: &mut FsClient<Ppc>, node: XHandle, offset: u64, bytes: &[u8]) -> Outcome {
    let mut recv = [0u8; 0];
    let mut file = FsClient::new(root.transport.with_data(bytes, &mut recv), node);
    file.write(offset, 0).map_err(|e| failed("Fs::write", e))?;
    Ok(())
}

/// Opens `path` with `flags` through `root`, keeping the node.
fn open_node(
    root: &mut FsClient<Ppc>,
    path: &str,
    flags: u32,
) -> Result<XHandle, crate::ctx::NotPassed> {
    let mut recv = vec![0u8; PPC_DATA_BYTES];
    let mut client = FsClient::new(
        root.transport.with_data(path.as_bytes(), &mut recv),
        root.handle,
    );
    let (handle, ..) = client
        .open(u64::from(flags), 0o644, 0o022)
        .map_err(|e| failed(path, e))?;
    Ok(XHandle::from_word(handle))
}

/// `Fs::image` of a file maps its bytes as they were at the call; a later version is a new
/// image, the old mapping keeps the old bytes; directories, write-only nodes and empty files
/// are refused.
fn images(root: &mut FsClient<Ppc>) -> Outcome {
    let path = "/tmp/utest-image";
    let node = open_node(root, path, g::O_CREAT | g::O_RDWR | g::O_TRUNC)?;
    let mut file = FsClient::new(root.transport, node);
    let empty = file.image();
    ensure!(
        empty == Err(CallError::Method(Errno::EINVAL)),
        "Fs::image of an empty file gave {empty:?}"
    );
    write_at(root, node, 0, HEAD)?;
    write_at(root, node, TAIL_AT, TAIL)?;
    let (first, size) = file.image().map_err(|e| failed("Fs::image", e))?;
    ensure!(
        size == TAIL_AT + TAIL.len() as u64,
        "Fs::image says {size} bytes"
    );
    let old = k42_rt::memory::map_image(first, IMAGE_AT, 2 * PAGE, 0)
        .map_err(|e| failed("mapping the image", e))?;
    let tail = TAIL_AT as usize..TAIL_AT as usize + TAIL.len();
    ensure!(
        old.starts_with(HEAD) && old[tail.clone()] == *TAIL,
        "the image does not hold the file's bytes"
    );
    ensure!(
        old[HEAD.len()..TAIL_AT as usize].iter().all(|&b| b == 0)
            && old[tail.end..].iter().all(|&b| b == 0),
        "the image is not zero between and after the file's bytes"
    );
    write_at(root, node, 0, NEW_HEAD)?;
    let (second, _) = file
        .image()
        .map_err(|e| failed("Fs::image after a write", e))?;
    let new = k42_rt::memory::map_image(second, IMAGE_AT + 2 * PAGE, PAGE, 0)
        .map_err(|e| failed("mapping the new image", e))?;
    ensure!(
        new.starts_with(NEW_HEAD) && new[NEW_HEAD.len()..HEAD.len()] == HEAD[NEW_HEAD.len()..],
        "the image after a write does not hold the new bytes"
    );
    ensure!(
        old.starts_with(HEAD),
        "a write to the file changed an image mapped before it"
    );
    for region in [old, new] {
        k42_rt::memory::unmap(region).map_err(|e| failed("Memory::unmap", e))?;
    }
    for image in [first, second] {
        meta::release(&mut KernelPpc, XHandle::from_word(image))
            .map_err(|e| failed("release of an image", e))?;
    }
    let _ = meta::release(&mut root.transport, node);

    let dir = root.image();
    ensure!(
        dir == Err(CallError::Method(Errno::EISDIR)),
        "Fs::image of a directory gave {dir:?}"
    );
    let write_only = open_node(root, path, g::O_WRONLY)?;
    let refused = FsClient::new(root.transport, write_only).image();
    ensure!(
        refused == Err(CallError::Method(Errno::EBADF)),
        "Fs::image of a write-only node gave {refused:?}"
    );
    let _ = meta::release(&mut root.transport, write_only);
    Ok(())
}
