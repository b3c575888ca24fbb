//! Test harness shared by the host tests: a one-CPU "kernel" that carries out every decision the
//! policy returns, checks it is coherent (the dispatcher it names is the one running, and the CPU
//! ends up where the policy thinks), and counts how many ticks each dispatcher ran.
//!
//! Time is abstract ticks here; [`Sim::step`] advances one. The random simulation (`random.rs`)
//! drives several CPUs itself and only borrows the small helpers.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::{BTreeMap, BTreeSet};

use k42_sched::{Class, Config, Decision, DispatcherId, Scheduler, Time, Weight};

/// Capacity of a simulated CPU's table: more than any test adds.
pub const CAP: usize = 16;

/// The dispatcher with this number.
pub fn id(n: u32) -> DispatcherId {
    DispatcherId(n)
}

/// A weight that must be valid.
pub fn w(n: u16) -> Weight {
    Weight::new(n).expect("nonzero weight")
}

/// A scheduler with a small quantum and grace, in ticks.
pub fn sched(quantum: Time, grace: Time) -> Scheduler<CAP> {
    Scheduler::new(Config::new(quantum, grace).expect("positive config"))
}

/// A one-CPU kernel around a scheduler.
pub struct Sim {
    pub s: Scheduler<CAP>,
    pub now: Time,
    /// What the simulated CPU is running, as the decisions said.
    pub running: Option<DispatcherId>,
    /// The dispatcher that has a PREEMPT posted and has not yet yielded or been preempted.
    pub preempt_posted: Option<DispatcherId>,
    /// Dispatchers whose runtime yields on the first tick after a PREEMPT; the others spin (as
    /// if disabled) and must be preempted hard.
    pub cooperative: BTreeSet<DispatcherId>,
    /// Ticks each dispatcher ran.
    pub ran: BTreeMap<DispatcherId, u64>,
    /// Every decision other than `Continue`, with its time.
    pub log: Vec<(Time, Decision)>,
}

impl Sim {
    pub fn new(quantum: Time, grace: Time) -> Sim {
        Sim {
            s: sched(quantum, grace),
            now: 0,
            running: None,
            preempt_posted: None,
            cooperative: BTreeSet::new(),
            ran: BTreeMap::new(),
            log: Vec::new(),
        }
    }

    /// Adds and starts a dispatcher; `cooperative` says whether it answers PREEMPT.
    pub fn spawn(&mut self, n: u32, class: Class, weight: u16, cooperative: bool) {
        self.s.add(id(n), class, w(weight)).expect("add");
        if cooperative {
            self.cooperative.insert(id(n));
        }
        let d = self.s.wake(id(n), self.now).expect("wake");
        self.apply(d);
    }

    /// Carries out a decision the way the kernel would and checks it against the policy.
    pub fn apply(&mut self, d: Decision) {
        match d {
            Decision::Continue => {}
            Decision::SoftPreempt(who) => {
                assert_eq!(
                    self.running,
                    Some(who),
                    "PREEMPT posted to a dispatcher not running"
                );
                self.preempt_posted = Some(who);
            }
            Decision::HardPreempt { from, to } => {
                assert_eq!(
                    self.running,
                    Some(from),
                    "hard preemption of one not running"
                );
                assert_eq!(
                    self.preempt_posted,
                    Some(from),
                    "hard preemption without a PREEMPT"
                );
                self.running = Some(to);
                self.preempt_posted = None;
            }
            Decision::Switch { to, .. } => {
                self.running = Some(to);
                self.preempt_posted = None;
            }
            Decision::Idle => {
                self.running = None;
                self.preempt_posted = None;
            }
        }
        if d != Decision::Continue {
            self.log.push((self.now, d));
        }
        assert_eq!(
            self.running,
            self.s.current(),
            "CPU and policy disagree after {d:?}"
        );
        self.s.audit().expect("scheduler invariants");
    }

    /// One tick: a cooperative dispatcher with a PREEMPT pending yields, the timer fires, and the
    /// dispatcher then on the CPU is credited with the tick.
    pub fn step(&mut self) {
        if let Some(who) = self.preempt_posted
            && self.cooperative.contains(&who)
        {
            let d = self.s.yield_now(self.now).expect("yield");
            self.preempt_posted = None;
            self.apply(d);
        }
        let d = self.s.tick(self.now);
        self.apply(d);
        if let Some(who) = self.running {
            *self.ran.entry(who).or_default() += 1;
        }
        self.now += 1;
    }

    /// Runs `ticks` steps.
    pub fn run(&mut self, ticks: Time) {
        for _ in 0..ticks {
            self.step();
        }
    }

    /// Ticks the dispatcher has run so far.
    pub fn ran(&self, n: u32) -> u64 {
        self.ran.get(&id(n)).copied().unwrap_or(0)
    }

    /// Reports a wake-up now and carries out the decision.
    pub fn wake(&mut self, n: u32) -> Decision {
        let d = self.s.wake(id(n), self.now).expect("wake");
        self.apply(d);
        d
    }

    /// Reports a block now and carries out the decision.
    pub fn block(&mut self, n: u32) -> Decision {
        let d = self.s.block(id(n), self.now).expect("block");
        self.apply(d);
        d
    }

    /// Removes a dispatcher now and carries out the decision.
    pub fn remove(&mut self, n: u32) -> Decision {
        let d = self.s.remove(id(n), self.now).expect("remove");
        self.cooperative.remove(&id(n));
        self.apply(d);
        d
    }

    /// The running dispatcher hands off now; carries out the decision.
    pub fn handoff(&mut self, n: u32) -> Decision {
        let d = self.s.handoff(id(n), self.now).expect("handoff");
        self.apply(d);
        d
    }
}

/// A xorshift64 generator: deterministic, seedable, no dependency.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        // Zero is xorshift's one fixed point; any other seed works.
        XorShift(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-enough in `0..n` for a test.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
