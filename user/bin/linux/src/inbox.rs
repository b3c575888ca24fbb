//! The dispatcher's message ring shared by the program's threads (issue #5). The ring is the
//! dispatcher's (`k42_rt::ring`): when several Linux threads wait — one on a pipe, one on a
//! child's end, one on a futex — the message one of them is woken for may be taken by another.
//! So in a process with more than one thread, whoever takes a message from the ring absorbs it
//! (`signals::absorb`: a signal is the process's) and passes a copy to every other thread's
//! mailbox here, waking it; a waiting thread reads its mailbox before it sleeps on the ring.
//!
//! Every wait's caller looks again after a wake-up (a pipe read reads again, a wait asks the
//! process server again), so a copy that was not for this thread, or one left from before,
//! costs a look, never a wrong answer. A mailbox is bounded; when it overflows, its thread's
//! next wait ends as if its message had come, for the same reason.
//!
//! A single-threaded process never uses a mailbox: its one thread takes every message itself.
//! [`kick`] wakes every waiting thread with an empty letter, so that it looks at process-wide
//! state (a stop, an exec ending the other threads: `threads.rs`).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_abi::kernel::AsyncMessage;
use k42_rt::ring::{self, NoMessage};
use k42_rt::thread::{self, Thread};
use spin::Mutex;

/// How many messages a mailbox keeps before it overflows.
const MAILBOX_CAPACITY: usize = 64;

/// One thread's mailbox.
struct Mailbox {
    /// Its thread, to wake.
    thread: Thread,
    /// Copies of messages other threads took.
    letters: VecDeque<AsyncMessage>,
    /// Letters were lost (the box was full), or a [`kick`] came.
    look_again: bool,
    /// Whether there is anything, readable without the lock (a wait's wake-up condition).
    has_mail: Arc<AtomicBool>,
}

/// The mailboxes, by runtime thread id (`Thread::id`), one per Linux thread while the process
/// has more than one.
static BOXES: Mutex<BTreeMap<u64, Mailbox>> = Mutex::new(BTreeMap::new());

/// Gives `thread` a mailbox (it is a Linux thread).
pub fn open(thread: Thread) {
    let mailbox = Mailbox {
        thread: thread.clone(),
        letters: VecDeque::new(),
        look_again: false,
        has_mail: Arc::new(AtomicBool::new(false)),
    };
    BOXES.lock().insert(thread.id(), mailbox);
}

/// Removes `id`'s mailbox (its thread ended).
pub fn close(id: u64) {
    BOXES.lock().remove(&id);
}

/// Removes every mailbox but `keep`'s, whose letters are dropped (an exec, or a fork child:
/// one thread left).
pub fn keep_only(keep: u64) {
    let mut boxes = BOXES.lock();
    boxes.retain(|&id, _| id == keep);
    if let Some(mine) = boxes.get_mut(&keep) {
        mine.letters.clear();
        mine.look_again = false;
        mine.has_mail.store(false, Ordering::Release);
    }
}

/// Whether other threads may want messages this one takes.
fn shared() -> bool {
    crate::threads::many()
}

/// Passes a copy of `msg`, which this thread took from the ring and absorbed, to every other
/// thread, and wakes them.
pub fn pass_on(msg: &AsyncMessage) {
    if !shared() {
        return;
    }
    post(Some(msg));
}

/// Wakes every other thread to look at process-wide state.
pub fn kick() {
    post(None);
}

/// Puts `msg` (or an empty letter) in every other mailbox and wakes their threads.
fn post(msg: Option<&AsyncMessage>) {
    let me = thread::current().id();
    let mut woken = alloc::vec::Vec::new();
    {
        let mut boxes = BOXES.lock();
        for (_, b) in boxes.iter_mut().filter(|(id, _)| **id != me) {
            match msg {
                Some(msg) if b.letters.len() < MAILBOX_CAPACITY => b.letters.push_back(*msg),
                _ => b.look_again = true,
            }
            b.has_mail.store(true, Ordering::Release);
            woken.push(b.thread.clone());
        }
    }
    // Unparked after the lock is let go: a woken thread looks at its box at once.
    for t in woken {
        t.unpark();
    }
}

/// What [`next`] found.
pub enum Next {
    /// A message from the ring (not yet absorbed).
    Taken(AsyncMessage),
    /// The mailbox had one `wanted` accepts (absorbed by whoever took it), or asked this
    /// thread to look again.
    Mail,
    /// The mailbox had only letters not for this thread; or the caller's condition holds.
    Nothing,
    /// The deadline passed.
    Timeout,
}

/// The next thing for this thread: its mail first, then the ring, blocking until something
/// comes, `cond` holds, or `deadline` passes.
pub fn next(
    deadline: Option<u64>,
    wanted: &mut dyn FnMut(&AsyncMessage) -> bool,
    cond: &dyn Fn() -> bool,
) -> Next {
    if !shared() {
        return from_ring(deadline, cond);
    }
    let me = thread::current().id();
    let has_mail = {
        let mut boxes = BOXES.lock();
        let Some(mine) = boxes.get_mut(&me) else {
            drop(boxes);
            // Not a Linux thread (none of the personality's own threads waits here).
            return from_ring(deadline, cond);
        };
        if mine.has_mail.swap(false, Ordering::AcqRel) {
            let letters = core::mem::take(&mut mine.letters);
            let look_again = core::mem::take(&mut mine.look_again);
            drop(boxes);
            let wanted_one = letters.iter().any(wanted);
            return if wanted_one || look_again {
                Next::Mail
            } else {
                Next::Nothing
            };
        }
        mine.has_mail.clone()
    };
    from_ring(deadline, &|| has_mail.load(Ordering::Acquire) || cond())
}

/// The next message from the ring, or why there is none.
fn from_ring(deadline: Option<u64>, cond: &dyn Fn() -> bool) -> Next {
    match ring::wait_message_unless(deadline, cond) {
        Ok(msg) => Next::Taken(msg),
        Err(NoMessage::Condition) => Next::Nothing,
        Err(NoMessage::Timeout) => Next::Timeout,
    }
}

/// Whether a fork may copy the process now (no other thread holds the mailboxes' lock).
pub fn quiet() -> bool {
    !BOXES.is_locked()
}
