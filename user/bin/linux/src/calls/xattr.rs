//! Extended attributes: `getxattr`, `setxattr`, `listxattr` and `removexattr`, each by path
//! (following symlinks), by path without following (`l…`) and by descriptor (`f…`). No file
//! system here keeps any, so the calls answer as Linux 6.1 does on one without them
//! (`k42_linux::xattr`): a listing is empty, and every attribute is `EOPNOTSUPP` — after the
//! checks Linux makes first, in its order (the file, then the arguments), so a program hears
//! "not supported", as from ramfs, where it used to hear "no such call". A file is found as
//! `stat` finds it (`calls/file.rs`); a descriptor opened `O_PATH` is `EBADF`, as Linux's
//! `fdget` makes it.

use core::sync::atomic::Ordering;

use k42_linux::raw::general as g;
use k42_linux::xattr::{self, Op};
use k42_linux::{Errno, SysResult};

use crate::calls::file::stat_path;
use crate::calls::stat::stat_file;
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// `AT_FDCWD` as the register holds it.
const CWD: u64 = g::AT_FDCWD as u64;

/// The attribute name at `addr`, checked as Linux copies it in (`ERANGE` when empty or longer
/// than `XATTR_NAME_MAX`, nothing read past that).
fn name_arg(linux: &Linux, addr: u64) -> Result<alloc::vec::Vec<u8>, Errno> {
    let name = uaccess::read_string_max(linux, addr, xattr::NAME_MAX + 1).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::ERANGE
        } else {
            e
        }
    })?;
    xattr::check_name(&name)?;
    Ok(name)
}

/// The mode of the file the path at `addr` names.
fn path_mode(linux: &Linux, addr: u64, follow: bool) -> Result<u32, Errno> {
    let flags = if follow { 0 } else { g::AT_SYMLINK_NOFOLLOW };
    Ok(stat_path(linux, CWD, addr, flags)?.mode)
}

/// The mode of the file open as `fd` (`EBADF` for none, and for an `O_PATH` one).
fn fd_mode(linux: &Linux, fd: u64) -> Result<u32, Errno> {
    let file = linux.fds.lock().get(fd)?;
    if file.flags.load(Ordering::Relaxed) & g::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    Ok(stat_file(linux, &file)?.mode)
}

/// `setxattr`'s arguments, checked in Linux's order (after the file): the flags, the name,
/// the value's size, then the value itself read (`EFAULT`).
fn set_args(linux: &Linux, args: &Args) -> Result<alloc::vec::Vec<u8>, Errno> {
    let (value, size, flags) = (args[2], args[3], args[4]);
    xattr::check_set_flags(flags)?;
    let name = name_arg(linux, args[1])?;
    xattr::check_set_size(size)?;
    if size != 0 {
        // Lossless: at most `xattr::SIZE_MAX`.
        uaccess::read(linux, value, size as usize)?;
    }
    Ok(name)
}

/// `getxattr(path, name, value, size)`.
pub fn getxattr(linux: &Linux, args: &Args) -> SysResult {
    let mode = path_mode(linux, args[0], true)?;
    Err(xattr::answer(Op::Get, &name_arg(linux, args[1])?, mode))
}

/// `lgetxattr(path, name, value, size)`.
pub fn lgetxattr(linux: &Linux, args: &Args) -> SysResult {
    let mode = path_mode(linux, args[0], false)?;
    Err(xattr::answer(Op::Get, &name_arg(linux, args[1])?, mode))
}

/// `fgetxattr(fd, name, value, size)`.
pub fn fgetxattr(linux: &Linux, args: &Args) -> SysResult {
    let mode = fd_mode(linux, args[0])?;
    Err(xattr::answer(Op::Get, &name_arg(linux, args[1])?, mode))
}

/// `setxattr(path, name, value, size, flags)`: the path first, then the arguments (Linux
/// 6.1's `path_setxattr`).
pub fn setxattr(linux: &Linux, args: &Args) -> SysResult {
    let mode = path_mode(linux, args[0], true)?;
    Err(xattr::answer(Op::Set, &set_args(linux, args)?, mode))
}

/// `lsetxattr(path, name, value, size, flags)`.
pub fn lsetxattr(linux: &Linux, args: &Args) -> SysResult {
    let mode = path_mode(linux, args[0], false)?;
    Err(xattr::answer(Op::Set, &set_args(linux, args)?, mode))
}

/// `fsetxattr(fd, name, value, size, flags)`.
pub fn fsetxattr(linux: &Linux, args: &Args) -> SysResult {
    let mode = fd_mode(linux, args[0])?;
    Err(xattr::answer(Op::Set, &set_args(linux, args)?, mode))
}

/// `removexattr(path, name)`.
pub fn removexattr(linux: &Linux, args: &Args) -> SysResult {
    let mode = path_mode(linux, args[0], true)?;
    Err(xattr::answer(Op::Remove, &name_arg(linux, args[1])?, mode))
}

/// `lremovexattr(path, name)`.
pub fn lremovexattr(linux: &Linux, args: &Args) -> SysResult {
    let mode = path_mode(linux, args[0], false)?;
    Err(xattr::answer(Op::Remove, &name_arg(linux, args[1])?, mode))
}

/// `fremovexattr(fd, name)`.
pub fn fremovexattr(linux: &Linux, args: &Args) -> SysResult {
    let mode = fd_mode(linux, args[0])?;
    Err(xattr::answer(Op::Remove, &name_arg(linux, args[1])?, mode))
}

/// `listxattr(path, list, size)`: no attribute, so nothing listed.
pub fn listxattr(linux: &Linux, args: &Args) -> SysResult {
    path_mode(linux, args[0], true).map(|_| 0)
}

/// `llistxattr(path, list, size)`.
pub fn llistxattr(linux: &Linux, args: &Args) -> SysResult {
    path_mode(linux, args[0], false).map(|_| 0)
}

/// `flistxattr(fd, list, size)`.
pub fn flistxattr(linux: &Linux, args: &Args) -> SysResult {
    fd_mode(linux, args[0]).map(|_| 0)
}
