//! The file server's in-memory file system (Linux ramfs/tmpfs semantics) as pure `no_std` +
//! `alloc` logic, host-tested here and built into the file server for `x86_64-unknown-none`.
//!
//! The file server (`DESIGN.md` §2.7) serves the file calls that Linux programs' personalities
//! (`crates/linux`, `user/bin/linux`) forward to it, from a tree populated from the initramfs
//! (`crates/cpio`). The server keeps what belongs to processes — descriptors, file offsets and
//! access modes, each process's credentials, umask and cwd — and does the I/O; everything about the
//! tree itself is an [`Fs`] and lives here, so it can be checked on the host against Linux's rules:
//!
//! - [`cred`]: [`Credentials`] (fsuid/fsgid and supplementary groups; uid 0 is root with the
//!   `CAP_DAC_OVERRIDE`/`DAC_READ_SEARCH`/`FOWNER`/`CHOWN`/`FSETID`/`MKNOD` overrides) and the
//!   permission check [`may`], Linux's `generic_permission`;
//! - inodes ([`FileType`], [`Stat`], [`Timespec`], [`Dev`]): regular files (sparse, page by
//!   page), directories, symlinks, devices, FIFOs and sockets;
//! - path walks from a directory inode (Linux's `link_path_walk`: search permission on every
//!   directory, symlinks relative to their directory, `..` at the root stays there, 40 hops);
//! - the calls, each a method on [`Fs`] answering `Result<_, Errno>` with the errno Linux gives:
//!   [`Fs::lookup`], [`Fs::open`], [`Fs::read_at`] (and [`Fs::read_append`], into a `Vec`),
//!   [`Fs::write_at`], [`Fs::truncate`], [`Fs::ftruncate`], [`Fs::stat`], [`Fs::mkdir`],
//!   [`Fs::mknod`], [`Fs::unlink`],
//!   [`Fs::rmdir`], [`Fs::rename`], [`Fs::link`], [`Fs::symlink`], [`Fs::readlink`],
//!   [`Fs::chmod`], [`Fs::chown`], [`Fs::utimens`], [`Fs::access`], [`Fs::getdents`], whose
//!   entries are encoded by [`encode_dirent64`] (re-exported from `k42_linux::dirent`, the
//!   Linux ABI crate, whose encoder `/proc`'s listings share);
//! - mounts ([`Fs::mount`], [`Fs::umount`], [`Fs::mounts`]): more `tmpfs`/`ramfs` trees in the
//!   one name space, each with its own `st_dev`;
//! - handles ([`Fs::open_handle`], [`Fs::close_handle`]): an unlinked inode lives on while the
//!   server holds a handle on it (an open file, a cwd), and is freed with the last one;
//! - population from the initramfs: [`Fs::from_cpio`], or a [`Builder`] fed entries.
//!
//! The spec is Linux (`fs/namei.c`, `fs/attr.c`, `fs/open.c`, `fs/libfs.c`, `mm/shmem.c`) and
//! the man pages; each method names the Linux function whose checks it follows and in which
//! order. Every Linux number comes from linux-raw-sys through [`k42_linux::raw`]; what the UAPI
//! headers lack is defined once here, citing its kernel header.
//!
//! Nothing here is shared between threads: the server serializes calls on one [`Fs`].

#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

mod attr;
pub mod cred;
mod dir;
mod dirent;
mod file;
mod fs;
mod inode;
mod mount;
mod namei;
mod populate;
mod table;
mod walk;

pub use cred::{Access, Credentials, may};
pub use dirent::{DirEntry, dirent64_reclen, encode_dirent64};
pub use fs::Fs;
pub use inode::{Dev, FileType, Ino, STAT_SIZE, Stat, Timespec, UtimeArg};
pub use k42_linux::Errno;
pub use mount::{FsType, MountEntry};
pub use namei::Opened;
pub use populate::{Builder, Entry, NodeSpec};
pub use walk::MAXSYMLINKS;

/// The Linux constants this crate names (`linux_raw_sys::general`, via `k42_linux::raw`).
pub(crate) use k42_linux::raw::general as linux;

/// The root directory's inode number (tmpfs numbers its root 1 as well).
pub const ROOT_INO: Ino = 1;

/// The largest regular file: a write starting at or past it is `EFBIG`, one crossing it is cut
/// short there, and truncating past it is `EFBIG` (Linux's `s_maxbytes`; tmpfs has
/// `MAX_LFS_FILESIZE`, far more than a server holding everything in memory wants).
pub const MAX_FILE_SIZE: u64 = 1 << 30;

/// `st_blksize`: the preferred I/O size, one page, as tmpfs reports.
pub const BLKSIZE: u64 = 4096;

/// The page the file data is stored in; `st_blocks` counts allocated pages.
pub const PAGE_SIZE: u64 = k42_linux::PAGE_SIZE;

/// The unit of `st_blocks` (bytes). POSIX leaves it open; Linux uses 512 (`stat(2)`), and it is
/// no UAPI constant.
pub const BLOCK_UNIT: u64 = 512;

/// What a directory's `st_size` grows by per entry: tmpfs's `BOGO_DIRENT_SIZE` (`mm/shmem.c`),
/// so an empty directory (`.` and `..`) reports 40 bytes.
pub const BOGO_DIRENT_SIZE: u64 = 20;

/// Bounds on what one file system holds; exceeding one is `ENOSPC` (or `EFBIG` for the file
/// size), as a full tmpfs answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest regular file, bytes ([`MAX_FILE_SIZE`] by default).
    pub max_file_size: u64,
    /// The most inodes alive at once, the root and unlinked-but-open ones included.
    pub max_inodes: u64,
    /// The most bytes of file data, counted in whole pages ([`PAGE_SIZE`]) as allocated: holes
    /// cost nothing.
    pub max_bytes: u64,
}

impl Limits {
    /// The defaults: 1 GiB files, a million inodes, 1 GiB of data (the same bounds as the
    /// initramfs parser's `k42_cpio::Limits::DEFAULT`).
    pub const DEFAULT: Limits = Limits {
        max_file_size: MAX_FILE_SIZE,
        max_inodes: 1_000_000,
        max_bytes: 1 << 30,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
