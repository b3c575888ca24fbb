//! The signal state that is each thread's own on Linux (issue #5): the mask, `sigsuspend`'s
//! saved mask, `rt_sigtimedwait`'s set and the alternate stack. `k42_linux::signal::State`
//! holds one of each, the process's other signal state beside them; here the others are kept
//! by thread, and [`switch`] puts the running thread's in the state whenever a thread other
//! than the last one acts on signals — at the start of each syscall (`table::serve`) and at
//! each checkpoint (`threads::checkpoint`: before the program continues, in every wait).
//!
//! The pending sets stay the process's: a signal sent to one thread (`tgkill`) goes to
//! whichever thread that does not block it acts first (a departure from Linux, which queues
//! it for that thread). When the running thread blocks a signal just raised, the other
//! threads are woken to look ([`raised`]), as Linux's `complete_signal` wakes a thread that
//! can take it.

use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use k42_linux::signal::{self as sig, AltStack};
use spin::Mutex;

use crate::state::Linux;

/// One thread's part.
#[derive(Clone, Copy)]
struct Own {
    blocked: u64,
    saved_mask: Option<u64>,
    waiting: u64,
    altstack: AltStack,
}

/// Whose part the state holds (a runtime thread id; [`NOBODY`] after that thread ended).
static OWNER: AtomicU64 = AtomicU64::new(NOBODY);
const NOBODY: u64 = u64::MAX;
/// The other threads' parts.
static OTHERS: Mutex<BTreeMap<u64, Own>> = Mutex::new(BTreeMap::new());
/// Whether the process has had a second thread since it started or forked (until then the
/// state is the one thread's and [`switch`] costs nothing).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The calling thread's runtime id.
fn me() -> u64 {
    k42_rt::thread::current_id().unwrap_or(NOBODY)
}

/// Puts the running thread's part in the state, keeping the last owner's.
pub fn switch(linux: &Linux) {
    if !ACTIVE.load(Ordering::Acquire) {
        return;
    }
    let me = me();
    if OWNER.load(Ordering::Acquire) == me {
        return;
    }
    let mut s = linux.signals.lock();
    let mut others = OTHERS.lock();
    let owner = OWNER.load(Ordering::Acquire);
    if owner == me {
        return;
    }
    if owner != NOBODY {
        let theirs = Own {
            blocked: s.blocked,
            saved_mask: s.saved_mask,
            waiting: s.waiting,
            altstack: s.altstack,
        };
        others.insert(owner, theirs);
    }
    if let Some(mine) = others.remove(&me) {
        s.blocked = mine.blocked;
        s.saved_mask = mine.saved_mask;
        s.waiting = mine.waiting;
        s.altstack = mine.altstack;
    }
    OWNER.store(me, Ordering::Release);
}

/// A new thread `id` made by the running one: Linux's `clone` gives it the maker's mask and no
/// alternate stack (`CLONE_VM`).
pub fn inherit(linux: &Linux, id: u64) {
    switch(linux);
    let blocked = linux.signals.lock().blocked;
    if !ACTIVE.swap(true, Ordering::AcqRel) {
        OWNER.store(me(), Ordering::Release);
    }
    let own = Own {
        blocked,
        saved_mask: None,
        waiting: 0,
        altstack: AltStack::DISABLED,
    };
    OTHERS.lock().insert(id, own);
}

/// Thread `id` ended: its part goes.
pub fn forget(id: u64) {
    OTHERS.lock().remove(&id);
    let _ = OWNER.compare_exchange(id, NOBODY, Ordering::AcqRel, Ordering::Acquire);
}

/// The running thread is the only one (start-up, a fork child, an exec): the state's part is
/// its own.
pub fn only() {
    OTHERS.lock().clear();
    ACTIVE.store(false, Ordering::Release);
    OWNER.store(me(), Ordering::Release);
}

/// A signal was raised: if the running thread blocks it, wake the others to look (module
/// comment).
pub fn raised(linux: &Linux, signo: u32) {
    if !crate::threads::many() {
        return;
    }
    let blocked = linux.signals.lock().blocked & sig::bit(signo) != 0;
    if blocked || OWNER.load(Ordering::Acquire) != me() {
        crate::inbox::kick();
    }
}

/// Whether a fork may copy the process now (no other thread holds the parts' lock).
pub fn quiet() -> bool {
    !OTHERS.is_locked()
}
