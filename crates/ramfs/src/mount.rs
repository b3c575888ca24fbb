//! Mounts: more file systems in the one name space (`mount(2)`, `umount2(2)`, `/proc/mounts`,
//! and what `statfs(2)` says of each: `Fs::statfs`).
//!
//! Every file system the server holds lives in the one [`Fs`]: the root file system (the
//! initramfs's tree) is number 0, and each `tmpfs` or `ramfs` mounted since is a new empty
//! tree with its own number, root inode and `st_dev`. Each inode records the file system it
//! belongs to (`Inode::sb`, set from the directory it is made in), so inode numbers stay unique
//! across the server (the file images of `user/bin/fs` key on them) and a file system is the
//! set of inodes carrying its number.
//!
//! A mount *covers* a directory of another file system (Linux's mountpoint). The path walk
//! (`walk.rs`) crosses from a covered directory to the mounted root whenever a name leads to it
//! ([`Fs::cross`]), and `..` at a mounted root goes to the covered directory's parent
//! ([`Fs::dotdot`]), as Linux's `follow_down` and `follow_dotdot` do. A directory a process
//! already stood in (a cwd) before the mount stays the covered one, as on Linux. Mounts stack:
//! mounting on a path that leads to a mounted root covers that root. Renaming or removing a
//! covered directory is `EBUSY`; a rename or link between file systems is `EXDEV`.
//!
//! Not supported (each refused with `EINVAL`, never silently ignored): mount flags other than
//! `MS_SILENT` and `MS_RELATIME` (read-only, bind, move, remount, propagation, `nosuid`…), tmpfs
//! options other than `mode`, `uid` and `gid` (`size`, `nr_inodes`: every file system shares the
//! server's [`crate::Limits`]), and mounting over `/` (`EBUSY`). A lazy unmount
//! (`MNT_DETACH`) of a busy file system takes it out of the name space at once; its inodes live
//! on while handles on them remain and go with the last one.

use alloc::vec::Vec;

use k42_linux::Errno;
use k42_linux::raw::general::RAMFS_MAGIC;
use k42_linux::statfs::{ST_RELATIME, StatFs};

use crate::cred::Credentials;
use crate::dir::Dir;
use crate::inode::{Body, Dev, Ino, Inode, Timespec};
use crate::walk::cstr;
use crate::{Fs, ROOT_INO, linux};

/// A file system's number: 0 is the root file system, each mount takes the next.
pub(crate) type Sb = u32;

/// The root file system's number.
pub(crate) const ROOT_SB: Sb = 0;

/// The file system types `mount(2)` can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsType {
    /// `tmpfs`: root directory mode `1777` by default.
    Tmpfs,
    /// `ramfs`: root directory mode `0755`.
    Ramfs,
}

impl FsType {
    /// The type `name` (as `mount -t` gives it) names, or `ENODEV` (Linux's answer for a type
    /// it does not know).
    pub fn from_name(name: &[u8]) -> Result<FsType, Errno> {
        match cstr(name) {
            b"tmpfs" => Ok(FsType::Tmpfs),
            b"ramfs" => Ok(FsType::Ramfs),
            _ => Err(Errno::ENODEV),
        }
    }

    /// Its name, as `/proc/mounts` shows it.
    pub fn name(self) -> &'static str {
        match self {
            FsType::Tmpfs => "tmpfs",
            FsType::Ramfs => "ramfs",
        }
    }
}

/// A mounted file system, as `/proc/mounts` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// What `mount(2)` was given as the source (`tmpfs`, `none`…).
    pub source: Vec<u8>,
    /// Where it is mounted: an absolute path.
    pub target: Vec<u8>,
    /// Its type.
    pub fstype: FsType,
    /// Its `st_dev`.
    pub dev: Dev,
}

/// One mounted file system (not the root one).
#[derive(Debug)]
pub(crate) struct Mount {
    /// Its root directory.
    root: Ino,
    /// The directory it covers (`None` once lazily unmounted).
    point: Option<Ino>,
    source: Vec<u8>,
    fstype: FsType,
    dev: Dev,
    /// `MNT_EXPIRE` marked it; the next one unmounts it if it is still unused.
    expiring: bool,
}

/// The mounts of an [`Fs`].
#[derive(Debug, Default)]
pub(crate) struct Mounts {
    /// By number less one (number 0, the root file system, has no record); `None` once gone.
    table: Vec<Option<Mount>>,
    /// Covered directory → the number of the file system mounted on it.
    covered: alloc::collections::BTreeMap<Ino, Sb>,
}

/// Mount flags that change nothing here: `MS_SILENT` (verbosity) and `MS_RELATIME` (what
/// access times follow anyway).
const HARMLESS_FLAGS: u32 = linux::MS_SILENT | linux::MS_RELATIME;

/// The `umount2(2)` flags.
const UMOUNT_FLAGS: u32 =
    linux::MNT_FORCE | linux::MNT_DETACH | linux::MNT_EXPIRE | linux::UMOUNT_NOFOLLOW;

/// The first minor number of the anonymous devices mounts get (Linux numbers tmpfs and ramfs
/// instances as anonymous devices, major 0).
const FIRST_MOUNT_MINOR: u32 = 32;

/// A tmpfs or ramfs's root owner and mode, from `mount(2)`'s data (`mode=`, `uid=`, `gid=`,
/// comma-separated; Linux's `shmem_parse_one` and `ramfs_parse_param`). Anything else is
/// `EINVAL`.
fn parse_options(
    fstype: FsType,
    data: &[u8],
    cred: &Credentials,
) -> Result<(u32, u32, u32), Errno> {
    let mut mode = match fstype {
        FsType::Tmpfs => 0o1777,
        FsType::Ramfs => 0o755,
    };
    let (mut uid, mut gid) = (cred.uid, cred.gid);
    for option in cstr(data).split(|&b| b == b',').filter(|o| !o.is_empty()) {
        let at = option
            .iter()
            .position(|&b| b == b'=')
            .ok_or(Errno::EINVAL)?;
        let (key, value) = (&option[..at], &option[at + 1..]);
        let number = |radix| {
            core::str::from_utf8(value)
                .ok()
                .and_then(|s| u32::from_str_radix(s, radix).ok())
                .ok_or(Errno::EINVAL)
        };
        match key {
            b"mode" => mode = number(8)? & 0o7777,
            b"uid" if fstype == FsType::Tmpfs => uid = number(10)?,
            b"gid" if fstype == FsType::Tmpfs => gid = number(10)?,
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok((mode, uid, gid))
}

impl Mounts {
    fn get(&self, sb: Sb) -> Option<&Mount> {
        let index = usize::try_from(sb).ok()?.checked_sub(1)?;
        self.table.get(index)?.as_ref()
    }
}

impl Fs {
    /// `mount(2)` of a new `tmpfs` or `ramfs` (`fstype`) on the directory `target` names (from
    /// `dir`, following symlinks), its root owned by the caller with the type's default mode
    /// unless `data` says otherwise. The root file system's limits bound it too.
    ///
    /// Errors, in Linux's order (`do_mount`, `path_mount`, `do_new_mount`, `graft_tree`): the
    /// walk's (`ENOENT`, `ENOTDIR`, `EACCES`, `ELOOP`, `ENAMETOOLONG`); `EPERM` for anyone but
    /// root (`CAP_SYS_ADMIN`); `EINVAL` for flags other than `MS_SILENT` and `MS_RELATIME` (the
    /// old `MS_MGC_VAL` magic in the high half is dropped first, as Linux does); `EINVAL` for
    /// no type, `ENODEV` for another type; `EINVAL` for options it does not know; `ENOENT` for a removed directory;
    /// `EINVAL` for a directory of a lazily unmounted file system; `ENOTDIR` if `target` is not
    /// a directory; `EBUSY` for `/`; `ENOSPC` past the inode limit.
    #[allow(clippy::too_many_arguments)] // mount(2)'s own arguments, plus who, where and when.
    pub fn mount(
        &mut self,
        cred: &Credentials,
        dir: Ino,
        target: &[u8],
        source: &[u8],
        fstype: &[u8],
        flags: u32,
        data: &[u8],
        now: Timespec,
    ) -> Result<(), Errno> {
        let point = self.resolve(cred, dir, cstr(target), true, false)?;
        if !cred.is_root() {
            return Err(Errno::EPERM);
        }
        let flags = if flags & linux::MS_MGC_MSK == linux::MS_MGC_VAL {
            flags & !linux::MS_MGC_MSK
        } else {
            flags
        };
        if flags & !HARMLESS_FLAGS != 0 {
            return Err(Errno::EINVAL);
        }
        // A new mount needs a type: `do_new_mount` answers a NULL one with EINVAL (the
        // personality passes NULL as empty; an empty string would be ENODEV on Linux).
        if cstr(fstype).is_empty() {
            return Err(Errno::EINVAL);
        }
        let fstype = FsType::from_name(fstype)?;
        let (mode, uid, gid) = parse_options(fstype, data, cred)?;
        let covered = self.inode(point)?;
        // lock_mount: a removed directory (a cwd, say) takes no mount.
        if covered.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        // do_add_mount's check_mnt: nothing is mounted on a lazily unmounted file system.
        if covered.sb != ROOT_SB
            && self
                .mounts
                .get(covered.sb)
                .is_none_or(|m| m.point.is_none())
        {
            return Err(Errno::EINVAL);
        }
        if !covered.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if point == ROOT_INO {
            return Err(Errno::EBUSY);
        }
        let sb = Sb::try_from(self.mounts.table.len() + 1).map_err(|_| Errno::ENOSPC)?;
        let minor = FIRST_MOUNT_MINOR.checked_add(sb).ok_or(Errno::ENOSPC)?;
        let mut root = Inode::new(
            linux::S_IFDIR | mode,
            uid,
            gid,
            2,
            Body::Dir(Dir::new(0)),
            now,
        );
        root.sb = sb;
        let root = self.alloc(root)?;
        // A file system's root is its own `..` (as `/` is); `Fs::dotdot` leaves it for the
        // covered directory's parent.
        self.dir_mut(root)?.parent = root;
        self.mounts.table.push(Some(Mount {
            root,
            point: Some(point),
            source: cstr(source).to_vec(),
            fstype,
            dev: Dev::new(0, minor),
            expiring: false,
        }));
        self.mounts.covered.insert(point, sb);
        Ok(())
    }

    /// `umount2(2)` of the file system mounted at `target` (from `dir`; a final symlink is
    /// followed unless `UMOUNT_NOFOLLOW`). Its inodes go with it.
    ///
    /// Errors, in Linux's order (`ksys_umount`, `can_umount`, `do_umount`): `EINVAL` for
    /// unknown flags; the walk's errors; `EPERM` for anyone but root; `EINVAL` if `target` is
    /// not where a file system is mounted; `EINVAL` for `MNT_EXPIRE` with `MNT_FORCE` or
    /// `MNT_DETACH`; `EBUSY` for `/`, and, without `MNT_DETACH`, while the server holds a handle
    /// on any of its inodes (an open file, a cwd) or another file system is mounted inside it;
    /// `EAGAIN` for the first `MNT_EXPIRE` of an unused one, which marks it for the next (the
    /// mark is not cleared by use, as Linux's is: the server does not track use, only handles).
    pub fn umount(
        &mut self,
        cred: &Credentials,
        dir: Ino,
        target: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !UMOUNT_FLAGS != 0 {
            return Err(Errno::EINVAL);
        }
        let follow = flags & linux::UMOUNT_NOFOLLOW == 0;
        let root = self.resolve(cred, dir, cstr(target), follow, false)?;
        // can_umount: may_mount first, then whether the target is a mount's root.
        if !cred.is_root() {
            return Err(Errno::EPERM);
        }
        let sb = self.inode(root)?.sb;
        let point = match self.mounts.get(sb) {
            Some(m) if m.root == root => m.point,
            _ => None,
        };
        if point.is_none() && root != ROOT_INO {
            return Err(Errno::EINVAL);
        }
        let expire = flags & linux::MNT_EXPIRE != 0;
        let detach = flags & linux::MNT_DETACH != 0;
        if expire && flags & (linux::MNT_FORCE | linux::MNT_DETACH) != 0 {
            return Err(Errno::EINVAL);
        }
        if point.is_none() {
            return Err(Errno::EBUSY); // `/`
        }
        let busy = self.busy(sb);
        if busy && !detach {
            return Err(Errno::EBUSY);
        }
        if expire
            && let Some(m) = self.mount_mut(sb)
            && !core::mem::replace(&mut m.expiring, true)
        {
            return Err(Errno::EAGAIN);
        }
        self.detach_mount(sb);
        Ok(())
    }

    /// Takes file system `sb` out of the name space, with every file system mounted inside it
    /// (a lazy unmount detaches the whole subtree, as Linux's does); each goes at once if unused,
    /// or with the last handle on it ([`Fs::reap_detached`]).
    fn detach_mount(&mut self, sb: Sb) {
        let inner: Vec<Sb> = self
            .mounts
            .covered
            .iter()
            .filter(|&(point, _)| self.inodes.get(point).is_some_and(|i| i.sb == sb))
            .map(|(_, &inner)| inner)
            .collect();
        for inner in inner {
            self.detach_mount(inner);
        }
        if let Some(point) = self.mount_mut(sb).and_then(|m| m.point.take()) {
            self.mounts.covered.remove(&point);
        }
        self.reap_detached(sb);
    }

    /// The mounted file systems, in the order they were mounted (the root file system is not
    /// among them: `/proc/mounts` lists it itself).
    pub fn mounts(&self) -> Vec<MountEntry> {
        let mut out = Vec::new();
        for m in self.mounts.table.iter().flatten() {
            let Some(point) = m.point else { continue };
            out.push(MountEntry {
                source: m.source.clone(),
                target: self.path_of(point),
                fstype: m.fstype,
                dev: m.dev,
            });
        }
        out
    }

    /// Where a name that led to `ino` really leads: the root of the file system mounted on it
    /// (the topmost, when mounts stack), or `ino` itself.
    pub(crate) fn cross(&self, mut ino: Ino) -> Ino {
        while let Some(root) = self
            .mounts
            .covered
            .get(&ino)
            .and_then(|&sb| self.mounts.get(sb))
            .map(|m| m.root)
        {
            ino = root;
        }
        ino
    }

    /// If `ino` is a mounted file system's root, the directory it covers.
    pub(crate) fn covered_by(&self, ino: Ino) -> Option<Ino> {
        let sb = self.inodes.get(&ino)?.sb;
        self.mounts.get(sb).filter(|m| m.root == ino)?.point
    }

    /// Whether a file system is mounted on directory `ino`.
    pub(crate) fn is_mountpoint(&self, ino: Ino) -> bool {
        self.mounts.covered.contains_key(&ino)
    }

    /// The file system `ino` belongs to.
    pub(crate) fn sb_of(&self, ino: Ino) -> Result<Sb, Errno> {
        Ok(self.inode(ino)?.sb)
    }

    /// What `statfs(2)` says of the file system `ino` belongs to. The root file system and a
    /// `tmpfs` report the server's [`crate::Limits`] and what all its file systems use of them
    /// (they share the limits), as a tmpfs mounted with `size` and `nr_inodes`; a `ramfs`
    /// reports only its type, as Linux's. The id is the file system's `st_dev` (0 for a ramfs,
    /// as Linux's `simple_statfs` leaves it); the flags are those `/proc/mounts` shows (`rw`
    /// for the root, `rw,relatime` for a mount).
    pub fn statfs(&self, ino: Ino) -> Result<StatFs, Errno> {
        let sb = self.sb_of(ino)?;
        let (fstype, flags) = match self.mounts.get(sb) {
            Some(m) => (m.fstype, ST_RELATIME),
            None => (FsType::Tmpfs, 0),
        };
        if fstype == FsType::Ramfs {
            return Ok(StatFs::simple(RAMFS_MAGIC, flags));
        }
        let dev = self.dev_of(sb);
        let limits = (self.limits().max_bytes, self.limits().max_inodes);
        let used = (self.used_bytes(), self.inode_count() as u64);
        // Lossless: `encode` gives 32 bits.
        Ok(StatFs::tmpfs(limits, used, [dev as u32, 0], flags))
    }

    /// `st_dev` of file system `sb`.
    pub(crate) fn dev_of(&self, sb: Sb) -> u64 {
        match self.mounts.get(sb) {
            Some(m) => u64::from(m.dev.encode()),
            None => self.dev,
        }
    }

    fn mount_mut(&mut self, sb: Sb) -> Option<&mut Mount> {
        let index = usize::try_from(sb).ok()?.checked_sub(1)?;
        self.mounts.table.get_mut(index)?.as_mut()
    }

    /// Whether file system `sb` is in use: a handle on one of its inodes, or a file system
    /// mounted on one of its directories.
    fn busy(&self, sb: Sb) -> bool {
        let mounted_inside = self
            .mounts
            .covered
            .keys()
            .any(|&point| self.inodes.get(&point).is_some_and(|i| i.sb == sb));
        mounted_inside || self.inodes.values().any(|i| i.sb == sb && i.handles > 0)
    }

    /// Frees every inode of file system `sb` and forgets it.
    fn free_file_system(&mut self, sb: Sb) {
        let mut inodes: Vec<Ino> = self
            .inodes
            .iter()
            .filter(|(_, i)| i.sb == sb)
            .map(|(&ino, _)| ino)
            .collect();
        // In number order, as ever: the table's own order is the hash's.
        inodes.sort_unstable();
        for ino in inodes {
            self.free(ino);
        }
        if let Ok(index) = usize::try_from(sb)
            && let Some(slot) = index
                .checked_sub(1)
                .and_then(|i| self.mounts.table.get_mut(i))
        {
            *slot = None;
        }
    }

    /// A handle on an inode of file system `sb` went: if `sb` was lazily unmounted and is no
    /// longer used, it goes now.
    pub(crate) fn reap_detached(&mut self, sb: Sb) {
        let detached = self.mounts.get(sb).is_some_and(|m| m.point.is_none());
        if detached && !self.busy(sb) {
            self.free_file_system(sb);
        }
    }

    /// An absolute path that leads to directory `ino` (for `/proc/mounts`): its names up to the
    /// root, crossing from mounted roots to the directories they cover.
    fn path_of(&self, mut ino: Ino) -> Vec<u8> {
        let mut names: Vec<&[u8]> = Vec::new();
        while ino != ROOT_INO {
            if let Some(point) = self.covered_by(ino) {
                ino = point;
                continue;
            }
            let Ok(parent) = self.dir(ino).map(|d| d.parent) else {
                break;
            };
            let Some(name) = self
                .dir(parent)
                .ok()
                .and_then(|d| d.entries().find(|&(_, child)| child == ino))
                .map(|(name, _)| name)
            else {
                break;
            };
            names.push(name);
            ino = parent;
        }
        let mut path = Vec::new();
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        path
    }
}
