//! The events the kernel reports: a dispatcher arrives or leaves, wakes or blocks, and the running
//! one yields or hands off. Each returns the [`Decision`] to carry out; the timer's own event is in
//! `tick.rs`, and every event here ends with the same evaluation so no decision waits for a tick.

use super::Scheduler;
use crate::table::{Slot, State};
use crate::{Class, Decision, DispatcherId, SchedError, Time, Weight, stride};

impl<const N: usize> Scheduler<N> {
    /// Puts a new dispatcher on this CPU, blocked: the kernel [`wake`](Scheduler::wake)s it when it
    /// is started, so there is one path to becoming runnable.
    pub fn add(
        &mut self,
        id: DispatcherId,
        class: Class,
        weight: Weight,
    ) -> Result<(), SchedError> {
        self.table.insert(Slot {
            id,
            class,
            stride: stride::stride(weight),
            pass: 0,
            seq: 0,
            state: State::Blocked,
        })?;
        Ok(())
    }

    /// Takes a dispatcher off this CPU (destroyed, or migrating). If it was running the CPU goes to
    /// the next one: `Switch { from: None, .. }` (nothing to save back into the policy) or `Idle`.
    /// If it had handed off to the running dispatcher, the rest of that quantum is charged to the
    /// recipient itself.
    pub fn remove(&mut self, id: DispatcherId, now: Time) -> Result<Decision, SchedError> {
        let slot = self.table.find(id).ok_or(SchedError::Unknown(id))?;
        self.charge(now);
        let was_running = match self.run.as_mut() {
            Some(run) => {
                if run.payer == slot {
                    run.payer = run.slot;
                }
                run.slot == slot
            }
            None => false,
        };
        self.table.remove(slot);
        if was_running {
            self.run = None;
            return Ok(self.dispatch(now, None));
        }
        Ok(self.tick(now))
    }

    /// The dispatcher has something to do (an async message, a page-fault completion, its timer, an
    /// IPC retry, or its first start). Waking a runnable dispatcher is harmless (`Continue`).
    ///
    /// No hoarding: its pass is raised to its class's floor — the least pass of any runnable peer —
    /// so however long it slept it competes as the least-served peer, getting the next turn but not
    /// a backlog of the time it did not use. If it outranks the running dispatcher the answer is
    /// `SoftPreempt`; on an idle CPU it is `Switch { from: None, to: id }`.
    pub fn wake(&mut self, id: DispatcherId, now: Time) -> Result<Decision, SchedError> {
        let slot = self.table.find(id).ok_or(SchedError::Unknown(id))?;
        if self.table.get(slot).state == State::Blocked {
            self.charge(now);
            let class = self.table.get(slot).class;
            self.refresh_floor(class);
            let floor = self.floor[class.index()];
            let s = self.table.get_mut(slot);
            s.pass = s.pass.max(floor);
            self.make_ready(slot);
        }
        Ok(self.tick(now))
    }

    /// The dispatcher waits for an event (its user-level scheduler has no runnable thread). Usually
    /// the running one, through its own kernel call: then the CPU goes to the next dispatcher
    /// (`Switch { from: Some(id), .. }`) or idles. A ready one may be blocked too (the kernel
    /// learned it has nothing to do); blocking a blocked one is harmless. Charged only for the time
    /// it actually ran.
    pub fn block(&mut self, id: DispatcherId, now: Time) -> Result<Decision, SchedError> {
        let slot = self.table.find(id).ok_or(SchedError::Unknown(id))?;
        self.charge(now);
        let was_running = self.table.get(slot).state == State::Running;
        self.table.get_mut(slot).state = State::Blocked;
        if was_running {
            self.run = None;
            return Ok(self.dispatch(now, Some(id)));
        }
        Ok(self.tick(now))
    }

    /// The running dispatcher gives up the CPU but stays runnable.
    ///
    /// In answer to a PREEMPT (between `SoftPreempt` and the hard deadline) it is charged for the
    /// time it ran. Unprompted, it is charged as if it had used its whole quantum: that is what
    /// makes a yield let its peers go first (under stride scheduling a dispatcher charged only for
    /// a sliver would usually still be the one due, and the yield would be a no-op), and it costs
    /// a dispatcher at most one quantum of share per yield. If it is still the one due it keeps the
    /// CPU with a fresh quantum (`Continue`).
    pub fn yield_now(&mut self, now: Time) -> Result<Decision, SchedError> {
        let run = self.run.ok_or(SchedError::NoCurrent)?;
        let answering_preempt = run.hard_deadline.is_some();
        let until = if answering_preempt {
            now
        } else {
            now.max(run.quantum_end)
        };
        self.charge_until(until);
        let id = self.table.get(run.slot).id;
        self.run = None;
        self.make_ready(run.slot);
        Ok(self.dispatch(now, Some(id)))
    }

    /// K42's handoff: the running dispatcher gives the rest of its quantum to `to`, which runs now
    /// (`Switch { from: Some(caller), to }`); time `to` runs until that quantum ends is charged to
    /// the giver, not to `to`. The giver stays runnable (to wait, it blocks instead and lets the
    /// policy choose).
    ///
    /// Refused (nothing changes) if `to` is not ready, is the caller, or is of a lower class than
    /// some runnable dispatcher — counting the caller — since strict classes allow no inversion;
    /// the caller can yield instead.
    pub fn handoff(&mut self, to: DispatcherId, now: Time) -> Result<Decision, SchedError> {
        let run = self.run.ok_or(SchedError::NoCurrent)?;
        let target = self.table.find(to).ok_or(SchedError::Unknown(to))?;
        if target == run.slot {
            return Err(SchedError::SelfHandoff);
        }
        let t = self.table.get(target);
        if t.state != State::Ready {
            return Err(SchedError::NotRunnable(to));
        }
        let runnable = self
            .highest_runnable_class()
            .expect("the caller is running, so runnable");
        if t.class < runnable {
            return Err(SchedError::ClassInversion {
                to,
                class: t.class,
                runnable,
            });
        }
        self.charge(now);
        let from = self.table.get(run.slot).id;
        self.run = None;
        self.make_ready(run.slot);
        self.start(target, now, run.payer, run.quantum_end);
        Ok(Decision::Switch {
            from: Some(from),
            to,
        })
    }

    /// Who runs now, for a kernel that has lost track (at boot, or back from idle without an event
    /// in hand): the running dispatcher if there is one, else the best ready one, which is put on
    /// the CPU for a fresh quantum. `None` if nothing is runnable. Since every event already
    /// dispatches when the CPU is free, a kernel that carries out each decision only ever gets the
    /// running dispatcher or `None` here.
    pub fn pick_next(&mut self, now: Time) -> Option<DispatcherId> {
        if let Some(id) = self.current() {
            return Some(id);
        }
        match self.dispatch(now, None) {
            Decision::Switch { to, .. } => Some(to),
            _ => None,
        }
    }
}
