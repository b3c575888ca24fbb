//! Path walks, inode by inode, as Linux's `fs/namei.c` does them.
//!
//! A walk starts at the directory the caller names (the cwd or a directory descriptor's inode)
//! for a relative path and at the root for an absolute one. Before each component it checks search
//! (execute) permission on the directory it is in (`may_lookup`); `.` stays, `..` goes to the
//! directory's parent and stays put at the root; a name is looked up in the directory
//! (`ENAMETOOLONG` past `NAME_MAX`, `ENOENT` if absent), and if it is a symlink with more path
//! after it, the walk continues through the link's target — from the link's directory, or from
//! the root for an absolute target — counting hops (`ELOOP` past [`MAXSYMLINKS`]); anything else
//! must be a directory (`ENOTDIR`). Because the walk follows real inodes, `..` after a symlink
//! leaves the *target*'s directory, and permissions are those of the directories actually
//! crossed; `k42_linux::path` (string-based, for the personality) could not know either.
//!
//! [`Fs::link_path_walk`] stops before the last component and says what it is ([`Last`]); each
//! call decides what to do with it, as Linux's callers of `path_parentat` and
//! `open_last_lookups` do: [`Fs::walk_last`] looks it up and follows a final symlink when asked
//! (or when a trailing slash demands a directory).

use alloc::vec::Vec;

use k42_linux::Errno;
pub use k42_linux::path::MAXSYMLINKS;

use crate::cred::{Access, Credentials};
use crate::inode::{Body, Ino};
use crate::{Fs, ROOT_INO, linux};

/// What the last component of a path is (Linux's `LAST_NORM`, `LAST_DOT`, `LAST_DOTDOT`,
/// `LAST_ROOT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LastKind<'a> {
    /// The path is `/` (only slashes).
    Root,
    /// `.`.
    Dot,
    /// `..`.
    DotDot,
    /// A name, still to be looked up.
    Name(&'a [u8]),
}

/// Where a walk stopped: the directory holding the last component, and the component.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Last<'a> {
    /// The directory the last component is looked up in.
    pub dir: Ino,
    /// The last component.
    pub kind: LastKind<'a>,
    /// Whether slashes followed it (`"a/"`): it must then be a directory.
    pub trailing: bool,
}

impl<'a> Last<'a> {
    /// The name, if the last component is one.
    pub fn name(&self) -> Option<&'a [u8]> {
        match self.kind {
            LastKind::Name(n) => Some(n),
            _ => None,
        }
    }
}

/// A path as C sees it: the bytes before the first NUL.
pub(crate) fn cstr(path: &[u8]) -> &[u8] {
    match path.iter().position(|&b| b == 0) {
        Some(end) => &path[..end],
        None => path,
    }
}

/// Linux's `getname`: `ENOENT` for an empty path, `ENAMETOOLONG` for one that does not fit in
/// `PATH_MAX` bytes with its NUL.
pub(crate) fn check_path(path: &[u8]) -> Result<(), Errno> {
    if path.is_empty() {
        Err(Errno::ENOENT)
    } else if path.len() >= linux::PATH_MAX as usize {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(())
    }
}

fn trim_slashes(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b'/').unwrap_or(s.len());
    &s[start..]
}

fn classify(c: &[u8]) -> LastKind<'_> {
    match c {
        b"." => LastKind::Dot,
        b".." => LastKind::DotDot,
        _ => LastKind::Name(c),
    }
}

impl Fs {
    /// The directory a walk of `path` starts from: the root for an absolute path, else `dir`,
    /// which must be a directory (`ENOTDIR`, as `openat` with a file's descriptor answers).
    pub(crate) fn start_dir(&self, dir: Ino, path: &[u8]) -> Result<Ino, Errno> {
        if path.first() == Some(&b'/') {
            return Ok(ROOT_INO);
        }
        if !self.inode(dir)?.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(dir)
    }

    /// What `..` in directory `dir` names: its parent, or itself at the root; at a mounted
    /// file system's root, the parent of the directory it covers (Linux's `follow_dotdot`).
    /// Not crossed into a mount on that parent: the walk does that ([`Fs::walk_dotdot`]);
    /// the rename trap's ancestry does not.
    pub(crate) fn dotdot(&self, mut dir: Ino) -> Ino {
        while let Some(point) = self.covered_by(dir) {
            dir = point;
        }
        if dir == ROOT_INO {
            return ROOT_INO;
        }
        self.dir(dir).map_or(ROOT_INO, |d| d.parent)
    }

    /// Where a walk's `..` from `dir` leads: [`Fs::dotdot`], crossed into whatever is mounted
    /// there (Linux's `handle_dots` steps into the parent as into any name, `handle_mounts`
    /// included: `..` from a directory whose parent a later mount covers lands on the mount).
    pub(crate) fn walk_dotdot(&self, dir: Ino) -> Ino {
        self.cross(self.dotdot(dir))
    }

    /// Looks `name` up in directory `dir` (Linux's `simple_lookup`): `ENAMETOOLONG` past
    /// `NAME_MAX`, `None` if absent.
    pub(crate) fn lookup_child(&self, dir: Ino, name: &[u8]) -> Result<Option<Ino>, Errno> {
        if name.len() > linux::NAME_MAX as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(self.dir(dir)?.get(name))
    }

    /// Search permission on directory `dir` (`may_lookup`).
    fn may_search(&self, cred: &Credentials, dir: Ino) -> Result<(), Errno> {
        self.inode(dir)?.may(cred, Access::EXEC)
    }

    /// Counts one symlink followed: `ELOOP` past [`MAXSYMLINKS`].
    pub(crate) fn hop(hops: &mut u32) -> Result<(), Errno> {
        *hops += 1;
        if *hops > MAXSYMLINKS {
            Err(Errno::ELOOP)
        } else {
            Ok(())
        }
    }

    /// Linux's `link_path_walk`: walks every component of `path` but the last, from `start` (or
    /// the root if `path` is absolute), following symlinks met on the way, and answers where the
    /// last component is to be looked up. `hops` counts symlinks over the whole operation.
    pub(crate) fn link_path_walk<'a>(
        &'a self,
        cred: &Credentials,
        start: Ino,
        path: &'a [u8],
        hops: &mut u32,
    ) -> Result<Last<'a>, Errno> {
        let mut cur = if path.first() == Some(&b'/') {
            ROOT_INO
        } else {
            start
        };
        let mut name = trim_slashes(path);
        if name.is_empty() {
            return Ok(Last {
                dir: cur,
                kind: LastKind::Root,
                trailing: false,
            });
        }
        // What is left of the paths whose symlinks are being walked, innermost last (Linux's
        // `nd->stack`); every entry is non-empty and starts with a component.
        let mut stack: Vec<&'a [u8]> = Vec::new();
        loop {
            self.may_search(cred, cur)?;
            let end = name.iter().position(|&b| b == b'/').unwrap_or(name.len());
            let (component, rest) = name.split_at(end);
            let after = trim_slashes(rest);
            let kind = classify(component);
            let next = if after.is_empty() {
                match stack.pop() {
                    None => {
                        return Ok(Last {
                            dir: cur,
                            kind,
                            trailing: !rest.is_empty(),
                        });
                    }
                    // The last component of a symlink's target: walk it, then go on with the
                    // path the symlink was in.
                    Some(outer) => outer,
                }
            } else {
                after
            };
            match kind {
                LastKind::Dot | LastKind::Root => {}
                LastKind::DotDot => cur = self.walk_dotdot(cur),
                LastKind::Name(n) => {
                    let child = self.lookup_child(cur, n)?.ok_or(Errno::ENOENT)?;
                    let inode = self.inode(child)?;
                    if let Body::Symlink(target) = &inode.body {
                        Self::hop(hops)?;
                        stack.push(next);
                        if target.first() == Some(&b'/') {
                            cur = ROOT_INO;
                        }
                        let body = trim_slashes(target);
                        name = if body.is_empty() {
                            // A link to "/": nothing to walk but the rest.
                            stack.pop().unwrap_or(b".")
                        } else {
                            body
                        };
                        continue;
                    }
                    cur = self.cross(child);
                }
            }
            if !self.inode(cur)?.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            name = next;
        }
    }

    /// Linux's `lookup_last` loop: the inode `last` names, following a final symlink if `follow`
    /// or if a directory is required (`must_dir`, or a trailing slash anywhere along the way);
    /// `ENOTDIR` if a directory is required and this is none.
    pub(crate) fn walk_last<'a>(
        &'a self,
        cred: &Credentials,
        mut last: Last<'a>,
        hops: &mut u32,
        follow: bool,
        mut must_dir: bool,
    ) -> Result<Ino, Errno> {
        loop {
            must_dir |= last.trailing;
            let ino = self.last_ino(&last)?;
            if (follow || must_dir)
                && let Some(target) = self.inode(ino)?.symlink()
            {
                Self::hop(hops)?;
                last = self.link_path_walk(cred, last.dir, target, hops)?;
                continue;
            }
            if must_dir && !self.inode(ino)?.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            return Ok(ino);
        }
    }

    /// The inode the last component names, without following it: `ENOENT` if absent.
    pub(crate) fn last_ino(&self, last: &Last<'_>) -> Result<Ino, Errno> {
        match last.kind {
            LastKind::Root => Ok(ROOT_INO),
            LastKind::Dot => Ok(last.dir),
            LastKind::DotDot => Ok(self.walk_dotdot(last.dir)),
            LastKind::Name(n) => {
                let child = self.lookup_child(last.dir, n)?.ok_or(Errno::ENOENT)?;
                Ok(self.cross(child))
            }
        }
    }

    /// Resolves `path` from `dir` to an inode (what `stat`, `chdir`, `chmod`, `execve` and the
    /// other path calls act on; the server then calls [`Fs::stat`], [`Fs::chmod`]…).
    ///
    /// `flags` may hold `AT_SYMLINK_NOFOLLOW` (a final symlink is answered itself, not followed;
    /// a trailing slash still follows it, as Linux does), `AT_EMPTY_PATH` (an empty path names
    /// `dir` itself) and `AT_NO_AUTOMOUNT` (no effect); any other bit is `EINVAL`.
    ///
    /// Errors: `ENOENT` (a component is missing, or the path is empty), `ENOTDIR` (a component
    /// used as a directory is not one, or `dir` is not a directory for a relative path),
    /// `EACCES` (no search permission on a directory walked), `ELOOP` (more than 40 symlinks),
    /// `ENAMETOOLONG` (path of `PATH_MAX` bytes or more, component longer than `NAME_MAX`),
    /// `EBADF` (`dir` is not alive). The path ends at its first NUL, if any.
    pub fn lookup(
        &self,
        cred: &Credentials,
        dir: Ino,
        path: &[u8],
        flags: u32,
    ) -> Result<Ino, Errno> {
        let known = linux::AT_SYMLINK_NOFOLLOW | linux::AT_EMPTY_PATH | linux::AT_NO_AUTOMOUNT;
        if flags & !known != 0 {
            return Err(Errno::EINVAL);
        }
        let path = cstr(path);
        if path.is_empty() && flags & linux::AT_EMPTY_PATH != 0 {
            self.inode(dir)?;
            return Ok(dir);
        }
        let follow = flags & linux::AT_SYMLINK_NOFOLLOW == 0;
        self.resolve(cred, dir, path, follow, false)
    }

    /// [`Fs::lookup`] without flags: `follow` the final symlink or not, `must_dir` as
    /// `O_DIRECTORY` asks.
    pub(crate) fn resolve(
        &self,
        cred: &Credentials,
        dir: Ino,
        path: &[u8],
        follow: bool,
        must_dir: bool,
    ) -> Result<Ino, Errno> {
        check_path(path)?;
        let start = self.start_dir(dir, path)?;
        let mut hops = 0;
        let last = self.link_path_walk(cred, start, path, &mut hops)?;
        self.walk_last(cred, last, &mut hops, follow, must_dir)
    }

    /// Linux's `filename_parentat`: walks to the directory holding the last component of `path`
    /// without looking the component up (for the calls that create, remove or rename it).
    pub(crate) fn walk_parent<'a>(
        &'a self,
        cred: &Credentials,
        dir: Ino,
        path: &'a [u8],
    ) -> Result<Last<'a>, Errno> {
        check_path(path)?;
        let start = self.start_dir(dir, path)?;
        let mut hops = 0;
        self.link_path_walk(cred, start, path, &mut hops)
    }
}
