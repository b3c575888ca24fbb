//! The signal state that is each thread's own on Linux (issue #5): the mask, `sigsuspend`'s
//! saved mask, `rt_sigtimedwait`'s set, the alternate stack and the signals sent to the thread
//! (`tgkill`, [`raise_on`]). `k42_linux::signal::State` holds one of each, the process's other
//! signal state beside them; here the other threads' are kept. The state is reached only
//! through [`SignalState::lock`], which puts the calling thread's part in under the same lock:
//! whatever a thread reads or changes while it holds the lock is its own part, even if another
//! thread ran since its last look.
//!
//! A signal sent to the process goes to whichever thread that does not block it acts first.
//! When the running thread blocks a signal just raised, or it was sent to another thread, the
//! other threads are woken to look ([`raised`]), as Linux's `complete_signal` wakes a thread
//! that can take it.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use k42_linux::signal::{self as sig, AltStack, Info, Pending};
use spin::{Mutex, MutexGuard};

use crate::state::Linux;

/// The process's signal state, every lock of it the calling thread's (module comment).
pub struct SignalState {
    inner: Mutex<sig::State>,
}

impl SignalState {
    /// Wraps `state`.
    pub fn new(state: sig::State) -> Self {
        Self {
            inner: Mutex::new(state),
        }
    }

    /// Locks the state with the calling thread's own part in it.
    pub fn lock(&self) -> MutexGuard<'_, sig::State> {
        // With one thread the state is its own (`make_mine` swaps nothing): no need to ask who
        // runs. `ACTIVE` becomes true only under this lock (`inherit`), so a look under it is
        // the answer; if a thread was made meanwhile, the lock is taken again the long way.
        if !ACTIVE.load(Ordering::Acquire) {
            let state = self.inner.lock();
            if !ACTIVE.load(Ordering::Acquire) {
                return state;
            }
        }
        // Asked before the lock: finding the thread enables upcalls again on its way out,
        // which could switch threads with the lock held (others would spin for a slice).
        let me = me();
        let mut state = self.inner.lock();
        make_mine(&mut state, me);
        state
    }

    /// Whether another thread holds the lock (a fork waits until none does).
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }
}

/// One thread's part.
#[derive(Clone)]
struct Own {
    blocked: u64,
    saved_mask: Option<u64>,
    waiting: u64,
    altstack: AltStack,
    pending: Pending,
}

impl Own {
    /// Exchanges this part with the one in `s`.
    fn swap(&mut self, s: &mut sig::State) {
        core::mem::swap(&mut self.blocked, &mut s.blocked);
        core::mem::swap(&mut self.saved_mask, &mut s.saved_mask);
        core::mem::swap(&mut self.waiting, &mut s.waiting);
        core::mem::swap(&mut self.altstack, &mut s.altstack);
        // A pending set is a few KiB (each signal's info): moved only when it holds one.
        if self.pending.set != 0 || s.thread.set != 0 {
            core::mem::swap(&mut self.pending, &mut s.thread);
        }
    }
}

/// Whose part the state holds (a runtime thread id; [`NOBODY`] after that thread ended).
static OWNER: AtomicU64 = AtomicU64::new(NOBODY);
const NOBODY: u64 = u64::MAX;
/// The other threads' parts.
static OTHERS: Mutex<BTreeMap<u64, Box<Own>>> = Mutex::new(BTreeMap::new());
/// Whether the process has had a second thread since it started or forked (until then the
/// state is the one thread's and [`SignalState::lock`] swaps nothing).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The calling thread's runtime id.
fn me() -> u64 {
    k42_rt::thread::current_id().unwrap_or(NOBODY)
}

/// Puts the running thread's part in `s` (locked by the caller), keeping the last owner's.
fn make_mine(s: &mut sig::State, me: u64) {
    if !ACTIVE.load(Ordering::Acquire) {
        return;
    }
    if OWNER.load(Ordering::Acquire) == me {
        return;
    }
    let mut others = OTHERS.lock();
    let owner = OWNER.load(Ordering::Acquire);
    // The state's part goes to its owner's keeping and this thread's comes in (a thread with
    // no part kept — the owner that ended — finds the state's as it was).
    let mut mine = others.remove(&me).unwrap_or_else(|| {
        Box::new(Own {
            blocked: s.blocked,
            saved_mask: None,
            waiting: 0,
            altstack: AltStack::DISABLED,
            pending: Pending::default(),
        })
    });
    mine.swap(s);
    if owner != NOBODY {
        others.insert(owner, mine);
    }
    OWNER.store(me, Ordering::Release);
}

/// A new thread `id` made by the running one: Linux's `clone` gives it the maker's mask and no
/// alternate stack (`CLONE_VM`).
pub fn inherit(linux: &Linux, id: u64) {
    let me = me();
    let blocked = {
        let s = linux.signals.lock();
        if !ACTIVE.swap(true, Ordering::AcqRel) {
            OWNER.store(me, Ordering::Release);
        }
        s.blocked
    };
    let own = Box::new(Own {
        blocked,
        saved_mask: None,
        waiting: 0,
        altstack: AltStack::DISABLED,
        pending: Pending::default(),
    });
    OTHERS.lock().insert(id, own);
}

/// Thread `id` ended: its part goes.
pub fn forget(id: u64) {
    let mut others = OTHERS.lock();
    others.remove(&id);
    // Under the lock: a `make_mine` in between would keep the ended thread's part for ever.
    let _ = OWNER.compare_exchange(id, NOBODY, Ordering::AcqRel, Ordering::Acquire);
}

/// In a fork child, before anything locks the state: the part of the parent's thread that
/// forked (`forker`, its runtime id there) is put in the state — the child's thread is that
/// thread, under a new id — and becomes the child's only one.
pub fn for_fork_child(signals: &SignalState, forker: u64) {
    let me = me();
    let mut s = signals.inner.lock();
    let mut others = OTHERS.lock();
    if ACTIVE.load(Ordering::Acquire)
        && OWNER.load(Ordering::Acquire) != forker
        && let Some(mut theirs) = others.remove(&forker)
    {
        theirs.swap(&mut s);
    }
    others.clear();
    ACTIVE.store(false, Ordering::Release);
    OWNER.store(me, Ordering::Release);
}

/// The running thread's runtime id (what a fork child needs to find its part).
pub fn current() -> u64 {
    me()
}

/// The running thread is the only one (start-up, a fork child, an exec): its part is put in
/// the state, the others' go.
pub fn only(linux: &Linux) {
    let me = me();
    let _state = linux.signals.lock();
    OTHERS.lock().clear();
    ACTIVE.store(false, Ordering::Release);
    OWNER.store(me, Ordering::Release);
}

/// Sends `info` to the thread whose runtime id is `id` (`tgkill`): pending for it alone,
/// dropped if ignored by its mask's rules (Linux's `sig_ignored` looks at the target's mask).
pub fn raise_on(linux: &Linux, id: u64, info: Info) {
    let signo = info.signo;
    // The caller's own part is the state's once it holds the lock (and the only part while
    // the process has had one thread).
    let own = id == me();
    {
        let mut s = linux.signals.lock();
        if own {
            s.raise(info, true);
        } else {
            let mut others = OTHERS.lock();
            let Some(theirs) = others.get_mut(&id) else {
                return;
            };
            theirs.swap(&mut s);
            s.raise(info, true);
            theirs.swap(&mut s);
        }
    }
    if own {
        raised(linux, signo);
    } else {
        crate::inbox::kick();
    }
}

/// A signal was raised: if the running thread blocks it, wake the others to look (module
/// comment).
pub fn raised(linux: &Linux, signo: u32) {
    if !crate::threads::many() {
        return;
    }
    // The lock made the caller the state's owner: its own mask decides.
    if linux.signals.lock().blocked & sig::bit(signo) != 0 {
        crate::inbox::kick();
    }
}

/// Whether a fork may copy the process now (no other thread holds the parts' lock).
pub fn quiet() -> bool {
    !OTHERS.is_locked()
}
