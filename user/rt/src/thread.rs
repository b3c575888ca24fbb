//! User-level threads (DESIGN §2.4), run by each dispatcher's scheduler (`sched.rs`): they
//! cost no kernel memory — a record on the heap and a stack slot of address space, of which only
//! the pages a thread touches are ever backed.
//!
//! - [`spawn`] makes a thread on the calling dispatcher and queues it; [`JoinHandle::join`]
//!   waits for it to end and returns what it returned. Its stack is a slot of
//!   `layout::THREAD_STACK_SLOT` bytes (256 KiB and a red page below); an overflow ends the
//!   process with `trap::STACK_OVERFLOW_STATUS` and a log line naming the thread. Slots are
//!   recycled after a thread ends.
//! - [`yield_now`] lets the dispatcher's other ready threads run first (no kernel call).
//! - [`park`] and [`Thread::unpark`]: blocking with a permit, so they work in either order —
//!   an unpark before the park makes the park return at once. A park may also return
//!   spuriously (a stale permit): wait in a loop on the condition, as every primitive here does.
//! - [`cpu_ns`]: the running thread's own CPU time, counted at each switch.
//! - [`sleep`] and [`sleep_until`]: timed waits on the kernel clock (`clock::now_ns`), over the
//!   dispatcher's one kernel timer; its 100 Hz tick makes the resolution 10 ms.
//!
//! Threads switch when they block or yield, when the kernel preempts the dispatcher, and when
//! a soft interrupt found on enabling upcalls made another thread ready; so data shared by the
//! threads of one dispatcher is best guarded with
//! [`FairBLock`](crate::sync::FairBLock), which blocks the thread, rather than a spin lock,
//! which would spin until the holder runs again.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_sys::critical;
use k42_sys::vm::MapError;
use spin::Mutex;

use crate::clock;
use crate::sched::{self, ThreadRef};

/// A handle on a thread.
#[derive(Clone)]
pub struct Thread(pub(crate) ThreadRef);

impl Thread {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// A number no other thread of the process has.
    pub fn id(&self) -> u64 {
        self.0.serial
    }

    /// Gives it its permit: its next [`park`] (or the one it is in) returns.
    pub fn unpark(&self) {
        sched::unpark(&self.0);
    }

    /// Its stack's red page and top.
    pub fn stack(&self) -> (u64, u64) {
        (self.0.red_page, self.0.stack_top)
    }
}

impl PartialEq for Thread {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Thread {}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Thread({} #{})", self.0.name, self.0.serial)
    }
}

/// The running thread.
///
/// # Panics
///
/// In an upcall handler (no thread runs there).
pub fn current() -> Thread {
    let _upcalls = critical::disable();
    Thread(sched::current_locked())
}

/// The id ([`Thread::id`]) of the running thread — in an upcall handler, of the thread the
/// upcall interrupted — if there is one.
pub fn current_id() -> Option<u64> {
    let _upcalls = critical::disable();
    sched::current_serial()
}

/// The running thread's own CPU time in ns: the dispatcher's CPU time (`clock::cpu_ns`) while
/// it was the dispatcher's current thread (0 in an upcall handler, off a thread).
pub fn cpu_ns() -> u64 {
    sched::thread_cpu_ns()
}

/// Blocks the running thread until it has a permit ([`Thread::unpark`]), and takes the permit.
pub fn park() {
    let _upcalls = critical::disable();
    let me = sched::current_locked();
    sched::park_locked(&me);
}

/// Lets the dispatcher's other ready threads run before this one continues.
pub fn yield_now() {
    let _upcalls = critical::disable();
    sched::yield_locked();
}

/// Blocks the running thread until the kernel clock reaches `deadline_ns`.
pub fn sleep_until(deadline_ns: u64) {
    let _upcalls = critical::disable();
    let me = sched::current_locked();
    let key = sched::with(|s| s.add_timer(deadline_ns, me.clone()));
    while clock::now_ns() < deadline_ns {
        sched::park_locked(&me);
    }
    sched::with(|s| s.remove_timer(key));
}

/// Blocks the running thread for `ns` nanoseconds (at least).
pub fn sleep(ns: u64) {
    sleep_until(clock::now_ns().saturating_add(ns));
}

/// Ends the running thread (its [`JoinHandle`], if any, never gets a value). A program's `main`
/// thread may end this way too: the process lives on while it has threads or serves calls.
pub fn exit() -> ! {
    sched::finish_current()
}

/// What a finished thread left for its joiner.
struct Packet<T> {
    value: Mutex<Option<T>>,
    done: AtomicBool,
    joiner: Mutex<Option<ThreadRef>>,
}

/// The right to wait for a thread and take what it returned.
pub struct JoinHandle<T> {
    packet: Arc<Packet<T>>,
    thread: Thread,
}

impl<T> JoinHandle<T> {
    /// The thread.
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Whether it has finished (its value is waiting).
    pub fn is_finished(&self) -> bool {
        self.packet.done.load(Ordering::Acquire)
    }

    /// Blocks until the thread has finished; returns what it returned.
    pub fn join(self) -> T {
        let _upcalls = critical::disable();
        let me = sched::current_locked();
        loop {
            if self.packet.done.load(Ordering::Acquire)
                && let Some(value) = self.packet.value.lock().take()
            {
                return value;
            }
            *self.packet.joiner.lock() = Some(me.clone());
            sched::park_locked(&me);
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinHandle({:?})", self.thread)
    }
}

/// Why [`try_spawn`] failed.
#[derive(Debug)]
pub struct SpawnError(pub MapError);

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no stack for a new thread: {}", self.0)
    }
}

/// Makes a thread named `name` that runs `f` on this dispatcher, queued behind the ready ones.
///
/// # Panics
///
/// If no stack can be mapped for it (see [`try_spawn`]).
pub fn spawn<F, T>(name: &str, f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match try_spawn(name, f) {
        Ok(handle) => handle,
        Err(e) => panic!("spawn {name}: {e}"),
    }
}

/// Makes a thread named `name` that runs `f`, or says why it cannot.
pub fn try_spawn<F, T>(name: &str, f: F) -> Result<JoinHandle<T>, SpawnError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let packet = Arc::new(Packet {
        value: Mutex::new(None),
        done: AtomicBool::new(false),
        joiner: Mutex::new(None),
    });
    let theirs = packet.clone();
    let body = Box::new(move || {
        let value = f();
        let joiner = {
            let _upcalls = critical::disable();
            *theirs.value.lock() = Some(value);
            theirs.done.store(true, Ordering::Release);
            theirs.joiner.lock().take()
        };
        if let Some(joiner) = joiner {
            sched::unpark(&joiner);
        }
    });
    let _upcalls = critical::disable();
    let thread = sched::spawn_locked(String::from(name), body, false).map_err(SpawnError)?;
    Ok(JoinHandle {
        packet,
        thread: Thread(thread),
    })
}

/// Counts of the thread machinery, for tests and reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Threads alive on this dispatcher (running, ready or blocked).
    pub threads: usize,
    /// Stack slots mapped so far in the process (each `layout::THREAD_STACK_SLOT` bytes of
    /// address space).
    pub stack_slots: u64,
    /// Of those, how many are free for reuse.
    pub free_stacks: usize,
    /// PREEMPT soft interrupts this dispatcher has seen: how many times the kernel asked for
    /// the processor back because another dispatcher should run.
    pub preemptions: u64,
}

/// The current counts.
pub fn stats() -> Stats {
    let (stack_slots, free_stacks) = sched::stack_counts();
    let _upcalls = critical::disable();
    let (threads, preemptions) = sched::with(|s| {
        s.poll();
        (s.live(), s.epoch(k42_abi::kernel::soft::PREEMPT))
    });
    Stats {
        threads,
        stack_slots,
        free_stacks,
        preemptions,
    }
}
