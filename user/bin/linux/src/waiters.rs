//! Threads of the program waiting on something the personality keeps itself — an eventfd's
//! counter, a timerfd, an epoll instance's interest list — with no server to notify them:
//! each waiter is a flag and its thread, and whoever changes the thing sets every flag and
//! unparks every thread ([`Waiters::wake_all`]), which then looks again. A waiting thread
//! sleeps in `signals::wait_or` with its flag as the condition, so a signal ends the wait too.
//! The list lives inside the thing's own lock, so a change cannot slip between a thread's
//! look and its joining the list.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_rt::thread::{self, Thread};

/// A waiting thread: its flag, set (and the thread unparked) at the next change.
#[derive(Debug)]
struct Waiter {
    thread: Thread,
    woken: Arc<AtomicBool>,
}

/// The threads waiting on one thing.
#[derive(Debug, Default)]
pub struct Waiters(Vec<Waiter>);

impl Waiters {
    /// Adds this thread, woken through `woken`.
    pub fn add(&mut self, woken: &Arc<AtomicBool>) {
        self.0.push(Waiter {
            thread: thread::current(),
            woken: woken.clone(),
        });
    }

    /// Removes the waiter whose flag is `woken` (if a change has not already).
    pub fn remove(&mut self, woken: &Arc<AtomicBool>) {
        self.0.retain(|w| !Arc::ptr_eq(&w.woken, woken));
    }

    /// Takes every waiter, for [`Woken::wake`] once the lock around the list is let go.
    #[must_use = "the taken waiters are woken only by Woken::wake"]
    pub fn wake_all(&mut self) -> Woken {
        Woken(core::mem::take(&mut self.0))
    }
}

/// Waiters taken from a list, to be woken after its lock is let go (an unparked thread may
/// take the lock at once).
#[derive(Debug)]
pub struct Woken(Vec<Waiter>);

impl Woken {
    /// Sets every flag and unparks every thread.
    pub fn wake(self) {
        for w in self.0 {
            w.woken.store(true, Ordering::Release);
            w.thread.unpark();
        }
    }
}
