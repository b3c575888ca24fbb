//! The clock side of the policy: quantum expiry, and the soft-then-hard preemption state machine.
//!
//! Every event in `events.rs` that leaves the running dispatcher in place ends with the same
//! evaluation as a tick (the others pick a successor directly), so a decision never waits for the
//! next timer interrupt when an event (a wake-up of a server, say) already calls for it. The state lives in `Run::hard_deadline` (`mod.rs`): `None` is "running", `Some(t)` is
//! "PREEMPT posted, preempt hard at `t`".

use super::Scheduler;
use crate::{Decision, Time};

impl<const N: usize> Scheduler<N> {
    /// The timer interrupt (or any other moment the kernel wants a verdict), at time `now`.
    ///
    /// In order: an idle CPU takes the best ready dispatcher (`Switch { from: None, .. }`) or stays
    /// `Idle`; a running dispatcher past its grace period whose reason to give way still holds is
    /// preempted hard; one whose reason went away (the waker blocked again) is let off; a running
    /// dispatcher that should give way — a higher class is ready, or its quantum is over and a
    /// peer of its class is due (no larger pass) — gets `SoftPreempt` and a grace period; a
    /// running dispatcher whose quantum is over but is still the one due simply starts another
    /// quantum. Otherwise `Continue`.
    ///
    /// The grace period counts from the moment the PREEMPT is posted, so the hard preemption comes
    /// at the first tick at or after `posted + grace`. When the policy lets a dispatcher off, its
    /// PREEMPT bit may still be set; a yield it makes after that counts as unprompted.
    pub fn tick(&mut self, now: Time) -> Decision {
        self.charge(now);
        let Some(run) = self.run else {
            return self.dispatch(now, None);
        };
        let preemptor = self.preemptor(now);
        if let Some(deadline) = run.hard_deadline {
            if now < deadline {
                return Decision::Continue;
            }
            if let Some(next) = preemptor {
                return self.hard_preempt(next, now);
            }
            self.run_mut().hard_deadline = None;
        }
        if preemptor.is_some() {
            self.run_mut().hard_deadline = Some(now.saturating_add(self.config.grace()));
            return Decision::SoftPreempt(self.table.get(run.slot).id);
        }
        if now >= run.quantum_end {
            // Still the one due: a fresh quantum of its own (a donated one ends here).
            let quantum_end = now.saturating_add(self.config.quantum());
            let r = self.run_mut();
            r.quantum_end = quantum_end;
            r.payer = r.slot;
        }
        Decision::Continue
    }

    /// The ready dispatcher that should take the CPU from the running one now, if any: one of a
    /// higher class at any time; one of the same class once the quantum is over, if its pass is no
    /// larger (ties go to the waiting one, which makes equal weights round robin).
    fn preemptor(&self, now: Time) -> Option<usize> {
        let run = self.run?;
        let next = self.table.best_ready()?;
        let (cur, cand) = (self.table.get(run.slot), self.table.get(next));
        let outranks = cand.class > cur.class;
        let turn_is_over =
            cand.class == cur.class && now >= run.quantum_end && cand.pass <= cur.pass;
        (outranks || turn_is_over).then_some(next)
    }

    /// Takes the CPU from the running dispatcher (which stays ready, behind its peers of equal
    /// pass) and gives `next` a fresh quantum.
    fn hard_preempt(&mut self, next: usize, now: Time) -> Decision {
        let run = self
            .run
            .take()
            .expect("hard preemption with a dispatcher running");
        let from = self.table.get(run.slot).id;
        self.make_ready(run.slot);
        let quantum_end = now.saturating_add(self.config.quantum());
        self.start(next, now, next, quantum_end);
        let to = self.table.get(next).id;
        Decision::HardPreempt { from, to }
    }

    fn run_mut(&mut self) -> &mut super::Run {
        self.run.as_mut().expect("a dispatcher is running")
    }
}
