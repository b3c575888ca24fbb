//! Job control in the process tree (issue #5): which processes are stopped and what their
//! parents' waits may still report (`WUNTRACED`/`WCONTINUED`), the terminal's foreground
//! process group and the session it controls, orphaned process groups, and who is hung up
//! when a process exits. Linux's rules: `kernel/signal.c` (`do_notify_parent_cldstop`,
//! `wait_task_stopped`/`wait_task_continued` in `kernel/exit.c`), `drivers/tty/tty_jobctrl.c`
//! (`tiocspgrp`, `tiocsctty`, `__tty_check_change`) and `will_become_orphaned_pgrp`.
//!
//! SIGSTOP is carried out through the kernel by the process server (`Process::stop`), which
//! records it here ([`Tree::stop`]) and, at SIGCONT, the continue ([`Tree::cont`]); the other
//! stop signals, which a program may catch, are its personality's: it applies their default
//! action by reporting here and then waiting for SIGCONT, and says so again when it continues
//! (the server records the continue when SIGCONT is sent, so that report finds nothing left to
//! do). This module keeps the reports and answers the questions the personality asks before
//! reading the terminal or changing its foreground group ([`Tree::terminal`]). There is one terminal, the console; the first process
//! registered with init as its parent (the run's program) gets it as its session's
//! controlling terminal, as the Linux runner's `setsid` + `TIOCSCTTY` give it.

use alloc::vec::Vec;

use k42_linux::Errno;
use k42_linux::raw::general as g;

use crate::select::WaitOptions;
use crate::status::WaitStatus;
use crate::tree::{INIT_PID, Pid, State, Tree};

/// What a parent's wait may report about a child besides its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// It stopped with this signal.
    Stopped(u32),
    /// It continued after a stop.
    Continued,
}

/// A process's job-control state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Job {
    /// Stopped now.
    pub stopped: bool,
    /// Not yet reported to its parent's wait; a new stop or continue replaces the old report,
    /// as on Linux.
    pub report: Option<Report>,
}

impl Job {
    /// The status a wait with `options` reports, if any.
    pub fn reportable(self, options: WaitOptions) -> Option<WaitStatus> {
        match self.report? {
            Report::Stopped(signal) if options.stopped => Some(WaitStatus::stopped(signal)),
            Report::Continued if options.continued => Some(WaitStatus::CONTINUED),
            _ => None,
        }
    }
}

/// The terminal as a controlling terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terminal {
    /// The session it controls.
    pub sid: Pid,
    /// Its foreground process group.
    pub fg: Pid,
}

/// The terminal as one of its session's processes sees it ([`Tree::terminal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TerminalView {
    /// The foreground process group.
    pub fg: Pid,
    /// The session it controls.
    pub sid: Pid,
    /// The asking process's group.
    pub pgid: Pid,
    /// Whether that group is orphaned (a stop signal from the terminal would stop it with
    /// nobody left to continue it: Linux answers `EIO` instead).
    pub orphaned: bool,
}

impl TerminalView {
    /// Whether the asking process is in the background.
    pub fn background(self) -> bool {
        self.pgid != self.fg
    }
}

/// A job-control change to report to a parent: the child's pid and status, and the parent's
/// pid and badge (`None` when the parent is init, which never waits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    /// The child that stopped or continued.
    pub pid: Pid,
    /// Its report as a wait status.
    pub status: WaitStatus,
    /// Its parent, to notify.
    pub notify: Option<(Pid, u64)>,
}

impl Tree {
    /// The process `badge` stops with `signal`: its parent's waits with `WUNTRACED` report it
    /// once. `Ok(None)`, and no stop, for SIGTSTP, SIGTTIN or SIGTTOU in an orphaned group
    /// (Linux discards them at delivery: nobody would continue it), and for a process stopped
    /// already (a stop signal does not wake a stopped process on Linux, so nothing new is
    /// reported; SIGSTOP through the kernel reaches one a stop of its own personality holds).
    /// `ESRCH` if it is not running.
    pub fn stop(&mut self, badge: u64, signal: u32) -> Result<Option<Change>, Errno> {
        let me = self.by_badge(badge)?;
        let pgid = me.pgid;
        if me.job.stopped || (signal != g::SIGSTOP && self.orphaned(pgid, None)) {
            return Ok(None);
        }
        let me = self.by_badge_mut(badge)?;
        me.job = Job {
            stopped: true,
            report: Some(Report::Stopped(signal)),
        };
        Ok(Some(self.change(badge, WaitStatus::stopped(signal))))
    }

    /// The process `badge` continued after a stop: its parent's waits with `WCONTINUED` report
    /// it once. `Ok(None)` if it was not stopped (nothing to report).
    pub fn cont(&mut self, badge: u64) -> Result<Option<Change>, Errno> {
        let me = self.by_badge_mut(badge)?;
        if !me.job.stopped {
            return Ok(None);
        }
        me.job = Job {
            stopped: false,
            report: Some(Report::Continued),
        };
        Ok(Some(self.change(badge, WaitStatus::CONTINUED)))
    }

    fn change(&self, badge: u64, status: WaitStatus) -> Change {
        let me = self.by_badge(badge).ok();
        let pid = me.map_or(0, |p| p.pid);
        let parent = me.map_or(INIT_PID, |p| p.ppid);
        Change {
            pid,
            status,
            notify: self
                .procs
                .get(&parent)
                .and_then(|p| p.badge)
                .map(|b| (parent, b)),
        }
    }

    /// Whether process group `pgid` is orphaned, counting `leaving` as gone: no member (but
    /// `leaving`, and zombies) has a parent outside the group in the same session; a member
    /// whose parent is init does not count (Linux's `will_become_orphaned_pgrp`) — except the
    /// process that holds the terminal for the run ([`Tree::holds_terminal`]).
    pub fn orphaned(&self, pgid: Pid, leaving: Option<Pid>) -> bool {
        !self.procs.values().any(|p| {
            p.pgid == pgid
                && Some(p.pid) != leaving
                && p.state == State::Live
                && (self.holds_terminal(p)
                    || (p.ppid != INIT_PID
                        && self.procs.get(&p.ppid).is_some_and(|q| {
                            Some(q.pid) != leaving && q.pgid != pgid && q.sid == p.sid
                        })))
        })
    }

    /// Whether `p` is the run's program holding the terminal: init's child leading the
    /// session the terminal controls. It stands where the Linux runner's program stands, whose
    /// parent — the runner's session leader, which got the terminal with `TIOCSCTTY` and
    /// waits for it — is in its session but not its group: so its group is not orphaned, and
    /// a stop signal stops it (and its children in its group) as on Linux.
    fn holds_terminal(&self, p: &crate::tree::Proc) -> bool {
        p.ppid == INIT_PID && p.sid == p.pid && self.terminal.is_some_and(|t| t.sid == p.sid)
    }

    /// Badges of `pgid`'s running members.
    fn members(&self, pgid: Pid, except: Option<Pid>) -> impl Iterator<Item = u64> + '_ {
        self.procs
            .values()
            .filter(move |p| p.pgid == pgid && Some(p.pid) != except)
            .filter_map(|p| p.badge)
    }

    /// Who is hung up when `pid` exits (`Exited::hangup`): the groups — its own and its
    /// children's — that its exit orphans and that have a stopped member (Linux's
    /// `kill_orphaned_pgrp`); and, if it leads the session the terminal controls, the
    /// terminal's foreground group, the terminal then controlling no session.
    pub(crate) fn hangups_for_exit(&mut self, pid: Pid) -> Vec<u64> {
        let Some(me) = self.procs.get(&pid).cloned() else {
            return Vec::new();
        };
        let mut groups: Vec<Pid> = self
            .procs
            .values()
            .filter(|c| c.ppid == pid && c.sid == me.sid && c.pgid != me.pgid)
            .map(|c| c.pgid)
            .collect();
        groups.push(me.pgid);
        groups.sort_unstable();
        groups.dedup();
        let mut badges = Vec::new();
        for g in groups {
            let stopped = self
                .procs
                .values()
                .any(|p| p.pgid == g && p.pid != pid && p.state == State::Live && p.job.stopped);
            if stopped && !self.orphaned(g, None) && self.orphaned(g, Some(pid)) {
                badges.extend(self.members(g, Some(pid)));
            }
        }
        if let Some(t) = self.terminal.filter(|t| t.sid == pid) {
            self.terminal = None;
            badges.extend(self.members(t.fg, Some(pid)));
        }
        badges.sort_unstable();
        badges.dedup();
        badges
    }

    /// Gives the terminal to the session of a process registered as init's child if no session
    /// has it yet (module comment).
    pub(crate) fn give_terminal_if_free(&mut self, pid: Pid) {
        if self.terminal.is_none() {
            self.terminal = Some(Terminal { sid: pid, fg: pid });
        }
    }

    /// The terminal as the process `badge` sees it: `ENOTTY` unless it is its session's
    /// controlling terminal (what `tcgetpgrp`, `TIOCGSID` and the background checks of reads
    /// and `tcsetpgrp` need).
    pub fn terminal(&self, badge: u64) -> Result<TerminalView, Errno> {
        let me = self.by_badge(badge)?;
        let t = self
            .terminal
            .filter(|t| t.sid == me.sid)
            .ok_or(Errno::ENOTTY)?;
        Ok(TerminalView {
            fg: t.fg,
            sid: t.sid,
            pgid: me.pgid,
            orphaned: self.orphaned(me.pgid, None),
        })
    }

    /// `tcsetpgrp`: the terminal's foreground group becomes `pgrp` (a pid_t, sign-extended).
    /// `EINVAL` for a negative one, `ENOTTY` unless the terminal is the caller's controlling
    /// terminal, `ESRCH` if no process uses `pgrp` as its pid or group, `EPERM` if that group
    /// (or process, when no group has the id) is in another session (Linux's `tiocspgrp`; the
    /// background check comes first, in the caller).
    pub fn set_foreground(&mut self, badge: u64, pgrp: i64) -> Result<(), Errno> {
        let pgrp = Pid::try_from(pgrp).map_err(|_| Errno::EINVAL)?;
        let sid = self.terminal(badge)?.sid;
        let session_of = self
            .procs
            .values()
            .find(|p| p.pgid == pgrp && p.state == State::Live)
            .or_else(|| self.procs.get(&pgrp))
            .map(|p| p.sid)
            .ok_or(Errno::ESRCH)?;
        if session_of != sid {
            return Err(Errno::EPERM);
        }
        if let Some(t) = self.terminal.as_mut() {
            t.fg = pgrp;
        }
        Ok(())
    }

    /// `TIOCSCTTY`: the caller, a session leader whose session has no controlling terminal,
    /// makes the terminal its session's, with its group in the foreground. Already its own:
    /// nothing to do. `EPERM` if the caller leads no session, or the terminal is another
    /// session's and `steal` (root's `TIOCSCTTY` with argument 1: the caller decides who is
    /// root) is false.
    pub fn acquire_terminal(&mut self, badge: u64, steal: bool) -> Result<(), Errno> {
        let me = self.by_badge(badge)?.clone();
        if me.sid != me.pid {
            return Err(Errno::EPERM);
        }
        if self.terminal.is_some_and(|t| t.sid == me.sid) {
            return Ok(());
        }
        if self.terminal.is_some() && !steal {
            return Err(Errno::EPERM);
        }
        self.terminal = Some(Terminal {
            sid: me.sid,
            fg: me.pgid,
        });
        Ok(())
    }

    /// Badges of the foreground group's running members, for a signal the terminal's input
    /// raised (^C, ^\, ^Z); none when the terminal controls no session.
    pub fn foreground(&self) -> Vec<u64> {
        match self.terminal {
            Some(t) => self.members(t.fg, None).collect(),
            None => Vec::new(),
        }
    }

    /// Whether the running process `pid` is stopped (for tests and `/proc` one day).
    pub fn is_stopped(&self, pid: Pid) -> bool {
        self.procs.get(&pid).is_some_and(|p| p.job.stopped)
    }
}
