//! `/proc`'s name space as the Linux personality serves it (`user/bin/linux/src/procfs.rs`):
//! which node a path names ([`walk`]), what each node is (type, permission bits, inode number,
//! [`Node`]), and directory listings in `getdents64`'s records ([`Listing`], encoded by
//! `k42_linux::dirent::encode_dirent64`, the Linux ABI crate's, which the file server's ramfs
//! uses too). The facts behind the files are
//! `crate::procfs`'s.
//!
//! The nodes: `/proc` itself; `/proc/self`, a link to the asker's pid; the system-wide files
//! (`uptime`, `meminfo`, `stat`, `loadavg`, `version`, `cpuinfo`, `filesystems`) and the
//! `mounts` link to `self/mounts`; a directory per process (`/proc/PID`) with `stat`,
//! `status`, `cmdline`, `comm`, `maps`, `mounts`, the `exe` link, the `fd` directory of links
//! named by descriptor and the `task` directory with one directory per thread (its `stat`,
//! `status`, `cmdline` and `comm`); and K42's own `/proc/k42` with the `counters` link of the
//! kernel's event counters (`user/bin/linux/src/kcounters.rs`), which exists only for a process
//! that may read them. Whether a pid, a thread id or a descriptor names anything is for the
//! personality and the process server to say: a walk only checks that a name could be one
//! (decimal, no leading zero, as Linux's `name_to_int`; pids and thread ids not 0).
//!
//! Paths are walked component by component, as Linux's `link_path_walk` does inside `/proc`: a
//! trailing slash, `.` or `..` after a file is `ENOTDIR`, `..` from `/proc` leaves it, and the
//! `self` and `mounts` links are followed except as the last component of a walk that does not
//! follow links.
//! Outside `/proc` the walk is lexical (the file server's symlinks are not consulted).

use alloc::string::String;
use alloc::vec::Vec;

use k42_linux::Errno;
use k42_linux::dirent::{DirEntry, FileType, encode_dirent64};

use crate::tree::Pid;

/// The one directory below `/` this name space serves.
const PROC: &str = "proc";
/// Inode numbers of the fixed nodes (`/proc` is 1, as Linux's `PROC_ROOT_INO`).
const ROOT_INO: u64 = 1;
const SELF_INO: u64 = 2;
const UPTIME_INO: u64 = 3;
const MEMINFO_INO: u64 = 4;
const K42_INO: u64 = 5;
const COUNTERS_INO: u64 = 6;
const STAT_INO: u64 = 7;
const LOADAVG_INO: u64 = 8;
const VERSION_INO: u64 = 9;
const CPUINFO_INO: u64 = 10;
const FILESYSTEMS_INO: u64 = 11;
const MOUNTS_INO: u64 = 12;
/// A process's nodes are numbered from its pid shifted by this many bits, far above the fixed
/// nodes' numbers: its directory, its entries (1 + their index), its descriptors' links (from
/// [`FD_INO_BASE`]); a thread's directory and entries likewise from its thread id, at
/// [`THREAD_INO_BASE`] (so `task/PID` is not `PID` itself).
const PID_INO_SHIFT: u32 = 32;
/// Where a process's descriptor links are numbered from (above its entries).
const FD_INO_BASE: u64 = 1 << 16;
/// Where a thread's directory is numbered from (above every descriptor's link).
const THREAD_INO_BASE: u64 = 1 << 31;

/// Permission bits of a directory (`r-xr-xr-x`).
const DIR_MODE: u32 = 0o555;
/// Of a read-only file (`r--r--r--`).
const READ_ONLY_MODE: u32 = 0o444;
/// Of `comm`, which its own process may write in Linux (`rw-r--r--`).
const COMM_MODE: u32 = 0o644;
/// Of a process's `fd` directory, its owner's alone (`r-x------`).
const FD_DIR_MODE: u32 = 0o500;
/// Of a link (`rwxrwxrwx`).
const LINK_MODE: u32 = 0o777;

/// An entry of a process's directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `stat`.
    Stat,
    /// `status`.
    Status,
    /// `cmdline`.
    Cmdline,
    /// `comm`.
    Comm,
    /// `exe`, a link to the program's file.
    Exe,
    /// `maps`, the address space's mappings.
    Maps,
    /// `mounts`, the process's mounts.
    Mounts,
    /// `fd`, the directory of its descriptors' links.
    Fd,
    /// `task`, the directory of its threads.
    Task,
}

impl Entry {
    /// Every entry, in Linux's order (`tgid_base_stuff`).
    pub const ALL: [Entry; 9] = [
        Entry::Task,
        Entry::Fd,
        Entry::Status,
        Entry::Comm,
        Entry::Cmdline,
        Entry::Stat,
        Entry::Maps,
        Entry::Exe,
        Entry::Mounts,
    ];

    /// The entries of a thread's directory (`/proc/PID/task/TID`), in Linux's order
    /// (`tid_base_stuff`): those that are its process's facts as they are.
    pub const THREAD: [Entry; 4] = [Entry::Status, Entry::Comm, Entry::Cmdline, Entry::Stat];

    /// Its name.
    pub const fn name(self) -> &'static str {
        match self {
            Entry::Stat => "stat",
            Entry::Status => "status",
            Entry::Cmdline => "cmdline",
            Entry::Comm => "comm",
            Entry::Exe => "exe",
            Entry::Maps => "maps",
            Entry::Mounts => "mounts",
            Entry::Fd => "fd",
            Entry::Task => "task",
        }
    }

    fn index(self) -> u64 {
        Entry::ALL.iter().position(|&e| e == self).unwrap_or(0) as u64
    }

    /// What kind of file it is.
    const fn kind(self) -> Type {
        match self {
            Entry::Fd | Entry::Task => Type::Dir,
            Entry::Exe => Type::Link,
            _ => Type::File,
        }
    }
}

/// A node of `/proc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// `/proc`.
    Root,
    /// `/proc/self`.
    SelfLink,
    /// `/proc/uptime`.
    Uptime,
    /// `/proc/meminfo`.
    Meminfo,
    /// `/proc/stat`.
    Stat,
    /// `/proc/loadavg`.
    Loadavg,
    /// `/proc/version`.
    Version,
    /// `/proc/cpuinfo`.
    Cpuinfo,
    /// `/proc/filesystems`.
    Filesystems,
    /// `/proc/mounts`, a link to `self/mounts`.
    MountsLink,
    /// `/proc/k42`.
    K42,
    /// `/proc/k42/counters`.
    Counters,
    /// `/proc/PID`.
    Pid(Pid),
    /// `/proc/PID/ENTRY`.
    Of(Pid, Entry),
    /// `/proc/PID/fd/FD`, a link to what the descriptor names.
    Fd(Pid, u64),
    /// `/proc/PID/task/TID`.
    Thread(Pid, Pid),
    /// `/proc/PID/task/TID/ENTRY` (one of [`Entry::THREAD`]).
    OfThread(Pid, Pid, Entry),
}

/// The fixed nodes of `/proc` itself, in the order its listing gives them.
const FIXED: [Node; 10] = [
    Node::K42,
    Node::Stat,
    Node::MountsLink,
    Node::Uptime,
    Node::Cpuinfo,
    Node::Loadavg,
    Node::Meminfo,
    Node::Version,
    Node::Filesystems,
    Node::SelfLink,
];

/// What kind of file a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// A directory.
    Dir,
    /// A regular file (its content is made when it is opened).
    File,
    /// A symbolic link.
    Link,
}

impl Type {
    /// The `S_IF*` bits.
    pub const fn mode_bits(self) -> u32 {
        self.file_type().mode_bits()
    }

    const fn file_type(self) -> FileType {
        match self {
            Type::Dir => FileType::Directory,
            Type::File => FileType::Regular,
            Type::Link => FileType::Symlink,
        }
    }
}

/// Who walks: the pid `self` names, and whether `/proc/k42/counters` exists for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asker {
    /// The asking process's pid.
    pub pid: Pid,
    /// Whether it may read the kernel's counters.
    pub counters: bool,
}

impl Node {
    /// What kind of file it is.
    pub const fn kind(self) -> Type {
        match self {
            Node::Root | Node::K42 | Node::Pid(_) | Node::Thread(..) => Type::Dir,
            Node::SelfLink | Node::Counters | Node::MountsLink | Node::Fd(..) => Type::Link,
            Node::Of(_, e) | Node::OfThread(_, _, e) => e.kind(),
            _ => Type::File,
        }
    }

    /// Its permission bits (a descriptor's link: as Linux's before the descriptor's mode is
    /// known, which the personality sets).
    pub const fn perm(self) -> u32 {
        match (self.kind(), self) {
            (Type::Dir, Node::Of(_, Entry::Fd)) => FD_DIR_MODE,
            (Type::Dir, _) => DIR_MODE,
            (Type::Link, _) => LINK_MODE,
            (Type::File, Node::Of(_, Entry::Comm) | Node::OfThread(_, _, Entry::Comm)) => COMM_MODE,
            (Type::File, _) => READ_ONLY_MODE,
        }
    }

    /// Its type and permission bits, as `st_mode` holds them.
    pub const fn mode(self) -> u32 {
        self.kind().mode_bits() | self.perm()
    }

    /// Its inode number.
    pub fn ino(self) -> u64 {
        match self {
            Node::Root => ROOT_INO,
            Node::SelfLink => SELF_INO,
            Node::Uptime => UPTIME_INO,
            Node::Meminfo => MEMINFO_INO,
            Node::K42 => K42_INO,
            Node::Counters => COUNTERS_INO,
            Node::Stat => STAT_INO,
            Node::Loadavg => LOADAVG_INO,
            Node::Version => VERSION_INO,
            Node::Cpuinfo => CPUINFO_INO,
            Node::Filesystems => FILESYSTEMS_INO,
            Node::MountsLink => MOUNTS_INO,
            Node::Pid(pid) => pid << PID_INO_SHIFT,
            Node::Of(pid, e) => (pid << PID_INO_SHIFT) + 1 + e.index(),
            Node::Fd(pid, fd) => (pid << PID_INO_SHIFT) + FD_INO_BASE + fd,
            Node::Thread(_, tid) => (tid << PID_INO_SHIFT) + THREAD_INO_BASE,
            Node::OfThread(_, tid, e) => (tid << PID_INO_SHIFT) + THREAD_INO_BASE + 1 + e.index(),
        }
    }

    /// Its absolute path, links not followed (what `getcwd` says in a directory of `/proc`).
    pub fn path(self) -> String {
        match self {
            Node::Root => String::from("/proc"),
            Node::Pid(pid) => alloc::format!("/proc/{pid}"),
            Node::Of(pid, e) => alloc::format!("/proc/{pid}/{}", e.name()),
            Node::Fd(pid, fd) => alloc::format!("/proc/{pid}/fd/{fd}"),
            Node::Thread(pid, tid) => alloc::format!("/proc/{pid}/task/{tid}"),
            Node::OfThread(pid, tid, e) => alloc::format!("/proc/{pid}/task/{tid}/{}", e.name()),
            Node::Counters => String::from("/proc/k42/counters"),
            other => alloc::format!("/proc/{}", name_of(other)),
        }
    }

    /// The process whose node it is, if any: its owner, and whether it exists is the process
    /// server's to say.
    pub const fn pid(self) -> Option<Pid> {
        match self {
            Node::Pid(pid)
            | Node::Of(pid, _)
            | Node::Fd(pid, _)
            | Node::Thread(pid, _)
            | Node::OfThread(pid, _, _) => Some(pid),
            _ => None,
        }
    }

    /// The thread whose node it is, if any (`/proc/PID/task/TID` and its entries).
    pub const fn tid(self) -> Option<Pid> {
        match self {
            Node::Thread(_, tid) | Node::OfThread(_, tid, _) => Some(tid),
            _ => None,
        }
    }

    /// The node `name` names in this directory (`ENOENT` if none, `ENOTDIR` if this is not a
    /// directory).
    fn child(self, name: &str, asker: Asker) -> Result<Node, Errno> {
        let found = match self {
            Node::Root => match FIXED.into_iter().find(|&n| name_of(n) == name) {
                Some(fixed) => Some(fixed),
                None => pid_name(name).map(Node::Pid),
            },
            Node::K42 => (name == "counters" && asker.counters).then_some(Node::Counters),
            Node::Pid(pid) => Entry::ALL
                .into_iter()
                .find(|e| e.name() == name)
                .map(|e| Node::Of(pid, e)),
            Node::Of(pid, Entry::Fd) => fd_name(name).map(|fd| Node::Fd(pid, fd)),
            Node::Of(pid, Entry::Task) => pid_name(name).map(|tid| Node::Thread(pid, tid)),
            Node::Thread(pid, tid) => Entry::THREAD
                .into_iter()
                .find(|e| e.name() == name)
                .map(|e| Node::OfThread(pid, tid, e)),
            _ => return Err(Errno::ENOTDIR),
        };
        found.ok_or(Errno::ENOENT)
    }

    /// The directory it is in; `None` for `/proc` (its parent is `/`, outside).
    const fn parent(self) -> Option<Node> {
        match self {
            Node::Root => None,
            Node::Counters => Some(Node::K42),
            Node::Of(pid, _) => Some(Node::Pid(pid)),
            Node::Fd(pid, _) => Some(Node::Of(pid, Entry::Fd)),
            Node::Thread(pid, _) => Some(Node::Of(pid, Entry::Task)),
            Node::OfThread(pid, tid, _) => Some(Node::Thread(pid, tid)),
            _ => Some(Node::Root),
        }
    }

    /// The node a link resolves to inside `/proc`: `self` and `mounts` do (the `exe` and
    /// descriptor links' targets are outside it, and the counters' is text).
    const fn followed(self, asker: Asker) -> Node {
        match self {
            Node::SelfLink => Node::Pid(asker.pid),
            Node::MountsLink => Node::Of(asker.pid, Entry::Mounts),
            other => other,
        }
    }
}

/// `readlink` of `/proc/mounts` (relative to `/proc`, as Linux's).
pub const MOUNTS_TARGET: &str = "self/mounts";

/// The pid a directory name under `/proc` is, if it can be one (Linux's `name_to_int`: decimal,
/// no leading zero, not 0, below 2^31).
fn pid_name(name: &str) -> Option<Pid> {
    if name.starts_with('0') || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse::<u32>()
        .ok()
        .filter(|&n| n != 0 && i32::try_from(n).is_ok())
        .map(Pid::from)
}

/// The descriptor a name under `/proc/PID/fd` is, if it can be one (`name_to_int`: decimal, no
/// leading zero but for `0` itself, below 2^31).
fn fd_name(name: &str) -> Option<u64> {
    if name == "0" {
        return Some(0);
    }
    pid_name(name)
}

/// Where the walk is.
enum At<'a> {
    /// Outside `/proc`: the components from `/`.
    Outside(Vec<&'a str>),
    /// At a node of `/proc`.
    In(Node),
}

/// The `/proc` node `path` names, walked from `/` (an absolute path, not yet normalized: made
/// with `k42_linux::path::join`): `None` when it ends outside `/proc`; `follow` false leaves a
/// final `self` link unfollowed (`lstat`, `readlink`, `O_NOFOLLOW`). Errors as Linux's walk:
/// `ENOENT` for a name no directory here has, `ENOTDIR` for a component after a file or link.
pub fn walk(path: &str, asker: Asker, follow: bool) -> Option<Result<Node, Errno>> {
    let components: Vec<&str> = path.split('/').collect();
    let last = components.len().saturating_sub(1);
    let mut at = At::Outside(Vec::new());
    for (i, c) in components.into_iter().enumerate() {
        at = match at {
            At::Outside(mut stack) => {
                match c {
                    "" | "." => {}
                    ".." => {
                        stack.pop();
                    }
                    name => stack.push(name),
                }
                if stack == [PROC] {
                    At::In(Node::Root)
                } else {
                    At::Outside(stack)
                }
            }
            At::In(node) => {
                if node.kind() != Type::Dir {
                    return Some(Err(Errno::ENOTDIR));
                }
                match c {
                    "" | "." => At::In(node),
                    ".." => match node.parent() {
                        Some(parent) => At::In(parent),
                        None => At::Outside(Vec::new()),
                    },
                    name => match node.child(name, asker) {
                        Ok(child) if i < last || follow => At::In(child.followed(asker)),
                        Ok(child) => At::In(child),
                        Err(e) => return Some(Err(e)),
                    },
                }
            }
        };
    }
    match at {
        At::Outside(_) => None,
        At::In(node) => Some(Ok(node)),
    }
}

/// A directory's listing, made when it is read from its start: `.`, `..`, then its entries —
/// for `/proc` the fixed ones, `self`, then the processes (Linux's order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    entries: Vec<DirEntry>,
}

impl Listing {
    /// The listing of directory `dir`; `ids` are what it holds beyond fixed names: the
    /// processes (for `/proc`), the descriptors (for `/proc/PID/fd`) or the threads (for
    /// `/proc/PID/task`); `asker` who lists. `ENOTDIR` for a node that is not a directory.
    pub fn of(dir: Node, ids: &[u64], asker: Asker) -> Result<Self, Errno> {
        if dir.kind() != Type::Dir {
            return Err(Errno::ENOTDIR);
        }
        let mut nodes: Vec<(String, Node)> = Vec::new();
        nodes.push((String::from("."), dir));
        nodes.push((String::from(".."), dir.parent().unwrap_or(Node::Root)));
        let numbered = |make: &dyn Fn(u64) -> Node| {
            ids.iter()
                .map(|&id| (alloc::format!("{id}"), make(id)))
                .collect::<Vec<_>>()
        };
        match dir {
            Node::Root => {
                for node in FIXED {
                    nodes.push((String::from(name_of(node)), node));
                }
                nodes.extend(numbered(&Node::Pid));
            }
            Node::K42 if asker.counters => {
                nodes.push((String::from("counters"), Node::Counters));
            }
            Node::Pid(pid) => {
                for e in Entry::ALL {
                    nodes.push((String::from(e.name()), Node::Of(pid, e)));
                }
            }
            Node::Of(pid, Entry::Fd) => nodes.extend(numbered(&|fd| Node::Fd(pid, fd))),
            Node::Of(pid, Entry::Task) => nodes.extend(numbered(&|tid| Node::Thread(pid, tid))),
            Node::Thread(pid, tid) => {
                for e in Entry::THREAD {
                    nodes.push((String::from(e.name()), Node::OfThread(pid, tid, e)));
                }
            }
            _ => {}
        }
        let entries = nodes
            .into_iter()
            .enumerate()
            .map(|(i, (name, node))| DirEntry {
                ino: node.ino(),
                name: name.into_bytes(),
                kind: node.kind().file_type(),
                next_cookie: i as u64 + 1,
            })
            .collect();
        Ok(Self { entries })
    }

    /// `getdents64`'s records from position `cookie` (0 is the start) for a buffer of `len`
    /// bytes, and the position after them; no bytes at the end. `EINVAL` when even the first
    /// record does not fit.
    pub fn read(&self, cookie: u64, len: usize) -> Result<(Vec<u8>, u64), Errno> {
        let from = usize::try_from(cookie)
            .unwrap_or(usize::MAX)
            .min(self.entries.len());
        let (bytes, n) = encode_dirent64(&self.entries[from..], len)?;
        let next = match n {
            0 => cookie,
            n => self.entries[from + n - 1].next_cookie,
        };
        Ok((bytes, next))
    }

    /// How many of its entries are directories, `.` and `..` included: the directory's link
    /// count, as Linux counts it.
    pub fn dirs(&self) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.kind == FileType::Directory)
            .count() as u64
    }
}

/// The name of a fixed node in `/proc`.
const fn name_of(node: Node) -> &'static str {
    match node {
        Node::SelfLink => "self",
        Node::Uptime => "uptime",
        Node::Meminfo => "meminfo",
        Node::Stat => "stat",
        Node::Loadavg => "loadavg",
        Node::Version => "version",
        Node::Cpuinfo => "cpuinfo",
        Node::Filesystems => "filesystems",
        Node::MountsLink => "mounts",
        Node::K42 => "k42",
        Node::Counters => "counters",
        _ => "",
    }
}
