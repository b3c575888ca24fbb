//! Fork, the kernel's part (issue #5; the rest is the Linux personality's, at user level): a
//! process makes an empty child (`Memory::new_child`), gives the child's badge access to what
//! it holds at the servers, then has the kernel copy its memory into the child, copy-on-write,
//! with the child's first dispatcher (`Process::fork_from_caller`), and starts it. Two calls,
//! because the child's pid must be known before the copy: what the parent writes into its own
//! memory before the second call (the handles it gave the child) is what the child finds.
//!
//! It sits next to `loader.rs` (the other way processes are made) and `space.rs` (the copy).

use alloc::sync::Arc;

use k42_abi::kernel::{DISPATCHER_PAGE_BASE, comm_id};
use k42_hal::user::UserFrame;
use k42_kapi::KError;
use k42_rights::{Rights, XHandle};

use crate::dispatcher::Dispatcher;
use crate::kobj::{self, MemObj, ProcObj};
use crate::loader::{MAX_PID, new_dispatcher};
use crate::process::{ForkPending, Life, Process, Watcher};
use crate::space::Space;

/// Rights a process holds on itself (as `loader::spawn` gives them).
const OWN_RIGHTS: Rights = Rights::READ.union(Rights::WRITE).union(Rights::DESTROY);

/// Undoes a child made by [`new_child`] that will not be forked into. Runs under the Memory
/// table's lock (in `Memory::new_child`), so it touches only the Process table, the one table
/// a child has entries in before it is forked into.
fn discard(child: &Arc<Process>) {
    if let Some(space) = child.space.lock().take() {
        space.destroy();
    }
    crate::process::forget(child.pid);
    kobj::forget_process_entries(child.pid);
}

/// Makes an empty, stopped child of `parent` (same kind, class and name) and the process's
/// own handle on it; returns its pid and `parent`'s handle on it (every right).
pub fn new_child(parent: &Arc<Process>) -> Result<(u64, XHandle), KError> {
    let child = Process::create(&parent.name, parent.class, Space::new()?, parent.linux);
    if child.pid >= MAX_PID {
        discard(&child);
        return Err(KError::Full);
    }
    let handles =
        kobj::insert_process(ProcObj(child.clone()), child.pid, OWN_RIGHTS).and_then(|own| {
            let theirs = kobj::insert_process(ProcObj(child.clone()), parent.pid, Rights::all())?;
            Ok((own, theirs))
        });
    let (own, theirs) = handles.inspect_err(|_| discard(&child))?;
    *child.fork.lock() = Some(ForkPending {
        parent: parent.pid,
        own: own.to_word(),
    });
    // Whoever is told of the parent's end is told of the child's (the bootstrap, for Linux
    // processes: it has the servers forget a process that ended without saying so). It holds
    // no handle on the child: the message names it by pid.
    let watcher = parent.watcher.lock().map(|w| Watcher {
        comm: w.comm,
        handle: 0,
    });
    *child.watcher.lock() = watcher;
    Ok((child.pid, theirs))
}

/// Gives a forked child's first dispatcher `d` (from [`fork_into`]) its process's own Memory
/// handle in its first registers (`rsi`). Called with no kernel table locked (an effect of the
/// fork, `kobj::Effect::AddForked`).
pub fn own_memory(d: &mut Dispatcher) -> Result<(), KError> {
    let process = d.shared.process.clone();
    let memory = kobj::insert_memory(MemObj(process.clone()), process.pid, Rights::WRITE)?;
    d.set_first_rsi(memory.to_word());
    Ok(())
}

/// Fills `child` (made by [`new_child`] for `caller`) with a copy-on-write copy of `caller`'s
/// memory and a stopped first dispatcher on `cpu` starting at `rip`/`rsp` with `arg`. The
/// caller's writable mappings became read-only: the caller flushes its TLBs.
pub fn fork_into(
    child: &Arc<Process>,
    caller: u64,
    cpu: usize,
    entry: (u64, u64, u64),
) -> Result<(u64, Dispatcher), KError> {
    let pending = (*child.fork.lock()).ok_or(KError::WrongState)?;
    if pending.parent != caller || *child.life.lock() != Life::Stopped {
        return Err(KError::WrongState);
    }
    let parent = crate::process::lookup(caller).ok_or(KError::WrongState)?;
    let copy = parent.with_space(Space::fork).ok_or(KError::WrongState)??;
    let empty = child.space.lock().replace(copy);
    if let Some(empty) = empty {
        empty.destroy();
    }
    let comm = comm_id(child.pid, 0);
    let (rip, rsp, arg) = entry;
    let mut first = UserFrame::new_user(rip, rsp);
    // The child's own Memory handle (`rsi`) is made when the dispatcher is added
    // ([`own_memory`]): this runs under the Process table's lock, and taking the Memory
    // table's here would invert `Memory::new_child`'s order (Memory, then Process).
    (first.rdi, first.rsi, first.rdx) = (pending.own, 0, comm);
    (first.rcx, first.r8, first.r9) = (arg, 0, DISPATCHER_PAGE_BASE);
    let dispatcher = new_dispatcher(child, comm, cpu, DISPATCHER_PAGE_BASE, first)?;
    *child.fork.lock() = None;
    Ok((comm, dispatcher))
}
