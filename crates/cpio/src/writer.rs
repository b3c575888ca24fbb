//! Writing newc archives, for the xtask that builds the initramfs (the same image also boots
//! Debian's Linux, so the output follows Linux's `usr/gen_init_cpio.c`).
//!
//! Output is reproducible: owner 0:0 and mtime 0 on every entry, inode numbers counted from 1 in
//! call order. Paths are trusted (they come from the build), but a path or target the parser
//! would refuse is a bug in the caller, so it panics at the call rather than producing an image
//! that fails at boot.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use crate::mode::{
    PERMISSION_MASK, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
    SYMLINK_PERMISSIONS,
};
use crate::newc::{self, ALIGN, Header, Magic, PATH_MAX, TRAILER_NAME};
use crate::path::{self, SEPARATOR};

/// The first inode number handed out; 0 is left for the trailer, as `gen_init_cpio` does.
const FIRST_INO: u32 = 1;
/// A directory's own name and its "." entry; Linux does not care, `cpio -t` and `ls` show it.
const DIR_NLINK: u32 = 2;
const NLINK: u32 = 1;
/// The traditional cpio block: archive tools pad the end to it, and so does `gen_init_cpio`.
const BLOCK_SIZE: usize = 512;
/// How the root directory is named in an archive.
const ROOT_NAME: &str = ".";

/// Builds one newc archive in memory.
#[derive(Debug, Clone)]
pub struct Writer {
    out: Vec<u8>,
    next_ino: u32,
    /// Names written as something other than a directory: nothing may be written below them,
    /// since the parser refuses a path through a non-directory.
    non_dirs: BTreeSet<String>,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::new()
    }
}

impl Writer {
    /// An empty archive.
    pub fn new() -> Writer {
        Writer {
            out: Vec::new(),
            next_ino: FIRST_INO,
            non_dirs: BTreeSet::new(),
        }
    }

    /// Adds a directory; `mode` is the permission bits (e.g. `0o755`). "/" or "." sets the
    /// root's permissions. Parents need not be added first (the parser creates them).
    ///
    /// # Panics
    /// If the path is one the parser refuses (see [`Writer::file`]).
    #[track_caller]
    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        self.entry(path, S_IFDIR | mode & PERMISSION_MASK, &[], (0, 0))
    }

    /// Adds a regular file with `mode` permission bits (e.g. `0o755`) and contents `data`.
    ///
    /// # Panics
    /// If the path has a ".." component or a NUL byte, is longer than `PATH_MAX`, names the root,
    /// or goes through something already written that is not a directory; or if `data` is over
    /// 4 GiB (the size field has 32 bits).
    #[track_caller]
    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> &mut Self {
        self.entry(path, S_IFREG | mode & PERMISSION_MASK, data, (0, 0))
    }

    /// Adds a symlink (permissions 0o777, as Linux gives every symlink). The target is stored
    /// without a terminating NUL, as GNU cpio does.
    ///
    /// # Panics
    /// If `target` is empty, longer than `PATH_MAX` or holds a NUL byte; or on a bad path (see
    /// [`Writer::file`]).
    #[track_caller]
    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        assert!(
            !target.is_empty() && target.len() <= PATH_MAX && !target.contains('\0'),
            "cpio writer: symlink {path:?} has an empty, over-long or NUL-holding target"
        );
        let mode = S_IFLNK | SYMLINK_PERMISSIONS;
        self.entry(path, mode, target.as_bytes(), (0, 0))
    }

    /// Adds a character device with `mode` permission bits.
    ///
    /// # Panics
    /// On a bad path (see [`Writer::file`]).
    #[track_caller]
    pub fn char_dev(&mut self, path: &str, mode: u32, major: u32, minor: u32) -> &mut Self {
        self.entry(path, S_IFCHR | mode & PERMISSION_MASK, &[], (major, minor))
    }

    /// Adds a block device with `mode` permission bits.
    ///
    /// # Panics
    /// On a bad path (see [`Writer::file`]).
    #[track_caller]
    pub fn block_dev(&mut self, path: &str, mode: u32, major: u32, minor: u32) -> &mut Self {
        self.entry(path, S_IFBLK | mode & PERMISSION_MASK, &[], (major, minor))
    }

    /// Adds a FIFO with `mode` permission bits.
    ///
    /// # Panics
    /// On a bad path (see [`Writer::file`]).
    #[track_caller]
    pub fn fifo(&mut self, path: &str, mode: u32) -> &mut Self {
        self.entry(path, S_IFIFO | mode & PERMISSION_MASK, &[], (0, 0))
    }

    /// Adds a Unix-domain socket node with `mode` permission bits.
    ///
    /// # Panics
    /// On a bad path (see [`Writer::file`]).
    #[track_caller]
    pub fn socket(&mut self, path: &str, mode: u32) -> &mut Self {
        self.entry(path, S_IFSOCK | mode & PERMISSION_MASK, &[], (0, 0))
    }

    /// Ends the archive with `TRAILER!!!` and zero padding to a 512-byte boundary, so several
    /// finished archives can simply be concatenated.
    pub fn finish(mut self) -> Vec<u8> {
        let header = Header {
            magic: Magic::Newc,
            ino: 0,
            mode: 0,
            uid: 0,
            gid: 0,
            nlink: NLINK,
            mtime: 0,
            filesize: 0,
            devmajor: 0,
            devminor: 0,
            rdevmajor: 0,
            rdevminor: 0,
            namesize: name_size(TRAILER_NAME),
            check: 0,
        };
        self.push(&header, TRAILER_NAME, &[]);
        let end = self.out.len().next_multiple_of(BLOCK_SIZE);
        self.out.resize(end, 0);
        self.out
    }

    #[track_caller]
    fn entry(&mut self, path: &str, mode: u32, data: &[u8], rdev: (u32, u32)) -> &mut Self {
        let is_dir = mode & S_IFMT == S_IFDIR;
        let name = self.checked_name(path, is_dir);
        let Ok(filesize) = u32::try_from(data.len()) else {
            panic!("cpio writer: {path:?} has {} bytes, over 4 GiB", data.len());
        };
        let ino = self.next_ino;
        self.next_ino = ino
            .checked_add(1)
            .expect("cpio writer: out of inode numbers");
        let header = Header {
            magic: Magic::Newc,
            ino,
            mode,
            uid: 0,
            gid: 0,
            nlink: if is_dir { DIR_NLINK } else { NLINK },
            mtime: 0,
            filesize,
            devmajor: 0,
            devminor: 0,
            rdevmajor: rdev.0,
            rdevminor: rdev.1,
            namesize: name_size(&name),
            check: 0,
        };
        self.push(&header, &name, data);
        self
    }

    /// The archive name for `path` (normalised as the parser will, without a leading "/" as
    /// `gen_init_cpio` writes it), after checking the parser will take it.
    #[track_caller]
    fn checked_name(&mut self, path: &str, is_dir: bool) -> String {
        assert!(
            !path.contains('\0'),
            "cpio writer: path {path:?} holds a NUL"
        );
        let Ok(components) = path::components(path) else {
            panic!("cpio writer: path {path:?} has a '..' component");
        };
        if components.is_empty() {
            assert!(is_dir, "cpio writer: the root {path:?} must be a directory");
            return String::from(ROOT_NAME);
        }
        let name = components.join(&String::from(SEPARATOR));
        assert!(
            name.len() < PATH_MAX,
            "cpio writer: path {path:?} is longer than PATH_MAX"
        );
        for (at, _) in name.match_indices(SEPARATOR) {
            let parent = &name[..at];
            assert!(
                !self.non_dirs.contains(parent),
                "cpio writer: {path:?} is below {parent:?}, which is not a directory"
            );
        }
        if is_dir {
            self.non_dirs.remove(&name);
        } else {
            self.non_dirs.insert(name.clone());
        }
        name
    }

    fn push(&mut self, header: &Header, name: &str, data: &[u8]) {
        newc::push_header(&mut self.out, header);
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    /// Zero-pads to [`ALIGN`]; the archive starts at offset 0, so this is Linux's alignment.
    fn pad(&mut self) {
        let end = self.out.len().next_multiple_of(ALIGN);
        self.out.resize(end, 0);
    }
}

/// The header's name size: the name and its NUL. Names are checked against `PATH_MAX` first, so
/// this always fits.
fn name_size(name: &str) -> u32 {
    u32::try_from(name.len() + 1).unwrap_or(u32::MAX)
}
