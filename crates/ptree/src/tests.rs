//! Host tests of the process tree, the wait selection and the status encoding, against what
//! Linux answers (`kernel/exit.c`, `kernel/sys.c`, `wait(2)`, `setpgid(2)`).

use k42_linux::Errno;
use k42_linux::raw::general as g;

use crate::{Creds, INIT_PID, Selector, State, Tree, WaitOptions, WaitStatus};

/// Badges of K42 processes (arbitrary, distinct from pids on purpose).
const A: u64 = 100;
const B: u64 = 101;
const C: u64 = 102;
const D: u64 = 103;

fn root() -> Creds {
    Creds::new(0, 0)
}

fn wait4(options: u32) -> WaitOptions {
    WaitOptions::from_wait4(options).expect("valid options")
}

/// A tree with A registered under init, B and C forked from A.
fn family() -> (Tree, u64, u64, u64) {
    let mut t = Tree::new();
    let a = t.register(A, INIT_PID, root()).unwrap();
    let b = t.fork(A, B).unwrap();
    let c = t.fork(A, C).unwrap();
    (t, a, b, c)
}

#[test]
fn register_leads_group_and_session() {
    let mut t = Tree::new();
    let pid = t.register(A, INIT_PID, Creds::new(1000, 100)).unwrap();
    assert_eq!(pid, 2);
    let p = t.by_badge(A).unwrap();
    assert_eq!((p.pid, p.ppid, p.pgid, p.sid), (2, 1, 2, 2));
    assert_eq!(p.creds, Creds::new(1000, 100));
    assert_eq!(t.register(A, INIT_PID, root()), Err(Errno::EEXIST));
    assert_eq!(t.register(B, 77, root()), Err(Errno::ESRCH));
    assert_eq!(t.by_badge(B).map(|p| p.pid), Err(Errno::ESRCH));
}

#[test]
fn fork_inherits_and_refuses_reuse() {
    let mut t = Tree::new();
    let a = t.register(A, INIT_PID, Creds::new(5, 6)).unwrap();
    t.umask(A, Some(0o077)).unwrap();
    let b = t.fork(A, B).unwrap();
    let child = t.by_badge(B).unwrap();
    assert_ne!(b, a);
    assert_eq!((child.ppid, child.pgid, child.sid), (a, a, a));
    assert_eq!(child.creds, Creds::new(5, 6));
    assert_eq!(child.umask, 0o077);
    assert_eq!(t.fork(A, A), Err(Errno::EINVAL));
    assert_eq!(t.fork(A, B), Err(Errno::EBUSY));
    assert_eq!(t.fork(D, C), Err(Errno::ESRCH));
    assert_eq!(t.live(), 2);
}

#[test]
fn exit_status_encoding() {
    for (code, status) in [(0, 0), (1, 0x100), (255, 0xff00), (256, 0), (257, 0x100)] {
        let s = WaitStatus::exited(code);
        assert_eq!(s.0, status, "exit({code})");
        assert_eq!(s.exit_code(), Some((code & 0xff) as u32));
        assert_eq!(s.signal(), None);
        assert_eq!(s.siginfo(), (g::CLD_EXITED, (code & 0xff) as u32));
    }
    let segv = WaitStatus::signaled(g::SIGSEGV, false);
    assert_eq!(segv.0, 11);
    assert_eq!(segv.exit_code(), None);
    assert_eq!(segv.signal(), Some((11, false)));
    assert_eq!(segv.siginfo(), (g::CLD_KILLED, 11));
    assert_eq!(segv.shell_status(), 139);
    let dumped = WaitStatus::signaled(g::SIGSEGV, true);
    assert_eq!(dumped.0, 0x8b);
    assert_eq!(dumped.siginfo(), (g::CLD_DUMPED, 11));
    assert_eq!(WaitStatus::exited(3).shell_status(), 3);
}

#[test]
fn wait_reaps_an_exited_child() {
    let (mut t, _, b, c) = family();
    // Children, none ended.
    assert_eq!(t.wait(A, Selector::Any, wait4(g::WNOHANG)), Ok(None));
    assert_eq!(t.wait(A, Selector::Pid(b), wait4(0)), Ok(None));
    let exited = t.exit(B, WaitStatus::exited(7)).unwrap();
    assert_eq!(exited.pid, b);
    assert_eq!(exited.notify, Some((2, A)));
    assert_eq!(
        t.get(b).unwrap().state,
        State::Zombie(WaitStatus::exited(7))
    );
    // Not C's: waiting for c finds it running.
    assert_eq!(t.wait(A, Selector::Pid(c), wait4(0)), Ok(None));
    assert_eq!(
        t.wait(A, Selector::Any, wait4(0)),
        Ok(Some((b, WaitStatus::exited(7))))
    );
    assert!(t.get(b).is_none(), "reaped");
    assert_eq!(t.wait(A, Selector::Pid(b), wait4(0)), Err(Errno::ECHILD));
    assert_eq!(t.wait(A, Selector::Any, wait4(g::WNOHANG)), Ok(None));
}

#[test]
fn wait_without_children_is_echild() {
    let mut t = Tree::new();
    t.register(A, INIT_PID, root()).unwrap();
    assert_eq!(t.wait(A, Selector::Any, wait4(0)), Err(Errno::ECHILD));
    assert_eq!(t.wait(A, Selector::Pid(99), wait4(0)), Err(Errno::ECHILD));
    // Not registered.
    assert_eq!(t.wait(B, Selector::Any, wait4(0)), Err(Errno::ESRCH));
}

#[test]
fn a_grandchild_is_not_a_child() {
    let (mut t, _, b, _) = family();
    let d = t.fork(B, D).unwrap();
    t.exit(D, WaitStatus::exited(1)).unwrap();
    assert_eq!(t.wait(A, Selector::Pid(d), wait4(0)), Err(Errno::ECHILD));
    assert_eq!(
        t.wait(B, Selector::Pid(d), wait4(0)),
        Ok(Some((d, WaitStatus::exited(1))))
    );
    let _ = b;
}

#[test]
fn nowait_leaves_the_zombie() {
    let (mut t, _, b, _) = family();
    t.exit(B, WaitStatus::exited(3)).unwrap();
    let peek = WaitOptions::from_waitid(g::WEXITED | g::WNOWAIT).unwrap();
    assert_eq!(
        t.wait(A, Selector::Pid(b), peek),
        Ok(Some((b, WaitStatus::exited(3))))
    );
    assert!(t.get(b).is_some());
    assert_eq!(
        t.wait(A, Selector::Pid(b), wait4(0)),
        Ok(Some((b, WaitStatus::exited(3))))
    );
    assert!(t.get(b).is_none());
}

#[test]
fn only_stopped_asked_never_reports_an_exit() {
    let (mut t, _, b, _) = family();
    t.exit(B, WaitStatus::exited(0)).unwrap();
    let stopped = WaitOptions::from_waitid(g::WSTOPPED | g::WNOHANG).unwrap();
    assert_eq!(t.wait(A, Selector::Pid(b), stopped), Ok(None));
    assert!(t.get(b).is_some());
}

#[test]
fn exit_reparents_to_init_and_init_reaps() {
    let (mut t, a, b, c) = family();
    let d = t.fork(B, D).unwrap();
    t.exit(C, WaitStatus::exited(0)).unwrap();
    let exited = t.exit(A, WaitStatus::exited(0)).unwrap();
    // A's parent is init: gone at once, nobody notified.
    assert_eq!(exited.notify, None);
    assert!(t.get(a).is_none());
    assert_eq!(exited.orphans, [b, c]);
    // B runs on as init's; the zombie C was reaped by init.
    assert_eq!(t.by_badge(B).unwrap().ppid, INIT_PID);
    assert!(t.get(c).is_none());
    // D is still B's.
    assert_eq!(t.by_badge(D).unwrap().ppid, b);
    // B ends: init's child, reaped at once; D becomes init's.
    let exited = t.exit(B, WaitStatus::exited(0)).unwrap();
    assert_eq!(exited.notify, None);
    assert!(t.get(b).is_none());
    assert_eq!(t.by_badge(D).unwrap().ppid, INIT_PID);
    t.exit(D, WaitStatus::exited(0)).unwrap();
    assert!(t.get(d).is_none());
    assert_eq!(t.iter().count(), 0);
    assert_eq!(t.live(), 0);
}

#[test]
fn exit_twice_and_badge_reuse() {
    let (mut t, _, b, _) = family();
    t.exit(B, WaitStatus::exited(0)).unwrap();
    assert_eq!(t.exit(B, WaitStatus::exited(0)), Err(Errno::ESRCH));
    // The K42 process id may come back as a new process: the zombie is by pid only.
    let again = t.fork(A, B).unwrap();
    assert_ne!(again, b);
    assert_eq!(
        t.wait(A, Selector::Pid(b), wait4(0)),
        Ok(Some((b, WaitStatus::exited(0))))
    );
}

#[test]
fn selection_by_group() {
    let (mut t, a, b, c) = family();
    // C moves into a group of its own.
    t.setpgid(A, c as i64, 0).unwrap();
    assert_eq!(t.get(c).unwrap().pgid, c);
    t.exit(B, WaitStatus::exited(1)).unwrap();
    t.exit(C, WaitStatus::exited(2)).unwrap();
    // Own group (a's): only B.
    assert_eq!(
        t.wait(A, Selector::OwnGroup, wait4(0)),
        Ok(Some((b, WaitStatus::exited(1))))
    );
    assert_eq!(t.wait(A, Selector::OwnGroup, wait4(0)), Err(Errno::ECHILD));
    assert_eq!(t.wait(A, Selector::Group(a), wait4(0)), Err(Errno::ECHILD));
    assert_eq!(
        t.wait(A, Selector::Group(c), wait4(0)),
        Ok(Some((c, WaitStatus::exited(2))))
    );
}

#[test]
fn selectors_from_syscall_arguments() {
    assert_eq!(Selector::from_wait4(5), Ok(Selector::Pid(5)));
    assert_eq!(Selector::from_wait4(-1), Ok(Selector::Any));
    assert_eq!(Selector::from_wait4(0), Ok(Selector::OwnGroup));
    assert_eq!(Selector::from_wait4(-7), Ok(Selector::Group(7)));
    assert_eq!(Selector::from_wait4(i32::MIN), Err(Errno::ESRCH));
    assert_eq!(Selector::from_waitid(g::P_ALL, 99), Ok(Selector::Any));
    assert_eq!(Selector::from_waitid(g::P_PID, 3), Ok(Selector::Pid(3)));
    assert_eq!(Selector::from_waitid(g::P_PID, 0), Err(Errno::EINVAL));
    assert_eq!(Selector::from_waitid(g::P_PID, -3), Err(Errno::EINVAL));
    assert_eq!(Selector::from_waitid(g::P_PGID, 0), Ok(Selector::OwnGroup));
    assert_eq!(Selector::from_waitid(g::P_PGID, 4), Ok(Selector::Group(4)));
    assert_eq!(Selector::from_waitid(g::P_PGID, -4), Err(Errno::EINVAL));
    assert_eq!(Selector::from_waitid(g::P_PIDFD, 3), Err(Errno::EBADF));
    assert_eq!(Selector::from_waitid(g::P_PIDFD, -3), Err(Errno::EINVAL));
    assert_eq!(Selector::from_waitid(9, 1), Err(Errno::EINVAL));
    for s in [
        Selector::Pid(5),
        Selector::Any,
        Selector::OwnGroup,
        Selector::Group(7),
    ] {
        assert_eq!(Selector::from_word(s.to_word().unwrap()), Ok(s));
    }
    assert_eq!(Selector::Group(1).to_word(), None);
    assert_eq!(Selector::from_word(u64::MAX - (1 << 40)), Err(Errno::ESRCH));
}

#[test]
fn options_as_linux_checks_them() {
    assert!(WaitOptions::from_wait4(g::WNOHANG | g::WUNTRACED | g::WCONTINUED).is_ok());
    assert!(WaitOptions::from_wait4(g::__WALL | g::__WCLONE | g::__WNOTHREAD).is_ok());
    assert_eq!(WaitOptions::from_wait4(g::WNOWAIT), Err(Errno::EINVAL));
    assert_eq!(WaitOptions::from_wait4(0x40), Err(Errno::EINVAL));
    let w = wait4(g::WNOHANG);
    assert!(w.exited && w.nohang && !w.nowait);
    assert_eq!(WaitOptions::from_waitid(g::WNOHANG), Err(Errno::EINVAL));
    assert_eq!(WaitOptions::from_waitid(0), Err(Errno::EINVAL));
    let id = WaitOptions::from_waitid(g::WEXITED | g::WNOWAIT).unwrap();
    assert!(id.exited && id.nowait && !id.nohang);
    assert_eq!(id.to_bits(), g::WEXITED | g::WNOWAIT);
    assert_eq!(WaitOptions::from_bits(id.to_bits()), id);
}

#[test]
fn setsid_rules() {
    let (mut t, a, b, _) = family();
    // A leads its group: EPERM.
    assert_eq!(t.setsid(A), Err(Errno::EPERM));
    assert_eq!(t.setsid(B), Ok(b));
    let p = t.by_badge(B).unwrap();
    assert_eq!((p.pgid, p.sid), (b, b));
    // Now a leader: again EPERM.
    assert_eq!(t.setsid(B), Err(Errno::EPERM));
    assert_eq!(t.getsid(B, 0), Ok(b));
    assert_eq!(t.getsid(B, a), Ok(a));
    assert_eq!(t.getpgid(A, b), Ok(b));
    assert_eq!(t.getpgid(A, 999), Err(Errno::ESRCH));
    assert_eq!(t.getpgid(D, 0), Err(Errno::ESRCH));
}

#[test]
fn setpgid_rules() {
    let (mut t, a, b, c) = family();
    // The caller is a session leader: it cannot move.
    assert_eq!(t.setpgid(A, 0, 0), Err(Errno::EPERM));
    assert_eq!(t.setpgid(A, 0, -1), Err(Errno::EINVAL));
    // Not a child of B.
    assert_eq!(t.setpgid(B, c as i64, 0), Err(Errno::ESRCH));
    assert_eq!(t.setpgid(B, 999, 0), Err(Errno::ESRCH));
    // B into its own group, then C into B's (same session), then back to A's.
    assert_eq!(t.setpgid(B, 0, 0), Ok(()));
    assert_eq!(t.get(b).unwrap().pgid, b);
    assert_eq!(t.setpgid(A, c as i64, b as i64), Ok(()));
    assert_eq!(t.get(c).unwrap().pgid, b);
    assert_eq!(t.setpgid(C, 0, a as i64), Ok(()));
    // A group that does not exist.
    assert_eq!(t.setpgid(C, 0, 4242), Err(Errno::EPERM));
    // A child in another session.
    t.setsid(C).unwrap();
    assert_eq!(t.setpgid(A, c as i64, a as i64), Err(Errno::EPERM));
    // A group of another session.
    assert_eq!(t.setpgid(B, 0, c as i64), Err(Errno::EPERM));
}

#[test]
fn pids_wrap_and_skip_live_groups() {
    let mut t = Tree::with_pid_max(5);
    let a = t.register(A, INIT_PID, root()).unwrap();
    let b = t.fork(A, B).unwrap();
    let c = t.fork(A, C).unwrap();
    let d = t.fork(A, D).unwrap();
    assert_eq!((a, b, c, d), (2, 3, 4, 5));
    assert_eq!(t.fork(A, 200), Err(Errno::EAGAIN));
    t.exit(C, WaitStatus::exited(0)).unwrap();
    // A zombie's pid is taken until it is reaped.
    assert_eq!(t.fork(A, 200), Err(Errno::EAGAIN));
    t.wait(A, Selector::Pid(c), wait4(0)).unwrap();
    assert_eq!(t.fork(A, 200), Ok(c));
    // A exits (init's child: gone), but its group and session live on in B and D: pid 2 is
    // not given out again while they do.
    t.exit(A, WaitStatus::exited(0)).unwrap();
    assert!(t.get(a).is_none());
    assert_eq!(t.register(201, INIT_PID, root()), Err(Errno::EAGAIN));
}

#[test]
fn umask_is_per_process() {
    let (mut t, ..) = family();
    assert_eq!(t.umask(A, None), Ok(0o022));
    assert_eq!(t.umask(B, Some(0o7777)), Ok(0o022));
    assert_eq!(t.umask(B, None), Ok(0o777));
    assert_eq!(t.umask(A, None), Ok(0o022));
    assert_eq!(t.umask(D, None), Err(Errno::ESRCH));
}

#[test]
fn forget_undoes_a_fork() {
    let (mut t, _, b, _) = family();
    let d = t.fork(B, D).unwrap();
    assert_eq!(t.forget(B), Err(Errno::EBUSY));
    assert_eq!(t.forget(D), Ok(()));
    assert!(t.get(d).is_none());
    assert_eq!(t.by_badge(D).map(|p| p.pid), Err(Errno::ESRCH));
    assert_eq!(
        t.wait(B, Selector::Any, wait4(g::WNOHANG)),
        Err(Errno::ECHILD)
    );
    assert_eq!(t.forget(D), Err(Errno::ESRCH));
    let _ = b;
}

#[test]
fn kill_selects_like_linux() {
    let (mut t, a, b, c) = family();
    // A process, its own group (B and C are in A's), everyone but init and the caller.
    let pids = |r: Result<alloc::vec::Vec<crate::Target>, Errno>| {
        r.map(|v| v.iter().map(|t| t.pid).collect::<alloc::vec::Vec<_>>())
    };
    assert_eq!(pids(t.kill_targets(A, b as i64, 0)), Ok(alloc::vec![b]));
    assert_eq!(pids(t.kill_targets(B, 0, 0)), Ok(alloc::vec![a, b, c]));
    assert_eq!(pids(t.kill_targets(A, -1, 0)), Ok(alloc::vec![b, c]));
    assert_eq!(
        pids(t.kill_targets(A, -(a as i64), 0)),
        Ok(alloc::vec![a, b, c])
    );
    assert_eq!(t.kill_targets(A, 9999, 0), Err(Errno::ESRCH));
    assert_eq!(t.kill_targets(A, -9999, 0), Err(Errno::ESRCH));
    // A zombie still exists for kill, but has no badge to deliver to.
    t.exit(C, WaitStatus::exited(0)).unwrap();
    let z = t.kill_targets(A, c as i64, 0).unwrap();
    assert_eq!((z[0].pid, z[0].badge), (c, None));
    assert_eq!(t.kill_targets(B, b as i64, 0).unwrap()[0].badge, Some(B));
}

#[test]
fn kill_needs_permission() {
    let mut t = Tree::new();
    let user = t.register(A, INIT_PID, Creds::new(1000, 1000)).unwrap();
    let other = t.register(B, INIT_PID, Creds::new(1001, 1001)).unwrap();
    let _root = t.register(C, INIT_PID, root()).unwrap();
    assert_eq!(t.kill_targets(A, other as i64, 0), Err(Errno::EPERM));
    assert_eq!(t.kill_targets(C, user as i64, 0).map(|v| v.len()), Ok(1));
    assert_eq!(t.kill_targets(A, user as i64, 0).map(|v| v.len()), Ok(1));
    // -1 from an unprivileged process reaches only what it may signal; none: EPERM.
    assert_eq!(t.kill_targets(A, -1, 0), Err(Errno::EPERM));
}
