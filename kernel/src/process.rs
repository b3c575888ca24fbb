//! Processes: an address space, its dispatchers, the I/O ports it was granted, and who to tell
//! when it ends. The kernel knows nothing else about a process (no files, no credentials, no
//! parent tree: those are the servers'); its process id is the badge every call it makes carries.
//! One bit more: whether it is a *Linux process* (made by `Boot::spawn_linux`), whose program
//! code's `syscall`s the kernel reflects to the personality (`kcall/reflect.rs`).
//!
//! Process ids are never reused (a 64-bit counter), so a badge can never come to name another
//! process while some server still holds rights granted to the old one.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use spin::{Mutex, RwLock};

use crate::space::Space;

/// Where a process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    /// Made by spawn, not started.
    Stopped,
    /// Started.
    Running,
    /// Exit was asked for with this status; its dispatchers are being removed.
    Exiting(u32),
}

/// Whom the kernel tells when a process ends: an async message to `comm` naming `handle`.
#[derive(Clone, Copy, Debug)]
pub struct Watcher {
    /// The spawner's dispatcher.
    pub comm: u64,
    /// The spawner's handle word on the process.
    pub handle: u64,
}

/// A fork child waiting for its memory (`Process::fork`).
#[derive(Clone, Copy, Debug)]
pub struct ForkPending {
    /// The parent's pid.
    pub parent: u64,
    /// The child's handle word on its own Process object.
    pub own: u64,
}

/// A process.
pub struct Process {
    /// Its id: the badge of its calls.
    pub pid: u64,
    /// Its program's name, for logs.
    pub name: String,
    /// The priority class of its dispatchers.
    pub class: k42_sched::Class,
    /// A Linux process: its image is the Linux personality, and a `syscall` from outside the
    /// personality's range is reflected to its SVC entry. Fixed at spawn.
    pub linux: bool,
    /// Its memory; `None` once torn down.
    pub space: Mutex<Option<Space>>,
    /// I/O port ranges it may use from ring 3 (added by [`Process::grant_io_ports`]).
    pub io_ports: Mutex<Vec<(u16, u16)>>,
    /// Whether `io_ports` holds any: read without the lock on every dispatcher load, where
    /// almost no process has any.
    io_granted: AtomicBool,
    /// Its dispatchers' CommIDs, by dispatcher index.
    pub dispatchers: Mutex<Vec<u64>>,
    /// Where it is in its life.
    pub life: Mutex<Life>,
    /// Who is told when it ends.
    pub watcher: Mutex<Option<Watcher>>,
    /// For a fork child made by `Memory::new_child`: the parent's pid, the only caller its
    /// `fork_from_caller` accepts, and the child's own Process handle word, for its first
    /// entry. Cleared once the fork is done.
    pub fork: Mutex<Option<ForkPending>>,
    /// Stopped by job control (`Process::stop`, until `Process::cont`): its dispatchers are
    /// kept off their CPUs (`jobstop.rs`), one added meanwhile too. Independent of [`Life`]: a
    /// process not yet started may be stopped, and a continue does not start it.
    pub job_stopped: AtomicBool,
    /// A dispatcher of this process serving a PPC now (0: none that the kernel knows of): a
    /// hint for routing calls to a server with a dispatcher on each CPU
    /// (`kcall::ppc::route`), so it may be stale but is never unsafe.
    serving_on: AtomicU64,
    /// Dispatchers not yet removed; the CPU that removes the last one tears the process down.
    live: AtomicUsize,
}

static NEXT_PID: AtomicU64 = AtomicU64::new(1);
static PROCESSES: RwLock<BTreeMap<u64, Arc<Process>>> = RwLock::new(BTreeMap::new());

impl Process {
    /// Its dispatcher `comm` began serving a PPC.
    #[inline]
    pub fn serving_began(&self, comm: u64) {
        self.serving_on.store(comm, Ordering::Relaxed);
    }

    /// Its dispatcher `comm` serves no PPC any more.
    #[inline]
    pub fn serving_ended(&self, comm: u64) {
        let _ = self
            .serving_on
            .compare_exchange(comm, 0, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The dispatcher of this process serving a PPC now, as far as the kernel last saw (0:
    /// none).
    #[inline]
    pub fn serving_on(&self) -> u64 {
        self.serving_on.load(Ordering::Relaxed)
    }

    /// A new, stopped process with an empty space and no dispatchers, registered by its id.
    pub fn create(name: &str, class: k42_sched::Class, space: Space, linux: bool) -> Arc<Self> {
        let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        let p = Arc::new(Self {
            pid,
            name: String::from(name),
            class,
            linux,
            space: Mutex::new(Some(space)),
            io_ports: Mutex::new(Vec::new()),
            io_granted: AtomicBool::new(false),
            dispatchers: Mutex::new(Vec::new()),
            life: Mutex::new(Life::Stopped),
            watcher: Mutex::new(None),
            fork: Mutex::new(None),
            job_stopped: AtomicBool::new(false),
            serving_on: AtomicU64::new(0),
            live: AtomicUsize::new(0),
        });
        PROCESSES.write().insert(pid, p.clone());
        p
    }

    /// Runs `f` on the space; `None` if it was torn down.
    pub fn with_space<R>(&self, f: impl FnOnce(&mut Space) -> R) -> Option<R> {
        self.space.lock().as_mut().map(f)
    }

    /// Lets it use ports `first..first + count` from ring 3 (from its next dispatcher load).
    pub fn grant_io_ports(&self, first: u16, count: u16) {
        self.io_ports.lock().push((first, count));
        self.io_granted.store(true, Ordering::Release);
    }

    /// Whether it was granted any I/O ports.
    pub fn has_io_ports(&self) -> bool {
        self.io_granted.load(Ordering::Acquire)
    }

    /// Counts one more dispatcher.
    pub fn dispatcher_added(&self) {
        self.live.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts one dispatcher fewer; `true` for the last one.
    pub fn dispatcher_removed(&self) -> bool {
        self.live.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// Marks the process as exiting with `status`; `false` if it already was.
    pub fn begin_exit(&self, status: u32) -> bool {
        let mut life = self.life.lock();
        if matches!(*life, Life::Exiting(_)) {
            return false;
        }
        *life = Life::Exiting(status);
        true
    }
}

/// The process with this id, if it lives.
pub fn lookup(pid: u64) -> Option<Arc<Process>> {
    PROCESSES.read().get(&pid).cloned()
}

/// Forgets a process that was torn down.
pub fn forget(pid: u64) {
    PROCESSES.write().remove(&pid);
}
