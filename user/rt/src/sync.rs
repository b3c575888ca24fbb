//! [`FairBLock`]: K42's spin-then-block queue lock, for data shared by threads.
//!
//! A thread that finds the lock held spins briefly (the holder may be running on another
//! dispatcher and about to release), then joins a FIFO queue and parks. Releasing with waiters
//! *hands the lock over* to the first of them — it stays held, so a thread arriving meanwhile
//! (even the releaser itself, locking again at once) queues behind them instead of barging in.
//! Waiters get the lock in the order they queued, and a waiter's wait is bounded by the critical
//! sections of those ahead of it.
//!
//! The holder may block inside its critical section (yield, sleep, call a server): the others
//! park, not spin, so the dispatcher runs whoever is ready meanwhile.
//!
//! The uncontended case is one compare-and-swap to lock and a load and a store to unlock. The
//! queue is a short spin-locked section with upcalls disabled, so an upcall or a thread switch
//! never finds it half-done; `waiting` mirrors its length for the unlocked fast path. A waiter
//! counts itself in `waiting` and then tries the lock once more, and a releaser frees the lock
//! and then looks at `waiting` again (both sequentially consistent): so either the waiter gets
//! the lock itself, or the releaser sees it and hands the lock over — it is never left parked
//! behind a free lock.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use k42_sys::critical;
use spin::{Mutex, MutexGuard};

use crate::sched::{self, ThreadRef};

/// Tries before a thread that found the lock held queues and parks.
const SPIN_TRIES: u32 = 64;

/// The queue of waiting threads.
struct Queue {
    /// The waiter the lock was handed to, until it notices.
    handed_to: Option<ThreadRef>,
    /// Waiting threads, first come first.
    waiters: VecDeque<ThreadRef>,
}

/// A spin-then-block FIFO lock around a `T` (module comment).
pub struct FairBLock<T> {
    /// Held by a running holder, or handed to a waiter that has not run yet.
    held: AtomicBool,
    /// The queue's length (changed under the queue's lock).
    waiting: AtomicUsize,
    queue: Mutex<Queue>,
    /// The data, locked by whoever holds the FairBLock (so never contended: `held` decides who
    /// holds it).
    data: Mutex<T>,
}

impl<T> FairBLock<T> {
    /// A lock around `value`, free.
    pub const fn new(value: T) -> Self {
        Self {
            held: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            queue: Mutex::new(Queue {
                handed_to: None,
                waiters: VecDeque::new(),
            }),
            data: Mutex::new(value),
        }
    }

    /// Takes the lock, spinning briefly and then blocking the thread until it is handed over.
    ///
    /// # Panics
    ///
    /// If it has to block in an upcall handler (no thread runs there).
    #[inline]
    pub fn lock(&self) -> FairBGuard<'_, T> {
        // The uncontended case inline; spinning and queueing out of line. The guard is made
        // here either way, so it is never returned through memory from the out-of-line part.
        if !self.take() {
            self.take_contended();
        }
        self.guard()
    }

    /// `lock` after its first try found the lock held: the rest of the spinning, then the
    /// queue. Returns once this thread holds it.
    #[inline(never)]
    fn take_contended(&self) {
        core::hint::spin_loop();
        for _ in 1..SPIN_TRIES {
            if self.take() {
                return;
            }
            core::hint::spin_loop();
        }
        let _upcalls = critical::disable();
        let me = sched::current_locked();
        {
            let mut q = self.queue.lock();
            q.waiters.push_back(me.clone());
            self.waiting.fetch_add(1, Ordering::SeqCst);
            if self.take() {
                // Freed meanwhile: ours after all.
                q.waiters.retain(|w| !Arc::ptr_eq(w, &me));
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                return;
            }
        }
        loop {
            sched::park_locked(&me);
            let mut q = self.queue.lock();
            if q.handed_to.as_ref().is_some_and(|t| Arc::ptr_eq(t, &me)) {
                q.handed_to = None;
                return;
            }
        }
    }

    /// Takes the lock if it is free, without waiting.
    #[inline]
    pub fn try_lock(&self) -> Option<FairBGuard<'_, T>> {
        self.take().then(|| self.guard())
    }

    /// Whether some thread holds the lock (or it is being handed to one).
    pub fn is_locked(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }

    /// Threads queued for the lock.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// The data, when no one else can reach the lock.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }

    /// Marks the lock held if it is free.
    fn take(&self) -> bool {
        self.held
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
    }

    /// The guard of a thread that now holds the lock.
    fn guard(&self) -> FairBGuard<'_, T> {
        FairBGuard {
            data: self.data.lock(),
            _held: Held { lock: self },
        }
    }

    /// Hands the lock to the first waiter, or frees it. The uncontended case inline.
    #[inline]
    fn release(&self) {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            self.held.store(false, Ordering::SeqCst);
            if self.waiting.load(Ordering::SeqCst) == 0 {
                return;
            }
            // A thread queued meanwhile and may have parked before the lock was free: take the
            // lock back to hand it over (unless someone else took it, who will hand it over).
            if !self.take() {
                return;
            }
        }
        self.hand_over();
    }

    /// Hands the lock, which this thread holds, to the first waiter, or frees it if there is
    /// none (any more).
    #[inline(never)]
    fn hand_over(&self) {
        let next = {
            let _upcalls = critical::disable();
            let mut q = self.queue.lock();
            match q.waiters.pop_front() {
                Some(waiter) => {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    q.handed_to = Some(waiter.clone());
                    Some(waiter)
                }
                None => {
                    self.held.store(false, Ordering::SeqCst);
                    None
                }
            }
        };
        if let Some(waiter) = next {
            sched::unpark(&waiter);
        }
    }
}

impl<T: Default> Default for FairBLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> fmt::Debug for FairBLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FairBLock {{ locked: {}, waiting: {} }}",
            self.is_locked(),
            self.waiting()
        )
    }
}

/// Holds a [`FairBLock`]; releasing it (drop) hands it to the next waiter.
///
/// Fields drop in order: the data's lock first, as the next holder locks it as soon as it
/// runs, then the FairBLock itself ([`Held`]). A guard always has the data, so its deref needs
/// no test.
pub struct FairBGuard<'a, T> {
    data: MutexGuard<'a, T>,
    _held: Held<'a, T>,
}

/// The hold on a [`FairBLock`] a [`FairBGuard`] has: dropping it releases the lock.
struct Held<'a, T> {
    lock: &'a FairBLock<T>,
}

impl<T> Deref for FairBGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for FairBGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

impl<T> Drop for Held<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.release();
    }
}
