//! The attribute calls on an inode: `chmod`, `chown`, `utimensat`, `access`.
//!
//! They act on an inode the server has already resolved (with [`Fs::lookup`], following symlinks
//! or not as the call asks, or from a descriptor), and follow Linux's `fs/attr.c`
//! (`setattr_prepare`, `notify_change`, `chown_ok`, `chgrp_ok`), `fs/open.c` (`chmod_common`,
//! `chown_common`, `do_faccessat`) and `fs/utimes.c` (`vfs_utimes`). Each stamps the change time.

use k42_linux::Errno;

use crate::cred::{Access, Credentials};
use crate::fs::should_drop_sgid;
use crate::inode::{FileType, Ino, Timespec, UtimeArg};
use crate::{Fs, linux};

impl Fs {
    /// `chmod(2)`/`fchmod(2)`: sets the permission bits (set-id and sticky included) to
    /// `mode & 07777`.
    ///
    /// `EPERM` unless the caller owns the inode or is root; the set-group-ID bit is silently
    /// dropped if the caller is neither in the file's group nor root. `EOPNOTSUPP` on a symlink
    /// itself (Linux's answer to `fchmodat(AT_SYMLINK_NOFOLLOW)` on one).
    pub fn chmod(
        &mut self,
        cred: &Credentials,
        ino: Ino,
        mode: u32,
        now: Timespec,
    ) -> Result<(), Errno> {
        let inode = self.inode_mut(ino)?;
        if inode.file_type() == FileType::Symlink {
            return Err(Errno::EOPNOTSUPP);
        }
        if !cred.owns(inode.uid) {
            return Err(Errno::EPERM);
        }
        let mut new = (inode.mode & linux::S_IFMT) | (mode & 0o7777);
        if !cred.in_group_or_root(inode.gid) {
            new &= !linux::S_ISGID;
        }
        inode.mode = new;
        inode.ctime = now;
        Ok(())
    }

    /// `chown(2)`/`fchown(2)`/`lchown(2)`: sets the owner and/or group (`None` is the syscall's
    /// -1, "unchanged").
    ///
    /// As Linux's `chown_ok`/`chgrp_ok`: only root changes the owner (the owner may "change" it
    /// to itself); the owner may change the group to one it is in, root to any; otherwise
    /// `EPERM`. On anything but a directory the set-user-ID bit is cleared, and the
    /// set-group-ID bit if it is group-executable or the caller is not in the file's group (even
    /// for root, and even with both ids -1); clearing a bit is a mode change, so a caller who does
    /// not own such a file gets `EPERM` even for `chown(f, -1, -1)`.
    pub fn chown(
        &mut self,
        cred: &Credentials,
        ino: Ino,
        uid: Option<u32>,
        gid: Option<u32>,
        now: Timespec,
    ) -> Result<(), Errno> {
        let inode = self.inode(ino)?;
        let mut mode = inode.mode;
        let mut mode_change = false;
        if !inode.is_dir() {
            if mode & linux::S_ISUID != 0 {
                mode &= !linux::S_ISUID;
                mode_change = true;
            }
            if should_drop_sgid(cred, inode) {
                mode &= !linux::S_ISGID;
                mode_change = true;
            }
        }
        if let Some(uid) = uid
            && !(cred.is_root() || (cred.uid == inode.uid && uid == inode.uid))
        {
            return Err(Errno::EPERM);
        }
        if let Some(gid) = gid
            && !(cred.is_root()
                || (cred.uid == inode.uid && (gid == inode.gid || cred.in_group(gid))))
        {
            return Err(Errno::EPERM);
        }
        if mode_change {
            if !cred.owns(inode.uid) {
                return Err(Errno::EPERM);
            }
            if !cred.in_group_or_root(gid.unwrap_or(inode.gid)) {
                mode &= !linux::S_ISGID;
            }
        }
        let inode = self.inode_mut(ino)?;
        if let Some(uid) = uid {
            inode.uid = uid;
        }
        if let Some(gid) = gid {
            inode.gid = gid;
        }
        inode.mode = mode;
        inode.ctime = now;
        Ok(())
    }

    /// `utimensat(2)`/`futimens(2)`: sets the access and modification times; `times` is
    /// `[atime, mtime]`, `None` meaning both "now" (a null `times` pointer).
    ///
    /// As Linux's `vfs_utimes` and `setattr_prepare`: both [`UtimeArg::Omit`] does nothing
    /// (Linux does not even resolve the path then: the server answers 0 before looking it up);
    /// both [`UtimeArg::Now`] is the same as `None`, allowed to the owner, root, or anyone with
    /// write permission (`EACCES` otherwise); any explicit time, or one `Now` with one `Omit`,
    /// only to the owner or root (`EPERM`). The change time becomes `now`.
    pub fn utimens(
        &mut self,
        cred: &Credentials,
        ino: Ino,
        times: Option<[UtimeArg; 2]>,
        now: Timespec,
    ) -> Result<(), Errno> {
        let times = match times {
            Some([UtimeArg::Omit, UtimeArg::Omit]) => {
                self.inode(ino)?;
                return Ok(());
            }
            Some([UtimeArg::Now, UtimeArg::Now]) | None => None,
            Some(t) => Some(t),
        };
        let inode = self.inode_mut(ino)?;
        match times {
            None => {
                if !cred.owns(inode.uid) {
                    inode.may(cred, Access::WRITE)?;
                }
                inode.atime = now;
                inode.mtime = now;
            }
            Some([atime, mtime]) => {
                if !cred.owns(inode.uid) {
                    return Err(Errno::EPERM);
                }
                let pick = |arg: UtimeArg, old: Timespec| match arg {
                    UtimeArg::Now => now,
                    UtimeArg::Omit => old,
                    UtimeArg::Set(t) => t,
                };
                inode.atime = pick(atime, inode.atime);
                inode.mtime = pick(mtime, inode.mtime);
            }
        }
        inode.ctime = now;
        Ok(())
    }

    /// `access(2)`/`faccessat(2)`: may the caller (with its *real* ids, as the server passes for
    /// this call) read, write or execute `ino`? `mode` is `F_OK` or a union of `R_OK`, `W_OK`,
    /// `X_OK`; other bits are `EINVAL`. `F_OK` always passes (the lookup found the file); the
    /// others are [`crate::may`]'s answer: `EACCES`, with root passing everything but `X_OK` on
    /// a file with no execute bit.
    pub fn access(&self, cred: &Credentials, ino: Ino, mode: u32) -> Result<(), Errno> {
        let want = Access::from_bits(mode).ok_or(Errno::EINVAL)?;
        self.inode(ino)?.may(cred, want)
    }
}
