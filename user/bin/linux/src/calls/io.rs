//! Reading and writing open files: `read`, `write`, `readv`, `writev`, `pread64`, `pwrite64`,
//! `lseek`, `ioctl`. The console is the console server's object: writes go to it by PPC (its
//! `write` carries 40 bytes a call until the per-CPU PPC page exists, issue #3); it has no read
//! method yet, so reading the console is end-of-file for now (the tty with its line discipline
//! is issue #4 item 4). The terminal's settings (`TCGETS`/`TCSETS*`) and window size are kept
//! here until that server owns them.

use alloc::vec;

use k42_ifaces::console::{ConsoleClient, Writer};
use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rt::Ppc;
use linux_raw_sys::ioctl;
use spin::Mutex;

use crate::fd::{Kind, OpenFile};
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
    write_file(linux, &file, args[1], args[2].min(MAX_RW))
}

/// `read(fd, buf, count)`.
pub fn read(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    read_file(linux, &file, args[1], args[2].min(MAX_RW))
}

/// `pwrite64`: the console cannot seek.
pub fn pwrite64(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    match file.kind {
        Kind::Console => Err(Errno::ESPIPE),
    }
}

/// `pread64`: the console cannot seek.
pub fn pread64(linux: &Linux, args: &Args) -> SysResult {
    pwrite64(linux, args)
}

/// `lseek`: the console cannot seek.
pub fn lseek(linux: &Linux, args: &Args) -> SysResult {
    pwrite64(linux, args)
}

/// `writev(fd, iov, iovcnt)`.
pub fn writev(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    let mut total = 0u64;
    for (base, len) in iovecs(linux, args[1], args[2])? {
        let len = len.min(MAX_RW - total);
        total += write_file(linux, &file, base, len)?;
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

fn write_file(linux: &Linux, file: &OpenFile, addr: u64, len: u64) -> SysResult {
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    match file.kind {
        Kind::Console => write_console(linux, addr, len),
    }
}

fn read_file(_linux: &Linux, file: &OpenFile, _addr: u64, _len: u64) -> SysResult {
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    match file.kind {
        // End of file until the console server reads (module comment).
        Kind::Console => Ok(0),
    }
}

/// Sends `len` bytes at `addr` to the console. A fault part-way reports what was written, as
/// Linux does; a fault before any byte is `EFAULT`.
fn write_console(linux: &Linux, addr: u64, len: u64) -> SysResult {
    uaccess::end(addr, len)?;
    let mut out = Writer::new(ConsoleClient::new(
        Ppc::new(linux.console_comm),
        linux.console,
    ));
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

/// The console's terminal settings: `struct termios` (the kernel's, 36 bytes) as the program last
/// set them, starting from Linux's defaults for a serial console (`tty_std_termios`).
static TERMIOS: Mutex<[u8; TERMIOS_BYTES]> = Mutex::new(default_termios());

/// Bytes of the kernel's `struct termios`: four flag words, the line discipline, `NCCS` control
/// characters.
const TERMIOS_BYTES: usize = 4 * 4 + 1 + g::NCCS as usize;

const fn default_termios() -> [u8; TERMIOS_BYTES] {
    let mut t = [0u8; TERMIOS_BYTES];
    let words = [
        g::ICRNL | g::IXON,
        g::OPOST | g::ONLCR,
        g::B38400 | g::CS8 | g::CREAD | g::HUPCL,
        g::ISIG | g::ICANON | g::ECHO | g::ECHOE | g::ECHOK | g::ECHOCTL | g::ECHOKE | g::IEXTEN,
    ];
    let mut i = 0;
    while i < 4 {
        let b = words[i].to_le_bytes();
        t[i * 4] = b[0];
        t[i * 4 + 1] = b[1];
        t[i * 4 + 2] = b[2];
        t[i * 4 + 3] = b[3];
        i += 1;
    }
    // c_line 0 (N_TTY); the control characters Linux's INIT_C_CC gives.
    let cc = 17;
    let chars: [(u32, u8); 9] = [
        (g::VINTR, 0x03),
        (g::VQUIT, 0x1c),
        (g::VERASE, 0x7f),
        (g::VKILL, 0x15),
        (g::VEOF, 0x04),
        (g::VMIN, 1),
        (g::VSTART, 0x11),
        (g::VSTOP, 0x13),
        (g::VSUSP, 0x1a),
    ];
    let mut j = 0;
    while j < chars.len() {
        t[cc + chars[j].0 as usize] = chars[j].1;
        j += 1;
    }
    t
}

/// The console's window size: Linux reports 0×0 for a serial line nobody sized.
static WINSIZE: Mutex<[u8; 8]> = Mutex::new([0; 8]);

/// `ioctl(fd, request, arg)`: the terminal requests on the console; `ENOTTY` for anything
/// else, as Linux answers a request the file does not know.
pub fn ioctl(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    let request = args[1] as u32;
    let arg = args[2];
    match (file.kind, request) {
        (Kind::Console, ioctl::TCGETS) => {
            let t = *TERMIOS.lock();
            uaccess::write(linux, arg, &t).map(|()| 0)
        }
        (Kind::Console, ioctl::TCSETS | ioctl::TCSETSW | ioctl::TCSETSF) => {
            let mut t = [0u8; TERMIOS_BYTES];
            uaccess::read_into(linux, arg, &mut t)?;
            *TERMIOS.lock() = t;
            Ok(0)
        }
        (Kind::Console, ioctl::TIOCGWINSZ) => {
            let w = *WINSIZE.lock();
            uaccess::write(linux, arg, &w).map(|()| 0)
        }
        (Kind::Console, ioctl::TIOCSWINSZ) => {
            let mut w = [0u8; 8];
            uaccess::read_into(linux, arg, &mut w)?;
            *WINSIZE.lock() = w;
            Ok(0)
        }
        (Kind::Console, ioctl::TIOCGPGRP) => {
            let pgrp = (crate::state::ids::PID as u32).to_le_bytes();
            uaccess::write(linux, arg, &pgrp).map(|()| 0)
        }
        _ => Err(Errno::ENOTTY),
    }
}
