//! K42's handoff: the running dispatcher gives the rest of its quantum to a chosen runnable one.
//! The recipient runs at once, its time until that quantum ends is charged to the giver, and the
//! strict class order is never inverted by it.

mod common;

use common::{id, sched, w};
use k42_sched::{Class, Decision, SchedError, Scheduler};

const QUANTUM: u64 = 10;
const GRACE: u64 = 3;

/// Three equal applications, the first running from 0.
fn three_apps() -> Scheduler<{ common::CAP }> {
    let mut s = sched(QUANTUM, GRACE);
    for n in 1..=3 {
        s.add(id(n), Class::Application, w(1)).unwrap();
        let _ = s.wake(id(n), 0).unwrap();
    }
    assert_eq!(s.current(), Some(id(1)));
    s
}

#[test]
fn recipient_runs_now_on_the_givers_quantum_and_account() {
    let mut s = three_apps();
    assert_eq!(
        s.handoff(id(3), 3).unwrap(),
        Decision::Switch {
            from: Some(id(1)),
            to: id(3)
        }
    );
    assert_eq!(s.current(), Some(id(3)));
    // The donated rest ends when the giver's quantum would have.
    assert_eq!(s.next_deadline(), Some(QUANTUM));
    // A has been charged 10 (3 its own, 7 donated), C nothing; B is at 0 too, ahead of C by
    // arrival, so C must give way at the end of the donated quantum — to B, not A.
    assert_eq!(s.tick(QUANTUM), Decision::SoftPreempt(id(3)));
    assert_eq!(
        s.yield_now(QUANTUM).unwrap(),
        Decision::Switch {
            from: Some(id(3)),
            to: id(2)
        }
    );
    // B runs a quantum; then C (charged nothing so far) is due before A (charged 10).
    assert_eq!(s.tick(2 * QUANTUM), Decision::SoftPreempt(id(2)));
    assert_eq!(
        s.yield_now(2 * QUANTUM).unwrap(),
        Decision::Switch {
            from: Some(id(2)),
            to: id(3)
        }
    );
}

#[test]
fn donated_time_is_not_charged_to_the_recipient() {
    // Two dispatchers: A hands off to B at 3. A pays for B's 7 donated ticks, so at 10 B (pass 0)
    // is still due and renews its own quantum; it is asked to give way only at 20, when its own
    // 10 ticks match A's 10.
    let mut s = sched(QUANTUM, GRACE);
    for n in 1..=2 {
        s.add(id(n), Class::Application, w(1)).unwrap();
        let _ = s.wake(id(n), 0).unwrap();
    }
    let _ = s.handoff(id(2), 3).unwrap();
    assert_eq!(s.tick(QUANTUM), Decision::Continue);
    assert_eq!(s.next_deadline(), Some(2 * QUANTUM));
    assert_eq!(s.tick(2 * QUANTUM), Decision::SoftPreempt(id(2)));
}

#[test]
fn application_may_hand_off_to_a_server() {
    let mut s = three_apps();
    s.add(id(9), Class::System, w(1)).unwrap();
    assert_eq!(s.wake(id(9), 1).unwrap(), Decision::SoftPreempt(id(1)));
    assert_eq!(
        s.handoff(id(9), 2).unwrap(),
        Decision::Switch {
            from: Some(id(1)),
            to: id(9)
        }
    );
    assert!(!s.preempt_pending());
}

#[test]
fn refused_handoffs_change_nothing() {
    let mut s = three_apps();
    s.add(id(8), Class::Application, w(1)).unwrap(); // never woken
    s.add(id(9), Class::System, w(1)).unwrap();
    let _ = s.wake(id(9), 1).unwrap();
    let _ = s.yield_now(1).unwrap(); // the server runs now; A, B, C wait
    assert_eq!(s.current(), Some(id(9)));
    let deadline = s.next_deadline();
    let cases = [
        (
            id(3),
            SchedError::ClassInversion {
                to: id(3),
                class: Class::Application,
                runnable: Class::System,
            },
        ),
        (id(8), SchedError::NotRunnable(id(8))),
        (id(9), SchedError::SelfHandoff),
        (id(77), SchedError::Unknown(id(77))),
    ];
    for (to, err) in cases {
        assert_eq!(s.handoff(to, 2), Err(err));
        assert_eq!(s.current(), Some(id(9)));
        assert_eq!(s.next_deadline(), deadline);
        s.audit().unwrap();
    }
    // Once the server blocks, an application can hand off to its peer.
    let _ = s.block(id(9), 3).unwrap();
    let running = s.current().unwrap();
    let peer = [1, 2, 3]
        .map(id)
        .into_iter()
        .find(|&p| p != running)
        .unwrap();
    assert!(s.handoff(peer, 4).is_ok());
}

#[test]
fn handoff_needs_a_running_dispatcher() {
    let mut s = sched(QUANTUM, GRACE);
    s.add(id(1), Class::Application, w(1)).unwrap();
    assert_eq!(s.handoff(id(1), 0), Err(SchedError::NoCurrent));
    assert_eq!(s.yield_now(0), Err(SchedError::NoCurrent));
}

#[test]
fn giver_removed_during_donated_quantum() {
    let mut s = three_apps();
    let _ = s.handoff(id(2), 3).unwrap();
    assert_eq!(s.remove(id(1), 5).unwrap(), Decision::Continue);
    s.audit().unwrap();
    // The recipient now pays for itself and the quantum still ends on time.
    assert_eq!(s.tick(QUANTUM), Decision::SoftPreempt(id(2)));
}

#[test]
fn giver_can_block_after_handing_off() {
    let mut s = three_apps();
    let _ = s.handoff(id(2), 3).unwrap();
    assert_eq!(s.block(id(1), 3).unwrap(), Decision::Continue);
    assert!(!s.is_runnable(id(1)));
    assert_eq!(s.current(), Some(id(2)));
}
