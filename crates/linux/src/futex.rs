//! The futex wait queue of one process, as pure logic (the Linux personality's
//! `calls/futex.rs` holds one, keyed by the program's addresses, and does the blocking): which
//! waiters a `FUTEX_WAKE`, `FUTEX_WAKE_BITSET` or `FUTEX_(CMP_)REQUEUE` reaches, in Linux's
//! order (first come, first woken) and with its counting rules (`kernel/futex/waitwake.c`,
//! `requeue.c`): a wake of 0 still wakes one, a requeue wakes `nr_wake` and then moves up to
//! `nr_requeue`. Each waiter is a token `T` the caller chooses (what it needs to wake it).

use alloc::vec::Vec;

use crate::raw::general as g;

/// A waiter's bitset that matches every wake (`FUTEX_WAIT`'s).
pub const MATCH_ANY: u32 = g::FUTEX_BITSET_MATCH_ANY;

/// One waiter.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Waiter<T> {
    addr: u64,
    bitset: u32,
    token: T,
}

/// The waiters, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Queue<T> {
    waiters: Vec<Waiter<T>>,
}

impl<T: PartialEq> Queue<T> {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            waiters: Vec::new(),
        }
    }

    /// `token` waits on `addr` for wakes whose bitset meets `bitset`.
    pub fn wait(&mut self, addr: u64, bitset: u32, token: T) {
        self.waiters.push(Waiter {
            addr,
            bitset,
            token,
        });
    }

    /// Takes `token` out of the queue (its wait ended otherwise: a timeout, a signal). True if
    /// it was there — false means a wake took it first.
    pub fn cancel(&mut self, token: &T) -> bool {
        let before = self.waiters.len();
        self.waiters.retain(|w| w.token != *token);
        self.waiters.len() != before
    }

    /// Takes out the waiters a wake of `nr_wake` on `addr` with `bitset` reaches, oldest first:
    /// at least one if any matches (Linux counts the first before it compares, and takes the
    /// count as a signed int: a negative one wakes one too).
    pub fn wake(&mut self, addr: u64, nr_wake: u32, bitset: u32) -> Vec<T> {
        let most = (nr_wake as i32).max(1) as usize;
        let mut woken = Vec::new();
        let mut i = 0;
        while i < self.waiters.len() {
            let w = &self.waiters[i];
            if w.addr == addr && w.bitset & bitset != 0 {
                woken.push(self.waiters.remove(i).token);
                if woken.len() >= most {
                    break;
                }
            } else {
                i += 1;
            }
        }
        woken
    }

    /// `FUTEX_REQUEUE`: wakes up to `nr_wake` waiters on `from` (returned) and moves up to
    /// `nr_requeue` more to `to`; returns (woken, how many moved).
    pub fn requeue(&mut self, from: u64, to: u64, nr_wake: u32, nr_requeue: u32) -> (Vec<T>, u32) {
        let mut woken = Vec::new();
        let mut moved = 0;
        let mut i = 0;
        while i < self.waiters.len() {
            if self.waiters[i].addr != from {
                i += 1;
                continue;
            }
            if woken.len() < nr_wake as usize {
                woken.push(self.waiters.remove(i).token);
                continue;
            }
            if moved >= nr_requeue {
                break;
            }
            self.waiters[i].addr = to;
            moved += 1;
            i += 1;
        }
        (woken, moved)
    }

    /// How many wait on `addr`.
    pub fn waiting_on(&self, addr: u64) -> usize {
        self.waiters.iter().filter(|w| w.addr == addr).count()
    }

    /// Whether nobody waits.
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const A: u64 = 0x1000;
    const B: u64 = 0x2000;

    #[test]
    fn wakes_oldest_first_and_only_on_the_address() {
        let mut q = Queue::new();
        q.wait(A, MATCH_ANY, 1);
        q.wait(B, MATCH_ANY, 2);
        q.wait(A, MATCH_ANY, 3);
        q.wait(A, MATCH_ANY, 4);
        assert_eq!(q.wake(A, 2, MATCH_ANY), vec![1, 3]);
        assert_eq!(q.wake(A, 10, MATCH_ANY), vec![4]);
        assert_eq!(q.wake(A, 10, MATCH_ANY), Vec::<i32>::new());
        assert_eq!(q.waiting_on(B), 1);
    }

    #[test]
    fn a_wake_of_zero_wakes_one() {
        let mut q = Queue::new();
        q.wait(A, MATCH_ANY, 1);
        q.wait(A, MATCH_ANY, 2);
        assert_eq!(q.wake(A, 0, MATCH_ANY), vec![1]);
    }

    #[test]
    fn a_negative_wake_count_wakes_one() {
        let mut q = Queue::new();
        q.wait(A, MATCH_ANY, 1);
        q.wait(A, MATCH_ANY, 2);
        assert_eq!(q.wake(A, -5i32 as u32, MATCH_ANY), vec![1]);
    }

    #[test]
    fn bitsets_must_meet() {
        let mut q = Queue::new();
        q.wait(A, 0b01, 1);
        q.wait(A, 0b10, 2);
        assert_eq!(q.wake(A, 5, 0b10), vec![2]);
        assert_eq!(q.wake(A, 5, 0b100), Vec::<i32>::new());
        assert_eq!(q.wake(A, 5, MATCH_ANY), vec![1]);
    }

    #[test]
    fn requeue_wakes_then_moves() {
        let mut q = Queue::new();
        for t in 1..=5 {
            q.wait(A, MATCH_ANY, t);
        }
        let (woken, moved) = q.requeue(A, B, 1, 2);
        assert_eq!(woken, vec![1]);
        assert_eq!(moved, 2);
        assert_eq!(q.waiting_on(A), 2);
        assert_eq!(q.waiting_on(B), 2);
        assert_eq!(q.wake(B, 10, MATCH_ANY), vec![2, 3]);
        assert_eq!(q.wake(A, 10, MATCH_ANY), vec![4, 5]);
    }

    #[test]
    fn a_cancelled_waiter_is_not_woken() {
        let mut q = Queue::new();
        q.wait(A, MATCH_ANY, 1);
        q.wait(A, MATCH_ANY, 2);
        assert!(q.cancel(&1));
        assert!(!q.cancel(&1));
        assert_eq!(q.wake(A, 1, MATCH_ANY), vec![2]);
        assert!(q.is_empty());
    }
}
