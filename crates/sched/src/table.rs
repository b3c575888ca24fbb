//! The per-CPU table of dispatchers the policy knows: fixed capacity, chosen by the kernel as a const
//! generic, so the scheduler never allocates (it runs in the timer interrupt) and its size is known
//! at build time.
//!
//! Lookups are linear scans. A CPU holds a few dozen dispatchers at most (one per process per class
//! that uses the CPU), and a scan of that many slots is cheaper than maintaining a heap or tree on
//! every charge; the scheduler (`scheduler/`) is written against this table so a smarter structure
//! can replace it without touching the policy. Scans stop at the highest slot in use: slots are
//! taken lowest first, so with a handful of dispatchers a scan looks at a handful of slots, not
//! at the whole capacity (a charge on every block and wake rescans the class's passes).

use core::cmp::Ordering;

use crate::stride::Pass;
use crate::{Class, DispatcherId, SchedError};

/// Where a dispatcher stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Waiting for an event; not eligible to run.
    Blocked,
    /// Runnable, waiting for the CPU.
    Ready,
    /// On the CPU (at most one slot at a time).
    Running,
}

/// One dispatcher's scheduling state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub id: DispatcherId,
    pub class: Class,
    /// Pass increment per unit of time (see `stride.rs`).
    pub stride: u64,
    /// Virtual time consumed so far.
    pub pass: Pass,
    /// When it last became ready, as a counter: breaks ties between equal passes first-come
    /// first-served, which turns equal weights into plain round robin.
    pub seq: u64,
    pub state: State,
}

impl Slot {
    /// True if it is ready or running.
    pub fn runnable(&self) -> bool {
        self.state != State::Blocked
    }

    /// Whether `self` should run before `other`: higher class first, then smaller pass, then
    /// earlier arrival.
    pub fn precedes(&self, other: &Slot) -> bool {
        match self.class.cmp(&other.class) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => (self.pass, self.seq) < (other.pass, other.seq),
        }
    }
}

/// Fixed-capacity storage; slot indices are stable while a dispatcher is present.
pub(crate) struct Table<const N: usize> {
    slots: [Option<Slot>; N],
    /// One past the highest slot in use: every slot at or above it is empty.
    used: usize,
}

impl<const N: usize> Table<N> {
    pub const fn new() -> Self {
        Table {
            slots: [None; N],
            used: 0,
        }
    }

    pub fn find(&self, id: DispatcherId) -> Option<usize> {
        self.iter().find(|(_, s)| s.id == id).map(|(i, _)| i)
    }

    pub fn insert(&mut self, slot: Slot) -> Result<usize, SchedError> {
        if self.find(slot.id).is_some() {
            return Err(SchedError::Duplicate(slot.id));
        }
        let free = self.slots.iter().position(Option::is_none);
        let index = free.ok_or(SchedError::Full)?;
        self.slots[index] = Some(slot);
        self.used = self.used.max(index + 1);
        Ok(index)
    }

    pub fn remove(&mut self, index: usize) {
        self.slots[index] = None;
        while self.used > 0 && self.slots[self.used - 1].is_none() {
            self.used -= 1;
        }
    }

    /// The slot at an index the scheduler got from this table. Panics on a stale index, which
    /// would be a bug in the scheduler, never a caller error.
    pub fn get(&self, index: usize) -> &Slot {
        self.slots[index].as_ref().expect("live slot index")
    }

    /// Mutable form of [`Table::get`].
    pub fn get_mut(&mut self, index: usize) -> &mut Slot {
        self.slots[index].as_mut().expect("live slot index")
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, &Slot)> {
        self.slots[..self.used]
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
    }

    /// The ready dispatcher that should run next, if any.
    pub fn best_ready(&self) -> Option<usize> {
        self.iter()
            .filter(|(_, s)| s.state == State::Ready)
            .reduce(|best, cand| if cand.1.precedes(best.1) { cand } else { best })
            .map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(id: u32) -> Slot {
        Slot {
            id: DispatcherId(id),
            class: Class::Application,
            stride: 1,
            pass: 0,
            seq: 0,
            state: State::Ready,
        }
    }

    /// The ids in use, lowest slot first (at most four, in a fixed array: the crate is
    /// `no_std` without `alloc`); 0 marks the end.
    fn ids<const N: usize>(table: &Table<N>) -> [u32; 4] {
        let mut out = [0; 4];
        for (place, (_, s)) in out.iter_mut().zip(table.iter()) {
            *place = s.id.0;
        }
        out
    }

    #[test]
    fn scans_see_every_slot_in_use_and_stop_above_the_highest() {
        let mut table = Table::<8>::new();
        let [a, b, c] = [1, 2, 3].map(|id| table.insert(slot(id)).unwrap());
        assert_eq!((a, b, c, table.used), (0, 1, 2, 3));
        table.remove(b);
        assert_eq!(
            (ids(&table), table.used),
            ([1, 3, 0, 0], 3),
            "a hole below stays scanned past"
        );
        table.remove(c);
        assert_eq!(
            (ids(&table), table.used),
            ([1, 0, 0, 0], 1),
            "the top shrinks past the hole"
        );
        let d = table.insert(slot(4)).unwrap();
        assert_eq!(
            (d, ids(&table), table.used),
            (1, [1, 4, 0, 0], 2),
            "the lowest free slot"
        );
        assert_eq!(table.find(DispatcherId(4)), Some(1));
        assert_eq!(table.find(DispatcherId(3)), None);
        table.remove(a);
        table.remove(d);
        assert_eq!((ids(&table), table.used), ([0; 4], 0));
    }
}
