//! `statfs(2)` and `fstatfs(2)`: what a file system says of itself (`k42_linux::statfs`). The
//! file server answers for its file systems (`k42_ramfs::Fs::statfs`: the root file system and
//! each tmpfs as a tmpfs with the server's limits, a ramfs as Linux's). `/proc` and anonymous
//! pipes are this personality's and answer as Linux's procfs and pipefs do (`simple_statfs`:
//! their type, block size and name length); a FIFO answers for the file system it lies in,
//! and the console the program started with for the root file system, where `/dev/console` is.
//! Paths are looked up as `stat` looks them up (`calls/file.rs`), following symlinks.

use k42_linux::raw::general as g;
use k42_linux::statfs::{ST_RELATIME, STATFS_BYTES, StatFs};
use k42_linux::{Errno, SysResult};

use crate::calls::file::{SENT_PATH_MAX, path_arg, start_at};
use crate::files::{self, Node};
use crate::procfs::{self, Found};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// `/proc`, mounted `rw,relatime` as `/proc/mounts` says.
const PROC: StatFs = StatFs::simple(g::PROC_SUPER_MAGIC, ST_RELATIME);
/// Anonymous pipes' file system.
const PIPEFS: StatFs = StatFs::simple(g::PIPEFS_MAGIC, 0);

/// `AT_FDCWD` as the register holds it.
const CWD: u64 = g::AT_FDCWD as u64;

/// `statfs(path, buf)`.
pub fn statfs(linux: &Linux, args: &Args) -> SysResult {
    let path = path_arg(linux, args[0], false)?;
    let bytes = match procfs::lookup(linux, CWD, &path, true)? {
        Found::Node(_) => PROC.to_bytes(),
        Found::Elsewhere(other) => of_path(linux, other.as_bytes())?,
        Found::Outside => of_path(linux, &path)?,
    };
    uaccess::write(linux, args[1], &bytes).map(|()| 0)
}

/// `fstatfs(fd, buf)`.
pub fn fstatfs(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    let bytes = if let Some(inode) = &file.fifo {
        of_node(inode, &[], g::AT_EMPTY_PATH)?
    } else if crate::calls::pipe::is_pipe(&file) {
        PIPEFS.to_bytes()
    } else if file.proc.is_some() {
        PROC.to_bytes()
    } else if let Some(node) = &file.node {
        of_node(node, &[], g::AT_EMPTY_PATH)?
    } else {
        of_node(&linux.files()?.root, &[], g::AT_EMPTY_PATH)?
    };
    uaccess::write(linux, args[1], &bytes).map(|()| 0)
}

/// The file server's answer for the file system `path` (from the cwd) leads to.
fn of_path(linux: &Linux, path: &[u8]) -> Result<[u8; STATFS_BYTES], Errno> {
    let (dir, path) = start_at(linux, CWD, path, SENT_PATH_MAX)?;
    of_node(&dir, &path, 0)
}

/// The file server's `struct statfs` for `path` from `node` with `flags` (`EIO` if fewer bytes
/// came).
fn of_node(node: &Node, path: &[u8], flags: u32) -> Result<[u8; STATFS_BYTES], Errno> {
    let mut bytes = [0u8; STATFS_BYTES];
    let ((), got) = files::call_into(node, path, &mut bytes, |c| c.statfs(u64::from(flags)))?;
    if got < STATFS_BYTES {
        return Err(Errno::EIO);
    }
    Ok(bytes)
}
