//! Pipes (issue #5): `pipe`, `pipe2`, opening FIFOs, and reading, writing, polling and
//! describing pipe ends, over the pipe server (`user/bin/pipes`, `k42_ifaces::pipes`, its rules
//! in `crates/pipe`).
//! `io.rs` sends `read`/`write`/`readv`/`writev` on a pipe end here, `poll.rs` its readiness,
//! `stat.rs` its `fstat`; the fd table (`fd.rs`) holds the ends as `Kind::PipeRead` and
//! `Kind::PipeWrite`, each with its handle as a `files::Node` (released when the last
//! descriptor of its open file closes; fork gives it to a child like any node).
//!
//! **FIFOs.** `open` of a FIFO (`calls/file.rs`) gets its node from the file server, which
//! checks the open, then the pipe end from `Fs::open_fifo`, which the file server gets made
//! for this process by the pipe server ([`open_fifo`]): the same kind of end as `pipe`'s, on a
//! pipe shared by every opener of that FIFO. The open file keeps both (`OpenFile::fifo`: the
//! node answers `fstat`). Opening may have to wait for the other side (`O_RDONLY` for a
//! writer, `O_WRONLY` for a reader, as Linux's `fifo_open`): the program's thread waits for it
//! here, as for an empty pipe, and a signal ends the wait with `ERESTARTSYS`. A FIFO opened
//! `O_RDWR` is `Kind::File` (`crate::fd::Kind` says why), its reads and writes sent here by
//! `calls/file.rs`.
//!
//! **Blocking without a blocking server.** The server answers `EAGAIN` where Linux would
//! block. Without `O_NONBLOCK`, the program's thread then arms a notification for the end
//! (`Pipes::notify`, naming this dispatcher) and waits for the server's message in this
//! process (`k42_rt::ring`), the dispatcher running its other threads meanwhile, and tries
//! again. `notify` answers the readiness it saw, so a change between the `EAGAIN` and the
//! arming is never slept through.
//!
//! **Writes.** A call carries 2 KiB, less than `PIPE_BUF`: a write of at most `PIPE_BUF` bytes
//! is copied from the program first, then sent as one atomic write of one or two pieces (the
//! first names the whole size; the server takes it only if it all fits and keeps other writers
//! out until the rest came). A larger write goes a piece at a time, each taking what fits.
//! A write to a pipe with no reader left fails with `EPIPE` and raises `SIGPIPE`, delivered as
//! the call returns (`crate::signals`), as on Linux.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use k42_abi::kernel::AsyncMessage;
use k42_ifaces::pipes::{DATA_BYTES, Notice, PipesClient, Rendezvous};
use k42_ifaces::start::PipesStart;
use k42_linux::raw::general as g;
use k42_linux::stat::Stat;
use k42_linux::{Errno, SysResult};
use k42_rights::XHandle;
use k42_rt::ppc::WithData;
use k42_rt::sys::page::Page;
use k42_rt::{Ppc, log};
use spin::Mutex;

use crate::fd::{Kind, OpenFile};
use crate::files::{self, Node};
use crate::signals::Woken;
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess::{self, Source};

/// Bytes a write may hold to be atomic (Linux's `PIPE_BUF`).
const PIPE_BUF: u64 = g::PIPE_BUF as u64;
/// Readiness bits as `poll` reports them: data, room, no writer, no reader.
const POLLIN: u16 = (g::POLLIN | g::POLLRDNORM) as u16;
const POLLOUT: u16 = (g::POLLOUT | g::POLLWRNORM) as u16;
const POLLHUP: u16 = g::POLLHUP as u16;
const POLLERR: u16 = g::POLLERR as u16;
/// The flags `pipe2` takes (`O_DIRECT`, packet mode, is not supported: `EINVAL`).
const PIPE2_FLAGS: u32 = g::O_CLOEXEC | g::O_NONBLOCK;
/// A pipe's permission bits in `fstat` (Linux's pipefs: owner read and write).
const PIPE_MODE: u32 = g::S_IRUSR | g::S_IWUSR;
/// The device number `fstat` reports: Linux's pipefs is an anonymous file system (major 0);
/// its minor depends on mount order, 12 is what a usual boot gives it.
const PIPEFS_DEV: (u32, u32) = (0, 12);

/// This process's handle on the pipe server's factory (`None`: no pipe server). Kept here, not
/// in `state::Linux`, so the state's other users need not know of it; a fork child puts its
/// own in with [`for_fork_child`].
static FACTORY: Mutex<Option<Arc<Node>>> = Mutex::new(None);

/// Start-up: where the pipe server is and this process's factory handle.
pub fn started(start: PipesStart) {
    *FACTORY.lock() = Some(Arc::new(Node {
        comm: start.comm,
        handle: start.factory,
    }));
}

/// The factory handle, for fork to give the child its own (`calls/fork.rs`).
pub fn factory() -> Option<Arc<Node>> {
    FACTORY.lock().clone()
}

/// Whether a fork may copy the process now (no other thread holds the factory's lock).
pub fn quiet() -> bool {
    !FACTORY.is_locked()
}

/// In a fork child: replaces the parent's factory handle with the child's (`node_for`, as
/// `FdTable::for_fork_child` takes it). The parent's is forgotten, never dropped: dropping it
/// would ask the server to release, in the child's name, an entry that is the parent's.
pub fn for_fork_child(node_for: impl Fn(&Node) -> Option<Arc<Node>>) {
    let mut factory = FACTORY.lock();
    let mine = factory.as_deref().and_then(node_for);
    core::mem::forget(core::mem::replace(&mut *factory, mine));
}

/// `pipe(fds)`.
pub fn pipe(linux: &Linux, args: &Args) -> SysResult {
    pipe2(linux, &[args[0], 0, 0, 0, 0, 0])
}

/// `pipe2(fds, flags)`: a new pipe from the server's factory, its read end at `fds[0]` and
/// its write end at `fds[1]`, with `O_CLOEXEC` and `O_NONBLOCK` as asked.
pub fn pipe2(linux: &Linux, args: &Args) -> SysResult {
    let flags = args[1] as u32;
    if flags & !PIPE2_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let factory = factory().ok_or(Errno::ENFILE)?;
    let (read, write, pipe) = PipesClient::new(Ppc::new(factory.comm), factory.handle)
        .create()
        .map_err(files::errno)?;
    let node = |handle: u64| {
        Arc::new(Node {
            comm: factory.comm,
            handle: XHandle::from_word(handle),
        })
    };
    // Linux's name for a pipe (`/proc/self/fd` links to it).
    let name = format!("pipe:[{pipe}]");
    let status = flags & g::O_NONBLOCK;
    let ends = [
        OpenFile::new(
            Kind::PipeRead,
            g::O_RDONLY | status,
            Some(node(read)),
            name.clone(),
        ),
        OpenFile::new(
            Kind::PipeWrite,
            g::O_WRONLY | status,
            Some(node(write)),
            name,
        ),
    ];
    let cloexec = flags & g::O_CLOEXEC != 0;
    let mut fds = [0u64; 2];
    for (i, end) in ends.into_iter().enumerate() {
        let installed = linux.fds.lock().install(end, cloexec);
        match installed {
            Ok(fd) => fds[i] = fd,
            Err(e) => {
                close_fds(linux, &fds[..i]);
                return Err(e);
            }
        }
    }
    // Two C ints.
    let mut out = Vec::with_capacity(2 * size_of::<i32>());
    for fd in fds {
        out.extend_from_slice(&(fd as i32).to_le_bytes());
    }
    if let Err(e) = uaccess::write(linux, args[0], &out) {
        close_fds(linux, &fds);
        return Err(e);
    }
    Ok(0)
}

/// Closes descriptors `pipe2` installed before it failed.
fn close_fds(linux: &Linux, fds: &[u64]) {
    for &fd in fds {
        let _ = crate::fd::close(linux, &[fd, 0, 0, 0, 0, 0]);
    }
}

/// Opens the FIFO whose node `inode` the file server has just opened (checking the
/// permissions) with `flags` as the program asked (`O_PATH` aside): gets its pipe end, waits
/// for the other side if Linux would (module comment), and installs the descriptor, which
/// names `path`.
pub fn open_fifo(linux: &Linux, inode: Arc<Node>, flags: u32, path: String) -> SysResult {
    // The pipe server the file server asked is the one this process's factory is at.
    let factory = factory().ok_or(Errno::ENXIO)?;
    let ((end, _pipe, rendezvous), _) = files::call(&inode, &[], |c| c.open_fifo())?;
    let end = Arc::new(Node {
        comm: factory.comm,
        handle: XHandle::from_word(end),
    });
    let kind = match flags & g::O_ACCMODE {
        g::O_RDONLY => Kind::PipeRead,
        g::O_WRONLY => Kind::PipeWrite,
        _ => Kind::File,
    };
    let status = flags & !(g::O_CREAT | g::O_EXCL | g::O_TRUNC | g::O_CLOEXEC);
    let file = OpenFile::fifo(kind, status, end, inode, path);
    if let Rendezvous::Wait { seen } = Rendezvous::from_word(rendezvous) {
        // A failed wait drops `file`: both handles are released, the end's count with them.
        wait_partner(linux, end_of(&file)?, seen)?;
    }
    linux.fds.lock().install(file, flags & g::O_CLOEXEC != 0)
}

/// Blocks the program's thread until the other side of the FIFO whose end is `node` has had
/// an opener since this open saw its open count `seen`; `ERESTARTSYS` when a signal is to be
/// delivered first.
fn wait_partner(linux: &Linux, node: &Node, seen: u64) -> Result<(), Errno> {
    let comm = Page::current().comm_id();
    loop {
        let (arrived, _) = call(node, &[], |c| c.partner(comm, seen))?;
        if arrived != 0 {
            return Ok(());
        }
        if wait_notice(linux, node.comm, None) == Notified::Signal {
            return Err(Errno::ERESTARTSYS);
        }
    }
}

/// The end an open file holds (`EBADF` if it is not a pipe end).
fn end(file: &OpenFile) -> Result<&Node, Errno> {
    if is_pipe(file) {
        end_of(file)
    } else {
        Err(Errno::EBADF)
    }
}

/// The pipe end in an open file known to be a pipe end.
fn end_of(file: &OpenFile) -> Result<&Node, Errno> {
    file.node.as_deref().ok_or(Errno::EBADF)
}

fn nonblocking(file: &OpenFile) -> bool {
    file.flags.load(Ordering::Relaxed) & g::O_NONBLOCK != 0
}

/// One call to the end's server with `send` as the call data; its result and reply data.
fn call<R>(
    node: &Node,
    send: &[u8],
    f: impl FnOnce(&mut PipesClient<WithData<'_>>) -> Result<R, k42_rights::wire::CallError<Errno>>,
) -> Result<(R, Vec<u8>), Errno> {
    let mut ppc = Ppc::new(node.comm);
    let mut recv = Vec::new();
    let result = f(&mut PipesClient::new(
        ppc.with_data_vec(send, &mut recv),
        node.handle,
    ));
    Ok((result.map_err(files::errno)?, recv))
}

/// Reads up to `len` bytes from a pipe's read end into the program's buffer at `addr`: what
/// is there (at least a byte: waiting for it unless `O_NONBLOCK`), 0 at end of file.
pub fn read(linux: &Linux, file: &OpenFile, addr: u64, len: u64) -> SysResult {
    let node = end(file)?;
    if len == 0 {
        return Ok(0);
    }
    uaccess::end(addr, len)?;
    let mut got = 0u64;
    loop {
        let want = (len - got).min(DATA_BYTES as u64);
        match call(node, &[], |c| c.read(want)) {
            Ok((_, bytes)) if bytes.is_empty() => return Ok(got),
            Ok((_, bytes)) => {
                if let Err(e) = uaccess::write(linux, addr + got, &bytes) {
                    return if got == 0 { Err(e) } else { Ok(got) };
                }
                got += bytes.len() as u64;
                // A full piece may have more behind it; anything less emptied the pipe.
                if got == len || (bytes.len() as u64) < want {
                    return Ok(got);
                }
            }
            Err(Errno::EAGAIN) if got > 0 => return Ok(got),
            Err(Errno::EAGAIN) if nonblocking(file) => return Err(Errno::EAGAIN),
            Err(Errno::EAGAIN) => wait(linux, node, POLLIN)?,
            Err(e) if got > 0 => {
                log!("linux: pipe read failed after {got} bytes: {e}");
                return Ok(got);
            }
            Err(e) => return Err(e),
        }
    }
}

/// One piece of a write: `data` (at most the data area), `atomic` as `Pipes::write` says.
fn write_piece(node: &Node, data: &[u8], atomic: u64) -> Result<u64, Errno> {
    call(node, data, |c| c.write(data.len() as u64, atomic)).map(|(n, _)| n)
}

/// Writes `len` bytes of `src` (the program's buffer, or bytes held) to a pipe's write end
/// (module comment): all of them unless `O_NONBLOCK` (then what fits, `EAGAIN` for none), a
/// write of at most `PIPE_BUF` bytes whole or not at all.
pub fn write(linux: &Linux, file: &OpenFile, src: Source, len: u64) -> SysResult {
    write_with(linux, file, src, len, nonblocking(file))
}

/// [`write`], not waiting for room when `nonblock` whatever the file's flags say (`sendfile`
/// after its first piece: `calls/copy.rs`).
pub fn write_with(
    linux: &Linux,
    file: &OpenFile,
    src: Source,
    len: u64,
    nonblock: bool,
) -> SysResult {
    let node = end(file)?;
    if len == 0 {
        return Ok(0);
    }
    src.check(len)?;
    if len <= PIPE_BUF {
        let data = src.read(linux, 0, len as usize)?;
        let first = data.len().min(DATA_BYTES);
        loop {
            match write_piece(node, &data[..first], len) {
                Ok(_) => break,
                Err(Errno::EAGAIN) if nonblock => return Err(Errno::EAGAIN),
                Err(Errno::EAGAIN) => wait(linux, node, POLLOUT)?,
                Err(Errno::EPIPE) => return Err(broken_pipe(linux)),
                Err(e) => return Err(e),
            }
        }
        // The rest always fits: the server made sure of the room and holds the pipe for us.
        let mut done = first;
        while done < data.len() {
            let piece = &data[done..data.len().min(done + DATA_BYTES)];
            match write_piece(node, piece, 0) {
                Ok(n) => done += n as usize,
                Err(Errno::EPIPE) => {
                    broken_pipe(linux);
                    break;
                }
                Err(e) => {
                    log!("linux: the rest of an atomic pipe write failed: {e}");
                    break;
                }
            }
        }
        return Ok(done as u64);
    }
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(DATA_BYTES as u64) as usize;
        let data = match src.read(linux, done, n) {
            Ok(data) => data,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        match write_piece(node, &data, 0) {
            Ok(n) => done += n,
            Err(Errno::EAGAIN) if nonblock => {
                return if done == 0 {
                    Err(Errno::EAGAIN)
                } else {
                    Ok(done)
                };
            }
            Err(Errno::EAGAIN) => {
                if let Err(e) = wait(linux, node, POLLOUT) {
                    return if done == 0 { Err(e) } else { Ok(done) };
                }
            }
            Err(Errno::EPIPE) => {
                let e = broken_pipe(linux);
                return if done == 0 { Err(e) } else { Ok(done) };
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// A write found no reader: the write fails with `EPIPE` and raises `SIGPIPE`, delivered as
/// the call returns (`crate::signals`: a program whose `SIGPIPE` takes its default action
/// dies of it), as Linux's `pipe_write` does.
fn broken_pipe(linux: &Linux) -> Errno {
    let info = crate::signals::own(linux, g::SIGPIPE, g::SI_USER as i32);
    crate::signals::raise(linux, info, true);
    Errno::EPIPE
}

/// Blocks the program's thread until the end's readiness includes one of `events` (or
/// `POLLHUP`/`POLLERR`) or may have: a notification came, or the end was ready when armed.
/// The caller asks again either way. A signal to deliver ends the wait with `ERESTARTSYS`
/// (the call restarts under `SA_RESTART`, fails with `EINTR` otherwise).
fn wait(linux: &Linux, node: &Node, events: u16) -> Result<(), Errno> {
    if arm(node, events)? == 0 && wait_notice(linux, node.comm, None) == Notified::Signal {
        return Err(Errno::ERESTARTSYS);
    }
    Ok(())
}

/// Arms a notification for `events` on the end: returns the readiness among them (and
/// `POLLHUP`/`POLLERR`) the server saw — nonzero means nothing was armed.
fn arm(node: &Node, events: u16) -> Result<u16, Errno> {
    let comm = Page::current().comm_id();
    let (revents, _) = call(node, &[], |c| c.notify(comm, u64::from(events)))?;
    Ok(revents as u16 & (events | POLLHUP | POLLERR))
}

/// How a wait for a pipe server's notification ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notified {
    /// A notification came: look again.
    Notice,
    /// The deadline passed.
    Timeout,
    /// A signal is to be delivered.
    Signal,
}

/// Waits for a notification from the pipe server at `comm` until `deadline` (None: for ever)
/// or a signal (`crate::signals::wait`). Other messages are signals or stale wake-ups (a
/// console's or the process server's wake-up is only a hint: their state is asked again by
/// whoever waits for it).
fn wait_notice(linux: &Linux, comm: u64, deadline: Option<u64>) -> Notified {
    let wanted = |msg: &AsyncMessage| Notice::from_message(msg, comm).is_some();
    crate::signals::wait(linux, deadline, wanted).into()
}

impl From<Woken> for Notified {
    fn from(woken: Woken) -> Self {
        match woken {
            Woken::Message => Notified::Notice,
            Woken::Timeout => Notified::Timeout,
            Woken::Signal => Notified::Signal,
        }
    }
}

/// The readiness of a pipe end among `events` (with `POLLHUP` and `POLLERR`, which `poll`
/// always reports); `POLLERR` if the server cannot say.
pub fn poll_events(file: &OpenFile, events: u16) -> u16 {
    let Ok(node) = end(file) else {
        return 0;
    };
    match call(node, &[], |c| c.status()) {
        Ok(((revents, ..), _)) => revents as u16 & (events | POLLHUP | POLLERR),
        Err(e) => {
            log!("linux: pipe readiness unknown: {e}");
            POLLERR
        }
    }
}

/// Whether `file` is a pipe end (whose readiness only its server knows): a pipe's or a
/// FIFO's.
pub fn is_pipe(file: &OpenFile) -> bool {
    matches!(file.kind, Kind::PipeRead | Kind::PipeWrite) || file.fifo.is_some()
}

/// `poll`'s wait on pipe ends, once none of them is ready: arms each for its events and
/// sleeps until one's server notifies, a message `also` accepts comes (another server's
/// wake-up armed by the caller: the console's), a signal of `signals` is pending (a
/// signalfd's), `deadline` passes or a signal is to be delivered, or `cond` holds
/// (`crate::signals::wait_or_pending`). `Notice`: look again (a notice
/// came, an end turned ready while being armed, or `cond` held).
pub fn wait_any(
    linux: &Linux,
    ends: &[(&OpenFile, u16)],
    deadline: Option<u64>,
    also: impl Fn(&AsyncMessage) -> bool,
    signals: u64,
    cond: &dyn Fn() -> bool,
) -> Notified {
    let mut comm = None;
    for (file, events) in ends {
        let Ok(node) = end(file) else {
            continue;
        };
        match arm(node, *events) {
            Ok(0) => comm = Some(node.comm),
            // Ready already, or the server failed (poll then reports POLLERR).
            _ => return Notified::Notice,
        }
    }
    if !ends.is_empty() && comm.is_none() {
        return Notified::Notice;
    }
    let wanted = |msg: &AsyncMessage| {
        comm.is_some_and(|c| Notice::from_message(msg, c).is_some()) || also(msg)
    };
    crate::signals::wait_or_pending(linux, deadline, wanted, signals, cond).into()
}

/// A pipe end's metadata for `fstat`: a FIFO's own, from the file server; an anonymous
/// pipe's is a FIFO owned by this process's user, its inode the pipe's number.
pub fn stat(linux: &Linux, file: &OpenFile) -> Result<Stat, Errno> {
    if let Some(inode) = &file.fifo {
        return crate::calls::file::stat_node(inode);
    }
    let node = end(file)?;
    let ((_, pipe, _, _), _) = call(node, &[], |c| c.status())?;
    // A pipe's times, like Linux's pipefs inode's, are the wall clock's now.
    let owner = (linux.creds.euid(), linux.creds.egid());
    let mode = g::S_IFIFO | PIPE_MODE;
    Ok(crate::calls::stat::made_up(
        PIPEFS_DEV,
        pipe,
        mode,
        owner,
        (0, 0),
    ))
}

/// `F_GETPIPE_SZ`: the pipe's capacity.
pub fn capacity(file: &OpenFile) -> SysResult {
    let node = end(file)?;
    let ((.., capacity), _) = call(node, &[], |c| c.status())?;
    Ok(capacity)
}

/// `FIONREAD`: the bytes waiting in the pipe.
pub fn buffered(file: &OpenFile) -> Result<u64, Errno> {
    let node = end(file)?;
    let ((_, _, buffered, _), _) = call(node, &[], |c| c.status())?;
    Ok(buffered)
}
