//! The fd table and open-file descriptions (DESIGN §2.6: personality-local state): `close`,
//! `close_range`, `dup`, `dup2`, `dup3` and `fcntl` are served here without any server. A descriptor names an
//! [`OpenFile`] (shared by `dup`s, as Linux shares the open file description: status flags and
//! offset) plus its own close-on-exec flag. An open file is the console, one of the memory
//! devices the personality implements itself, a file or directory of the file server (its
//! node, `crate::files`), a pipe end of the pipe server (`calls/pipe.rs`): an anonymous
//! pipe's, or a FIFO's, which also holds the FIFO's node at the file server
//! ([`OpenFile::fifo`]); or a file or directory of `/proc`, which the personality answers
//! itself (`crate::procfs`: [`OpenFile::proc`]).
//!
//! An open file description that goes away may release a server node (a PPC): the table's lock
//! is always let go first, so no call is made under it.
//!
//! The table also holds the process's resource limits ([`FdTable::limits`], `calls/rlimit.rs`):
//! the soft `RLIMIT_NOFILE` bounds the descriptors given out, as Linux's `alloc_fd`,
//! `ksys_dup3` and `f_dupfd` do (`EMFILE`, `EBADF`, `EINVAL`), and the table is what a fork
//! copies and an exec keeps, which is what the limits need too.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use spin::Mutex;

use k42_linux::raw::general as g;
use k42_linux::rlimit::{Limits, NR_OPEN};
use k42_linux::{Errno, SysResult};

use crate::calls::epoll::{EPOLL_NAME, Interest};
use crate::calls::eventfd::{Counter, EVENTFD_NAME};
use crate::calls::signalfd::{SIGNALFD_NAME, SignalFd};
use crate::calls::timerfd::{TIMERFD_NAME, TimerFd};
use crate::files::Node;
use crate::procfs::ProcOpen;
use crate::state::Linux;
use crate::table::Args;

/// Most descriptors a `select` set names (`FD_SETSIZE`, the C libraries' `fd_set`; Linux's
/// default `RLIMIT_NOFILE` soft limit too).
pub const MAX_FDS: usize = 1024;

/// `close_range`'s flags (`include/uapi/linux/close_range.h`, which linux-raw-sys does not
/// carry): unshare the table first; mark close-on-exec instead of closing.
const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

/// What an open file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The console: the console server's object (`/dev/console`, `/dev/tty`, `/dev/ttyS0`).
    Console,
    /// `/dev/null`: reads end at once, writes vanish.
    Null,
    /// `/dev/zero`: reads zeros, writes vanish.
    Zero,
    /// `/dev/full`: reads zeros, writes fail with `ENOSPC`.
    Full,
    /// `/dev/random`, `/dev/urandom`: reads random bytes, writes vanish.
    Random,
    /// A regular file (or socket node, until those exist) of the file server; also a FIFO
    /// opened `O_RDWR` (`OpenFile::fifo` says so), whose reads and writes `calls/file.rs`
    /// hands to `calls/pipe.rs`: the read and write paths of `calls/io.rs` send a pipe kind
    /// only one way.
    File,
    /// A directory of the file server.
    Dir,
    /// The read end of a pipe: the pipe server's object (`calls/pipe.rs`); also a FIFO opened
    /// `O_RDONLY`.
    PipeRead,
    /// The write end of a pipe; also a FIFO opened `O_WRONLY`.
    PipeWrite,
    /// A file of `/proc` (or one of its links opened `O_PATH`): its text made at open
    /// (`crate::procfs`, [`OpenFile::proc`]).
    ProcFile,
    /// A directory of `/proc`, listed by the personality (`crate::procfs`).
    ProcDir,
    /// An epoll instance: its interest list is the personality's ([`OpenFile::epoll`],
    /// `calls/epoll.rs`).
    Epoll,
    /// An eventfd: its counter is the personality's ([`OpenFile::counter`],
    /// `calls/eventfd.rs`).
    EventFd,
    /// A timerfd: its timer is the personality's ([`OpenFile::timer`], `calls/timerfd.rs`).
    TimerFd,
    /// A signalfd: its mask ([`OpenFile::signalfd`], `calls/signalfd.rs`) over the signal
    /// state the personality keeps.
    SignalFd,
}

/// An open file description.
#[derive(Debug)]
pub struct OpenFile {
    /// What it is.
    pub kind: Kind,
    /// Status flags (`O_APPEND`, `O_NONBLOCK`, …) and the access mode.
    pub flags: AtomicU32,
    /// The file offset (a directory's: the listing's cookie), while the description is this
    /// process's alone.
    pub offset: Mutex<u64>,
    /// Whether the file server keeps the offset instead (`Fs::seek`): set when a fork shares
    /// the description with a child, so both move one offset, as on Linux.
    pub server_offset: AtomicBool,
    /// The file server's node, for files, directories and device nodes opened by path; the
    /// pipe server's end, for pipes and FIFOs.
    pub node: Option<Arc<Node>>,
    /// A FIFO's own node at the file server (its metadata, `fchmod`…), beside its pipe end in
    /// `node`.
    pub fifo: Option<Arc<Node>>,
    /// The absolute path it was opened by (for `fchdir`).
    pub path: String,
    /// A `/proc` file's or directory's state (`Kind::ProcFile`, `Kind::ProcDir`).
    pub proc: Option<Arc<ProcOpen>>,
    /// An epoll instance's interest list (`Kind::Epoll`).
    pub epoll: Option<Arc<Interest>>,
    /// An eventfd's counter (`Kind::EventFd`).
    pub counter: Option<Arc<Counter>>,
    /// A timerfd's timer (`Kind::TimerFd`).
    pub timer: Option<Arc<TimerFd>>,
    /// A signalfd's mask (`Kind::SignalFd`).
    pub signalfd: Option<Arc<SignalFd>>,
    /// Which open file description this is, among the process's: a watch of an epoll
    /// instance names one by its descriptor and this (the descriptor may be reused), and a fork
    /// child's copy keeps it.
    pub serial: u64,
}

/// The serial number the next open file description gets ([`OpenFile::serial`]).
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

impl OpenFile {
    /// A new open file description.
    pub fn new(kind: Kind, flags: u32, node: Option<Arc<Node>>, path: String) -> Arc<Self> {
        Self::with_fifo(kind, flags, node, None, path)
    }

    /// A FIFO's open file description: its pipe end `end` and its node `inode` at the file
    /// server.
    pub fn fifo(
        kind: Kind,
        flags: u32,
        end: Arc<Node>,
        inode: Arc<Node>,
        path: String,
    ) -> Arc<Self> {
        Self::with_fifo(kind, flags, Some(end), Some(inode), path)
    }

    /// An epoll instance (`calls/epoll.rs`), with an empty interest list.
    pub fn epoll(flags: u32) -> Arc<Self> {
        Arc::new(Self {
            epoll: Some(Arc::new(Interest::default())),
            ..Self::plain(Kind::Epoll, flags, None, None, String::from(EPOLL_NAME))
        })
    }

    /// An eventfd (`calls/eventfd.rs`) with its counter.
    pub fn eventfd(flags: u32, counter: Counter) -> Arc<Self> {
        Arc::new(Self {
            counter: Some(Arc::new(counter)),
            ..Self::plain(Kind::EventFd, flags, None, None, String::from(EVENTFD_NAME))
        })
    }

    /// A timerfd (`calls/timerfd.rs`) with its timer.
    pub fn timerfd(flags: u32, timer: TimerFd) -> Arc<Self> {
        Arc::new(Self {
            timer: Some(Arc::new(timer)),
            ..Self::plain(Kind::TimerFd, flags, None, None, String::from(TIMERFD_NAME))
        })
    }

    /// A signalfd (`calls/signalfd.rs`).
    pub fn signalfd(flags: u32, signalfd: SignalFd) -> Arc<Self> {
        Arc::new(Self {
            signalfd: Some(Arc::new(signalfd)),
            ..Self::plain(
                Kind::SignalFd,
                flags,
                None,
                None,
                String::from(SIGNALFD_NAME),
            )
        })
    }

    /// An open file or directory of `/proc` (`crate::procfs`).
    pub fn procfs(kind: Kind, flags: u32, open: Arc<ProcOpen>, path: String) -> Arc<Self> {
        Arc::new(Self {
            proc: Some(open),
            ..Self::plain(kind, flags, None, None, path)
        })
    }

    fn with_fifo(
        kind: Kind,
        flags: u32,
        node: Option<Arc<Node>>,
        fifo: Option<Arc<Node>>,
        path: String,
    ) -> Arc<Self> {
        Arc::new(Self::plain(kind, flags, node, fifo, path))
    }

    fn plain(
        kind: Kind,
        flags: u32,
        node: Option<Arc<Node>>,
        fifo: Option<Arc<Node>>,
        path: String,
    ) -> Self {
        Self {
            kind,
            flags: AtomicU32::new(flags),
            offset: Mutex::new(0),
            server_offset: AtomicBool::new(false),
            node,
            fifo,
            path,
            proc: None,
            epoll: None,
            counter: None,
            timer: None,
            signalfd: None,
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// This description as a fork child re-makes it (`FdTable::for_fork_child`): the same
    /// everything, with the child's handles on the nodes; `None` if a node has none.
    fn for_fork_child(&self, node_for: impl Fn(&Node) -> Option<Arc<Node>>) -> Option<Arc<Self>> {
        let node = match &self.node {
            Some(node) => Some(node_for(node)?),
            None => None,
        };
        let fifo = match &self.fifo {
            Some(inode) => Some(node_for(inode)?),
            None => None,
        };
        Some(Arc::new(Self {
            kind: self.kind,
            flags: AtomicU32::new(self.flags()),
            offset: Mutex::new(*self.offset.lock()),
            server_offset: AtomicBool::new(self.server_offset.load(Ordering::Relaxed)),
            node,
            fifo,
            path: self.path.clone(),
            proc: self.proc.clone(),
            // The child's copy: a process's memory is its own after a fork, so the interest
            // list is too (a departure: Linux's parent and child share the instance).
            epoll: self.epoll.as_ref().map(|list| Arc::new(list.copy())),
            // The same for an eventfd's counter (a departure too: `calls/eventfd.rs`).
            counter: self.counter.as_ref().map(|c| Arc::new(c.copy())),
            timer: self.timer.as_ref().map(|t| Arc::new(t.copy())),
            // Its own mask, which reads the child's own signals (Linux shares the mask).
            signalfd: self.signalfd.as_ref().map(|s| Arc::new(s.copy())),
            serial: self.serial,
        }))
    }

    /// Whether a thread holds the lock of the state the personality keeps for this open file
    /// itself (an epoll instance's list, an eventfd's counter, a timerfd's timer, a signalfd's
    /// waiters): a fork waits until none does, since the child's copy of a held lock would
    /// stay held ([`quiet`]).
    fn own_state_locked(&self) -> bool {
        self.epoll.as_ref().is_some_and(|e| e.is_locked())
            || self.counter.as_ref().is_some_and(|c| c.is_locked())
            || self.timer.as_ref().is_some_and(|t| t.is_locked())
            || self.signalfd.as_ref().is_some_and(|s| s.is_locked())
    }

    /// The file server's node for this open file's metadata: a FIFO's own node, else `node`.
    pub fn fs_node(&self) -> Option<Arc<Node>> {
        self.fifo.clone().or_else(|| self.node.clone())
    }

    /// The status flags and access mode.
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Whether it was opened for reading (an `O_PATH` open is neither for reading nor for
    /// writing, whatever its access mode says: Linux gives it no `FMODE_READ`).
    pub fn readable(&self) -> bool {
        let flags = self.flags.load(Ordering::Relaxed);
        let mode = flags & g::O_ACCMODE;
        flags & g::O_PATH == 0 && (mode == g::O_RDONLY || mode == g::O_RDWR)
    }

    /// Whether it was opened for writing.
    pub fn writable(&self) -> bool {
        let flags = self.flags.load(Ordering::Relaxed);
        let mode = flags & g::O_ACCMODE;
        flags & g::O_PATH == 0 && (mode == g::O_WRONLY || mode == g::O_RDWR)
    }
}

/// One descriptor.
#[derive(Clone, Debug)]
struct Slot {
    file: Arc<OpenFile>,
    cloexec: bool,
}

/// The fd table.
#[derive(Debug, Default)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
    /// The process's resource limits (module comment).
    pub limits: Limits,
}

impl FdTable {
    /// stdin, stdout and stderr on the console (one open file description, read-write, as a
    /// terminal's three descriptors are after a login).
    pub fn with_console() -> Self {
        let console = OpenFile::new(Kind::Console, g::O_RDWR, None, String::from("/dev/console"));
        let slot = Some(Slot {
            file: console,
            cloexec: false,
        });
        Self {
            slots: alloc::vec![slot.clone(), slot.clone(), slot],
            limits: Limits::default(),
        }
    }

    /// The open file `fd` names.
    pub fn get(&self, fd: u64) -> Result<Arc<OpenFile>, Errno> {
        self.slot(fd).map(|s| s.file.clone())
    }

    fn slot(&self, fd: u64) -> Result<&Slot, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(Option::as_ref)
            .ok_or(Errno::EBADF)
    }

    /// The open descriptors, in increasing order (`/proc/self/fd`'s listing).
    pub fn open_fds(&self) -> Vec<u64> {
        (0..self.slots.len() as u64)
            .filter(|&fd| self.slot(fd).is_ok())
            .collect()
    }

    /// Installs `file` at the lowest free descriptor.
    pub fn install(&mut self, file: Arc<OpenFile>, cloexec: bool) -> Result<u64, Errno> {
        self.install_from(0, Slot { file, cloexec })
    }

    /// One more than the highest descriptor the process may have: the soft `RLIMIT_NOFILE`
    /// (at most `NR_OPEN`, which the limit's rules keep it under).
    pub fn bound(&self) -> usize {
        usize::try_from(self.limits.nofile().min(NR_OPEN)).unwrap_or(usize::MAX)
    }

    /// Installs `slot` at the lowest free descriptor at or above `min`; `EMFILE` when none is
    /// under [`FdTable::bound`].
    fn install_from(&mut self, min: usize, slot: Slot) -> Result<u64, Errno> {
        let bound = self.bound();
        let free = (min..bound).find(|&i| self.slots.get(i).is_none_or(Option::is_none));
        let fd = free.ok_or(Errno::EMFILE)?;
        // The slot was free: nothing is replaced.
        drop(self.place(fd, slot));
        Ok(fd as u64)
    }

    /// Puts `slot` at `fd`; returns what was there, for the caller to drop once the table's
    /// lock is let go (module comment).
    #[must_use]
    fn place(&mut self, fd: usize, slot: Slot) -> Option<Slot> {
        if self.slots.len() <= fd {
            self.slots.resize(fd + 1, None);
        }
        self.slots[fd].replace(slot)
    }
}

impl FdTable {
    /// The open regular files whose offset this process still keeps: a fork hands each one's
    /// to the file server first (`OpenFile::server_offset`).
    pub fn private_offsets(&self) -> Vec<Arc<OpenFile>> {
        let mut files: Vec<Arc<OpenFile>> = Vec::new();
        for slot in self.slots.iter().flatten() {
            let f = &slot.file;
            let private = f.kind == Kind::File
                && f.node.is_some()
                && f.fifo.is_none()
                && !f.server_offset.load(Ordering::Relaxed);
            if private && !files.iter().any(|g| Arc::ptr_eq(g, f)) {
                files.push(f.clone());
            }
        }
        files
    }

    /// Every server node the open files hold, once each: what a fork gives the child access to.
    pub fn nodes(&self) -> Vec<Arc<Node>> {
        let mut nodes: Vec<Arc<Node>> = Vec::new();
        for node in self
            .slots
            .iter()
            .flatten()
            .flat_map(|s| s.file.node.iter().chain(s.file.fifo.iter()))
        {
            if !nodes.iter().any(|n| Arc::ptr_eq(n, node)) {
                nodes.push(node.clone());
            }
        }
        nodes
    }

    /// A fork child's table, made in the child from its copy of the parent's: the same
    /// descriptors and flags; each open file description re-made once (descriptors that shared
    /// one still share it) with the child's own handle for its node (`node_for`; `None` leaves
    /// the descriptor out). A regular file's offset is the file server's by then
    /// (`calls::file::share_offsets`), so parent and child move one offset, as on Linux; a
    /// directory's listing cookie is copied.
    pub fn for_fork_child(&self, node_for: impl Fn(&Node) -> Option<Arc<Node>>) -> FdTable {
        let mut made: Vec<(*const OpenFile, Option<Arc<OpenFile>>)> = Vec::new();
        let mut slots = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            let Some(slot) = slot else {
                slots.push(None);
                continue;
            };
            let key = Arc::as_ptr(&slot.file);
            let file = match made.iter().find(|(k, _)| *k == key) {
                Some((_, file)) => file.clone(),
                None => {
                    let file = slot.file.for_fork_child(&node_for);
                    made.push((key, file.clone()));
                    file
                }
            };
            slots.push(file.map(|file| Slot {
                file,
                cloexec: slot.cloexec,
            }));
        }
        FdTable {
            slots,
            limits: self.limits.clone(),
        }
    }

    /// `execve`'s pass over the table: takes out every descriptor marked close-on-exec and
    /// returns their open files, for the caller to drop once the table's lock is let go
    /// (module comment).
    #[must_use]
    pub fn take_close_on_exec(&mut self) -> Vec<Arc<OpenFile>> {
        self.slots
            .iter_mut()
            .filter(|s| s.as_ref().is_some_and(|s| s.cloexec))
            .filter_map(Option::take)
            .map(|s| s.file)
            .collect()
    }
}

/// A descriptor number the program passed, as an index (`EBADF` when it cannot be one: no
/// table is ever longer than `NR_OPEN`).
fn index(fd: u64) -> Result<usize, Errno> {
    // Descriptors are C ints: the upper half of the register is ignored, as Linux does.
    let fd = fd as u32 as i32;
    usize::try_from(fd)
        .ok()
        .filter(|&i| (i as u64) < NR_OPEN)
        .ok_or(Errno::EBADF)
}

/// Whether a fork may copy the process now: no thread holds the fd table's lock or the lock of
/// the state an open file keeps in the personality (`OpenFile::own_state_locked`).
pub fn quiet(linux: &Linux) -> bool {
    let Some(fds) = linux.fds.try_lock() else {
        return false;
    };
    fds.open_fds()
        .into_iter()
        .all(|fd| fds.get(fd).is_ok_and(|f| !f.own_state_locked()))
}

/// Closes every descriptor, as the end of the process does: the table is emptied under its
/// lock and the open files dropped after it is let go (module comment), so each server sees
/// its nodes released — a pipe's other end its end of file — before the process is gone.
pub fn close_all(linux: &Linux) {
    let taken = core::mem::take(&mut linux.fds.lock().slots);
    drop(taken);
}

/// `close(fd)`.
pub fn close(linux: &Linux, args: &Args) -> SysResult {
    let fd = index(args[0])?;
    let taken = linux.fds.lock().slots.get_mut(fd).and_then(Option::take);
    // Dropped here, with the table's lock let go (module comment).
    match taken {
        Some(_) => Ok(0),
        None => Err(Errno::EBADF),
    }
}

/// `close_range(first, last, flags)` (C unsigned ints): closes every open descriptor from
/// `first` to `last`, or with `CLOSE_RANGE_CLOEXEC` marks them close-on-exec instead;
/// `EINVAL` for another flag or `first` past `last`. `CLOSE_RANGE_UNSHARE` changes nothing:
/// the table is this process's alone (threads share it, as `CLONE_FILES` would).
pub fn close_range(linux: &Linux, args: &Args) -> SysResult {
    let (first, last, flags) = (args[0] as u32, args[1] as u32, args[2] as u32);
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let taken: Vec<Slot> = {
        let mut fds = linux.fds.lock();
        let end = fds.slots.len().min(last as usize + 1);
        let range = fds.slots.get_mut(first as usize..end).unwrap_or_default();
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            for slot in range.iter_mut().flatten() {
                slot.cloexec = true;
            }
            Vec::new()
        } else {
            range.iter_mut().filter_map(Option::take).collect()
        }
    };
    // Dropped here, with the table's lock let go (module comment).
    drop(taken);
    Ok(0)
}

/// `dup(oldfd)`.
pub fn dup(linux: &Linux, args: &Args) -> SysResult {
    let mut fds = linux.fds.lock();
    let slot = fds.slot(index(args[0])? as u64)?.clone();
    fds.install_from(
        0,
        Slot {
            cloexec: false,
            ..slot
        },
    )
}

/// `dup2(oldfd, newfd)`: `newfd` when they are equal and `oldfd` is open; `EBADF` for a
/// `newfd` at or past the soft `RLIMIT_NOFILE`.
pub fn dup2(linux: &Linux, args: &Args) -> SysResult {
    let (old, new) = (index(args[0])?, index(args[1])?);
    let mut fds = linux.fds.lock();
    if old != new && new >= fds.bound() {
        return Err(Errno::EBADF);
    }
    let slot = fds.slot(old as u64)?.clone();
    let replaced = (old != new).then(|| {
        fds.place(
            new,
            Slot {
                cloexec: false,
                ..slot
            },
        )
    });
    drop(fds);
    drop(replaced);
    Ok(new as u64)
}

/// `dup3(oldfd, newfd, flags)`: `EINVAL` when they are equal or `flags` has more than
/// `O_CLOEXEC`.
pub fn dup3(linux: &Linux, args: &Args) -> SysResult {
    let (old, new) = (index(args[0])?, index(args[1])?);
    let flags = args[2] as u32;
    if old == new || flags & !g::O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let mut fds = linux.fds.lock();
    if new >= fds.bound() {
        return Err(Errno::EBADF);
    }
    let slot = fds.slot(old as u64)?.clone();
    let replaced = fds.place(
        new,
        Slot {
            cloexec: flags & g::O_CLOEXEC != 0,
            ..slot
        },
    );
    drop(fds);
    drop(replaced);
    Ok(new as u64)
}

/// Status flags `F_SETFL` may change (Linux's `SETFL_MASK`, less the ones that need a file
/// system: `O_DIRECT`, `O_NOATIME`).
const SETFL_MASK: u32 = g::O_APPEND | g::O_NONBLOCK | g::FASYNC;

/// `fcntl(fd, cmd, arg)`: descriptor duplication and flags.
pub fn fcntl(linux: &Linux, args: &Args) -> SysResult {
    let fd = index(args[0])?;
    let cmd = args[1] as u32;
    let arg = args[2];
    let mut fds = linux.fds.lock();
    let slot = fds.slot(fd as u64)?.clone();
    match cmd {
        g::F_DUPFD | g::F_DUPFD_CLOEXEC => {
            // An unsigned int to Linux's `f_dupfd`: a negative int is past any bound.
            let min = usize::try_from(arg as u32)
                .ok()
                .filter(|&m| m < fds.bound())
                .ok_or(Errno::EINVAL)?;
            fds.install_from(
                min,
                Slot {
                    cloexec: cmd == g::F_DUPFD_CLOEXEC,
                    ..slot
                },
            )
        }
        g::F_GETFD => Ok(if slot.cloexec {
            u64::from(g::FD_CLOEXEC)
        } else {
            0
        }),
        g::F_SETFD => {
            // Replaces the slot with itself: the open file stays referenced.
            drop(fds.place(
                fd,
                Slot {
                    cloexec: arg as u32 & g::FD_CLOEXEC != 0,
                    ..slot
                },
            ));
            Ok(0)
        }
        g::F_GETFL => Ok(u64::from(slot.file.flags.load(Ordering::Relaxed))),
        g::F_GETPIPE_SZ if crate::calls::pipe::is_pipe(&slot.file) => {
            // The pipe server answers: not under the table's lock (module comment).
            drop(fds);
            crate::calls::pipe::capacity(&slot.file)
        }
        g::F_SETFL => {
            let file = &slot.file;
            let old = file.flags.load(Ordering::Relaxed);
            let new = (old & !SETFL_MASK) | (arg as u32 & SETFL_MASK);
            file.flags.store(new, Ordering::Relaxed);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
