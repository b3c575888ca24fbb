//! Scheduling: the nice value (`getpriority`, `setpriority`), the policy and its priority
//! (`sched_getscheduler`, `sched_setscheduler`, `sched_getparam`, `sched_setparam`,
//! `sched_get_priority_max`, `sched_get_priority_min`) and the CPU affinity
//! (`sched_getaffinity`, `sched_setaffinity`), and where the process runs (`getcpu`). The
//! process server keeps every process's (`Procs::getpriority` and the calls after it; the rules
//! in `k42_ptree::sched` and `k42_linux::sched`), so one process may read another's and, with
//! Linux's permission, change them; a fork child starts with a copy, `SCHED_RESET_ON_FORK`
//! applied, and an exec keeps them. This file checks what Linux checks before it looks for the
//! process (the arguments' ranges, the user memory), in Linux's order, and moves the bytes.
//!
//! They are kept and answered; K42 schedules by none of them yet. A Linux process's threads
//! share one dispatcher, so the process runs on one CPU whatever its affinity, and the kernel's
//! policy has no entry point for a nice value or a real-time class
//! (docs/linux-personality.md).

use k42_ifaces::procs::{KEEP_POLICY, ProcsClient};
use k42_linux::sched;
use k42_linux::{Errno, SysResult};
use k42_rt::Ppc;
use k42_rt::sys::page::Page;

use crate::procs::errno;
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// The NUMA node `getcpu` names: the machine is one node.
const NUMA_NODE: u32 = 0;
/// Bytes of `struct sched_param` (one C int, the priority).
const SCHED_PARAM_BYTES: usize = core::mem::size_of::<i32>();

/// The process server; without one there is no process to name (`ESRCH`).
fn procs(linux: &Linux) -> Result<ProcsClient<Ppc>, Errno> {
    crate::procs::client(linux).ok_or(Errno::ESRCH)
}

/// A C int argument.
fn c_int(register: u64) -> i32 {
    register as u32 as i32
}

/// A C int sign-extended to a word, as the process server's calls take one.
fn word(value: i32) -> u64 {
    i64::from(value) as u64
}

/// `getpriority(which, who)`: 20 minus the nice value (1 to 40; the C library turns it back).
pub fn getpriority(linux: &Linux, args: &Args) -> SysResult {
    procs(linux)?.getpriority(args[0], args[1]).map_err(errno)
}

/// `setpriority(which, who, nice)`.
pub fn setpriority(linux: &Linux, args: &Args) -> SysResult {
    procs(linux)?
        .setpriority(args[0], args[1], args[2])
        .map(|()| 0)
        .map_err(errno)
}

/// The policy word, real-time priority and allowed CPUs of the process `pid` (not negative)
/// names.
fn params(linux: &Linux, pid: i32) -> Result<(u64, u64, u64), Errno> {
    procs(linux)?.sched_params(word(pid)).map_err(errno)
}

/// `sched_getscheduler(pid)`: the policy, with `SCHED_RESET_ON_FORK` if set.
pub fn sched_getscheduler(linux: &Linux, args: &Args) -> SysResult {
    let pid = c_int(args[0]);
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    params(linux, pid).map(|(policy, ..)| policy)
}

/// `sched_getparam(pid, param)`: the real-time priority (0 under the other policies).
pub fn sched_getparam(linux: &Linux, args: &Args) -> SysResult {
    let pid = c_int(args[0]);
    if args[1] == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let (_, priority, _) = params(linux, pid)?;
    // Lossless: 0..=99.
    let priority = priority as i32;
    uaccess::write(linux, args[1], &priority.to_le_bytes()).map(|()| 0)
}

/// `sched_setscheduler(pid, policy, param)`.
pub fn sched_setscheduler(linux: &Linux, args: &Args) -> SysResult {
    let policy = c_int(args[1]);
    if policy < 0 {
        return Err(Errno::EINVAL);
    }
    set_scheduler(linux, args[0], word(policy), args[2])
}

/// `sched_setparam(pid, param)`: the priority under the current policy.
pub fn sched_setparam(linux: &Linux, args: &Args) -> SysResult {
    set_scheduler(linux, args[0], KEEP_POLICY, args[1])
}

/// `do_sched_setscheduler`: the pid and the parameter's address first (`EINVAL`), then the
/// parameter (`EFAULT`); the process server then finds the process (`ESRCH`) and makes the
/// change's own checks.
fn set_scheduler(linux: &Linux, pid: u64, policy: u64, param: u64) -> SysResult {
    let pid = c_int(pid);
    if param == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let mut bytes = [0u8; SCHED_PARAM_BYTES];
    uaccess::read_into(linux, param, &mut bytes)?;
    let priority = i32::from_le_bytes(bytes);
    procs(linux)?
        .set_scheduler(word(pid), policy, word(priority))
        .map(|()| 0)
        .map_err(errno)
}

/// `sched_get_priority_max(policy)`.
pub fn sched_get_priority_max(_: &Linux, args: &Args) -> SysResult {
    sched::priority_max(args[0] as u32 as i32).map(u64::from)
}

/// `sched_get_priority_min(policy)`.
pub fn sched_get_priority_min(_: &Linux, args: &Args) -> SysResult {
    sched::priority_min(args[0] as u32 as i32).map(u64::from)
}

/// How many CPUs there are: the process server's figure (`Procs::system`), asked once (CPUs
/// do not come and go); 1 without one.
fn cpus(linux: &Linux) -> u32 {
    static CPUS: spin::Once<u32> = spin::Once::new();
    *CPUS.call_once(|| {
        crate::procs::system(linux)
            .ok()
            .and_then(|(cpus, ..)| u32::try_from(cpus).ok())
            .map_or(1, |n| n.clamp(1, sched::MAX_CPUS))
    })
}

/// A pid argument of the affinity calls: a negative one names no process (`ESRCH`, as
/// `find_process_by_pid` finds none).
fn affinity_pid(register: u64) -> Result<i32, Errno> {
    let pid = c_int(register);
    if pid < 0 { Err(Errno::ESRCH) } else { Ok(pid) }
}

/// `sched_getaffinity(pid, len, mask)`: the length first (`EINVAL`), then the process; the
/// answer is how many bytes of the mask were written.
pub fn sched_getaffinity(linux: &Linux, args: &Args) -> SysResult {
    let len = sched::getaffinity_len(args[1] as u32, cpus(linux))?;
    let (_, _, allowed) = params(linux, affinity_pid(args[0])?)?;
    uaccess::write(linux, args[2], &sched::affinity_bytes(allowed, len))?;
    // Lossless: at most a mask's bytes.
    Ok(len as u64)
}

/// `sched_setaffinity(pid, len, mask)`: the mask first (`EFAULT`), then the process server
/// (`ESRCH`, `EPERM`, and `EINVAL` for a mask of no CPU there is).
pub fn sched_setaffinity(linux: &Linux, args: &Args) -> SysResult {
    let len = sched::setaffinity_len(u64::from(args[1] as u32), cpus(linux));
    let bytes = uaccess::read(linux, args[2], len)?;
    let pid = affinity_pid(args[0])?;
    let mut first = [0u8; sched::MASK_WORD_BYTES];
    let n = bytes.len().min(first.len());
    first[..n].copy_from_slice(&bytes[..n]);
    procs(linux)?
        .set_affinity(word(pid), u64::from_le_bytes(first))
        .map(|()| 0)
        .map_err(errno)
}

/// `getcpu(cpu, node, cache)`: the CPU this process's dispatcher runs on (all its threads run
/// there) and NUMA node 0, each written if its pointer is not null; `EFAULT` if either write
/// fails. The third argument has been unused since Linux 2.6.24.
pub fn getcpu(linux: &Linux, args: &Args) -> SysResult {
    // Lossless: CPU numbers are below `sched::MAX_CPUS`.
    let cpu = Page::current().cpu() as u32;
    let mut faulted = false;
    for (addr, value) in [(args[0], cpu), (args[1], NUMA_NODE)] {
        if addr != 0 {
            faulted |= uaccess::write(linux, addr, &value.to_le_bytes()).is_err();
        }
    }
    if faulted { Err(Errno::EFAULT) } else { Ok(0) }
}
