//! Foreign program code on a thread: how the Linux personality (`user/bin/linux`) runs a Linux
//! program inside its own process (DESIGN §2.6). The program is one of the runtime's threads
//! whose registers, while it runs program code, are the program's — on the program's stack, with
//! the program's FS — and whose own (personality) stack is idle meanwhile.
//!
//! - [`run`] turns the calling thread into the program thread and enters the program with the
//!   registers given (from a save area the runtime filled, through `k42_sys::svc_return`).
//! - When the program executes `syscall`, the kernel reflects it to the SVC entry with the
//!   program's registers in the save area (`k42_abi::kernel::Entry::Svc`). A call the
//!   [`FastHandler`] answers at once (no blocking, no lock, no allocation: the id getters) goes
//!   straight back from the upcall stack. For any other the runtime keeps them in the thread's
//!   record and starts the installed [`SyscallHandler`] afresh at the top of the thread's own
//!   stack, with upcalls enabled: a handler that blocks (a read of an empty pipe, a sleep)
//!   blocks this thread only, and the dispatcher runs others. When the handler returns, the
//!   registers it left go back to the program. Either way the return is the SVC return stub's
//!   (`k42_sys::svc_return`), which needs no kernel call unless soft interrupts are pending
//!   (REFLECT_RETURN then).
//! - When an upcall interrupts program code (a preemption, a soft interrupt), the program's
//!   registers cannot become a frame on the thread's stack as a native thread's do
//!   (`Context::from_saved`): they belong to another stack. They are kept in the record instead
//!   and the thread's context becomes a fresh start of "resume the program" on its own stack, so
//!   the scheduler treats it like any other ready thread.
//!
//! - Before an interrupted program continues, the installed [`ResumeHook`] sees its registers
//!   (on the thread's own stack, upcalls enabled): the personality delivers a signal that came
//!   while the program ran there, by changing them (a handler's frame). A fault the personality
//!   wants to turn into a signal comes the same way: [`trapped`] keeps the faulting registers
//!   as an interrupted context, so the hook runs before the program does.
//!
//! - A program may run on several threads (Linux threads, `clone(CLONE_VM | CLONE_THREAD)`):
//!   each is a runtime thread made program thread by [`run`], with its own FS base (its TLS),
//!   kept in its record ([`set_fs_base`]) and loaded into the dispatcher's one FS register when
//!   it enters program code after another program thread did.
//!
//! It sits next to `sched.rs` (the records and the ready queue) and `k42_sys::upcall` (the SVC
//! stub); `k42_sys::foreign` has the program's memory and FS base.

use core::sync::atomic::{AtomicU32, Ordering};

use k42_abi::kernel::{Entry, SavedRegs};
use k42_sys::critical;
use k42_sys::foreign;
use k42_sys::page::Page;
use k42_sys::svc_return;
use k42_sys::thread::{self as sys_thread, Context, Target};
use k42_sys::upcall::{self, InstallError};
use spin::Once;

use crate::log;
use crate::sched::{self, with};

/// Serves one syscall: `regs` are the program's registers at its `syscall` (`rax` the number);
/// whatever the handler leaves in them — `rax` the result, or a whole new context after an exec
/// or a signal — is what the program continues with.
pub type SyscallHandler = fn(&mut SavedRegs);

/// Answers a syscall on the upcall stack, upcalls disabled, if it can without blocking, taking
/// a lock or allocating (the id getters): `Some(rax)`. `None` sends it to the
/// [`SyscallHandler`] on the program thread. It gets the syscall number (the program's `rax`).
pub type FastHandler = fn(u64) -> Option<u64>;

/// Sees (and may change) an interrupted program's registers before it continues, on the
/// program thread's own stack with upcalls enabled: where a signal that arrived while program
/// code ran is delivered.
pub type ResumeHook = fn(&mut SavedRegs);

/// The installed handlers.
static HANDLER: Once<SyscallHandler> = Once::new();
static FAST: Once<FastHandler> = Once::new();
static RESUME: Once<ResumeHook> = Once::new();

/// The slot of the program thread whose FS base the FS register holds (`u32::MAX`: none).
static FS_OWNER: AtomicU32 = AtomicU32::new(NO_SLOT);
const NO_SLOT: u32 = u32::MAX;

/// Whether ring 3 may read and write the FS base (`foreign::fs_base_writable`, a CPUID
/// query asked once).
fn fs_writable() -> bool {
    static WRITABLE: Once<bool> = Once::new();
    *WRITABLE.call_once(foreign::fs_base_writable)
}

/// Keeps the FS register's value as thread `slot`'s FS base when the thread leaves program
/// code (a syscall, an interruption): the program may have set it itself with `wrfsbase`.
fn keep_fs(s: &mut sched::Sched, slot: u32) {
    if FS_OWNER.load(Ordering::Relaxed) == slot && fs_writable() {
        s.set_program_fs(slot, foreign::fs_base());
    }
}

/// Sets the running program thread's FS base (the program's thread pointer), in its record and
/// in the FS register. Call only where `foreign::fs_base_writable` holds.
///
/// # Panics
///
/// Off a thread.
pub fn set_fs_base(base: u64) {
    let _upcalls = critical::disable();
    let me = with(sched::current_slot).expect("program::set_fs_base off a thread");
    with(|s| s.set_program_fs(me, base));
    foreign::set_fs_base(base);
    FS_OWNER.store(me, Ordering::Relaxed);
}

/// The running thread's program FS base (0 if it never set one).
///
/// # Panics
///
/// Off a thread.
pub fn fs_base() -> u64 {
    let _upcalls = critical::disable();
    let me = with(sched::current_slot).expect("program::fs_base off a thread");
    with(|s| s.program_fs(me))
}

/// Installs `hook` ([`ResumeHook`]), once.
pub fn set_resume_hook(hook: ResumeHook) {
    RESUME.call_once(|| hook);
}

/// For a TRAP handler whose fault interrupted program code: keeps `regs` as the program
/// thread's interrupted context and runs the scheduler, so the thread continues through the
/// [`ResumeHook`] (which decides what the program does next: a signal handler, or death).
/// Call on the upcall stack with upcalls disabled, the save area already taken.
pub fn trapped(regs: SavedRegs) -> ! {
    interrupted(regs, false);
    sched::idle_loop()
}

/// Installs `handler` (and `fast`, tried first) for the program's syscalls, points this
/// dispatcher's SVC entry at the runtime's stub and tells the kernel where the SVC return stub
/// lies (`k42_sys::svc_return`). Call before [`run`].
pub fn install(handler: SyscallHandler, fast: FastHandler) -> Result<(), InstallError> {
    HANDLER.call_once(|| handler);
    FAST.call_once(|| fast);
    upcall::set_svc_handler(on_svc);
    upcall::install(Entry::Svc)?;
    svc_return::install()
}

/// Makes the calling thread the program's and enters the program with `regs`. Never returns:
/// from here on the thread runs program code and, at each syscall, the handler.
///
/// # Panics
///
/// Off a thread, or if the kernel refuses REFLECT_RETURN (not a Linux process).
pub fn run(regs: SavedRegs) -> ! {
    // Upcalls stay disabled until the return to the program enables them with the program
    // running.
    core::mem::forget(critical::disable());
    let me = with(sched::current_slot).expect("program::run off a thread");
    with(|s| s.set_program(me, true, None));
    enter(me, &regs)
}

/// Continues the program with `regs` on thread `slot` (upcalls disabled, the thread marked in
/// program code), with its FS base.
fn enter(slot: u32, regs: &SavedRegs) -> ! {
    if FS_OWNER.load(Ordering::Relaxed) != slot {
        let fs = with(|s| s.program_fs(slot));
        if fs_writable() {
            foreign::set_fs_base(fs);
        }
        FS_OWNER.store(slot, Ordering::Relaxed);
    }
    let status = foreign::continue_program(regs);
    panic!(
        "cannot continue the program at {:#x}: status {status}",
        regs.rip
    );
}

/// The SVC upcall: the program thread made a syscall. One the fast handler answers goes
/// straight back to the program (the thread stays in program code, its stack untouched); any
/// other restarts the thread in the syscall handler.
fn on_svc() -> ! {
    let page = Page::current();
    let number = page.saved_word(core::mem::offset_of!(SavedRegs, rax));
    if let Some(result) = FAST.get().and_then(|fast| fast(number)) {
        sys_thread::resume_interrupted();
        let status = foreign::return_to_program(result);
        panic!("cannot return to the program after syscall {number}: status {status}");
    }
    let regs = page.saved();
    let me = with(|s| {
        let me = sched::current_slot(s)?;
        s.set_program(me, false, Some(regs));
        keep_fs(s, me);
        Some(me)
    });
    let Some(me) = me else {
        panic!(
            "a program syscall with no program thread (rip {:#x})",
            regs.rip
        );
    };
    match Context::fresh_on_interrupted(syscall_entry, u64::from(me)) {
        Ok(ctx) => sys_thread::enter(Target::Thread(ctx)),
        Err(e) => panic!("a program syscall off the program thread's stack: {e:?}"),
    }
}

/// Where the program thread serves a syscall: at the top of its own stack, upcalls disabled.
extern "C" fn syscall_entry(slot: u64) -> ! {
    // Lossless: the slot came from a u32 (on_svc).
    let slot = slot as u32;
    let Some(mut regs) = with(|s| s.take_program(slot)) else {
        panic!("the program thread lost its registers at a syscall");
    };
    critical::enable();
    let Some(handler) = HANDLER.get() else {
        panic!("a program syscall with no handler installed");
    };
    handler(&mut regs);
    core::mem::forget(critical::disable());
    with(|s| s.set_program(slot, true, None));
    enter(slot, &regs)
}

/// An upcall interrupted program code with `regs` (`sched::take_interrupted`): keep them and
/// queue the thread to resume the program later (at the back if `back`).
pub(crate) fn interrupted(regs: SavedRegs, back: bool) {
    let Some(me) = with(sched::current_slot) else {
        log!("program: an interrupted program context with no thread was dropped");
        return;
    };
    with(|s| {
        s.set_program(me, true, Some(regs));
        keep_fs(s, me);
    });
    match Context::fresh_on_interrupted(resume_entry, u64::from(me)) {
        Ok(ctx) => with(|s| s.requeue_current(ctx, back)),
        Err(e) => log!("program: cannot keep the interrupted program: {e:?}"),
    }
}

/// Where an interrupted program thread continues when it is scheduled again.
extern "C" fn resume_entry(slot: u64) -> ! {
    // Lossless: the slot came from a u32 (interrupted).
    let slot = slot as u32;
    let Some(mut regs) = with(|s| s.take_program(slot)) else {
        panic!("the program thread lost its registers while interrupted");
    };
    if let Some(hook) = RESUME.get() {
        // The thread runs native code now: an upcall meanwhile interrupts it as a thread.
        let others = with(|s| {
            s.set_program(slot, false, None);
            s.others_ready()
        });
        critical::enable();
        // Threads the upcall woke (the personality's helpers: a timer that raises a signal)
        // run first, briefly: a program that never blocks would not let them run otherwise.
        if others {
            crate::thread::yield_now();
        }
        hook(&mut regs);
        core::mem::forget(critical::disable());
        with(|s| s.set_program(slot, true, None));
    }
    enter(slot, &regs)
}
