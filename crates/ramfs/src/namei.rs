//! The namespace calls: `open` (with creation), `mkdir`, `mknod`, `symlink`, `link`, `unlink`,
//! `rmdir`, `rename` and `readlink`.
//!
//! Each follows the Linux function that implements it (`fs/namei.c`: `path_openat`/`do_open`,
//! `filename_create`, `may_create`, `may_delete`, `do_unlinkat`, `do_rmdir`, `do_renameat2`,
//! `vfs_rename`, `do_linkat`; `mm/shmem.c` and `fs/libfs.c` for what tmpfs does once the VFS has
//! agreed), checking in the same order so each failure answers the errno Linux gives. The walks
//! they start from are in `walk.rs`; inode lifetime (what happens when the last name goes) in
//! `fs.rs`.
//!
//! Every path ends at its first NUL, if it has one.

use alloc::vec::Vec;

use k42_linux::Errno;

use crate::cred::{Access, Credentials};
use crate::dir::Dir;
use crate::file::FileData;
use crate::inode::{Body, Dev, FileType, Ino, Inode, Timespec};
use crate::walk::{LastKind, check_path, cstr};
use crate::{Fs, ROOT_INO, linux};

/// What [`Fs::open`] opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// The inode; the call took a handle on it ([`Fs::close_handle`] drops it).
    pub ino: Ino,
    /// Whether `O_CREAT` created it.
    pub created: bool,
}

/// The permission bits a mode argument may carry (`S_IALLUGO`, kernel-internal).
const S_IALLUGO: u32 = 0o7777;
/// The bits a umask masks (`S_IRWXUGO`, kernel-internal).
const S_IRWXUGO: u32 = linux::S_IRWXU | linux::S_IRWXG | linux::S_IRWXO;
/// The flags `O_PATH` keeps (`O_PATH_FLAGS`, `fs/open.c`); `open(2)` drops the others.
const O_PATH_FLAGS: u32 = linux::O_DIRECTORY | linux::O_NOFOLLOW | linux::O_PATH | linux::O_CLOEXEC;
/// `__O_TMPFILE`: `O_TMPFILE` without its `O_DIRECTORY` (`include/uapi/asm-generic/fcntl.h`
/// defines it, linux-raw-sys only the combination).
const O_TMPFILE_BIT: u32 = linux::O_TMPFILE & !linux::O_DIRECTORY;

/// What `open`'s walk found at the end of the path.
enum Target {
    /// An existing inode; whether it must be a directory (trailing slash).
    Existing(Ino, bool),
    /// Nothing: `O_CREAT` creates `name` in `dir`.
    Create { dir: Ino, name: Vec<u8> },
}

/// A rename that passed every check, ready to apply.
struct RenamePlan {
    old_dir: Ino,
    old_name: Vec<u8>,
    source: Ino,
    new_dir: Ino,
    new_name: Vec<u8>,
    target: Option<Ino>,
    exchange: bool,
}

impl Fs {
    /// `open(2)`/`openat(2)`: opens `path` (from `dir` if relative) and takes a handle on the
    /// inode; the server keeps the access mode and the offset.
    ///
    /// `flags` are `open(2)`'s: the access mode (`O_RDONLY`, `O_WRONLY`, `O_RDWR`; 3 is checked
    /// as read and write, as Linux does), `O_CREAT`, `O_EXCL`, `O_TRUNC`, `O_DIRECTORY`,
    /// `O_NOFOLLOW`, `O_NOATIME`, `O_PATH`; the others (`O_APPEND`, `O_CLOEXEC`, `O_NONBLOCK`…)
    /// concern the descriptor and are ignored here. `mode` (permission bits, set-id and sticky
    /// included) and `umask` apply when the file is created.
    ///
    /// As Linux's `path_openat`/`do_open`:
    /// - `O_DIRECTORY | O_CREAT` is `EINVAL`; `O_TMPFILE` is `EOPNOTSUPP` (not supported).
    /// - `O_PATH` only resolves (following a final symlink unless `O_NOFOLLOW`) and checks no
    ///   permission on the file.
    /// - The walk's errors (see [`Fs::lookup`]); a missing last component is `ENOENT` without
    ///   `O_CREAT`.
    /// - `O_CREAT`: a trailing slash is `EISDIR`; a missing file is created (`EACCES` without
    ///   write and search permission on the directory, `ENOENT` if the directory was removed,
    ///   `ENOSPC` past the inode limit) with mode `mode & ~umask`, owned by the caller (the group
    ///   of a set-group-ID directory), and opened whatever its mode says; a final symlink is
    ///   followed, so a dangling one creates its target.
    /// - `O_CREAT | O_EXCL`: an existing last component — a symlink, even a dangling one,
    ///   included, since it is not followed — is `EEXIST`.
    /// - An existing directory with `O_CREAT` is `EISDIR`; a non-directory with `O_DIRECTORY`
    ///   or a trailing slash `ENOTDIR`; a symlink reached with `O_NOFOLLOW` `ELOOP`; a directory
    ///   opened for writing (or `O_TRUNC`) `EISDIR`; missing read or write permission
    ///   `EACCES` (`O_TRUNC` needs write permission even with `O_RDONLY`); `O_NOATIME` by
    ///   anyone but the owner or root `EPERM`; a socket node `ENXIO`.
    /// - `O_TRUNC` on a regular file empties it and sets its modification and change times
    ///   (ignored on devices and FIFOs).
    #[allow(clippy::too_many_arguments)] // open(2)'s own arguments, plus who and when.
    pub fn open(
        &mut self,
        cred: &Credentials,
        dir: Ino,
        path: &[u8],
        flags: u32,
        mode: u32,
        umask: u32,
        now: Timespec,
    ) -> Result<Opened, Errno> {
        let path = cstr(path);
        let mut flags = flags;
        if flags & linux::O_PATH != 0 {
            flags &= O_PATH_FLAGS;
        }
        let creat = flags & linux::O_CREAT != 0;
        if creat && flags & linux::O_DIRECTORY != 0 {
            return Err(Errno::EINVAL);
        }
        let mut acc = match flags & linux::O_ACCMODE {
            linux::O_RDONLY => Access::READ,
            linux::O_WRONLY => Access::WRITE,
            _ => Access::READ | Access::WRITE,
        };
        if flags & linux::O_TRUNC != 0 {
            acc = acc | Access::WRITE;
        }
        if flags & O_TMPFILE_BIT != 0 {
            if flags & linux::O_DIRECTORY == 0 || !acc.contains(Access::WRITE) {
                return Err(Errno::EINVAL);
            }
            return Err(Errno::EOPNOTSUPP);
        }
        if flags & linux::O_PATH != 0 {
            let follow = flags & linux::O_NOFOLLOW == 0;
            let must_dir = flags & linux::O_DIRECTORY != 0;
            let ino = self.resolve(cred, dir, path, follow, must_dir)?;
            self.open_handle(ino)?;
            return Ok(Opened {
                ino,
                created: false,
            });
        }
        check_path(path)?;
        let start = self.start_dir(dir, path)?;
        let (ino, must_dir) = match self.open_target(cred, start, path, flags)? {
            Target::Create { dir, name } => {
                self.may_create(cred, dir)?;
                let mode = linux::S_IFREG | (mode & S_IALLUGO & !(umask & S_IRWXUGO));
                let body = Body::File(FileData::default());
                let ino = self.create(cred, dir, &name, mode, body, now)?;
                self.open_handle(ino)?;
                return Ok(Opened { ino, created: true });
            }
            Target::Existing(ino, must_dir) => (ino, must_dir),
        };

        // do_open and may_open, on an inode that was there.
        let inode = self.inode(ino)?;
        let ftype = inode.file_type();
        if creat {
            if flags & linux::O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            if ftype == FileType::Directory {
                return Err(Errno::EISDIR);
            }
        }
        if (must_dir || flags & linux::O_DIRECTORY != 0) && ftype != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let mut truncate = flags & linux::O_TRUNC != 0;
        match ftype {
            FileType::Symlink => return Err(Errno::ELOOP),
            FileType::Directory if acc.contains(Access::WRITE) => return Err(Errno::EISDIR),
            FileType::Directory | FileType::Regular => {}
            FileType::CharDevice | FileType::BlockDevice | FileType::Fifo | FileType::Socket => {
                truncate = false;
            }
        }
        inode.may(cred, acc)?;
        if flags & linux::O_NOATIME != 0 && !cred.owns(inode.uid) {
            return Err(Errno::EPERM);
        }
        if ftype == FileType::Socket {
            return Err(Errno::ENXIO);
        }
        if truncate && ftype == FileType::Regular {
            self.set_size(cred, ino, 0, now, true)?;
        }
        self.open_handle(ino)?;
        Ok(Opened {
            ino,
            created: false,
        })
    }

    /// `open`'s walk (`path_openat`'s loop over `link_path_walk` and `open_last_lookups`).
    fn open_target(
        &self,
        cred: &Credentials,
        start: Ino,
        path: &[u8],
        flags: u32,
    ) -> Result<Target, Errno> {
        let creat = flags & linux::O_CREAT != 0;
        // O_EXCL with O_CREAT implies O_NOFOLLOW (build_open_flags).
        let follow = flags & linux::O_NOFOLLOW == 0 && !(creat && flags & linux::O_EXCL != 0);
        let mut hops = 0;
        let mut last = self.link_path_walk(cred, start, path, &mut hops)?;
        let mut must_dir = false;
        loop {
            must_dir |= last.trailing;
            let ino = match last.kind {
                LastKind::Name(name) => {
                    if creat && last.trailing {
                        return Err(Errno::EISDIR);
                    }
                    match self.lookup_child(last.dir, name)? {
                        Some(ino) => self.cross(ino),
                        None if creat => {
                            return Ok(Target::Create {
                                dir: last.dir,
                                name: name.to_vec(),
                            });
                        }
                        None => return Err(Errno::ENOENT),
                    }
                }
                _ => self.last_ino(&last)?,
            };
            if (follow || must_dir)
                && let Some(target) = self.inode(ino)?.symlink()
            {
                Self::hop(&mut hops)?;
                last = self.link_path_walk(cred, last.dir, target, &mut hops)?;
                continue;
            }
            return Ok(Target::Existing(ino, must_dir));
        }
    }

    /// `mkdir(2)`: creates directory `path` with mode `mode & 07777 & ~umask` minus the set-id
    /// bits (a set-group-ID parent passes its group and the bit on). Returns the new inode.
    ///
    /// Errors (Linux's `filename_create` and `may_create`): the walk's; `EEXIST` if the name
    /// exists (a dangling symlink included) or is `.`, `..` or `/`; `EACCES` without write and
    /// search permission on the parent; `ENOENT` if the parent was removed; `ENOSPC` past the
    /// inode limit. A trailing slash is allowed.
    pub fn mkdir(
        &mut self,
        cred: &Credentials,
        dir: Ino,
        path: &[u8],
        mode: u32,
        umask: u32,
        now: Timespec,
    ) -> Result<Ino, Errno> {
        let (parent, name) = self.prepare_create(cred, dir, cstr(path), true)?;
        let mode = linux::S_IFDIR | (mode & (S_IRWXUGO | linux::S_ISVTX) & !(umask & S_IRWXUGO));
        self.create(cred, parent, &name, mode, Body::Dir(Dir::new(parent)), now)
    }

    /// `mknod(2)`: creates a regular file (type 0 or `S_IFREG`), device node, FIFO or socket
    /// node with permissions `mode & 07777 & ~umask`; `rdev` matters for devices only (decode
    /// the syscall's argument with [`Dev::decode`]). Returns the new inode.
    ///
    /// Errors: `EPERM` for `S_IFDIR`, `EINVAL` for an unknown type (both before the walk, as
    /// `may_mknod`); then as [`Fs::mkdir`], except that a trailing slash is `ENOENT` (`EEXIST`
    /// if the name exists); then `EPERM` for a device node unless root (`CAP_MKNOD`).
    #[allow(clippy::too_many_arguments)] // mknod(2)'s own arguments, plus who and when.
    pub fn mknod(
        &mut self,
        cred: &Credentials,
        dir: Ino,
        path: &[u8],
        mode: u32,
        rdev: Dev,
        umask: u32,
        now: Timespec,
    ) -> Result<Ino, Errno> {
        let ftype = match mode & linux::S_IFMT {
            0 => FileType::Regular,
            linux::S_IFDIR => return Err(Errno::EPERM),
            bits => FileType::from_mode(bits).ok_or(Errno::EINVAL)?,
        };
        let (parent, name) = self.prepare_create(cred, dir, cstr(path), false)?;
        let body = match ftype {
            FileType::Regular => Body::File(FileData::default()),
            FileType::CharDevice | FileType::BlockDevice => {
                if !cred.is_root() {
                    return Err(Errno::EPERM);
                }
                Body::Special(rdev)
            }
            _ => Body::Special(Dev::default()),
        };
        let mode = ftype.mode_bits() | (mode & S_IALLUGO & !(umask & S_IRWXUGO));
        self.create(cred, parent, &name, mode, body, now)
    }

    /// `symlink(2)`: creates symlink `path` pointing at `target` (stored as given, never checked).
    /// Returns the new inode.
    ///
    /// Errors: `ENOENT` for an empty target, `ENAMETOOLONG` for one of `PATH_MAX` bytes or more;
    /// then as [`Fs::mknod`].
    pub fn symlink(
        &mut self,
        cred: &Credentials,
        target: &[u8],
        dir: Ino,
        path: &[u8],
        now: Timespec,
    ) -> Result<Ino, Errno> {
        let target = cstr(target);
        check_path(target)?;
        let (parent, name) = self.prepare_create(cred, dir, cstr(path), false)?;
        let body = Body::Symlink(target.to_vec());
        self.create(cred, parent, &name, linux::S_IFLNK | S_IRWXUGO, body, now)
    }

    /// `link(2)`/`linkat(2)`: gives the inode `old_path` names a new name `new_path`.
    ///
    /// `flags`: `AT_SYMLINK_FOLLOW` follows a final symlink in `old_path` (by default the link
    /// itself gets the new name, as Linux's `link(2)` does); `AT_EMPTY_PATH` with an empty
    /// `old_path` names `old_dir` itself, for root only (`ENOENT` otherwise, as Linux before 6.10
    /// answers); other bits are `EINVAL`.
    ///
    /// Errors: `old_path`'s walk; then as [`Fs::mknod`] for `new_path`; then `EPERM` if the
    /// inode is a directory, `ENOENT` if it has no name left (unlinked but open), `EMLINK` past
    /// 2^32 - 1 links.
    #[allow(clippy::too_many_arguments)] // linkat(2)'s own arguments, plus who and when.
    pub fn link(
        &mut self,
        cred: &Credentials,
        old_dir: Ino,
        old_path: &[u8],
        new_dir: Ino,
        new_path: &[u8],
        flags: u32,
        now: Timespec,
    ) -> Result<(), Errno> {
        if flags & !(linux::AT_SYMLINK_FOLLOW | linux::AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let old_path = cstr(old_path);
        let ino = if old_path.is_empty() && flags & linux::AT_EMPTY_PATH != 0 {
            if !cred.is_root() {
                return Err(Errno::ENOENT);
            }
            self.inode(old_dir)?;
            old_dir
        } else {
            let follow = flags & linux::AT_SYMLINK_FOLLOW != 0;
            self.resolve(cred, old_dir, old_path, follow, false)?
        };
        // do_linkat: filename_create, then EXDEV across mounts, then vfs_link's may_create.
        let (parent, name) = self.name_to_create(cred, new_dir, cstr(new_path), false)?;
        if self.sb_of(ino)? != self.sb_of(parent)? {
            return Err(Errno::EXDEV);
        }
        self.may_create(cred, parent)?;
        let inode = self.inode(ino)?;
        if inode.is_dir() {
            return Err(Errno::EPERM);
        }
        if inode.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        let inode = self.inode_mut(ino)?;
        inode.nlink = inode.nlink.checked_add(1).ok_or(Errno::EMLINK)?;
        inode.ctime = now;
        self.attach(parent, &name, ino, now);
        Ok(())
    }

    /// `unlink(2)`: removes the name `path` (a final symlink is removed, not followed). The inode
    /// loses a link, and is freed once it has none and no handle.
    ///
    /// Errors (`do_unlinkat`, `may_delete`): the walk's; `EISDIR` for `.`, `..` or `/`; `ENOENT`
    /// if the name does not exist; with a trailing slash, `EISDIR` for a directory and `ENOTDIR`
    /// for anything else; `EACCES` without write and search permission on the directory; `EPERM`
    /// in a sticky directory unless the caller owns the file or the directory, or is root;
    /// `EISDIR` for a directory.
    pub fn unlink(
        &mut self,
        cred: &Credentials,
        dir: Ino,
        path: &[u8],
        now: Timespec,
    ) -> Result<(), Errno> {
        let path = cstr(path);
        let (parent, name, victim) = {
            let last = self.walk_parent(cred, dir, path)?;
            let Some(name) = last.name() else {
                return Err(Errno::EISDIR);
            };
            let victim = self.lookup_child(last.dir, name)?;
            if last.trailing {
                return Err(match victim {
                    None => Errno::ENOENT,
                    Some(v) if self.inode(v)?.is_dir() => Errno::EISDIR,
                    Some(_) => Errno::ENOTDIR,
                });
            }
            let victim = victim.ok_or(Errno::ENOENT)?;
            self.may_delete(cred, last.dir, victim, false)?;
            (last.dir, name.to_vec(), victim)
        };
        self.detach(parent, &name, now);
        self.drop_link(victim, now);
        Ok(())
    }

    /// `rmdir(2)`: removes the empty directory `path` (a trailing slash is allowed; a final
    /// symlink is not followed). The directory is freed once no handle remains; until then it
    /// stays usable as a cwd, empty, creating nothing in it (`ENOENT`).
    ///
    /// Errors (`do_rmdir`, `may_delete`): the walk's; `EINVAL` for a last component `.`,
    /// `ENOTEMPTY` for `..`, `EBUSY` for `/`; `ENOENT` if absent; `EACCES`, `EPERM` (sticky) as
    /// [`Fs::unlink`]; `ENOTDIR` if not a directory; `ENOTEMPTY` if it has entries.
    pub fn rmdir(
        &mut self,
        cred: &Credentials,
        dir: Ino,
        path: &[u8],
        now: Timespec,
    ) -> Result<(), Errno> {
        let path = cstr(path);
        let (parent, name, victim) = {
            let last = self.walk_parent(cred, dir, path)?;
            let name = match last.kind {
                LastKind::DotDot => return Err(Errno::ENOTEMPTY),
                LastKind::Dot => return Err(Errno::EINVAL),
                LastKind::Root => return Err(Errno::EBUSY),
                LastKind::Name(name) => name,
            };
            let victim = self.lookup_child(last.dir, name)?.ok_or(Errno::ENOENT)?;
            self.may_delete(cred, last.dir, victim, true)?;
            if !self.dir(victim)?.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            (last.dir, name.to_vec(), victim)
        };
        self.detach(parent, &name, now);
        self.drop_link(victim, now);
        Ok(())
    }

    /// `rename(2)`/`renameat2(2)`: moves `old_path` to `new_path` (neither final symlink is
    /// followed), replacing what `new_path` names unless `flags` has `RENAME_NOREPLACE`;
    /// `RENAME_EXCHANGE` swaps the two instead.
    ///
    /// Checks, in Linux's order (`do_renameat2`, `vfs_rename`, `shmem_rename2`):
    /// - `EINVAL`: unknown flags, `RENAME_EXCHANGE` with another flag, `RENAME_WHITEOUT` (not
    ///   supported; `EPERM` for non-root, as Linux checks that first);
    /// - the walks' errors; `EBUSY` if `old_path` ends in `.`, `..` or `/`, and if `new_path` does
    ///   (`EEXIST` with `RENAME_NOREPLACE`);
    /// - `ENOENT` if the source is missing; `EEXIST` if the target exists with
    ///   `RENAME_NOREPLACE`; `ENOENT` if it is missing with `RENAME_EXCHANGE`;
    /// - `ENOTDIR` for a trailing slash on a non-directory;
    /// - `EINVAL` if the source is an ancestor of the target's directory (a directory moved into
    ///   its own subtree); `ENOTEMPTY` (`EINVAL` when exchanging) if the target is an ancestor
    ///   of the source's directory;
    /// - nothing happens, successfully, if both names are links to one inode;
    /// - `EACCES` without write and search permission on either directory, `EPERM` for the
    ///   sticky-directory rule on the source or the replaced target;
    /// - `ENOTDIR` for a directory over a non-directory, `EISDIR` for a non-directory over a
    ///   directory;
    /// - `EACCES` when a directory changes parent without write permission on it (its `..`);
    /// - `ENOTEMPTY` when replacing a directory that has entries.
    #[allow(clippy::too_many_arguments)] // renameat2(2)'s own arguments, plus who and when.
    pub fn rename(
        &mut self,
        cred: &Credentials,
        old_dir: Ino,
        old_path: &[u8],
        new_dir: Ino,
        new_path: &[u8],
        flags: u32,
        now: Timespec,
    ) -> Result<(), Errno> {
        let known = linux::RENAME_NOREPLACE | linux::RENAME_EXCHANGE | linux::RENAME_WHITEOUT;
        if flags & !known != 0 {
            return Err(Errno::EINVAL);
        }
        let exchange = flags & linux::RENAME_EXCHANGE != 0;
        if exchange && flags & (linux::RENAME_NOREPLACE | linux::RENAME_WHITEOUT) != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & linux::RENAME_WHITEOUT != 0 {
            return Err(if cred.is_root() {
                Errno::EINVAL
            } else {
                Errno::EPERM
            });
        }
        let noreplace = flags & linux::RENAME_NOREPLACE != 0;
        let plan = self.plan_rename(
            cred,
            (old_dir, cstr(old_path)),
            (new_dir, cstr(new_path)),
            noreplace,
            exchange,
        )?;
        if let Some(plan) = plan {
            self.apply_rename(plan, now);
        }
        Ok(())
    }

    /// Every check of [`Fs::rename`]; `None` when there is nothing to do.
    fn plan_rename(
        &self,
        cred: &Credentials,
        (old_dir, old_path): (Ino, &[u8]),
        (new_dir, new_path): (Ino, &[u8]),
        noreplace: bool,
        exchange: bool,
    ) -> Result<Option<RenamePlan>, Errno> {
        let old = self.walk_parent(cred, old_dir, old_path)?;
        let new = self.walk_parent(cred, new_dir, new_path)?;
        if self.sb_of(old.dir)? != self.sb_of(new.dir)? {
            return Err(Errno::EXDEV);
        }
        let Some(old_name) = old.name() else {
            return Err(Errno::EBUSY);
        };
        let Some(new_name) = new.name() else {
            return Err(if noreplace {
                Errno::EEXIST
            } else {
                Errno::EBUSY
            });
        };
        let source = self.lookup_child(old.dir, old_name)?.ok_or(Errno::ENOENT)?;
        let target = self.lookup_child(new.dir, new_name)?;
        if noreplace && target.is_some() {
            return Err(Errno::EEXIST);
        }
        let source_is_dir = self.inode(source)?.is_dir();
        let target_is_dir = match target {
            Some(t) => self.inode(t)?.is_dir(),
            None => false,
        };
        if exchange {
            if target.is_none() {
                return Err(Errno::ENOENT);
            }
            if !target_is_dir && new.trailing {
                return Err(Errno::ENOTDIR);
            }
        }
        if !source_is_dir && (old.trailing || (!exchange && new.trailing)) {
            return Err(Errno::ENOTDIR);
        }
        let trap = self.rename_trap(old.dir, new.dir);
        if trap == Some(source) {
            return Err(Errno::EINVAL);
        }
        if target.is_some() && trap == target {
            return Err(if exchange {
                Errno::EINVAL
            } else {
                Errno::ENOTEMPTY
            });
        }

        // vfs_rename.
        if target == Some(source) {
            return Ok(None);
        }
        self.may_delete(cred, old.dir, source, source_is_dir)?;
        match target {
            None => self.may_create(cred, new.dir)?,
            Some(t) => {
                let isdir = if exchange {
                    target_is_dir
                } else {
                    source_is_dir
                };
                self.may_delete(cred, new.dir, t, isdir)?;
            }
        }
        if old.dir != new.dir {
            if source_is_dir {
                self.inode(source)?.may(cred, Access::WRITE)?;
            }
            if let Some(t) = target
                && exchange
                && target_is_dir
            {
                self.inode(t)?.may(cred, Access::WRITE)?;
            }
        }
        if let Some(t) = target
            && !exchange
            && target_is_dir
            && !self.dir(t)?.is_empty()
        {
            return Err(Errno::ENOTEMPTY);
        }
        Ok(Some(RenamePlan {
            old_dir: old.dir,
            old_name: old_name.to_vec(),
            source,
            new_dir: new.dir,
            new_name: new_name.to_vec(),
            target,
            exchange,
        }))
    }

    /// Carries out a checked rename (`shmem_rename2`, `simple_rename_exchange`).
    fn apply_rename(&mut self, p: RenamePlan, now: Timespec) {
        if p.exchange {
            let target = p.target.unwrap_or(p.source);
            let source_is_dir = self.inode(p.source).is_ok_and(Inode::is_dir);
            let target_is_dir = self.inode(target).is_ok_and(Inode::is_dir);
            if let Ok(d) = self.dir_mut(p.old_dir) {
                d.replace(&p.old_name, target);
            }
            if let Ok(d) = self.dir_mut(p.new_dir) {
                d.replace(&p.new_name, p.source);
            }
            if p.old_dir != p.new_dir && source_is_dir != target_is_dir {
                let (gains, loses) = if source_is_dir {
                    (p.new_dir, p.old_dir)
                } else {
                    (p.old_dir, p.new_dir)
                };
                if let Ok(i) = self.inode_mut(gains) {
                    i.nlink += 1;
                }
                if let Ok(i) = self.inode_mut(loses) {
                    i.nlink -= 1;
                }
            }
            for (ino, parent) in [(p.source, p.new_dir), (target, p.old_dir)] {
                if let Ok(i) = self.inode_mut(ino) {
                    i.ctime = now;
                    if let Some(d) = i.dir_mut() {
                        d.parent = parent;
                    }
                }
            }
            for dir in [p.old_dir, p.new_dir] {
                if let Ok(i) = self.inode_mut(dir) {
                    i.mtime = now;
                    i.ctime = now;
                }
            }
            return;
        }
        self.detach(p.old_dir, &p.old_name, now);
        if let Some(target) = p.target {
            self.detach(p.new_dir, &p.new_name, now);
            self.drop_link(target, now);
        }
        self.attach(p.new_dir, &p.new_name, p.source, now);
        if let Ok(i) = self.inode_mut(p.source) {
            i.ctime = now;
            if let Some(d) = i.dir_mut() {
                d.parent = p.new_dir;
            }
        }
    }

    /// Linux's `lock_rename` trap: if `old_dir` is an ancestor of `new_dir`, its child on the way
    /// down to `new_dir` (or `new_dir` itself); if `new_dir` is an ancestor of `old_dir`, its
    /// child on the way to `old_dir`; otherwise none.
    fn rename_trap(&self, old_dir: Ino, new_dir: Ino) -> Option<Ino> {
        if old_dir == new_dir {
            return None;
        }
        for (ancestor, from) in [(old_dir, new_dir), (new_dir, old_dir)] {
            let mut p = from;
            while p != ROOT_INO {
                let up = self.dotdot(p);
                if up == ancestor {
                    return Some(p);
                }
                if up == p {
                    break;
                }
                p = up;
            }
        }
        None
    }

    /// `readlink(2)`/`readlinkat(2)`: the target of the symlink `path` names (not followed;
    /// an empty path names `dir` itself, as `readlinkat` allows). Updates its access time.
    ///
    /// Errors: the walk's; `EINVAL` if it is not a symlink (`ENOENT` for an empty path).
    pub fn readlink(
        &mut self,
        cred: &Credentials,
        dir: Ino,
        path: &[u8],
        now: Timespec,
    ) -> Result<Vec<u8>, Errno> {
        let path = cstr(path);
        let ino = if path.is_empty() {
            self.inode(dir)?;
            dir
        } else {
            self.resolve(cred, dir, path, false, false)?
        };
        let inode = self.inode_mut(ino)?;
        let Some(target) = inode.symlink() else {
            return Err(if path.is_empty() {
                Errno::ENOENT
            } else {
                Errno::EINVAL
            });
        };
        let target = target.to_vec();
        inode.touch_atime(now);
        Ok(target)
    }

    /// Linux's `may_create`: `ENOENT` if `dir` was removed, `EACCES` without write and search
    /// permission on it.
    pub(crate) fn may_create(&self, cred: &Credentials, dir: Ino) -> Result<(), Errno> {
        let d = self.inode(dir)?;
        if d.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        d.may(cred, Access::WRITE | Access::EXEC)
    }

    /// Linux's `may_delete`: may the caller remove (or rename away, or replace) `victim` from
    /// `dir`, as a directory if `isdir`?
    fn may_delete(
        &self,
        cred: &Credentials,
        dir: Ino,
        victim: Ino,
        isdir: bool,
    ) -> Result<(), Errno> {
        let d = self.inode(dir)?;
        let v = self.inode(victim)?;
        d.may(cred, Access::WRITE | Access::EXEC)?;
        // check_sticky: in a sticky directory only the file's owner, the directory's owner or
        // root (CAP_FOWNER) may remove a name.
        if d.mode & linux::S_ISVTX != 0 && v.uid != cred.uid && d.uid != cred.uid && !cred.is_root()
        {
            return Err(Errno::EPERM);
        }
        if isdir {
            if !v.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if victim == ROOT_INO {
                return Err(Errno::EBUSY);
            }
        } else if v.is_dir() {
            return Err(Errno::EISDIR);
        }
        if d.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        // vfs_rmdir, vfs_unlink, vfs_rename: a mountpoint is not removed or renamed away.
        if self.is_mountpoint(victim) {
            return Err(Errno::EBUSY);
        }
        Ok(())
    }

    /// Linux's `filename_create` followed by `may_create`, for the calls that make a new name:
    /// the directory and the name, or `EEXIST` (the name exists, or is `.`, `..`, `/`), `ENOENT`
    /// (a trailing slash when not creating a directory), `ENOENT`/`EACCES` from `may_create`.
    fn prepare_create(
        &self,
        cred: &Credentials,
        dir: Ino,
        path: &[u8],
        is_dir: bool,
    ) -> Result<(Ino, Vec<u8>), Errno> {
        let (dir, name) = self.name_to_create(cred, dir, path, is_dir)?;
        self.may_create(cred, dir)?;
        Ok((dir, name))
    }

    /// Linux's `filename_create` alone: [`Fs::prepare_create`] without `may_create`, for
    /// `link`, which checks `EXDEV` in between.
    fn name_to_create(
        &self,
        cred: &Credentials,
        dir: Ino,
        path: &[u8],
        is_dir: bool,
    ) -> Result<(Ino, Vec<u8>), Errno> {
        let last = self.walk_parent(cred, dir, path)?;
        let Some(name) = last.name() else {
            return Err(Errno::EEXIST);
        };
        if self.lookup_child(last.dir, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        if last.trailing && !is_dir {
            return Err(Errno::ENOENT);
        }
        Ok((last.dir, name.to_vec()))
    }

    /// Linux's `inode_init_owner` with `mode_strip_sgid`: the owner is the caller; the group is
    /// the caller's, or the directory's if the directory is set-group-ID (a new directory then
    /// inherits the bit; a new group-executable set-group-ID file loses it unless the caller is in
    /// that group or root).
    fn init_owner(
        &self,
        cred: &Credentials,
        dir: Ino,
        mode: u32,
    ) -> Result<(u32, u32, u32), Errno> {
        let parent = self.inode(dir)?;
        let mut mode = mode;
        let is_dir = mode & linux::S_IFMT == linux::S_IFDIR;
        let sgid_dir = parent.mode & linux::S_ISGID != 0;
        let sgid_exec = linux::S_ISGID | linux::S_IXGRP;
        if !is_dir
            && sgid_dir
            && mode & sgid_exec == sgid_exec
            && !cred.in_group_or_root(parent.gid)
        {
            mode &= !linux::S_ISGID;
        }
        let gid = if sgid_dir {
            if is_dir {
                mode |= linux::S_ISGID;
            }
            parent.gid
        } else {
            cred.gid
        };
        Ok((mode, cred.uid, gid))
    }

    /// Makes a new inode named `name` in `dir` (checked by the caller): one link (a directory
    /// two, and one more for its parent), every time `now`, the directory's times too.
    pub(crate) fn create(
        &mut self,
        cred: &Credentials,
        dir: Ino,
        name: &[u8],
        mode: u32,
        body: Body,
        now: Timespec,
    ) -> Result<Ino, Errno> {
        let (mode, uid, gid) = self.init_owner(cred, dir, mode)?;
        let nlink = if matches!(body, Body::Dir(_)) { 2 } else { 1 };
        let mut inode = Inode::new(mode, uid, gid, nlink, body, now);
        inode.sb = self.sb_of(dir)?;
        let ino = self.alloc(inode)?;
        self.attach(dir, name, ino, now);
        Ok(ino)
    }

    /// Adds the entry `name` → `ino` to `dir`: the directory gains a link if `ino` is a
    /// directory, and its times become `now`.
    pub(crate) fn attach(&mut self, dir: Ino, name: &[u8], ino: Ino, now: Timespec) {
        let is_dir = self.inode(ino).is_ok_and(Inode::is_dir);
        if let Ok(d) = self.inode_mut(dir) {
            if let Some(entries) = d.dir_mut() {
                entries.insert(name, ino);
            }
            if is_dir {
                d.nlink += 1;
            }
            d.mtime = now;
            d.ctime = now;
        }
    }

    /// Removes the entry `name` from `dir` (the inode keeps its link count; see
    /// [`Fs::drop_link`]): the directory loses a link if the entry was a directory, and its
    /// times become `now`.
    pub(crate) fn detach(&mut self, dir: Ino, name: &[u8], now: Timespec) -> Option<Ino> {
        let ino = self.dir_mut(dir).ok()?.remove(name)?;
        let is_dir = self.inode(ino).is_ok_and(Inode::is_dir);
        if let Ok(d) = self.inode_mut(dir) {
            if is_dir {
                d.nlink -= 1;
            }
            d.mtime = now;
            d.ctime = now;
        }
        Some(ino)
    }
}
