//! Collecting children: `wait4` (and so `waitpid`/`wait`) and `waitid`. The children and their
//! ends are the process server's (`user/bin/procs`, the tree in `k42_ptree`); this file checks
//! the arguments as Linux does (`kernel/exit.c`: options and ids through `k42_ptree::select`),
//! asks through `crate::procs::wait_child` — which blocks only the program's thread, waiting
//! for the server's notification, when a child exists but has not ended — and writes what
//! Linux writes back: the wait status, the child's `struct rusage` (its CPU time,
//! `calls/usage.rs`), and
//! `waitid`'s `siginfo_t`. Stopped and continued children (`WUNTRACED`/`WSTOPPED`,
//! `WCONTINUED`) are reported once per stop or continue, as the process server keeps them
//! (`k42_ptree::job`); `siginfo_t` then says `CLD_STOPPED` with the signal or `CLD_CONTINUED`.

use core::mem::{offset_of, size_of};

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_ptree::{Selector, WaitOptions, WaitStatus};

use crate::calls::usage;
use crate::procs;
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// Bytes of `siginfo_t`.
const SIGINFO_BYTES: usize = size_of::<g::siginfo_t>();
/// Where `siginfo_t`'s head (`si_signo`, `si_errno`, `si_code`) and its `SIGCHLD` fields
/// (`si_pid`, `si_uid`, `si_status`) sit: Linux's `waitid` writes only these.
const SI_HEAD: usize = offset_of!(g::siginfo__bindgen_ty_1__bindgen_ty_1, si_signo);
const SI_HEAD_END: usize =
    offset_of!(g::siginfo__bindgen_ty_1__bindgen_ty_1, si_code) + size_of::<i32>();
const SI_FIELDS: usize = offset_of!(g::siginfo__bindgen_ty_1__bindgen_ty_1, _sifields);
const SI_PID: usize = SI_FIELDS + offset_of!(g::__sifields__bindgen_ty_4, _pid);
const SI_UID: usize = SI_FIELDS + offset_of!(g::__sifields__bindgen_ty_4, _uid);
const SI_STATUS: usize = SI_FIELDS + offset_of!(g::__sifields__bindgen_ty_4, _status);
const SI_STATUS_END: usize = SI_STATUS + size_of::<i32>();
const _: () = assert!(SI_HEAD == 0 && SI_HEAD_END == 12 && SI_PID == 16 && SI_STATUS_END == 28);

/// `wait4(pid, wstatus, options, rusage)`: the pid of a collected child (its status in
/// `*wstatus`, its CPU time in `*rusage`), or 0 under `WNOHANG` when none has ended. As on Linux the
/// child is collected before the status is written, so a bad `wstatus` gives `EFAULT` with the
/// child gone.
pub fn wait4(linux: &Linux, args: &Args) -> SysResult {
    let options = WaitOptions::from_wait4(args[2] as u32)?;
    let selector = Selector::from_wait4(args[0] as u32 as i32)?;
    let Some((pid, status, _, cpu_ns)) = procs::wait_child(selector, options)? else {
        return Ok(0);
    };
    if args[1] != 0 {
        uaccess::write(linux, args[1], &status.0.to_le_bytes())?;
    }
    usage::write_rusage(linux, args[3], cpu_ns)?;
    Ok(pid)
}

/// `waitid(idtype, id, infop, options, rusage)`: 0, with `*infop` saying which child ended,
/// stopped or continued and how (`si_signo` `SIGCHLD`, `si_code` `CLD_EXITED`/`CLD_KILLED`/
/// `CLD_DUMPED`/`CLD_STOPPED`/`CLD_CONTINUED`, `si_pid`,
/// `si_uid`, `si_status`), or all those fields 0 under `WNOHANG` when none has. As Linux does,
/// `*infop` is written whatever the outcome, errors included, and a fault there is the
/// answer (`EFAULT`).
pub fn waitid(linux: &Linux, args: &Args) -> SysResult {
    let found = WaitOptions::from_waitid(args[3] as u32).and_then(|options| {
        let selector = Selector::from_waitid(args[0] as u32, args[1] as u32 as i32)?;
        procs::wait_child(selector, options)
    });
    if args[2] != 0 {
        write_siginfo(linux, args[2], found.ok().flatten())?;
    }
    if let Ok(Some((.., cpu_ns))) = found {
        usage::write_rusage(linux, args[4], cpu_ns)?;
    }
    found.map(|_| 0)
}

/// Writes `waitid`'s fields of the `siginfo_t` at `addr`: those of `child`, or zeros.
fn write_siginfo(
    linux: &Linux,
    addr: u64,
    child: Option<(u64, WaitStatus, u32, u64)>,
) -> Result<(), Errno> {
    // Linux checks the whole structure's range before it writes a field.
    uaccess::end(addr, SIGINFO_BYTES as u64)?;
    let mut info = [0u8; SI_STATUS_END];
    if let Some((pid, status, uid, _)) = child {
        let (code, value) = status.siginfo();
        let fields: [(usize, u32); 5] = [
            (
                offset_of!(g::siginfo__bindgen_ty_1__bindgen_ty_1, si_signo),
                g::SIGCHLD,
            ),
            (
                offset_of!(g::siginfo__bindgen_ty_1__bindgen_ty_1, si_code),
                code,
            ),
            // pid_t: a pid fits.
            (SI_PID, pid as u32),
            (SI_UID, uid),
            (SI_STATUS, value),
        ];
        for (at, value) in fields {
            info[at..at + size_of::<u32>()].copy_from_slice(&value.to_le_bytes());
        }
    }
    // The word between the head and the fields is not Linux's to write.
    uaccess::write(linux, addr, &info[SI_HEAD..SI_HEAD_END])?;
    uaccess::write(linux, addr + SI_PID as u64, &info[SI_PID..SI_STATUS_END])
}
