//! Soft-then-hard preemption, to the exact tick: when the PREEMPT is posted, when the hard
//! preemption follows, what a yield inside the grace period changes, and when the policy stands
//! down. The dispatchers here never yield unless the test says so, which is also how a *disabled*
//! dispatcher behaves: the policy treats it the same (it cannot know the flag), and the kernel
//! just leaves the PREEMPT bit for it (see the crate docs).

mod common;

use common::{id, sched, w};
use k42_sched::{Class, Decision};

const QUANTUM: u64 = 10;
const GRACE: u64 = 3;

/// A and B, equal applications; A is running from time 0.
fn two_apps() -> k42_sched::Scheduler<{ common::CAP }> {
    let mut s = sched(QUANTUM, GRACE);
    s.add(id(1), Class::Application, w(1)).unwrap();
    s.add(id(2), Class::Application, w(1)).unwrap();
    let first = s.wake(id(1), 0).unwrap();
    assert_eq!(
        first,
        Decision::Switch {
            from: None,
            to: id(1)
        }
    );
    assert_eq!(s.wake(id(2), 0).unwrap(), Decision::Continue);
    s
}

#[test]
fn soft_at_quantum_end_then_hard_after_grace_exact_ticks() {
    let mut s = two_apps();
    for t in 1..QUANTUM {
        assert_eq!(s.tick(t), Decision::Continue, "t={t}");
    }
    assert_eq!(s.tick(QUANTUM), Decision::SoftPreempt(id(1)));
    assert!(s.preempt_pending());
    assert_eq!(s.next_deadline(), Some(QUANTUM + GRACE));
    for t in QUANTUM + 1..QUANTUM + GRACE {
        assert_eq!(s.tick(t), Decision::Continue, "t={t}");
    }
    let hard = QUANTUM + GRACE;
    assert_eq!(
        s.tick(hard),
        Decision::HardPreempt {
            from: id(1),
            to: id(2)
        }
    );
    assert!(!s.preempt_pending());
    // B's quantum starts at the hard preemption. A was charged for its grace overrun (13 ticks
    // against B's 10 at B's quantum end), so B is still due then and runs a second quantum before
    // the cycle repeats for it.
    assert_eq!(s.next_deadline(), Some(hard + QUANTUM));
    let b_second_end = hard + 2 * QUANTUM;
    for t in hard + 1..b_second_end {
        assert_eq!(s.tick(t), Decision::Continue, "t={t}");
    }
    assert_eq!(s.tick(b_second_end), Decision::SoftPreempt(id(2)));
    assert_eq!(
        s.tick(b_second_end + GRACE),
        Decision::HardPreempt {
            from: id(2),
            to: id(1)
        }
    );
}

#[test]
fn coarse_ticks_act_at_the_first_tick_past_each_deadline() {
    let mut s = two_apps();
    let coarse = 7;
    assert_eq!(s.tick(coarse), Decision::Continue);
    // Quantum ended at 10; noticed at 14, so the grace runs from 14 to 17, acted on at 21.
    assert_eq!(s.tick(2 * coarse), Decision::SoftPreempt(id(1)));
    assert_eq!(s.next_deadline(), Some(2 * coarse + GRACE));
    assert_eq!(
        s.tick(3 * coarse),
        Decision::HardPreempt {
            from: id(1),
            to: id(2)
        }
    );
}

#[test]
fn yield_inside_grace_avoids_the_hard_preemption() {
    let mut s = two_apps();
    assert_eq!(s.tick(QUANTUM), Decision::SoftPreempt(id(1)));
    let answered = QUANTUM + 1;
    assert_eq!(
        s.yield_now(answered).unwrap(),
        Decision::Switch {
            from: Some(id(1)),
            to: id(2)
        }
    );
    assert!(!s.preempt_pending());
    // Nothing hard happens at the old deadline; B has a full quantum from its start, and a second
    // one since A ran 11 ticks to its 10.
    assert_eq!(s.tick(QUANTUM + GRACE), Decision::Continue);
    assert_eq!(s.next_deadline(), Some(answered + QUANTUM));
    assert_eq!(s.tick(answered + QUANTUM), Decision::Continue);
    assert_eq!(s.tick(answered + 2 * QUANTUM), Decision::SoftPreempt(id(2)));
}

#[test]
fn higher_class_wake_posts_preempt_at_once_and_hard_after_grace() {
    let mut s = two_apps();
    s.add(id(9), Class::System, w(1)).unwrap();
    let woke = 4;
    assert_eq!(s.wake(id(9), woke).unwrap(), Decision::SoftPreempt(id(1)));
    for t in woke + 1..woke + GRACE {
        assert_eq!(s.tick(t), Decision::Continue, "t={t}");
    }
    assert_eq!(
        s.tick(woke + GRACE),
        Decision::HardPreempt {
            from: id(1),
            to: id(9)
        }
    );
}

#[test]
fn a_second_reason_during_grace_does_not_repost_or_extend() {
    let mut s = two_apps();
    assert_eq!(s.tick(QUANTUM), Decision::SoftPreempt(id(1)));
    s.add(id(9), Class::System, w(1)).unwrap();
    assert_eq!(s.wake(id(9), QUANTUM + 1).unwrap(), Decision::Continue);
    assert_eq!(
        s.tick(QUANTUM + GRACE),
        Decision::HardPreempt {
            from: id(1),
            to: id(9)
        }
    );
}

#[test]
fn stands_down_when_the_reason_goes_away() {
    let mut s = two_apps();
    s.add(id(9), Class::System, w(1)).unwrap();
    assert_eq!(s.wake(id(9), 2).unwrap(), Decision::SoftPreempt(id(1)));
    assert_eq!(s.block(id(9), 3).unwrap(), Decision::Continue);
    // At the deadline nothing outranks A and its quantum is not over: it keeps the CPU.
    assert_eq!(s.tick(2 + GRACE), Decision::Continue);
    assert!(!s.preempt_pending());
    assert_eq!(s.current(), Some(id(1)));
    // Its quantum still ends on time.
    assert_eq!(s.tick(QUANTUM), Decision::SoftPreempt(id(1)));
}

#[test]
fn lone_dispatcher_is_never_preempted() {
    let mut s = sched(QUANTUM, GRACE);
    s.add(id(1), Class::Application, w(1)).unwrap();
    assert_eq!(
        s.wake(id(1), 0).unwrap(),
        Decision::Switch {
            from: None,
            to: id(1)
        }
    );
    for t in 1..20 * QUANTUM {
        assert_eq!(s.tick(t), Decision::Continue, "t={t}");
    }
    // A lower class waiting changes nothing either.
    s.add(id(2), Class::Idle, w(1)).unwrap();
    assert_eq!(s.wake(id(2), 20 * QUANTUM).unwrap(), Decision::Continue);
    for t in 20 * QUANTUM..40 * QUANTUM {
        assert_eq!(s.tick(t), Decision::Continue, "t={t}");
    }
}

#[test]
fn heavy_dispatcher_runs_quanta_back_to_back() {
    // Weight 3 against 1: stride says A is still due after one and after two quanta of its own,
    // so it is asked to give way only after its third (see the crate docs).
    let mut s = sched(QUANTUM, GRACE);
    s.add(id(1), Class::Application, w(3)).unwrap();
    s.add(id(2), Class::Application, w(1)).unwrap();
    let _ = s.wake(id(1), 0).unwrap();
    let _ = s.wake(id(2), 0).unwrap();
    // A: 0..13 (pass 13/3); B: 13..26 (pass 13); A again from 26.
    assert_eq!(s.tick(10), Decision::SoftPreempt(id(1)));
    assert_eq!(
        s.tick(13),
        Decision::HardPreempt {
            from: id(1),
            to: id(2)
        }
    );
    assert_eq!(s.tick(23), Decision::SoftPreempt(id(2)));
    assert_eq!(
        s.tick(26),
        Decision::HardPreempt {
            from: id(2),
            to: id(1)
        }
    );
    // From 26, A's pass (13/3) grows by 1/3 a tick. At its quantum ends it is 23/3 (t=36) and
    // 33/3 (t=46), still below B's 13, so A just continues; at t=56 it is 43/3, past B's.
    let soft_at = (27..80).find(|&t| s.tick(t) != Decision::Continue);
    assert_eq!(soft_at, Some(56));
}

#[test]
fn voluntary_yield_costs_a_whole_quantum_of_share() {
    // A (weight 2) and B (weight 1) take a turn each, answering PREEMPT: A's pass is then 5, B's
    // 10. A yields unprompted one tick into its next turn. Charged for that tick only it would
    // still be due (5.5 < 10) and the yield would do nothing; charged its whole quantum it is at
    // 10, level with B, who has waited longer and runs.
    let mut s = sched(QUANTUM, GRACE);
    s.add(id(1), Class::Application, w(2)).unwrap();
    s.add(id(2), Class::Application, w(1)).unwrap();
    let _ = s.wake(id(1), 0).unwrap();
    let _ = s.wake(id(2), 0).unwrap();
    assert_eq!(s.tick(QUANTUM), Decision::SoftPreempt(id(1)));
    let _ = s.yield_now(QUANTUM).unwrap();
    assert_eq!(s.tick(2 * QUANTUM), Decision::SoftPreempt(id(2)));
    assert_eq!(
        s.yield_now(2 * QUANTUM).unwrap(),
        Decision::Switch {
            from: Some(id(2)),
            to: id(1)
        }
    );
    assert_eq!(
        s.yield_now(2 * QUANTUM + 1).unwrap(),
        Decision::Switch {
            from: Some(id(1)),
            to: id(2)
        }
    );
}

#[test]
fn yield_with_nobody_else_due_continues() {
    let mut s = sched(QUANTUM, GRACE);
    s.add(id(1), Class::Application, w(1)).unwrap();
    let _ = s.wake(id(1), 0).unwrap();
    assert_eq!(s.yield_now(3).unwrap(), Decision::Continue);
    assert_eq!(s.next_deadline(), Some(3 + QUANTUM));
}
