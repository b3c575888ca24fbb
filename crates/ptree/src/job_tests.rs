//! Host tests of job control in the tree (`job.rs`): stop and continue reports as Linux's
//! waits give them, the terminal's foreground group, orphaned groups and hang-ups.

use alloc::vec;
use alloc::vec::Vec;

use k42_linux::Errno;
use k42_linux::raw::general as g;

use crate::{Creds, INIT_PID, Selector, Tree, WaitOptions, WaitStatus};

const SHELL: u64 = 200;
const JOB: u64 = 201;
const JOB2: u64 = 202;
const OTHER: u64 = 203;

fn root() -> Creds {
    Creds::new(0, 0)
}

fn wait4(options: u32) -> WaitOptions {
    WaitOptions::from_wait4(options).expect("valid options")
}

/// A shell (the run's program: it has the terminal) with one child in a job group of its own.
fn shell_and_job() -> (Tree, u64, u64) {
    let mut t = Tree::new();
    let sh = t.register(SHELL, INIT_PID, root()).unwrap();
    let job = t.fork(SHELL, JOB).unwrap();
    t.setpgid(SHELL, job as i64, job as i64).unwrap();
    (t, sh, job)
}

#[test]
fn a_stop_is_reported_once_and_only_with_wuntraced() {
    let (mut t, sh, job) = shell_and_job();
    let change = t.stop(JOB, g::SIGTSTP).unwrap().expect("stops");
    assert_eq!(change.pid, job);
    assert_eq!(change.notify, Some((sh, SHELL)));
    assert_eq!(change.status, WaitStatus::stopped(g::SIGTSTP));
    assert!(t.is_stopped(job));
    // A plain wait does not see a stop.
    assert_eq!(t.wait(SHELL, Selector::Any, wait4(0)), Ok(None));
    let status = WaitStatus::stopped(g::SIGTSTP);
    let nowait = WaitOptions::from_waitid(g::WSTOPPED | g::WNOWAIT).unwrap();
    assert_eq!(
        t.wait(SHELL, Selector::Any, nowait),
        Ok(Some((job, status)))
    );
    assert_eq!(
        t.wait(SHELL, Selector::Any, wait4(g::WUNTRACED)),
        Ok(Some((job, status)))
    );
    assert_eq!(t.wait(SHELL, Selector::Any, wait4(g::WUNTRACED)), Ok(None));
    // Linux's encoding: WIFSTOPPED, WSTOPSIG.
    assert_eq!(status.0 & 0xff, 0x7f);
    assert_eq!(status.stop_signal(), Some(g::SIGTSTP));
    assert_eq!(status.siginfo(), (g::CLD_STOPPED, g::SIGTSTP));
}

#[test]
fn a_continue_replaces_the_stop_report() {
    let (mut t, _, job) = shell_and_job();
    assert_eq!(t.cont(JOB), Ok(None), "not stopped: nothing to report");
    t.stop(JOB, g::SIGSTOP).unwrap();
    let change = t.cont(JOB).unwrap().expect("a report");
    assert_eq!(change.status, WaitStatus::CONTINUED);
    assert!(!t.is_stopped(job));
    assert_eq!(t.wait(SHELL, Selector::Any, wait4(g::WUNTRACED)), Ok(None));
    assert_eq!(
        t.wait(SHELL, Selector::Any, wait4(g::WCONTINUED)),
        Ok(Some((job, WaitStatus::CONTINUED)))
    );
    assert_eq!(t.wait(SHELL, Selector::Any, wait4(g::WCONTINUED)), Ok(None));
    assert_eq!(WaitStatus::CONTINUED.0, 0xffff);
    assert_eq!(
        WaitStatus::CONTINUED.siginfo(),
        (g::CLD_CONTINUED, g::SIGCONT)
    );
}

#[test]
fn a_stopped_process_does_not_stop_again() {
    let (mut t, _, job) = shell_and_job();
    t.stop(JOB, g::SIGTSTP).unwrap().expect("stops");
    // SIGSTOP (through the kernel) to a process its personality stopped: no new report.
    assert_eq!(t.stop(JOB, g::SIGSTOP), Ok(None));
    assert_eq!(
        t.wait(SHELL, Selector::Any, wait4(g::WUNTRACED)),
        Ok(Some((job, WaitStatus::stopped(g::SIGTSTP))))
    );
    assert_eq!(
        t.stop(JOB, g::SIGSTOP),
        Ok(None),
        "reported or not, it is stopped"
    );
    // One continue ends both; the personality's own report of it then finds nothing to do.
    assert!(t.cont(JOB).unwrap().is_some());
    assert_eq!(t.cont(JOB), Ok(None));
    assert!(!t.is_stopped(job));
    assert!(
        t.stop(JOB, g::SIGSTOP).unwrap().is_some(),
        "stops again once continued"
    );
}

#[test]
fn an_exit_is_reported_before_a_stop_and_clears_it() {
    let (mut t, _, job) = shell_and_job();
    t.stop(JOB, g::SIGSTOP).unwrap();
    t.exit(JOB, WaitStatus::signaled(g::SIGKILL, false))
        .unwrap();
    assert_eq!(
        t.wait(SHELL, Selector::Any, wait4(g::WUNTRACED)),
        Ok(Some((job, WaitStatus::signaled(g::SIGKILL, false))))
    );
    assert_eq!(
        t.wait(SHELL, Selector::Any, wait4(g::WUNTRACED)),
        Err(Errno::ECHILD)
    );
}

#[test]
fn the_run_program_gets_the_terminal_and_its_children_share_it() {
    let (t, sh, job) = shell_and_job();
    let view = t.terminal(SHELL).unwrap();
    assert_eq!((view.fg, view.sid, view.pgid), (sh, sh, sh));
    assert!(!view.background());
    let view = t.terminal(JOB).unwrap();
    assert_eq!((view.fg, view.pgid), (sh, job));
    assert!(view.background());
    assert!(
        !view.orphaned,
        "the job's parent is in the session, in another group"
    );
    // The shell's own group: its parent is init, but it holds the terminal for the run.
    assert!(!t.terminal(SHELL).unwrap().orphaned);
}

#[test]
fn an_orphaned_group_does_not_stop_but_for_sigstop() {
    let (mut t, _, job) = shell_and_job();
    // A session of its own under the job: its group is orphaned (its parent is in another
    // session).
    let other = t.fork(JOB, OTHER).unwrap();
    t.setsid(OTHER).unwrap();
    assert!(t.orphaned(other, None));
    assert_eq!(t.stop(OTHER, g::SIGTSTP), Ok(None));
    assert_eq!(t.stop(OTHER, g::SIGTTIN), Ok(None));
    assert!(!t.is_stopped(other));
    let change = t
        .stop(OTHER, g::SIGSTOP)
        .unwrap()
        .expect("SIGSTOP always stops");
    assert_eq!(change.notify, Some((job, JOB)));
    // The job's group is not orphaned while the shell runs; it is once the shell exits.
    assert!(!t.orphaned(job, None));
    assert!(t.orphaned(job, Some(t.by_badge(SHELL).unwrap().pid)));
}

#[test]
fn setsid_leaves_the_terminal_behind() {
    let (mut t, _, _) = shell_and_job();
    let other = t.fork(SHELL, OTHER).unwrap();
    t.setsid(OTHER).unwrap();
    assert_eq!(t.terminal(OTHER), Err(Errno::ENOTTY));
    assert_eq!(t.set_foreground(OTHER, other as i64), Err(Errno::ENOTTY));
    // A second session leader cannot take it without stealing.
    assert_eq!(t.acquire_terminal(OTHER, false), Err(Errno::EPERM));
    assert_eq!(t.acquire_terminal(SHELL, false), Ok(()), "already its own");
    assert_eq!(
        t.acquire_terminal(JOB, false),
        Err(Errno::EPERM),
        "no session leader"
    );
    t.acquire_terminal(OTHER, true).unwrap();
    assert_eq!(t.terminal(OTHER).unwrap().fg, other);
    assert_eq!(t.terminal(SHELL), Err(Errno::ENOTTY));
}

#[test]
fn set_foreground_follows_tiocspgrp() {
    let (mut t, sh, job) = shell_and_job();
    assert_eq!(t.set_foreground(SHELL, -1), Err(Errno::EINVAL));
    assert_eq!(t.set_foreground(SHELL, 9999), Err(Errno::ESRCH));
    t.set_foreground(SHELL, job as i64).unwrap();
    assert_eq!(t.terminal(SHELL).unwrap().fg, job);
    assert!(t.terminal(SHELL).unwrap().background());
    assert_eq!(t.foreground(), vec![JOB]);
    t.set_foreground(JOB, sh as i64).unwrap();
    // Another session's group.
    let other = t.fork(SHELL, OTHER).unwrap();
    t.setsid(OTHER).unwrap();
    assert_eq!(t.set_foreground(SHELL, other as i64), Err(Errno::EPERM));
    // A pid of a process that leads no group but is in the session names it (Linux's
    // `session_of_pgrp` falls back to the process).
    let second = t.fork(SHELL, JOB2).unwrap();
    t.setpgid(SHELL, second as i64, job as i64).unwrap();
    assert_eq!(t.set_foreground(SHELL, second as i64), Ok(()));
}

#[test]
fn the_terminal_signals_reach_the_foreground_group_only() {
    let (mut t, _, job) = shell_and_job();
    assert_eq!(t.foreground(), vec![SHELL]);
    let second = t.fork(SHELL, JOB2).unwrap();
    t.setpgid(SHELL, second as i64, job as i64).unwrap();
    t.set_foreground(SHELL, job as i64).unwrap();
    let mut fg = t.foreground();
    fg.sort_unstable();
    assert_eq!(fg, vec![JOB, JOB2]);
}

#[test]
fn a_parent_exit_hangs_up_a_stopped_group_it_orphans() {
    let (mut t, _, job) = shell_and_job();
    let second = t.fork(SHELL, JOB2).unwrap();
    t.setpgid(SHELL, second as i64, job as i64).unwrap();
    // Nothing stopped: an orphaned group is left alone.
    let mut quiet = t.clone();
    let exited = quiet.exit(SHELL, WaitStatus::exited(0)).unwrap();
    assert_eq!(exited.hangup, Vec::<u64>::new());
    t.stop(JOB2, g::SIGTSTP).unwrap();
    t.set_foreground(SHELL, job as i64).unwrap();
    let exited = t.exit(SHELL, WaitStatus::exited(0)).unwrap();
    assert_eq!(exited.hangup, vec![JOB, JOB2]);
    assert_eq!(
        t.terminal(JOB),
        Err(Errno::ENOTTY),
        "the leader took the terminal with it"
    );
}

#[test]
fn the_session_leader_exit_hangs_up_the_foreground_group() {
    let (mut t, _, job) = shell_and_job();
    t.set_foreground(SHELL, job as i64).unwrap();
    let exited = t.exit(SHELL, WaitStatus::exited(0)).unwrap();
    assert_eq!(exited.hangup, vec![JOB]);
}

#[test]
fn only_the_parent_forgets_a_child_it_could_not_make() {
    let (mut t, _, job) = shell_and_job();
    let other = t.fork(SHELL, OTHER).unwrap();
    assert_eq!(t.forget_child(JOB, OTHER, other), Err(Errno::ESRCH));
    assert_eq!(
        t.forget_child(SHELL, JOB, other),
        Err(Errno::ESRCH),
        "badge and pid differ"
    );
    assert_eq!(t.forget_child(SHELL, OTHER, other), Ok(()));
    assert!(t.get(other).is_none());
    assert_eq!(t.forget_child(SHELL, OTHER, other), Err(Errno::ESRCH));
    assert!(t.get(job).is_some());
    // The kernel's report of its end came first: the zombie goes without a trace.
    let second = t.fork(SHELL, JOB2).unwrap();
    t.exit(JOB2, WaitStatus::signaled(g::SIGKILL, false))
        .unwrap();
    assert_eq!(t.forget_child(SHELL, JOB2, second), Ok(()));
    assert_eq!(
        t.wait(SHELL, Selector::Pid(second), wait4(0)),
        Err(Errno::ECHILD)
    );
}

#[test]
fn a_dead_process_is_not_stopped() {
    let (mut t, _, job) = shell_and_job();
    t.stop(JOB, g::SIGSTOP).unwrap();
    t.exit(JOB, WaitStatus::signaled(g::SIGKILL, false))
        .unwrap();
    assert!(!t.is_stopped(job));
    let stopped_only = WaitOptions::from_waitid(g::WSTOPPED).unwrap();
    assert_eq!(t.wait(SHELL, Selector::Any, stopped_only), Ok(None));
}
