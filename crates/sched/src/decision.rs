//! What the policy tells the kernel to do after each event, and why an event can be refused.
//!
//! The policy has already updated its own idea of who is running when it returns a [`Decision`]; the
//! kernel's job is to make the CPU match (the mechanism: saving registers, posting soft interrupts,
//! entering dispatchers) without second-guessing it. The crate documentation (`lib.rs`) spells out,
//! per variant, what the kernel does with the dispatcher's shared-memory structure.

use crate::{Class, DispatcherId};

/// The kernel's next action on this CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "the kernel must carry out every decision or the policy and the CPU disagree"]
pub enum Decision {
    /// Nothing changes: the running dispatcher keeps the CPU.
    Continue,
    /// Post the PREEMPT soft interrupt to this (running) dispatcher and let it keep running: it
    /// should save its thread and yield. If it has not yielded by the end of the grace period, a
    /// later event returns [`Decision::HardPreempt`].
    SoftPreempt(DispatcherId),
    /// The grace period ran out: save `from`'s registers without its cooperation and run `to`.
    /// `from` stays runnable.
    HardPreempt {
        /// The dispatcher being taken off the CPU (still runnable).
        from: DispatcherId,
        /// The dispatcher to run now.
        to: DispatcherId,
    },
    /// Run `to`. `from` is the dispatcher that just gave up the CPU through its own call (yield,
    /// block, handoff) and whose state the kernel saves as for any kernel call; `None` when the CPU
    /// was idle or the previous dispatcher was removed (there is nothing to save).
    Switch {
        /// The dispatcher that just left the CPU, if there is one to save.
        from: Option<DispatcherId>,
        /// The dispatcher to run now.
        to: DispatcherId,
    },
    /// Nothing is runnable: idle the CPU until an interrupt brings a wake-up. If a dispatcher was
    /// running it just blocked or was removed by the event being reported, so the kernel already
    /// knows whose state to save.
    Idle,
}

/// Why the policy refused an event. A refused event changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedError {
    /// Every slot of this CPU's fixed table is taken.
    Full,
    /// The id is already on this CPU.
    Duplicate(DispatcherId),
    /// The id is not on this CPU.
    Unknown(DispatcherId),
    /// The handoff target is blocked or already running.
    NotRunnable(DispatcherId),
    /// A yield or handoff came with no dispatcher running.
    NoCurrent,
    /// A dispatcher tried to hand off to itself.
    SelfHandoff,
    /// The handoff would run `to` while a dispatcher of a higher class is runnable, which strict
    /// classes forbid; the caller should yield instead.
    ClassInversion {
        /// The handoff target.
        to: DispatcherId,
        /// The target's class.
        class: Class,
        /// The highest class with a runnable dispatcher (counting the caller, which stays runnable).
        runnable: Class,
    },
}
