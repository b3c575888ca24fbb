//! Async messages (DESIGN §2.3–2.4): the kernel puts them in the dispatcher page's ring and
//! posts the ASYNC soft interrupt. The ring is the truth about messages, the bit only a
//! wake-up: every wait looks at the ring first, and the scheduler checks it again (with upcalls
//! disabled, after taking the pending bits) before the waiting thread parks, so no message can
//! be missed.
//!
//! Waiting blocks only the calling *thread* (`sched::wait_for`): the dispatcher's other threads
//! run meanwhile, and when all of them wait the dispatcher sleeps in the kernel until the next
//! soft interrupt. A timed wait uses the runtime's timer queue, over the dispatcher's one kernel
//! timer.
//!
//! The ring is the dispatcher's, not a thread's: when several threads wait for messages, each
//! message goes to whichever looks first. A caller that shares it among threads passes on what
//! it took for another: [`wait_message_unless`] also ends when a condition of the caller's
//! holds, and whoever makes it hold unparks the waiting thread (`Thread::unpark`).

use k42_abi::kernel::{AsyncMessage, soft};
use k42_sys::critical;
use k42_sys::page::Page;

use crate::{clock, sched};

/// The oldest waiting async message, if any, without blocking.
pub fn next_message() -> Option<AsyncMessage> {
    // Upcalls disabled: taking a message is a read-then-advance another thread of this
    // dispatcher must not interleave with.
    let _upcalls = critical::disable();
    let page = Page::current();
    loop {
        let msg = page.pop_async()?;
        if !sched::is_nudge(&msg) {
            return Some(msg);
        }
    }
}

/// Whether the ring has something (maybe only the runtime's own wake-ups).
fn ring_nonempty() -> bool {
    Page::current().async_waiting() != 0
}

/// The oldest async message, blocking the thread until one arrives.
pub fn wait_message() -> AsyncMessage {
    loop {
        if let Some(msg) = next_message() {
            return msg;
        }
        sched::wait_for(soft::ASYNC, None, |_| ring_nonempty());
    }
}

/// The oldest async message, blocking the thread until one arrives or the kernel clock reaches
/// `deadline_ns` (`None` then).
pub fn wait_message_until(deadline_ns: u64) -> Option<AsyncMessage> {
    loop {
        if let Some(msg) = next_message() {
            return Some(msg);
        }
        if clock::now_ns() >= deadline_ns {
            return None;
        }
        sched::wait_for(soft::ASYNC, Some(deadline_ns), |_| ring_nonempty());
    }
}

/// Blocks the thread until a message `wanted` accepts arrives and returns it; messages before it
/// that it does not accept go to `other` (to be logged, or kept by the caller).
pub fn wait_message_where(
    mut wanted: impl FnMut(&AsyncMessage) -> bool,
    mut other: impl FnMut(AsyncMessage),
) -> AsyncMessage {
    loop {
        let msg = wait_message();
        if wanted(&msg) {
            return msg;
        }
        other(msg);
    }
}

/// Like [`wait_message_where`], but gives up when the kernel clock reaches `deadline_ns`.
pub fn wait_message_where_until(
    deadline_ns: u64,
    mut wanted: impl FnMut(&AsyncMessage) -> bool,
    mut other: impl FnMut(AsyncMessage),
) -> Option<AsyncMessage> {
    loop {
        let msg = wait_message_until(deadline_ns)?;
        if wanted(&msg) {
            return Some(msg);
        }
        other(msg);
    }
}

/// Why [`wait_message_unless`] returned without a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoMessage {
    /// The caller's condition holds.
    Condition,
    /// The deadline passed.
    Timeout,
}

/// The oldest async message, blocking the thread until one arrives, `unless` holds (checked
/// now and each time the thread is woken: whoever makes it hold must unpark the thread), or the
/// kernel clock reaches `deadline_ns`. `unless` runs with upcalls disabled and the scheduler
/// locked: it may read atomics, never take a lock another thread may hold.
pub fn wait_message_unless(
    deadline_ns: Option<u64>,
    mut unless: impl FnMut() -> bool,
) -> Result<AsyncMessage, NoMessage> {
    loop {
        if let Some(msg) = next_message() {
            return Ok(msg);
        }
        if unless() {
            return Err(NoMessage::Condition);
        }
        if deadline_ns.is_some_and(|d| clock::now_ns() >= d) {
            return Err(NoMessage::Timeout);
        }
        sched::wait_for(soft::ASYNC, deadline_ns, |_| ring_nonempty() || unless());
    }
}
