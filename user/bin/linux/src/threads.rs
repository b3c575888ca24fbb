//! Linux threads (issue #5): `clone(CLONE_VM | CLONE_THREAD | …)` as pthread_create makes them,
//! each a runtime thread of this dispatcher made a program thread (`k42_rt::program::run`)
//! with its own registers, stack and FS base (its TLS). The kernel knows nothing of them: they
//! are scheduled at user level (the runtime gives each a time slice while others are ready),
//! and a thread that blocks in a syscall (a pipe read, a futex wait: `calls/futex.rs`) blocks
//! only itself.
//!
//! Kept here, per thread: its Linux thread id (from the process server's pid space, so no
//! process takes it while it lives and `kill` of it reaches this process), its
//! `set_tid_address` / `CLONE_CHILD_CLEARTID` word (zeroed and futex-woken when it exits: how
//! `pthread_join` learns of the end), and whether an `execve` on another thread has doomed it.
//! The first thread's id is the pid. The signal state that is each thread's own (mask,
//! alternate stack, signals sent to it) is kept by `thread_signals.rs`.
//!
//! Threads end at [`checkpoint`]s — before the program continues (`signals::deliver`) and at
//! the top of every wait (`signals::wait_with`) — when an exec doomed them; there, too, a
//! thread of a stopped process waits for SIGCONT (`job.rs`). Messages for one thread that
//! another took reach it through `inbox.rs`.

use alloc::collections::BTreeMap;
use alloc::format;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use k42_abi::kernel::SavedRegs;
use k42_linux::{Errno, SysResult};
use k42_rt::thread;
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

/// The Linux threads, by runtime thread id (`Thread::id`), and whether an exec is ending all
/// but one of them.
struct Table {
    threads: BTreeMap<u64, Info>,
    exec: bool,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    threads: BTreeMap::new(),
    exec: false,
});
/// How many there are (read without the lock on every wait and every return to the program).
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// The process has had one thread only, the first, since it started, forked or exec'd: its
/// id is the pid (what the fast `gettid` answers, `table.rs`).
static FIRST_ONLY: AtomicBool = AtomicBool::new(true);

/// Whether the process has more than one thread.
pub fn many() -> bool {
    COUNT.load(Ordering::Acquire) > 1
}

/// Whether the calling thread's id is certainly the pid (one thread, the first, ever).
pub fn first_only() -> bool {
    FIRST_ONLY.load(Ordering::Acquire)
}

impl Table {
    /// Records `id` as a Linux thread with id `tid`; an exec under way dooms it at once.
    fn add(&mut self, id: u64, tid: u64, clear_child_tid: u64) {
        let doomed = self.exec;
        self.threads.insert(
            id,
            Info {
                tid,
                clear_child_tid,
                doomed,
            },
        );
        COUNT.store(self.threads.len(), Ordering::Release);
    }

    /// Takes `id` off the table.
    fn remove(&mut self, id: u64) -> Option<Info> {
        let info = self.threads.remove(&id);
        COUNT.store(self.threads.len(), Ordering::Release);
        info
    }
}

/// Makes the calling thread the process's only one, with id `pid` (at start-up, and in a fork
/// child, whose copy of the table names its parent's threads).
pub fn only(linux: &Linux, pid: u64, clear_child_tid: u64) {
    let me = thread::current();
    {
        let mut table = TABLE.lock();
        table.threads.clear();
        table.exec = false;
        table.add(me.id(), pid, clear_child_tid);
    }
    FIRST_ONLY.store(true, Ordering::Release);
    inbox::keep_only(me.id());
    inbox::close(me.id());
    inbox::open(me);
    crate::thread_signals::only(linux);
}

/// The calling thread's id (the pid for the first thread, or off the table).
pub fn tid(linux: &Linux) -> u64 {
    if first_only() {
        return linux.ids.pid;
    }
    let me = thread::current().id();
    TABLE
        .lock()
        .threads
        .get(&me)
        .map_or(linux.ids.pid, |t| t.tid)
}

/// `set_tid_address`: the calling thread's clear-child-tid word.
pub fn set_clear_child_tid(addr: u64) {
    let me = thread::current().id();
    if let Some(info) = TABLE.lock().threads.get_mut(&me) {
        info.clear_child_tid = addr;
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

/// Whether the calling thread is on the table (a new thread waits until its maker put it
/// there before it runs program code).
fn registered() -> bool {
    let me = thread::current().id();
    TABLE.lock().threads.contains_key(&me)
}

/// `clone(CLONE_THREAD …)`: a new thread that returns 0 from the call where the caller made
/// it, with `how`'s stack and TLS; the caller gets its id.
pub fn spawn(linux: &Linux, regs: &SavedRegs, how: &NewThread) -> SysResult {
    // Linux's exec'ing thread has SIGKILL sent to every other first, so their clones fail.
    if TABLE.lock().exec {
        return Err(Errno::EAGAIN);
    }
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
        // The maker may be preempted between making this thread and recording it: until it
        // has, this thread is nobody's (its id, mask and exit would be wrong).
        while !registered() {
            thread::yield_now();
        }
        // Made just as an exec began: it never runs the old program's code.
        end_if_doomed(crate::state::get());
        program::set_fs_base(fs);
        program::run(child)
    });
    match spawned {
        Ok(handle) => {
            let new = handle.thread().clone();
            crate::thread_signals::inherit(linux, new.id());
            inbox::open(new.clone());
            FIRST_ONLY.store(false, Ordering::Release);
            TABLE.lock().add(new.id(), tid, how.clear_child_tid);
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
        let mut table = TABLE.lock();
        let info = table.remove(me);
        (info, table.threads.len())
    };
    if left == 0 {
        return crate::calls::proc::exit_process(linux, status);
    }
    if let Some(info) = info {
        end(linux, me, &info, true);
    }
    thread::exit()
}

/// What a thread leaves when it ends: its mailbox and signal part go, its id is freed, and
/// (`wake`) its clear-child-tid word is zeroed and woken.
fn end(linux: &Linux, me: u64, info: &Info, wake: bool) {
    inbox::close(me);
    crate::thread_signals::forget(me);
    if wake && info.clear_child_tid != 0 {
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
    if many() {
        end_if_doomed(linux);
    }
    crate::job::wait_while_stopped(linux);
}

/// Ends the calling thread if an exec on another doomed it. Its clear-child-tid word is the
/// old program's, left alone (Linux's `de_thread` kills the others without `mm_release`'s
/// wake either, the memory being replaced).
fn end_if_doomed(linux: &Linux) {
    let me = thread::current().id();
    let doomed = {
        let mut table = TABLE.lock();
        match table.threads.get(&me) {
            Some(info) if info.doomed => table.remove(me),
            _ => None,
        }
    };
    if let Some(info) = doomed {
        end(linux, me, &info, false);
        thread::exit();
    }
}

/// For `execve`: ends every other thread (each at its next checkpoint; this returns when all
/// have) and makes the caller the only one, its id the pid (Linux's `de_thread`). A thread
/// that calls it while another's exec is under way ends here, as Linux's second exec'er is
/// killed by the first.
pub fn end_others(linux: &Linux) {
    let me = thread::current().id();
    let first = {
        let mut table = TABLE.lock();
        if table.exec {
            false
        } else {
            table.exec = true;
            for (&id, info) in table.threads.iter_mut() {
                info.doomed = id != me;
            }
            true
        }
    };
    if !first {
        end_if_doomed(linux);
        // Not on the table (cannot happen: every program thread is): end all the same.
        thread::exit();
    }
    inbox::kick();
    while many() {
        thread::yield_now();
    }
    let old_tid = {
        let mut table = TABLE.lock();
        table.exec = false;
        table.threads.get_mut(&me).map(|info| {
            info.clear_child_tid = 0;
            core::mem::replace(&mut info.tid, linux.ids.pid)
        })
    };
    if let Some(old) = old_tid.filter(|&t| t != linux.ids.pid) {
        crate::procs::end_thread(linux, old);
    }
    FIRST_ONLY.store(true, Ordering::Release);
    inbox::keep_only(me);
    crate::thread_signals::only(linux);
    crate::calls::futex::reset();
}

/// The runtime id (`Thread::id`) of this process's thread `tid`, if it has one.
pub fn runtime_id(tid: u64) -> Option<u64> {
    TABLE
        .lock()
        .threads
        .iter()
        .find(|(_, t)| t.tid == tid)
        .map(|(&id, _)| id)
}

/// Whether a fork may copy the process now: no other thread holds this module's lock.
pub fn quiet() -> bool {
    !TABLE.is_locked()
}
