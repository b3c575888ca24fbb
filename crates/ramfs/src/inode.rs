//! Inodes: what the file system stores per file, and the public views of it ([`Stat`],
//! [`FileType`], [`Dev`], [`Timespec`]).
//!
//! An inode is the file; names are directory entries pointing at it (`dir.rs`). Regular files hold
//! their bytes page by page (`file.rs`), directories their entries, symlinks their target, and
//! device, FIFO and socket nodes only their device number: what opening them does (a driver, a
//! pipe) is decided elsewhere in the server, as Linux's ramfs leaves it to the VFS.

use alloc::vec::Vec;
use core::mem::{offset_of, size_of};

use k42_linux::Errno;

use crate::dir::Dir;
use crate::file::FileData;
use crate::{BLKSIZE, BLOCK_UNIT, BOGO_DIRENT_SIZE, PAGE_SIZE, linux};

/// An inode number. Numbers are never reused within one [`crate::Fs`].
pub type Ino = u64;

/// A point in time: seconds and nanoseconds since the epoch (Linux's `struct timespec64`).
/// The caller passes `now` to every call that stamps a time; the file system has no clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timespec {
    /// Seconds.
    pub sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nsec: u32,
}

impl Timespec {
    /// `sec` seconds and `nsec` nanoseconds.
    pub const fn new(sec: i64, nsec: u32) -> Timespec {
        Timespec { sec, nsec }
    }
}

/// One of the two times `utimensat(2)` is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UtimeArg {
    /// `UTIME_NOW`: the current time.
    Now,
    /// `UTIME_OMIT`: leave this time alone.
    Omit,
    /// An explicit time.
    Set(Timespec),
}

impl UtimeArg {
    /// The argument a `struct timespec` from the program stands for: `tv_nsec` `UTIME_NOW` or
    /// `UTIME_OMIT` (any `tv_sec`), else a time with `tv_nsec` in `0..1e9`; anything else is
    /// `EINVAL` (Linux's `nsec_valid`).
    pub fn from_raw(sec: i64, nsec: i64) -> Result<UtimeArg, Errno> {
        if nsec == i64::from(linux::UTIME_NOW) {
            Ok(UtimeArg::Now)
        } else if nsec == i64::from(linux::UTIME_OMIT) {
            Ok(UtimeArg::Omit)
        } else if (0..1_000_000_000).contains(&nsec) {
            Ok(UtimeArg::Set(Timespec::new(sec, nsec as u32)))
        } else {
            Err(Errno::EINVAL)
        }
    }
}

/// What kind of file an inode is: the Linux ABI crate's, shared with `/proc`'s listings
/// (`k42_linux::dirent`).
pub use k42_linux::dirent::FileType;

/// Bits of a device number's minor part (Linux's `MINORBITS`, `include/linux/kdev_t.h`, which
/// is kernel-internal and so not in linux-raw-sys).
const MINORBITS: u32 = 20;

/// A device number: major and minor (`rdev` of a device node, `dev` of the file system).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dev {
    /// Major number, `0..4096`.
    pub major: u32,
    /// Minor number, `0..2^20`.
    pub minor: u32,
}

impl Dev {
    /// Major `major`, minor `minor`.
    pub const fn new(major: u32, minor: u32) -> Dev {
        Dev { major, minor }
    }

    /// The number user space sees in `st_rdev`/`st_dev` and passes to `mknod(2)`: Linux's
    /// `new_encode_dev` (`include/linux/kdev_t.h`), the same value glibc's and musl's `makedev`
    /// build. Bits beyond Linux's 12-bit major and 20-bit minor are dropped, as `MKDEV` does.
    pub const fn encode(self) -> u32 {
        let major = self.major & ((1 << (32 - MINORBITS)) - 1);
        let minor = self.minor & ((1 << MINORBITS) - 1);
        (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
    }

    /// The device `mknod(2)`'s `dev` argument names: Linux's `new_decode_dev`.
    pub const fn decode(dev: u32) -> Dev {
        Dev {
            major: (dev & 0xfff00) >> 8,
            minor: (dev & 0xff) | ((dev >> 12) & 0xfff00),
        }
    }
}

/// An inode's attributes, as `struct stat` carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// The file system's device number (`st_dev`, encoded as [`Dev::encode`]).
    pub dev: u64,
    /// Inode number.
    pub ino: Ino,
    /// Type and permission bits.
    pub mode: u32,
    /// Hard links (directories: 2 + subdirectories; 0 once removed but still open).
    pub nlink: u64,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number of a device node (encoded as [`Dev::encode`]), 0 otherwise.
    pub rdev: u64,
    /// Bytes: a file's length, a symlink's target length, a directory's [`BOGO_DIRENT_SIZE`]
    /// per entry (`.` and `..` included), 0 for the others.
    pub size: u64,
    /// [`BLKSIZE`].
    pub blksize: u64,
    /// Allocated storage in 512-byte units: a file's allocated pages (holes cost nothing).
    pub blocks: u64,
    /// Last access.
    pub atime: Timespec,
    /// Last modification of the contents.
    pub mtime: Timespec,
    /// Last change of the inode.
    pub ctime: Timespec,
}

/// The size of Linux's x86_64 `struct stat`, what [`Stat::to_linux_bytes`] fills.
pub const STAT_SIZE: usize = size_of::<linux::stat>();

impl Stat {
    /// The file's type.
    pub fn file_type(&self) -> Option<FileType> {
        FileType::from_mode(self.mode)
    }

    /// The permission bits (set-id and sticky included).
    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }

    /// Linux's x86_64 `struct stat` (`stat(2)`, `fstat(2)`, `newfstatat(2)`), little-endian, with
    /// the padding zeroed; every offset comes from linux-raw-sys's `struct stat`.
    pub fn to_linux_bytes(&self) -> [u8; STAT_SIZE] {
        let mut b = [0u8; STAT_SIZE];
        fn put(b: &mut [u8], at: usize, bytes: &[u8]) {
            b[at..at + bytes.len()].copy_from_slice(bytes);
        }
        type S = linux::stat;
        put(&mut b, offset_of!(S, st_dev), &self.dev.to_le_bytes());
        put(&mut b, offset_of!(S, st_ino), &self.ino.to_le_bytes());
        put(&mut b, offset_of!(S, st_nlink), &self.nlink.to_le_bytes());
        put(&mut b, offset_of!(S, st_mode), &self.mode.to_le_bytes());
        put(&mut b, offset_of!(S, st_uid), &self.uid.to_le_bytes());
        put(&mut b, offset_of!(S, st_gid), &self.gid.to_le_bytes());
        put(&mut b, offset_of!(S, st_rdev), &self.rdev.to_le_bytes());
        put(&mut b, offset_of!(S, st_size), &self.size.to_le_bytes());
        put(
            &mut b,
            offset_of!(S, st_blksize),
            &self.blksize.to_le_bytes(),
        );
        put(&mut b, offset_of!(S, st_blocks), &self.blocks.to_le_bytes());
        let times = [
            (
                offset_of!(S, st_atime),
                offset_of!(S, st_atime_nsec),
                self.atime,
            ),
            (
                offset_of!(S, st_mtime),
                offset_of!(S, st_mtime_nsec),
                self.mtime,
            ),
            (
                offset_of!(S, st_ctime),
                offset_of!(S, st_ctime_nsec),
                self.ctime,
            ),
        ];
        for (sec_at, nsec_at, t) in times {
            put(&mut b, sec_at, &t.sec.to_le_bytes());
            put(&mut b, nsec_at, &u64::from(t.nsec).to_le_bytes());
        }
        b
    }
}

/// What an inode holds besides its attributes.
#[derive(Debug)]
pub(crate) enum Body {
    /// A regular file's bytes.
    File(FileData),
    /// A directory's entries.
    Dir(Dir),
    /// A symlink's target (never empty, shorter than `PATH_MAX`).
    Symlink(Vec<u8>),
    /// A device, FIFO or socket node: its device number (zero but for devices).
    Special(Dev),
}

/// One inode.
#[derive(Debug)]
pub(crate) struct Inode {
    /// Type and permission bits; the type never changes.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Names pointing here (directories: 2 + subdirectories); 0 once removed.
    pub nlink: u32,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    /// The server's handles on this inode, plus one per removed-but-open subdirectory (whose
    /// `..` still leads here).
    pub handles: u32,
    /// The file system it belongs to (`mount.rs`; 0: the root file system).
    pub sb: crate::mount::Sb,
    pub body: Body,
}

impl Inode {
    /// A new inode, every time `now`.
    pub fn new(mode: u32, uid: u32, gid: u32, nlink: u32, body: Body, now: Timespec) -> Inode {
        Inode {
            mode,
            uid,
            gid,
            nlink,
            atime: now,
            mtime: now,
            ctime: now,
            handles: 0,
            sb: crate::mount::ROOT_SB,
            body,
        }
    }

    pub fn file_type(&self) -> FileType {
        match &self.body {
            Body::File(_) => FileType::Regular,
            Body::Dir(_) => FileType::Directory,
            Body::Symlink(_) => FileType::Symlink,
            Body::Special(_) => FileType::from_mode(self.mode).unwrap_or(FileType::Fifo),
        }
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.body, Body::Dir(_))
    }

    pub fn dir(&self) -> Option<&Dir> {
        match &self.body {
            Body::Dir(d) => Some(d),
            _ => None,
        }
    }

    pub fn dir_mut(&mut self) -> Option<&mut Dir> {
        match &mut self.body {
            Body::Dir(d) => Some(d),
            _ => None,
        }
    }

    pub fn symlink(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Symlink(t) => Some(t),
            _ => None,
        }
    }

    /// Linux's `generic_permission` on this inode.
    pub fn may(&self, cred: &crate::Credentials, want: crate::Access) -> Result<(), Errno> {
        crate::may(cred, self.mode, self.uid, self.gid, want)
    }

    /// The attributes, for `stat`.
    pub fn stat(&self, dev: u64, ino: Ino) -> Stat {
        let (size, pages, rdev) = match &self.body {
            Body::File(f) => (f.size(), f.pages() as u64, 0),
            Body::Dir(d) => (BOGO_DIRENT_SIZE * (2 + d.len() as u64), 0, 0),
            Body::Symlink(t) => (t.len() as u64, 0, 0),
            Body::Special(dev) => (0, 0, u64::from(dev.encode())),
        };
        Stat {
            dev,
            ino,
            mode: self.mode,
            nlink: u64::from(self.nlink),
            uid: self.uid,
            gid: self.gid,
            rdev,
            size,
            blksize: BLKSIZE,
            blocks: pages * (PAGE_SIZE / BLOCK_UNIT),
            atime: self.atime,
            mtime: self.mtime,
            ctime: self.ctime,
        }
    }

    /// Linux's `touch_atime` under the default `relatime` mount option
    /// (`relatime_need_update`, `fs/inode.c`): the access time moves only if it is not newer
    /// than the modification or change time, or is a day old.
    pub fn touch_atime(&mut self, now: Timespec) {
        const DAY: i64 = 24 * 60 * 60;
        if self.mtime >= self.atime
            || self.ctime >= self.atime
            || now.sec.saturating_sub(self.atime.sec) >= DAY
        {
            self.atime = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_encoding_is_linuxs() {
        // /dev/null 1:3, /dev/tty 5:0, /dev/sda 8:0, a large minor.
        assert_eq!(Dev::new(1, 3).encode(), 0x103);
        assert_eq!(Dev::new(5, 0).encode(), 0x500);
        assert_eq!(Dev::new(259, 0x12345).encode(), 0x12310345);
        for dev in [
            Dev::new(1, 3),
            Dev::new(4095, 0xfffff),
            Dev::new(259, 0x12345),
        ] {
            assert_eq!(Dev::decode(dev.encode()), dev);
        }
    }

    #[test]
    fn utime_args() {
        assert_eq!(UtimeArg::from_raw(5, (1 << 30) - 1), Ok(UtimeArg::Now));
        assert_eq!(UtimeArg::from_raw(5, (1 << 30) - 2), Ok(UtimeArg::Omit));
        assert_eq!(
            UtimeArg::from_raw(5, 7),
            Ok(UtimeArg::Set(Timespec::new(5, 7)))
        );
        assert_eq!(UtimeArg::from_raw(5, -1), Err(Errno::EINVAL));
        assert_eq!(UtimeArg::from_raw(5, 1_000_000_000), Err(Errno::EINVAL));
    }

    #[test]
    fn stat_layout() {
        let st = Stat {
            dev: 0x11,
            ino: 0x22,
            mode: 0o100644,
            nlink: 3,
            uid: 4,
            gid: 5,
            rdev: 0x66,
            size: 0x77,
            blksize: 4096,
            blocks: 8,
            atime: Timespec::new(9, 10),
            mtime: Timespec::new(11, 12),
            ctime: Timespec::new(13, 14),
        };
        let b = st.to_linux_bytes();
        assert_eq!(b.len(), 144);
        let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        // x86_64 struct stat: dev, ino, nlink, mode, uid, gid, pad, rdev, size, blksize, blocks,
        // then the three times as (sec, nsec) pairs.
        assert_eq!(u64_at(0), 0x11);
        assert_eq!(u64_at(8), 0x22);
        assert_eq!(u64_at(16), 3);
        assert_eq!(u32_at(24), 0o100644);
        assert_eq!(u32_at(28), 4);
        assert_eq!(u32_at(32), 5);
        assert_eq!(u64_at(40), 0x66);
        assert_eq!(u64_at(48), 0x77);
        assert_eq!(u64_at(56), 4096);
        assert_eq!(u64_at(64), 8);
        assert_eq!((u64_at(72), u64_at(80)), (9, 10));
        assert_eq!((u64_at(88), u64_at(96)), (11, 12));
        assert_eq!((u64_at(104), u64_at(112)), (13, 14));
    }
}
