//! `execve` and `execveat` (issue #5): a new program in this process, as execve(2) says. The
//! loader is the one the run's first program goes through (`crate::exec`); this file is the
//! syscall's side of it — copying the path, argv and envp in through the checked user-access
//! helpers (`crate::uaccess`), finding the file from the cwd or `dirfd`, and the overlay
//! itself: it sits next to `crate::mem` (the old image's teardown), `crate::fd` (close-on-exec)
//! and `calls/signal.rs` (dispositions reset).
//!
//! Everything that can fail is checked before the point of no return: the arguments (`EFAULT`,
//! `E2BIG` past Linux's `MAX_ARG_STRLEN` per string and the 2 MiB total), the file (`ENOENT`,
//! `ENOTDIR`, `ELOOP`, `EACCES` without execute permission or for anything but a regular
//! file), every `#!` interpreter down to the binary, the ELF plan (`ENOEXEC`), and the new
//! stack. Only then is the old image unmapped; after that what can still fail is the kernel
//! refusing memory for the new image, or an interpreter Linux too finds bad only there
//! (`interp.rs`), and the process then dies as Linux kills it there (`force_fatal_sig(SIGSEGV)`
//! in `bprm_execve`): killed by SIGSEGV, which its parent's wait sees (exit status 128 +
//! SIGSEGV = 139 for the runner), with a log line.
//!
//! What survives an exec, as on Linux: the pid and ids, the cwd and umask, every fd not marked
//! `FD_CLOEXEC`, ignored signals, the blocked mask. What changes: the command `/proc` shows
//! (`comm` and `cmdline`, told to the process server). What does not: the whole program memory
//! (image, brk, stack, every mmap), caught signals (back to `SIG_DFL`), the alternate signal
//! stack, `set_tid_address`'s pointer, the FS base (the new program's C library sets its TLS
//! up), every register.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use k42_abi::kernel::SavedRegs;
use k42_linux::raw::general as g;
use k42_linux::stack::{MAX_ARG_STRLEN, MAX_ARG_TOTAL};
use k42_linux::{Errno, PAGE_SIZE, SysResult};
use k42_rt::sys::foreign;
use k42_rt::{log, program};

use crate::exec::{self, ExecError};
use crate::fd::Kind;
use crate::state::Linux;
use crate::table::Args;
use crate::{mem, uaccess};

/// `AT_FDCWD` as the register holds it (a C int, -100).
const AT_FDCWD: i32 = g::AT_FDCWD;
/// The flags `execveat` accepts.
const EXECVEAT_FLAGS: u32 = g::AT_EMPTY_PATH | g::AT_SYMLINK_NOFOLLOW;
/// Bytes of one argv or envp pointer.
const POINTER_BYTES: usize = core::mem::size_of::<u64>();

/// argv or envp, one byte string each (no NULs).
type Strings = Vec<Vec<u8>>;

/// `execve(path, argv, envp)`.
pub fn execve(linux: &Linux, args: &Args, regs: &mut SavedRegs) -> SysResult {
    exec_at(linux, AT_FDCWD as u64, args[0], args[1], args[2], 0, regs)
}

/// `execveat(dirfd, path, argv, envp, flags)`.
pub fn execveat(linux: &Linux, args: &Args, regs: &mut SavedRegs) -> SysResult {
    exec_at(
        linux,
        args[0],
        args[1],
        args[2],
        args[3],
        args[4] as u32,
        regs,
    )
}

/// The pointers of a NULL-terminated array at `addr` (a NULL `addr` is an empty array, as
/// Linux takes it), read a page at a time: `EFAULT` on unmapped memory, `E2BIG` once the
/// pointers alone could not fit in [`MAX_ARG_TOTAL`].
fn pointers(linux: &Linux, addr: u64) -> Result<Vec<u64>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut at = addr;
    loop {
        let to_page_end = (PAGE_SIZE - at % PAGE_SIZE) as usize;
        let len = to_page_end.max(POINTER_BYTES) / POINTER_BYTES * POINTER_BYTES;
        let bytes = uaccess::read(linux, at, len)?;
        for word in bytes.chunks_exact(POINTER_BYTES) {
            let mut b = [0u8; POINTER_BYTES];
            b.copy_from_slice(word);
            match u64::from_le_bytes(b) {
                0 => return Ok(out),
                p => out.push(p),
            }
            if out.len() * POINTER_BYTES > MAX_ARG_TOTAL {
                return Err(Errno::E2BIG);
            }
        }
        at = uaccess::end(at, len as u64)?;
    }
}

/// The NUL-terminated string at `addr`, read a page at a time: `EFAULT` on unmapped memory,
/// `E2BIG` when it is longer than [`MAX_ARG_STRLEN`] with its NUL or does not fit in what is
/// left of `budget` (which it then uses up).
fn arg_string(linux: &Linux, addr: u64, budget: &mut usize) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut at = addr;
    loop {
        let to_page_end = (PAGE_SIZE - at % PAGE_SIZE) as usize;
        let bytes = uaccess::read(linux, at, to_page_end)?;
        let nul = bytes.iter().position(|&b| b == 0);
        out.extend_from_slice(&bytes[..nul.unwrap_or(bytes.len())]);
        // With its NUL, the string may not pass MAX_ARG_STRLEN nor the budget.
        if out.len() >= MAX_ARG_STRLEN || out.len() >= *budget {
            return Err(Errno::E2BIG);
        }
        if nul.is_some() {
            *budget -= out.len() + 1;
            return Ok(out);
        }
        at = uaccess::end(at, to_page_end as u64)?;
    }
}

/// argv and envp, copied in as Linux's `do_execveat_common` does: both pointer arrays counted
/// first, then the envp strings, then the argv strings, all within [`MAX_ARG_TOTAL`].
fn copy_args(linux: &Linux, argv_addr: u64, envp_addr: u64) -> Result<(Strings, Strings), Errno> {
    let argv_ptrs = pointers(linux, argv_addr)?;
    let envp_ptrs = pointers(linux, envp_addr)?;
    let mut budget = MAX_ARG_TOTAL
        .checked_sub(POINTER_BYTES * (argv_ptrs.len() + envp_ptrs.len()))
        .ok_or(Errno::E2BIG)?;
    let mut strings = |ptrs: &[u64]| -> Result<Strings, Errno> {
        ptrs.iter()
            .map(|&p| arg_string(linux, p, &mut budget))
            .collect()
    };
    let envp = strings(&envp_ptrs)?;
    let argv = strings(&argv_ptrs)?;
    Ok((argv, envp))
}

/// Where the file is: the directory its path starts from (absolute, symlink-free), the path,
/// and the name the new program sees as `AT_EXECFN` (and a script's interpreter as its script):
/// the path as given, or Linux's `/dev/fd/N/path` for a path relative to `dirfd`
/// (`/dev/fd/N` for `AT_EMPTY_PATH`).
fn locate(
    linux: &Linux,
    dirfd: u64,
    path: &[u8],
    empty_path: bool,
) -> Result<(String, String, Vec<u8>), Errno> {
    let text = String::from_utf8_lossy(path).into_owned();
    let fd = dirfd as u32 as i32;
    if text.starts_with('/') {
        return Ok((String::from("/"), text, path.to_vec()));
    }
    if fd == AT_FDCWD {
        // An empty path here (AT_EMPTY_PATH) names the cwd itself: a directory, EACCES.
        let named = if text.is_empty() {
            String::from(".")
        } else {
            text
        };
        return Ok((exec::cwd_path(linux), named, path.to_vec()));
    }
    let file = linux.fds.lock().get(dirfd)?;
    if text.is_empty() && empty_path {
        // fexecve: the open file itself, by the path it was opened by.
        if file.kind != Kind::File {
            return Err(Errno::EACCES);
        }
        let shown = format!("/dev/fd/{fd}");
        return Ok((String::from("/"), file.path.clone(), shown.into_bytes()));
    }
    if file.kind != Kind::Dir {
        return Err(Errno::ENOTDIR);
    }
    let shown = format!("/dev/fd/{fd}/{text}");
    Ok((file.path.clone(), text, shown.into_bytes()))
}

/// Logs why an exec failed and gives its errno (the program sees only the errno; the log line
/// says which file and why, for a reader of the boot log).
fn refused(e: &ExecError) -> Errno {
    let errno = e.errno();
    if matches!(e, ExecError::Interp { .. } | ExecError::NotExecutable(..)) {
        log!("linux: execve: {e}");
    }
    errno
}

/// The common part of `execve` and `execveat`.
fn exec_at(
    linux: &Linux,
    dirfd: u64,
    path_addr: u64,
    argv_addr: u64,
    envp_addr: u64,
    flags: u32,
    regs: &mut SavedRegs,
) -> SysResult {
    if flags & !EXECVEAT_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let empty_path = flags & g::AT_EMPTY_PATH != 0;
    let path = uaccess::read_string(linux, path_addr)?;
    if path.is_empty() && !empty_path {
        return Err(Errno::ENOENT);
    }
    let (argv, envp) = copy_args(linux, argv_addr, envp_addr)?;
    let (base, path, execfn) = locate(linux, dirfd, &path, empty_path)?;
    let nofollow = flags & g::AT_SYMLINK_NOFOLLOW != 0;
    let file = exec::read_program(linux, &base, &path, nofollow)?;
    let (file, argv) = exec::follow_scripts(linux, file, &execfn, argv).map_err(|e| refused(&e))?;
    let mut prepared =
        exec::prepare(linux, &path, file, &argv, &envp, &execfn).map_err(|e| refused(&e))?;
    let command = prepared.take_command();

    // The point of no return: the other threads end, then the old image goes.
    crate::threads::end_others(linux);
    let (loaded, unmapped_files) = {
        let mut memory = linux.mem.lock();
        let unmapped = mem::unmap_all(linux, &mut memory);
        (exec::load(linux, &mut memory, &prepared), unmapped)
    };
    // Dropped once the map's lock is let go: a node's last drop is a file server call.
    drop(unmapped_files);
    drop(prepared);
    let new = match loaded {
        Ok(new) => new,
        Err(e) => {
            log!("linux: execve failed past its point of no return: {e}");
            crate::calls::fault::die_of_signal(linux, g::SIGSEGV, "a failed execve")
        }
    };
    let closed = linux.fds.lock().take_close_on_exec();
    // Dropped with the table's lock let go: releasing a file server node is a call.
    drop(closed);
    linux.signals.lock().reset_for_exec();
    crate::threads::set_clear_child_tid(0);
    if foreign::fs_base_writable() {
        program::set_fs_base(0);
    }
    // `/proc` shows the new command (the process server keeps it), and the saved and
    // filesystem ids become the effective ones, as Linux's exec makes them.
    command.tell(linux);
    crate::procs::executed(linux);
    *regs = new;
    Ok(0)
}
