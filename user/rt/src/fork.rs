//! Fork, the runtime's part (issue #5): copies this process — its memory copy-on-write, by the
//! kernel — into a new process that starts in a function of the caller's choosing instead of
//! `main`. What the child needs to know (the handles it was given, the registers to resume) the
//! caller puts in its own memory before [`fork`] copies it; the child reads it there.
//!
//! The child enters at `_start` like any process (its first entry brings its own Process and
//! Memory handles), and [`crate::start`] sees, in its copy of this module's static, that it is a
//! fork child: it starts the thread runtime afresh (the parent's threads do not exist in it; its
//! upcall stack, heap and thread stacks do, copied) and calls the child function on the thread
//! `main`. Only the thread that calls [`fork`] continues in the child, as POSIX fork does; the
//! caller quiesces what else it runs.

use k42_abi::kernel::INITIAL_STACK_TOP;
use k42_kapi::{KError, MemoryClient, ProcessClient};
use k42_rights::XHandle;
use k42_rights::wire::CallError;
use k42_sys::critical;
use spin::Mutex;

use crate::Env;
use crate::ppc::KernelPpc;

/// What a fork child runs instead of `main`; its result is the child's exit status.
pub type ChildMain = fn(Env) -> u32;

/// Set in the parent only while the kernel copies its memory, so that only the copy sees it.
static CHILD: Mutex<Option<ChildMain>> = Mutex::new(None);

/// A child [`fork`] made and started.
#[derive(Clone, Copy, Debug)]
pub struct Child {
    /// Its process id (the badge of its calls).
    pub pid: u64,
    /// This process's handle on it (every right).
    pub handle: XHandle,
}

/// Why a fork failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForkError<E> {
    /// The kernel refused a step.
    Kernel(CallError<KError>),
    /// The caller's `prepare` failed (the child was never started).
    Prepare(E),
}

/// Forks this process. `quiet` is asked, with upcalls disabled just before the copy, whether
/// the process is in a state fit to copy (no lock of the caller's held by another thread of
/// this dispatcher, which could not release it in the child); while it says no, the caller's
/// thread yields to the others and asks again. `prepare` runs with the child's pid and this process's handle on it
/// (every right) once the (empty) child exists and before the copy: it gives the child access
/// to what it should hold (and others access to the child), and records, in this process's
/// memory, what the child must find there. The child runs `child` on a fresh thread
/// runtime; the parent gets the [`Child`].
pub fn fork<E>(
    child: ChildMain,
    prepare: impl FnOnce(u64, XHandle) -> Result<(), E>,
    quiet: impl Fn() -> bool,
) -> Result<Child, ForkError<E>> {
    let memory = XHandle::from_word(k42_sys::vm::own_memory());
    let (pid, handle) = MemoryClient::new(KernelPpc, memory)
        .new_child()
        .map_err(ForkError::Kernel)?;
    let handle = XHandle::from_word(handle);
    let mut process = ProcessClient::new(KernelPpc, handle);
    if let Err(e) = prepare(pid, handle) {
        // Never started, it has no dispatcher: ending it frees its table entries.
        let _ = process.exit(0);
        return Err(ForkError::Prepare(e));
    }
    let copied = loop {
        // No upcall may run this dispatcher's scheduler between the flag and the copy, so the
        // child's copy of it is the one of this instant.
        let upcalls = critical::disable();
        if !quiet() {
            drop(upcalls);
            crate::thread::yield_now();
            continue;
        }
        *CHILD.lock() = Some(child);
        let copied = process.fork_from_caller(k42_sys::entry::entry_point(), INITIAL_STACK_TOP, 0);
        *CHILD.lock() = None;
        break copied;
    };
    if let Err(e) = copied.and_then(|_| process.start()) {
        // Never started: ending it frees what the kernel made for it.
        let _ = process.exit(0);
        return Err(ForkError::Kernel(e));
    }
    Ok(Child { pid, handle })
}

/// In a fork child at start-up: the function to run instead of `main` (and the flag cleared).
pub(crate) fn take_child() -> Option<ChildMain> {
    CHILD.lock().take()
}
