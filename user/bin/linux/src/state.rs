//! The personality's per-process state (DESIGN §2.6: "local state lives here"), made once at
//! start-up: the handles it works with, the program's memory map and brk (`mem.rs`), the fd
//! table (`fd.rs`), signal dispositions and masks (`calls/signal.rs`), and a copy of the ids
//! the process server keeps (`Ids`: those that cannot change are answered from it).
//!
//! Each part has its own lock, held only for the part's own bookkeeping: never across a call to
//! a server or the kernel (a handler copies what it needs out first), so a handler that blocks
//! on a server never holds up another thread's syscall.

use core::sync::atomic::{AtomicU64, Ordering};

use k42_rights::XHandle;
use k42_rt::Env;
use spin::{Mutex, RwLock};

use k42_ifaces::procs::ProcsClient;
use k42_ifaces::start::ProcsStart;
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
    /// This process's ids as the process server gave them at start (they change only through
    /// calls that go to it: setsid, setpgid, setuid… with issue #5).
    pub ids: Ids,
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
    /// Real and effective user.
    pub uid: u64,
    /// Effective user.
    pub euid: u64,
    /// Real group.
    pub gid: u64,
    /// Effective group.
    pub egid: u64,
}

impl Ids {
    /// The ids of a process started without a process server: init's child, root.
    pub const FALLBACK: Ids = Ids {
        pid: 2,
        ppid: 1,
        pgid: 2,
        sid: 2,
        uid: 0,
        euid: 0,
        gid: 0,
        egid: 0,
    };

    /// The caller's ids from the process server, or [`Ids::FALLBACK`] without one.
    pub fn fetch(procs: Option<&ProcsStart>) -> Ids {
        let Some(procs) = procs else {
            return Ids::FALLBACK;
        };
        let mut client = ProcsClient::new(Ppc::new(procs.comm), procs.table);
        let ids = client.ids().and_then(|ids| Ok((ids, client.creds()?)));
        match ids {
            Ok(((pid, ppid, pgid, sid), (uid, euid, gid, egid))) => Ids {
                pid,
                ppid,
                pgid,
                sid,
                uid,
                euid,
                gid,
                egid,
            },
            Err(e) => {
                k42_rt::log!("linux: the process server did not answer ({e}); using fixed ids");
                Ids::FALLBACK
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
    let ids = Ids::fetch(procs.as_ref());
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
