//! The user-level thread context switch, for the thread scheduler `k42-rt` will grow (DESIGN
//! §2.4: threads cost no kernel memory; the kernel schedules dispatchers and never sees them).
//!
//! A switch happens at a function call, so only what the SysV ABI makes the callee preserve is
//! saved: `rbx rbp r12–r15` pushed on the outgoing thread's stack and its `rsp` stored in its
//! [`ThreadContext`]; the incoming thread's stack pops the same six and returns into it. The code
//! is soft-float (no FPU or SSE registers in use), the direction flag is clear at every call by
//! the ABI, and the dispatcher page is per dispatcher, not per thread, so that is all the state
//! a thread has. A context saved by the kernel (the page's `saved` area at a preemption) is a
//! different, complete register set, resumed with `kcall::resume`.

use core::arch::global_asm;

/// A suspended thread: its stack pointer, below its six callee-saved registers and the address
/// it resumes at.
#[repr(C)]
#[derive(Debug, Default)]
pub struct ThreadContext {
    rsp: u64,
}

/// Words of the frame a switch leaves on a suspended thread's stack: r15 r14 r13 r12 rbx rbp
/// (from the lowest address) and the return address.
const FRAME_WORDS: usize = 7;
/// The frame's slots, as word indices from the saved `rsp`.
const SLOT_R13: usize = 2;
const SLOT_R12: usize = 3;
const SLOT_RETURN: usize = 6;
/// SysV stack alignment at a call.
const STACK_ALIGN: u64 = 16;

unsafe extern "C" {
    /// Saves the callee-saved registers on this stack, stores `rsp` to `*from`, switches to
    /// `to` and pops its registers.
    fn k42_sys_switch(from: *mut u64, to: u64);
    /// The first return of a new thread: calls `r13(r12)`.
    fn k42_sys_thread_start();
}

global_asm!(
    ".pushsection .text.k42_thread, \"ax\", @progbits",
    ".globl k42_sys_switch",
    ".type k42_sys_switch, @function",
    ".balign 16",
    "k42_sys_switch:",
    "    push rbp",
    "    push rbx",
    "    push r12",
    "    push r13",
    "    push r14",
    "    push r15",
    "    mov [rdi], rsp",
    "    mov rsp, rsi",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop rbx",
    "    pop rbp",
    "    ret",
    ".size k42_sys_switch, . - k42_sys_switch",
    // A new thread's stack returns here with rsp 16-byte aligned (see ThreadContext::new).
    ".globl k42_sys_thread_start",
    ".type k42_sys_thread_start, @function",
    "k42_sys_thread_start:",
    "    mov rdi, r12",
    "    call r13",
    "    ud2",
    ".size k42_sys_thread_start, . - k42_sys_thread_start",
    ".popsection",
);

/// A thread body: takes one word, never returns (it ends by switching away for good).
pub type ThreadEntry = extern "C" fn(u64) -> !;

impl ThreadContext {
    /// A context to switch *from* (the current thread fills it at the switch).
    pub const fn empty() -> Self {
        Self { rsp: 0 }
    }

    /// A new thread that will run `entry(arg)` on the stack whose top is `stack_top` (rounded
    /// down to 16 bytes), with `rbp` 0 so backtraces end there.
    ///
    /// # Safety
    ///
    /// The caller must own the stack: `stack_top` minus at least a page is mapped, writable
    /// memory used by nothing else for as long as the thread lives.
    pub unsafe fn new(stack_top: u64, entry: ThreadEntry, arg: u64) -> Self {
        let top = stack_top & !(STACK_ALIGN - 1);
        let rsp = top - (FRAME_WORDS * size_of::<u64>()) as u64;
        let frame = rsp as *mut u64;
        // SAFETY: the frame's seven words lie just below `top` on a stack the caller owns
        // (contract above); after the pops and the `ret`, rsp = top, 16-byte aligned, so the
        // `call r13` in k42_sys_thread_start enters `entry` with SysV alignment.
        unsafe {
            for i in 0..FRAME_WORDS {
                frame.add(i).write(0);
            }
            frame.add(SLOT_R13).write(entry as usize as u64);
            frame.add(SLOT_R12).write(arg);
            frame
                .add(SLOT_RETURN)
                .write(k42_sys_thread_start as *const () as u64);
        }
        Self { rsp }
    }
}

/// Saves the running thread into `from` and continues the thread `to` describes; returns when
/// some thread switches back to `from`.
///
/// # Safety
///
/// `to` must be a context made by [`ThreadContext::new`] or saved by an earlier `switch`, not
/// resumed since, whose stack is still alive; after this call `from` is such a context, and the
/// caller must keep it (and the running stack) alive until it is switched to.
pub unsafe fn switch(from: &mut ThreadContext, to: &ThreadContext) {
    // SAFETY: the caller's contract above; the switch itself follows the SysV call convention
    // (it is an ordinary call for both threads).
    unsafe { k42_sys_switch(&mut from.rsp, to.rsp) }
}
