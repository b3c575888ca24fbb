//! Host tests of scheduling parameters in the tree (`sched.rs`): who names which processes,
//! who may change them, and what a fork child gets.

use k42_linux::Errno;
use k42_linux::raw::general as g;

use crate::{Creds, Family, INIT_PID, IdChange, Selector, Tree, WaitOptions, WaitStatus};

const ROOT: u64 = 400;
const USER: u64 = 401;
const OTHER_USER: u64 = 402;
const CHILD: u64 = 403;

/// Root's process, a process of user 1000 and one of user 2000, each its own group.
fn tree() -> (Tree, u64, u64, u64) {
    let mut t = Tree::new();
    let root = t.register(ROOT, INIT_PID, Creds::new(0, 0)).unwrap();
    let user = t.register(USER, INIT_PID, Creds::new(1000, 1000)).unwrap();
    let other = t
        .register(OTHER_USER, INIT_PID, Creds::new(2000, 2000))
        .unwrap();
    (t, root, user, other)
}

const PROCESS: u32 = g::PRIO_PROCESS;
const PGRP: u32 = g::PRIO_PGRP;
const USERS: u32 = g::PRIO_USER;

#[test]
fn getpriority_names_by_pid_group_and_user() {
    let (mut t, _, user, other) = tree();
    assert_eq!(t.getpriority(USER, PROCESS, 0), Ok(20));
    t.setpriority(USER, PROCESS, 0, 5).unwrap();
    assert_eq!(t.getpriority(ROOT, PROCESS, user as u32), Ok(15));
    assert_eq!(t.getpriority(USER, PGRP, 0), Ok(15));
    assert_eq!(t.getpriority(ROOT, USERS, 1000), Ok(15));
    // The highest priority (lowest nice) of those named.
    t.setpriority(ROOT, PROCESS, other as u32, -3).unwrap();
    t.setpriority(ROOT, USERS, 0, 19).unwrap();
    assert_eq!(t.getpriority(ROOT, USERS, 0), Ok(1));
    assert_eq!(t.getpriority(ROOT, PROCESS, 9999), Err(Errno::ESRCH));
    assert_eq!(t.getpriority(ROOT, USERS, 3000), Err(Errno::ESRCH));
    assert_eq!(t.getpriority(ROOT, 3, 0), Err(Errno::EINVAL));
}

#[test]
fn only_the_owner_or_root_may_change_a_process() {
    let (mut t, root, user, other) = tree();
    assert_eq!(
        t.setpriority(USER, PROCESS, other as u32, 10),
        Err(Errno::EPERM)
    );
    assert_eq!(
        t.setpriority(USER, PROCESS, root as u32, 10),
        Err(Errno::EPERM)
    );
    assert_eq!(t.set_scheduler(USER, other, Some(0), 0), Err(Errno::EPERM));
    // A bad request is EINVAL before the permission check, as in Linux.
    assert_eq!(t.set_scheduler(USER, other, Some(0), 5), Err(Errno::EINVAL));
    assert_eq!(t.set_affinity(USER, other, 1, 2), Err(Errno::EPERM));
    assert_eq!(t.setpriority(ROOT, PROCESS, user as u32, 10), Ok(()));
    assert_eq!(t.set_affinity(ROOT, user, 1, 2), Ok(()));
    // Reading is anyone's.
    assert_eq!(t.sched_params(OTHER_USER, user).unwrap().affinity, Some(1));
    assert_eq!(t.sched_params(OTHER_USER, 9999), Err(Errno::ESRCH));
}

#[test]
fn an_unprivileged_process_may_only_raise_its_nice_value() {
    let (mut t, ..) = tree();
    assert_eq!(t.setpriority(USER, PROCESS, 0, 4), Ok(()));
    assert_eq!(t.setpriority(USER, PROCESS, 0, 3), Err(Errno::EACCES));
    assert_eq!(
        t.set_scheduler(USER, 0, Some(g::SCHED_FIFO as i32), 1),
        Err(Errno::EPERM)
    );
    assert_eq!(t.setpriority(ROOT, PROCESS, 0, -20), Ok(()));
    assert_eq!(t.getpriority(ROOT, PROCESS, 0), Ok(40));
}

#[test]
fn setpriority_answers_the_last_refusal_as_linux_s_loop() {
    let (mut t, root, ..) = tree();
    // Root's group gets a second member, which becomes user 1000.
    let child = t.fork(ROOT, CHILD).unwrap();
    t.change_ids(CHILD, Family::User, IdChange::Set(1000))
        .unwrap();
    // It names root's process (refused) and itself (done): the refusal is the answer.
    assert_eq!(t.setpriority(CHILD, PGRP, 0, 6), Err(Errno::EPERM));
    assert_eq!(t.getpriority(CHILD, PROCESS, 0), Ok(14));
    assert_eq!(t.getpriority(CHILD, PROCESS, root as u32), Ok(20));
    // Root's own processes (user 0): only root's, allowed; nobody is user 3000.
    assert_eq!(t.setpriority(ROOT, USERS, 0, 7), Ok(()));
    assert_eq!(t.getpriority(CHILD, PROCESS, child as u32), Ok(14));
    assert_eq!(t.setpriority(ROOT, USERS, 3000, 7), Err(Errno::ESRCH));
}

#[test]
fn a_thread_id_names_its_process() {
    let (mut t, _, user, _) = tree();
    let tid = t.new_thread(USER).unwrap();
    t.setpriority(USER, PROCESS, tid as u32, 9).unwrap();
    assert_eq!(t.getpriority(ROOT, PROCESS, user as u32), Ok(11));
    t.set_scheduler(ROOT, tid, Some(g::SCHED_RR as i32), 3)
        .unwrap();
    let p = t.sched_params(USER, 0).unwrap();
    assert_eq!((p.policy, p.rt_priority), (g::SCHED_RR, 3));
}

#[test]
fn a_fork_child_inherits_with_reset_on_fork_applied() {
    let (mut t, ..) = tree();
    let word = (g::SCHED_FIFO | g::SCHED_RESET_ON_FORK) as i32;
    t.set_scheduler(ROOT, 0, Some(word), 50).unwrap();
    t.setpriority(ROOT, PROCESS, 0, -5).unwrap();
    t.set_affinity(ROOT, 0, 0b10, 2).unwrap();
    let child = t.fork(ROOT, CHILD).unwrap();
    let p = t.sched_params(CHILD, child).unwrap();
    assert_eq!(
        (p.policy, p.rt_priority, p.nice, p.reset_on_fork),
        (g::SCHED_NORMAL, 0, 0, false)
    );
    assert_eq!(p.affinity, Some(0b10));
    let parent = t.sched_params(ROOT, 0).unwrap();
    assert_eq!(
        (parent.policy, parent.rt_priority, parent.nice),
        (g::SCHED_FIFO, 50, -5)
    );
}

#[test]
fn cpu_time_at_exit_is_bounded_and_adds_the_collected_children() {
    let (mut t, ..) = tree();
    let child = t.fork(ROOT, CHILD).unwrap();
    t.started(child, 1_000);
    let grandchild = t.fork(CHILD, 404).unwrap();
    t.started(grandchild, 1_000);
    // No more than every CPU since it started: 2 CPUs for 500 ns.
    t.set_cpu_ns(404, u64::MAX, 1_500, 2).unwrap();
    t.exit(404, WaitStatus::exited(0)).unwrap();
    let any = WaitOptions::from_wait4(0).unwrap();
    let got = t.wait_with_uid(CHILD, Selector::Any, any).unwrap();
    assert_eq!(
        got.map(|(pid, .., ns)| (pid, ns)),
        Some((grandchild, 1_000))
    );
    // The child's own word, plus what its wait collected from the tree's record.
    t.set_cpu_ns(CHILD, 300, 2_000, 2).unwrap();
    t.exit(CHILD, WaitStatus::exited(0)).unwrap();
    let got = t.wait_with_uid(ROOT, Selector::Any, any).unwrap();
    assert_eq!(got.map(|(pid, .., ns)| (pid, ns)), Some((child, 1_300)));
    // One that never says (killed) hands on only its collected children's.
    let second = t.fork(ROOT, CHILD).unwrap();
    let g = t.fork(CHILD, 405).unwrap();
    t.started(g, 0);
    t.set_cpu_ns(405, 70, 100, 1).unwrap();
    t.exit(405, WaitStatus::exited(0)).unwrap();
    t.wait_with_uid(CHILD, Selector::Any, any).unwrap();
    t.exit(CHILD, WaitStatus::signaled(9, false)).unwrap();
    let got = t.wait_with_uid(ROOT, Selector::Any, any).unwrap();
    assert_eq!(got.map(|(pid, .., ns)| (pid, ns)), Some((second, 70)));
}

#[test]
fn an_affinity_must_name_a_cpu_there_is() {
    let (mut t, ..) = tree();
    assert_eq!(t.set_affinity(ROOT, 0, 0b100, 2), Err(Errno::EINVAL));
    assert_eq!(t.set_affinity(ROOT, 0, 0b111, 2), Ok(()));
    assert_eq!(t.sched_params(ROOT, 0).unwrap().affinity, Some(0b11));
}
