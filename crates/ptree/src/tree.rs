//! The process tree itself: every Linux process the process server knows, by pid, with its
//! parent, group, session, credentials, umask, scheduling parameters and whether it is still
//! running or a zombie holding its wait status; and the K42 badge of each running one, through
//! which the server finds the caller. The rules are Linux's (`kernel/fork.c`, `kernel/exit.c`,
//! `kernel/sys.c`), with one simplification: init (pid 1) is not an entry — the bootstrap plays
//! it, never waits, and so reaps every child of its own at once (an exiting process's children
//! and zombies become init's).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use k42_linux::Errno;

use crate::creds::Creds;
use crate::job::{Job, Terminal};
use crate::select::{Selector, WaitOptions};
use crate::status::WaitStatus;

/// A Linux process id.
pub type Pid = u64;
/// init's pid: the parent of the first processes and of every orphan.
pub const INIT_PID: Pid = 1;
/// The first pid given out (init's is taken).
pub const FIRST_PID: Pid = 2;
/// Pids wrap after this one (Linux's `PID_MAX_LIMIT` on 64-bit machines, 4 Mi).
pub const PID_MAX: Pid = 4 * 1024 * 1024;
/// The umask a process registered by the spawner starts with (Linux's default for init).
pub const DEFAULT_UMASK: u64 = 0o022;
/// The permission bits a umask holds.
const UMASK_BITS: u64 = 0o777;

/// Whether a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Running (has a badge).
    Live,
    /// Ended, waiting for its parent to collect this status.
    Zombie(WaitStatus),
}

/// One Linux process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    /// Its pid.
    pub pid: Pid,
    /// Its parent's ([`INIT_PID`] once orphaned).
    pub ppid: Pid,
    /// Its process group.
    pub pgid: Pid,
    /// Its session.
    pub sid: Pid,
    /// Its credentials.
    pub creds: Creds,
    /// Its supplementary groups, sorted (`crate::creds::setgroups`); none for a process the
    /// spawner registers, as for init's children on Linux; a fork child's are its parent's.
    pub groups: Vec<u32>,
    /// Its file mode creation mask.
    pub umask: u64,
    /// Running or a zombie.
    pub state: State,
    /// The K42 process it is (the badge its calls carry), while it runs.
    pub badge: Option<u64>,
    /// Its job-control state: stopped or not, and what a wait may still report
    /// (`crate::job`).
    pub job: Job,
    /// Its name as `/proc` shows it (`crate::procfs`): the base name of the file it executed,
    /// as the process said at start and at each exec; a fork child's is its parent's.
    pub comm: Vec<u8>,
    /// Its command line for `/proc` (each argument with its NUL); empty once it is a zombie.
    pub cmdline: Vec<u8>,
    /// When it started, in nanoseconds since boot (`Tree::started`).
    pub start_ns: u64,
    /// Its nice value, policy and CPU affinity (`crate::sched`).
    pub sched: k42_linux::sched::Params,
    /// Its CPU time (ns) at its end, its collected children's included ([`Tree::set_cpu_ns`]):
    /// what a wait hands its parent. 0 until then.
    pub cpu_ns: u64,
    /// The CPU time its waits have collected from its children (their `cpu_ns`).
    pub children_cpu_ns: u64,
}

/// What an exit did, for the server to act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exited {
    /// The exiting process's pid.
    pub pid: Pid,
    /// Its parent, to notify: the parent's pid and badge; `None` when the parent is init (the
    /// process was reaped at once).
    pub notify: Option<(Pid, u64)>,
    /// Its children, now init's.
    pub orphans: Vec<Pid>,
    /// Badges of running processes to send SIGHUP and then SIGCONT: the members of process
    /// groups this exit orphaned that have a stopped member, and the terminal's foreground
    /// group when a session leader that held the terminal exits (`crate::job`).
    pub hangup: Vec<u64>,
}

/// The process tree (module comment).
#[derive(Clone, Debug)]
pub struct Tree {
    pub(crate) procs: BTreeMap<Pid, Proc>,
    pub(crate) by_badge: BTreeMap<u64, Pid>,
    /// Where the search for the next free pid starts.
    pub(crate) next_pid: Pid,
    /// The highest pid given out.
    pid_max: Pid,
    /// How many pids (of processes and threads) were given out since boot: `/proc/stat`'s
    /// `processes` (`crate::procsys`).
    pub(crate) given: u64,
    /// The terminal (the console) as a controlling terminal: whose it is and its foreground
    /// group (`crate::job`).
    pub(crate) terminal: Option<Terminal>,
    /// Thread ids other than processes' own, with the pid of the process each is a thread of
    /// (`crate::threads`).
    pub(crate) threads: BTreeMap<Pid, Pid>,
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl Tree {
    /// An empty tree (only init, implicitly).
    pub const fn new() -> Self {
        Self::with_pid_max(PID_MAX)
    }

    /// An empty tree whose pids wrap after `pid_max` (small in tests).
    pub const fn with_pid_max(pid_max: Pid) -> Self {
        Self {
            procs: BTreeMap::new(),
            by_badge: BTreeMap::new(),
            next_pid: FIRST_PID,
            pid_max,
            given: 0,
            terminal: None,
            threads: BTreeMap::new(),
        }
    }

    /// The process `pid`, running or a zombie.
    pub fn get(&self, pid: Pid) -> Option<&Proc> {
        self.procs.get(&pid)
    }

    /// The running process whose calls carry `badge` (`ESRCH` for a badge not registered, or
    /// one whose process exited).
    pub fn by_badge(&self, badge: u64) -> Result<&Proc, Errno> {
        self.by_badge
            .get(&badge)
            .and_then(|pid| self.procs.get(pid))
            .ok_or(Errno::ESRCH)
    }

    pub(crate) fn by_badge_mut(&mut self, badge: u64) -> Result<&mut Proc, Errno> {
        let pid = *self.by_badge.get(&badge).ok_or(Errno::ESRCH)?;
        self.procs.get_mut(&pid).ok_or(Errno::ESRCH)
    }

    /// Running processes (what `sysinfo` counts, with init).
    pub fn live(&self) -> usize {
        self.by_badge.len()
    }

    /// Every process, running or a zombie, by pid.
    pub fn iter(&self) -> impl Iterator<Item = &Proc> {
        self.procs.values()
    }

    /// A free pid: one no process uses as its pid, group or session, nor a thread as its id
    /// (Linux does not hand out a
    /// pid whose group or session lives on), searching up from the last one and wrapping after
    /// `pid_max` (`EAGAIN` when every one is taken).
    pub(crate) fn alloc_pid(&mut self) -> Result<Pid, Errno> {
        let span = self.pid_max.saturating_sub(FIRST_PID) + 1;
        let mut pid = self.next_pid;
        for _ in 0..span {
            if pid > self.pid_max {
                pid = FIRST_PID;
            }
            let used = self.procs.contains_key(&pid)
                || self.threads.contains_key(&pid)
                || self.procs.values().any(|p| p.pgid == pid || p.sid == pid);
            if !used {
                self.next_pid = pid + 1;
                self.given += 1;
                return Ok(pid);
            }
            pid += 1;
        }
        Err(Errno::EAGAIN)
    }

    /// The spawner registers the K42 process `badge` as a child of `parent` (init, or a running
    /// process) with `creds`: it leads a new group and session, as init's children do, with
    /// the default umask. `EEXIST` if `badge` runs already, `ESRCH` for an unknown parent.
    pub fn register(&mut self, badge: u64, parent: Pid, creds: Creds) -> Result<Pid, Errno> {
        if self.by_badge.contains_key(&badge) {
            return Err(Errno::EEXIST);
        }
        let parent_runs = self
            .procs
            .get(&parent)
            .is_some_and(|p| p.state == State::Live);
        if parent != INIT_PID && !parent_runs {
            return Err(Errno::ESRCH);
        }
        let pid = self.alloc_pid()?;
        self.insert(Proc {
            pid,
            ppid: parent,
            pgid: pid,
            sid: pid,
            creds,
            groups: Vec::new(),
            umask: DEFAULT_UMASK,
            state: State::Live,
            badge: Some(badge),
            job: Job::default(),
            comm: Vec::new(),
            cmdline: Vec::new(),
            start_ns: 0,
            sched: k42_linux::sched::Params::default(),
            cpu_ns: 0,
            children_cpu_ns: 0,
        });
        if parent == INIT_PID {
            self.give_terminal_if_free(pid);
        }
        Ok(pid)
    }

    fn insert(&mut self, proc: Proc) {
        if let Some(badge) = proc.badge {
            self.by_badge.insert(badge, proc.pid);
        }
        self.procs.insert(proc.pid, proc);
    }

    /// `fork`: the process `parent_badge` gets the K42 process `child_badge` as its child, with
    /// its group, session, credentials, umask and scheduling parameters (`SCHED_RESET_ON_FORK`
    /// applied). Returns the child's pid. `EINVAL` if the two
    /// are the same process, `EBUSY` if `child_badge` is registered already (it runs as a Linux
    /// process: a second fork cannot claim it), `ESRCH` if the parent is not registered.
    pub fn fork(&mut self, parent_badge: u64, child_badge: u64) -> Result<Pid, Errno> {
        if parent_badge == child_badge {
            return Err(Errno::EINVAL);
        }
        let parent = self.by_badge(parent_badge)?.clone();
        if self.by_badge.contains_key(&child_badge) {
            return Err(Errno::EBUSY);
        }
        let pid = self.alloc_pid()?;
        self.insert(Proc {
            pid,
            ppid: parent.pid,
            state: State::Live,
            badge: Some(child_badge),
            job: Job::default(),
            sched: parent.sched.forked(),
            cpu_ns: 0,
            children_cpu_ns: 0,
            ..parent
        });
        Ok(pid)
    }

    /// Undoes a [`Tree::fork`] that could not be completed (the server could not give the
    /// child a handle): the child `badge`, which must have no children, is dropped without a
    /// trace. `ESRCH` if it is not running, `EBUSY` if it has children.
    pub fn forget(&mut self, badge: u64) -> Result<(), Errno> {
        let pid = self.by_badge(badge)?.pid;
        if self.procs.values().any(|p| p.ppid == pid) {
            return Err(Errno::EBUSY);
        }
        self.by_badge.remove(&badge);
        self.procs.remove(&pid);
        Ok(())
    }

    /// Undoes the fork of `child_badge` (pid `child_pid`) by its parent `parent_badge` when
    /// the kernel could not make the child: [`Tree::forget`] while it runs, or the removal of
    /// its zombie if its end was recorded first. `ESRCH` unless it is the caller's own child.
    pub fn forget_child(
        &mut self,
        parent_badge: u64,
        child_badge: u64,
        child_pid: Pid,
    ) -> Result<(), Errno> {
        let parent = self.by_badge(parent_badge)?.pid;
        let child = self.procs.get(&child_pid).ok_or(Errno::ESRCH)?;
        if child.ppid != parent {
            return Err(Errno::ESRCH);
        }
        match child.state {
            State::Zombie(_) if !self.procs.values().any(|p| p.ppid == child_pid) => {
                self.procs.remove(&child_pid);
                Ok(())
            }
            State::Zombie(_) => Err(Errno::EBUSY),
            State::Live if child.badge == Some(child_badge) => self.forget(child_badge),
            State::Live => Err(Errno::ESRCH),
        }
    }

    /// The process `badge` ends with `status`: it becomes a zombie for its parent to collect,
    /// or is gone at once when its parent is init; its children become init's, and those of
    /// them that are zombies are reaped (init collects them). Its badge is forgotten (the K42
    /// process id may be used again). `ESRCH` if it is not running.
    pub fn exit(&mut self, badge: u64, status: WaitStatus) -> Result<Exited, Errno> {
        let pid = self.by_badge(badge)?.pid;
        let hangup = self.hangups_for_exit(pid);
        self.by_badge.remove(&badge);
        // Its threads end with it.
        self.threads.retain(|_, owner| *owner != pid);
        let mut orphans = Vec::new();
        let mut reaped = Vec::new();
        for child in self.procs.values_mut().filter(|p| p.ppid == pid) {
            child.ppid = INIT_PID;
            orphans.push(child.pid);
            if matches!(child.state, State::Zombie(_)) {
                reaped.push(child.pid);
            }
        }
        for child in reaped {
            self.procs.remove(&child);
        }
        let Some(me) = self.procs.get_mut(&pid) else {
            return Err(Errno::ESRCH);
        };
        me.badge = None;
        // One killed before it could say its CPU time (`Tree::set_cpu_ns`) still hands on its
        // collected children's.
        me.cpu_ns = me.cpu_ns.max(me.children_cpu_ns);
        // A dead process is neither stopped nor has a stop or continue to report.
        me.job = Job::default();
        // Nor memory, where its command line was (Linux's zombies show an empty one).
        me.cmdline = Vec::new();
        let parent = me.ppid;
        let notify = if parent == INIT_PID {
            self.procs.remove(&pid);
            None
        } else {
            me.state = State::Zombie(status);
            self.procs
                .get(&parent)
                .and_then(|p| p.badge)
                .map(|badge| (parent, badge))
        };
        Ok(Exited {
            pid,
            notify,
            orphans,
            hangup,
        })
    }

    /// `wait` for the process `badge`: the first (lowest-pid) child `selector` matches that
    /// has something `options` ask for — it ended (`exited`), or stopped or continued since
    /// its last report (`stopped`, `continued`: `crate::job`) — with its status. An ended
    /// child is reaped and a report consumed unless `nowait`. `Ok(None)` when children match
    /// but none is reportable (the caller waits for a notification, or answers 0 under
    /// `WNOHANG`); `ECHILD` when no child matches.
    pub fn wait(
        &mut self,
        badge: u64,
        selector: Selector,
        options: WaitOptions,
    ) -> Result<Option<(Pid, WaitStatus)>, Errno> {
        let found = self.wait_with_uid(badge, selector, options)?;
        Ok(found.map(|(pid, status, ..)| (pid, status)))
    }

    /// The running process `badge` says, as it ends at `now_ns` (since boot) on a machine of
    /// `cpus` CPUs, that it had `own_ns` of CPU time. Its word is not trusted past what it
    /// could have had — all of every CPU since it started — and the time of the children its
    /// waits collected is added from the tree's own record: its parent's wait hands the sum on.
    pub fn set_cpu_ns(
        &mut self,
        badge: u64,
        own_ns: u64,
        now_ns: u64,
        cpus: u32,
    ) -> Result<(), Errno> {
        let me = self.by_badge_mut(badge)?;
        let most = now_ns
            .saturating_sub(me.start_ns)
            .saturating_mul(u64::from(cpus.max(1)));
        me.cpu_ns = own_ns.min(most).saturating_add(me.children_cpu_ns);
        Ok(())
    }

    /// [`Tree::wait`], with the child's real uid (`waitid`'s `si_uid`) and, for an ended child,
    /// its CPU time ([`Tree::set_cpu_ns`]; 0 for a stop or continue) beside its status.
    pub fn wait_with_uid(
        &mut self,
        badge: u64,
        selector: Selector,
        options: WaitOptions,
    ) -> Result<Option<(Pid, WaitStatus, u32, u64)>, Errno> {
        let me = self.by_badge(badge)?;
        let (pid, pgid) = (me.pid, me.pgid);
        let mut matched = false;
        let mut found = None;
        for child in self.procs.values().filter(|p| p.ppid == pid) {
            if !selector.matches(child.pid, child.pgid, pgid) {
                continue;
            }
            matched = true;
            if let (State::Zombie(status), true) = (child.state, options.exited) {
                found = Some((child.pid, status, child.creds.uid, child.cpu_ns, true));
                break;
            }
            if let Some(status) = child.job.reportable(options) {
                found = Some((child.pid, status, child.creds.uid, 0, false));
                break;
            }
        }
        if !matched {
            return Err(Errno::ECHILD);
        }
        match found {
            Some((child, _, _, cpu_ns, true)) if !options.nowait => {
                self.procs.remove(&child);
                if let Some(me) = self.procs.get_mut(&pid) {
                    me.children_cpu_ns = me.children_cpu_ns.saturating_add(cpu_ns);
                }
            }
            Some((child, .., false)) if !options.nowait => {
                if let Some(c) = self.procs.get_mut(&child) {
                    c.job.report = None;
                }
            }
            _ => {}
        }
        Ok(found.map(|(child, status, uid, cpu_ns, _)| (child, status, uid, cpu_ns)))
    }

    /// The caller's umask; replaced by `new` (its permission bits) when `set`.
    pub fn umask(&mut self, badge: u64, new: Option<u64>) -> Result<u64, Errno> {
        let me = self.by_badge_mut(badge)?;
        let old = me.umask;
        if let Some(new) = new {
            me.umask = new & UMASK_BITS;
        }
        Ok(old)
    }

    /// The process a `pid` argument names for the caller: 0 is the caller itself.
    pub(crate) fn named(&self, badge: u64, pid: Pid) -> Result<&Proc, Errno> {
        match pid {
            0 => self.by_badge(badge),
            pid => self.procs.get(&pid).ok_or(Errno::ESRCH),
        }
    }

    /// `getpgid(pid)`: the group of `pid` (0: the caller), zombies included (`ESRCH` for no
    /// such process).
    pub fn getpgid(&self, badge: u64, pid: Pid) -> Result<Pid, Errno> {
        self.by_badge(badge)?;
        Ok(self.named(badge, pid)?.pgid)
    }

    /// `getsid(pid)`, as [`Tree::getpgid`].
    pub fn getsid(&self, badge: u64, pid: Pid) -> Result<Pid, Errno> {
        self.by_badge(badge)?;
        Ok(self.named(badge, pid)?.sid)
    }

    /// `setsid()`: the caller leads a new session and group named by its pid. `EPERM` if a
    /// group with that id exists (the caller leads one, or a process still in the group it
    /// once led lives on). Returns the new session id.
    pub fn setsid(&mut self, badge: u64) -> Result<Pid, Errno> {
        let pid = self.by_badge(badge)?.pid;
        if self.procs.values().any(|p| p.pgid == pid) {
            return Err(Errno::EPERM);
        }
        let me = self.by_badge_mut(badge)?;
        me.sid = pid;
        me.pgid = pid;
        Ok(pid)
    }

    /// `setpgid(pid, pgid)` for the caller (`kernel/sys.c`): `pid` 0 is the caller, `pgid` 0 is
    /// `pid`. The target must be the caller or a running child of it (`ESRCH`); a child must
    /// be in the caller's session (`EPERM`); a session leader cannot move (`EPERM`); and the
    /// group must be the target's own or one that exists in the caller's session (`EPERM`).
    /// A negative `pgid` is `EINVAL` (the personality passes pid_t values sign-extended).
    pub fn setpgid(&mut self, badge: u64, pid: i64, pgid: i64) -> Result<(), Errno> {
        let pgid = Pid::try_from(pgid).map_err(|_| Errno::EINVAL)?;
        let pid = Pid::try_from(pid).map_err(|_| Errno::ESRCH)?;
        let me = self.by_badge(badge)?.clone();
        let target_pid = if pid == 0 { me.pid } else { pid };
        let target = self.procs.get(&target_pid).ok_or(Errno::ESRCH)?;
        if target.pid != me.pid {
            if target.ppid != me.pid || target.state != State::Live {
                return Err(Errno::ESRCH);
            }
            if target.sid != me.sid {
                return Err(Errno::EPERM);
            }
        }
        if target.sid == target.pid {
            return Err(Errno::EPERM);
        }
        let pgid = if pgid == 0 { target.pid } else { pgid };
        if pgid != target.pid
            && !self
                .procs
                .values()
                .any(|p| p.pgid == pgid && p.sid == me.sid)
        {
            return Err(Errno::EPERM);
        }
        if let Some(target) = self.procs.get_mut(&target_pid) {
            target.pgid = pgid;
        }
        Ok(())
    }
}
