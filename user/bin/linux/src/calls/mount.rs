//! `mount(2)` and `umount2(2)`: the name space's mounts.
//!
//! The file server holds the name space (`k42_ramfs::Fs::mount`): a `tmpfs` or `ramfs` mounted
//! on one of its directories is a new tree there, with its own `st_dev`, for every process, and
//! the server checks the caller's credentials (root only). `/proc` is this personality's
//! (`crate::procfs`), always there: `mount -t proc proc /proc`, which init scripts run, succeeds
//! as a no-op for root; nothing else can be mounted on or inside it (`EINVAL`), and it cannot
//! be unmounted (`EBUSY`). `/proc/mounts` lists the server's mounts after the fixed two
//! (`crate::procsys`).

use alloc::string::String;
use alloc::vec::Vec;

use k42_abi::kernel::PPC_DATA_BYTES;
use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_ptree::procpath::Node as ProcNode;
use k42_rt::log;

use crate::calls::file::{dir_node, path_arg};
use crate::files;
use crate::procfs::{self, Found};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// `AT_FDCWD` as the register holds it: paths of `mount(2)` are relative to the cwd.
const CWD: u64 = g::AT_FDCWD as u32 as u64;

/// The file system type `/proc` is.
const PROC_TYPE: &[u8] = b"proc";

/// A string argument that may be NULL (empty then).
fn optional_string(linux: &Linux, addr: u64) -> Result<Vec<u8>, Errno> {
    if addr == 0 {
        Ok(Vec::new())
    } else {
        uaccess::read_string(linux, addr)
    }
}

/// `mount(source, target, fstype, flags, data)`.
pub fn mount(linux: &Linux, args: &Args) -> SysResult {
    let source = optional_string(linux, args[0])?;
    let target = path_arg(linux, args[1], false)?;
    let fstype = optional_string(linux, args[2])?;
    let flags = args[3];
    let data = optional_string(linux, args[4])?;
    // A path through `/proc` that leaves it (its `exe` link, say) goes on where it leads.
    let target = match procfs::lookup(linux, CWD, &target, true)? {
        Found::Node(node) => return mount_in_proc(linux, node, &fstype),
        Found::Elsewhere(other) => other.into_bytes(),
        Found::Outside => target,
    };
    // The server gets the four strings in one call's data.
    let mut call = Vec::with_capacity(target.len() + source.len() + fstype.len() + data.len() + 4);
    for field in [&target, &source, &fstype, &data] {
        call.extend_from_slice(field);
        call.push(0);
    }
    if call.len() > PPC_DATA_BYTES {
        return Err(Errno::ENAMETOOLONG);
    }
    let dir = dir_node(linux, CWD, &target)?;
    let result = files::call(&dir, &call, |c| c.mount(flags)).map(|((), _)| 0);
    if result == Err(Errno::EINVAL) {
        // The server refuses what it does not support rather than ignore it: say which.
        log!(
            "linux: mount of {} on {} (flags {flags:#x}, options {:?}) refused: tmpfs and \
             ramfs take only MS_SILENT and MS_RELATIME, and the options mode, uid and gid",
            String::from_utf8_lossy(&fstype),
            String::from_utf8_lossy(&target),
            String::from_utf8_lossy(&data),
        );
    }
    result
}

/// A mount whose target is in `/proc`: only procfs on `/proc` itself, where it is already.
fn mount_in_proc(linux: &Linux, node: ProcNode, fstype: &[u8]) -> SysResult {
    if linux.creds.euid() != 0 {
        return Err(Errno::EPERM);
    }
    if node == ProcNode::Root && fstype == PROC_TYPE {
        return Ok(0);
    }
    log!("linux: nothing can be mounted in /proc (the personality's own)");
    Err(Errno::EINVAL)
}

/// `umount2(target, flags)`.
pub fn umount2(linux: &Linux, args: &Args) -> SysResult {
    let target = path_arg(linux, args[0], false)?;
    let flags = args[1];
    let follow = flags & u64::from(g::UMOUNT_NOFOLLOW) == 0;
    let target = match procfs::lookup(linux, CWD, &target, follow)? {
        Found::Node(ProcNode::Root) => return Err(Errno::EBUSY),
        Found::Node(_) => return Err(Errno::EINVAL),
        Found::Elsewhere(other) => other.into_bytes(),
        Found::Outside => target,
    };
    let dir = dir_node(linux, CWD, &target)?;
    files::call(&dir, &target, |c| c.umount(flags)).map(|((), _)| 0)
}

/// The file server's mounts, in mount order: (source, target, type).
pub fn server_mounts(linux: &Linux) -> Result<Vec<(String, String, String)>, Errno> {
    let root = linux.files()?.root.clone();
    let mut out = Vec::new();
    let mut from = 0;
    loop {
        let ((held, next), data) = files::call(&root, &[], |c| c.mounts(from))?;
        let mut fields = data.split(|&b| b == 0).map(String::from_utf8_lossy);
        for _ in 0..held {
            let mut field = || fields.next().map(|f| f.into_owned()).unwrap_or_default();
            out.push((field(), field(), field()));
        }
        if next <= from {
            return Ok(out);
        }
        from = next;
    }
}
