//! Who is asking, and Linux's discretionary access check.
//!
//! The file server keeps each process's [`Credentials`] (the process server hands them over; the
//! personality never decides them) and passes them to every [`crate::Fs`] call. They are the
//! *filesystem* ids Linux checks (`fsuid`, `fsgid`, the supplementary groups); `access(2)` is
//! the exception and is asked with the real ids. Capabilities are not modelled one by one: uid 0
//! holds all of them, as an unprivileged-root-free Linux system gives it.
//!
//! [`may`] is Linux's `generic_permission` (`fs/namei.c`) without ACLs: the first matching class
//! — owner, then group (the file's group is the fsgid or one of the supplementary groups), then
//! other — decides alone; root may read and write anything and search any directory, and may
//! execute a non-directory only if at least one execute bit is set.

use alloc::vec::Vec;
use core::ops::BitOr;

use k42_linux::Errno;

use crate::linux;

/// The credentials a call is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    /// The filesystem user id (fsuid); 0 is root.
    pub uid: u32,
    /// The filesystem group id (fsgid).
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

impl Credentials {
    /// Root: uid 0, gid 0, no supplementary groups.
    pub fn root() -> Credentials {
        Credentials::default()
    }

    /// A user with the given ids and supplementary groups.
    pub fn user(uid: u32, gid: u32, groups: &[u32]) -> Credentials {
        Credentials {
            uid,
            gid,
            groups: groups.to_vec(),
        }
    }

    /// Whether these are root's credentials, with every capability.
    pub fn is_root(&self) -> bool {
        self.uid == 0
    }

    /// Linux's `in_group_p`: `gid` is the fsgid or a supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }

    /// Linux's `inode_owner_or_capable`: the owner, or root (`CAP_FOWNER`).
    pub(crate) fn owns(&self, uid: u32) -> bool {
        self.uid == uid || self.is_root()
    }

    /// Linux's `in_group_or_capable`: in the group, or root (`CAP_FSETID`).
    pub(crate) fn in_group_or_root(&self, gid: u32) -> bool {
        self.in_group(gid) || self.is_root()
    }
}

/// What a permission check asks for: any union of [`Access::READ`], [`Access::WRITE`] and
/// [`Access::EXEC`] (search, for a directory). The bits are `R_OK`, `W_OK`, `X_OK`, which are
/// also Linux's `MAY_READ`, `MAY_WRITE`, `MAY_EXEC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Access(u32);

impl Access {
    /// Nothing (`F_OK`): only existence.
    pub const NONE: Access = Access(linux::F_OK);
    /// Read.
    pub const READ: Access = Access(linux::R_OK);
    /// Write.
    pub const WRITE: Access = Access(linux::W_OK);
    /// Execute, or search a directory.
    pub const EXEC: Access = Access(linux::X_OK);

    /// The access `access(2)`'s mode asks for, or `None` if it has bits other than
    /// `R_OK | W_OK | X_OK` (Linux then answers `EINVAL`).
    pub const fn from_bits(bits: u32) -> Option<Access> {
        if bits & !(linux::R_OK | linux::W_OK | linux::X_OK) == 0 {
            Some(Access(bits))
        } else {
            None
        }
    }

    /// The `R_OK`/`W_OK`/`X_OK` bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is asked for.
    pub const fn contains(self, other: Access) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether nothing is asked for.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Access {
    type Output = Access;
    fn bitor(self, rhs: Access) -> Access {
        Access(self.0 | rhs.0)
    }
}

/// The mode's three execute bits (`S_IXUGO`, a kernel-internal name).
pub(crate) const S_IXUGO: u32 = linux::S_IXUSR | linux::S_IXGRP | linux::S_IXOTH;

/// Linux's `generic_permission` for an inode with `mode`, `uid` and `gid`: `Ok` or `EACCES`.
///
/// The owner class applies if the fsuid owns the file, else the group class if the file's group
/// is the caller's, else other; the class's bits must cover every bit asked for. Failing that,
/// root passes for reading and writing anything and searching any directory, and for executing
/// a non-directory with at least one execute bit. Nothing (`Access::NONE`) always passes.
pub fn may(cred: &Credentials, mode: u32, uid: u32, gid: u32, want: Access) -> Result<(), Errno> {
    let want = want.bits();
    let class = if cred.uid == uid {
        mode >> 6
    } else if cred.in_group(gid) {
        mode >> 3
    } else {
        mode
    } & 0o7;
    if want & !class == 0 {
        return Ok(());
    }
    if cred.is_root() {
        let is_dir = mode & linux::S_IFMT == linux::S_IFDIR;
        // CAP_DAC_READ_SEARCH / CAP_DAC_OVERRIDE: everything on a directory; on anything else,
        // read and write always, execute only when some execute bit is set.
        if is_dir || want & linux::X_OK == 0 || mode & S_IXUGO != 0 {
            return Ok(());
        }
    }
    Err(Errno::EACCES)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: u32 = linux::S_IFREG;
    const DIR: u32 = linux::S_IFDIR;

    #[test]
    fn first_matching_class_decides() {
        let owner = Credentials::user(1000, 100, &[]);
        // The owner has no rights even though group and other do.
        assert_eq!(
            may(&owner, REG | 0o077, 1000, 100, Access::READ),
            Err(Errno::EACCES)
        );
        // A group member is not "other".
        let member = Credentials::user(2000, 5, &[100]);
        assert_eq!(
            may(&member, REG | 0o707, 1000, 100, Access::READ),
            Err(Errno::EACCES)
        );
        assert_eq!(may(&member, REG | 0o070, 1000, 100, Access::READ), Ok(()));
        let other = Credentials::user(3000, 3000, &[]);
        assert_eq!(may(&other, REG | 0o004, 1000, 100, Access::READ), Ok(()));
        assert_eq!(
            may(&other, REG | 0o004, 1000, 100, Access::READ | Access::WRITE),
            Err(Errno::EACCES)
        );
    }

    #[test]
    fn root_overrides() {
        let root = Credentials::root();
        assert_eq!(may(&root, REG, 5, 5, Access::READ | Access::WRITE), Ok(()));
        assert_eq!(may(&root, REG, 5, 5, Access::EXEC), Err(Errno::EACCES));
        assert_eq!(may(&root, REG | 0o001, 5, 5, Access::EXEC), Ok(()));
        assert_eq!(may(&root, DIR, 5, 5, Access::EXEC | Access::WRITE), Ok(()));
    }

    #[test]
    fn access_bits() {
        assert_eq!(
            Access::from_bits(7),
            Some(Access::READ | Access::WRITE | Access::EXEC)
        );
        assert_eq!(Access::from_bits(8), None);
        assert!(Access::NONE.is_empty());
        assert!((Access::READ | Access::EXEC).contains(Access::EXEC));
    }
}
