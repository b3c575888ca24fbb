//! Shares within a class: CPU time in proportion to weight over a long run, round robin for equal
//! weights, no credit banked while blocked, and a bound on how long any runnable dispatcher can
//! wait for its turn (no starvation within a class).

mod common;

use common::{Sim, XorShift};
use k42_sched::Class;

const QUANTUM: u64 = 10;
const GRACE: u64 = 2;
/// Long enough that one quantum of rounding per dispatcher is far below the tolerance.
const LONG_RUN: u64 = 140_000;
/// Allowed relative error of a share.
const TOLERANCE: f64 = 0.02;

fn assert_share(sim: &Sim, n: u32, expected: f64) {
    let got = sim.ran(n) as f64 / sim.now as f64;
    let err = (got - expected).abs() / expected;
    assert!(
        err <= TOLERANCE,
        "dispatcher {n}: share {got:.4}, expected {expected:.4} (error {:.2}%)",
        err * 100.0
    );
}

#[test]
fn weights_1_2_4_get_1_2_4_sevenths() {
    for cooperative in [true, false] {
        let mut sim = Sim::new(QUANTUM, GRACE);
        sim.spawn(1, Class::Application, 1, cooperative);
        sim.spawn(2, Class::Application, 2, cooperative);
        sim.spawn(4, Class::Application, 4, cooperative);
        sim.run(LONG_RUN);
        for n in [1, 2, 4] {
            assert_share(&sim, n, f64::from(n) / 7.0);
            println!(
                "cooperative={cooperative} weight {n}: {:.4} of the CPU (ideal {:.4})",
                sim.ran(n) as f64 / sim.now as f64,
                f64::from(n) / 7.0
            );
        }
    }
}

#[test]
fn shares_hold_in_every_class_and_mixed_answering() {
    // Background dispatchers of weights 3 and 1, one answering PREEMPT and one not.
    let mut sim = Sim::new(QUANTUM, GRACE);
    sim.spawn(1, Class::Idle, 3, true);
    sim.spawn(2, Class::Idle, 1, false);
    sim.run(LONG_RUN);
    assert_share(&sim, 1, 0.75);
    assert_share(&sim, 2, 0.25);
}

#[test]
fn equal_weights_take_turns() {
    let mut sim = Sim::new(QUANTUM, GRACE);
    for n in 1..=3 {
        sim.spawn(n, Class::Application, 1, true);
    }
    sim.run(30 * QUANTUM);
    let order: Vec<_> = sim
        .log
        .iter()
        .filter_map(|(_, d)| match d {
            k42_sched::Decision::Switch { to, .. } => Some(to.0),
            _ => None,
        })
        .collect();
    assert_eq!(
        &order[..7],
        &[1, 2, 3, 1, 2, 3, 1],
        "switch order {order:?}"
    );
}

#[test]
fn block_and_wake_does_not_hoard_credit() {
    const ASLEEP: u64 = 1_000;
    const AFTER: u64 = 200;
    let mut sim = Sim::new(QUANTUM, GRACE);
    sim.spawn(1, Class::Application, 1, true);
    sim.spawn(2, Class::Application, 1, true);
    let _ = sim.block(2);
    sim.run(ASLEEP);
    let _ = sim.wake(2);
    let a_before = sim.ran(1);
    sim.run(AFTER);
    let (a, b) = (sim.ran(1) - a_before, sim.ran(2));
    // Without the floor B would run all 200 ticks to "catch up" on the 1,000 it slept. With it,
    // B gets the next turn and then half, give or take one quantum and grace.
    let slack = QUANTUM + GRACE;
    assert!(b <= AFTER / 2 + slack, "B ran {b} of {AFTER} after waking");
    assert!(a + slack >= AFTER / 2, "A ran {a} of {AFTER} after B woke");
    let b_first = sim.log.iter().find(|(t, d)| {
        *t >= ASLEEP && matches!(d, k42_sched::Decision::Switch { to, .. } if to.0 == 2)
    });
    let (t, _) = b_first.expect("B ran after waking");
    assert!(
        *t <= ASLEEP + slack,
        "B waited until {t} for its first turn"
    );
}

#[test]
fn no_hoarding_when_the_class_empties_in_between() {
    // A runs alone while B sleeps, then A blocks and B wakes to an otherwise empty class. B must
    // still not come back with the 1,000 ticks it slept as credit against A: the class floor
    // remembers A's progress after A has left.
    const ALONE: u64 = 1_000;
    const AFTER: u64 = 200;
    let mut sim = Sim::new(QUANTUM, GRACE);
    sim.spawn(1, Class::Application, 1, true);
    sim.spawn(2, Class::Application, 1, true);
    let _ = sim.block(2);
    sim.run(ALONE);
    let _ = sim.block(1);
    let _ = sim.wake(2);
    sim.step();
    let _ = sim.wake(1);
    let (a0, b0) = (sim.ran(1), sim.ran(2));
    sim.run(AFTER);
    let (a, b) = (sim.ran(1) - a0, sim.ran(2) - b0);
    let slack = QUANTUM + GRACE + 1;
    assert!(b <= AFTER / 2 + slack, "B ran {b} of {AFTER}, A {a}");
    assert!(a + slack >= AFTER / 2, "A ran {a} of {AFTER}, B {b}");
}

/// The longest a runnable dispatcher of weight `w` can wait, under stride scheduling, while peers
/// of weights `peers` run: each peer runs until its pass exceeds the waiting one's, which is at
/// most a quantum-plus-grace of the waiting one's time scaled by the weight ratio, plus its own
/// last quantum-plus-grace, plus the tick a cooperative dispatcher takes to answer.
fn wait_bound(w: u64, peers: &[u64]) -> u64 {
    let turn = QUANTUM + GRACE + 1;
    peers.iter().map(|p| turn * p.div_ceil(w) + turn).sum()
}

/// Runs a weight-1 dispatcher against heavier peers that, with `churn`, block and wake at random
/// (trying to jump the queue on waking), and returns its longest wait for the CPU, checked
/// against [`wait_bound`] at every tick.
fn longest_wait(churn: bool, seed: u64) -> u64 {
    const WATCHED: u32 = 1;
    const PEERS: [(u32, u16); 3] = [(2, 10), (3, 100), (4, 7)];
    const STEPS: u64 = 100_000;
    let mut rng = XorShift::new(seed);
    let mut sim = Sim::new(QUANTUM, GRACE);
    sim.spawn(WATCHED, Class::Application, 1, true);
    for (n, weight) in PEERS {
        sim.spawn(n, Class::Application, weight, rng.below(2) == 0);
    }
    let bound = wait_bound(1, &PEERS.map(|(_, w)| u64::from(w)));
    let (mut last_ran, mut worst) = (0, 0);
    for _ in 0..STEPS {
        if churn {
            let (n, _) = PEERS[rng.below(PEERS.len() as u64) as usize];
            match rng.below(8) {
                0 if sim.s.is_runnable(common::id(n)) => {
                    let _ = sim.block(n);
                }
                1 => {
                    let _ = sim.wake(n);
                }
                _ => {}
            }
        }
        sim.step();
        if sim.running == Some(common::id(WATCHED)) {
            last_ran = sim.now;
        }
        worst = worst.max(sim.now - last_ran);
        assert!(worst <= bound, "watched waited {worst} > {bound}");
    }
    assert!(sim.ran(WATCHED) > 0);
    println!("churn={churn}: longest wait {worst} ticks, bound {bound}");
    worst
}

#[test]
fn nobody_starves_within_a_class() {
    // Spinning peers of weight 117 in all make the weight-1 dispatcher wait about 117 quanta.
    let calm = longest_wait(false, 1);
    assert!(
        calm >= 117 * QUANTUM,
        "the bound is not being exercised: {calm}"
    );
    for seed in [0x5eed_1234, 7, 42] {
        longest_wait(true, seed);
    }
}
