//! Reading and writing open files: `read`, `write`, `readv`, `writev`, `pread64`, `pwrite64`,
//! `preadv`, `pwritev`, `preadv2`, `pwritev2`, `lseek`, `ioctl`.
//!
//! The console is the console server's object, a terminal with Linux's line discipline
//! (`user/bin/console`, `k42_ifaces::console`). Writes go to it by PPC with their bytes in the
//! PPC data area (`Writer`). A read asks the server's `read`, which hands out what is readable
//! — at most one line in canonical mode, under `VMIN`/`VTIME` in raw mode — a data area at a
//! time; this side loops until the read(2) is complete. When nothing is readable the server
//! answers "would block" (servers never wait for a client): the program's thread then waits
//! here, in its own process, for the server's notification message (registered once, at the
//! first read), or for `VTIME` when the server says the wait is timed; `O_NONBLOCK` makes it
//! `EAGAIN` instead. The terminal's settings (`TCGETS`/`TCSETS*`) and window size
//! (`TIOCGWINSZ`/`TIOCSWINSZ`) are the server's too. Signals the input raises (^C, ^Z) go from
//! the console server to the process server, which sends them to the terminal's foreground
//! group (`crate::job`); a background read or write (with `TOSTOP`) goes through job control.
//!
//! `/proc`'s files read the text made when they were opened (`crate::procfs`); only a
//! process's own `comm` takes a write (`EINVAL` elsewhere, as Linux's procfs files without a
//! write method).

use alloc::sync::Arc;
use alloc::vec;
use core::sync::atomic::{AtomicU64, Ordering};

use k42_abi::kernel::AsyncMessage;
use k42_ifaces::console::{
    self, ConsoleClient, ConsoleError, Event, READ_DATA_BYTES, ReadReply, TERMIOS_BYTES, Writer,
};
use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rights::wire::CallError;
use k42_rt::sys::page::Page;
use k42_rt::{Ppc, clock, log};
use linux_raw_sys::ioctl;

use crate::calls::{eventfd, file, pipe, signalfd, timerfd};
use crate::fd::{Kind, OpenFile};
use crate::job;
use crate::procfs;
use crate::signals::{self, Woken};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess::{self, Source};

/// Largest piece of a write copied out of the program at once.
const CHUNK: usize = 4096;
/// Most iovecs one `readv`/`writev` takes (Linux's `UIO_MAXIOV`).
const IOV_MAX: u64 = 1024;
/// Most bytes one read or write moves (Linux's `MAX_RW_COUNT`: `INT_MAX` rounded down to a page).
pub(crate) const MAX_RW: u64 = 0x7fff_f000;

/// `write(fd, buf, count)`.
pub fn write(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    write_file(
        linux,
        &file,
        Source::Program(args[1]),
        args[2].min(MAX_RW),
        JobCheck::Due,
    )
}

/// `read(fd, buf, count)`.
pub fn read(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    read_file(linux, &file, args[1], args[2].min(MAX_RW))
}

/// `pwrite64(fd, buf, count, offset)`: files only (the console cannot seek); the devices
/// ignore the offset, as Linux's do.
pub fn pwrite64(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    let at = positioned(&file, args[3])?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let (src, len) = (Source::Program(args[1]), args[2].min(MAX_RW));
    match file.kind {
        Kind::File => file::write_file(linux, &file, src, len, Some(at), false),
        _ => write_file(linux, &file, src, len, JobCheck::Due),
    }
}

/// `pread64(fd, buf, count, offset)`.
pub fn pread64(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    let at = positioned(&file, args[3])?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    read_at(linux, &file, args[1], args[2].min(MAX_RW), at)
}

/// The offset of a positioned read or write: `ESPIPE` on the console, pipes and epoll
/// instances, `EISDIR` on a directory, `EINVAL` when negative.
fn positioned(file: &OpenFile, offset: u64) -> Result<u64, Errno> {
    match file.kind {
        // Epoll instances, eventfds and timerfds, as Linux's anonymous inodes, take no
        // positioned call either.
        Kind::Console
        | Kind::PipeRead
        | Kind::PipeWrite
        | Kind::Epoll
        | Kind::EventFd
        | Kind::TimerFd
        | Kind::SignalFd => Err(Errno::ESPIPE),
        Kind::Dir | Kind::ProcDir => Err(Errno::EISDIR),
        _ if (offset as i64) < 0 => Err(Errno::EINVAL),
        _ => Ok(offset),
    }
}

/// `lseek(fd, offset, whence)`: files and directories move; the memory devices stay at 0 (as
/// Linux's); the console and pipes cannot seek.
pub fn lseek(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    match file.kind {
        Kind::Console | Kind::PipeRead | Kind::PipeWrite => Err(Errno::ESPIPE),
        Kind::File | Kind::Dir => file::lseek_file(&file, args[1] as i64, args[2] as u32),
        Kind::ProcFile | Kind::ProcDir => procfs::lseek(&file, args[1] as i64, args[2] as u32),
        // The anonymous inodes' `noop_llseek` answers the offset, 0, as the devices do.
        Kind::Null
        | Kind::Zero
        | Kind::Full
        | Kind::Random
        | Kind::Epoll
        | Kind::EventFd
        | Kind::TimerFd
        | Kind::SignalFd => Ok(0),
    }
}

/// `readv(fd, iov, iovcnt)`.
pub fn readv(linux: &Linux, args: &Args) -> SysResult {
    read_vectored(linux, VectoredCall::of(args, None, 0))
}

/// `writev(fd, iov, iovcnt)`.
pub fn writev(linux: &Linux, args: &Args) -> SysResult {
    write_vectored(linux, VectoredCall::of(args, None, 0))
}

/// `preadv(fd, iov, iovcnt, pos_l, pos_h)`: at offset `pos_l` (on a 64-bit machine the
/// whole offset; `pos_h` is shifted out, as Linux's `pos_from_hilo` does).
pub fn preadv(linux: &Linux, args: &Args) -> SysResult {
    read_vectored(linux, VectoredCall::of(args, Some(args[3] as i64), 0))
}

/// `pwritev(fd, iov, iovcnt, pos_l, pos_h)`.
pub fn pwritev(linux: &Linux, args: &Args) -> SysResult {
    write_vectored(linux, VectoredCall::of(args, Some(args[3] as i64), 0))
}

/// `preadv2(fd, iov, iovcnt, pos_l, pos_h, flags)`: offset -1 is the file's own, as `readv`.
pub fn preadv2(linux: &Linux, args: &Args) -> SysResult {
    read_vectored(
        linux,
        VectoredCall::of(args, offset_or_own(args[3]), args[5]),
    )
}

/// `pwritev2(fd, iov, iovcnt, pos_l, pos_h, flags)`.
pub fn pwritev2(linux: &Linux, args: &Args) -> SysResult {
    write_vectored(
        linux,
        VectoredCall::of(args, offset_or_own(args[3]), args[5]),
    )
}

/// `preadv2`'s and `pwritev2`'s offset: -1 for the file's own (`None`).
fn offset_or_own(register: u64) -> Option<i64> {
    let pos = register as i64;
    (pos != -1).then_some(pos)
}

/// What a vectored call names: the descriptor, the iovec array and its count, the offset of a
/// positioned call, and the `RWF_*` flags.
struct VectoredCall {
    fd: u64,
    iov: u64,
    count: u64,
    pos: Option<i64>,
    flags: u64,
}

impl VectoredCall {
    /// The call whose first three arguments are `args`'.
    fn of(args: &Args, pos: Option<i64>, flags: u64) -> Self {
        Self {
            fd: args[0],
            iov: args[1],
            count: args[2],
            pos,
            flags,
        }
    }
}

/// The `RWF_*` flags Linux 6.1 knows (`RWF_SUPPORTED`).
const RWF_KNOWN: u32 = g::RWF_HIPRI | g::RWF_DSYNC | g::RWF_SYNC | g::RWF_NOWAIT | g::RWF_APPEND;

/// Whether a vectored call's flags (an `rwf_t`, a C int) ask it to append: `EOPNOTSUPP` for a
/// flag Linux does not know, and for `RWF_NOWAIT`, Linux's answer for a file that cannot
/// promise not to wait (none here does). `RWF_HIPRI`, `RWF_DSYNC` and `RWF_SYNC` change
/// nothing: every write reaches the file server before it returns.
fn rw_flags(flags: u64) -> Result<bool, Errno> {
    let flags = flags as u32;
    if flags & !RWF_KNOWN != 0 || flags & g::RWF_NOWAIT != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(flags & g::RWF_APPEND != 0)
}

/// The open file of a vectored call and its offset (`at`, for a positioned one), in Linux's
/// order: a negative offset (`EINVAL`), the descriptor (`EBADF`), a file that cannot be
/// positioned (`ESPIPE`, `EISDIR`).
fn vectored_file(
    linux: &Linux,
    fd: u64,
    pos: Option<i64>,
) -> Result<(Arc<OpenFile>, Option<u64>), Errno> {
    if pos.is_some_and(|p| p < 0) {
        return Err(Errno::EINVAL);
    }
    let file = linux.fds.lock().get(fd)?;
    let at = pos.map(|p| positioned(&file, p as u64)).transpose()?;
    Ok((file, at))
}

/// The bytes moved so far, or the error if none were (Linux's answer for a vectored call
/// that fails part way).
fn so_far(total: u64, e: Errno) -> SysResult {
    if total > 0 { Ok(total) } else { Err(e) }
}

/// `readv`, `preadv` and `preadv2` ([`vectored`]).
fn read_vectored(linux: &Linux, call: VectoredCall) -> SysResult {
    vectored(linux, call, Direction::Read, |file, piece| match piece.at {
        Some(at) => read_at(linux, file, piece.base, piece.len, at),
        None => read_file(linux, file, piece.base, piece.len),
    })
}

/// `writev`, `pwritev` and `pwritev2` ([`vectored`]); `RWF_APPEND` appends.
fn write_vectored(linux: &Linux, call: VectoredCall) -> SysResult {
    vectored(linux, call, Direction::Write, |file, piece| {
        let src = Source::Program(piece.base);
        match (file.kind, piece.at) {
            (Kind::File, at) if at.is_some() || piece.append => {
                file::write_file(linux, file, src, piece.len, at, piece.append)
            }
            _ => write_file(linux, file, src, piece.len, piece.check),
        }
    })
}

/// Which way a vectored call moves bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Read,
    Write,
}

/// One buffer of a vectored call, as [`vectored`] hands it to the mover.
struct Piece {
    base: u64,
    len: u64,
    /// Where in the file, for a positioned call.
    at: Option<u64>,
    /// `RWF_APPEND`.
    append: bool,
    /// Whether this write still owes the console's job-control check (the first one does:
    /// one check per system call).
    check: JobCheck,
}

/// A vectored call, in Linux's order: the offset and the descriptor ([`vectored_file`]), the
/// iovecs (`EINVAL`, `EFAULT`), the file's mode (`EBADF`), then — for a call that moves
/// anything — the flags (`EOPNOTSUPP`); `moved` then moves each buffer in turn until one comes
/// back short, and a failure after some bytes moved answers those bytes.
fn vectored(
    linux: &Linux,
    call: VectoredCall,
    direction: Direction,
    mut moved: impl FnMut(&OpenFile, Piece) -> SysResult,
) -> SysResult {
    let (file, at) = vectored_file(linux, call.fd, call.pos)?;
    let vecs = iovecs(linux, call.iov, call.count)?;
    let allowed = match direction {
        Direction::Read => file.readable(),
        Direction::Write => file.writable(),
    };
    if !allowed {
        return Err(Errno::EBADF);
    }
    if vecs.iter().all(|&(_, len)| len == 0) {
        return Ok(0);
    }
    let append = rw_flags(call.flags)?;
    if direction == Direction::Read && file.kind == Kind::EventFd {
        // Linux 6.1 reads an eventfd with `read_iter`: one count over all the buffers.
        return eventfd::read_scattered(linux, &file, &vecs);
    }
    let mut total = 0u64;
    let mut check = JobCheck::Due;
    for (base, len) in vecs {
        let len = len.min(MAX_RW - total);
        let piece = Piece {
            base,
            len,
            at: at.map(|a| a + total),
            append,
            check,
        };
        check = JobCheck::Done;
        match moved(&file, piece) {
            Ok(n) => {
                total += n;
                if n < len {
                    break;
                }
            }
            Err(e) => return so_far(total, e),
        }
    }
    Ok(total)
}

/// A positioned read of `len` bytes at `addr` from offset `at` (`pread64`'s: the devices
/// ignore the offset).
fn read_at(linux: &Linux, file: &OpenFile, addr: u64, len: u64, at: u64) -> SysResult {
    match file.kind {
        Kind::File => file::read_file(linux, file, addr, len, Some(at)),
        Kind::ProcFile => procfs::read(linux, file, addr, len, Some(at)),
        _ => read_file(linux, file, addr, len),
    }
}

/// The program's iovec array: (base, len) pairs, `EINVAL` for a bad count or a total past
/// `SSIZE_MAX`.
fn iovecs(linux: &Linux, addr: u64, count: u64) -> Result<alloc::vec::Vec<(u64, u64)>, Errno> {
    if count > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let bytes = uaccess::read(linux, addr, (count * 16) as usize)?;
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        u64::from_le_bytes(b)
    };
    let mut total = 0u64;
    let mut out = vec![];
    for i in 0..count as usize {
        let (base, len) = (word(2 * i), word(2 * i + 1));
        total = total
            .checked_add(len)
            .filter(|&t| t <= i64::MAX as u64)
            .ok_or(Errno::EINVAL)?;
        out.push((base, len));
    }
    Ok(out)
}

/// Whether a write to the console still owes the job-control check of `TOSTOP`
/// ([`write_console`]): once per system call, not per piece of a `writev`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobCheck {
    Due,
    Done,
}

/// Writes `len` bytes of `src` to `file` at its own offset, whatever kind of file it is (the
/// write path `write`, `writev` and `sendfile` share).
pub(crate) fn write_file(
    linux: &Linux,
    file: &OpenFile,
    src: Source,
    len: u64,
    check: JobCheck,
) -> SysResult {
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    match file.kind {
        Kind::Console => write_console(linux, src, len, check),
        Kind::File => file::write_file(linux, file, src, len, None, false),
        // Writes vanish, but the buffer must still be the program's to read.
        Kind::Null | Kind::Zero | Kind::Random => {
            src.check(len)?;
            Ok(len)
        }
        Kind::Full => Err(Errno::ENOSPC),
        Kind::Dir | Kind::ProcDir => Err(Errno::EISDIR),
        Kind::ProcFile => procfs::write(linux, file, src, len),
        Kind::PipeWrite => pipe::write(linux, file, src, len),
        Kind::EventFd => eventfd::write(linux, file, src, len),
        // Nothing to write to: Linux's answer for a file without a write method.
        Kind::Epoll | Kind::TimerFd | Kind::SignalFd => Err(Errno::EINVAL),
        // Opened for reading only: the check above answered already.
        Kind::PipeRead => Err(Errno::EBADF),
    }
}

fn read_file(linux: &Linux, file: &OpenFile, addr: u64, len: u64) -> SysResult {
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    match file.kind {
        Kind::Console => read_console(linux, file, addr, len),
        Kind::File => file::read_file(linux, file, addr, len, None),
        Kind::Null => Ok(0),
        Kind::Zero | Kind::Full => fill(linux, addr, len, |buf| buf.fill(0)),
        Kind::Random => fill(linux, addr, len, |buf| {
            crate::calls::info::random_bytes(linux, buf);
        }),
        Kind::Dir | Kind::ProcDir => Err(Errno::EISDIR),
        Kind::ProcFile => procfs::read(linux, file, addr, len, None),
        Kind::PipeRead => pipe::read(linux, file, addr, len),
        Kind::EventFd => eventfd::read(linux, file, addr, len),
        Kind::TimerFd => timerfd::read(linux, file, addr, len),
        Kind::SignalFd => signalfd::read(linux, file, addr, len),
        // Nothing to read: Linux's answer for a file without a read method.
        Kind::Epoll => Err(Errno::EINVAL),
        // Opened for writing only: the check above answered already.
        Kind::PipeWrite => Err(Errno::EBADF),
    }
}

/// Writes `len` bytes that `make` fills into the program's buffer, a chunk at a time.
fn fill(linux: &Linux, addr: u64, len: u64, make: impl Fn(&mut [u8])) -> SysResult {
    uaccess::end(addr, len)?;
    let mut buf = vec![0u8; (len as usize).min(CHUNK)];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(CHUNK as u64) as usize;
        make(&mut buf[..n]);
        if let Err(e) = uaccess::write(linux, addr + done, &buf[..n]) {
            return if done == 0 { Err(e) } else { Ok(done) };
        }
        done += n as u64;
    }
    Ok(done)
}

/// The console server's client for this process.
fn console_client(linux: &Linux) -> ConsoleClient<Ppc> {
    ConsoleClient::new(Ppc::new(linux.console_comm), linux.console)
}

/// Nanoseconds in one unit of `VTIME` (a tenth of a second).
const VTIME_UNIT_NS: u64 = 100_000_000;

/// The dispatcher registered for the console's notifications (0: none). A word, not a flag:
/// a fork child inherits its parent's copy but runs on a dispatcher of its own, which the
/// console does not know until it registers too.
static NOTIFIED: AtomicU64 = AtomicU64::new(0);

/// Registers this dispatcher for the console's notifications, once per dispatcher.
fn register(linux: &Linux) -> Result<(), Errno> {
    let comm = Page::current().comm_id();
    if NOTIFIED.load(Ordering::Acquire) == comm {
        return Ok(());
    }
    console_client(linux).notify(comm).map_err(|e| {
        log!("linux: the console refused notifications: {e}");
        Errno::EIO
    })?;
    NOTIFIED.store(comm, Ordering::Release);
    Ok(())
}

/// Reads up to `len` bytes from the console into the program's buffer at `addr` (module
/// comment). A fault after some bytes reports those, as Linux does; before any, `EFAULT`.
fn read_console(linux: &Linux, file: &OpenFile, addr: u64, len: u64) -> SysResult {
    if len == 0 {
        return Ok(0);
    }
    uaccess::end(addr, len)?;
    // A background process reading its terminal: SIGTTIN, or EIO (`job.rs`).
    job::check(linux, g::SIGTTIN)?;
    register(linux)?;
    let nonblock = file.flags.load(Ordering::Relaxed) & g::O_NONBLOCK != 0;
    let mut client = console_client(linux);
    let mut buf = vec![0u8; (len as usize).min(READ_DATA_BYTES)];
    let mut got = 0u64;
    // The VTIME timer of a timed wait: set at its first answer, over at a byte.
    let mut deadline = None;
    loop {
        let wait = match console::read_input(&mut client, len, got, &mut buf) {
            Ok(ReadReply::Data { n, line_end }) => {
                if n != 0 {
                    if let Err(e) = uaccess::write(linux, addr + got, &buf[..n]) {
                        return if got == 0 { Err(e) } else { Ok(got) };
                    }
                    got += n as u64;
                    deadline = None;
                }
                if line_end || n == 0 || got == len {
                    return Ok(got);
                }
                continue;
            }
            Ok(ReadReply::TimedWait { deciseconds }) => Some(*deadline.get_or_insert_with(|| {
                clock::now_ns().saturating_add(u64::from(deciseconds) * VTIME_UNIT_NS)
            })),
            Err(CallError::Method(ConsoleError::WouldBlock)) => None,
            Err(e) => {
                log!("linux: console read failed: {e}");
                return if got == 0 { Err(Errno::EIO) } else { Ok(got) };
            }
        };
        if nonblock {
            return if got == 0 {
                Err(Errno::EAGAIN)
            } else {
                Ok(got)
            };
        }
        match wait_for_input(linux, wait) {
            // Input came, or the process was stopped and continued meanwhile: the background
            // check again (a job continued in the background gets SIGTTIN), then the read.
            Woken::Message if got == 0 => job::check(linux, g::SIGTTIN)?,
            Woken::Message => {}
            // VTIME passed: the read is complete with what it has.
            Woken::Timeout => return Ok(got),
            // A signal: what was read stands; nothing read restarts or fails with EINTR.
            Woken::Signal if got == 0 => return Err(Errno::ERESTARTSYS),
            Woken::Signal => return Ok(got),
        }
    }
}

/// `poll`'s question about console input (`calls/poll.rs`): whether a read would return
/// data now; if not, the console server has armed this process, and an `Event::Input` message
/// ([`is_console_input`]) comes when it would.
pub fn console_input_ready(linux: &Linux) -> Result<bool, Errno> {
    register(linux)?;
    console_client(linux)
        .poll_input()
        .map(|ready| ready != 0)
        .map_err(console_errno)
}

/// Whether `msg` is the console server's "input is readable" notification.
pub fn is_console_input(linux: &Linux, msg: &AsyncMessage) -> bool {
    Event::from_message(msg, linux.console_comm) == Some(Event::Input)
}

/// Blocks the program's thread until the console notifies, the kernel clock reaches
/// `deadline`, or a signal is to be delivered (one the input raised, ^C, among them:
/// `crate::signals::absorb` raises it).
fn wait_for_input(linux: &Linux, deadline: Option<u64>) -> Woken {
    let console = linux.console_comm;
    let wanted = |msg: &AsyncMessage| Event::from_message(msg, console) == Some(Event::Input);
    signals::wait(linux, deadline, wanted)
}

/// Sends `len` bytes of `src` to the console. A fault part-way reports what was written, as
/// Linux does; a fault before any byte is `EFAULT`. With the terminal's `TOSTOP` set, a
/// background process's write goes through job control first (`n_tty_write`'s
/// `tty_check_change`: SIGTTOU to its group, unless SIGTTOU is ignored or blocked).
fn write_console(linux: &Linux, src: Source, len: u64, check: JobCheck) -> SysResult {
    src.check(len)?;
    if check == JobCheck::Due && console_client(linux).tostop().map_err(console_errno)? != 0 {
        job::check(linux, g::SIGTTOU)?;
    }
    let mut out = Writer::new(console_client(linux));
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(CHUNK as u64) as usize;
        let bytes = match src.read(linux, done, n) {
            Ok(bytes) => bytes,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        out.write_bytes(&bytes).map_err(|_| Errno::EIO)?;
        done += n as u64;
    }
    out.flush().map_err(|_| Errno::EIO)?;
    Ok(done)
}

/// `ioctl(fd, request, arg)`: the terminal requests on the console; `ENOTTY` for anything
/// else, as Linux answers a request the file does not know.
pub fn ioctl(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    let request = args[1] as u32;
    let arg = args[2];
    match (file.kind, request) {
        (Kind::Console, ioctl::TCGETS) => {
            let t = console::tcgets(&mut console_client(linux)).map_err(console_errno)?;
            uaccess::write(linux, arg, &t).map(|()| 0)
        }
        (Kind::Console, ioctl::TCSETS | ioctl::TCSETSW | ioctl::TCSETSF) => {
            job::check(linux, g::SIGTTOU)?;
            let mut t = [0u8; TERMIOS_BYTES];
            uaccess::read_into(linux, arg, &mut t)?;
            // Output is written synchronously: nothing is left to drain for TCSETSW.
            let flush = request == ioctl::TCSETSF;
            console::tcsets(&mut console_client(linux), &t, flush).map_err(console_errno)?;
            Ok(0)
        }
        (Kind::Console, ioctl::TIOCGWINSZ) => {
            let w = console_client(linux).get_winsize().map_err(console_errno)?;
            uaccess::write(linux, arg, &w.to_le_bytes()[..WINSIZE_BYTES]).map(|()| 0)
        }
        (Kind::Console, ioctl::TIOCSWINSZ) => {
            let mut w = [0u8; size_of::<u64>()];
            uaccess::read_into(linux, arg, &mut w[..WINSIZE_BYTES])?;
            console_client(linux)
                .set_winsize(u64::from_le_bytes(w))
                .map_err(console_errno)?;
            Ok(0)
        }
        (Kind::Console, ioctl::TIOCGPGRP) => {
            let fg = job::terminal(linux)?.fg as u32;
            uaccess::write(linux, arg, &fg.to_le_bytes()).map(|()| 0)
        }
        (Kind::Console, ioctl::TIOCGSID) => {
            let sid = job::terminal(linux)?.sid as u32;
            uaccess::write(linux, arg, &sid.to_le_bytes()).map(|()| 0)
        }
        (Kind::Console, ioctl::TIOCSPGRP) => {
            let mut pgrp = [0u8; size_of::<i32>()];
            uaccess::read_into(linux, arg, &mut pgrp)?;
            job::set_foreground(linux, i32::from_le_bytes(pgrp)).map(|()| 0)
        }
        // The argument is an int by value: 1 asks to steal the terminal (root only).
        (Kind::Console, ioctl::TIOCSCTTY) => {
            job::acquire_terminal(linux, arg as u32 == 1).map(|()| 0)
        }
        // A FIFO opened O_RDWR is a `Kind::File` with its pipe end (`fd.rs`).
        (_, ioctl::FIONREAD) if file.kind == Kind::PipeRead || file.fifo.is_some() => {
            let n = pipe::buffered(&file)? as u32;
            uaccess::write(linux, arg, &n.to_le_bytes()).map(|()| 0)
        }
        _ => Err(Errno::ENOTTY),
    }
}

/// Bytes of the kernel's `struct winsize`.
const WINSIZE_BYTES: usize = size_of::<g::winsize>();

/// A failed console call as the errno a terminal ioctl reports.
fn console_errno(e: CallError<ConsoleError>) -> Errno {
    log!("linux: console call failed: {e}");
    Errno::EIO
}
