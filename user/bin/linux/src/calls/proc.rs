//! The process and its thread: exit, ids, `set_tid_address`, `arch_prctl` (the FS base for the
//! program's TLS), `umask`, `sched_yield` (resource limits: `calls/rlimit.rs`). The ids and
//! the umask are the process server's (`user/bin/procs`); the ids are fetched once at start
//! (`state::Ids`). The user and group ids are `calls/creds.rs`'s.

use core::sync::atomic::Ordering;

use k42_ifaces::procs::ProcsClient;
use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_ptree::WaitStatus;
use k42_rt::sys::foreign;
use k42_rt::{Ppc, process, program, thread};

use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// The status byte of an exit: Linux keeps the low 8 bits.
const STATUS_MASK: u64 = 0xff;

/// `exit_group(status)`: the process ends with `status & 0xff`. Its descriptors are closed
/// first, so servers see their ends go (a pipe's reader its end of file), then the process
/// server is told the wait status (`(status & 0xff) << 8`) for the parent to collect.
pub fn exit_group(linux: &Linux, args: &Args) -> SysResult {
    exit_process(linux, args[0])
}

/// Ends the process with `status & 0xff` (`exit_group`, or the last thread's `exit`).
pub fn exit_process(linux: &Linux, status: u64) -> SysResult {
    crate::fd::close_all(linux);
    crate::procs::exited(WaitStatus::exited(status));
    // Lossless: masked to 8 bits.
    process::exit((status & STATUS_MASK) as u32)
}

/// `exit(status)`: the calling thread ends; the process ends with its last one
/// (`threads.rs`).
pub fn exit(linux: &Linux, args: &Args) -> SysResult {
    crate::threads::exit(linux, args[0])
}

/// `getpid()`: the ids are the process server's, fetched at start (`state::Ids`).
pub fn getpid(linux: &Linux, _: &Args) -> SysResult {
    Ok(linux.ids.pid)
}

/// `getppid()`: init's children answer from the start-up copy, others ask the server, since
/// their parent may have ended (`crate::procs::getppid`).
pub fn getppid(linux: &Linux, _: &Args) -> SysResult {
    Ok(crate::procs::getppid(linux))
}

/// `gettid()`: the calling thread's id (the first thread's is the pid).
pub fn gettid(linux: &Linux, _: &Args) -> SysResult {
    Ok(crate::threads::tid(linux))
}

/// `getpgrp()`: the process group, as the process server has it (`setpgid` by this process
/// or, for a child, by its parent changes it, so no copy is kept here).
pub fn getpgrp(linux: &Linux, _: &Args) -> SysResult {
    crate::procs::getpgid(linux, 0)
}

/// `getpgid(pid)`: the process group of `pid` (0: this process), the process server's answer
/// (`ESRCH` for none).
pub fn getpgid(linux: &Linux, args: &Args) -> SysResult {
    crate::procs::getpgid(linux, args[0] as u32 as i32)
}

/// `getsid(pid)`, as `getpgid`.
pub fn getsid(linux: &Linux, args: &Args) -> SysResult {
    crate::procs::getsid(linux, args[0] as u32 as i32)
}

/// `setpgid(pid, pgid)`: the process server applies Linux's rules (`EINVAL` for a negative
/// pgid, `ESRCH` for a pid that is neither this process nor a child of it, `EPERM` for a
/// session leader, a child in another session or that has exec'd, or a group in another
/// session).
pub fn setpgid(linux: &Linux, args: &Args) -> SysResult {
    crate::procs::setpgid(linux, args[0] as u32 as i32, args[1] as u32 as i32).map(|()| 0)
}

/// `setsid()`: this process leads a new session and process group; `EPERM` if it leads a
/// group already.
pub fn setsid(linux: &Linux, _: &Args) -> SysResult {
    crate::procs::setsid(linux)
}

/// `set_tid_address(tidptr)`: remembered for thread exit; returns the tid.
pub fn set_tid_address(linux: &Linux, args: &Args) -> SysResult {
    crate::threads::set_clear_child_tid(args[0]);
    Ok(crate::threads::tid(linux))
}

/// Size of `struct robust_list_head` (three words), the only length Linux accepts.
const ROBUST_LIST_HEAD_BYTES: u64 = 24;

/// `set_robust_list(head, len)`: accepted (walked at thread exit once threads exist).
pub fn set_robust_list(_: &Linux, args: &Args) -> SysResult {
    if args[1] != ROBUST_LIST_HEAD_BYTES {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// `arch_prctl` codes linux-raw-sys lacks (it has only `ARCH_SET_FS`), from Linux's
/// `arch/x86/include/uapi/asm/prctl.h`, next to the one it has.
const ARCH_SET_GS: u32 = g::ARCH_SET_FS - 1;
const ARCH_GET_FS: u32 = g::ARCH_SET_FS + 1;
const ARCH_GET_GS: u32 = g::ARCH_SET_FS + 2;
const _: () = assert!(g::ARCH_SET_FS == 0x1002);

/// `arch_prctl(code, addr)`: the FS and GS bases. FS is the program's thread pointer, set with
/// `wrfsbase` (`k42_sys::foreign`). GS stays the runtime's (its dispatcher page), so the program
/// cannot have one: `ARCH_SET_GS` is refused with `EPERM`, `ARCH_GET_GS` reads 0.
pub fn arch_prctl(linux: &Linux, args: &Args) -> SysResult {
    let (code, addr) = (args[0] as u32, args[1]);
    match code {
        g::ARCH_SET_FS => {
            if addr >= 1 << 47 {
                return Err(Errno::EPERM);
            }
            if !foreign::fs_base_writable() {
                return Err(Errno::ENOSYS);
            }
            program::set_fs_base(addr);
            Ok(0)
        }
        ARCH_GET_FS => uaccess::write_words(linux, addr, &[program::fs_base()]).map(|()| 0),
        ARCH_GET_GS => uaccess::write_words(linux, addr, &[0]).map(|()| 0),
        ARCH_SET_GS => Err(Errno::EPERM),
        _ => Err(Errno::EINVAL),
    }
}

/// `sched_yield()`: lets the personality's other threads run.
pub fn sched_yield(_: &Linux, _: &Args) -> SysResult {
    thread::yield_now();
    Ok(0)
}

/// `umask(mask)`: returns the old mask. The process server keeps it (a forked child inherits
/// it there); the personality keeps a copy for its own file calls.
pub fn umask(linux: &Linux, args: &Args) -> SysResult {
    let new = args[0] & 0o777;
    if let Some(procs) = &linux.procs {
        ProcsClient::new(Ppc::new(procs.comm), procs.table)
            .umask(new, 1)
            .map_err(|_| Errno::EIO)?;
    }
    Ok(linux.umask.swap(new, Ordering::Relaxed))
}
