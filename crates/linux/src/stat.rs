//! File metadata as Linux hands it to programs: one [`Stat`] that the file server and the
//! personality fill, encoded into the kernel's `struct stat` (for `fstat`, `newfstatat`) and
//! `struct statx` (for `statx`) byte for byte. The layouts come from linux-raw-sys's
//! definitions: the tests check every field's offset against `offset_of!` on them, so nothing
//! here can drift from the ABI. Device numbers use Linux's `new_encode_dev` (`makedev`).

use core::mem::{offset_of, size_of};

use crate::raw::general::{self as g, stat, statx, statx_timestamp};

/// A time as Linux keeps it: seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    /// Seconds.
    pub sec: i64,
    /// Nanoseconds, below 10⁹.
    pub nsec: u32,
}

/// Nanoseconds in a second.
const NS_PER_SEC: u64 = 1_000_000_000;

impl Timespec {
    /// The time `ns` nanoseconds after the epoch.
    pub const fn from_ns(ns: u64) -> Self {
        Self {
            // Lossless: u64 nanoseconds are under 2^35 seconds.
            sec: (ns / NS_PER_SEC) as i64,
            // Lossless: below 10⁹.
            nsec: (ns % NS_PER_SEC) as u32,
        }
    }
}

/// What `stat` reports of a file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// Device (major, minor) of the file system.
    pub dev: (u32, u32),
    /// Inode number.
    pub ino: u64,
    /// Links.
    pub nlink: u64,
    /// Type and permission bits (`S_IF*` | mode).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// For device nodes: (major, minor).
    pub rdev: (u32, u32),
    /// Size in bytes.
    pub size: u64,
    /// Preferred I/O size.
    pub blksize: u32,
    /// Allocated 512-byte blocks.
    pub blocks: u64,
    /// Last access.
    pub atime: Timespec,
    /// Last modification.
    pub mtime: Timespec,
    /// Last status change.
    pub ctime: Timespec,
}

/// Bytes of the kernel's `struct stat` on x86_64.
pub const STAT_BYTES: usize = size_of::<stat>();
/// Bytes of `struct statx`.
pub const STATX_BYTES: usize = size_of::<statx>();

/// Linux's device number encoding (`new_encode_dev`): what `st_dev`/`st_rdev` hold and
/// `makedev` builds.
pub const fn encode_dev((major, minor): (u32, u32)) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

/// Linux's `new_decode_dev`: (major, minor) of an encoded device number.
pub const fn decode_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    // Lossless: Linux device numbers are 12+20 bits wide (and 32 each in the new encoding).
    (major as u32, minor as u32)
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

impl Stat {
    /// The kernel's `struct stat` bytes.
    pub fn to_stat_bytes(&self) -> [u8; STAT_BYTES] {
        let mut b = [0u8; STAT_BYTES];
        put(
            &mut b,
            offset_of!(stat, st_dev),
            &encode_dev(self.dev).to_le_bytes(),
        );
        put(&mut b, offset_of!(stat, st_ino), &self.ino.to_le_bytes());
        put(
            &mut b,
            offset_of!(stat, st_nlink),
            &self.nlink.to_le_bytes(),
        );
        put(&mut b, offset_of!(stat, st_mode), &self.mode.to_le_bytes());
        put(&mut b, offset_of!(stat, st_uid), &self.uid.to_le_bytes());
        put(&mut b, offset_of!(stat, st_gid), &self.gid.to_le_bytes());
        put(
            &mut b,
            offset_of!(stat, st_rdev),
            &encode_dev(self.rdev).to_le_bytes(),
        );
        put(&mut b, offset_of!(stat, st_size), &self.size.to_le_bytes());
        put(
            &mut b,
            offset_of!(stat, st_blksize),
            &u64::from(self.blksize).to_le_bytes(),
        );
        put(
            &mut b,
            offset_of!(stat, st_blocks),
            &self.blocks.to_le_bytes(),
        );
        for (sec, nsec, t) in [
            (
                offset_of!(stat, st_atime),
                offset_of!(stat, st_atime_nsec),
                self.atime,
            ),
            (
                offset_of!(stat, st_mtime),
                offset_of!(stat, st_mtime_nsec),
                self.mtime,
            ),
            (
                offset_of!(stat, st_ctime),
                offset_of!(stat, st_ctime_nsec),
                self.ctime,
            ),
        ] {
            put(&mut b, sec, &t.sec.to_le_bytes());
            put(&mut b, nsec, &u64::from(t.nsec).to_le_bytes());
        }
        b
    }

    /// A [`Stat`] back from `struct stat` bytes (as a server sent them), `None` if too short.
    pub fn from_stat_bytes(b: &[u8]) -> Option<Stat> {
        if b.len() < STAT_BYTES {
            return None;
        }
        let w = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default());
        let h = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or_default());
        let t = |sec: usize, nsec: usize| Timespec {
            sec: w(sec) as i64,
            // Lossless for what `to_stat_bytes` wrote: nanoseconds below 10⁹.
            nsec: w(nsec) as u32,
        };
        Some(Stat {
            dev: decode_dev(w(offset_of!(stat, st_dev))),
            ino: w(offset_of!(stat, st_ino)),
            nlink: w(offset_of!(stat, st_nlink)),
            mode: h(offset_of!(stat, st_mode)),
            uid: h(offset_of!(stat, st_uid)),
            gid: h(offset_of!(stat, st_gid)),
            rdev: decode_dev(w(offset_of!(stat, st_rdev))),
            size: w(offset_of!(stat, st_size)),
            blksize: w(offset_of!(stat, st_blksize)) as u32,
            blocks: w(offset_of!(stat, st_blocks)),
            atime: t(offset_of!(stat, st_atime), offset_of!(stat, st_atime_nsec)),
            mtime: t(offset_of!(stat, st_mtime), offset_of!(stat, st_mtime_nsec)),
            ctime: t(offset_of!(stat, st_ctime), offset_of!(stat, st_ctime_nsec)),
        })
    }

    /// The kernel's `struct statx` bytes, every basic field filled (`STATX_BASIC_STATS`; no
    /// birth time, no mount id).
    pub fn to_statx_bytes(&self) -> [u8; STATX_BYTES] {
        let mut b = [0u8; STATX_BYTES];
        put(
            &mut b,
            offset_of!(statx, stx_mask),
            &g::STATX_BASIC_STATS.to_le_bytes(),
        );
        put(
            &mut b,
            offset_of!(statx, stx_blksize),
            &self.blksize.to_le_bytes(),
        );
        let nlink = u32::try_from(self.nlink).unwrap_or(u32::MAX);
        put(&mut b, offset_of!(statx, stx_nlink), &nlink.to_le_bytes());
        put(&mut b, offset_of!(statx, stx_uid), &self.uid.to_le_bytes());
        put(&mut b, offset_of!(statx, stx_gid), &self.gid.to_le_bytes());
        // Lossless: type and permission bits fit 16 bits.
        put(
            &mut b,
            offset_of!(statx, stx_mode),
            &(self.mode as u16).to_le_bytes(),
        );
        put(&mut b, offset_of!(statx, stx_ino), &self.ino.to_le_bytes());
        put(
            &mut b,
            offset_of!(statx, stx_size),
            &self.size.to_le_bytes(),
        );
        put(
            &mut b,
            offset_of!(statx, stx_blocks),
            &self.blocks.to_le_bytes(),
        );
        for (at, t) in [
            (offset_of!(statx, stx_atime), self.atime),
            (offset_of!(statx, stx_ctime), self.ctime),
            (offset_of!(statx, stx_mtime), self.mtime),
        ] {
            put(
                &mut b,
                at + offset_of!(statx_timestamp, tv_sec),
                &t.sec.to_le_bytes(),
            );
            put(
                &mut b,
                at + offset_of!(statx_timestamp, tv_nsec),
                &t.nsec.to_le_bytes(),
            );
        }
        put(
            &mut b,
            offset_of!(statx, stx_rdev_major),
            &self.rdev.0.to_le_bytes(),
        );
        put(
            &mut b,
            offset_of!(statx, stx_rdev_minor),
            &self.rdev.1.to_le_bytes(),
        );
        put(
            &mut b,
            offset_of!(statx, stx_dev_major),
            &self.dev.0.to_le_bytes(),
        );
        put(
            &mut b,
            offset_of!(statx, stx_dev_minor),
            &self.dev.1.to_le_bytes(),
        );
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    fn sample() -> Stat {
        Stat {
            dev: (0, 17),
            ino: 42,
            nlink: 3,
            mode: g::S_IFREG | 0o644,
            uid: 1000,
            gid: 100,
            rdev: (0, 0),
            size: 12345,
            blksize: 4096,
            blocks: 32,
            atime: Timespec { sec: 1, nsec: 2 },
            mtime: Timespec { sec: 3, nsec: 4 },
            ctime: Timespec { sec: 5, nsec: 6 },
        }
    }

    #[test]
    fn stat_is_the_kernel_layout() {
        assert_eq!(STAT_BYTES, 144);
        let b = sample().to_stat_bytes();
        assert_eq!(word(&b, offset_of!(stat, st_ino)), 42);
        assert_eq!(word(&b, offset_of!(stat, st_nlink)), 3);
        assert_eq!(
            u32::from_le_bytes(b[offset_of!(stat, st_mode)..][..4].try_into().unwrap()),
            g::S_IFREG | 0o644
        );
        assert_eq!(word(&b, offset_of!(stat, st_size)), 12345);
        assert_eq!(word(&b, offset_of!(stat, st_mtime)), 3);
        assert_eq!(word(&b, offset_of!(stat, st_ctime_nsec)), 6);
        assert_eq!(word(&b, offset_of!(stat, st_dev)), 17);
    }

    #[test]
    fn statx_is_the_kernel_layout() {
        let b = sample().to_statx_bytes();
        assert_eq!(word(&b, offset_of!(statx, stx_ino)), 42);
        assert_eq!(word(&b, offset_of!(statx, stx_size)), 12345);
        let at = offset_of!(statx, stx_mtime);
        assert_eq!(word(&b, at), 3);
        assert_eq!(
            u32::from_le_bytes(b[offset_of!(statx, stx_mask)..][..4].try_into().unwrap()),
            g::STATX_BASIC_STATS
        );
    }

    #[test]
    fn stat_bytes_round_trip() {
        let s = Stat {
            rdev: (4, 64),
            ..sample()
        };
        assert_eq!(Stat::from_stat_bytes(&s.to_stat_bytes()), Some(s));
        assert_eq!(Stat::from_stat_bytes(&[0; 10]), None);
    }

    #[test]
    fn device_numbers_round_trip() {
        for dev in [(0, 0), (1, 3), (4, 64), (0x1234, 0x56789), (0xfff, 0xff)] {
            assert_eq!(decode_dev(encode_dev(dev)), dev);
        }
    }

    #[test]
    fn device_numbers_encode_as_makedev() {
        assert_eq!(encode_dev((1, 3)), 0x103);
        assert_eq!(encode_dev((4, 64)), 0x440);
        assert_eq!(encode_dev((5, 1)), 0x501);
        // Large numbers spill into the high bits, as glibc's makedev.
        assert_eq!(encode_dev((0x1234, 0x56789)), 0x0000_1000_5672_3489);
    }
}
