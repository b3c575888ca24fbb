//! The machinery under the user-level threads of `k42-rt` (DESIGN §2.4: threads cost no kernel
//! memory; the kernel schedules dispatchers and never sees them): thread stacks, suspended
//! contexts, and the switch between them.
//!
//! **Stacks.** A [`Stack`] is a demand-paged range the kernel mapped for it alone, with its lowest
//! page left unmapped as the red page: an overflow faults there (a TRAP upcall) instead of
//! running into other memory. The code is built with inline stack probes, so a large frame
//! touches its pages in order and cannot skip the red page. A `Stack` is unique: whoever holds
//! it may run code on it. The initial stack the kernel gave the first dispatcher is adopted as
//! the first thread's.
//!
//! **Contexts.** A suspended thread is a [`Context`]: its stack (owned) and a stack pointer below
//! a frame that says how to continue it. Two kinds of frame, one format:
//! - a *switch frame*, left by [`switch`]: the SysV callee-saved registers `r15 r14 r13 r12 rbx
//!   rbp` (from the lowest address) and the return address. A switch happens at a function call,
//!   so that is all a thread has: the code is soft-float (no FPU or SSE registers in use), the
//!   direction flag is clear at every call, and the dispatcher page is per dispatcher;
//! - a *full frame*, made by [`Context::from_saved`] out of the registers the kernel saved when it
//!   interrupted the thread (INTERRUPT upcall): the same six words and a return address into a
//!   restore stub, then `rax rcx rdx rsi rdi r8 r9 r10 r11 rflags rip`, all just below the
//!   interrupted `rsp`. The stub pops them, enables upcalls (the thread ran enabled) and returns
//!   into the thread with every register as it was. The target has no red zone
//!   (`x86_64-unknown-none` disables it), so the words below `rsp` are free.
//!
//! So resuming any thread is the same few pops and a `ret`, without a kernel call.
//!
//! **Who runs where.** Each dispatcher is on exactly one of: a thread's stack (this module keeps
//! that stack as the dispatcher's *running* stack) or its upcall stack (no running stack: an
//! upcall handler, or the runtime's idle loop). Upcall stubs move the running stack aside as
//! the *interrupted* one (`note_upcall`), which [`Context::from_saved`] takes. [`switch`] and
//! [`exit`] run on a thread's stack, [`enter`] on the upcall stack; each checks it. All three
//! need upcalls disabled (the scheduler's critical section, `crate::critical`): a new thread and
//! a switched-to thread continue disabled and enable themselves, a full frame enables in its
//! stub.
//!
//! **Resting.** A server thread whose call is done can *rest* on its stack
//! ([`rest_on_running_stack`]): the page names the running stack for the next IPC_CALL
//! (`Page::set_call_stack`) and the thread replies with PPC_RETURN(WAIT) from it, the stack
//! still the running one. The page's `call_stack` is nonzero exactly while the dispatcher
//! rests, which lasts until its next upcall handles it, so every upcall can tell: an IPC_CALL
//! upcall begins on the rested stack, which stays the running one, and interrupts nothing
//! (`note_call_upcall`); the runtime either runs the call there ([`wake_on_rested_stack`]) or
//! takes the stack back ([`end_rest`]) and leaves it for the upcall stack
//! ([`start_on_upcall_stack`]). Any other upcall begins on the upcall stack and moves the
//! rested stack aside as the interrupted one, as for a running thread — though nothing was
//! saved (`saved_live` is 0: the dispatcher was idle) — and the runtime takes it back with
//! [`end_rest`] before anything else. Nothing else runs on the dispatcher while it rests, so no
//! other code sees the running stack of a dispatcher that is idle.
//!
//! **On top.** [`switch`] and [`exit`] take a closure that runs *after* the old context is saved
//! (or, for `exit`, abandoned) and before the new one continues, on the new one's stack. That is
//! where the runtime stores the suspended context (or recycles the finished stack): the context
//! exists as a value only once its registers are really saved, so no other code can resume a
//! half-saved thread, and a stack is handed back only once nothing runs on it.

use core::arch::global_asm;
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicU64, Ordering};

use k42_abi::kernel::{
    COMM_DISPATCHER_BITS, INITIAL_STACK_SIZE, INITIAL_STACK_TOP, SavedRegs, page_offset,
};
use k42_kapi::{KError, prot};
use k42_rights::wire::CallError;

use crate::page::Page;
use crate::vm::{self, MapError};

/// Bytes of a page: the red page's size, and the granule stacks are mapped in.
pub const PAGE_SIZE: u64 = 4096;
/// SysV stack alignment at a call.
const STACK_ALIGN: u64 = 16;
/// Bytes of a word.
const WORD: u64 = 8;

/// Words of a switch frame: r15 r14 r13 r12 rbx rbp (from the lowest address), return address.
const SWITCH_WORDS: usize = 7;
/// The switch frame's slots used here, as word indices from the saved `rsp`.
const SLOT_R13: usize = 2;
const SLOT_R12: usize = 3;
const SLOT_RETURN: usize = 6;
/// Words of a full frame: the switch frame, then rax rcx rdx rsi rdi r8 r9 r10 r11 rflags rip.
const FULL_WORDS: usize = SWITCH_WORDS + 11;

/// A thread body: takes one word, never returns (it ends by switching away for good).
pub type ThreadEntry = extern "C" fn(u64) -> !;

unsafe extern "C" {
    /// Pushes the callee-saved registers, stores `rsp` to `*save` (unless null), moves to
    /// `to_rsp`, calls `hook(data)` there (16-byte aligned below `to_rsp`), then pops the
    /// callee-saved registers of the context at `to_rsp` and returns into it.
    fn k42_sys_switch_on_top(save: *mut u64, to_rsp: u64, hook: usize, data: *mut u8);
    /// Pops the callee-saved registers of the context at `rsp` and returns into it.
    fn k42_sys_enter(rsp: u64) -> !;
    /// Moves to `top` (aligned down to 16) and calls `entry(arg)` there.
    fn k42_sys_enter_fresh(top: u64, entry: ThreadEntry, arg: u64) -> !;
    /// The first return of a new context: calls `r13(r12)`.
    fn k42_sys_thread_start();
    /// The return address of a full frame: restores the rest and returns into the thread.
    fn k42_sys_restore_full();
}

global_asm!(
    ".pushsection .text.k42_thread, \"ax\", @progbits",
    ".globl k42_sys_switch_on_top",
    ".type k42_sys_switch_on_top, @function",
    ".balign 16",
    "k42_sys_switch_on_top:",
    "    push rbp",
    "    push rbx",
    "    push r12",
    "    push r13",
    "    push r14",
    "    push r15",
    "    test rdi, rdi",
    "    jz 2f",
    "    mov [rdi], rsp",
    "2:",
    "    mov rsp, rsi",
    "    mov rbx, rsi",
    "    and rsp, -16",
    "    mov rdi, rcx",
    "    call rdx",
    "    mov rsp, rbx",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop rbx",
    "    pop rbp",
    "    ret",
    ".size k42_sys_switch_on_top, . - k42_sys_switch_on_top",
    ".globl k42_sys_enter",
    ".type k42_sys_enter, @function",
    ".balign 16",
    "k42_sys_enter:",
    "    mov rsp, rdi",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop rbx",
    "    pop rbp",
    "    ret",
    ".size k42_sys_enter, . - k42_sys_enter",
    ".globl k42_sys_enter_fresh",
    ".type k42_sys_enter_fresh, @function",
    ".balign 16",
    "k42_sys_enter_fresh:",
    "    mov rsp, rdi",
    "    and rsp, -16",
    "    xor ebp, ebp",
    "    mov rdi, rdx",
    "    call rsi",
    "    ud2",
    ".size k42_sys_enter_fresh, . - k42_sys_enter_fresh",
    // A new context's frame returns here with rsp 16-byte aligned (see `fresh_frame`).
    ".globl k42_sys_thread_start",
    ".type k42_sys_thread_start, @function",
    "k42_sys_thread_start:",
    "    mov rdi, r12",
    "    call r13",
    "    ud2",
    ".size k42_sys_thread_start, . - k42_sys_thread_start",
    // A full frame's return address: the switch popped r15..rbp; the rest follows in order.
    ".globl k42_sys_restore_full",
    ".type k42_sys_restore_full, @function",
    "k42_sys_restore_full:",
    "    pop rax",
    "    pop rcx",
    "    pop rdx",
    "    pop rsi",
    "    pop rdi",
    "    pop r8",
    "    pop r9",
    "    pop r10",
    "    pop r11",
    "    mov qword ptr gs:[{disabled}], 0",
    "    popfq",
    "    ret",
    ".size k42_sys_restore_full, . - k42_sys_restore_full",
    ".popsection",
    disabled = const page_offset::DISABLED,
);

/// A thread stack: `[red_page + PAGE_SIZE, top)` mapped read-write (demand-paged), the red page
/// below it unmapped. Unique (not `Clone`): whoever holds it may run code on it.
#[derive(Debug, PartialEq, Eq)]
pub struct Stack {
    red: u64,
    top: u64,
}

impl Stack {
    /// Maps a stack of `len` bytes from `red_page` up (both page aligned, `len` at least two
    /// pages): everything but the lowest page, which stays unmapped as the red page. The range
    /// must be free (the kernel refuses to map over anything, which is what makes the stack this
    /// value's alone) and the red page should stay unmapped.
    pub fn map(red_page: u64, len: u64) -> Result<Self, MapError> {
        let top = red_page.checked_add(len);
        let valid = red_page != 0
            && red_page.is_multiple_of(PAGE_SIZE)
            && len.is_multiple_of(PAGE_SIZE)
            && len >= 2 * PAGE_SIZE
            && top.is_some();
        let (true, Some(top)) = (valid, top) else {
            return Err(CallError::Method(KError::BadArgument));
        };
        vm::map(
            vm::own_memory(),
            red_page + PAGE_SIZE,
            len - PAGE_SIZE,
            prot::READ | prot::WRITE,
        )?;
        Ok(Self { red: red_page, top })
    }

    /// The stack the kernel mapped for the first dispatcher (`k42_abi::kernel::first_entry`:
    /// `INITIAL_STACK_SIZE` bytes below `INITIAL_STACK_TOP`, an unmapped page below).
    const fn initial() -> Self {
        Self {
            red: INITIAL_STACK_TOP - INITIAL_STACK_SIZE - PAGE_SIZE,
            top: INITIAL_STACK_TOP,
        }
    }

    /// The red page's address.
    pub fn red_page(&self) -> u64 {
        self.red
    }

    /// The lowest usable address.
    pub fn bottom(&self) -> u64 {
        self.red + PAGE_SIZE
    }

    /// One past the highest usable address.
    pub fn top(&self) -> u64 {
        self.top
    }

    /// Whether `addr` is in the red page.
    pub fn in_red_page(&self, addr: u64) -> bool {
        (self.red..self.red + PAGE_SIZE).contains(&addr)
    }
}

/// Why [`Context::from_saved`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SavedError {
    /// No thread was running when the upcall came (the save area is no thread's).
    NoThread,
    /// The saved `rsp` leaves no room for the frame inside the thread's stack: it overflowed,
    /// or was about to.
    OutOfStack {
        /// The stack's red page.
        red_page: u64,
        /// The stack's top.
        top: u64,
        /// The saved `rsp`.
        rsp: u64,
    },
}

/// A suspended thread: its stack and the stack pointer of its frame (module comment).
#[derive(Debug)]
pub struct Context {
    rsp: u64,
    stack: Stack,
}

impl Context {
    /// A new thread that will run `entry(arg)` on `stack`, from its top (rounded down to 16
    /// bytes), with `rbp` 0 so frame-pointer walks end there. It starts with upcalls disabled,
    /// like every context a switch resumes.
    pub fn new(stack: Stack, entry: ThreadEntry, arg: u64) -> Self {
        let rsp = fresh_frame(stack.top, entry, arg);
        Self { rsp, stack }
    }

    /// The thread the last upcall interrupted, from the registers the kernel saved: call in an
    /// upcall handler when the page's `saved_live` says the save area holds a live context (and
    /// clear it), with `regs` read from there. The registers become a full frame just below the
    /// saved `rsp`, on the interrupted thread's own stack.
    pub fn from_saved(regs: &SavedRegs) -> Result<Self, SavedError> {
        assert!(
            Page::current().disabled(),
            "Context::from_saved with upcalls enabled"
        );
        let stack = slots().interrupted.take();
        let Some(stack) = stack else {
            return Err(SavedError::NoThread);
        };
        let frame_bytes = FULL_WORDS as u64 * WORD;
        let rsp = regs.rsp;
        if !rsp.is_multiple_of(WORD) || rsp > stack.top || rsp < stack.bottom() + frame_bytes {
            return Err(SavedError::OutOfStack {
                red_page: stack.red,
                top: stack.top,
                rsp,
            });
        }
        let at = rsp - frame_bytes;
        // The switch frame's order (r15 first), then what the restore stub pops.
        let words: [u64; FULL_WORDS] = [
            regs.r15,
            regs.r14,
            regs.r13,
            regs.r12,
            regs.rbx,
            regs.rbp,
            k42_sys_restore_full as *const () as u64,
            regs.rax,
            regs.rcx,
            regs.rdx,
            regs.rsi,
            regs.rdi,
            regs.r8,
            regs.r9,
            regs.r10,
            regs.r11,
            regs.rflags,
            regs.rip,
        ];
        let frame = at as *mut u64;
        // SAFETY: `[at, rsp)` lies inside the stack's mapped, writable range (checked above),
        // below the interrupted thread's stack pointer: the thread is stopped (the kernel saved
        // it at this upcall and upcalls are disabled), the target has no red zone, so nothing
        // lives there; and the stack is the interrupted thread's alone (it is this `Stack`).
        unsafe {
            for (i, word) in words.iter().enumerate() {
                frame.add(i).write(*word);
            }
        }
        Ok(Self { rsp: at, stack })
    }

    /// A fresh start of `entry(arg)` at the top of the stack of the thread the last upcall
    /// interrupted, abandoning whatever that stack held: for a thread that was running foreign
    /// program code (a Linux program, on its own stack), whose thread stack is idle meanwhile.
    /// Call in an upcall handler, upcalls disabled.
    pub fn fresh_on_interrupted(entry: ThreadEntry, arg: u64) -> Result<Self, SavedError> {
        assert!(
            Page::current().disabled(),
            "Context::fresh_on_interrupted with upcalls enabled"
        );
        let Some(stack) = slots().interrupted.take() else {
            return Err(SavedError::NoThread);
        };
        Ok(Self::new(stack, entry, arg))
    }

    /// The stack the thread runs on.
    pub fn stack(&self) -> &Stack {
        &self.stack
    }
}

/// Writes a new context's switch frame below `top` (rounded down to 16): callee-saved registers
/// 0 but `r13` = `entry` and `r12` = `arg`, return address `k42_sys_thread_start`. After the
/// pops and the `ret`, `rsp` = the rounded top, so `entry` is called with SysV alignment.
fn fresh_frame(top: u64, entry: ThreadEntry, arg: u64) -> u64 {
    let top = top & !(STACK_ALIGN - 1);
    let rsp = top - SWITCH_WORDS as u64 * WORD;
    let mut words = [0u64; SWITCH_WORDS];
    words[SLOT_R13] = entry as usize as u64;
    words[SLOT_R12] = arg;
    words[SLOT_RETURN] = k42_sys_thread_start as *const () as u64;
    let frame = rsp as *mut u64;
    // SAFETY: every caller passes the top of a stack nothing runs on and that it may write: a
    // `Stack` it owns (mapped, at least one page below the top), or the upcall stack while the
    // dispatcher is on a thread stack with upcalls disabled (`switch_target`).
    unsafe {
        for (i, word) in words.iter().enumerate() {
            frame.add(i).write(*word);
        }
    }
    rsp
}

/// Where a switch goes.
#[derive(Debug)]
pub enum Target {
    /// A suspended thread.
    Thread(Context),
    /// A fresh start of `entry(arg)` at the top of this dispatcher's upcall stack (the runtime's
    /// idle loop), with upcalls disabled.
    UpcallStack {
        /// What runs there.
        entry: ThreadEntry,
        /// Its argument.
        arg: u64,
    },
}

/// The stacks this module tracks for one dispatcher.
struct Slots {
    /// The stack of the thread it runs now (none: it runs on its upcall stack).
    running: StackSlot,
    /// The stack of the thread the current upcall interrupted, until taken.
    interrupted: StackSlot,
}

/// A place for one [`Stack`], or none. Only its own dispatcher touches it, with upcalls
/// disabled, so nothing else can run between a load and a store: its words are atomics only to
/// make the static `Sync` (a lock would be taken and released on every thread switch and
/// upcall for nothing).
struct StackSlot {
    red: AtomicU64,
    /// The stack's top; 0 when empty (no stack has top 0: `Stack::map` checks).
    top: AtomicU64,
}

impl StackSlot {
    const fn empty() -> Self {
        Self {
            red: AtomicU64::new(0),
            top: AtomicU64::new(0),
        }
    }

    #[inline]
    fn is_some(&self) -> bool {
        self.top() != 0
    }

    /// The top of the stack held; 0 when empty.
    #[inline]
    fn top(&self) -> u64 {
        self.top.load(Ordering::Relaxed)
    }

    /// The red page and top of the stack held, if any.
    #[inline]
    fn peek(&self) -> Option<(u64, u64)> {
        match self.top.load(Ordering::Relaxed) {
            0 => None,
            top => Some((self.red.load(Ordering::Relaxed), top)),
        }
    }

    #[inline]
    fn take(&self) -> Option<Stack> {
        let (red, top) = self.peek()?;
        self.top.store(0, Ordering::Relaxed);
        Some(Stack { red, top })
    }

    #[inline]
    fn put(&self, stack: Stack) {
        self.red.store(stack.red, Ordering::Relaxed);
        self.top.store(stack.top, Ordering::Relaxed);
    }

    #[inline]
    fn set(&self, stack: Option<Stack>) {
        match stack {
            Some(stack) => self.put(stack),
            None => self.top.store(0, Ordering::Relaxed),
        }
    }
}

/// Dispatchers a process can have (the CommID's index bits).
const MAX_DISPATCHERS: usize = 1 << COMM_DISPATCHER_BITS;

/// Per dispatcher, by index. Each is touched only by its own dispatcher with upcalls disabled.
static SLOTS: [Slots; MAX_DISPATCHERS] = [const {
    Slots {
        running: StackSlot::empty(),
        interrupted: StackSlot::empty(),
    }
}; MAX_DISPATCHERS];

/// This dispatcher's index in its process (the CommID's low bits).
#[inline]
pub fn dispatcher_index() -> usize {
    // Lossless: masked to COMM_DISPATCHER_BITS bits.
    (Page::current().comm_id() & (MAX_DISPATCHERS as u64 - 1)) as usize
}

#[inline]
fn slots() -> &'static Slots {
    &SLOTS[dispatcher_index()]
}

/// The first entry: the dispatcher runs on the kernel's initial stack, which becomes the first
/// thread's.
pub(crate) fn adopt_initial_stack() {
    slots().running.put(Stack::initial());
}

/// An upcall began (upcalls are disabled): the running stack, if any, is the interrupted one.
/// Inline: every upcall stub's handler starts here.
#[inline]
pub(crate) fn note_upcall() {
    let s = slots();
    s.interrupted.set(s.running.take());
}

/// [`note_upcall`] for the IPC_CALL upcall: one that began on the stack the dispatcher rested
/// on (module comment, "Resting") interrupted nothing, and that stack is still the running one.
/// Inline: every call's upcall starts here.
#[inline]
pub(crate) fn note_call_upcall() {
    if !is_resting() {
        return note_upcall();
    }
    slots().interrupted.set(None);
}

/// Undoes [`note_upcall`] for an upcall handler that goes straight back to the interrupted
/// code (a syscall answered on the upcall stack, `k42_rt::program`): the interrupted stack is
/// the running one again. Call with upcalls disabled, before leaving the handler.
pub fn resume_interrupted() {
    let s = slots();
    if !s.running.is_some()
        && let Some(stack) = s.interrupted.take()
    {
        s.running.put(stack);
    }
}

/// Whether this dispatcher runs on a thread's stack (not on its upcall stack). Call with
/// upcalls disabled.
pub fn on_thread_stack() -> bool {
    slots().running.is_some()
}

/// The red page and top of the stack the current upcall interrupted, if a thread was running.
pub fn interrupted_stack() -> Option<(u64, u64)> {
    slots().interrupted.peek()
}

/// Makes `to` the running stack and returns the stack pointer to continue at.
fn switch_target(s: &Slots, to: Target) -> u64 {
    match to {
        Target::Thread(ctx) => {
            s.running.put(ctx.stack);
            ctx.rsp
        }
        Target::UpcallStack { entry, arg } => {
            let top = Page::current().upcall_stack();
            assert!(top != 0, "no upcall stack to switch to");
            fresh_frame(top, entry, arg)
        }
    }
}

/// What [`switch`] hands to its hook on the new stack.
struct SwitchData<F> {
    from_rsp: u64,
    stack: Option<Stack>,
    on_top: Option<F>,
}

extern "C" fn switch_hook<F: FnOnce(Context)>(data: *mut u8) {
    let (rsp, stack, on_top) = {
        // SAFETY: `data` is the `SwitchData<F>` in `switch`'s frame on the suspended stack:
        // alive (that frame is suspended, not gone) and not otherwise accessed until the
        // context is resumed, which needs the context this hook is about to publish.
        let data = unsafe { &mut *data.cast::<SwitchData<F>>() };
        (data.from_rsp, data.stack.take(), data.on_top.take())
    };
    let (Some(stack), Some(on_top)) = (stack, on_top) else {
        unreachable!("switch data used twice");
    };
    on_top(Context { rsp, stack });
}

/// Suspends the running thread and continues `to`; `on_top` receives the suspended thread's
/// context on `to`'s stack, before `to` runs (module comment). Returns when some code resumes
/// that context, with upcalls still disabled.
///
/// # Panics
///
/// If upcalls are enabled or the dispatcher is not on a thread's stack.
pub fn switch<F: FnOnce(Context)>(to: Target, on_top: F) {
    assert!(
        Page::current().disabled(),
        "thread::switch with upcalls enabled"
    );
    let (to_rsp, from) = {
        let s = slots();
        let from = s.running.take();
        assert!(from.is_some(), "thread::switch off a thread stack");
        (switch_target(s, to), from)
    };
    let mut data = SwitchData {
        from_rsp: 0,
        stack: from,
        on_top: Some(on_top),
    };
    let data_ptr = addr_of_mut!(data);
    // SAFETY: `to_rsp` is a context's frame on a stack the new running context owns (a
    // `Context` consumed above, or a fresh frame on the idle upcall stack); the switch is an
    // ordinary SysV call for this thread, which continues here only when its context — published
    // by the hook, with its stack — is resumed. The hook reads `data` exactly once (switch_hook).
    unsafe {
        k42_sys_switch_on_top(
            addr_of_mut!((*data_ptr).from_rsp),
            to_rsp,
            switch_hook::<F> as *const () as usize,
            data_ptr.cast(),
        );
    }
}

/// What [`exit`] hands to its hook.
struct ExitData<F> {
    stack: Option<Stack>,
    on_top: Option<F>,
}

extern "C" fn exit_hook<F: FnOnce(Stack)>(data: *mut u8) {
    let (stack, on_top) = {
        // SAFETY: `data` is the `ExitData<F>` in `exit`'s frame on the finished stack, which
        // nothing runs on or reuses until the hook hands the stack back below.
        let data = unsafe { &mut *data.cast::<ExitData<F>>() };
        (data.stack.take(), data.on_top.take())
    };
    let (Some(stack), Some(on_top)) = (stack, on_top) else {
        unreachable!("exit data used twice");
    };
    on_top(stack);
}

/// Ends the running thread and continues `to`; `on_top` receives the finished thread's stack
/// on `to`'s stack, once nothing runs on it.
///
/// # Panics
///
/// If upcalls are enabled or the dispatcher is not on a thread's stack.
pub fn exit<F: FnOnce(Stack)>(to: Target, on_top: F) -> ! {
    assert!(
        Page::current().disabled(),
        "thread::exit with upcalls enabled"
    );
    let (to_rsp, from) = {
        let s = slots();
        let from = s.running.take();
        assert!(from.is_some(), "thread::exit off a thread stack");
        (switch_target(s, to), from)
    };
    let mut data = ExitData {
        stack: from,
        on_top: Some(on_top),
    };
    let data_ptr = addr_of_mut!(data);
    // SAFETY: as in `switch`, but nothing is saved (null): this context is never resumed, its
    // frame stays intact until the hook has taken `data` and handed the stack on.
    unsafe {
        k42_sys_switch_on_top(
            core::ptr::null_mut(),
            to_rsp,
            exit_hook::<F> as *const () as usize,
            data_ptr.cast(),
        );
    }
    unreachable!("a finished thread was resumed")
}

/// What [`start_fresh`] leaves at the top of the new stack for its trampoline.
struct FreshStart<T> {
    entry: fn(&T) -> !,
    value: T,
}

extern "C" fn fresh_trampoline<T: Copy>(at: u64) -> ! {
    // SAFETY: `at` is the `FreshStart<T>` `write_and_enter` wrote just above this frame's
    // stack pointer, on the stack this code now runs on: written, aligned, and never written
    // again while this code runs (its frames grow down from below it; a thread's stack is
    // pooled only when the thread is done with it, and the upcall stack is restarted from its
    // top only by an upcall, which waits while upcalls stay disabled, or by the code on it
    // abandoning itself), so a shared reference to it is valid for this code's whole life.
    let start = unsafe { &*(at as *const FreshStart<T>) };
    (start.entry)(&start.value)
}

/// Leaves the upcall stack for a new thread on `stack`: `entry(value)` runs at its top, with
/// upcalls still disabled, and `stack` becomes the running one. As [`enter`] with a new
/// [`Context`], but with a value for the thread and no frame to pop: the server's fast path
/// into a pooled thread (`k42_rt::server`). The value is copied once, to the top of the new
/// stack, and the thread reads it there by reference (a call's record, copied straight from
/// the upcall's registers). Call it only where [`enter`] may be called.
///
/// # Panics
///
/// As [`enter`]; and if `value` does not fit on the stack.
pub fn start_fresh<T: Copy>(stack: Stack, entry: fn(&T) -> !, value: &T) -> ! {
    assert!(
        Page::current().disabled(),
        "thread::start_fresh with upcalls enabled"
    );
    let at = fresh_record_at::<T>(stack.top, stack.bottom() + PAGE_SIZE);
    let running = &slots().running;
    assert!(
        !running.is_some(),
        "thread::start_fresh from a thread's stack"
    );
    running.put(stack);
    // SAFETY: `at` lies inside the stack's mapped, writable range, aligned for the record
    // (`fresh_record_at`), and nothing runs on the stack (it was no running stack until now:
    // a `Stack` is unique), so the write clobbers nothing and the new frames grow down from
    // below it; the code abandoned is on the upcall stack (checked above: no running stack),
    // which the caller promises holds nothing anyone will use again.
    unsafe { write_and_enter(at, entry, value) }
}

/// [`start_fresh`] on the upcall stack: `entry(value)` runs at its top, upcalls still
/// disabled, on no thread's stack. For code that runs on a stack that is no longer the running
/// one and must move off it (a server's call that began on the stack named for its next call,
/// `k42_rt::server`, when the call cannot be served there). `value` must not lie on the upcall
/// stack. Call it only where [`enter`] may be called.
///
/// # Panics
///
/// As [`enter`]; and if there is no upcall stack, or `value` does not fit on it.
pub fn start_on_upcall_stack<T: Copy>(entry: fn(&T) -> !, value: &T) -> ! {
    let page = Page::current();
    assert!(
        page.disabled(),
        "thread::start_on_upcall_stack with upcalls enabled"
    );
    assert!(
        !slots().running.is_some(),
        "thread::start_on_upcall_stack from a thread's stack"
    );
    let top = page.upcall_stack();
    let floor = top.checked_sub(PAGE_SIZE).filter(|_| top != 0);
    let Some(floor) = floor else {
        panic!("thread::start_on_upcall_stack: no upcall stack to enter");
    };
    let at = fresh_record_at::<T>(top, floor);
    let value_at = value as *const T as u64;
    assert!(
        value_at >= top || value_at + core::mem::size_of::<T>() as u64 <= at,
        "thread::start_on_upcall_stack with a value on the upcall stack"
    );
    // The caller must not run on the upcall stack itself (its frames would be overwritten):
    // caught where its frames would be, just below the top.
    assert!(
        !(floor..top).contains(&stack_pointer()),
        "thread::start_on_upcall_stack from the upcall stack"
    );
    // SAFETY: `at` is below the upcall stack's top, aligned, and within the page below it,
    // which the runtime maps with the stack (whole pages below a page-aligned top,
    // `k42_rt::upcall_stack`); nothing runs on the upcall stack (no running stack, and the
    // caller runs elsewhere, as `enter` requires: checked where it could be), and `value` lies
    // outside the record's bytes (checked), so the copy reads what the caller gave.
    unsafe { write_and_enter(at, entry, value) }
}

/// The stack pointer of the caller (near enough: this function's own frame, if any, is just
/// below it).
#[inline(always)]
fn stack_pointer() -> u64 {
    let rsp: u64;
    // SAFETY: reads `rsp` into a register; touches no memory and no flags.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack, preserves_flags))
    };
    rsp
}

/// Where a fresh start's record of `T` goes below `top`: aligned, and not below `floor`.
fn fresh_record_at<T>(top: u64, floor: u64) -> u64 {
    let room = core::mem::size_of::<FreshStart<T>>() as u64;
    let align = core::mem::align_of::<FreshStart<T>>() as u64;
    let at = top
        .checked_sub(room)
        .map(|at| at & !(align.max(STACK_ALIGN) - 1))
        .filter(|&at| at >= floor);
    match at {
        Some(at) => at,
        None => panic!("thread: a fresh start's value does not fit on the stack"),
    }
}

/// Writes `entry` and `value` at `at` and starts `entry(value)` on the stack below it.
///
/// # Safety
///
/// `[at, at + size_of::<FreshStart<T>>())` must be mapped, writable and aligned for it, on a
/// stack nothing else runs on, and the running code must be abandonable (as [`enter`]'s).
unsafe fn write_and_enter<T: Copy>(at: u64, entry: fn(&T) -> !, value: &T) -> ! {
    // SAFETY: the caller promises the record's bytes are writable, aligned and no one else's.
    unsafe {
        (at as *mut FreshStart<T>).write(FreshStart {
            entry,
            value: *value,
        })
    };
    // SAFETY: the new frames grow down from `at`, below the record the trampoline reads; the
    // caller promises the code abandoned may be.
    unsafe { k42_sys_enter_fresh(at, fresh_trampoline::<T>, at) }
}

/// Makes `stack`, which the code calling this runs on, the running one (a dispatcher's first
/// code on a stack it was given, `k42_rt::dispatchers`).
///
/// # Panics
///
/// If upcalls are enabled or another stack is running.
pub fn reclaim_running_stack(stack: Stack) {
    assert!(
        Page::current().disabled(),
        "thread::reclaim_running_stack with upcalls enabled"
    );
    let running = &slots().running;
    assert!(
        !running.is_some(),
        "thread::reclaim_running_stack: another stack runs"
    );
    running.put(stack);
}

/// Makes the dispatcher rest on its running stack (module comment, "Resting"): the page names
/// it for the next IPC_CALL, and it stays the running one. For a server thread about to reply
/// with PPC_RETURN(WAIT) (`k42_rt::server`): the caller must run nothing but that call on the
/// stack, upcalls disabled until it, and if the call returns (the kernel refused it) end the
/// rest with [`wake_on_rested_stack`] before anything else.
///
/// # Panics
///
/// If upcalls are enabled or the dispatcher is not on a thread's stack.
#[inline]
pub fn rest_on_running_stack() {
    let page = Page::current();
    assert!(
        page.disabled(),
        "thread::rest_on_running_stack with upcalls enabled"
    );
    match slots().running.top() {
        0 => panic!("thread::rest_on_running_stack off a thread stack"),
        top => page.set_call_stack(top),
    }
}

/// Whether the dispatcher rests on a thread's stack (module comment, "Resting"): at an upcall,
/// whether that upcall is the first since the rest began.
#[inline]
pub fn is_resting() -> bool {
    Page::current().call_stack() != 0
}

/// Ends the rest with the rested stack still the running one: at the IPC_CALL upcall that began
/// on it, for the call to run there; or when the kernel refused the PPC_RETURN(WAIT) the rest
/// was for. No stack is named for calls any more.
///
/// # Panics
///
/// If upcalls are enabled.
#[inline]
pub fn wake_on_rested_stack() {
    let page = Page::current();
    assert!(
        page.disabled(),
        "thread::wake_on_rested_stack with upcalls enabled"
    );
    page.set_call_stack(0);
}

/// Ends the rest, if the dispatcher rests, with the rested stack handed back: no stack is named
/// for calls any more, and the rested stack is neither running nor interrupted. It is the
/// running one at the IPC_CALL upcall that began on it (the caller then leaves it with
/// [`start_on_upcall_stack`]), the interrupted one at any other upcall (module comment,
/// "Resting"). `None` if the dispatcher does not rest.
///
/// # Panics
///
/// If upcalls are enabled, or the stack named for calls is neither the running nor the
/// interrupted one.
#[inline]
pub fn end_rest() -> Option<Stack> {
    if !is_resting() {
        return None;
    }
    Some(take_rested_stack())
}

/// [`end_rest`] when the dispatcher rests.
#[cold]
fn take_rested_stack() -> Stack {
    let page = Page::current();
    assert!(page.disabled(), "thread::end_rest with upcalls enabled");
    let top = page.call_stack();
    page.set_call_stack(0);
    let s = slots();
    let holder = [&s.running, &s.interrupted]
        .into_iter()
        .find(|slot| slot.top() == top);
    match holder.and_then(StackSlot::take) {
        Some(stack) => stack,
        None => panic!("thread::end_rest: the rested stack is neither running nor interrupted"),
    }
}

/// Leaves the upcall stack for `to` (a thread, or a fresh start at the upcall stack's top),
/// abandoning the running code: call it only where nothing will be resumed — an upcall
/// handler, or the idle loop — and with nothing on the upcall stack that anything else refers
/// to (the stack is reused by the next upcall).
///
/// # Panics
///
/// If upcalls are enabled or the dispatcher is on a thread's stack (that thread would be lost).
pub fn enter(to: Target) -> ! {
    assert!(
        Page::current().disabled(),
        "thread::enter with upcalls enabled"
    );
    let running = &slots().running;
    assert!(!running.is_some(), "thread::enter from a thread's stack");
    match to {
        Target::Thread(ctx) => {
            let rsp = ctx.rsp;
            running.put(ctx.stack);
            // SAFETY: `rsp` is the frame of a suspended context whose stack is now the running
            // one; the code abandoned here is on the upcall stack (checked above), which the
            // caller promises holds nothing anyone will use again.
            unsafe { k42_sys_enter(rsp) }
        }
        Target::UpcallStack { entry, arg } => {
            let top = Page::current().upcall_stack();
            assert!(top != 0, "no upcall stack to enter");
            // SAFETY: restarting the upcall stack from its top abandons the code running on it,
            // as the caller promises is fine (above).
            unsafe { k42_sys_enter_fresh(top, entry, arg) }
        }
    }
}
