//! `futex` (issue #5): the wait queue the program's threads block on — pthread mutexes,
//! condition variables, `pthread_join` (through `CLONE_CHILD_CLEARTID`). The queue is the
//! personality's own (`k42_linux::futex::Queue`, host-tested): a wait blocks the program's
//! runtime thread only (DESIGN §2.4: what would block in a kernel returns control to the
//! user-level scheduler), a wake unparks the threads it takes out.
//!
//! Served: `FUTEX_WAIT`, `FUTEX_WAKE`, `FUTEX_WAIT_BITSET`, `FUTEX_WAKE_BITSET`,
//! `FUTEX_REQUEUE`, `FUTEX_CMP_REQUEUE`, with `FUTEX_PRIVATE_FLAG` and `FUTEX_CLOCK_REALTIME`.
//! The queue is this process's: a futex in memory shared with another process
//! (`MAP_SHARED`, without `FUTEX_PRIVATE_FLAG`) does not wake a waiter there (a departure,
//! `docs/linux-personality.md`). PI futexes and `FUTEX_WAKE_OP` are `ENOSYS`, logged.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_linux::futex::{MATCH_ANY, Queue};
use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rt::thread::{self, Thread};
use k42_rt::{clock, log};
use spin::Mutex;

use crate::calls::time;
use crate::signals::{self, Woken};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// A waiter: its thread, and the flag a wake sets before unparking it.
#[derive(Clone)]
struct Token {
    thread: Thread,
    woken: Arc<AtomicBool>,
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.woken, &other.woken)
    }
}

/// The process's futex waiters.
static QUEUE: Mutex<Queue<Token>> = Mutex::new(Queue::new());

/// The operation bits beyond the command.
const OP_FLAGS: u32 = g::FUTEX_PRIVATE_FLAG | g::FUTEX_CLOCK_REALTIME;
/// A futex word's alignment.
const WORD_ALIGN: u64 = 4;

/// `futex(uaddr, op, val, timeout | val2, uaddr2, val3)`.
pub fn futex(linux: &Linux, args: &Args) -> SysResult {
    let (uaddr, op, val, uaddr2, val3) = (
        args[0],
        args[1] as u32,
        args[2] as u32,
        args[4],
        args[5] as u32,
    );
    let cmd = op & !OP_FLAGS;
    let realtime = op & g::FUTEX_CLOCK_REALTIME != 0;
    if realtime && !matches!(cmd, g::FUTEX_WAIT | g::FUTEX_WAIT_BITSET) {
        return Err(Errno::ENOSYS);
    }
    if !uaddr.is_multiple_of(WORD_ALIGN) {
        return Err(Errno::EINVAL);
    }
    match cmd {
        g::FUTEX_WAIT => {
            let deadline = relative_deadline(linux, args[3])?;
            wait(linux, uaddr, val, deadline, MATCH_ANY)
        }
        g::FUTEX_WAIT_BITSET => {
            if val3 == 0 {
                return Err(Errno::EINVAL);
            }
            let deadline = absolute_deadline(linux, args[3], realtime)?;
            wait(linux, uaddr, val, deadline, val3)
        }
        g::FUTEX_WAKE => Ok(wake_bits(uaddr, val, MATCH_ANY)),
        g::FUTEX_WAKE_BITSET => {
            if val3 == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(wake_bits(uaddr, val, val3))
        }
        g::FUTEX_REQUEUE | g::FUTEX_CMP_REQUEUE => {
            // The fourth argument is `val2`, the most to move, not a timeout.
            let nr_requeue = args[3] as u32;
            if (val as i32) < 0 || (nr_requeue as i32) < 0 {
                return Err(Errno::EINVAL);
            }
            if !uaddr2.is_multiple_of(WORD_ALIGN) {
                return Err(Errno::EINVAL);
            }
            let expect = (cmd == g::FUTEX_CMP_REQUEUE).then_some(val3);
            requeue(linux, uaddr, uaddr2, val, nr_requeue, expect)
        }
        _ => {
            log!("linux: futex operation {cmd} is not supported yet: ENOSYS");
            Err(Errno::ENOSYS)
        }
    }
}

/// `FUTEX_WAIT`'s timeout: relative, on the monotonic clock (null: none).
fn relative_deadline(linux: &Linux, timeout: u64) -> Result<Option<u64>, Errno> {
    if timeout == 0 {
        return Ok(None);
    }
    let ns = time::read_timespec(linux, timeout)?;
    Ok(Some(clock::now_ns().saturating_add(ns)))
}

/// `FUTEX_WAIT_BITSET`'s timeout: absolute, on the monotonic clock or (`FUTEX_CLOCK_REALTIME`)
/// the real-time one; as a kernel-clock deadline.
fn absolute_deadline(linux: &Linux, timeout: u64, realtime: bool) -> Result<Option<u64>, Errno> {
    if timeout == 0 {
        return Ok(None);
    }
    let at = time::read_timespec(linux, timeout)?;
    let offset = if realtime {
        clock::wall_ns().saturating_sub(clock::now_ns())
    } else {
        0
    };
    Ok(Some(at.saturating_sub(offset)))
}

/// The futex word at `uaddr`.
fn read_word(linux: &Linux, uaddr: u64) -> Result<u32, Errno> {
    let mut word = [0u8; 4];
    uaccess::read_into(linux, uaddr, &mut word)?;
    Ok(u32::from_ne_bytes(word))
}

/// Blocks the calling thread while the word at `uaddr` is `val`, until a wake whose bitset
/// meets `bitset`, the deadline (`ETIMEDOUT`) or a signal. `EAGAIN` if the word is not `val`.
fn wait(linux: &Linux, uaddr: u64, val: u32, deadline: Option<u64>, bitset: u32) -> SysResult {
    let me = Token {
        thread: thread::current(),
        woken: Arc::new(AtomicBool::new(false)),
    };
    {
        // The word is compared with the queue locked, so a waker that changes it and then
        // wakes cannot slip in between (the queue lock is Linux's hash-bucket lock).
        let mut queue = QUEUE.lock();
        if read_word(linux, uaddr)? != val {
            return Err(Errno::EAGAIN);
        }
        queue.wait(uaddr, bitset, me.clone());
    }
    let woken = me.woken.clone();
    let outcome = signals::wait_until(linux, deadline, move || woken.load(Ordering::Acquire));
    if me.woken.load(Ordering::Acquire) || !QUEUE.lock().cancel(&me) {
        // Woken (a wake that raced with the timeout or signal wins, as on Linux).
        return Ok(0);
    }
    match outcome {
        Woken::Timeout => Err(Errno::ETIMEDOUT),
        // Linux restarts an untimed wait under SA_RESTART; a timed one only without a handler.
        Woken::Signal if deadline.is_none() => Err(Errno::ERESTARTSYS),
        Woken::Signal => Err(Errno::ERESTARTNOHAND),
        // Only a stop and continue end the wait otherwise: a spurious wake-up, which every
        // futex user must expect.
        Woken::Message => Ok(0),
    }
}

/// Wakes up to `nr_wake` waiters on `uaddr` (at least one, as Linux); returns how many.
pub fn wake(uaddr: u64, nr_wake: u32) -> u64 {
    wake_bits(uaddr, nr_wake, MATCH_ANY)
}

fn wake_bits(uaddr: u64, nr_wake: u32, bitset: u32) -> u64 {
    let woken = QUEUE.lock().wake(uaddr, nr_wake, bitset);
    let n = woken.len() as u64;
    unpark(woken);
    n
}

/// Sets each waiter's flag and makes its thread ready (after the queue's lock is let go).
fn unpark(woken: alloc::vec::Vec<Token>) {
    for t in woken {
        t.woken.store(true, Ordering::Release);
        t.thread.unpark();
    }
}

/// `FUTEX_(CMP_)REQUEUE`: wakes `nr_wake` waiters on `uaddr`, moves up to `nr_requeue` to
/// `uaddr2`; with `expect`, only if the word at `uaddr` is that (`EAGAIN` otherwise). Returns
/// how many were woken and moved.
fn requeue(
    linux: &Linux,
    uaddr: u64,
    uaddr2: u64,
    nr_wake: u32,
    nr_requeue: u32,
    expect: Option<u32>,
) -> SysResult {
    let (woken, moved) = {
        let mut queue = QUEUE.lock();
        if let Some(expect) = expect
            && read_word(linux, uaddr)? != expect
        {
            return Err(Errno::EAGAIN);
        }
        queue.requeue(uaddr, uaddr2, nr_wake, nr_requeue)
    };
    let n = woken.len() as u64 + u64::from(moved);
    unpark(woken);
    Ok(n)
}

/// Forgets every waiter (a fork child's parent's threads, or those an exec ended).
pub fn reset() {
    *QUEUE.lock() = Queue::new();
}

/// Whether a fork may copy the process now (no other thread holds the queue's lock).
pub fn quiet() -> bool {
    !QUEUE.is_locked()
}
