//! Helpers shared by the integration tests: credentials, times, and root-privileged shortcuts
//! to build trees.

#![allow(dead_code)]

use k42_linux::raw::general as linux;
use k42_ramfs::{Credentials, Errno, Fs, Ino, Stat, Timespec};

/// The time the trees are built at.
pub const T0: Timespec = Timespec::new(1_000, 0);
/// Later times.
pub const T1: Timespec = Timespec::new(2_000, 1);
pub const T2: Timespec = Timespec::new(3_000, 2);

pub const O_RDONLY: u32 = linux::O_RDONLY;
pub const O_WRONLY: u32 = linux::O_WRONLY;
pub const O_RDWR: u32 = linux::O_RDWR;
pub const O_CREAT: u32 = linux::O_CREAT;
pub const O_EXCL: u32 = linux::O_EXCL;
pub const O_TRUNC: u32 = linux::O_TRUNC;
pub const O_DIRECTORY: u32 = linux::O_DIRECTORY;
pub const O_NOFOLLOW: u32 = linux::O_NOFOLLOW;
pub const O_PATH: u32 = linux::O_PATH;
pub const O_NOATIME: u32 = linux::O_NOATIME;
pub const O_TMPFILE: u32 = linux::O_TMPFILE;
pub const O_APPEND: u32 = linux::O_APPEND;
pub const AT_SYMLINK_NOFOLLOW: u32 = linux::AT_SYMLINK_NOFOLLOW;
pub const AT_SYMLINK_FOLLOW: u32 = linux::AT_SYMLINK_FOLLOW;
pub const AT_EMPTY_PATH: u32 = linux::AT_EMPTY_PATH;
pub const RENAME_NOREPLACE: u32 = linux::RENAME_NOREPLACE;
pub const RENAME_EXCHANGE: u32 = linux::RENAME_EXCHANGE;
pub const RENAME_WHITEOUT: u32 = linux::RENAME_WHITEOUT;
pub const S_IFREG: u32 = linux::S_IFREG;
pub const S_IFDIR: u32 = linux::S_IFDIR;
pub const S_IFLNK: u32 = linux::S_IFLNK;
pub const S_IFCHR: u32 = linux::S_IFCHR;
pub const S_IFBLK: u32 = linux::S_IFBLK;
pub const S_IFIFO: u32 = linux::S_IFIFO;
pub const S_IFSOCK: u32 = linux::S_IFSOCK;
pub const S_ISUID: u32 = linux::S_ISUID;
pub const S_ISGID: u32 = linux::S_ISGID;
pub const S_ISVTX: u32 = linux::S_ISVTX;
pub const F_OK: u32 = linux::F_OK;
pub const R_OK: u32 = linux::R_OK;
pub const W_OK: u32 = linux::W_OK;
pub const X_OK: u32 = linux::X_OK;

pub fn root() -> Credentials {
    Credentials::root()
}

/// uid `uid`, primary group `uid`, no supplementary groups.
pub fn user(uid: u32) -> Credentials {
    Credentials::user(uid, uid, &[])
}

/// A fresh file system at [`T0`].
pub fn new_fs() -> Fs {
    Fs::new(T0)
}

/// Root: `mkdir -m mode path`, then `chown uid:gid`.
pub fn mkdir_as(fs: &mut Fs, path: &str, mode: u32, uid: u32, gid: u32) -> Ino {
    let ino = fs
        .mkdir(&root(), fs.root(), path.as_bytes(), mode, 0, T0)
        .unwrap_or_else(|e| panic!("mkdir {path}: {e:?}"));
    fs.chown(&root(), ino, Some(uid), Some(gid), T0).unwrap();
    fs.chmod(&root(), ino, mode, T0).unwrap();
    ino
}

/// Root: `mkdir -m mode path`.
pub fn mkdir(fs: &mut Fs, path: &str, mode: u32) -> Ino {
    mkdir_as(fs, path, mode, 0, 0)
}

/// Root: creates a file with `content`, then `chown uid:gid` and `chmod mode`.
pub fn file_as(fs: &mut Fs, path: &str, mode: u32, uid: u32, gid: u32, content: &[u8]) -> Ino {
    let o = fs
        .open(
            &root(),
            fs.root(),
            path.as_bytes(),
            O_CREAT | O_WRONLY | O_TRUNC,
            0o644,
            0,
            T0,
        )
        .unwrap_or_else(|e| panic!("create {path}: {e:?}"));
    assert_eq!(
        fs.write_at(&root(), o.ino, 0, content, T0),
        Ok(content.len())
    );
    fs.chown(&root(), o.ino, Some(uid), Some(gid), T0).unwrap();
    fs.chmod(&root(), o.ino, mode, T0).unwrap();
    fs.close_handle(o.ino).unwrap();
    o.ino
}

/// Root: creates a file with `content`, mode `mode`, owned by root.
pub fn file(fs: &mut Fs, path: &str, mode: u32, content: &[u8]) -> Ino {
    file_as(fs, path, mode, 0, 0, content)
}

/// Root: `ln -s target path`.
pub fn symlink(fs: &mut Fs, target: &str, path: &str) -> Ino {
    fs.symlink(&root(), target.as_bytes(), fs.root(), path.as_bytes(), T0)
        .unwrap_or_else(|e| panic!("symlink {path}: {e:?}"))
}

/// `lookup` from the root, following symlinks.
pub fn lookup(fs: &Fs, cred: &Credentials, path: &str) -> Result<Ino, Errno> {
    fs.lookup(cred, fs.root(), path.as_bytes(), 0)
}

/// `lookup` from the root, not following a final symlink.
pub fn lookup_nofollow(fs: &Fs, cred: &Credentials, path: &str) -> Result<Ino, Errno> {
    fs.lookup(cred, fs.root(), path.as_bytes(), AT_SYMLINK_NOFOLLOW)
}

/// Root: `stat path`.
pub fn stat(fs: &Fs, path: &str) -> Stat {
    let ino = lookup_nofollow(fs, &root(), path).unwrap_or_else(|e| panic!("stat {path}: {e:?}"));
    fs.stat(ino).unwrap()
}

/// The whole contents of inode `ino`.
pub fn read_ino(fs: &mut Fs, ino: Ino) -> Vec<u8> {
    let size = fs.stat(ino).unwrap().size as usize;
    let mut buf = vec![0u8; size + 16];
    let n = fs.read_at(ino, 0, &mut buf, T0).unwrap();
    buf.truncate(n);
    buf
}

/// Root: the whole contents of `path`.
pub fn read(fs: &mut Fs, path: &str) -> Vec<u8> {
    let ino = lookup(fs, &root(), path).unwrap_or_else(|e| panic!("read {path}: {e:?}"));
    read_ino(fs, ino)
}

/// `open` from the root with mode 0o666 and umask 0.
pub fn open(fs: &mut Fs, cred: &Credentials, path: &str, flags: u32) -> Result<Ino, Errno> {
    let root = fs.root();
    fs.open(cred, root, path.as_bytes(), flags, 0o666, 0, T1)
        .map(|o| o.ino)
}

/// [`open`], then closes the handle again.
pub fn try_open(fs: &mut Fs, cred: &Credentials, path: &str, flags: u32) -> Result<(), Errno> {
    let ino = open(fs, cred, path, flags)?;
    fs.close_handle(ino).unwrap();
    Ok(())
}

/// Every name in directory `path` (without `.` and `..`), in listing order.
pub fn names(fs: &mut Fs, path: &str) -> Vec<String> {
    let ino = lookup(fs, &root(), path).unwrap();
    fs.getdents(ino, 0, usize::MAX, T0)
        .unwrap()
        .into_iter()
        .map(|e| String::from_utf8(e.name).unwrap())
        .filter(|n| n != "." && n != "..")
        .collect()
}
