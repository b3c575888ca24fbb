//! Resource limits: `getrlimit`, `setrlimit`, `prlimit64`. Each process has its own
//! (`k42_linux::rlimit::Limits`, Linux's defaults and rules), kept in its fd table
//! (`crate::fd::FdTable::limits`) under the table's lock: `RLIMIT_NOFILE` bounds that table,
//! a fork child's table starts with a copy of them, and an exec keeps the table and them, as
//! Linux keeps limits in the process (`signal_struct`). Anyone may lower a limit or raise the
//! soft one up to the hard; raising a hard limit needs `CAP_SYS_RESOURCE`, which here is the
//! effective uid 0.
//!
//! Enforced: `RLIMIT_NOFILE` (`crate::fd`: the descriptors `open`, `dup`, `dup2`/`dup3`,
//! `fcntl(F_DUPFD)` and `pipe` may give, and `poll`'s count). The others are kept and answered
//! but bound nothing: `RLIMIT_STACK` in particular, since the stack an exec maps is always
//! `crate::layout::STACK_SIZE` (8 MiB, Linux's default soft limit) and does not grow.

use k42_linux::rlimit::Rlimit;
use k42_linux::{Errno, SysResult};

use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// Whether the process may raise a hard limit (`CAP_SYS_RESOURCE`: root).
fn privileged(linux: &Linux) -> bool {
    linux.creds.euid() == 0
}

/// Changes and/or reads `resource`'s limits (a resource is a C unsigned int: the upper half of
/// the register is not read, as Linux does not).
fn prlimit(linux: &Linux, resource: u64, new: Option<Rlimit>) -> Result<Rlimit, Errno> {
    let resource = resource as u32;
    let mut fds = linux.fds.lock();
    match new {
        Some(new) => fds.limits.set(resource, new, privileged(linux)),
        None => fds.limits.get(resource),
    }
}

/// `prlimit64(pid, resource, new, old)`: this process's limits (`pid` 0 or its own; another
/// process's limits are its own personality's, which this one cannot reach: `ESRCH`). The
/// new pair is read first (`EFAULT`), the old one written after the change, as Linux does.
pub fn prlimit64(linux: &Linux, args: &Args) -> SysResult {
    let new = match args[2] {
        0 => None,
        addr => Some(Rlimit::from_words(uaccess::read_words::<2>(linux, addr)?)),
    };
    let pid = args[0] as u32 as i32;
    if pid != 0 && pid as u64 != linux.ids.pid {
        return Err(Errno::ESRCH);
    }
    let old = prlimit(linux, args[1], new)?;
    if args[3] != 0 {
        uaccess::write_words(linux, args[3], &old.to_words())?;
    }
    Ok(0)
}

/// `getrlimit(resource, rlim)`.
pub fn getrlimit(linux: &Linux, args: &Args) -> SysResult {
    let limits = prlimit(linux, args[0], None)?;
    uaccess::write_words(linux, args[1], &limits.to_words()).map(|()| 0)
}

/// `setrlimit(resource, rlim)`.
pub fn setrlimit(linux: &Linux, args: &Args) -> SysResult {
    let new = Rlimit::from_words(uaccess::read_words::<2>(linux, args[1])?);
    prlimit(linux, args[0], Some(new)).map(|_| 0)
}
