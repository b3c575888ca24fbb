//! Strict priority classes: servers before applications before background work, always, and a
//! spinning application that cannot keep a periodically waking server off the CPU for more than
//! a tick (DESIGN.md §1: servers run above applications).

mod common;

use common::Sim;
use k42_sched::{Class, Decision};

const QUANTUM: u64 = 10;
const GRACE: u64 = 2;
/// Grace of one tick, the setting under which a server must run within one tick of waking.
const ONE_TICK: u64 = 1;

const SERVER: u32 = 1;
const APP: u32 = 2;
const BACKGROUND: u32 = 3;

#[test]
fn higher_class_always_runs_first() {
    let mut sim = Sim::new(QUANTUM, GRACE);
    sim.spawn(BACKGROUND, Class::Idle, 100, true);
    sim.spawn(APP, Class::Application, 1, true);
    sim.spawn(SERVER, Class::System, 1, true);
    let long = 50 * QUANTUM;
    sim.run(long);
    // The server took over within the grace period of arriving and then kept the CPU throughout,
    // whatever the weights.
    assert!(
        sim.ran(SERVER) >= long - GRACE - 1,
        "server ran {}",
        sim.ran(SERVER)
    );
    assert_eq!(
        sim.block(SERVER),
        Decision::Switch {
            from: Some(common::id(SERVER)),
            to: common::id(APP)
        }
    );
    sim.run(long);
    assert_eq!(
        sim.ran(BACKGROUND),
        0,
        "background ran while an application was runnable"
    );
    assert_eq!(
        sim.block(APP),
        Decision::Switch {
            from: Some(common::id(APP)),
            to: common::id(BACKGROUND)
        }
    );
    sim.run(long);
    assert_eq!(sim.ran(BACKGROUND), long);
}

#[test]
fn wake_of_higher_class_preempts_lower_and_lower_resumes_after() {
    let mut sim = Sim::new(QUANTUM, GRACE);
    sim.spawn(APP, Class::Application, 1, true);
    sim.spawn(BACKGROUND, Class::Idle, 1, true);
    sim.s
        .add(common::id(SERVER), Class::System, common::w(1))
        .unwrap();
    sim.run(3);
    let d = sim.wake(SERVER);
    assert_eq!(d, Decision::SoftPreempt(common::id(APP)));
    sim.step(); // the application answers the PREEMPT
    assert_eq!(sim.running, Some(common::id(SERVER)));
    let d = sim.block(SERVER);
    assert_eq!(
        d,
        Decision::Switch {
            from: Some(common::id(SERVER)),
            to: common::id(APP)
        }
    );
}

/// A server that wakes every `PERIOD` ticks and works `WORK` ticks, against an application that
/// spins and never answers PREEMPT (or is disabled). With a one-tick grace the server must be on
/// the CPU by the tick after each wake-up, and get all the time it asks for.
#[test]
fn spinning_app_never_starves_a_periodic_server() {
    const PERIOD: u64 = 37;
    const WORK: u64 = 3;
    const ROUNDS: u64 = 200;
    let mut sim = Sim::new(QUANTUM, ONE_TICK);
    sim.spawn(APP, Class::Application, 1, false);
    sim.s
        .add(common::id(SERVER), Class::System, common::w(1))
        .unwrap();
    for round in 0..ROUNDS {
        let woke = sim.now;
        let d = sim.wake(SERVER);
        assert_eq!(d, Decision::SoftPreempt(common::id(APP)), "round {round}");
        sim.step(); // the tick of the wake-up: the application still has the CPU
        sim.step(); // one tick later: hard preemption
        assert_eq!(sim.running, Some(common::id(SERVER)), "round {round}");
        assert!(sim.now - 1 - woke <= ONE_TICK);
        sim.run(WORK - 1);
        let d = sim.block(SERVER);
        assert_eq!(
            d,
            Decision::Switch {
                from: Some(common::id(SERVER)),
                to: common::id(APP)
            }
        );
        sim.run(PERIOD - WORK - 1);
    }
    assert_eq!(sim.ran(SERVER), ROUNDS * WORK);
    assert_eq!(sim.ran(APP), ROUNDS * (PERIOD - WORK));
}

#[test]
fn cooperative_app_hands_over_the_tick_the_server_wakes() {
    let mut sim = Sim::new(QUANTUM, GRACE);
    sim.spawn(APP, Class::Application, 1, true);
    sim.s
        .add(common::id(SERVER), Class::System, common::w(1))
        .unwrap();
    sim.run(5);
    assert_eq!(sim.wake(SERVER), Decision::SoftPreempt(common::id(APP)));
    sim.step();
    // Its runtime yielded as soon as it saw the PREEMPT, so the server ran the very tick it woke
    // and no hard preemption was needed.
    assert!(
        !sim.log
            .iter()
            .any(|(_, d)| matches!(d, Decision::HardPreempt { .. }))
    );
    assert_eq!(sim.running, Some(common::id(SERVER)));
    assert_eq!(sim.ran(SERVER), 1);
}
