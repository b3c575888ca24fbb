//! The process's credentials: reading its user and group ids (`getuid`, `geteuid`, `getgid`,
//! `getegid`, `getresuid`, `getresgid`, `getgroups`) and the setuid family that changes them
//! (`setuid`, `setgid`, `setreuid`, `setregid`, `setresuid`, `setresgid`, `setfsuid`,
//! `setfsgid`, `setgroups`).
//!
//! The process server holds them and decides every change with Linux's rules
//! (`k42_ptree::creds`), with its own record of this process: a program that scribbles over
//! this personality can ask for anything, and still gets only what Linux would give it. The
//! server then tells the file server, whose permission checks use the new filesystem ids and
//! groups. This file only passes the arguments on, copies user memory through `uaccess`, and
//! stores the real and effective ids the server answered (`state::Creds`), which `getuid`…
//! read without a call (`table::fast` answers them on the upcall stack).
//!
//! Credentials are the process's, not each thread's as on Linux: C libraries make every thread
//! repeat a change anyway (glibc's and musl's `setxid` broadcast), and each repetition here
//! finds the change made already.

use alloc::vec::Vec;

use k42_ifaces::procs::{GID_BYTES, GROUPS_MAX};
use k42_linux::{Errno, SysResult};
use k42_ptree::{Family, IdChange};

use crate::procs;
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// A `uid_t`/`gid_t` argument: the low 32 bits of its register (`(uid_t)-1` is
/// `k42_ptree::UNCHANGED`).
fn id(word: u64) -> u32 {
    word as u32
}

/// `getuid()`.
pub fn getuid(linux: &Linux, _: &Args) -> SysResult {
    Ok(linux.creds.uid().into())
}

/// `geteuid()`.
pub fn geteuid(linux: &Linux, _: &Args) -> SysResult {
    Ok(linux.creds.euid().into())
}

/// `getgid()`.
pub fn getgid(linux: &Linux, _: &Args) -> SysResult {
    Ok(linux.creds.gid().into())
}

/// `getegid()`.
pub fn getegid(linux: &Linux, _: &Args) -> SysResult {
    Ok(linux.creds.egid().into())
}

/// A change of `family`'s ids: 0 (`setfsuid`'s own value is its caller's business).
fn change(linux: &Linux, family: Family, change: IdChange) -> SysResult {
    procs::set_ids(linux, family, change).map(|_| 0)
}

/// `setuid(uid)`.
pub fn setuid(linux: &Linux, args: &Args) -> SysResult {
    change(linux, Family::User, IdChange::Set(id(args[0])))
}

/// `setgid(gid)`.
pub fn setgid(linux: &Linux, args: &Args) -> SysResult {
    change(linux, Family::Group, IdChange::Set(id(args[0])))
}

/// `setreuid(ruid, euid)`.
pub fn setreuid(linux: &Linux, args: &Args) -> SysResult {
    change(
        linux,
        Family::User,
        IdChange::SetRe(id(args[0]), id(args[1])),
    )
}

/// `setregid(rgid, egid)`.
pub fn setregid(linux: &Linux, args: &Args) -> SysResult {
    change(
        linux,
        Family::Group,
        IdChange::SetRe(id(args[0]), id(args[1])),
    )
}

/// `setresuid(ruid, euid, suid)`.
pub fn setresuid(linux: &Linux, args: &Args) -> SysResult {
    let ids = IdChange::SetRes(id(args[0]), id(args[1]), id(args[2]));
    change(linux, Family::User, ids)
}

/// `setresgid(rgid, egid, sgid)`.
pub fn setresgid(linux: &Linux, args: &Args) -> SysResult {
    let ids = IdChange::SetRes(id(args[0]), id(args[1]), id(args[2]));
    change(linux, Family::Group, ids)
}

/// `setfsuid(fsuid)`: the old filesystem user id, whether it changed or not (it never fails:
/// a refused change is only not made).
pub fn setfsuid(linux: &Linux, args: &Args) -> SysResult {
    procs::set_ids(linux, Family::User, IdChange::SetFs(id(args[0]))).map(u64::from)
}

/// `setfsgid(fsgid)`, as `setfsuid`.
pub fn setfsgid(linux: &Linux, args: &Args) -> SysResult {
    procs::set_ids(linux, Family::Group, IdChange::SetFs(id(args[0]))).map(u64::from)
}

/// `getresuid`/`getresgid`: the real, effective and saved ids written to the three pointers in
/// turn, as Linux's `put_user`s, stopping at the first that faults (`EFAULT`).
fn getres(linux: &Linux, args: &Args, family: Family) -> SysResult {
    let [real, effective, saved, _] = procs::resids(linux, family)?;
    for (addr, value) in [(args[0], real), (args[1], effective), (args[2], saved)] {
        uaccess::write(linux, addr, &value.to_le_bytes())?;
    }
    Ok(0)
}

/// `getresuid(ruid, euid, suid)`.
pub fn getresuid(linux: &Linux, args: &Args) -> SysResult {
    getres(linux, args, Family::User)
}

/// `getresgid(rgid, egid, sgid)`.
pub fn getresgid(linux: &Linux, args: &Args) -> SysResult {
    getres(linux, args, Family::Group)
}

/// `getgroups(size, list)`: the number of supplementary groups; with `size` not 0 the groups
/// too, written to `list` — `EINVAL` when they do not fit (or `size` is negative), `EFAULT`
/// when `list` cannot take them (Linux's order: the size first).
pub fn getgroups(linux: &Linux, args: &Args) -> SysResult {
    // An int.
    let size = args[0] as u32 as i32;
    let Ok(size) = usize::try_from(size) else {
        return Err(Errno::EINVAL);
    };
    let groups = procs::groups(linux, 0)?;
    if size != 0 {
        if groups.len() > size {
            return Err(Errno::EINVAL);
        }
        let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
        uaccess::write(linux, args[1], &bytes)?;
    }
    Ok(groups.len() as u64)
}

/// `setgroups(size, list)`: the process server decides (root only, `EPERM`; more than
/// `NGROUPS_MAX`, or than K42's `GROUPS_MAX`, `EINVAL`). The list is read here only when it
/// can be sent; one that cannot be read goes as none, so that the server still answers
/// `EPERM` first and `EFAULT` only for a caller that may set groups, as Linux does.
pub fn setgroups(linux: &Linux, args: &Args) -> SysResult {
    // Linux takes the int as unsigned: a negative size is past every limit.
    let count = args[0] as u32;
    let list = usize::try_from(count)
        .ok()
        .filter(|&n| n <= GROUPS_MAX)
        .and_then(|n| uaccess::read(linux, args[1], n * GID_BYTES).ok());
    procs::set_groups(linux, count, list.as_deref()).map(|()| 0)
}
