//! Arrivals, departures and the small print of each event: removing the running dispatcher,
//! redundant wakes and blocks, capacity, idling, `pick_next`, and the constructors that refuse
//! values the policy cannot honour.

mod common;

use common::{id, sched, w};
use k42_sched::{Class, Config, Decision, SchedError, Scheduler, Weight};

const QUANTUM: u64 = 10;
const GRACE: u64 = 3;

#[test]
fn removing_the_running_dispatcher_switches_or_idles() {
    let mut s = sched(QUANTUM, GRACE);
    for n in 1..=2 {
        s.add(id(n), Class::Application, w(1)).unwrap();
        let _ = s.wake(id(n), 0).unwrap();
    }
    assert_eq!(
        s.remove(id(1), 4).unwrap(),
        Decision::Switch {
            from: None,
            to: id(2)
        }
    );
    assert!(!s.contains(id(1)));
    // The successor gets a full quantum from the removal.
    assert_eq!(s.next_deadline(), Some(4 + QUANTUM));
    assert_eq!(s.remove(id(2), 6).unwrap(), Decision::Idle);
    assert!(s.is_empty());
    assert_eq!(s.current(), None);
    assert_eq!(s.next_deadline(), None);
    assert_eq!(s.tick(7), Decision::Idle);
}

#[test]
fn removing_the_running_one_during_grace() {
    let mut s = sched(QUANTUM, GRACE);
    for n in 1..=2 {
        s.add(id(n), Class::Application, w(1)).unwrap();
        let _ = s.wake(id(n), 0).unwrap();
    }
    assert_eq!(s.tick(QUANTUM), Decision::SoftPreempt(id(1)));
    assert_eq!(
        s.remove(id(1), QUANTUM + 1).unwrap(),
        Decision::Switch {
            from: None,
            to: id(2)
        }
    );
    assert!(!s.preempt_pending());
}

#[test]
fn removing_a_waiting_dispatcher_leaves_the_running_one() {
    let mut s = sched(QUANTUM, GRACE);
    for n in 1..=2 {
        s.add(id(n), Class::Application, w(1)).unwrap();
        let _ = s.wake(id(n), 0).unwrap();
    }
    assert_eq!(s.remove(id(2), 4).unwrap(), Decision::Continue);
    assert_eq!(s.tick(QUANTUM), Decision::Continue); // nobody left to give way to
    assert_eq!(s.remove(id(2), 5), Err(SchedError::Unknown(id(2))));
}

#[test]
fn blocking_the_running_dispatcher_switches_or_idles() {
    let mut s = sched(QUANTUM, GRACE);
    s.add(id(1), Class::Application, w(1)).unwrap();
    s.add(id(2), Class::Idle, w(1)).unwrap();
    let _ = s.wake(id(1), 0).unwrap();
    let _ = s.wake(id(2), 0).unwrap();
    assert_eq!(
        s.block(id(1), 2).unwrap(),
        Decision::Switch {
            from: Some(id(1)),
            to: id(2)
        }
    );
    assert_eq!(s.block(id(2), 3).unwrap(), Decision::Idle);
    assert_eq!(
        s.wake(id(2), 4).unwrap(),
        Decision::Switch {
            from: None,
            to: id(2)
        }
    );
}

#[test]
fn redundant_wakes_and_blocks_are_harmless() {
    let mut s = sched(QUANTUM, GRACE);
    s.add(id(1), Class::Application, w(1)).unwrap();
    s.add(id(2), Class::Application, w(1)).unwrap();
    assert_eq!(s.block(id(2), 0).unwrap(), Decision::Idle); // already blocked, CPU idle
    let _ = s.wake(id(1), 0).unwrap();
    assert_eq!(s.wake(id(1), 1).unwrap(), Decision::Continue);
    assert_eq!(s.block(id(2), 1).unwrap(), Decision::Continue);
    assert_eq!(s.wake(id(3), 1), Err(SchedError::Unknown(id(3))));
    assert_eq!(s.block(id(3), 1), Err(SchedError::Unknown(id(3))));
    s.audit().unwrap();
}

#[test]
fn a_waiting_dispatcher_can_be_blocked() {
    let mut s = sched(QUANTUM, GRACE);
    for n in 1..=2 {
        s.add(id(n), Class::Application, w(1)).unwrap();
        let _ = s.wake(id(n), 0).unwrap();
    }
    assert_eq!(s.block(id(2), 1).unwrap(), Decision::Continue);
    assert_eq!(s.tick(QUANTUM), Decision::Continue);
}

#[test]
fn capacity_and_duplicates() {
    let mut s: Scheduler<2> = Scheduler::new(Config::default());
    s.add(id(1), Class::System, w(1)).unwrap();
    assert_eq!(
        s.add(id(1), Class::System, w(1)),
        Err(SchedError::Duplicate(id(1)))
    );
    s.add(id(2), Class::System, w(1)).unwrap();
    assert_eq!(s.add(id(3), Class::System, w(1)), Err(SchedError::Full));
    let _ = s.remove(id(1), 0).unwrap();
    s.add(id(3), Class::Application, w(1)).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s.class_of(id(3)), Some(Class::Application));
}

#[test]
fn pick_next_reports_the_running_one_or_none() {
    let mut s = sched(QUANTUM, GRACE);
    assert_eq!(s.pick_next(0), None);
    s.add(id(1), Class::Application, w(1)).unwrap();
    assert_eq!(s.pick_next(0), None); // added but not started
    let _ = s.wake(id(1), 0).unwrap();
    assert_eq!(s.pick_next(1), Some(id(1)));
    assert_eq!(s.highest_runnable_class(), Some(Class::Application));
}

#[test]
fn constructors_refuse_what_cannot_be_honoured() {
    assert_eq!(Weight::new(0), None);
    assert_eq!(Weight::new(5).map(Weight::get), Some(5));
    assert_eq!(Weight::default(), Weight::DEFAULT);
    assert_eq!(Config::new(0, 1), None);
    assert_eq!(Config::new(1, 0), None);
    let c = Config::default();
    assert_eq!(
        (c.quantum(), c.grace()),
        (k42_sched::DEFAULT_QUANTUM_NS, k42_sched::DEFAULT_GRACE_NS)
    );
    assert!(Class::System > Class::Application && Class::Application > Class::Idle);
    assert_eq!(Class::ALL[0], Class::System);
}

#[test]
fn time_going_backwards_is_not_charged() {
    let mut s = sched(QUANTUM, GRACE);
    for n in 1..=2 {
        s.add(id(n), Class::Application, w(1)).unwrap();
        let _ = s.wake(id(n), 5).unwrap();
    }
    assert_eq!(s.tick(3), Decision::Continue);
    assert_eq!(s.tick(5 + QUANTUM), Decision::SoftPreempt(id(1)));
}
