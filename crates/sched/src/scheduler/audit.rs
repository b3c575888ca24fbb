//! A self-check of the scheduler's invariants, for the host tests (`tests/random.rs` calls it after
//! every event) and for a kernel's debug builds. Kept out of the event paths so checking stays
//! optional and the events stay short.

use super::Scheduler;
use crate::table::State;

impl<const N: usize> Scheduler<N> {
    /// Checks the invariants the events keep, returning the first one broken:
    /// at most one dispatcher is running and it is the one the policy runs; the payer of the
    /// running quantum is present; a ready dispatcher exists only if one is running (an idle CPU
    /// always takes work); no runnable dispatcher's pass is below its class's floor; ids are
    /// unique.
    pub fn audit(&self) -> Result<(), &'static str> {
        let running = self
            .table
            .iter()
            .filter(|(_, s)| s.state == State::Running)
            .count();
        match self.run {
            Some(run) => {
                if running != 1 || self.table.get(run.slot).state != State::Running {
                    return Err("the running slot is not the only one marked running");
                }
                if !self.table.iter().any(|(i, _)| i == run.payer) {
                    return Err("the running quantum's payer is gone");
                }
            }
            None => {
                if running != 0 {
                    return Err("a slot is marked running on an idle CPU");
                }
                if self.table.best_ready().is_some() {
                    return Err("the CPU idles with a dispatcher ready");
                }
            }
        }
        for (i, a) in self.table.iter() {
            if a.runnable() && a.pass < self.floor[a.class.index()] {
                return Err("a runnable dispatcher is below its class floor");
            }
            if self.table.iter().any(|(j, b)| j != i && b.id == a.id) {
                return Err("an id appears twice");
            }
        }
        Ok(())
    }
}
