//! The user-level scheduler: one per dispatcher (DESIGN §2.4). The kernel schedules dispatchers
//! and knows nothing of threads; this runs the threads of one dispatcher on it.
//!
//! **State.** Each dispatcher's [`Sched`] holds its threads (a slab of records: the thread's
//! handle, its suspended context while it is not running, its body before it starts), the ready
//! queue (FIFO), the current thread, the timer queue over the one kernel TIMER, the threads
//! waiting for soft interrupts (async messages, IPC retry), and the PPC server's call state
//! (the call, its bytes and its reply's, which go into the page's data area when the reply is
//! taken to be sent, upcalls disabled until its PPC_RETURN). It is touched only with upcalls
//! disabled (`k42_sys::critical`), so an upcall never finds it half-changed, and its lock is
//! only ever contended by another dispatcher (a cross-dispatcher wake-up).
//!
//! **Switching** (`k42_sys::thread`): a thread that blocks (parks, yields, finishes) picks the
//! next ready thread and switches to it directly; the suspended context is stored in its record
//! *on top of* the next thread's stack, once its registers are really saved. When no thread is
//! ready, it switches to the idle loop on the upcall stack, which gives the dispatcher back to
//! the kernel: YIELD(IDLE) — which drops the context and enables upcalls atomically, so a soft
//! interrupt that came meanwhile re-enters at once — or, while a PPC is being served (the kernel
//! refuses to let a server sleep on its caller's time), plain YIELD until a thread is ready.
//!
//! **Soft interrupts.** Every scheduling step first [`Sched::poll`]s the page's pending bits:
//! ASYNC and IPC_RETRY wake the threads waiting for them, TIMER (and the clock) wakes the due
//! sleepers and re-arms the kernel timer for the next deadline, PREEMPT makes the dispatcher
//! yield to the kernel before it continues. The INTERRUPT upcall (a preemption, or an idle
//! dispatcher woken) takes the interrupted thread's registers from the save area as that thread's
//! context (`Context::from_saved`), queues it — at the back after a PREEMPT, at the front
//! otherwise — and runs the idle loop's step, which polls and picks. Soft interrupts that come
//! while a thread runs with upcalls enabled are delivered at the next kernel look (the quantum's
//! end) or found by the thread's next scheduling step, whichever is first.
//!
//! **Park and unpark** carry a permit (a per-thread state word: empty, notified, parked,
//! finished): an unpark before the park makes the park return at once, so no wake-up is lost,
//! whatever the order. Every blocking primitive of the runtime is a loop around park.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use k42_abi::kernel::{
    AsyncMessage, COMM_DISPATCHER_BITS, Entry, INITIAL_STACK_SIZE, INITIAL_STACK_TOP, SavedRegs,
    comm_id, comm_pid, soft, yield_mode,
};
use k42_rights::wire::{self, ARG_WORDS, REPLY_WORDS};
use k42_sys::critical;
use k42_sys::kcall;
use k42_sys::page::Page;
use k42_sys::thread::{
    self as sys_thread, Context, PAGE_SIZE, SavedError, Stack, Target, ThreadEntry,
};
use k42_sys::upcall;
use k42_sys::vm::MapError;
use spin::Mutex;

use crate::clock::CpuReading;
use crate::layout::{THREAD_STACK_SLOT, THREAD_STACKS_BASE, THREAD_STACKS_LIMIT};
use crate::{clock, log, upcall_stack};

/// Park states of a thread (its permit).
const EMPTY: u8 = 0;
const NOTIFIED: u8 = 1;
const PARKED: u8 = 2;
const FINISHED: u8 = 3;

/// Soft-interrupt bits counted in [`Sched::epochs`] (`k42_abi::kernel::soft` has five).
const SOFT_BITS: usize = 5;
/// A thread's time slice while others of its dispatcher are ready: the kernel's dispatcher
/// timers are checked on its 100 Hz tick, so a slice is at least that long anyway.
const SLICE_NS: u64 = 10_000_000;

/// A thread: what every handle on it shares.
#[derive(Debug)]
pub(crate) struct ThreadInner {
    /// Its record's index in its dispatcher's table (reused after it ends).
    pub(crate) slot: u32,
    /// Its dispatcher's index in the process.
    pub(crate) dispatcher: usize,
    /// Unique in the process, never reused.
    pub(crate) serial: u64,
    /// Its name, for logs and fault reports.
    pub(crate) name: String,
    /// Its permit (park states above).
    state: AtomicU8,
    /// Its stack's red page and top.
    pub(crate) red_page: u64,
    pub(crate) stack_top: u64,
}

/// A shared handle on a thread.
pub(crate) type ThreadRef = Arc<ThreadInner>;

/// Serial numbers of threads.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// One thread's record in its dispatcher's table.
struct Rec {
    thread: ThreadRef,
    /// Its context while it is not running (`None` while it runs, or before its switch-out
    /// completed).
    ctx: Option<Context>,
    /// What it runs, until it starts.
    body: Option<Box<dyn FnOnce() + Send>>,
    /// It runs foreign program code (a Linux program, `crate::program`), not its own stack's.
    in_program: bool,
    /// The program's registers while the thread is not in program code: at a syscall, or when
    /// an upcall interrupted the program.
    program: Option<SavedRegs>,
    /// The program's FS base on this thread (its TLS): FS is one register per dispatcher, so
    /// `crate::program` loads it when this thread enters program code after another did.
    program_fs: u64,
    /// The dispatcher CPU time it had up to when it last stopped being current (`Sched::charge`).
    cpu: CpuReading,
}

/// A call waiting for a server thread: the words of `k42_sys::upcall::IncomingCall` a handler
/// needs (its data, if any, is already in the server state's `data`).
#[derive(Clone, Copy)]
pub(crate) struct Call {
    pub(crate) badge: u64,
    pub(crate) handle: u64,
    pub(crate) method: u64,
    pub(crate) args: [u64; ARG_WORDS],
    pub(crate) token: u64,
}

/// A PPC reply on its way: the reply token and the five words. Its data, if any, is the
/// server state's `reply_data`.
pub(crate) type Reply = (u64, [u64; REPLY_WORDS]);

/// A reply ready to send: token, words, and how many bytes of data [`Sched::take_reply`] put
/// in the page's data area.
pub(crate) type Staged = (u64, [u64; REPLY_WORDS], usize);

/// The PPC server's part of a dispatcher's scheduler (`crate::server`). One call is served at a
/// time (the kernel's rule), so the call's data and its reply's live here, beside it.
#[derive(Default)]
pub(crate) struct ServerState {
    /// The call the IPC_CALL upcall delivered, until a server thread takes it.
    pub(crate) call: Option<Call>,
    /// The bytes the call brought in the page's data area (copied out by the upcall), until
    /// the handler takes them; emptied when its reply is left.
    pub(crate) data: Vec<u8>,
    /// The bytes the handler set for its reply (at most `PPC_DATA_BYTES`), written into the
    /// page's data area when the reply is taken to be sent.
    pub(crate) reply_data: Vec<u8>,
    /// The thread running the call's handler (`None`: none): only it may use the data. A
    /// handle rather than a slot, so the end of a call clears the thread's permit without
    /// looking its record up (`retire_in_place`).
    pub(crate) handler: Option<ThreadRef>,
    /// A call is being served: the kernel forbids YIELD(BLOCK/IDLE) until its reply is sent.
    pub(crate) serving: bool,
    /// The reply a server thread left, to send at the next scheduling step (with WAIT if the
    /// dispatcher then has nothing to run).
    pub(crate) reply: Option<Reply>,
    /// Server threads between calls (but the one the dispatcher rests on, if it rests: that
    /// one stays current, `retire_in_place`).
    pub(crate) pool: Vec<Pooled>,
    /// Server threads made so far (for their names).
    pub(crate) made: u32,
    /// Async messages no thread waits for are dropped (a server has no one to read them).
    pub(crate) drop_unread_messages: bool,
}

/// A server thread between calls (`crate::server`): its record stays, so its name and red page
/// still name it, and its stack waits for the next call, which starts afresh at the stack's
/// top. Nothing of the last call is kept, so the thread leaves no context behind: it costs no
/// register save when it finishes a call and no restore when it starts the next.
#[derive(Debug)]
pub(crate) struct Pooled {
    slot: u32,
    stack: Stack,
}

/// One dispatcher's scheduler (module comment).
pub(crate) struct Sched {
    threads: Vec<Option<Rec>>,
    free_slots: Vec<u32>,
    ready: VecDeque<u32>,
    current: Option<u32>,
    /// The dispatcher's CPU time when `current` became current: what it has had since is the
    /// current thread's (`charge`).
    current_since: CpuReading,
    /// Sleepers by (deadline, sequence number).
    timers: BTreeMap<(u64, u64), ThreadRef>,
    timer_seq: u64,
    /// The deadline the kernel TIMER is armed for (0: none).
    armed: u64,
    /// Threads waiting for soft-interrupt bits: (mask, thread).
    waiters: Vec<(u64, ThreadRef)>,
    /// How many times each soft-interrupt bit was seen.
    epochs: [u64; SOFT_BITS],
    /// PREEMPT was seen and not yet honoured by a YIELD to the kernel.
    preempt: bool,
    /// When the running thread's time slice ends (0: no slice, nobody else is ready). The
    /// kernel preempts dispatchers, not threads: while other threads are ready, the runtime
    /// arms its timer for the slice, so a thread that never blocks cannot starve the others.
    slice_end: u64,
    /// A slice ended: the interrupted thread goes to the back of the queue.
    slice_over: bool,
    /// The PPC server's state.
    pub(crate) server: ServerState,
}

/// Dispatchers a process can have.
const MAX_DISPATCHERS: usize = 1 << COMM_DISPATCHER_BITS;

/// The schedulers, by dispatcher index; made on first use.
static SCHEDS: [Mutex<Option<Box<Sched>>>; MAX_DISPATCHERS] =
    [const { Mutex::new(None) }; MAX_DISPATCHERS];

/// Runs `f` on this dispatcher's scheduler. Upcalls must be disabled; `f` must not call back
/// into `with`.
pub(crate) fn with<R>(f: impl FnOnce(&mut Sched) -> R) -> R {
    with_at(sys_thread::dispatcher_index(), f)
}

/// Runs `f` on the scheduler of dispatcher `index` of this process.
fn with_at<R>(index: usize, f: impl FnOnce(&mut Sched) -> R) -> R {
    assert!(
        Page::current().disabled(),
        "the thread scheduler used with upcalls enabled"
    );
    let mut guard = SCHEDS[index].lock();
    match guard.as_mut() {
        Some(sched) => f(sched),
        None => f(guard.insert(new_sched())),
    }
}

/// A dispatcher's first scheduler (out of the common path).
#[cold]
fn new_sched() -> Box<Sched> {
    Box::new(Sched::new())
}

impl Sched {
    fn new() -> Self {
        Self {
            threads: Vec::new(),
            free_slots: Vec::new(),
            ready: VecDeque::new(),
            current: None,
            current_since: CpuReading::default(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            armed: 0,
            waiters: Vec::new(),
            epochs: [0; SOFT_BITS],
            preempt: false,
            slice_end: 0,
            slice_over: false,
            server: ServerState::default(),
        }
    }

    fn rec(&mut self, slot: u32) -> &mut Rec {
        match self.threads.get_mut(slot as usize) {
            Some(Some(rec)) => rec,
            _ => panic!("no thread in slot {slot}"),
        }
    }

    /// Adds a record; returns its slot.
    fn insert(&mut self, make: impl FnOnce(u32) -> Rec) -> u32 {
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.threads.push(None);
                // Lossless in practice: a u32 of threads would need 2^32 stacks.
                (self.threads.len() - 1) as u32
            }
        };
        self.threads[slot as usize] = Some(make(slot));
        slot
    }

    /// The running thread, if the dispatcher is on one.
    pub(crate) fn current(&mut self) -> Option<ThreadRef> {
        let slot = self.current?;
        Some(self.rec(slot).thread.clone())
    }

    /// A pooled server thread to start `entry(slot)` afresh on its stack for the call just
    /// delivered (`crate::server`): made current at once, its context returned, when nothing
    /// else waits to run (the common case: the caller enters it directly); otherwise queued
    /// at the front for the idle loop to pick. `None` with an empty pool.
    pub(crate) fn start_pooled(&mut self, entry: ThreadEntry) -> Option<Context> {
        let p = self.server.pool.pop()?;
        let alone = self.ready.is_empty()
            && self.current.is_none()
            && !self.preempt
            && Page::current().pending() == 0;
        let rec = self.rec(p.slot);
        // A permit left from its last call is stale: the new one owes it nothing.
        rec.thread.state.store(EMPTY, Ordering::Release);
        let ctx = Context::new(p.stack, entry, u64::from(p.slot));
        if alone {
            self.current = Some(p.slot);
            return Some(ctx);
        }
        rec.ctx = Some(ctx);
        self.ready.push_front(p.slot);
        self.start_slice();
        None
    }

    /// The server's fast path into a pooled thread (`crate::server`): when nothing else waits
    /// to run and the pool has a thread, that thread is made current, as the handler of the
    /// call just delivered, and its stack is returned for the caller to start it afresh on
    /// (`k42_sys::thread::start_fresh`). `None` otherwise: the caller takes the general path.
    pub(crate) fn claim_pooled_alone(&mut self) -> Option<Stack> {
        if !self.alone() {
            return None;
        }
        let p = self.server.pool.pop()?;
        Some(self.make_handler(p))
    }

    /// At an upcall, before anything else looks at the scheduler: if the dispatcher rests on a
    /// server thread's stack (`retire_in_place`), the rest ends — that thread, current until
    /// now, goes to the pool with its stack, no longer current or any call's handler. So every
    /// path but the IPC_CALL upcall's in place ([`wake_in_place`]) sees a server thread
    /// between calls as it always did: pooled, no thread current, no running stack. Inline: the
    /// common case, no rest, is one test.
    #[inline]
    pub(crate) fn end_rest(&mut self) {
        if let Some(stack) = sys_thread::end_rest() {
            self.pool_rested(stack);
        }
    }

    /// `end_rest`'s work when the dispatcher rested on `stack`.
    #[cold]
    fn pool_rested(&mut self, stack: Stack) {
        // Not charged (`charge`): a server thread's call ran on its caller's time.
        let Some(slot) = self.current.take() else {
            panic!("sched: the dispatcher rested with no current thread");
        };
        // The rest kept them for the call that did not come: the last call's reply is sent.
        self.server.handler = None;
        self.server.serving = false;
        self.server.pool.push(Pooled { slot, stack });
    }

    /// Whether nothing but a call just delivered waits for the dispatcher.
    fn alone(&self) -> bool {
        self.ready.is_empty()
            && self.current.is_none()
            && !self.preempt
            && Page::current().pending() == 0
    }

    /// Makes pooled thread `p` the running handler of the call just delivered; its stack.
    fn make_handler(&mut self, p: Pooled) -> Stack {
        let thread = self.rec(p.slot).thread.clone();
        // A permit left from its last call is stale: the new one owes it nothing.
        thread.state.store(EMPTY, Ordering::Release);
        self.current = Some(p.slot);
        self.server.handler = Some(thread);
        p.stack
    }

    /// The serial number of the running thread, if the dispatcher is on one.
    pub(crate) fn current_serial(&self) -> Option<u64> {
        let slot = self.current?;
        match self.threads.get(slot as usize) {
            Some(Some(rec)) => Some(rec.thread.serial),
            _ => None,
        }
    }

    /// Threads alive on this dispatcher.
    pub(crate) fn live(&self) -> usize {
        self.threads.iter().filter(|r| r.is_some()).count()
    }

    /// The thread whose stack's red page holds `addr`, if any: (name, red page).
    pub(crate) fn red_page_owner(&self, addr: u64) -> Option<(String, u64)> {
        self.threads.iter().flatten().find_map(|r| {
            let t = &r.thread;
            (t.red_page..t.red_page + PAGE_SIZE)
                .contains(&addr)
                .then(|| (t.name.clone(), t.red_page))
        })
    }

    /// The soft-interrupt bit `bit`'s count of sightings.
    pub(crate) fn epoch(&self, bit: u64) -> u64 {
        self.epochs[bit.trailing_zeros() as usize % SOFT_BITS]
    }

    /// Makes `t` (a thread of this dispatcher) ready if it was parked; in any case it has its
    /// permit afterwards.
    pub(crate) fn unpark(&mut self, t: &ThreadInner, front: bool) {
        if notify(t) {
            if front {
                self.ready.push_front(t.slot);
            } else {
                self.ready.push_back(t.slot);
            }
            // The running thread readying itself (woken in its own wait) competes with nobody.
            if self.current != Some(t.slot) {
                self.start_slice();
            }
        }
    }

    /// A thread was made ready: if another runs, its time slice starts now (unless one runs
    /// already), and the timer is armed for its end. (A thread picked to run while others
    /// stay ready starts one in `take_next`.)
    fn start_slice(&mut self) {
        if self.slice_end == 0 && self.current.is_some() {
            self.slice_end = clock::now_ns().saturating_add(SLICE_NS);
            self.fire_timers();
        }
    }

    /// At a TIMER: whether the running thread's slice is over with others ready (then the next
    /// slice starts), or the slice is no longer needed.
    fn check_slice(&mut self) {
        if self.slice_end == 0 {
            return;
        }
        let now = clock::now_ns();
        if now < self.slice_end {
            return;
        }
        if self.ready.is_empty() {
            self.slice_end = 0;
        } else {
            // Others wait: the running thread (if one runs) goes to the back, and the next
            // slice starts.
            self.slice_over = self.current.is_some();
            self.slice_end = now.saturating_add(SLICE_NS);
        }
    }

    /// Takes the pending soft-interrupt bits and acts on them (module comment). Inline: the
    /// common case, nothing pending and no timer, is three tests.
    #[inline]
    pub(crate) fn poll(&mut self) {
        if Page::current().pending() == 0 && self.armed == 0 && self.timers.is_empty() {
            return;
        }
        self.poll_slow();
    }

    /// `poll` when something may be due.
    #[inline(never)]
    fn poll_slow(&mut self) {
        let page = Page::current();
        // A plain load first: nothing pending is the common case, and needs no atomic update.
        let bits = match page.pending() {
            0 => 0,
            _ => page.take_pending(u64::MAX),
        };
        if bits == 0 {
            if self.armed != 0 || !self.timers.is_empty() {
                self.fire_timers();
            }
            return;
        }
        for (i, epoch) in self.epochs.iter_mut().enumerate() {
            if bits & (1 << i) != 0 {
                *epoch += 1;
            }
        }
        if bits & soft::PREEMPT != 0 {
            self.preempt = true;
        }
        if bits & soft::TIMER != 0 {
            // The kernel disarmed it when it fired.
            self.armed = 0;
            self.check_slice();
        }
        if bits & (soft::ASYNC | soft::IPC_RETRY) != 0 {
            let mut read_by_a_thread = false;
            let mut i = 0;
            while i < self.waiters.len() {
                if self.waiters[i].0 & bits != 0 {
                    let (mask, t) = self.waiters.swap_remove(i);
                    read_by_a_thread |= mask & soft::ASYNC != 0;
                    self.unpark(&t, false);
                } else {
                    i += 1;
                }
            }
            if bits & soft::ASYNC != 0 && self.server.drop_unread_messages && !read_by_a_thread {
                drop_unread_messages(page);
            }
        }
        self.fire_timers();
    }

    /// Wakes the sleepers whose deadline passed and arms the kernel timer for the next one.
    fn fire_timers(&mut self) {
        if self.timers.is_empty() && self.armed == self.slice_end {
            return;
        }
        let now = clock::now_ns();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let t = entry.remove();
            self.unpark(&t, false);
        }
        let sleeper = self.timers.first_key_value().map_or(0, |(key, _)| key.0);
        let next = match (sleeper, self.slice_end) {
            (0, slice) => slice,
            (sleeper, 0) => sleeper,
            (sleeper, slice) => sleeper.min(slice),
        };
        if next != self.armed {
            kcall::timer(next);
            self.armed = next;
        }
    }

    /// Adds a sleeper; returns its key (for [`Sched::remove_timer`]).
    pub(crate) fn add_timer(&mut self, deadline: u64, t: ThreadRef) -> (u64, u64) {
        self.timer_seq += 1;
        let key = (deadline.max(1), self.timer_seq);
        self.timers.insert(key, t);
        self.fire_timers();
        key
    }

    /// Removes a sleeper that woke for another reason (nothing if its timer fired).
    pub(crate) fn remove_timer(&mut self, key: (u64, u64)) {
        if self.timers.remove(&key).is_some() {
            self.fire_timers();
        }
    }

    /// Registers `t` as waiting for any of the soft-interrupt bits in `mask`.
    pub(crate) fn add_waiter(&mut self, mask: u64, t: ThreadRef) {
        self.waiters.push((mask, t));
    }

    /// Forgets `t`'s soft-interrupt waits.
    pub(crate) fn remove_waiter(&mut self, t: &ThreadInner) {
        self.waiters.retain(|(_, w)| !core::ptr::eq(&**w, t));
    }

    /// Gives the current thread (if any) the dispatcher CPU time since it became current, and
    /// starts the count for whichever is current next: called before `current` changes to
    /// another thread or none. A thread that ended is off the table already, its time dropped.
    ///
    /// The server's fast paths (`claim_pooled_alone`, `retire_in_place` and the end of its rest,
    /// `end_rest`) change `current` without it: a call runs on its caller's time, which the
    /// dispatcher's CPU time does not count, and no one asks a server thread for its own.
    fn charge(&mut self) {
        let now = CpuReading::now();
        let spent = now.since(self.current_since);
        if let Some(slot) = self.current
            && let Some(Some(rec)) = self.threads.get_mut(slot as usize)
        {
            rec.cpu = rec.cpu.plus(spent);
        }
        self.current_since = now;
    }

    /// The current thread's own CPU time, in ns (0 off a thread).
    fn current_cpu_ns(&mut self) -> u64 {
        let spent = CpuReading::now().since(self.current_since);
        match self
            .current
            .and_then(|slot| self.threads.get(slot as usize))
        {
            Some(Some(rec)) => rec.cpu.plus(spent).ns(),
            _ => 0,
        }
    }

    /// Takes the next ready thread's context and makes it current.
    fn take_next(&mut self) -> Option<(u32, Context)> {
        while let Some(slot) = self.ready.pop_front() {
            match self.rec(slot).ctx.take() {
                Some(ctx) => {
                    self.charge();
                    self.current = Some(slot);
                    // A switch happened: whatever slice ended is honoured. If others still
                    // wait and no slice runs, one starts (threads woken while the dispatcher
                    // idled start theirs here); one already running goes on for this thread.
                    self.slice_over = false;
                    if !self.ready.is_empty() {
                        self.start_slice();
                    }
                    return Some((slot, ctx));
                }
                // Only the running thread is ever queued without a context, and it is handled
                // before this (`reschedule`); a record without one would be lost, so say so.
                None => log!("sched: thread in slot {slot} was ready without a context"),
            }
        }
        None
    }

    /// The reply to send now (with WAIT or not), its data already in the page's data area for
    /// the PPC_RETURN that follows with upcalls still disabled (so no thread can use the area
    /// in between); the call is then no longer being served.
    fn take_reply(&mut self) -> Option<Staged> {
        let (token, words) = self.server.reply.take()?;
        self.server.serving = false;
        Some((token, words, self.stage_reply_data()))
    }

    /// Puts the reply's data, if any, in the page's data area; how many bytes.
    fn stage_reply_data(&mut self) -> usize {
        let len = self.server.reply_data.len();
        if len != 0 {
            Page::current().write_ppc_data(&self.server.reply_data);
            self.server.reply_data.clear();
        }
        len
    }
}

/// The running thread's slot and whether it is in program code (`crate::program`). Upcalls
/// disabled.
pub(crate) fn current_slot(s: &mut Sched) -> Option<u32> {
    s.current
}

impl Sched {
    /// Marks thread `slot` as in program code (or not), with the program's registers kept
    /// while it is not.
    pub(crate) fn set_program(&mut self, slot: u32, in_program: bool, regs: Option<SavedRegs>) {
        let rec = self.rec(slot);
        rec.in_program = in_program;
        rec.program = regs;
    }

    /// Thread `slot`'s program FS base.
    pub(crate) fn program_fs(&mut self, slot: u32) -> u64 {
        self.rec(slot).program_fs
    }

    /// Sets thread `slot`'s program FS base.
    pub(crate) fn set_program_fs(&mut self, slot: u32, base: u64) {
        self.rec(slot).program_fs = base;
    }

    /// Whether any thread is ready to run (besides the running one).
    pub(crate) fn others_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Takes thread `slot`'s kept program registers.
    pub(crate) fn take_program(&mut self, slot: u32) -> Option<SavedRegs> {
        self.rec(slot).program.take()
    }

    /// The running thread `me` was interrupted with `ctx` as its context: queue it (at the back
    /// if `back`).
    pub(crate) fn requeue_current(&mut self, ctx: Context, back: bool) {
        self.charge();
        let Some(me) = self.current.take() else {
            log!("sched: an interrupted context with no current thread was dropped");
            return;
        };
        self.rec(me).ctx = Some(ctx);
        if back {
            self.ready.push_back(me);
        } else {
            self.ready.push_front(me);
        }
    }
}

/// Gives `t` its permit; true if it was parked (the caller must queue it).
fn notify(t: &ThreadInner) -> bool {
    let mut state = t.state.load(Ordering::Acquire);
    loop {
        let next = match state {
            PARKED | EMPTY => NOTIFIED,
            _ => return false,
        };
        match t
            .state
            .compare_exchange(state, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return state == PARKED,
            Err(now) => state = now,
        }
    }
}

/// A server's unread async messages: logged and dropped so the ring does not fill.
fn drop_unread_messages(page: Page) {
    while let Some(msg) = page.pop_async() {
        if !is_nudge(&msg) {
            log!(
                "server: dropped an async message (badge {}, method {:#x})",
                msg.badge,
                msg.method
            );
        }
    }
}

/// Method word of the runtime's own wake-up message to another dispatcher of its process (a
/// thread there was made ready): no interface's (their method words have an interface id in
/// the high half, and none is this large).
const NUDGE_METHOD: u64 = u64::MAX - 0x4e;

/// Whether `msg` is the runtime's cross-dispatcher wake-up (never shown to programs).
pub(crate) fn is_nudge(msg: &AsyncMessage) -> bool {
    msg.method == NUDGE_METHOD && msg.badge == comm_pid(Page::current().comm_id())
}

/// Makes `t` ready on whichever dispatcher it belongs to (waking that one if it is not this).
pub(crate) fn unpark(t: &ThreadInner) {
    let _upcalls = critical::disable();
    let here = sys_thread::dispatcher_index();
    if t.dispatcher == here {
        with(|s| s.unpark(t, false));
        return;
    }
    if notify(t) {
        with_at(t.dispatcher, |s| s.ready.push_back(t.slot));
        let me = Page::current().comm_id();
        let target = comm_id(comm_pid(me), t.dispatcher as u64);
        let status = kcall::async_send(target, 0, NUDGE_METHOD, &[0; 3]);
        if !kcall::is_ok(status) {
            log!(
                "sched: cannot wake dispatcher {target:#x} for thread {}: status {status}",
                t.name
            );
        }
    }
}

/// The running thread. Call with upcalls disabled.
///
/// # Panics
///
/// Off a thread (in an upcall handler).
pub(crate) fn current_locked() -> ThreadRef {
    match with(|s| s.current()) {
        Some(t) => t,
        None => panic!("no current thread (called from an upcall handler?)"),
    }
}

/// The running thread's serial number, if the dispatcher is on a thread. Upcalls disabled.
pub(crate) fn current_serial() -> Option<u64> {
    with(|s| s.current_serial())
}

/// Sends a reply without WAIT: the caller runs, this dispatcher continues later.
fn send_reply(reply: Staged) {
    let (token, words, len) = reply;
    let status = kcall::ppc_return(token, &words, len);
    if !kcall::is_ok(status) {
        log!("server: PPC_RETURN refused with status {status}");
    }
}

/// Gives the processor to the kernel if it asked (PREEMPT), before continuing.
fn honour_preempt(preempt: bool) {
    if preempt {
        kcall::yield_now(yield_mode::YIELD);
    }
}

/// The calling thread's own CPU time, in ns: the dispatcher's CPU time while it was current.
pub(crate) fn thread_cpu_ns() -> u64 {
    let _upcalls = critical::disable();
    with(|s| s.current_cpu_ns())
}

/// The running thread has stopped (queued by a yield, or parked): runs the next ready thread,
/// or idles, and returns when this thread runs again. Upcalls disabled, before and after.
pub(crate) fn reschedule() {
    enum Next {
        Same,
        Run(Context),
        Idle,
    }
    let (me, next, reply, preempt) = with(|s| {
        s.poll();
        let Some(me) = s.current else {
            panic!("reschedule off a thread");
        };
        let next = if s.ready.front() == Some(&me) {
            s.ready.pop_front();
            Next::Same
        } else {
            match s.take_next() {
                Some((_, ctx)) => Next::Run(ctx),
                None => {
                    s.charge();
                    s.current = None;
                    Next::Idle
                }
            }
        };
        // The idle loop sends a reply with WAIT itself; before another thread runs, it goes
        // without.
        let reply = match next {
            Next::Idle => None,
            _ => s.take_reply(),
        };
        let preempt = !matches!(next, Next::Idle) && core::mem::take(&mut s.preempt);
        (me, next, reply, preempt)
    });
    honour_preempt(preempt);
    if let Some(reply) = reply {
        send_reply(reply);
    }
    let store = move |ctx: Context| with(|s| s.rec(me).ctx = Some(ctx));
    match next {
        Next::Same => {}
        Next::Run(ctx) => sys_thread::switch(Target::Thread(ctx), store),
        Next::Idle => sys_thread::switch(
            Target::UpcallStack {
                entry: idle_entry,
                arg: 0,
            },
            store,
        ),
    }
}

/// Parks the running thread `me` (upcalls disabled): returns at once if it has a permit,
/// otherwise when another thread unparks it.
pub(crate) fn park_locked(me: &ThreadInner) {
    loop {
        if me
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return;
        }
        if me
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            break;
        }
    }
    reschedule();
    // Whoever queued us turned PARKED into NOTIFIED: that wake-up is this one.
    me.state.store(EMPTY, Ordering::Release);
}

/// Puts the running thread at the back of the ready queue and runs the others first.
pub(crate) fn yield_locked() {
    with(|s| {
        let Some(me) = s.current else {
            panic!("yield off a thread");
        };
        s.ready.push_back(me);
    });
    reschedule();
}

/// Ends the running thread: its record goes, its stack is recycled once nothing runs on it.
pub(crate) fn finish_current() -> ! {
    let upcalls = critical::disable();
    // Upcalls stay disabled into the next thread, which enables them itself.
    core::mem::forget(upcalls);
    let (next, reply) = with(|s| {
        let Some(me) = s.current.take() else {
            panic!("finish off a thread");
        };
        if let Some(rec) = s.threads[me as usize].take() {
            rec.thread.state.store(FINISHED, Ordering::Release);
            s.free_slots.push(me);
            s.waiters.retain(|(_, w)| !Arc::ptr_eq(w, &rec.thread));
        }
        s.poll();
        match s.take_next() {
            Some((_, ctx)) => (Target::Thread(ctx), s.take_reply()),
            None => (
                Target::UpcallStack {
                    entry: idle_entry,
                    arg: 0,
                },
                None,
            ),
        }
    });
    if let Some(reply) = reply {
        send_reply(reply);
    }
    sys_thread::exit(next, recycle_stack)
}

/// Ends the call the running server thread ran (`crate::server`), leaving its `reply` (if it
/// has one) to be sent: the thread leaves the CPU with its record kept, and its stack joins the
/// server's pool once nothing runs on it. Then the next ready thread runs — the reply goes
/// first, without WAIT — or, with none, the reply goes with WAIT from the upcall stack. Upcalls
/// stay disabled into what runs next, which enables them itself.
pub(crate) fn retire_to_pool(reply: Option<Reply>) -> ! {
    enum Next {
        /// Another thread runs; the reply goes first, without WAIT.
        Run(Context, Option<Staged>, bool),
        /// Nothing is ready: reply with WAIT once the stack is in the pool.
        ReplyAndWait(Staged),
        /// Nothing to run or send: the idle loop decides.
        Idle,
    }
    let upcalls = critical::disable();
    core::mem::forget(upcalls);
    let (me, next) = with(|s| {
        if let Some(reply) = reply {
            s.server.reply = Some(reply);
        }
        // The handler is done: bytes it did not take go, its reply's stay.
        s.server.handler = None;
        s.server.data.clear();
        let Some(me) = s.current.take() else {
            panic!("a server call retired off a thread");
        };
        s.poll();
        let next = match s.take_next() {
            Some((_, ctx)) => Next::Run(ctx, s.take_reply(), core::mem::take(&mut s.preempt)),
            None => {
                s.preempt = false;
                s.take_reply().map_or(Next::Idle, Next::ReplyAndWait)
            }
        };
        (me, next)
    });
    let idle = Target::UpcallStack {
        entry: idle_entry,
        arg: 0,
    };
    let pool = move |stack| with(|s| s.server.pool.push(Pooled { slot: me, stack }));
    match next {
        Next::Run(ctx, reply, preempt) => {
            honour_preempt(preempt);
            if let Some(reply) = reply {
                send_reply(reply);
            }
            sys_thread::exit(Target::Thread(ctx), pool)
        }
        // The common case of a server with one call at a time: reply and sleep in one kernel
        // call, made on the upcall stack once the thread's stack is in the pool (the next call
        // starts there afresh). It returns only if the kernel refused; the idle loop follows.
        Next::ReplyAndWait((token, words, len)) => sys_thread::exit(idle, move |stack| {
            pool(stack);
            let status = kcall::ppc_return_and_wait(token, &words, len);
            log!("server: PPC_RETURN refused with status {status}");
        }),
        Next::Idle => sys_thread::exit(idle, pool),
    }
}

/// [`retire_to_pool`] for a server thread the fast path started (`crate::server`), in the
/// common case that nothing else is ready once its call is done: the thread *rests* on its
/// stack (`k42_sys::thread`, "Resting") and the reply goes with WAIT from there — no switch to
/// the upcall stack first, and the next call's upcall begins on this stack, as this thread's.
/// If another thread is ready, or the kernel refuses the reply, the thread retires the general
/// way.
///
/// **The rest.** The thread gives nothing up: it stays current, its stack the running one, and
/// it stays the handler (`ServerState::handler`) with the call counted as being served
/// (`ServerState::serving`), all as the next call needs them, so a call that begins on its
/// stack takes it back with one test and no look at the scheduler ([`wake_in_place`]). That
/// state is seen by nobody but the dispatcher's next upcall: the dispatcher is idle from the
/// PPC_RETURN(WAIT) on (upcalls disabled until it), another dispatcher only queues threads here
/// (`unpark`), and every upcall ends the rest ([`Sched::end_rest`]) before it looks at the
/// scheduler, unless it is that call run in place. INTERRUPT can come while the dispatcher
/// rests; TRAP and SVC cannot (no code runs), nor can an upcall stub find anything to save.
///
/// Inline into its one caller (`server::serve_direct`): the reply's words then go from the
/// handler's answer into the registers without a call, or a copy handed to one, in between;
/// and they are encoded only just before they go, so no copy of them is kept across the
/// scheduler's session either.
#[inline(always)]
pub(crate) fn retire_in_place(token: u64, reply: &wire::Reply) -> ! {
    // Disabled until the PPC_RETURN(WAIT) enables them, or for good on the general way
    // (`retire_to_pool` runs disabled): no guard to restore anything, so one store.
    Page::current().set_disabled(true);
    let len = with(|s| {
        // The handler is done: bytes it did not take go (the general way does the same).
        s.server.data.clear();
        s.poll();
        if !s.ready.is_empty() || s.current.is_none() {
            return None;
        }
        // Nothing to run: the dispatcher sleeps in the reply, which honours a PREEMPT too. The
        // reply goes from here, not staged through `server.reply` (`take_reply`'s work without
        // the copies).
        s.preempt = false;
        let len = s.stage_reply_data();
        // A permit left from this call is stale: the next call owes it nothing. (Nothing can
        // give the thread one while it rests: no thread of this dispatcher runs, and the
        // thread waits for nothing another could wake.) The thread is the handler, current.
        if let Some(me) = &s.server.handler {
            me.state.store(EMPTY, Ordering::Release);
        }
        sys_thread::rest_on_running_stack();
        Some(len)
    });
    let Some(len) = len else {
        retire_to_pool(Some((token, wire::encode_reply(reply))))
    };
    let status = kcall::ppc_return_and_wait(token, &wire::encode_reply(reply), len);
    // Refused (the caller is gone, say): the rest never began, and this thread, still current
    // on its running stack, retires the general way, no call being served.
    sys_thread::wake_on_rested_stack();
    with(|s| s.server.serving = false);
    log!("server: PPC_RETURN refused with status {status}");
    retire_to_pool(None)
}

/// At the IPC_CALL upcall of a call that began on the stack the dispatcher rested on
/// ([`retire_in_place`]): whether the call runs there now, on the rested thread — still
/// current, the handler and serving, as the rest left them — because nothing else waits to
/// run. The rest is then over (`k42_sys::thread::wake_on_rested_stack`); otherwise the
/// dispatcher still rests, for the caller to end the rest ([`Sched::end_rest`]) and take the
/// general path.
///
/// "Nothing else" is the page's pending soft interrupts: no look at the scheduler (nor its
/// lock). Its ready queue was empty and `preempt` clear when the rest began, and no code of
/// this dispatcher has run since; only another dispatcher can have queued a thread here
/// (`unpark`), and it then sends this one a message, whose bit is pending now or, when it
/// comes during the call, interrupts the handler as any soft interrupt does (the handler's
/// thread first, as on the general path, which queues it at the front).
#[inline]
pub(crate) fn wake_in_place() -> bool {
    if Page::current().pending() != 0 {
        return false;
    }
    sys_thread::wake_on_rested_stack();
    true
}

extern "C" fn idle_entry(_: u64) -> ! {
    idle_loop()
}

/// The dispatcher's own loop on its upcall stack, with upcalls disabled: run a ready thread,
/// or send the pending reply with WAIT, or give the processor back to the kernel.
pub(crate) fn idle_loop() -> ! {
    enum Act {
        Run(Context, Option<Staged>, bool),
        ReplyAndWait(Staged),
        Yield,
        Idle,
    }
    let mut refusals_logged = false;
    loop {
        let act = with(|s| {
            s.poll();
            if let Some((_, ctx)) = s.take_next() {
                let reply = s.take_reply();
                return Act::Run(ctx, reply, core::mem::take(&mut s.preempt));
            }
            s.preempt = false;
            if let Some(reply) = s.take_reply() {
                Act::ReplyAndWait(reply)
            } else if s.server.serving {
                Act::Yield
            } else {
                Act::Idle
            }
        });
        match act {
            Act::Run(ctx, reply, preempt) => {
                honour_preempt(preempt);
                if let Some(reply) = reply {
                    send_reply(reply);
                }
                sys_thread::enter(Target::Thread(ctx))
            }
            Act::ReplyAndWait((token, words, len)) => {
                let status = kcall::ppc_return_and_wait(token, &words, len);
                // Only a refused return comes back (e.g. NotWaiting: the caller is gone).
                log!("server: PPC_RETURN refused with status {status}");
            }
            Act::Yield => {
                kcall::yield_now(yield_mode::YIELD);
            }
            Act::Idle => {
                let status = kcall::yield_idle();
                if !refusals_logged {
                    log!("sched: YIELD(IDLE) refused with status {status}");
                    refusals_logged = true;
                }
                kcall::yield_now(yield_mode::YIELD);
            }
        }
    }
}

/// At an upcall: if the save area holds the context of the thread that was running, makes it
/// that thread's and queues the thread (at the back if `back`). A context that cannot be taken
/// because its stack overflowed ends the process (`crate::trap`).
///
/// Inline: the common case at an IPC_CALL upcall, nothing in the save area, is one test.
#[inline]
pub(crate) fn take_interrupted(back: bool) {
    if Page::current().saved_live() {
        take_saved(back);
    }
}

/// `take_interrupted` when the save area holds a context.
#[inline(never)]
fn take_saved(back: bool) {
    let page = Page::current();
    let regs = page.saved();
    page.set_saved_live(false);
    if with(|s| s.current.is_some_and(|me| s.rec(me).in_program)) {
        return crate::program::interrupted(regs, back);
    }
    match Context::from_saved(&regs) {
        Ok(ctx) => with(|s| s.requeue_current(ctx, back)),
        Err(SavedError::NoThread) => {
            log!(
                "sched: dropped a context saved off any thread (rip {:#x})",
                regs.rip
            )
        }
        Err(SavedError::OutOfStack { red_page, rsp, .. }) => crate::trap::overflowed(red_page, rsp),
    }
}

/// The INTERRUPT upcall: soft interrupts are pending (`bits`), and the thread that was running,
/// if any, is in the save area.
fn on_interrupt(bits: u64) -> ! {
    let sliced = with(|s| {
        s.end_rest();
        s.poll();
        core::mem::take(&mut s.slice_over)
    });
    take_interrupted(bits & soft::PREEMPT != 0 || sliced);
    idle_loop()
}

/// The pending hook of `k42_sys::critical::enable`: soft interrupts found when a thread enabled
/// upcalls are handled here as at an INTERRUPT upcall, with the thread still running.
fn pending_hook() {
    let woke = with(|s| {
        let before = s.ready.len();
        s.poll();
        // Threads made ready from another dispatcher were queued there without a slice.
        if !s.ready.is_empty() {
            s.start_slice();
        }
        s.ready.len() != before || s.preempt || core::mem::take(&mut s.slice_over)
    });
    if woke {
        // Let the woken threads (and, after a PREEMPT, the kernel) run first.
        yield_locked();
    }
}

/// The thread stacks no thread uses, for reuse (any dispatcher's).
static FREE_STACKS: Mutex<Vec<Stack>> = Mutex::new(Vec::new());
/// The next stack slot never used.
static NEXT_SLOT: AtomicU64 = AtomicU64::new(0);

/// A stack for a new thread: a recycled one, or a fresh slot. Upcalls disabled.
pub(crate) fn take_stack() -> Result<Stack, MapError> {
    if let Some(stack) = FREE_STACKS.lock().pop() {
        return Ok(stack);
    }
    let slot = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
    let base = slot
        .checked_mul(THREAD_STACK_SLOT)
        .filter(|offset| offset + THREAD_STACK_SLOT <= THREAD_STACKS_LIMIT)
        .map(|offset| THREAD_STACKS_BASE + offset)
        .ok_or(k42_rights::wire::CallError::Method(k42_kapi::KError::Full))?;
    Stack::map(base, THREAD_STACK_SLOT)
}

/// A finished thread's stack back to the pool (runs on the next thread's stack).
pub(crate) fn recycle_stack(stack: Stack) {
    FREE_STACKS.lock().push(stack);
}

/// Stack slots mapped so far, and how many of all stacks are free.
pub(crate) fn stack_counts() -> (u64, usize) {
    let _upcalls = critical::disable();
    (NEXT_SLOT.load(Ordering::Relaxed), FREE_STACKS.lock().len())
}

/// Makes a thread that will run `body`; queued at the front if `front` (the server's call
/// threads), else at the back. Upcalls disabled.
pub(crate) fn spawn_locked(
    name: String,
    body: Box<dyn FnOnce() + Send>,
    front: bool,
) -> Result<ThreadRef, MapError> {
    let stack = take_stack()?;
    let dispatcher = sys_thread::dispatcher_index();
    let (red_page, stack_top) = (stack.red_page(), stack.top());
    let serial = NEXT_SERIAL.fetch_add(1, Ordering::Relaxed);
    Ok(with(move |s| {
        let mut made = None;
        let slot = s.insert(|slot| {
            let thread = Arc::new(ThreadInner {
                slot,
                dispatcher,
                serial,
                name,
                state: AtomicU8::new(EMPTY),
                red_page,
                stack_top,
            });
            made = Some(thread.clone());
            Rec {
                thread,
                ctx: Some(Context::new(stack, thread_entry, u64::from(slot))),
                body: Some(body),
                in_program: false,
                program: None,
                program_fs: 0,
                cpu: CpuReading::default(),
            }
        });
        if front {
            s.ready.push_front(slot);
        } else {
            s.ready.push_back(slot);
        }
        s.start_slice();
        match made {
            Some(thread) => thread,
            None => unreachable!("insert makes the record"),
        }
    }))
}

/// Where every thread starts (upcalls disabled, as after any switch).
extern "C" fn thread_entry(slot: u64) -> ! {
    // Lossless: the slot came from a u32 (spawn_locked).
    let body = with(|s| s.rec(slot as u32).body.take());
    critical::enable();
    if let Some(body) = body {
        body();
    }
    finish_current()
}

/// Why the thread runtime could not start.
pub(crate) enum InitError {
    /// The upcall stack could not be mapped.
    UpcallStack(MapError),
    /// The kernel refused an entry vector.
    Entry(upcall::InstallError),
}

impl core::fmt::Display for InitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::UpcallStack(e) => write!(f, "cannot map the upcall stack: {e}"),
            Self::Entry(e) => write!(f, "the kernel refused an entry vector: {e:?}"),
        }
    }
}

/// Makes the running code (the first entry's) the thread "main" of this dispatcher and installs
/// the INTERRUPT and TRAP entries: called once, by `crate::start`, before the program's `main`.
pub(crate) fn init() -> Result<(), InitError> {
    upcall_stack::ensure().map_err(InitError::UpcallStack)?;
    init_threads()
}

/// [`init`] for a forked child (`crate::fork`): its memory is a copy of its parent's, with the
/// parent's upcall stack and the parent's scheduler state, whose threads do not exist here. The
/// copied scheduler is dropped unread (leaked: its records' destructors would act on the
/// parent's behalf) and this dispatcher starts with the one thread that runs now.
pub(crate) fn init_forked() -> Result<(), InitError> {
    upcall_stack::adopt();
    // Upcalls stay disabled until the new scheduler has its thread: the pending hook (set in
    // the parent, so already here) would otherwise find soft interrupts with no thread running.
    let _upcalls = critical::disable();
    let index = sys_thread::dispatcher_index();
    if let Some(parents) = SCHEDS[index].lock().take() {
        core::mem::forget(parents);
    }
    init_threads()
}

/// [`init`] for a dispatcher added to the running process (`crate::dispatchers`): the code
/// running on `stack` (its first entry's) becomes its first thread, `name`.
pub(crate) fn init_added(name: &str, stack: Stack) -> Result<(), InitError> {
    let (red_page, top) = (stack.red_page(), stack.top());
    // Upcalls stay disabled until the new scheduler has its thread, as in `init_forked`: the
    // pending hook (set by the process's first dispatcher, so already here) would otherwise
    // find soft interrupts pending with the stack running and no thread current, and yield off
    // a thread (a server's added dispatcher panicked so at boot, about once a guest tier).
    let _upcalls = critical::disable();
    sys_thread::reclaim_running_stack(stack);
    upcall_stack::ensure().map_err(InitError::UpcallStack)?;
    init_threads_as(name, red_page, top)
}

fn init_threads() -> Result<(), InitError> {
    init_threads_as(
        "main",
        INITIAL_STACK_TOP - INITIAL_STACK_SIZE - PAGE_SIZE,
        INITIAL_STACK_TOP,
    )
}

/// Makes the running code this dispatcher's thread `name` on the stack with `red_page` below
/// and `stack_top` above, and installs the INTERRUPT and TRAP entries.
fn init_threads_as(name: &str, red_page: u64, stack_top: u64) -> Result<(), InitError> {
    upcall::set_interrupt_handler(on_interrupt);
    upcall::set_trap_handler(crate::trap::on_trap);
    critical::set_pending_hook(pending_hook);
    {
        let _upcalls = critical::disable();
        let dispatcher = sys_thread::dispatcher_index();
        with(|s| {
            let slot = s.insert(|slot| Rec {
                thread: Arc::new(ThreadInner {
                    slot,
                    dispatcher,
                    serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
                    name: String::from(name),
                    state: AtomicU8::new(EMPTY),
                    red_page,
                    stack_top,
                }),
                ctx: None,
                body: None,
                in_program: false,
                program: None,
                program_fs: 0,
                cpu: CpuReading::default(),
            });
            s.charge();
            s.current = Some(slot);
        });
    }
    for vector in [Entry::Interrupt, Entry::Trap] {
        upcall::install(vector).map_err(InitError::Entry)?;
    }
    Ok(())
}

/// Blocks the running thread until `ready` holds — checked now and whenever one of the
/// soft-interrupt bits in `mask` arrives — or until the kernel clock passes `deadline` (then
/// false). `ready` runs with upcalls disabled and the scheduler locked, after the pending bits
/// were taken, so a wake-up cannot slip between the check and the wait. Off a thread (in an
/// upcall handler, where nothing may block the dispatcher), it waits by polling the page with
/// YIELD(BLOCK) instead.
pub(crate) fn wait_for(
    mask: u64,
    deadline: Option<u64>,
    mut ready: impl FnMut(&mut Sched) -> bool,
) -> bool {
    let _upcalls = critical::disable();
    let past = |deadline: Option<u64>| deadline.is_some_and(|d| clock::now_ns() >= d);
    let Some(me) = with(|s| s.current()) else {
        loop {
            if with(|s| {
                s.poll();
                ready(s)
            }) {
                return true;
            }
            if past(deadline) {
                return false;
            }
            kcall::yield_now(yield_mode::BLOCK);
        }
    };
    let key = deadline.map(|d| with(|s| s.add_timer(d, me.clone())));
    let outcome = loop {
        let decided = with(|s| {
            s.poll();
            if ready(s) {
                Some(true)
            } else if past(deadline) {
                Some(false)
            } else {
                s.add_waiter(mask, me.clone());
                None
            }
        });
        if let Some(outcome) = decided {
            break outcome;
        }
        park_locked(&me);
        with(|s| s.remove_waiter(&me));
    };
    if let Some(key) = key {
        with(|s| s.remove_timer(key));
    }
    outcome
}
