//! Whom `kill(2)` reaches: the processes a pid argument selects and which of them the caller
//! may signal, with Linux's errors (`kernel/signal.c`: `kill_something_info`,
//! `kill_ok_by_cred`). The process server (`user/bin/procs`) sends each permitted running
//! target its signal; the personality validates the signal number before asking.

use alloc::vec::Vec;

use k42_linux::Errno;
use k42_linux::raw::general as g;

use crate::creds::Creds;
use crate::tree::{INIT_PID, Pid, State, Tree};

/// init's credentials: root's.
const INIT_CREDS: Creds = Creds::new(0, 0);

/// One process a kill reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its pid.
    pub pid: Pid,
    /// Its badge while it runs (`None`: a zombie, which a signal no longer changes, or init).
    pub badge: Option<u64>,
}

/// Whether a process with `sender`'s credentials may signal one with `target`'s: root
/// (`CAP_KILL`: `crate::creds`), or a real or effective user id equal to the target's real or
/// saved one (Linux's `kill_ok_by_cred`; the target's effective id does not count, so a
/// process that took a user's effective id cannot be signalled by that user).
pub fn may_signal(sender: Creds, target: Creds) -> bool {
    sender.privileged()
        || sender.euid == target.suid
        || sender.euid == target.uid
        || sender.uid == target.suid
        || sender.uid == target.uid
}

impl Tree {
    /// The processes `kill(pid, sig)` from the process `badge` reaches: `pid` > 0 that
    /// process, 0 the caller's group, -1 every process but init and the caller, < -1 the group
    /// `-pid`; a pid of 1, init. Of those, the caller may signal itself, those [`may_signal`] allows, and, with
    /// SIGCONT, any of its own session (Linux's `check_kill_permission`). `ESRCH` when none is
    /// selected, `EPERM` when some are but the caller may signal none.
    pub fn kill_targets(&self, badge: u64, pid: i64, sig: u32) -> Result<Vec<Target>, Errno> {
        let caller = self.by_badge(badge)?;
        let (me, creds, own_group, own_session) =
            (caller.pid, caller.creds, caller.pgid, caller.sid);
        let allowed = |p: &crate::tree::Proc| {
            p.pid == me || may_signal(creds, p.creds) || (sig == g::SIGCONT && p.sid == own_session)
        };
        // A thread's id names its process, as Linux's `kill` finds a thread's group.
        let pid = match u64::try_from(pid)
            .ok()
            .and_then(|tid| self.thread_owner(tid))
        {
            Some(owner) => owner as i64,
            None => pid,
        };
        let selected = |p: &&crate::tree::Proc| match pid {
            0 => p.pgid == own_group,
            -1 => p.pid != me && p.pid != INIT_PID,
            // `i64::MIN` names no group.
            n if n < -1 => n.checked_neg().is_some_and(|g| p.pgid == g as Pid),
            n => p.pid == n as Pid,
        };
        let mut found = false;
        let mut targets = Vec::new();
        // init is no entry (the bootstrap plays it, as root): it exists for a kill of its pid,
        // and is reached by whoever may signal root, with nothing to deliver (Linux's init
        // ignores a signal it has no handler for; the bootstrap has none).
        if pid == INIT_PID as i64 {
            found = true;
            if may_signal(creds, INIT_CREDS) {
                targets.push(Target {
                    pid: INIT_PID,
                    badge: None,
                });
            }
        }
        for p in self.iter().filter(selected) {
            found = true;
            if allowed(p) {
                targets.push(Target {
                    pid: p.pid,
                    badge: match p.state {
                        State::Live => p.badge,
                        State::Zombie(_) => None,
                    },
                });
            }
        }
        match (found, targets.is_empty()) {
            (false, _) => Err(Errno::ESRCH),
            (true, true) => Err(Errno::EPERM),
            (true, false) => Ok(targets),
        }
    }
}
