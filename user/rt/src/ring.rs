//! Waiting for soft interrupts and reading async messages (DESIGN §2.3–2.4): the kernel sets
//! bits in the dispatcher page's `pending` word and, for messages, fills the page's ring;
//! YIELD(BLOCK) sleeps until some bit is pending. The ring is the truth about messages, the
//! ASYNC bit only a wake-up, so every wait re-reads the ring after taking the bit and no
//! message can be missed.
//!
//! Single-threaded for now: a bit no one here waits for would keep BLOCK from sleeping, so
//! [`block_until`] drops it (PREEMPT is honoured by yielding first). The thread scheduler will
//! dispatch them instead: TIMER to timed waits, PAGE_FAULT_DONE to the faulting thread. The one
//! timed wait here ([`wait_message_until`]) owns the dispatcher's single kernel timer while it
//! runs.

use k42_abi::kernel::{AsyncMessage, soft, yield_mode};
use k42_sys::kcall;
use k42_sys::page::Page;

use crate::clock;

/// Sleeps until one of the soft-interrupt bits in `mask` is pending; clears and returns those.
pub fn block_until(mask: u64) -> u64 {
    let page = Page::current();
    loop {
        let pending = page.pending();
        if pending & mask != 0 {
            return page.take_pending(mask);
        }
        if pending & soft::PREEMPT != 0 {
            // The kernel wants the processor back: give it, then look again.
            page.take_pending(soft::PREEMPT);
            kcall::yield_now(yield_mode::YIELD);
            continue;
        }
        if pending != 0 {
            // Bits nobody in this single-threaded runtime waits for (module comment).
            page.take_pending(pending);
            continue;
        }
        // Returns at once if a bit arrived since the load above: no wake-up is lost.
        kcall::yield_now(yield_mode::BLOCK);
    }
}

/// The oldest waiting async message, if any, without blocking.
pub fn next_message() -> Option<AsyncMessage> {
    Page::current().pop_async()
}

/// The oldest async message, sleeping until one arrives.
pub fn wait_message() -> AsyncMessage {
    loop {
        if let Some(msg) = next_message() {
            return msg;
        }
        block_until(soft::ASYNC);
    }
}

/// The oldest async message, sleeping until one arrives or the kernel clock reaches
/// `deadline_ns` (`None` then). Uses this dispatcher's one-shot TIMER, cancelled on return.
pub fn wait_message_until(deadline_ns: u64) -> Option<AsyncMessage> {
    kcall::timer(deadline_ns);
    let msg = loop {
        if let Some(msg) = next_message() {
            break Some(msg);
        }
        if clock::now_ns() >= deadline_ns {
            break None;
        }
        block_until(soft::ASYNC | soft::TIMER);
    };
    kcall::timer(0);
    Page::current().take_pending(soft::TIMER);
    msg
}

/// Sleeps until a message `wanted` accepts arrives and returns it; messages before it that it
/// does not accept go to `other` (to be logged, or kept by the caller).
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
