//! Deferred frame reuse: frames that leave the tree wait here until no fault search that might
//! have seen them is still in flight ("requests in flight are counted, not locked out",
//! `DESIGN.md` §2.8).
//!
//! Every search registers the epoch it started in; every frame parked is tagged with the epoch at
//! the time and the epoch then advances. A search that started after a frame was parked cannot
//! have found it (it was no longer in the tree), so a frame tagged `t` is safe to reuse once every
//! search still in flight started after `t`.

use alloc::collections::VecDeque;

#[derive(Debug)]
pub(crate) struct Limbo<F> {
    epoch: u64,
    /// (start epoch, searches still in flight that started then), oldest first: epochs only
    /// grow, so a search enters at the back. An entry whose count fell to 0 leaves once it is
    /// at the front — a plain queue, where a map cost a tree insert and removal per fault.
    in_flight: VecDeque<(u64, usize)>,
    /// Frames out of the tree, oldest first, with the epoch they left in.
    parked: VecDeque<(u64, F)>,
}

impl<F> Limbo<F> {
    pub const fn new() -> Self {
        Self {
            epoch: 0,
            in_flight: VecDeque::new(),
            parked: VecDeque::new(),
        }
    }

    /// A search starts: returns its epoch.
    pub fn enter(&mut self) -> u64 {
        match self.in_flight.back_mut() {
            Some((epoch, count)) if *epoch == self.epoch => *count += 1,
            _ => self.in_flight.push_back((self.epoch, 1)),
        }
        self.epoch
    }

    /// A search that started in `epoch` has finished (committed or abandoned).
    pub fn leave(&mut self, epoch: u64) {
        // Usually the newest entry (searches are short): look from the back.
        match self.in_flight.iter_mut().rev().find(|(e, _)| *e == epoch) {
            Some((_, count)) if *count > 0 => *count -= 1,
            _ => debug_assert!(false, "a search left that never entered"),
        }
        while self.in_flight.front().is_some_and(|&(_, count)| count == 0) {
            self.in_flight.pop_front();
        }
    }

    /// A frame leaves the tree.
    pub fn park(&mut self, frame: F) {
        self.parked.push_back((self.epoch, frame));
        self.epoch += 1;
    }

    /// Hands every frame no search in flight can still hold to `free`; returns how many.
    pub fn reclaim(&mut self, mut free: impl FnMut(F)) -> usize {
        // The front entry has searches in flight (empty ones leave as they reach the front).
        let oldest = self.in_flight.front().map_or(u64::MAX, |&(epoch, _)| epoch);
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
        self.in_flight.iter().map(|&(_, count)| count).sum()
    }

    /// Every parked frame, for the consistency check.
    pub fn frames(&self) -> impl Iterator<Item = &F> {
        self.parked.iter().map(|(_, frame)| frame)
    }
}
