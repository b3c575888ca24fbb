//! The in-memory tree an initramfs unpacks into: the kernel's ramfs is populated from it, and the
//! xtask inspects it to check the images it builds.
//!
//! The tree keeps running counts of its entries and file bytes so limits can be enforced as each
//! entry lands, and it never recurses over its own depth (walking, measuring and dropping use
//! explicit stacks): a 4096-byte path can nest about 2000 directories, which would overflow a
//! kernel stack if each level took a stack frame.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::mode::{DEFAULT_DIR_PERMISSIONS, PERMISSION_MASK, ROOT_PERMISSIONS, S_IFDIR, S_IFMT};
use crate::path::{self, SEPARATOR};
use crate::{Error, Limits};

/// A directory tree: the root directory and everything below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// Always a directory.
    root: Node,
    /// Nodes below the root.
    entries: usize,
    /// Sum of regular file sizes, each hard-link copy counted.
    file_bytes: usize,
}

/// One file, directory, symlink, device, FIFO or socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// What the node is, with its contents.
    pub kind: NodeKind,
    /// The whole `st_mode`: file-type bits (agreeing with `kind`) and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A directory, its children by name (so iteration is sorted).
    Dir(BTreeMap<String, Node>),
    /// A regular file and its contents.
    File(Vec<u8>),
    /// A symbolic link and its target.
    Symlink(String),
    /// A character device.
    CharDev {
        /// Device major number.
        major: u32,
        /// Device minor number.
        minor: u32,
    },
    /// A block device.
    BlockDev {
        /// Device major number.
        major: u32,
        /// Device minor number.
        minor: u32,
    },
    /// A named pipe.
    Fifo,
    /// A Unix-domain socket.
    Socket,
}

impl Node {
    /// An empty directory with the given permission bits, owned by root, mtime 0.
    pub fn empty_dir(permissions: u32) -> Node {
        Node {
            kind: NodeKind::Dir(BTreeMap::new()),
            mode: S_IFDIR | permissions & PERMISSION_MASK,
            uid: 0,
            gid: 0,
            mtime: 0,
        }
    }

    /// A regular file's contents, or `None` for any other kind.
    pub fn file_data(&self) -> Option<&[u8]> {
        match &self.kind {
            NodeKind::File(data) => Some(data),
            _ => None,
        }
    }

    /// A symlink's target, or `None` for any other kind.
    pub fn symlink_target(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Symlink(target) => Some(target),
            _ => None,
        }
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, NodeKind::Dir(_))
    }

    /// Whether this is a regular file.
    pub fn is_file(&self) -> bool {
        matches!(self.kind, NodeKind::File(_))
    }

    /// A directory's children, sorted by name, or `None` if this is not a directory.
    pub fn children(&self) -> Option<impl Iterator<Item = (&str, &Node)>> {
        match &self.kind {
            NodeKind::Dir(children) => Some(children.iter().map(|(n, c)| (n.as_str(), c))),
            _ => None,
        }
    }

    /// The child called `name` of a directory.
    pub fn child(&self, name: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Dir(children) => children.get(name),
            _ => None,
        }
    }

    /// The permission bits of [`Node::mode`] (set-id and sticky bits included).
    pub fn permissions(&self) -> u32 {
        self.mode & PERMISSION_MASK
    }

    /// The file-type bits of [`Node::mode`], one of the `S_IF*` constants in [`crate::mode`].
    pub fn file_type(&self) -> u32 {
        self.mode & S_IFMT
    }

    fn set_meta(&mut self, meta: Meta) {
        self.mode = meta.mode;
        self.uid = meta.uid;
        self.gid = meta.gid;
        self.mtime = meta.mtime;
    }
}

/// The metadata a header gives a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u32,
}

/// A node about to be put in the tree, its contents still borrowed from the archive so nothing
/// is allocated before the limits are checked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NewKind<'a> {
    Dir,
    File(&'a [u8]),
    Symlink(&'a str),
    CharDev { major: u32, minor: u32 },
    BlockDev { major: u32, minor: u32 },
    Fifo,
    Socket,
}

impl NewKind<'_> {
    fn file_len(&self) -> usize {
        match self {
            NewKind::File(data) => data.len(),
            _ => 0,
        }
    }
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    /// An empty tree: a root directory with mode `0o41777` ([`ROOT_PERMISSIONS`], Linux's
    /// rootfs), owned by root.
    pub fn new() -> Tree {
        Tree {
            root: Node::empty_dir(ROOT_PERMISSIONS),
            entries: 0,
            file_bytes: 0,
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The node at `path` ("/a/b", "a/b", "./a/b"; "/" or "" is the root), without following
    /// symlinks; `None` if it does not exist or the path has a ".." component.
    pub fn lookup(&self, path: &str) -> Option<&Node> {
        self.get(&path::components(path).ok()?)
    }

    /// How many nodes the tree holds below the root (implicitly created directories included).
    pub fn entry_count(&self) -> usize {
        self.entries
    }

    /// The total size of all regular files; hard links count once per name.
    pub fn total_file_bytes(&self) -> usize {
        self.file_bytes
    }

    /// Calls `f` on every node, depth first, children in name order, parents before their
    /// children, starting with the root as "/"; paths are absolute ("/bin/sh").
    pub fn walk(&self, f: &mut dyn FnMut(&str, &Node)) {
        let mut path = String::from(SEPARATOR);
        f(&path, &self.root);
        // Each level remembers the length of its directory's path, so one buffer serves all.
        let mut stack = Vec::new();
        if let NodeKind::Dir(children) = &self.root.kind {
            stack.push((0, children.iter()));
        }
        while let Some((base, iter)) = stack.last_mut() {
            let base = *base;
            let Some((name, node)) = iter.next() else {
                stack.pop();
                continue;
            };
            path.truncate(base);
            path.push(SEPARATOR);
            path.push_str(name);
            f(&path, node);
            if let NodeKind::Dir(children) = &node.kind {
                stack.push((path.len(), children.iter()));
            }
        }
    }

    pub(crate) fn get(&self, components: &[&str]) -> Option<&Node> {
        components
            .iter()
            .try_fold(&self.root, |node, name| node.child(name))
    }

    /// Puts a node at `components`, creating missing parent directories.
    ///
    /// A directory over an existing directory only updates its metadata, keeping its children
    /// (Linux's `mkdir` fails with EEXIST, then `chown`/`chmod` apply). Anything else replaces
    /// what was there, a whole subtree included: Linux removes a node of another type before
    /// creating the new one (`clean_path`), and truncates a file it rewrites.
    ///
    /// Missing parents are created as `0o755` directories owned by root. Linux would fail such an
    /// entry (ENOENT), silently, losing the file; creating the parents keeps the file and is what
    /// `cpio -d` does. A parent that exists but is not a directory is an error: replacing it would
    /// silently lose it, and symlinks are not followed while unpacking.
    pub(crate) fn put(
        &mut self,
        components: &[&str],
        meta: Meta,
        kind: NewKind<'_>,
        limits: &Limits,
        offset: usize,
    ) -> Result<(), Error> {
        let Tree {
            root,
            entries,
            file_bytes,
        } = self;
        let Some((name, parents)) = components.split_last() else {
            return match kind {
                NewKind::Dir => {
                    root.set_meta(meta);
                    Ok(())
                }
                _ => Err(Error::RootNotDirectory { offset }),
            };
        };
        let too_many = Error::TooManyEntries {
            offset,
            limit: limits.max_entries,
        };
        let mut dir = root;
        for &parent in parents {
            let NodeKind::Dir(children) = &mut dir.kind else {
                return Err(Error::NotADirectory { offset });
            };
            dir = match children.entry(String::from(parent)) {
                alloc::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                alloc::collections::btree_map::Entry::Vacant(v) => {
                    if *entries >= limits.max_entries {
                        return Err(too_many);
                    }
                    *entries += 1;
                    v.insert(Node::empty_dir(DEFAULT_DIR_PERMISSIONS))
                }
            };
        }
        let NodeKind::Dir(children) = &mut dir.kind else {
            return Err(Error::NotADirectory { offset });
        };

        let (old_entries, old_bytes) = match children.get_mut(*name) {
            Some(existing) if existing.is_dir() && matches!(kind, NewKind::Dir) => {
                existing.set_meta(meta);
                return Ok(());
            }
            Some(existing) => subtree_size(existing),
            None => (0, 0),
        };
        // The counters always include the subtree being replaced, so these cannot underflow.
        let new_entries = *entries - old_entries + 1;
        let new_bytes = (*file_bytes - old_bytes)
            .checked_add(kind.file_len())
            .ok_or(Error::Overflow { offset })?;
        if new_entries > limits.max_entries {
            return Err(too_many);
        }
        if new_bytes > limits.max_total_bytes {
            return Err(Error::TreeTooLarge {
                offset,
                limit: limits.max_total_bytes,
            });
        }
        let node = Node {
            kind: build(kind, offset)?,
            mode: meta.mode,
            uid: meta.uid,
            gid: meta.gid,
            mtime: meta.mtime,
        };
        if let Some(old) = children.insert(String::from(*name), node) {
            dismantle(old);
        }
        *entries = new_entries;
        *file_bytes = new_bytes;
        Ok(())
    }
}

/// Copies a new node's contents out of the archive.
fn build(kind: NewKind<'_>, offset: usize) -> Result<NodeKind, Error> {
    Ok(match kind {
        NewKind::Dir => NodeKind::Dir(BTreeMap::new()),
        NewKind::File(data) => {
            let mut copy = Vec::new();
            // A file can be hundreds of MiB: a failed allocation must be an error, not an abort.
            copy.try_reserve_exact(data.len())
                .map_err(|_| Error::OutOfMemory {
                    offset,
                    size: data.len(),
                })?;
            copy.extend_from_slice(data);
            NodeKind::File(copy)
        }
        NewKind::Symlink(target) => NodeKind::Symlink(String::from(target)),
        NewKind::CharDev { major, minor } => NodeKind::CharDev { major, minor },
        NewKind::BlockDev { major, minor } => NodeKind::BlockDev { major, minor },
        NewKind::Fifo => NodeKind::Fifo,
        NewKind::Socket => NodeKind::Socket,
    })
}

/// How many nodes `node`'s subtree holds (itself included) and how many file bytes.
fn subtree_size(node: &Node) -> (usize, usize) {
    let (mut entries, mut bytes) = (0usize, 0usize);
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        entries += 1;
        match &node.kind {
            NodeKind::File(data) => bytes += data.len(),
            NodeKind::Dir(children) => stack.extend(children.values()),
            _ => {}
        }
    }
    (entries, bytes)
}

/// Drops a subtree level by level: the derived drop would recurse once per directory level.
fn dismantle(node: Node) {
    let mut pending = Vec::new();
    if let NodeKind::Dir(children) = node.kind {
        pending.push(children);
    }
    while let Some(children) = pending.pop() {
        for (_, child) in children {
            if let NodeKind::Dir(grandchildren) = child.kind
                && !grandchildren.is_empty()
            {
                pending.push(grandchildren);
            }
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        if let NodeKind::Dir(children) = &mut self.root.kind {
            let children = core::mem::take(children);
            dismantle(Node {
                kind: NodeKind::Dir(children),
                ..Node::empty_dir(0)
            });
        }
    }
}
