//! File metadata: `fstat`, `newfstatat`, `statx`, `stat`, `lstat`. A file opened by path
//! answers with its node's metadata from the file server; the console the program started with
//! answers as Linux's `/dev/console` (a character device, 5:1, root's, mode 0600); an open file
//! of `/proc` as it was when opened (`crate::procfs`). Paths are the file server's to look up,
//! or `/proc`'s (`calls/file.rs`).

use k42_linux::raw::general as g;
use k42_linux::stat::{STAT_BYTES, Stat, Timespec};
use k42_linux::{Errno, SysResult};
use k42_rt::clock;

use crate::fd::{Kind, OpenFile};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// `/dev/console`'s device number.
const CONSOLE_RDEV: (u32, u32) = (5, 1);
/// The console's permission bits.
const CONSOLE_MODE: u32 = 0o600;
/// Preferred I/O size reported for every file.
const BLKSIZE: u32 = 4096;
/// An anonymous inode's mode (an epoll instance's, an eventfd's, a timerfd's, a
/// signalfd's): no type bits, as Linux's `anon_inode`.
const ANON_INODE_MODE: u32 = 0o600;

/// What the open file `fd` is: its node's metadata from the file server, or, for the console
/// the program started with, `/dev/console`'s.
pub fn stat_fd(linux: &Linux, fd: u64) -> Result<Stat, Errno> {
    let file = linux.fds.lock().get(fd)?;
    stat_file(linux, &file)
}

/// What the open file `file` is ([`stat_fd`]).
pub fn stat_file(linux: &Linux, file: &OpenFile) -> Result<Stat, Errno> {
    if crate::calls::pipe::is_pipe(file) {
        return crate::calls::pipe::stat(linux, file);
    }
    if let Some(open) = &file.proc {
        return Ok(open.stat());
    }
    if let Some(node) = &file.node {
        return crate::calls::file::stat_node(node);
    }
    if matches!(
        file.kind,
        Kind::Epoll | Kind::EventFd | Kind::TimerFd | Kind::SignalFd
    ) {
        // Linux's anonymous inode: no file type, read and write for its owner, who made it.
        let owner = (linux.creds.euid(), linux.creds.egid());
        return Ok(made_up((0, 0), 1, ANON_INODE_MODE, owner, (0, 0)));
    }
    let console = g::S_IFCHR | CONSOLE_MODE;
    Ok(made_up((0, 6), 1, console, (0, 0), CONSOLE_RDEV))
}

/// The metadata of a file the personality describes itself (the console, an epoll instance, a
/// pipe from what its server says): one link, no size or blocks, every time the wall clock's
/// now (as Linux's pseudo-file-systems' inodes).
pub fn made_up(
    dev: (u32, u32),
    ino: u64,
    mode: u32,
    (uid, gid): (u32, u32),
    rdev: (u32, u32),
) -> Stat {
    let t = Timespec::from_ns(clock::wall_ns());
    Stat {
        dev,
        ino,
        nlink: 1,
        mode,
        uid,
        gid,
        rdev,
        size: 0,
        blksize: BLKSIZE,
        blocks: 0,
        atime: t,
        mtime: t,
        ctime: t,
    }
}

/// The file `(dirfd, path, flags)` names: with `AT_EMPTY_PATH` and an empty path, `dirfd`
/// itself; a path is the file server's to look up.
fn stat_at(linux: &Linux, dirfd: u64, path: u64, flags: u32) -> Result<Stat, Errno> {
    let known = g::AT_EMPTY_PATH | g::AT_SYMLINK_NOFOLLOW | g::AT_NO_AUTOMOUNT;
    if flags & !(known | g::AT_STATX_SYNC_TYPE) != 0 {
        return Err(Errno::EINVAL);
    }
    crate::calls::file::stat_path(linux, dirfd, path, flags)
}

/// `fstat(fd, statbuf)`.
pub fn fstat(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    // A file server node's answer is Linux's `struct stat` already: passed on as it came.
    if let Some(node) = &file.node
        && !crate::calls::pipe::is_pipe(&file)
        && file.proc.is_none()
    {
        let mut bytes = [0u8; STAT_BYTES];
        crate::calls::file::stat_node_into(node, &mut bytes)?;
        return uaccess::write(linux, args[1], &bytes).map(|()| 0);
    }
    let st = stat_file(linux, &file)?;
    uaccess::write(linux, args[1], &st.to_stat_bytes()).map(|()| 0)
}

/// `newfstatat(dirfd, path, statbuf, flags)`.
pub fn newfstatat(linux: &Linux, args: &Args) -> SysResult {
    let st = stat_at(linux, args[0], args[1], args[3] as u32)?;
    uaccess::write(linux, args[2], &st.to_stat_bytes()).map(|()| 0)
}

/// `statx(dirfd, path, flags, mask, statxbuf)`.
pub fn statx(linux: &Linux, args: &Args) -> SysResult {
    let st = stat_at(linux, args[0], args[1], args[2] as u32)?;
    uaccess::write(linux, args[4], &st.to_statx_bytes()).map(|()| 0)
}

/// `stat(path, statbuf)`.
pub fn stat(linux: &Linux, args: &Args) -> SysResult {
    let st = stat_at(linux, g::AT_FDCWD as u64, args[0], 0)?;
    uaccess::write(linux, args[1], &st.to_stat_bytes()).map(|()| 0)
}

/// `lstat(path, statbuf)`.
pub fn lstat(linux: &Linux, args: &Args) -> SysResult {
    let st = stat_at(linux, g::AT_FDCWD as u64, args[0], g::AT_SYMLINK_NOFOLLOW)?;
    uaccess::write(linux, args[1], &st.to_stat_bytes()).map(|()| 0)
}
