//! Linux threads (issue #5): `clone(CLONE_VM | CLONE_THREAD | …)` as pthread_create makes them,
//! each a runtime thread of this dispatcher made a program thread (`k42_rt::program::run`)
//! with its own registers, stack and FS base (its TLS). The kernel knows nothing of them: they
//! are scheduled at user level, and a thread that blocks in a syscall (a pipe read, a futex
//! wait: `calls/futex.rs`) blocks only itself.
//!
//! Kept here, per thread: its Linux thread id (from the process server's pid space, so no
//! process takes it while it lives and `kill` of it reaches this process), its
//! `set_tid_address` / `CLONE_CHILD_CLEARTID` word (zeroed and futex-woken when it exits: how
//! `pthread_join` learns of the end), and whether an `execve` on another thread has doomed it.
//! The first thread's id is the pid.
//!
//! Threads end at [`checkpoint`]s — before the program continues (`signals::deliver`) and at
//! the top of every wait (`signals::wait_with`) — when an exec doomed them; there, too, a
//! thread of a stopped process waits for SIGCONT (`job.rs`). Messages for one thread that
//! another took reach it through `inbox.rs`.
//!
//! Not per thread yet (departures from Linux, `docs/linux-personality.md`): the signal mask,
//! the pending set and the alternate stack are the process's; a signal sent to one thread
//! (`tgkill`) is the process's, delivered by whichever thread runs next.

use alloc::collections::BTreeMap;
use alloc::format;
use core::sync::atomic::{AtomicUsize, Ordering};

use k42_abi::kernel::SavedRegs;
use k42_linux::{Errno, SysResult};
use k42_rt::thread::{self, Thread};
use k42_rt::{log, program};
use spin::Mutex;

use crate::state::Linux;
use crate::{inbox, uaccess};

/// One Linux thread.
struct Info {
    /// Its thread id.
    tid: u64,
    /// Its `CLONE_CHILD_CLEARTID` / `set_tid_address` word (0: none).
    clear_child_tid: u64,
    /// An exec on another thread ends it at its next checkpoint.
    doomed: bool,
}

/// The Linux threads, by runtime thread id (`Thread::id`).
static THREADS: Mutex<BTreeMap<u64, Info>> = Mutex::new(BTreeMap::new());
/// How many there are (read without the lock on every wait and every return to the program).
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// Whether the process has more than one thread.
pub fn many() -> bool {
    COUNT.load(Ordering::Acquire) > 1
}

/// Records `thread` as a Linux thread with id `tid`.
fn add(thread: Thread, tid: u64, clear_child_tid: u64) {
    let id = thread.id();
    inbox::open(thread);
    let mut threads = THREADS.lock();
    threads.insert(
        id,
        Info {
            tid,
            clear_child_tid,
            doomed: false,
        },
    );
    COUNT.store(threads.len(), Ordering::Release);
}

/// Makes the calling thread the process's only one, with id `pid` (at start-up, and in a fork
/// child, whose copy of the table names its parent's threads).
pub fn only(pid: u64, clear_child_tid: u64) {
    let me = thread::current();
    THREADS.lock().clear();
    inbox::keep_only(me.id());
    inbox::close(me.id());
    crate::thread_signals::only();
    add(me, pid, clear_child_tid);
}

/// The calling thread's id (the pid for the first thread, or off the table).
pub fn tid(linux: &Linux) -> u64 {
    THREADS
        .lock()
        .get(&thread::current().id())
        .map_or(linux.ids.pid, |t| t.tid)
}

/// `set_tid_address`: the calling thread's clear-child-tid word.
pub fn set_clear_child_tid(addr: u64) {
    if let Some(me) = THREADS.lock().get_mut(&thread::current().id()) {
        me.clear_child_tid = addr;
    }
}

/// What `clone` asked for a new thread.
pub struct NewThread {
    /// Its stack pointer (0: the caller's, as Linux allows).
    pub stack: u64,
    /// Its FS base, if not the caller's.
    pub tls: Option<u64>,
    /// Where to store its id in the (shared) memory before it runs (`CLONE_PARENT_SETTID`,
    /// `CLONE_CHILD_SETTID`; 0: nowhere).
    pub settid: [u64; 2],
    /// Its clear-child-tid word (`CLONE_CHILD_CLEARTID`; 0: none).
    pub clear_child_tid: u64,
}

/// `clone(CLONE_THREAD …)`: a new thread that returns 0 from the call where the caller made
/// it, with `how`'s stack and TLS; the caller gets its id.
pub fn spawn(linux: &Linux, regs: &SavedRegs, how: &NewThread) -> SysResult {
    let tid = crate::procs::new_thread(linux)?;
    for addr in how.settid.into_iter().filter(|&a| a != 0) {
        // Lossless: Linux's thread ids are 32-bit. A bad address fails the call, as Linux's
        // `put_user` does for CLONE_PARENT_SETTID.
        if let Err(e) = uaccess::write(linux, addr, &(tid as u32).to_ne_bytes()) {
            crate::procs::end_thread(linux, tid);
            return Err(e);
        }
    }
    let mut child = *regs;
    child.rax = 0;
    if how.stack != 0 {
        child.rsp = how.stack;
    }
    let fs = how.tls.unwrap_or_else(program::fs_base);
    let spawned = thread::try_spawn(&format!("linux-{tid}"), move || {
        program::set_fs_base(fs);
        program::run(child)
    });
    match spawned {
        Ok(handle) => {
            // Recorded before either runs on: the new thread is one of the process's from now.
            crate::thread_signals::inherit(linux, handle.thread().id());
            add(handle.thread().clone(), tid, how.clear_child_tid);
            Ok(tid)
        }
        Err(e) => {
            log!("linux: clone: no thread for the program: {e}");
            crate::procs::end_thread(linux, tid);
            Err(Errno::EAGAIN)
        }
    }
}

/// `exit(status)` of the calling thread: the process ends with the last one, with its status
/// (as Linux's wait reports it, whichever thread was first); any other ends alone, its
/// clear-child-tid word zeroed and futex-woken.
pub fn exit(linux: &Linux, status: u64) -> SysResult {
    let me = thread::current().id();
    let (info, left) = {
        let mut threads = THREADS.lock();
        let info = threads.remove(&me);
        COUNT.store(threads.len(), Ordering::Release);
        (info, threads.len())
    };
    if left == 0 {
        return crate::calls::proc::exit_process(linux, status);
    }
    inbox::close(me);
    crate::thread_signals::forget(me);
    if let Some(info) = info {
        end(linux, &info);
    }
    thread::exit()
}

/// What a thread leaves when it ends: its clear-child-tid word zeroed and woken, its id freed.
fn end(linux: &Linux, info: &Info) {
    if info.clear_child_tid != 0 {
        // A bad address is ignored, as Linux ignores a failed `put_user` here.
        if uaccess::write(linux, info.clear_child_tid, &0u32.to_ne_bytes()).is_ok() {
            crate::calls::futex::wake(info.clear_child_tid, 1);
        }
    }
    if info.tid != linux.ids.pid {
        crate::procs::end_thread(linux, info.tid);
    }
}

/// Where a thread ends if an exec doomed it, and waits while the process is stopped. Call
/// with no lock held.
pub fn checkpoint(linux: &Linux) {
    crate::thread_signals::switch(linux);
    if many() {
        let me = thread::current().id();
        let doomed = THREADS.lock().get(&me).is_some_and(|t| t.doomed);
        if doomed {
            let info = {
                let mut threads = THREADS.lock();
                let info = threads.remove(&me);
                COUNT.store(threads.len(), Ordering::Release);
                info
            };
            inbox::close(me);
            crate::thread_signals::forget(me);
            if let Some(info) = info {
                // Its id is freed; its clear-child-tid word is the old program's, left alone
                // (Linux's `de_thread` kills the others without `mm_release`'s wake either,
                // the memory being replaced).
                if info.tid != linux.ids.pid {
                    crate::procs::end_thread(linux, info.tid);
                }
            }
            thread::exit();
        }
    }
    crate::job::wait_while_stopped(linux);
}

/// For `execve`: ends every other thread (each at its next checkpoint; this returns when all
/// have) and makes the caller the only one, its id the pid (Linux's `de_thread`).
pub fn end_others(linux: &Linux) {
    if !many() {
        return;
    }
    let me = thread::current().id();
    {
        let mut threads = THREADS.lock();
        for (&id, t) in threads.iter_mut() {
            t.doomed = id != me;
        }
    }
    inbox::kick();
    while many() {
        thread::yield_now();
    }
    if let Some(mine) = THREADS.lock().get_mut(&me) {
        if mine.tid != linux.ids.pid {
            crate::procs::end_thread(linux, mine.tid);
        }
        mine.tid = linux.ids.pid;
        mine.clear_child_tid = 0;
    }

    inbox::keep_only(me);
    crate::thread_signals::only();
}

/// Whether `tid` names a thread of this process.
pub fn is_ours(linux: &Linux, tid: u64) -> bool {
    tid == linux.ids.pid || THREADS.lock().values().any(|t| t.tid == tid)
}

/// Whether a fork may copy the process now: no other thread holds this module's lock.
pub fn quiet() -> bool {
    !THREADS.is_locked()
}
