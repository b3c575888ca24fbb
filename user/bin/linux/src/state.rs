//! The personality's per-process state (DESIGN §2.6: "local state lives here"), made once at
//! start-up: the handles it works with, the program's memory map and brk (`mem.rs`), the fd
//! table (`fd.rs`), signal dispositions and masks (`calls/signal.rs`), and the ids the process
//! server will own once it exists.
//!
//! Each part has its own lock, held only for the part's own bookkeeping: never across a call to
//! a server or the kernel (a handler copies what it needs out first), so a handler that blocks
//! on a server never holds up another thread's syscall.

use core::sync::atomic::{AtomicU64, Ordering};

use k42_rights::XHandle;
use k42_rt::Env;
use spin::{Mutex, Once};

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
    pub signals: Mutex<Signals>,
    /// `set_tid_address`'s pointer (cleared and futex-woken at thread exit, once threads exist).
    pub clear_child_tid: AtomicU64,
    /// The file mode creation mask.
    pub umask: AtomicU64,
    /// The file server and this process's root and cwd there.
    pub files: Option<Files>,
    /// The program's file, as exec found it (`/proc/self/exe`).
    pub exe: Mutex<alloc::string::String>,
}

/// The Linux ids of this process until the process server hands them out (issue #4 item 4):
/// the run's program is the only Linux process, started by init (pid 1), as on the Linux
/// runner where `/k42/init` is its parent.
pub mod ids {
    /// The process id.
    pub const PID: u64 = 2;
    /// Its parent's (init's).
    pub const PPID: u64 = 1;
    /// Credentials: the run's program runs as root on both OSes.
    pub const UID: u64 = 0;
    /// Its group.
    pub const GID: u64 = 0;
}

static LINUX: Once<Linux> = Once::new();

/// The umask a process starts with (Linux's default for init).
const DEFAULT_UMASK: u64 = 0o022;

/// Makes the state (once, at start-up).
pub fn init(env: &Env, console: XHandle, boot: XHandle, files: Option<Files>) {
    LINUX.call_once(|| Linux {
        console_comm: env.arg0,
        console,
        boot,
        memory: env.memory,
        mem: Mutex::new(Mem::new()),
        fds: Mutex::new(FdTable::with_console()),
        signals: Mutex::new(Signals::default()),
        clear_child_tid: AtomicU64::new(0),
        umask: AtomicU64::new(DEFAULT_UMASK),
        files,
        exe: Mutex::new(alloc::string::String::new()),
    });
}

/// The state.
///
/// # Panics
///
/// Before [`init`].
pub fn get() -> &'static Linux {
    LINUX
        .get()
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
