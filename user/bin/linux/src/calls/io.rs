//! Reading and writing open files: `read`, `write`, `readv`, `writev`, `pread64`, `pwrite64`,
//! `lseek`, `ioctl`.
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

use crate::calls::{file, pipe};
use crate::fd::{Kind, OpenFile};
use crate::job;
use crate::procfs;
use crate::signals::{self, Woken};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// Largest piece of a write copied out of the program at once.
const CHUNK: usize = 4096;
/// Most iovecs one `readv`/`writev` takes (Linux's `UIO_MAXIOV`).
const IOV_MAX: u64 = 1024;
/// Most bytes one read or write moves (Linux's `MAX_RW_COUNT`: `INT_MAX` rounded down to a page).
const MAX_RW: u64 = 0x7fff_f000;

/// `write(fd, buf, count)`.
pub fn write(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    write_file(linux, &file, args[1], args[2].min(MAX_RW), JobCheck::Due)
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
    match file.kind {
        Kind::File => file::write_file(linux, &file, args[1], args[2].min(MAX_RW), Some(at)),
        _ => write_file(linux, &file, args[1], args[2].min(MAX_RW), JobCheck::Due),
    }
}

/// `pread64(fd, buf, count, offset)`.
pub fn pread64(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    let at = positioned(&file, args[3])?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    match file.kind {
        Kind::File => file::read_file(linux, &file, args[1], args[2].min(MAX_RW), Some(at)),
        Kind::ProcFile => procfs::read(linux, &file, args[1], args[2].min(MAX_RW), Some(at)),
        _ => read_file(linux, &file, args[1], args[2].min(MAX_RW)),
    }
}

/// The offset of a positioned read or write: `ESPIPE` on the console and pipes, `EISDIR` on a
/// directory, `EINVAL` when negative.
fn positioned(file: &OpenFile, offset: u64) -> Result<u64, Errno> {
    match file.kind {
        Kind::Console | Kind::PipeRead | Kind::PipeWrite => Err(Errno::ESPIPE),
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
        Kind::Null | Kind::Zero | Kind::Full | Kind::Random => Ok(0),
    }
}

/// `writev(fd, iov, iovcnt)`.
pub fn writev(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    let mut total = 0u64;
    // One write(2) to the terminal, one job-control check (the first piece makes it).
    let mut check = JobCheck::Due;
    for (base, len) in iovecs(linux, args[1], args[2])? {
        let len = len.min(MAX_RW - total);
        total += write_file(linux, &file, base, len, check)?;
        check = JobCheck::Done;
    }
    Ok(total)
}

/// `readv(fd, iov, iovcnt)`.
pub fn readv(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    let mut total = 0u64;
    for (base, len) in iovecs(linux, args[1], args[2])? {
        let got = read_file(linux, &file, base, len)?;
        total += got;
        if got < len {
            break;
        }
    }
    Ok(total)
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
enum JobCheck {
    Due,
    Done,
}

fn write_file(linux: &Linux, file: &OpenFile, addr: u64, len: u64, check: JobCheck) -> SysResult {
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    match file.kind {
        Kind::Console => write_console(linux, addr, len, check),
        Kind::File => file::write_file(linux, file, addr, len, None),
        // Writes vanish, but the buffer must still be the program's to read.
        Kind::Null | Kind::Zero | Kind::Random => {
            uaccess::end(addr, len)?;
            Ok(len)
        }
        Kind::Full => Err(Errno::ENOSPC),
        Kind::Dir | Kind::ProcDir => Err(Errno::EISDIR),
        Kind::ProcFile => procfs::write(linux, file, addr, len),
        Kind::PipeWrite => pipe::write(linux, file, addr, len),
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

/// Sends `len` bytes at `addr` to the console. A fault part-way reports what was written, as
/// Linux does; a fault before any byte is `EFAULT`. With the terminal's `TOSTOP` set, a
/// background process's write goes through job control first (`n_tty_write`'s
/// `tty_check_change`: SIGTTOU to its group, unless SIGTTOU is ignored or blocked).
fn write_console(linux: &Linux, addr: u64, len: u64, check: JobCheck) -> SysResult {
    uaccess::end(addr, len)?;
    if check == JobCheck::Due && console_client(linux).tostop().map_err(console_errno)? != 0 {
        job::check(linux, g::SIGTTOU)?;
    }
    let mut out = Writer::new(console_client(linux));
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(CHUNK as u64) as usize;
        let bytes = match uaccess::read(linux, addr + done, n) {
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
