//! Populating a file system from the initramfs: [`Fs::from_cpio`] from the tree `k42-cpio`
//! parses, or a [`Builder`] fed one entry at a time.
//!
//! This is what Linux's `init/initramfs.c` does into its rootfs, without the permission checks a
//! program's calls get (the archive is trusted: it is the system image) and without following
//! symlinks. Entries come parents first; a later entry for a path replaces the earlier one (a
//! directory over a directory only takes the new attributes and keeps its contents). Each node's
//! access and modification times are the archive's mtime (`CONFIG_INITRAMFS_PRESERVE_MTIME`),
//! its change time the `now` of the build. Hard links in an archive arrive from `k42-cpio` as
//! separate copies, so every file here has one link. The root starts as Linux's rootfs root
//! (`k42_cpio::mode::ROOT_PERMISSIONS`, `1777`: rootfs is a tmpfs) until an entry for `.` or
//! `/` gives it other attributes.

use k42_cpio::mode::ROOT_PERMISSIONS;
use k42_cpio::{Node, NodeKind, Tree};
use k42_linux::Errno;

use crate::dir::Dir;
use crate::file::FileData;
use crate::inode::{Body, Dev, FileType, Ino, Inode, Timespec};
use crate::walk::check_path;
use crate::{Fs, Limits, PAGE_SIZE, ROOT_INO, linux};

/// What a [`Builder`] entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeSpec<'a> {
    /// A directory.
    Dir,
    /// A regular file with these contents.
    File(&'a [u8]),
    /// A symlink with this target (non-empty).
    Symlink(&'a [u8]),
    /// A character device node.
    CharDevice(Dev),
    /// A block device node.
    BlockDevice(Dev),
    /// A FIFO.
    Fifo,
    /// A socket node.
    Socket,
}

/// One entry for a [`Builder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Where: `/a/b`, `a/b` or `./a/b` (all from the root); `/`, `.` or empty for the root
    /// itself. `..` components are refused.
    pub path: &'a [u8],
    /// Permission bits (set-id and sticky included); type bits are ignored, the type is `node`'s.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Access and modification time.
    pub mtime: Timespec,
    /// What it is.
    pub node: NodeSpec<'a>,
}

/// Builds a file system from entries, as the kernel unpacks an initramfs.
#[derive(Debug)]
pub struct Builder {
    fs: Fs,
    now: Timespec,
}

impl Builder {
    /// An empty file system with the default [`Limits`]; `now` is every node's change time.
    /// Its root has Linux's rootfs mode, `041777`, until an entry for the root changes it.
    pub fn new(now: Timespec) -> Builder {
        Builder::with_limits(Limits::DEFAULT, now)
    }

    /// An empty file system bounded by `limits`.
    pub fn with_limits(limits: Limits, now: Timespec) -> Builder {
        let mut fs = Fs::with_limits(limits, now);
        if let Ok(root) = fs.inode_mut(ROOT_INO) {
            root.mode = linux::S_IFDIR | ROOT_PERMISSIONS;
        }
        Builder { fs, now }
    }

    /// Adds (or replaces) one entry and answers its inode.
    ///
    /// Errors: `EINVAL` for a `..` component or a root entry that is not a directory;
    /// `ENAMETOOLONG` for a path of `PATH_MAX` bytes or more or a component over `NAME_MAX`;
    /// `ENOENT` if the parent is missing, `ENOTDIR` if it is not a directory; `ENOENT` for an
    /// empty symlink target; `EFBIG` for a file over the size limit; `ENOSPC` past the inode or
    /// data limit; `ENOMEM` if memory runs out.
    pub fn add(&mut self, entry: &Entry<'_>) -> Result<Ino, Errno> {
        let path = entry.path;
        if path.len() >= linux::PATH_MAX as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut components = path
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty() && *c != b".");
        let mut parent = ROOT_INO;
        let mut name = None;
        for c in components.by_ref() {
            if c == b".." {
                return Err(Errno::EINVAL);
            }
            if c.len() > linux::NAME_MAX as usize {
                return Err(Errno::ENAMETOOLONG);
            }
            if let Some(prev) = name.replace(c) {
                parent = self.fs.dir(parent)?.get(prev).ok_or(Errno::ENOENT)?;
                if !self.fs.inode(parent)?.is_dir() {
                    return Err(Errno::ENOTDIR);
                }
            }
        }
        let perms = entry.mode & 0o7777;
        let Some(name) = name else {
            // The root itself: only its attributes change.
            if entry.node != NodeSpec::Dir {
                return Err(Errno::EINVAL);
            }
            self.set_attrs(ROOT_INO, entry);
            return Ok(ROOT_INO);
        };
        let now = self.now;
        // The parent keeps its archive times when entries come and go in it (Linux sets
        // directory times after unpacking everything).
        let parent_times = {
            let p = self.fs.inode(parent)?;
            (p.atime, p.mtime)
        };
        let existing = self.fs.dir(parent)?.get(name);
        if let Some(old) = existing
            && entry.node == NodeSpec::Dir
            && self.fs.inode(old)?.is_dir()
        {
            self.set_attrs(old, entry);
            return Ok(old);
        }
        let (ftype, body) = self.body(&entry.node, parent)?;
        if let Some(old) = existing {
            self.fs.detach(parent, name, now);
            self.fs.free_tree(old);
        }
        let nlink = if ftype == FileType::Directory { 2 } else { 1 };
        let inode = Inode::new(
            ftype.mode_bits() | perms,
            entry.uid,
            entry.gid,
            nlink,
            body,
            now,
        );
        let pages = match &inode.body {
            Body::File(f) => f.pages() as u64,
            _ => 0,
        };
        self.fs.take_pages(pages)?;
        let ino = match self.fs.alloc(inode) {
            Ok(ino) => ino,
            Err(e) => {
                self.fs.release_pages(pages);
                return Err(e);
            }
        };
        self.fs.attach(parent, name, ino, now);
        self.set_attrs(ino, entry);
        let p = self.fs.inode_mut(parent)?;
        (p.atime, p.mtime) = parent_times;
        Ok(ino)
    }

    /// The finished file system.
    pub fn finish(self) -> Fs {
        self.fs
    }

    /// The new node's type and contents.
    fn body(&self, node: &NodeSpec<'_>, parent: Ino) -> Result<(FileType, Body), Errno> {
        Ok(match *node {
            NodeSpec::Dir => (FileType::Directory, Body::Dir(Dir::new(parent))),
            NodeSpec::File(data) => {
                if data.len() as u64 > self.fs.limits().max_file_size {
                    return Err(Errno::EFBIG);
                }
                let mut file = FileData::default();
                let mut budget = (data.len() as u64).div_ceil(PAGE_SIZE);
                file.write(0, data, &mut budget)?;
                (FileType::Regular, Body::File(file))
            }
            NodeSpec::Symlink(target) => {
                check_path(target)?;
                (FileType::Symlink, Body::Symlink(target.to_vec()))
            }
            NodeSpec::CharDevice(dev) => (FileType::CharDevice, Body::Special(dev)),
            NodeSpec::BlockDevice(dev) => (FileType::BlockDevice, Body::Special(dev)),
            NodeSpec::Fifo => (FileType::Fifo, Body::Special(Dev::default())),
            NodeSpec::Socket => (FileType::Socket, Body::Special(Dev::default())),
        })
    }

    /// Applies an entry's attributes to `ino`.
    fn set_attrs(&mut self, ino: Ino, entry: &Entry<'_>) {
        let now = self.now;
        if let Ok(inode) = self.fs.inode_mut(ino) {
            inode.mode = (inode.mode & linux::S_IFMT) | (entry.mode & 0o7777);
            inode.uid = entry.uid;
            inode.gid = entry.gid;
            inode.atime = entry.mtime;
            inode.mtime = entry.mtime;
            inode.ctime = now;
        }
    }
}

impl Fs {
    /// A file system holding what an initramfs unpacked into (`k42_cpio::Tree`), with the
    /// default [`Limits`]; `now` is every node's change time. Errors as [`Builder::add`]'s.
    pub fn from_cpio(tree: &Tree, now: Timespec) -> Result<Fs, Errno> {
        Fs::from_cpio_with_limits(tree, Limits::DEFAULT, now)
    }

    /// [`Fs::from_cpio`] under `limits`.
    pub fn from_cpio_with_limits(tree: &Tree, limits: Limits, now: Timespec) -> Result<Fs, Errno> {
        let mut builder = Builder::with_limits(limits, now);
        let mut result = Ok(());
        tree.walk(&mut |path, node| {
            if result.is_ok() {
                result = builder.add(&cpio_entry(path, node)).map(|_| ());
            }
        });
        result.map(|()| builder.finish())
    }
}

/// A tree node as a builder entry.
fn cpio_entry<'a>(path: &'a str, node: &'a Node) -> Entry<'a> {
    let node_spec = match &node.kind {
        NodeKind::Dir(_) => NodeSpec::Dir,
        NodeKind::File(data) => NodeSpec::File(data),
        NodeKind::Symlink(target) => NodeSpec::Symlink(target.as_bytes()),
        NodeKind::CharDev { major, minor } => NodeSpec::CharDevice(Dev::new(*major, *minor)),
        NodeKind::BlockDev { major, minor } => NodeSpec::BlockDevice(Dev::new(*major, *minor)),
        NodeKind::Fifo => NodeSpec::Fifo,
        NodeKind::Socket => NodeSpec::Socket,
    };
    Entry {
        path: path.as_bytes(),
        mode: node.mode,
        uid: node.uid,
        gid: node.gid,
        mtime: Timespec::new(i64::from(node.mtime), 0),
        node: node_spec,
    }
}
