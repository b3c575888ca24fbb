//! More dispatchers for the running process: one on each CPU it uses (DESIGN §2.4, "one per
//! CPU it uses"). A server adds one on every CPU (`crate::server::serve`) so that it serves
//! each caller on the caller's own CPU: the kernel's PPC_CALL gives a call naming any of a
//! server's dispatchers to its dispatcher on the calling CPU, if it has one that serves
//! (`kernel/src/kcall/ppc.rs`, `route`), so the call takes the same-CPU path instead
//! of going by mail between CPUs.
//!
//! **Starting one.** `Process::add_dispatcher` starts the new dispatcher at the runtime's
//! entry (`k42_sys::entry::dispatcher_entry_point`) on a thread stack taken here beforehand and
//! left in [`PENDING`] under its top, which is the stack pointer the dispatcher starts with.
//! So the new dispatcher finds its stack without waiting for the adder to learn its CommID. Its
//! first code sets up its own scheduler (`crate::sched::init_added`: upcall stack, a first
//! thread on that stack, its INTERRUPT and TRAP entries), runs what the adder asked for
//! (a server installs its IPC_CALL entry) and ends that thread; the dispatcher then idles
//! until an upcall brings it work. Each dispatcher has its own scheduler, and a thread of one
//! made ready on another is queued there and woken with an async message (`sched::unpark`).

use alloc::format;
use alloc::vec::Vec;

use k42_kapi::KError;
use k42_rights::wire::CallError;
use k42_sys::critical;
use k42_sys::page::Page;
use k42_sys::thread::Stack;
use k42_sys::{entry, kcall};
use spin::Mutex;

use crate::{log, process, sched};

/// What an added dispatcher runs on its first thread (upcalls enabled) once its scheduler is
/// up; the thread then ends and the dispatcher idles.
pub type OnStart = fn();

/// A dispatcher being added: the stack it starts on and what it runs there.
struct Pending {
    stack: Stack,
    on_start: OnStart,
}

/// The dispatchers added and not yet started, found by their stack's top.
static PENDING: Mutex<Vec<Pending>> = Mutex::new(Vec::new());

/// Adds a dispatcher on every CPU that has none of this process yet, each running `on_start`
/// first; how many were added. Stops at the first CPU the kernel does not have.
///
/// # Errors
///
/// The kernel's refusal, or no stack for a new dispatcher's first thread; the dispatchers added
/// before it stay.
pub fn add_on_every_cpu(on_start: OnStart) -> Result<usize, CallError<KError>> {
    entry::set_dispatcher_main(dispatcher_main);
    let mut added = 0;
    let mut spare: Option<Stack> = None;
    for cpu in 0.. {
        let stack = match spare.take() {
            Some(stack) => stack,
            None => {
                let _upcalls = critical::disable();
                sched::take_stack()?
            }
        };
        let top = stack.top();
        {
            let _upcalls = critical::disable();
            PENDING.lock().push(Pending { stack, on_start });
        }
        match process::own().add_dispatcher(cpu, entry::dispatcher_entry_point(), top) {
            Ok(_) => added += 1,
            Err(refused) => {
                spare = take_pending(top).map(|p| p.stack);
                match refused {
                    // This process has one there already (the first, say).
                    CallError::Method(KError::Exists) => {}
                    // No CPU `cpu`: every CPU has one now.
                    CallError::Method(KError::BadArgument) => break,
                    other => {
                        give_back(spare);
                        return Err(other);
                    }
                }
            }
        }
    }
    give_back(spare);
    Ok(added)
}

/// The pending dispatcher whose stack's top is `top`, taken from [`PENDING`].
fn take_pending(top: u64) -> Option<Pending> {
    let _upcalls = critical::disable();
    let mut pending = PENDING.lock();
    let at = pending.iter().position(|p| p.stack.top() == top)?;
    Some(pending.swap_remove(at))
}

/// An unused stack back to the runtime's free ones.
fn give_back(stack: Option<Stack>) {
    if let Some(stack) = stack {
        let _upcalls = critical::disable();
        sched::recycle_stack(stack);
    }
}

/// An added dispatcher's first code (`k42_sys::entry::DispatcherMain`), on the stack whose top
/// is `stack_top`. One that cannot run threads takes no upcalls (none installed) and sleeps.
fn dispatcher_main(page: Page, stack_top: u64) -> ! {
    let index = k42_sys::thread::dispatcher_index();
    let Some(Pending { stack, on_start }) = take_pending(stack_top) else {
        log!("dispatcher {index}: started on a stack nobody prepared; it stays idle");
        kcall::block_for_good(page)
    };
    if let Err(e) = sched::init_added(&format!("dispatcher-{index}"), stack) {
        log!("dispatcher {index}: cannot start the thread runtime ({e}); it stays idle");
        kcall::block_for_good(page)
    }
    on_start();
    crate::thread::exit()
}
