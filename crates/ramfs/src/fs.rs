//! The file system: the inode table, inode lifetime (links and handles), and the calls on an
//! inode's contents (`read`, `write`, `truncate`, `stat`).
//!
//! Inodes live in a hash map by number (`table.rs`); numbers come from a counter and are never
//! reused. An inode is freed when nothing names it (`nlink == 0`) and the server holds no
//! handle on it ([`Fs::open_handle`], [`Fs::close_handle`]): that is how an unlinked file stays
//! readable through its open descriptors, and a removed directory stays usable as a cwd
//! (empty, its `..` still leading to its old parent, which it keeps alive). The namespace calls
//! are in `namei.rs`, the attribute calls in `attr.rs`, listings in `dirent.rs`, path walks in
//! `walk.rs`.

use alloc::vec::Vec;

use k42_linux::Errno;

use crate::cred::{Access, Credentials};
use crate::dir::Dir;
use crate::inode::{Body, Dev, FileType, Ino, Inode, Stat, Timespec};
use crate::mount::Mounts;
use crate::table::Inodes;
use crate::{Limits, PAGE_SIZE, ROOT_INO, linux};

/// An in-memory file system.
#[derive(Debug)]
pub struct Fs {
    pub(crate) inodes: Inodes,
    next_ino: Ino,
    limits: Limits,
    /// File data pages allocated, over all files.
    pages: u64,
    /// The root file system's `st_dev`.
    pub(crate) dev: u64,
    /// The file systems mounted in the name space (`mount.rs`).
    pub(crate) mounts: Mounts,
}

impl Fs {
    /// An empty file system with the default [`Limits`]: a root directory with mode `0755`,
    /// owned by root, every time `now`.
    pub fn new(now: Timespec) -> Fs {
        Fs::with_limits(Limits::DEFAULT, now)
    }

    /// An empty file system bounded by `limits`.
    pub fn with_limits(limits: Limits, now: Timespec) -> Fs {
        let root = Inode::new(
            linux::S_IFDIR | 0o755,
            0,
            0,
            2,
            Body::Dir(Dir::new(ROOT_INO)),
            now,
        );
        let mut inodes = Inodes::default();
        inodes.insert(ROOT_INO, root);
        Fs {
            inodes,
            next_ino: ROOT_INO + 1,
            limits,
            pages: 0,
            dev: u64::from(Dev::new(0, 1).encode()),
            mounts: Mounts::default(),
        }
    }

    /// The root directory's inode ([`ROOT_INO`]): where absolute paths start and `..` stops.
    pub fn root(&self) -> Ino {
        ROOT_INO
    }

    /// The bounds this file system enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Sets the device number `stat` reports as the root file system's `st_dev`.
    pub fn set_dev(&mut self, dev: Dev) {
        self.dev = u64::from(dev.encode());
    }

    /// Inodes alive, the root and unlinked-but-open ones included.
    pub fn inode_count(&self) -> usize {
        self.inodes.len()
    }

    /// Bytes of file data allocated (whole pages).
    pub fn used_bytes(&self) -> u64 {
        self.pages * PAGE_SIZE
    }

    /// Whether inode `ino` is alive.
    pub fn exists(&self, ino: Ino) -> bool {
        self.inodes.contains_key(&ino)
    }

    /// The type of inode `ino`.
    pub fn file_type(&self, ino: Ino) -> Result<FileType, Errno> {
        Ok(self.inode(ino)?.file_type())
    }

    /// How many handles the server holds on `ino` (plus one per removed-but-open subdirectory).
    pub fn handles(&self, ino: Ino) -> Result<u32, Errno> {
        Ok(self.inode(ino)?.handles)
    }

    /// `stat(2)`'s answer for `ino`.
    pub fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        let inode = self.inode(ino)?;
        Ok(inode.stat(self.dev_of(inode.sb), ino))
    }

    /// Linux's `inode_permission` on `ino`: `Ok` or `EACCES` (see [`crate::may`]).
    pub fn may(&self, cred: &Credentials, ino: Ino, want: Access) -> Result<(), Errno> {
        self.inode(ino)?.may(cred, want)
    }

    /// Takes a handle on `ino` (an open file, a cwd, a process root): it stays alive, readable
    /// and writable while any handle is held, even once every name for it is gone.
    /// [`Fs::open`] takes one itself. `EBADF` for an inode that is not alive.
    pub fn open_handle(&mut self, ino: Ino) -> Result<(), Errno> {
        let inode = self.inode_mut(ino)?;
        inode.handles = inode.handles.checked_add(1).ok_or(Errno::ENFILE)?;
        Ok(())
    }

    /// Drops a handle on `ino`; answers whether that freed the inode (no names, no handles left).
    /// Freeing a removed directory releases the hold it had on its parent. `EBADF` for an inode
    /// that is not alive or has no handle.
    pub fn close_handle(&mut self, ino: Ino) -> Result<bool, Errno> {
        let sb = {
            let inode = self.inode(ino)?;
            if inode.handles == 0 {
                return Err(Errno::EBADF);
            }
            inode.sb
        };
        let mut cur = ino;
        let mut freed = false;
        while let Some(inode) = self.inodes.get_mut(&cur) {
            inode.handles -= 1;
            if inode.handles > 0 || inode.nlink > 0 {
                break;
            }
            let parent = inode.dir().map(|d| d.parent);
            self.free(cur);
            freed |= cur == ino;
            // A removed directory held its parent alive for its `..`; let go of it.
            match parent {
                Some(p) if p != cur => cur = p,
                _ => break,
            }
        }
        self.reap_detached(sb);
        Ok(freed)
    }

    /// `pread(2)` on a regular file: copies from `offset` into `buf`, answering how many bytes
    /// (0 at or past the end). `EISDIR` for a directory, `EINVAL` for anything but a regular
    /// file (devices, FIFOs and sockets are served elsewhere). A non-empty read updates the
    /// access time (`relatime`).
    pub fn read_at(
        &mut self,
        ino: Ino,
        offset: u64,
        buf: &mut [u8],
        now: Timespec,
    ) -> Result<usize, Errno> {
        let inode = self.inode_mut(ino)?;
        let n = match &inode.body {
            Body::File(f) => f.read(offset, buf),
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        if !buf.is_empty() {
            inode.touch_atime(now);
        }
        Ok(n)
    }

    /// [`Fs::read_at`] appending at most `len` bytes to `out` (the file server's reply
    /// buffer) instead of filling a slice: the same bytes, errors and access time.
    pub fn read_append(
        &mut self,
        ino: Ino,
        offset: u64,
        len: usize,
        out: &mut Vec<u8>,
        now: Timespec,
    ) -> Result<usize, Errno> {
        let inode = self.inode_mut(ino)?;
        let n = match &inode.body {
            Body::File(f) => f.read_append(offset, len, out),
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        if len != 0 {
            inode.touch_atime(now);
        }
        Ok(n)
    }

    /// Regular file `ino`'s data version and size. The version changes with every write of a
    /// byte and every truncate, and never goes back (inode numbers are never reused either), so
    /// a copy of the bytes made at one version of `ino` is current while the version stays —
    /// the file server keeps file images by it. `EISDIR` for a directory, `EINVAL` for anything
    /// but a regular file.
    pub fn data_version(&self, ino: Ino) -> Result<(u64, u64), Errno> {
        match &self.inode(ino)?.body {
            Body::File(f) => Ok((f.version(), f.size())),
            Body::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Page `index` of regular file `ino`: its [`PAGE_SIZE`] bytes (zero past the end), or
    /// `None` for a hole (zeros). Errors as [`Fs::data_version`]'s.
    pub fn file_page(&self, ino: Ino, index: u64) -> Result<Option<&[u8]>, Errno> {
        match &self.inode(ino)?.body {
            Body::File(f) => Ok(f.page(index)),
            Body::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// `pwrite(2)` on a regular file (the server passes the file's size as `offset` for
    /// `O_APPEND`): writes `data` at `offset`, extending the file and leaving zeros in any gap.
    ///
    /// Linux's `generic_write_checks` and `file_remove_privs`: an empty write does nothing; a
    /// write starting at or past [`Limits::max_file_size`] is `EFBIG`, one crossing it is cut
    /// short there; when the data limit runs out part-way the write is short, and `ENOSPC` if no
    /// byte fits. A write by anyone but root clears the set-user-ID bit, and the set-group-ID bit
    /// if group-execute is set or the writer is not in the file's group. Modification and change
    /// times become `now`. `EISDIR` for a directory, `EINVAL` for anything but a regular file.
    pub fn write_at(
        &mut self,
        cred: &Credentials,
        ino: Ino,
        offset: u64,
        data: &[u8],
        now: Timespec,
    ) -> Result<usize, Errno> {
        let max = self.limits.max_file_size;
        let mut budget = self.page_budget();
        let inode = self.inodes.get_mut(&ino).ok_or(Errno::EBADF)?;
        let file = match &mut inode.body {
            Body::File(f) => f,
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        if data.is_empty() {
            return Ok(0);
        }
        if offset >= max {
            return Err(Errno::EFBIG);
        }
        let len = (data.len() as u64).min(max - offset) as usize;
        let before = budget;
        let n = file.write(offset, &data[..len], &mut budget)?;
        self.pages += before - budget;
        remove_privs(cred, inode);
        inode.mtime = now;
        inode.ctime = now;
        Ok(n)
    }

    /// `truncate(2)` on `ino` (the server has resolved the path, following symlinks): Linux's
    /// `vfs_truncate`. `EISDIR` for a directory, `EINVAL` for anything but a regular file,
    /// `EACCES` without write permission, `EFBIG` past [`Limits::max_file_size`]. Shrinking frees
    /// the data past `len`, growing leaves a hole. As on tmpfs, the modification and change times
    /// move only if the size changes. Clears set-id bits as a write does.
    pub fn truncate(
        &mut self,
        cred: &Credentials,
        ino: Ino,
        len: u64,
        now: Timespec,
    ) -> Result<(), Errno> {
        let inode = self.inode(ino)?;
        match inode.body {
            Body::File(_) => {}
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        inode.may(cred, Access::WRITE)?;
        self.set_size(cred, ino, len, now, false)
    }

    /// `ftruncate(2)` on a descriptor the server opened for writing (it answers `EINVAL` itself
    /// for one that is not): no permission check. `EINVAL` for anything but a regular file,
    /// `EFBIG` past [`Limits::max_file_size`]. The modification and change times always become
    /// `now` (Linux passes `ATTR_MTIME | ATTR_CTIME`). Clears set-id bits as a write does.
    pub fn ftruncate(
        &mut self,
        cred: &Credentials,
        ino: Ino,
        len: u64,
        now: Timespec,
    ) -> Result<(), Errno> {
        if !matches!(self.inode(ino)?.body, Body::File(_)) {
            return Err(Errno::EINVAL);
        }
        self.set_size(cred, ino, len, now, true)
    }

    /// Sets a regular file's size (Linux's `do_truncate`), stamping the times when the size
    /// changes or when `always_stamp`.
    pub(crate) fn set_size(
        &mut self,
        cred: &Credentials,
        ino: Ino,
        len: u64,
        now: Timespec,
        always_stamp: bool,
    ) -> Result<(), Errno> {
        if len > self.limits.max_file_size {
            return Err(Errno::EFBIG);
        }
        let inode = self.inodes.get_mut(&ino).ok_or(Errno::EBADF)?;
        let Body::File(file) = &mut inode.body else {
            return Err(Errno::EINVAL);
        };
        let old = file.size();
        let freed = file.truncate(len);
        self.pages -= freed as u64;
        let mode = inode.mode;
        remove_privs(cred, inode);
        if old != len || always_stamp {
            inode.mtime = now;
            inode.ctime = now;
        } else if inode.mode != mode {
            inode.ctime = now;
        }
        Ok(())
    }

    /// Pages the data limit still allows.
    fn page_budget(&self) -> u64 {
        (self.limits.max_bytes / PAGE_SIZE).saturating_sub(self.pages)
    }

    /// Inode `ino`, or `EBADF` if it is not alive.
    pub(crate) fn inode(&self, ino: Ino) -> Result<&Inode, Errno> {
        self.inodes.get(&ino).ok_or(Errno::EBADF)
    }

    /// Inode `ino` for changing, or `EBADF` if it is not alive.
    pub(crate) fn inode_mut(&mut self, ino: Ino) -> Result<&mut Inode, Errno> {
        self.inodes.get_mut(&ino).ok_or(Errno::EBADF)
    }

    /// Directory `ino`'s entries, or `ENOTDIR`.
    pub(crate) fn dir(&self, ino: Ino) -> Result<&Dir, Errno> {
        self.inode(ino)?.dir().ok_or(Errno::ENOTDIR)
    }

    /// Directory `ino`'s entries for changing, or `ENOTDIR`.
    pub(crate) fn dir_mut(&mut self, ino: Ino) -> Result<&mut Dir, Errno> {
        self.inode_mut(ino)?.dir_mut().ok_or(Errno::ENOTDIR)
    }

    /// Adds an inode, or `ENOSPC` past [`Limits::max_inodes`].
    pub(crate) fn alloc(&mut self, inode: Inode) -> Result<Ino, Errno> {
        if self.inodes.len() as u64 >= self.limits.max_inodes {
            return Err(Errno::ENOSPC);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.inodes.insert(ino, inode);
        Ok(ino)
    }

    /// Counts a file's new data pages (the builder's whole-file copies).
    pub(crate) fn take_pages(&mut self, pages: u64) -> Result<(), Errno> {
        if pages > self.page_budget() {
            return Err(Errno::ENOSPC);
        }
        self.pages += pages;
        Ok(())
    }

    /// Returns pages [`Fs::take_pages`] counted.
    pub(crate) fn release_pages(&mut self, pages: u64) {
        self.pages -= pages;
    }

    /// Drops one name of `ino` (a directory loses both of its own, its entry and its `.`),
    /// stamping its change time; an inode left with no name dies.
    pub(crate) fn drop_link(&mut self, ino: Ino, now: Timespec) {
        let Some(inode) = self.inodes.get_mut(&ino) else {
            return;
        };
        inode.ctime = now;
        inode.nlink = if inode.is_dir() {
            0
        } else {
            inode.nlink.saturating_sub(1)
        };
        if inode.nlink == 0 {
            self.unlinked(ino);
        }
    }

    /// `ino` has just lost its last name: free it now, or, if handles remain, keep it (a removed
    /// directory then holds its parent, which its `..` still names).
    fn unlinked(&mut self, ino: Ino) {
        let Some(inode) = self.inodes.get(&ino) else {
            return;
        };
        if inode.handles == 0 {
            self.free(ino);
        } else if let Some(parent) = inode.dir().map(|d| d.parent)
            && let Some(p) = self.inodes.get_mut(&parent)
        {
            p.handles += 1;
        }
    }

    /// Removes an inode from the table, returning its data pages to the pool.
    pub(crate) fn free(&mut self, ino: Ino) {
        if ino == ROOT_INO {
            return;
        }
        if let Some(inode) = self.inodes.remove(&ino)
            && let Body::File(f) = &inode.body
        {
            self.pages -= f.pages() as u64;
        }
    }

    /// Removes a whole subtree below and including `ino` without leaving anything behind (the
    /// builder's replacement of an entry; nothing there is open). Iterative: trees can be deep.
    pub(crate) fn free_tree(&mut self, ino: Ino) {
        let mut pending = alloc::vec![ino];
        while let Some(ino) = pending.pop() {
            if let Some(d) = self.inodes.get(&ino).and_then(Inode::dir) {
                pending.extend(d.entries().map(|(_, child)| child));
            }
            self.free(ino);
        }
    }
}

/// Linux's `file_remove_privs` / `ATTR_KILL_SUID | ATTR_KILL_SGID` on a write or truncate: for
/// anyone but root (`CAP_FSETID`), a regular file loses set-user-ID, and set-group-ID when
/// [`should_drop_sgid`] says so.
pub(crate) fn remove_privs(cred: &Credentials, inode: &mut Inode) {
    if cred.is_root() || inode.file_type() != FileType::Regular {
        return;
    }
    if should_drop_sgid(cred, inode) {
        inode.mode &= !linux::S_ISGID;
    }
    inode.mode &= !linux::S_ISUID;
}

/// Linux's `setattr_should_drop_sgid`: a set-group-ID file loses the bit if it is group-executable
/// (without group-execute the bit marks mandatory locking and stays), or if the caller is neither
/// in the file's group nor root.
pub(crate) fn should_drop_sgid(cred: &Credentials, inode: &Inode) -> bool {
    inode.mode & linux::S_ISGID != 0
        && (inode.mode & linux::S_IXGRP != 0 || !cred.in_group_or_root(inode.gid))
}
