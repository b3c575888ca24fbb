//! Deferred frame reuse: frames that leave the tree wait here until no fault search that might
//! have seen them is still in flight ("requests in flight are counted, not locked out",
//! `DESIGN.md` §2.8).
//!
//! Every search registers the epoch it started in; every frame parked is tagged with the epoch at
//! the time and the epoch then advances. A search that started after a frame was parked cannot
//! have found it (it was no longer in the tree), so a frame tagged `t` is safe to reuse once every
//! search still in flight started after `t`.

use alloc::collections::{BTreeMap, VecDeque};

#[derive(Debug)]
pub(crate) struct Limbo<F> {
    epoch: u64,
    /// Start epoch → searches still in flight that started then.
    in_flight: BTreeMap<u64, usize>,
    /// Frames out of the tree, oldest first, with the epoch they left in.
    parked: VecDeque<(u64, F)>,
}

impl<F> Limbo<F> {
    pub const fn new() -> Self {
        Self {
            epoch: 0,
            in_flight: BTreeMap::new(),
            parked: VecDeque::new(),
        }
    }

    /// A search starts: returns its epoch.
    pub fn enter(&mut self) -> u64 {
        *self.in_flight.entry(self.epoch).or_insert(0) += 1;
        self.epoch
    }

    /// A search that started in `epoch` has finished (committed or abandoned).
    pub fn leave(&mut self, epoch: u64) {
        match self.in_flight.get_mut(&epoch) {
            Some(1) => {
                self.in_flight.remove(&epoch);
            }
            Some(count) => *count -= 1,
            None => debug_assert!(false, "a search left that never entered"),
        }
    }

    /// A frame leaves the tree.
    pub fn park(&mut self, frame: F) {
        self.parked.push_back((self.epoch, frame));
        self.epoch += 1;
    }

    /// Hands every frame no search in flight can still hold to `free`; returns how many.
    pub fn reclaim(&mut self, mut free: impl FnMut(F)) -> usize {
        let oldest = self.in_flight.keys().next().copied().unwrap_or(u64::MAX);
        let mut count = 0;
        while self.parked.front().is_some_and(|&(tag, _)| tag < oldest) {
            if let Some((_, frame)) = self.parked.pop_front() {
                free(frame);
                count += 1;
            }
        }
        count
    }

    pub fn parked(&self) -> usize {
        self.parked.len()
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.values().sum()
    }

    /// Every parked frame, for the consistency check.
    pub fn frames(&self) -> impl Iterator<Item = &F> {
        self.parked.iter().map(|(_, frame)| frame)
    }
}
