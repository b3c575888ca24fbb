//! Scheduling parameters in the tree: each process's nice value, policy and CPU affinity
//! (`k42_linux::sched::Params`, whose rules these calls apply), found by pid, thread id,
//! process group or user as Linux's `getpriority`/`setpriority` (`kernel/sys.c`) and the
//! `sched_*` calls (`kernel/sched/core.c`) find them, with their permission checks: changing
//! another process's needs the caller's effective uid to be its real or effective uid, or
//! root (`set_one_prio_perm`, `check_same_owner`: `EPERM`).
//!
//! A fork child's are its parent's with `SCHED_RESET_ON_FORK` applied (`tree.rs`); an exec
//! keeps them. Linux keeps them per thread; here a thread id names its process's.

use k42_linux::Errno;
use k42_linux::raw::general as g;
use k42_linux::sched::{self, Allowance, Params};

use crate::tree::{Pid, Proc, Tree};

/// What an unprivileged caller may do: `RLIMIT_NICE` and `RLIMIT_RTPRIO` at Linux's defaults
/// for every process (0). A process's limits are its personality's, which the server does not
/// see, and it cannot trust a caller's word for them; so a raised limit is not honoured here.
const UNPRIVILEGED: Allowance = Allowance {
    privileged: false,
    rlimit_nice: 0,
    rlimit_rtprio: 0,
};

impl Tree {
    /// The caller's allowance: root's, or [`UNPRIVILEGED`].
    fn allowance(&self, badge: u64) -> Result<Allowance, Errno> {
        let privileged = self.by_badge(badge)?.creds.euid == 0;
        Ok(Allowance {
            privileged,
            ..UNPRIVILEGED
        })
    }

    /// The process a `sched_*` call's `pid` names (`find_process_by_pid`): 0 the caller, a
    /// process (running or a zombie), or a thread id (its process). `ESRCH` for none.
    fn sched_target(&self, badge: u64, pid: Pid) -> Result<Pid, Errno> {
        let caller = self.by_badge(badge)?.pid;
        if pid == 0 {
            return Ok(caller);
        }
        if self.procs.contains_key(&pid) {
            return Ok(pid);
        }
        self.thread_owner(pid).ok_or(Errno::ESRCH)
    }

    /// The processes `getpriority`/`setpriority`'s `which` and `who` (C ints) name: a process
    /// or thread (`PRIO_PROCESS`, 0: the caller), a process group (`PRIO_PGRP`, 0: the
    /// caller's), or a real user's processes (`PRIO_USER`, 0: the caller's real uid).
    /// `EINVAL` for another `which`; empty when none matches.
    fn prio_targets(
        &self,
        badge: u64,
        which: u32,
        who: u32,
    ) -> Result<alloc::vec::Vec<Pid>, Errno> {
        let me = self.by_badge(badge)?;
        let who = u64::from(who);
        Ok(match which {
            g::PRIO_PROCESS => self.sched_target(badge, who).into_iter().collect(),
            g::PRIO_PGRP => {
                let pgid = if who == 0 { me.pgid } else { who };
                self.procs_where(|p| p.pgid == pgid)
            }
            g::PRIO_USER => {
                let uid = if who == 0 {
                    u64::from(me.creds.uid)
                } else {
                    who
                };
                self.procs_where(|p| u64::from(p.creds.uid) == uid)
            }
            _ => return Err(Errno::EINVAL),
        })
    }

    fn procs_where(&self, f: impl Fn(&Proc) -> bool) -> alloc::vec::Vec<Pid> {
        self.procs
            .values()
            .filter(|p| f(p))
            .map(|p| p.pid)
            .collect()
    }

    /// Whether the caller may change process `pid`'s scheduling: root, or its effective uid is
    /// the target's real or effective uid.
    fn may_reschedule(&self, badge: u64, pid: Pid) -> Result<bool, Errno> {
        let caller = self.by_badge(badge)?.creds;
        let target = self.procs.get(&pid).ok_or(Errno::ESRCH)?.creds;
        Ok(caller.euid == 0 || caller.euid == target.uid || caller.euid == target.euid)
    }

    fn params_mut(&mut self, pid: Pid) -> Result<&mut Params, Errno> {
        Ok(&mut self.procs.get_mut(&pid).ok_or(Errno::ESRCH)?.sched)
    }

    /// `getpriority(which, who)`: 20 minus the lowest nice value among the processes named
    /// (what the syscall returns), `ESRCH` if none.
    pub fn getpriority(&self, badge: u64, which: u32, who: u32) -> Result<u64, Errno> {
        self.prio_targets(badge, which, who)?
            .iter()
            .filter_map(|pid| self.procs.get(pid))
            .map(|p| sched::nice_to_rlimit(p.sched.nice))
            .max()
            .ok_or(Errno::ESRCH)
    }

    /// `setpriority(which, who, nice)` (`nice` clamped already): each process named is set if
    /// the caller may (`EPERM`) and, for a lower value, can (`EACCES`), as Linux's loop does —
    /// the answer is `ESRCH` if none is named, else the last refusal, else success.
    pub fn setpriority(
        &mut self,
        badge: u64,
        which: u32,
        who: u32,
        nice: i32,
    ) -> Result<(), Errno> {
        let allowed = self.allowance(badge)?;
        let mut answer = Err(Errno::ESRCH);
        for pid in self.prio_targets(badge, which, who)? {
            let done = if self.may_reschedule(badge, pid)? {
                self.params_mut(pid)?.set_nice(nice, allowed)
            } else {
                Err(Errno::EPERM)
            };
            match done {
                Err(e) => answer = Err(e),
                Ok(()) if answer == Err(Errno::ESRCH) => answer = Ok(()),
                Ok(()) => {}
            }
        }
        answer
    }

    /// The scheduling parameters of the process `pid` names (`sched_getscheduler`,
    /// `sched_getparam`, `sched_getaffinity`); anyone may read them.
    pub fn sched_params(&self, badge: u64, pid: Pid) -> Result<Params, Errno> {
        let target = self.sched_target(badge, pid)?;
        Ok(self.procs.get(&target).ok_or(Errno::ESRCH)?.sched)
    }

    /// `sched_setscheduler` (`policy` given) or `sched_setparam` (`None`) on the process
    /// `pid` names: `ESRCH`, then the request's `EINVAL` (`Params::requested`), then `EPERM`
    /// unless the caller may change it, then `Params::set_scheduler`'s limits — Linux's
    /// order.
    pub fn set_scheduler(
        &mut self,
        badge: u64,
        pid: Pid,
        policy: Option<i32>,
        priority: i32,
    ) -> Result<(), Errno> {
        let allowed = self.allowance(badge)?;
        let target = self.sched_target(badge, pid)?;
        self.params_mut(target)?.requested(policy, priority)?;
        if !self.may_reschedule(badge, target)? {
            return Err(Errno::EPERM);
        }
        self.params_mut(target)?
            .set_scheduler(policy, priority, allowed)
    }

    /// `sched_setaffinity` on the process `pid` names, with the first word of the mask the
    /// caller read (`mask`) and `cpus` CPUs: `ESRCH`, `EPERM`, then `EINVAL` if it names none
    /// of them (`k42_linux::sched::new_affinity`).
    pub fn set_affinity(
        &mut self,
        badge: u64,
        pid: Pid,
        mask: u64,
        cpus: u32,
    ) -> Result<(), Errno> {
        let target = self.sched_target(badge, pid)?;
        if !self.may_reschedule(badge, target)? {
            return Err(Errno::EPERM);
        }
        let mask = sched::new_affinity(&mask.to_le_bytes(), cpus)?;
        self.params_mut(target)?.affinity = Some(mask);
        Ok(())
    }
}
