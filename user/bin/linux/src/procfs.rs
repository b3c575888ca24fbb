//! `/proc`, answered by the personality (issue #4): the program's paths under `/proc` never
//! reach the file server (whose `/proc` is only the empty mount point the initramfs has for
//! Linux). Which node a path names and the listings are `k42_ptree::procpath`'s; the facts of
//! a process come from the process server, which owns them (`crate::procs`: `Procs::pids`,
//! `Procs::facts`, `Procs::tasks`), and are written as Linux writes them by `k42_ptree::procfs`.
//! The system-wide files: `/proc/uptime` from the kernel clock, `/proc/meminfo` from the
//! process server's `sysinfo` figures, the others `crate::procsys`'s; what only this process
//! knows — its descriptors (`/proc/PID/fd`) and its mappings (`/proc/PID/maps`) — is
//! `crate::procself`'s; K42's own `/proc/k42/counters` is `crate::kcounters`.
//!
//! An open file of `/proc` is `Kind::ProcFile` or `Kind::ProcDir` in the fd table
//! (`crate::fd`), holding a [`ProcOpen`]: a file's text is made when it is opened (a snapshot,
//! read with `read`/`pread`/`lseek`), a directory's listing when it is read from its start
//! (so `rewinddir` sees new processes). `calls/file.rs`, `calls/io.rs` and `calls/stat.rs`
//! hand their `/proc` cases here; the rules they follow are Linux 6.1's for procfs: files have
//! size 0, reads never block, an open for writing is for root (or a `comm` file's owner) only,
//! a write renames the process through its own `comm` and fails with `EINVAL` anywhere else,
//! and the name space cannot change (`EPERM`, `EEXIST`, `ENOENT`, `EXDEV`: [`refuse_change`]).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use spin::Mutex;

use k42_linux::raw::general as g;
use k42_linux::stat::{Stat, Timespec};
use k42_linux::{Errno, SysResult, path};
use k42_ptree::procfs::{self, Facts};
use k42_ptree::procpath::{self, Asker, Entry, Listing, MOUNTS_TARGET, Node, Type};
use k42_rights::XHandle;
use k42_rt::clock;

use crate::fd::{Kind, OpenFile};
use crate::state::Linux;
use crate::uaccess::{self, Source};

/// `/proc`'s device number: an anonymous one (major 0) of its own, as Linux gives procfs (the
/// ramfs is 0:1, the console's fallback 0:6).
const PROC_DEV: (u32, u32) = (0, 0x15);
/// Preferred I/O size of `/proc`'s files (Linux's procfs block size).
const PROC_BLKSIZE: u32 = 1024;
/// `AT_FDCWD` as the register holds it (a C int, -100).
const AT_FDCWD: i32 = g::AT_FDCWD;
/// The CPUs' idle time `/proc/uptime` reports: none is measured (the kernel keeps no idle
/// accounting), so it says 0.
const IDLE_NS: u64 = 0;
/// The size `stat` gives a descriptor's link (Linux's `proc_fd_instantiate` sets 64).
const FD_LINK_SIZE: u64 = 64;

/// An open file or directory of `/proc` (module comment).
#[derive(Debug)]
pub struct ProcOpen {
    /// The node it is.
    pub node: Node,
    /// A file's text, made at open.
    text: Vec<u8>,
    /// What `fstat` says of it, as at open.
    stat: Stat,
    /// A directory's listing, made when it is read from its start.
    listing: Mutex<Option<Listing>>,
}

impl ProcOpen {
    /// `fstat`'s answer.
    pub fn stat(&self) -> Stat {
        self.stat
    }
}

/// Where a path leads, for the callers in `calls/`.
pub enum Found {
    /// Outside `/proc`: the file server's, as given.
    Outside,
    /// A node of `/proc`.
    Node(Node),
    /// Outside `/proc`, at this absolute path instead: where the `exe` link leads, or a
    /// relative path from a directory inside `/proc` that leaves it (the file server cannot
    /// start a walk there: its `/proc` is empty).
    Elsewhere(String),
}

/// Who asks: this process, and whether it may read the kernel's counters.
fn asker(linux: &Linux) -> Asker {
    Asker {
        pid: linux.ids.pid,
        counters: linux.boot != XHandle::NULL,
    }
}

/// Whether `path` certainly ends outside `/proc`, what [`lookup`]'s walk would answer, known
/// without the walk's strings: an absolute ASCII path (its text as the walk sees it) that fits
/// in `PATH_MAX` (else `path::join` refuses it) and has no `proc` anywhere in it — the walk
/// enters `/proc` only through a component of that name, and from `/` it finds none (`..`
/// can take away components, never make one).
fn outside_at_a_glance(path: &[u8]) -> bool {
    const PROC: &[u8] = b"proc";
    path.first() == Some(&b'/')
        && path.is_ascii()
        && path.len() < g::PATH_MAX as usize
        && !path.windows(PROC.len()).any(|w| w == PROC)
}

/// Where `path` (the program's) leads from `dirfd` (`AT_FDCWD`: the working directory);
/// `follow` false leaves a final link unfollowed. An empty path (`AT_EMPTY_PATH`) is `dirfd`
/// itself. A `dirfd` that is no directory is left to the file server's walk (which answers
/// `ENOTDIR`), unless it is one of `/proc`'s files (`ENOTDIR` here).
pub fn lookup(linux: &Linux, dirfd: u64, path: &[u8], follow: bool) -> Result<Found, Errno> {
    if path.is_empty() {
        let file = linux.fds.lock().get(dirfd);
        return Ok(match file.ok().and_then(|f| f.proc.clone()) {
            Some(open) => Found::Node(open.node),
            None => Found::Outside,
        });
    }
    if outside_at_a_glance(path) {
        return Ok(Found::Outside);
    }
    let text = String::from_utf8_lossy(path);
    let base = if text.starts_with('/') {
        String::from("/")
    } else if dirfd as u32 as i32 == AT_FDCWD {
        match linux.files() {
            Ok(files) => files.cwd.lock().1.clone(),
            Err(_) => String::from("/"),
        }
    } else {
        let file = linux.fds.lock().get(dirfd)?;
        match file.kind {
            Kind::Dir | Kind::ProcDir => file.path.clone(),
            Kind::ProcFile => return Err(Errno::ENOTDIR),
            _ => return Ok(Found::Outside),
        }
    };
    let joined = path::join(&base, &text)?;
    let me = asker(linux);
    match procpath::walk(&joined, me, follow) {
        Some(Ok(Node::Of(pid, Entry::Exe))) if follow => {
            exe_target(linux, pid).map(Found::Elsewhere)
        }
        Some(Ok(Node::Fd(pid, fd))) if follow => fd_followed(linux, me, pid, fd),
        // The counters' target is text, not a path: following it finds nothing.
        Some(Ok(Node::Counters)) if follow => Err(Errno::ENOENT),
        Some(found) => found.map(Found::Node),
        None if procpath::walk(&base, me, true).is_some() => {
            path::resolve("/", &joined).map(Found::Elsewhere)
        }
        None => Ok(Found::Outside),
    }
}

/// The `exe` link of process `pid`: this process's own program file; another's is not shown,
/// as Linux answers a reader without ptrace access (`EACCES`).
fn exe_target(linux: &Linux, pid: u64) -> Result<String, Errno> {
    facts_of(linux, Node::Pid(pid))?;
    if pid != linux.ids.pid {
        return Err(Errno::EACCES);
    }
    Ok(linux.exe.lock().clone())
}

/// Where descriptor `fd`'s link leads when followed: the node of `/proc` or the path its file
/// was opened by. What has no path (a pipe: `pipe:[N]`) is not reopened through the link yet
/// (`ENXIO`, which Linux answers only for a socket).
fn fd_followed(linux: &Linux, me: Asker, pid: u64, fd: u64) -> Result<Found, Errno> {
    let target = crate::procself::fd_target(linux, pid, fd)?;
    if !target.starts_with('/') {
        return Err(Errno::ENXIO);
    }
    match procpath::walk(&target, me, true) {
        Some(found) => found.map(Found::Node),
        None => Ok(Found::Elsewhere(target)),
    }
}

/// The facts behind `node` if it is a process's: `ENOENT` when there is no such process (the
/// process server's `ESRCH`), as Linux's lookup of a gone pid answers, or no such thread or
/// open descriptor of it (`EACCES` for another process's descriptor: `crate::procself`).
fn facts_of(linux: &Linux, node: Node) -> Result<Option<Facts>, Errno> {
    let Some(pid) = node.pid() else {
        return Ok(None);
    };
    let facts = match crate::procs::facts(linux, pid) {
        Ok(facts) => facts,
        Err(Errno::ESRCH) => return Err(Errno::ENOENT),
        Err(e) => return Err(e),
    };
    if let Node::Fd(pid, fd) = node {
        crate::procself::fd_target(linux, pid, fd)?;
    }
    if let Some(tid) = node.tid() {
        let tasks = crate::procs::tasks(linux, pid).map_err(|_| Errno::ENOENT)?;
        if !tasks.contains(&tid) {
            return Err(Errno::ENOENT);
        }
    }
    Ok(Some(facts))
}

/// `/proc`'s directory `dir` as listed now: every process's pid for `/proc` itself, the open
/// descriptors for `/proc/PID/fd`, the threads for `/proc/PID/task`.
fn listing(linux: &Linux, dir: Node) -> Result<Listing, Errno> {
    let ids = match dir {
        Node::Root => crate::procs::pids(linux)?,
        Node::Of(pid, Entry::Fd) => crate::procself::fds(linux, pid)?,
        Node::Of(pid, Entry::Task) => crate::procs::tasks(linux, pid)?,
        _ => Vec::new(),
    };
    Listing::of(dir, &ids, asker(linux))
}

/// What `stat` says of `node` (whose process, if any, has `facts`): owned by the process's
/// effective user (Linux's `task_dump_owner`), times now, size 0.
fn stat_of(linux: &Linux, node: Node, facts: Option<&Facts>) -> Result<Stat, Errno> {
    let (uid, gid) = facts.map_or((0, 0), |f| (f.euid as u32, f.egid as u32));
    let nlink = match node {
        // Another's descriptors cannot be counted; they are not directories anyway.
        Node::Of(_, Entry::Fd) => 2,
        _ if node.kind() == Type::Dir => listing(linux, node)?.dirs(),
        _ => 1,
    };
    let (mode, size) = match node {
        Node::Fd(pid, fd) => (
            g::S_IFLNK | crate::procself::fd_perm(linux, pid, fd)?,
            FD_LINK_SIZE,
        ),
        Node::MountsLink => (node.mode(), MOUNTS_TARGET.len() as u64),
        _ => (node.mode(), 0),
    };
    let t = Timespec::from_ns(clock::wall_ns());
    Ok(Stat {
        dev: PROC_DEV,
        ino: node.ino(),
        nlink,
        mode,
        uid,
        gid,
        rdev: (0, 0),
        size,
        blksize: PROC_BLKSIZE,
        blocks: 0,
        atime: t,
        mtime: t,
        ctime: t,
    })
}

/// `stat`/`lstat` of `node`.
pub fn stat(linux: &Linux, node: Node) -> Result<Stat, Errno> {
    let facts = facts_of(linux, node)?;
    stat_of(linux, node, facts.as_ref())
}

/// Whether the process with `euid` may write `node` (whose process has `facts`): root, or the
/// owner of a file with its owner's write bit (`comm`).
fn may_write(euid: u64, node: Node, facts: Option<&Facts>) -> bool {
    let owner = facts.map_or(0, |f| f.euid);
    euid == 0 || (euid == owner && node.perm() & g::S_IWUSR != 0)
}

/// A file's text now.
fn text(linux: &Linux, node: Node, facts: Option<&Facts>) -> Result<Vec<u8>, Errno> {
    if let Some(made) = crate::procsys::text(linux, node) {
        return made;
    }
    Ok(match (node, facts) {
        (Node::Uptime, _) => procfs::uptime_text(clock::now_ns(), IDLE_NS).into_bytes(),
        (Node::Meminfo, _) => {
            let (total, free) = crate::procs::memory(linux)?;
            procfs::meminfo_text(total, free).into_bytes()
        }
        (Node::Of(_, Entry::Stat), Some(f)) => f.stat(),
        (Node::Of(pid, Entry::Status), Some(f)) => f.status(&crate::procs::groups(linux, pid)?),
        (Node::Of(_, Entry::Cmdline), Some(f)) => f.cmdline.clone(),
        (Node::Of(_, Entry::Comm), Some(f)) => f.comm_file(),
        (Node::Of(pid, Entry::Maps), _) => crate::procself::maps_text(linux, pid)?,
        (Node::OfThread(_, tid, Entry::Stat), Some(f)) => f.task_stat(tid),
        (Node::OfThread(pid, tid, Entry::Status), Some(f)) => {
            f.task_status(tid, &crate::procs::groups(linux, pid)?)
        }
        (Node::OfThread(_, _, Entry::Cmdline), Some(f)) => f.cmdline.clone(),
        (Node::OfThread(_, _, Entry::Comm), Some(f)) => f.comm_file(),
        _ => Vec::new(),
    })
}

/// `open` of `node` with `flags`: a snapshot of a file, or a directory to list (its path, for
/// `fchdir`, is the node's own, `self` resolved). Linux's answers: `EEXIST` under `O_CREAT|O_EXCL`, `EISDIR` for a
/// directory opened for writing, `ENOTDIR` for a file under `O_DIRECTORY`, `ELOOP` for a final
/// link under `O_NOFOLLOW`, `EACCES` for writing what the process may not write.
pub fn open(linux: &Linux, node: Node, flags: u32) -> SysResult {
    let facts = facts_of(linux, node)?;
    if flags & (g::O_CREAT | g::O_EXCL) == g::O_CREAT | g::O_EXCL {
        return Err(Errno::EEXIST);
    }
    let o_path = flags & g::O_PATH != 0;
    let writing = flags & g::O_ACCMODE != g::O_RDONLY && !o_path;
    if let Node::Of(pid, Entry::Fd) = node {
        crate::procself::own(linux, pid)?;
    }
    let kind = match node.kind() {
        Type::Dir if writing => return Err(Errno::EISDIR),
        Type::Dir => Kind::ProcDir,
        Type::Link if !o_path => return Err(Errno::ELOOP),
        _ if flags & g::O_DIRECTORY != 0 => return Err(Errno::ENOTDIR),
        _ if writing && !may_write(linux.creds.euid().into(), node, facts.as_ref()) => {
            return Err(Errno::EACCES);
        }
        _ => Kind::ProcFile,
    };
    let text = match (node.kind(), o_path) {
        (Type::File, false) => text(linux, node, facts.as_ref())?,
        _ => Vec::new(),
    };
    let open = ProcOpen {
        node,
        text,
        stat: stat_of(linux, node, facts.as_ref())?,
        listing: Mutex::new(None),
    };
    let keep = flags & !(g::O_CREAT | g::O_EXCL | g::O_TRUNC | g::O_CLOEXEC);
    let file = OpenFile::procfs(kind, keep, Arc::new(open), node.path());
    linux.fds.lock().install(file, flags & g::O_CLOEXEC != 0)
}

/// The open `/proc` file `file`'s state (`EBADF` for any other).
fn open_of(file: &OpenFile) -> Result<&ProcOpen, Errno> {
    file.proc.as_deref().ok_or(Errno::EBADF)
}

/// `read`/`pread64` of an open `/proc` file: its text from the offset (or `at`).
pub fn read(linux: &Linux, file: &OpenFile, addr: u64, len: u64, at: Option<u64>) -> SysResult {
    let open = open_of(file)?;
    if file.flags() & g::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    if open.node.kind() == Type::Dir {
        return Err(Errno::EISDIR);
    }
    uaccess::end(addr, len)?;
    let start = at.unwrap_or_else(|| *file.offset.lock());
    let from = usize::try_from(start)
        .unwrap_or(usize::MAX)
        .min(open.text.len());
    let n = usize::try_from(len)
        .unwrap_or(usize::MAX)
        .min(open.text.len() - from);
    uaccess::write(linux, addr, &open.text[from..from + n])?;
    if at.is_none() {
        *file.offset.lock() = (from + n) as u64;
    }
    Ok(n as u64)
}

/// `write` to an open `/proc` file: only this process's own `comm` takes one (Linux's
/// `comm_write`: the first [`procfs::COMM_MAX`] bytes, as they are, become its name, and the
/// whole count is reported written); every other file, another process's `comm` too, is
/// `EINVAL`.
pub fn write(linux: &Linux, file: &OpenFile, src: Source, len: u64) -> SysResult {
    let open = open_of(file)?;
    match open.node {
        // The first thread's `comm` is the process's; another thread's name is not kept
        // (`calls/procfs.rs`).
        Node::Of(pid, Entry::Comm) | Node::OfThread(pid, _, Entry::Comm)
            if pid == linux.ids.pid && open.node.tid().is_none_or(|tid| tid == pid) =>
        {
            let n = usize::try_from(len).map_or(procfs::COMM_MAX, |l| l.min(procfs::COMM_MAX));
            let name = src.read(linux, 0, n)?;
            crate::procs::set_comm(linux, &name)?;
            Ok(len)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// `lseek` on an open `/proc` file: its files are Linux's `seq_file`s (`SEEK_SET` and
/// `SEEK_CUR` only), but for `cmdline` and the directories, which seek as a file of size 0.
pub fn lseek(file: &OpenFile, offset: i64, whence: u32) -> SysResult {
    let open = open_of(file)?;
    let generic = matches!(
        (open.node.kind(), open.node),
        (Type::Dir, _)
            | (_, Node::Of(_, Entry::Cmdline))
            | (_, Node::OfThread(_, _, Entry::Cmdline))
    );
    if !generic && whence != g::SEEK_SET && whence != g::SEEK_CUR {
        return Err(Errno::EINVAL);
    }
    let mut pos = file.offset.lock();
    let new = k42_linux::seek::position(*pos, 0, offset, whence)?;
    *pos = new;
    Ok(new)
}

/// `getdents64` on an open `/proc` directory: the listing, made anew when read from its start
/// (`ENOENT` once its process is gone, as Linux's).
pub fn getdents(linux: &Linux, file: &OpenFile, addr: u64, len: u64) -> SysResult {
    let open = open_of(file)?;
    if open.node.kind() != Type::Dir {
        return Err(Errno::ENOTDIR);
    }
    let cookie = *file.offset.lock();
    let fresh = cookie == 0 || open.listing.lock().is_none();
    if fresh {
        facts_of(linux, open.node)?;
        let made = listing(linux, open.node)?;
        *open.listing.lock() = Some(made);
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let (bytes, next) = match open.listing.lock().as_ref() {
        Some(listing) => listing.read(cookie, len)?,
        None => return Err(Errno::EIO),
    };
    uaccess::write(linux, addr, &bytes)?;
    *file.offset.lock() = next;
    Ok(bytes.len() as u64)
}

/// `readlink` of `node`: `self`'s pid, `mounts`' `self/mounts`, this process's own `exe` and
/// descriptors, the kernel's counters; `EINVAL` for what is not a link.
pub fn readlink(linux: &Linux, node: Node) -> Result<String, Errno> {
    match node {
        Node::SelfLink => Ok(alloc::format!("{}", linux.ids.pid)),
        Node::MountsLink => Ok(String::from(MOUNTS_TARGET)),
        Node::Fd(pid, fd) => crate::procself::fd_target(linux, pid, fd),
        Node::Of(pid, Entry::Exe) => exe_target(linux, pid),
        Node::Counters => crate::kcounters::text(linux).ok_or(Errno::ENOENT),
        other => {
            facts_of(linux, other)?;
            Err(Errno::EINVAL)
        }
    }
}

/// `access`/`faccessat` of `node` for the real user (`AT_EACCESS`: the effective one): read
/// and search as the permission bits say, write for root (or the owner of `comm`), execute
/// never for a file.
pub fn access(linux: &Linux, node: Node, mode: u64, flags: u32) -> SysResult {
    let facts = facts_of(linux, node)?;
    let user = u64::from(if flags & g::AT_EACCESS != 0 {
        linux.creds.euid()
    } else {
        linux.creds.uid()
    });
    let mode = mode as u32;
    let denied = (mode & g::W_OK != 0 && !may_write(user, node, facts.as_ref()))
        || (mode & g::X_OK != 0 && node.kind() != Type::Dir);
    if denied {
        return Err(Errno::EACCES);
    }
    Ok(0)
}

/// A change of the name space `refuse_change` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Making a name (`mkdir`, `mknod`, `symlink`, `link`'s new name).
    Create,
    /// Removing a file (`unlink`).
    Unlink,
    /// Removing a directory (`rmdir`).
    Rmdir,
    /// Changing the permission bits (`chmod`).
    Chmod,
    /// Renaming (either name; the other is in `/proc` too).
    Rename,
    /// Changing the owner or the times (`chown`, `utimensat`): Linux's procfs takes these from
    /// root and keeps nothing of them.
    Attributes,
    /// Changing the size (`truncate`): taken from whoever may write, and dropped.
    Truncate,
}

/// What a call changing `/proc` at `node` (found by a walk; one that found nothing has
/// answered already: procfs makes no names, so that is `ENOENT`) gets: creating finds the name
/// taken (`EEXIST`), removing and renaming are `EPERM` (`EISDIR`/`ENOTDIR` for the wrong
/// kind), `chmod` is `EPERM`; owner and times are accepted from root and dropped (`EPERM` for
/// others), and so is a size from whoever may write (`EACCES` for others, `EISDIR` for a
/// directory).
pub fn refuse_change(linux: &Linux, node: Node, change: Change) -> SysResult {
    let facts = facts_of(linux, node)?;
    let dir = node.kind() == Type::Dir;
    Err(match change {
        Change::Create => Errno::EEXIST,
        Change::Unlink | Change::Truncate if dir => Errno::EISDIR,
        Change::Rmdir if !dir => Errno::ENOTDIR,
        Change::Unlink | Change::Rmdir | Change::Chmod | Change::Rename => Errno::EPERM,
        Change::Attributes if linux.creds.euid() == 0 => return Ok(0),
        Change::Attributes => Errno::EPERM,
        Change::Truncate if may_write(linux.creds.euid().into(), node, facts.as_ref()) => {
            return Ok(0);
        }
        Change::Truncate => Errno::EACCES,
    })
}

/// The node of an open `/proc` file or directory `fd`, if it is one.
pub fn node_of_fd(linux: &Linux, fd: u64) -> Option<Node> {
    let file = linux.fds.lock().get(fd).ok()?;
    file.proc.as_ref().map(|open| open.node)
}
