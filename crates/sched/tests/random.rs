//! A randomized simulation of several CPUs, each with its own scheduler, under a random stream of
//! every event (arrivals, departures, migrations between CPUs, wakes, blocks, yields, handoffs,
//! ticks at uneven times). An independent model of who is on which CPU and who is runnable checks
//! every decision: the dispatcher picked is runnable, on that CPU and of the highest runnable class
//! there; a lower class never keeps the CPU past the grace period once a higher one is runnable;
//! no dispatcher is running on two CPUs at once; refused events change nothing; and the
//! scheduler's own `audit` holds after every event.

mod common;

use std::collections::BTreeMap;

use common::{CAP, XorShift, id, w};
use k42_sched::{Class, Config, Decision, DispatcherId, SchedError, Scheduler, Time};

const CPUS: usize = 4;
/// More ids than fit on one CPU, so `Full` happens too.
const IDS: u64 = 40;
const STEPS: usize = 60_000;
const SEEDS: [u64; 4] = [1, 0xdead_beef, 0x1234_5678_9abc, 77];
const QUANTUM: Time = 10;
const GRACE: Time = 3;
const MAX_WEIGHT: u64 = 8;
/// Largest time step between events.
const MAX_ADVANCE: u64 = 3;

/// What the model knows of a dispatcher.
#[derive(Clone, Copy)]
struct Known {
    cpu: usize,
    class: Class,
    weight: u16,
    runnable: bool,
}

struct Cpu {
    s: Scheduler<CAP>,
    /// What this CPU runs, as the decisions said.
    running: Option<DispatcherId>,
    /// Since when a higher class than the running one has been runnable here.
    outranked_since: Option<Time>,
}

struct World {
    cpus: Vec<Cpu>,
    model: BTreeMap<DispatcherId, Known>,
    now: Time,
    decisions: BTreeMap<&'static str, u64>,
    /// How often each event was accepted or refused, to show every path ran.
    events: BTreeMap<&'static str, u64>,
}

fn kind(d: &Decision) -> &'static str {
    match d {
        Decision::Continue => "Continue",
        Decision::SoftPreempt(_) => "SoftPreempt",
        Decision::HardPreempt { .. } => "HardPreempt",
        Decision::Switch { .. } => "Switch",
        Decision::Idle => "Idle",
    }
}

impl World {
    fn new() -> World {
        let config = Config::new(QUANTUM, GRACE).unwrap();
        World {
            cpus: (0..CPUS)
                .map(|_| Cpu {
                    s: Scheduler::new(config),
                    running: None,
                    outranked_since: None,
                })
                .collect(),
            model: BTreeMap::new(),
            now: 0,
            decisions: BTreeMap::new(),
            events: BTreeMap::new(),
        }
    }

    fn top_class(&self, cpu: usize) -> Option<Class> {
        self.model
            .values()
            .filter(|k| k.cpu == cpu && k.runnable)
            .map(|k| k.class)
            .max()
    }

    /// Checks a decision on `cpu` against the model and carries it out.
    fn apply(&mut self, cpu: usize, d: Decision) {
        *self.decisions.entry(kind(&d)).or_default() += 1;
        let prev = self.cpus[cpu].running;
        let check_pick = |world: &World, to: DispatcherId| {
            let k = world
                .model
                .get(&to)
                .expect("picked a dispatcher the model does not know");
            assert_eq!(k.cpu, cpu, "picked {to:?} from another CPU");
            assert!(k.runnable, "picked {to:?}, which is blocked");
            assert_eq!(
                Some(k.class),
                world.top_class(cpu),
                "picked {to:?} below the top class"
            );
        };
        let next = match d {
            Decision::Continue => prev,
            Decision::SoftPreempt(who) => {
                assert_eq!(prev, Some(who), "PREEMPT to a dispatcher not running");
                prev
            }
            Decision::HardPreempt { from, to } => {
                assert_eq!(prev, Some(from));
                assert_ne!(from, to);
                check_pick(self, to);
                Some(to)
            }
            Decision::Switch { from, to } => {
                if from.is_some() {
                    assert_eq!(from, prev, "switch reports the wrong dispatcher leaving");
                }
                check_pick(self, to);
                Some(to)
            }
            Decision::Idle => {
                assert_eq!(self.top_class(cpu), None, "idle with a runnable dispatcher");
                None
            }
        };
        self.cpus[cpu].running = next;
        assert_eq!(
            next,
            self.cpus[cpu].s.current(),
            "CPU and policy disagree after {d:?}"
        );
        self.cpus[cpu].s.audit().expect("scheduler invariants");
        self.check_global(cpu);
    }

    /// Invariants across the whole machine after an event on `cpu`.
    fn check_global(&mut self, cpu: usize) {
        let mut seen = Vec::new();
        for (c, state) in self.cpus.iter().enumerate() {
            if let Some(r) = state.running {
                assert!(!seen.contains(&r), "{r:?} runs on two CPUs at once");
                seen.push(r);
                let k = self.model[&r];
                assert!(
                    k.runnable && k.cpu == c,
                    "{r:?} runs but is blocked or elsewhere"
                );
            }
        }
        let running_class = self.cpus[cpu].running.map(|r| self.model[&r].class);
        let outranked = self.top_class(cpu) > running_class;
        let now = self.now;
        let since = &mut self.cpus[cpu].outranked_since;
        if outranked {
            let since = *since.get_or_insert(now);
            assert!(
                now < since + GRACE,
                "a lower class kept CPU {cpu} from {since} to {now}"
            );
        } else {
            *since = None;
        }
    }

    /// Reports an event's result: a decision to carry out, or a refusal that must have changed
    /// nothing on that CPU.
    fn report(
        &mut self,
        event: &'static str,
        cpu: usize,
        r: Result<Decision, SchedError>,
        before: Option<DispatcherId>,
    ) {
        match r {
            Ok(d) => {
                self.count(event);
                self.apply(cpu, d);
            }
            Err(_) => {
                self.count("refused");
                assert_eq!(
                    self.cpus[cpu].s.current(),
                    before,
                    "a refused event moved the CPU"
                );
            }
        }
    }

    fn count(&mut self, event: &'static str) {
        *self.events.entry(event).or_default() += 1;
    }

    fn step(&mut self, rng: &mut XorShift) {
        self.now += rng.below(MAX_ADVANCE + 1);
        let now = self.now;
        let who = id(rng.below(IDS) as u32);
        let known = self.model.get(&who).copied();
        // Wakes are weighted up so that CPUs usually have several runnable dispatchers.
        match rng.below(12) {
            0 if known.is_none() => {
                let cpu = rng.below(CPUS as u64) as usize;
                let class = Class::ALL[rng.below(Class::COUNT as u64) as usize];
                let weight = 1 + rng.below(MAX_WEIGHT) as u16;
                self.count("add");
                match self.cpus[cpu].s.add(who, class, w(weight)) {
                    Ok(()) => {
                        self.model.insert(
                            who,
                            Known {
                                cpu,
                                class,
                                weight,
                                runnable: false,
                            },
                        );
                    }
                    Err(e) => assert_eq!(e, SchedError::Full),
                }
            }
            1 if known.is_some() => {
                let k = known.unwrap();
                self.count("remove");
                let r = self.cpus[k.cpu].s.remove(who, now);
                self.model.remove(&who);
                self.apply(k.cpu, r.expect("remove a present dispatcher"));
            }
            2 if known.is_some() => {
                // Migration: off one CPU, onto another, runnable as before.
                let k = known.unwrap();
                let to = rng.below(CPUS as u64) as usize;
                self.count("migrate");
                let r = self.cpus[k.cpu].s.remove(who, now);
                self.model.remove(&who);
                self.apply(k.cpu, r.unwrap());
                if self.cpus[to].s.add(who, k.class, w(k.weight)).is_ok() {
                    self.model.insert(
                        who,
                        Known {
                            cpu: to,
                            runnable: false,
                            ..k
                        },
                    );
                    if k.runnable {
                        self.model.get_mut(&who).unwrap().runnable = true;
                        let r = self.cpus[to].s.wake(who, now);
                        self.apply(to, r.unwrap());
                    }
                }
            }
            3..=5 if known.is_some() => {
                let k = known.unwrap();
                self.count("wake");
                self.model.get_mut(&who).unwrap().runnable = true;
                let r = self.cpus[k.cpu].s.wake(who, now);
                self.apply(k.cpu, r.unwrap());
            }
            6 => {
                // Block: usually the running dispatcher of some CPU, as in a real kernel.
                let cpu = rng.below(CPUS as u64) as usize;
                let target = match self.cpus[cpu].running {
                    Some(r) if rng.below(2) == 0 => r,
                    _ if known.is_some() => who,
                    _ => return,
                };
                let k = self.model[&target];
                self.count("block");
                self.model.get_mut(&target).unwrap().runnable = false;
                let r = self.cpus[k.cpu].s.block(target, now);
                self.apply(k.cpu, r.unwrap());
            }
            7 => {
                let cpu = rng.below(CPUS as u64) as usize;
                let before = self.cpus[cpu].running;
                let r = self.cpus[cpu].s.yield_now(now);
                if before.is_none() {
                    assert_eq!(r, Err(SchedError::NoCurrent));
                }
                self.report("yield", cpu, r, before);
            }
            8 => {
                // Handoff from a random CPU's running dispatcher to one of the same CPU's.
                let cpu = rng.below(CPUS as u64) as usize;
                let here: Vec<_> = self
                    .model
                    .iter()
                    .filter(|(_, k)| k.cpu == cpu)
                    .map(|(i, _)| *i)
                    .collect();
                let who = match here.len() as u64 {
                    0 => who,
                    n => here[rng.below(n) as usize],
                };
                let before = self.cpus[cpu].running;
                let r = self.cpus[cpu].s.handoff(who, now);
                if let Ok(d) = r {
                    assert_eq!(
                        d,
                        Decision::Switch {
                            from: before,
                            to: who
                        }
                    );
                }
                self.report("handoff", cpu, r, before);
            }
            _ => {
                self.count("tick");
                for cpu in 0..CPUS {
                    let d = self.cpus[cpu].s.tick(now);
                    self.apply(cpu, d);
                }
            }
        }
    }
}

#[test]
fn random_events_keep_every_invariant() {
    for seed in SEEDS {
        let mut rng = XorShift::new(seed);
        let mut world = World::new();
        for _ in 0..STEPS {
            world.step(&mut rng);
        }
        println!("seed {seed:#x}: {:?} {:?}", world.events, world.decisions);
        // Every kind of decision happened, so every path was exercised.
        for kind in ["Continue", "SoftPreempt", "HardPreempt", "Switch", "Idle"] {
            assert!(
                world.decisions.get(kind).copied().unwrap_or(0) > 0,
                "no {kind} with seed {seed}"
            );
        }
        for event in [
            "add", "remove", "migrate", "wake", "block", "yield", "handoff", "refused",
        ] {
            assert!(
                world.events.get(event).copied().unwrap_or(0) > 0,
                "no {event} with seed {seed}"
            );
        }
    }
}
