//! Host tests of thread ids (`threads.rs`): they come from the pid space, never collide with a
//! process, name their process to `kill`, and end with it.

use k42_linux::Errno;

use crate::{Creds, INIT_PID, Tree, WaitStatus};

const MAIN: u64 = 300;
const CHILD: u64 = 301;

fn root() -> Creds {
    Creds::new(0, 0)
}

#[test]
fn a_thread_id_is_never_a_new_process_id() {
    let mut t = Tree::new();
    let pid = t.register(MAIN, INIT_PID, root()).unwrap();
    let tid = t.new_thread(MAIN).unwrap();
    assert_ne!(tid, pid);
    assert_eq!(t.thread_owner(tid), Some(pid));
    let child = t.fork(MAIN, CHILD).unwrap();
    assert_ne!(child, tid);
    assert_ne!(child, pid);
}

#[test]
fn ids_wrap_around_live_threads() {
    let mut t = Tree::with_pid_max(5);
    let pid = t.register(MAIN, INIT_PID, root()).unwrap();
    let a = t.new_thread(MAIN).unwrap();
    let b = t.new_thread(MAIN).unwrap();
    let c = t.new_thread(MAIN).unwrap();
    assert_eq!([pid, a, b, c], [2, 3, 4, 5]);
    assert_eq!(t.new_thread(MAIN), Err(Errno::EAGAIN));
    t.end_thread(MAIN, b).unwrap();
    assert_eq!(t.new_thread(MAIN), Ok(b));
}

#[test]
fn only_the_owner_ends_its_thread() {
    let mut t = Tree::new();
    t.register(MAIN, INIT_PID, root()).unwrap();
    let tid = t.new_thread(MAIN).unwrap();
    t.fork(MAIN, CHILD).unwrap();
    assert_eq!(t.end_thread(CHILD, tid), Err(Errno::ESRCH));
    assert_eq!(t.end_thread(MAIN, tid), Ok(()));
    assert_eq!(t.end_thread(MAIN, tid), Err(Errno::ESRCH));
    assert_eq!(t.thread_owner(tid), None);
}

#[test]
fn kill_of_a_thread_id_reaches_its_process() {
    let mut t = Tree::new();
    let pid = t.register(MAIN, INIT_PID, root()).unwrap();
    let tid = t.new_thread(MAIN).unwrap();
    t.fork(MAIN, CHILD).unwrap();
    let targets = t.kill_targets(CHILD, tid as i64, 0).unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].pid, pid);
    assert_eq!(targets[0].badge, Some(MAIN));
}

#[test]
fn a_process_exit_frees_its_thread_ids() {
    let mut t = Tree::new();
    let pid = t.register(MAIN, INIT_PID, root()).unwrap();
    t.new_thread(MAIN).unwrap();
    t.new_thread(MAIN).unwrap();
    assert_eq!(t.threads_of(pid), 2);
    t.exit(MAIN, WaitStatus::exited(0)).unwrap();
    assert_eq!(t.threads_of(pid), 0);
}
