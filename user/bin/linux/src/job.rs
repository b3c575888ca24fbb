//! Job control in the personality (issue #5): stopping this process, continuing it, and the
//! background checks a terminal call makes. The tree's side — who is stopped, what a parent's
//! wait reports, the terminal's foreground group, orphaned groups — is the process server's
//! (`k42_ptree::job`); signal delivery (`signals.rs`) calls [`stop`] when a stop signal's
//! default action applies, and the console's calls (`calls/io.rs`) call [`check`].
//!
//! **SIGSTOP is the kernel's.** It cannot be caught, blocked or ignored, so the process server
//! carries it out through the kernel (`Process::stop`), wherever the process is — in program
//! code, in the personality, in a PPC — and records it for the parent; SIGCONT continues it
//! the same way (`Process::cont`) before its message is taken here (handlers, `continued`).
//! The kernel keeps every register, so whatever was running goes on as after a long
//! preemption: a PPC in flight has its reply, a wait its messages (soft interrupts stay
//! pending), a timer that expired meanwhile fires. Only a SIGSTOP this process raised on
//! itself reaches [`stop`], which hands it to the process server too (a process whose server
//! holds no kernel handle on it stops itself, as below).
//!
//! **The other stops are this process's own**: SIGTSTP, SIGTTIN and SIGTTOU can be caught, so
//! their default action is the personality's. K42 has no kernel wait queue to park a process
//! on: the personality tells the process server it stopped (which tells the parent), then its
//! thread sleeps on the dispatcher's message ring, absorbing what arrives, until a SIGCONT has
//! been generated (`k42_linux::signal::State::continued`, set whatever SIGCONT's action and
//! mask) or SIGKILL is pending; then it says it continued (the server, which sent the SIGCONT,
//! has recorded that already) and delivery goes on. The program's code
//! does not run meanwhile: it runs only when this thread returns to it. The stop drops every
//! message that is not a signal (a pipe's or the console's wake-up, a child's end), so a
//! blocking call that was waiting when it stopped looks again afterwards: its wait answers as
//! if the message it waited for had come (`signals::wait`), and every caller asks its server
//! again before it sleeps — a console read also makes its background check again, so a job
//! continued in the background that reads the terminal gets SIGTTIN, as on Linux.
//!
//! **Every thread stops.** While one thread sleeps in [`stop`], the process is marked stopped
//! and the others are woken (`inbox::kick`); each waits in [`wait_while_stopped`] at its next
//! checkpoint (`threads::checkpoint`: before the program continues, at the top of every
//! wait), so no program code runs until the process is continued.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use k42_ifaces::procs::KILL_CARRIED_OUT;
use k42_linux::Errno;
use k42_linux::raw::general as g;
use k42_linux::signal::{self as sig, SIG_IGN};
use k42_ptree::TerminalView;

use k42_rt::{clock, log};

use crate::inbox::{self, Next};
use crate::procs::{client, errno};
use crate::signals;
use crate::state::Linux;

/// Applies the default action of the stop signal `signo` (module comment). Returns at once
/// when the process server says not to stop (SIGTSTP, SIGTTIN or SIGTTOU in an orphaned
/// group) or there is none to tell. True if the process stopped (and is continued now).
pub fn stop(linux: &Linux, signo: u32) -> bool {
    let Some(mut procs) = client(linux) else {
        log!("linux: signal {signo} would stop a process without a process server; ignored");
        return false;
    };
    if signo == g::SIGSTOP {
        // SIGSTOP is the kernel's to carry out (module comment): one this process raised on
        // itself (`tgkill`, `raise`) goes to the process server like another's would.
        // Lossless: a pid fits a pid_t.
        match procs.kill(linux.ids.pid, u64::from(signo)) {
            Ok(KILL_CARRIED_OUT) => return true,
            Ok(_) => {} // the server holds no kernel handle on us: stop ourselves
            Err(e) => {
                log!("linux: the process server refused SIGSTOP to ourselves ({e}); stopping");
            }
        }
    }
    match procs.stopped(u64::from(signo)) {
        Ok(0) => return false,
        Ok(_) => {}
        Err(e) => {
            log!("linux: the process server refused the stop ({e}); not stopping");
            return false;
        }
    }
    STOPPED.store(true, Ordering::Release);
    inbox::kick();
    let since = clock::now_ns();
    loop {
        {
            let s = linux.signals.lock();
            if s.continued || s.pending() & sig::bit(g::SIGKILL) != 0 {
                break;
            }
        }
        take_one(linux, &|| false);
    }
    STOPPED_NS.fetch_add(clock::now_ns().saturating_sub(since), Ordering::AcqRel);
    STOPPED.store(false, Ordering::Release);
    inbox::kick();
    if let Err(e) = procs.continued() {
        log!("linux: the process server refused the continue: {e}");
    }
    true
}

/// Whether a thread of this process sleeps in [`stop`].
static STOPPED: AtomicBool = AtomicBool::new(false);

/// How long this process has spent stopped in [`stop`], in all (ns of the kernel clock). A wait
/// that sees it grow was interrupted by a stop: `select`, `pselect6` and `ppoll` then restart
/// for the time they had left when it came (`calls/poll.rs`). A SIGSTOP, which the kernel
/// carries out, is not counted: the process learns nothing of it.
static STOPPED_NS: AtomicU64 = AtomicU64::new(0);

/// [`STOPPED_NS`]'s count now.
pub fn stopped_ns() -> u64 {
    STOPPED_NS.load(Ordering::Acquire)
}

/// A fork child is not stopped, whatever another thread of its parent was doing.
pub fn for_fork_child() {
    STOPPED.store(false, Ordering::Release);
}

/// Waits while another thread has the process stopped (module comment).
pub fn wait_while_stopped(linux: &Linux) {
    while STOPPED.load(Ordering::Acquire) {
        take_one(linux, &|| !STOPPED.load(Ordering::Acquire));
    }
}

/// Waits for one message and absorbs it (a stop drops what is not a signal: module comment),
/// or for `cond` or a letter from another thread.
fn take_one(linux: &Linux, cond: &dyn Fn() -> bool) {
    if let Next::Taken(msg) = inbox::next(None, &mut |_| false, cond) {
        signals::absorb(linux, &msg);
    }
}

/// The terminal as this process sees it (`ENOTTY` when it is not its controlling terminal,
/// or there is no process server).
pub fn terminal(linux: &Linux) -> Result<TerminalView, Errno> {
    let mut procs = client(linux).ok_or(Errno::ENOTTY)?;
    let (fg, sid, pgid, orphaned) = procs.terminal().map_err(errno)?;
    Ok(TerminalView {
        fg,
        sid,
        pgid,
        orphaned: orphaned != 0,
    })
}

/// Linux's `__tty_check_change` before a call on the terminal that a background process may
/// not make freely: reading it (`SIGTTIN`), changing its settings or foreground group
/// (`SIGTTOU`). In the foreground, or when the terminal is not this process's controlling
/// terminal, the call goes ahead. In the background: with the signal blocked or ignored,
/// `SIGTTOU` lets the call go ahead and `SIGTTIN` fails it with `EIO`; in an orphaned group it
/// fails with `EIO`; otherwise the signal goes to the whole process group (this process
/// included) and the call answers `ERESTARTSYS`, to run again once the group is continued.
pub fn check(linux: &Linux, signo: u32) -> Result<(), Errno> {
    let view = match terminal(linux) {
        Ok(view) => view,
        Err(_) => return Ok(()),
    };
    if !view.background() {
        return Ok(());
    }
    let ignored = {
        let s = linux.signals.lock();
        s.blocked & sig::bit(signo) != 0 || s.action(signo).handler == SIG_IGN
    };
    if ignored {
        return match signo {
            g::SIGTTIN => Err(Errno::EIO),
            _ => Ok(()),
        };
    }
    if view.orphaned {
        return Err(Errno::EIO);
    }
    signal_own_group(linux, view.pgid, signo);
    Err(Errno::ERESTARTSYS)
}

/// Sends `signo` to process group `pgid`, this process included (Linux's `kill_pgrp` from
/// the terminal code: `SI_KERNEL`).
fn signal_own_group(linux: &Linux, pgid: u64, signo: u32) {
    if let Some(mut procs) = client(linux) {
        // Lossless: a pid fits an i64; the server takes a negative pid as a group.
        let group = (pgid as i64).wrapping_neg() as u64;
        if let Err(e) = procs.kill(group, u64::from(signo)) {
            log!("linux: could not signal process group {pgid}: {e}");
        }
    }
    let info = sig::Info {
        signo,
        code: g::SI_KERNEL as i32,
        ..sig::Info::default()
    };
    signals::raise(linux, info, false);
}

/// `tcsetpgrp` (`TIOCSPGRP`): the background check (whose `EIO` Linux's `tiocspgrp` answers
/// as `ENOTTY`), then the process server's rules.
pub fn set_foreground(linux: &Linux, pgrp: i32) -> Result<(), Errno> {
    match check(linux, g::SIGTTOU) {
        Err(Errno::EIO) => return Err(Errno::ENOTTY),
        other => other?,
    }
    let mut procs = client(linux).ok_or(Errno::ENOTTY)?;
    // A pid_t, sign-extended as the server expects.
    procs.set_foreground(i64::from(pgrp) as u64).map_err(errno)
}

/// `TIOCSCTTY`: makes the terminal this session's controlling terminal (`steal`: argument 1).
pub fn acquire_terminal(linux: &Linux, steal: bool) -> Result<(), Errno> {
    let mut procs = client(linux).ok_or(Errno::EPERM)?;
    procs.acquire_terminal(u64::from(steal)).map_err(errno)
}
