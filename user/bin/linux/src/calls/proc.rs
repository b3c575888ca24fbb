//! The process and its thread: exit, ids, `set_tid_address`, `arch_prctl` (the FS base for the
//! program's TLS), resource limits, `umask`, `sched_yield`. Until the process server exists
//! (issue #4 item 4) the ids are the fixed ones of `state::ids`: the run's program as init's
//! child, as on the Linux runner.

use core::sync::atomic::Ordering;

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rt::sys::foreign;
use k42_rt::{process, thread};

use crate::state::{Linux, ids};
use crate::table::Args;
use crate::uaccess;

/// The status byte of an exit: Linux keeps the low 8 bits.
const STATUS_MASK: u64 = 0xff;

/// `exit_group(status)`: the process ends with `status & 0xff`.
pub fn exit_group(_linux: &Linux, args: &Args) -> SysResult {
    // Lossless: masked to 8 bits.
    process::exit((args[0] & STATUS_MASK) as u32)
}

/// `exit(status)`: the program has one thread, so the process ends with it.
pub fn exit(linux: &Linux, args: &Args) -> SysResult {
    exit_group(linux, args)
}

/// `getpid()`.
pub fn getpid(_: &Linux, _: &Args) -> SysResult {
    Ok(ids::PID)
}

/// `getppid()`.
pub fn getppid(_: &Linux, _: &Args) -> SysResult {
    Ok(ids::PPID)
}

/// `gettid()`: the one thread's id is the pid.
pub fn gettid(_: &Linux, _: &Args) -> SysResult {
    Ok(ids::PID)
}

/// `getuid()`, `geteuid()`.
pub fn getuid(_: &Linux, _: &Args) -> SysResult {
    Ok(ids::UID)
}

/// `getgid()`, `getegid()`.
pub fn getgid(_: &Linux, _: &Args) -> SysResult {
    Ok(ids::GID)
}

/// `getpgrp()`: the program leads its own group, as init's child with a controlling tty does.
pub fn getpgrp(_: &Linux, _: &Args) -> SysResult {
    Ok(ids::PID)
}

/// `getpgid(pid)`, `getsid(pid)`: 0 or our pid names us; any other pid is no process we know.
pub fn getpgid(_: &Linux, args: &Args) -> SysResult {
    match args[0] as u32 as i32 {
        0 => Ok(ids::PID),
        pid if pid as u64 == ids::PID => Ok(ids::PID),
        _ => Err(Errno::ESRCH),
    }
}

/// `set_tid_address(tidptr)`: remembered for thread exit; returns the tid.
pub fn set_tid_address(linux: &Linux, args: &Args) -> SysResult {
    linux.clear_child_tid.store(args[0], Ordering::Relaxed);
    Ok(ids::PID)
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
            foreign::set_fs_base(addr);
            Ok(0)
        }
        ARCH_GET_FS => uaccess::write_words(linux, addr, &[foreign::fs_base()]).map(|()| 0),
        ARCH_GET_GS => uaccess::write_words(linux, addr, &[0]).map(|()| 0),
        ARCH_SET_GS => Err(Errno::EPERM),
        _ => Err(Errno::EINVAL),
    }
}

/// The limits the personality reports: (resource, soft, hard). Linux's defaults for init's
/// children; others are unlimited.
const LIMITS: [(u32, u64, u64); 3] = [
    (
        g::RLIMIT_STACK,
        crate::layout::STACK_SIZE,
        g::RLIM64_INFINITY as u64,
    ),
    (g::RLIMIT_NOFILE, crate::fd::MAX_FDS as u64, 4096),
    (g::RLIMIT_CORE, 0, g::RLIM64_INFINITY as u64),
];

/// Resources there are (`RLIM_NLIMITS`).
const RESOURCES: u32 = g::RLIM_NLIMITS;

fn limit(resource: u32) -> Result<(u64, u64), Errno> {
    if resource >= RESOURCES {
        return Err(Errno::EINVAL);
    }
    Ok(LIMITS.iter().find(|(r, ..)| *r == resource).map_or(
        (g::RLIM64_INFINITY as u64, g::RLIM64_INFINITY as u64),
        |&(_, s, h)| (s, h),
    ))
}

/// `prlimit64(pid, resource, new, old)`: reads work; setting is refused with `EPERM` until the
/// limits are enforced (a program told its limit changed would be misled).
pub fn prlimit64(linux: &Linux, args: &Args) -> SysResult {
    let pid = args[0] as u32 as i32;
    if pid != 0 && pid as u64 != ids::PID {
        return Err(Errno::ESRCH);
    }
    let (soft, hard) = limit(args[1] as u32)?;
    if args[2] != 0 {
        let [new_soft, new_hard] = uaccess::read_words::<2>(linux, args[2])?;
        if new_soft > new_hard {
            return Err(Errno::EINVAL);
        }
        if (new_soft, new_hard) != (soft, hard) {
            return Err(Errno::EPERM);
        }
    }
    if args[3] != 0 {
        uaccess::write_words(linux, args[3], &[soft, hard])?;
    }
    Ok(0)
}

/// `getrlimit(resource, rlim)`.
pub fn getrlimit(linux: &Linux, args: &Args) -> SysResult {
    let (soft, hard) = limit(args[0] as u32)?;
    uaccess::write_words(linux, args[1], &[soft, hard]).map(|()| 0)
}

/// `sched_yield()`: lets the personality's other threads run.
pub fn sched_yield(_: &Linux, _: &Args) -> SysResult {
    thread::yield_now();
    Ok(0)
}

/// `umask(mask)`: returns the old mask.
pub fn umask(linux: &Linux, args: &Args) -> SysResult {
    let new = args[0] & 0o777;
    Ok(linux.umask.swap(new, Ordering::Relaxed))
}
