//! Critical sections of the user-level scheduler: the dispatcher page's `disabled` word as a
//! scoped guard, and the one way back to enabled that does not leave soft interrupts behind.
//!
//! While `disabled` is set the kernel enters no upcall (a soft interrupt stays pending; a
//! preemption is soft, then, after the grace period, hard — the dispatcher is later resumed
//! exactly, still disabled). So code that must not be interrupted by an upcall on *this*
//! dispatcher — the scheduler's queues, every spin lock that an upcall handler or another thread
//! of the dispatcher may also take (the heap's, the runtime's) — runs inside a [`Disabled`]
//! guard. Guards nest: only the outermost one enables again.
//!
//! Enabling by a plain store can leave bits pending that arrived while disabled: nothing tells
//! the kernel to deliver them until its next look. [`enable`] therefore looks itself, and if bits
//! are pending and the code runs on a thread (not on the upcall stack), calls the runtime's
//! pending hook ([`set_pending_hook`]) with upcalls disabled again, which handles them as the
//! INTERRUPT upcall would have (wakes threads, yields on PREEMPT), then looks again.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::page::Page;

/// Handles pending soft interrupts from thread context: called with upcalls disabled and must
/// return with them still disabled (it may switch threads in between).
pub type PendingHook = fn();

/// The registered hook, as a `fn` address (0: none).
static PENDING_HOOK: AtomicUsize = AtomicUsize::new(0);

/// Registers the hook [`enable`] calls when soft interrupts are pending.
pub fn set_pending_hook(hook: PendingHook) {
    PENDING_HOOK.store(hook as usize, Ordering::Release);
}

fn pending_hook() -> Option<PendingHook> {
    match PENDING_HOOK.load(Ordering::Acquire) {
        0 => None,
        // Lossless round trip: PENDING_HOOK holds only `PendingHook` values (set_pending_hook),
        // turned back into the type they were made from.
        f => Some(fn_of(f)),
    }
}

/// The `PendingHook` a word from [`PENDING_HOOK`] holds.
fn fn_of(word: usize) -> PendingHook {
    // SAFETY: every nonzero value in PENDING_HOOK was stored by `set_pending_hook` from a
    // `PendingHook`, so the word is a valid function pointer of exactly this type.
    unsafe { core::mem::transmute::<usize, PendingHook>(word) }
}

/// Upcalls are disabled while this lives; dropping the outermost guard enables them again
/// through [`enable`]. Not `Send`: the flag belongs to the dispatcher that set it.
#[must_use = "upcalls are enabled again as soon as the guard is dropped"]
pub struct Disabled {
    /// Whether upcalls were already disabled (an inner guard restores nothing).
    was: bool,
    _not_send: PhantomData<*const ()>,
}

/// Disables upcalls on this dispatcher until the guard is dropped.
#[inline]
pub fn disable() -> Disabled {
    let page = Page::current();
    let was = page.disabled();
    if !was {
        page.set_disabled(true);
    }
    Disabled {
        was,
        _not_send: PhantomData,
    }
}

impl Disabled {
    /// Whether this is the outermost guard (dropping it enables upcalls).
    pub fn outermost(&self) -> bool {
        !self.was
    }
}

impl Drop for Disabled {
    #[inline]
    fn drop(&mut self) {
        if !self.was {
            enable();
        }
    }
}

/// Enables upcalls; soft interrupts found pending are handed to the runtime's hook (on a
/// thread only: on the upcall stack nothing may switch) until none is left.
#[inline]
pub fn enable() {
    let page = Page::current();
    page.set_disabled(false);
    if page.pending() != 0 {
        enable_slow(page);
    }
}

/// Soft interrupts were pending when upcalls were enabled.
#[cold]
fn enable_slow(page: Page) {
    loop {
        page.set_disabled(false);
        if page.pending() == 0 {
            return;
        }
        let Some(hook) = pending_hook() else {
            return;
        };
        // Disabled again before looking: the look takes a lock an upcall takes too.
        page.set_disabled(true);
        if !crate::thread::on_thread_stack() {
            page.set_disabled(false);
            return;
        }
        hook();
    }
}
