//! The per-CPU scheduler: its state, its read-only view for the kernel, and the few internal moves
//! (charge, start, requeue, dispatch) that the events (`events.rs`) and the clock (`tick.rs`) are
//! built from; `audit.rs` checks the invariants those moves keep.
//!
//! One instance per CPU, owned by that CPU's kernel state and touched only there, so there is no
//! lock here and no global one anywhere (`DESIGN.md` §2.8). A dispatcher that moves between CPUs is
//! removed from one instance and added to another by the kernel.

mod audit;
mod events;
mod tick;

use crate::stride::Pass;
use crate::table::{State, Table};
use crate::{Class, Config, Decision, DispatcherId, Time, stride};

/// The scheduling policy of one CPU, for at most `N` dispatchers.
///
/// Every event method returns the [`Decision`] the kernel must carry out; after it, the policy's
/// [`Scheduler::current`] is the dispatcher the CPU should be running.
pub struct Scheduler<const N: usize> {
    config: Config,
    table: Table<N>,
    run: Option<Run>,
    /// Per class: a lower bound on the pass of every runnable dispatcher of the class, raised as
    /// they run. A dispatcher that wakes is brought up to it, so time spent blocked is not banked as
    /// credit (see [`Scheduler::wake`]).
    floor: [Pass; Class::COUNT],
    next_seq: u64,
}

/// The dispatcher on the CPU and the terms it runs on.
#[derive(Clone, Copy, Debug)]
struct Run {
    /// Its table slot.
    slot: usize,
    /// Whose pass its time is charged to: itself, or the dispatcher that handed off to it, until
    /// the donated quantum ends.
    payer: usize,
    /// When the current quantum (its own or the donated rest) ends.
    quantum_end: Time,
    /// Time up to which it has been charged.
    charged_until: Time,
    /// Set when the PREEMPT soft interrupt has been posted: when the grace period ends.
    hard_deadline: Option<Time>,
}

impl<const N: usize> Scheduler<N> {
    /// An empty scheduler.
    pub const fn new(config: Config) -> Self {
        Scheduler {
            config,
            table: Table::new(),
            run: None,
            floor: [0; Class::COUNT],
            next_seq: 0,
        }
    }

    /// The tunables it was built with.
    pub fn config(&self) -> Config {
        self.config
    }

    /// The dispatcher the CPU should be running, if any.
    pub fn current(&self) -> Option<DispatcherId> {
        self.run.map(|run| self.table.get(run.slot).id)
    }

    /// Whether the id was added to this CPU and not removed.
    pub fn contains(&self, id: DispatcherId) -> bool {
        self.table.find(id).is_some()
    }

    /// Whether the id is ready or running.
    pub fn is_runnable(&self, id: DispatcherId) -> bool {
        self.table
            .find(id)
            .is_some_and(|i| self.table.get(i).runnable())
    }

    /// The id's class, if it is on this CPU.
    pub fn class_of(&self, id: DispatcherId) -> Option<Class> {
        self.table.find(id).map(|i| self.table.get(i).class)
    }

    /// How many dispatchers are on this CPU (blocked or not).
    pub fn len(&self) -> usize {
        self.table.iter().count()
    }

    /// True if no dispatcher is on this CPU.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The highest class with a ready or running dispatcher.
    pub fn highest_runnable_class(&self) -> Option<Class> {
        self.table
            .iter()
            .filter(|(_, s)| s.runnable())
            .map(|(_, s)| s.class)
            .max()
    }

    /// True between a [`Decision::SoftPreempt`] and the running dispatcher's yield (or its hard
    /// preemption).
    pub fn preempt_pending(&self) -> bool {
        self.run.is_some_and(|run| run.hard_deadline.is_some())
    }

    /// The earliest time at which [`Scheduler::tick`] can decide anything other than `Continue`
    /// if no other event comes first: the end of the grace period if one is running, else the end
    /// of the quantum. A tickless kernel programs its one-shot timer for this; `None` when idle.
    pub fn next_deadline(&self) -> Option<Time> {
        self.run
            .map(|run| run.hard_deadline.unwrap_or(run.quantum_end))
    }

    /// Charges the running dispatcher's payer for the time up to `now`.
    fn charge(&mut self, now: Time) {
        self.charge_until(now);
    }

    /// Charges the payer up to `until`, which may lie past `now` when a voluntary yield is billed
    /// for the rest of its quantum.
    fn charge_until(&mut self, until: Time) {
        let Some(run) = self.run.as_mut() else {
            return;
        };
        let elapsed = until.saturating_sub(run.charged_until);
        if elapsed == 0 {
            return;
        }
        run.charged_until = until;
        let payer = self.table.get_mut(run.payer);
        payer.pass = stride::advance(payer.pass, elapsed, payer.stride);
        let class = payer.class;
        self.refresh_floor(class);
    }

    /// Raises the class's floor to the smallest pass among its runnable dispatchers.
    fn refresh_floor(&mut self, class: Class) {
        let least = self
            .table
            .iter()
            .filter(|(_, s)| s.class == class && s.runnable())
            .map(|(_, s)| s.pass)
            .min();
        if let Some(least) = least {
            let floor = &mut self.floor[class.index()];
            *floor = (*floor).max(least);
        }
    }

    /// Puts a slot in the ready queue, behind every dispatcher already there with the same pass.
    fn make_ready(&mut self, slot: usize) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let s = self.table.get_mut(slot);
        s.state = State::Ready;
        s.seq = seq;
    }

    /// Puts a slot on the CPU, charging `payer` until `quantum_end`.
    fn start(&mut self, slot: usize, now: Time, payer: usize, quantum_end: Time) {
        self.table.get_mut(slot).state = State::Running;
        self.run = Some(Run {
            slot,
            payer,
            quantum_end,
            charged_until: now,
            hard_deadline: None,
        });
    }

    /// With the CPU free, runs the best ready dispatcher for a fresh quantum. `from` is the
    /// dispatcher that just left through its own call, reported back to the kernel; if the policy
    /// picks it again the decision is `Continue`.
    fn dispatch(&mut self, now: Time, from: Option<DispatcherId>) -> Decision {
        debug_assert!(self.run.is_none(), "dispatch with a dispatcher on the CPU");
        let Some(next) = self.table.best_ready() else {
            return Decision::Idle;
        };
        let quantum_end = now.saturating_add(self.config.quantum());
        self.start(next, now, next, quantum_end);
        let to = self.table.get(next).id;
        if from == Some(to) {
            Decision::Continue
        } else {
            Decision::Switch { from, to }
        }
    }
}
