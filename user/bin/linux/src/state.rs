//! The personality's per-process state (DESIGN §2.6: "local state lives here"), made once at
//! start-up: the handles it works with, the program's memory map and brk (`mem.rs`), the fd
//! table (`fd.rs`), signal dispositions and masks (`calls/signal.rs`), and copies of the ids
//! the process server owns ([`Ids`], [`Creds`]).
//!
//! Each part has its own lock, held only for the part's own bookkeeping: never across a call to
//! a server or the kernel (a handler copies what it needs out first), so a handler that blocks
//! on a server never holds up another thread's syscall.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use k42_rights::XHandle;
use k42_rt::Env;
use spin::{Mutex, RwLock};

use k42_ifaces::procs::ProcsClient;
use k42_ifaces::start::ProcsStart;
use k42_ptree::Family;
use k42_rt::Ppc;

use crate::calls::signal::Signals;
use crate::fd::FdTable;
use crate::files::Files;
use crate::mem::Mem;

/// The personality's state (module comment).
pub struct Linux {
    /// The console server's CommID.
    pub console_comm: u64,
    /// This process's handle on the console object.
    pub console: XHandle,
    /// A handle on the kernel's `Boot` object (READ): the initramfs until the file server exists.
    pub boot: XHandle,
    /// Handle on this process's memory (WRITE).
    pub memory: XHandle,
    /// The program's memory.
    pub mem: Mutex<Mem>,
    /// The fd table.
    pub fds: Mutex<FdTable>,
    /// Signal state.
    pub signals: crate::thread_signals::SignalState,
    /// The file mode creation mask.
    pub umask: AtomicU64,
    /// The file server and this process's root and cwd there.
    pub files: Option<Files>,
    /// The program's file, as exec found it (`/proc/self/exe`).
    pub exe: Mutex<alloc::string::String>,
    /// The process server, if this process was registered with one.
    pub procs: Option<ProcsStart>,
    /// This process's ids as the process server gave them at start (the server's calls that
    /// change them — setsid, setpgid — are asked of it, not answered from here).
    pub ids: Ids,
    /// This process's user and group ids, as the process server last gave them.
    pub creds: Creds,
    /// The process's random bytes (`calls::info::random_bytes`); a fork child's is new.
    pub random: Mutex<k42_linux::random::Random>,
    /// The CPU time (ns) of the children this process's waits collected, theirs included
    /// (`calls::usage`); a fork child's starts from 0.
    pub children_cpu_ns: AtomicU64,
}

/// A process's Linux ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    /// Process id.
    pub pid: u64,
    /// Parent's.
    pub ppid: u64,
    /// Process group.
    pub pgid: u64,
    /// Session.
    pub sid: u64,
}

/// Real and effective user and group ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserIds {
    /// Real user.
    pub uid: u32,
    /// Effective user.
    pub euid: u32,
    /// Real group.
    pub gid: u32,
    /// Effective group.
    pub egid: u32,
}

impl UserIds {
    /// Root's, for a process started without a process server (as the run's program is root).
    pub const ROOT: UserIds = UserIds {
        uid: 0,
        euid: 0,
        gid: 0,
        egid: 0,
    };
}

/// This process's real and effective user and group ids, copied from the process server (which
/// holds them, with the saved and filesystem ones and the groups, and decides every change):
/// fetched at start, inherited by a fork child, and stored anew after each change this process
/// makes (`calls/creds.rs`: nothing else changes them). Atomics, so that the fast calls
/// (`table::fast`: `getuid`… on the upcall stack) read them without a lock, and the auxiliary
/// vector, signals' `si_uid`, `/proc`'s and a pipe's owner read what the last change left.
pub struct Creds {
    uid: AtomicU32,
    euid: AtomicU32,
    gid: AtomicU32,
    egid: AtomicU32,
}

impl Creds {
    /// A copy holding `ids`.
    pub const fn new(ids: UserIds) -> Self {
        Self {
            uid: AtomicU32::new(ids.uid),
            euid: AtomicU32::new(ids.euid),
            gid: AtomicU32::new(ids.gid),
            egid: AtomicU32::new(ids.egid),
        }
    }

    /// The ids now.
    pub fn get(&self) -> UserIds {
        UserIds {
            uid: self.uid(),
            euid: self.euid(),
            gid: self.gid(),
            egid: self.egid(),
        }
    }

    /// The real user id.
    pub fn uid(&self) -> u32 {
        self.uid.load(Ordering::Relaxed)
    }

    /// The effective user id.
    pub fn euid(&self) -> u32 {
        self.euid.load(Ordering::Relaxed)
    }

    /// The real group id.
    pub fn gid(&self) -> u32 {
        self.gid.load(Ordering::Relaxed)
    }

    /// The effective group id.
    pub fn egid(&self) -> u32 {
        self.egid.load(Ordering::Relaxed)
    }

    /// Stores the real and effective ids of `family` the server answered a change with.
    pub fn store(&self, family: Family, real: u32, effective: u32) {
        let (r, e) = match family {
            Family::User => (&self.uid, &self.euid),
            Family::Group => (&self.gid, &self.egid),
        };
        r.store(real, Ordering::Relaxed);
        e.store(effective, Ordering::Relaxed);
    }
}

impl Ids {
    /// The ids of a process started without a process server: init's child.
    pub const FALLBACK: Ids = Ids {
        pid: 2,
        ppid: 1,
        pgid: 2,
        sid: 2,
    };

    /// The caller's ids and user ids from the process server, or [`Ids::FALLBACK`] and
    /// [`UserIds::ROOT`] without one.
    pub fn fetch(procs: Option<&ProcsStart>) -> (Ids, UserIds) {
        let fallback = (Ids::FALLBACK, UserIds::ROOT);
        let Some(procs) = procs else {
            return fallback;
        };
        let mut client = ProcsClient::new(Ppc::new(procs.comm), procs.table);
        let ids = client.ids().and_then(|ids| Ok((ids, client.creds()?)));
        // The server keeps 32-bit ids (Linux's uid_t): the words hold no more.
        let id = |w: u64| w as u32;
        match ids {
            Ok(((pid, ppid, pgid, sid), (uid, euid, gid, egid))) => (
                Ids {
                    pid,
                    ppid,
                    pgid,
                    sid,
                },
                UserIds {
                    uid: id(uid),
                    euid: id(euid),
                    gid: id(gid),
                    egid: id(egid),
                },
            ),
            Err(e) => {
                k42_rt::log!("linux: the process server did not answer ({e}); using fixed ids");
                fallback
            }
        }
    }
}

/// The state: made once at start-up, and made again by a fork child (`fork.rs`), whose copy of
/// its parent's holds the parent's handles. The old one is leaked, never dropped: dropping it
/// would release, in the parent's name, what the parent still holds.
static LINUX: RwLock<Option<&'static Linux>> = RwLock::new(None);

/// The umask a process starts with (Linux's default for init).
const DEFAULT_UMASK: u64 = 0o022;

/// Makes the state (once, at start-up).
pub fn init(
    env: &Env,
    console: XHandle,
    boot: XHandle,
    files: Option<Files>,
    procs: Option<ProcsStart>,
) {
    let (ids, user_ids) = Ids::fetch(procs.as_ref());
    install(Linux {
        console_comm: env.arg0,
        console,
        boot,
        memory: env.memory,
        mem: Mutex::new(Mem::new()),
        fds: Mutex::new(FdTable::with_console()),
        signals: crate::thread_signals::SignalState::new(Signals::default()),
        umask: AtomicU64::new(DEFAULT_UMASK),
        files,
        exe: Mutex::new(alloc::string::String::new()),
        procs,
        ids,
        creds: Creds::new(user_ids),
        random: Mutex::new(k42_linux::random::Random::new()),
        children_cpu_ns: AtomicU64::new(0),
    });
}

/// Makes `linux` the state (at start-up, and in a fork child).
pub fn install(linux: Linux) {
    *LINUX.write() = Some(alloc::boxed::Box::leak(alloc::boxed::Box::new(linux)));
}

/// The state.
///
/// # Panics
///
/// Before [`init`].
pub fn get() -> &'static Linux {
    LINUX
        .read()
        .expect("the personality's state is made at start-up")
}

impl Linux {
    /// The umask.
    pub fn umask(&self) -> u64 {
        self.umask.load(Ordering::Relaxed)
    }

    /// The file server, `EIO` if this process was started without one.
    pub fn files(&self) -> Result<&Files, k42_linux::Errno> {
        self.files.as_ref().ok_or(k42_linux::Errno::EIO)
    }
}

/// Whether another thread holds the state's lock (a fork waits until none does).
pub fn is_locked() -> bool {
    LINUX.reader_count() != 0 || LINUX.writer_count() != 0
}
