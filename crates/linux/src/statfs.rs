//! File system figures as `statfs(2)` and `fstatfs(2)` hand them to programs: one [`StatFs`]
//! that the file server (for its file systems) and the personality (for `/proc` and pipes) fill,
//! encoded into the kernel's x86_64 `struct statfs` byte for byte. The layout comes from
//! linux-raw-sys's definition, which the tests check every field's offset against.
//!
//! The figures follow Linux 6.1: tmpfs (`shmem_statfs`) reports its size and inode limits and
//! what is used of them; ramfs, procfs and pipefs (`simple_statfs`) only their type, block size
//! and name length. `f_frsize` is the block size and `f_flags` the mount's `ST_*` flags with
//! `ST_VALID`, as the `statfs` syscall itself fills them in (`calculate_f_flags`).

use core::mem::{offset_of, size_of};

use crate::PAGE_SIZE;
use crate::raw::general as g;

/// Bytes of the kernel's `struct statfs` on x86_64.
pub const STATFS_BYTES: usize = size_of::<g::statfs>();

/// `f_flags`: the figures are valid (`include/linux/statfs.h`; every `statfs` sets it).
pub const ST_VALID: u64 = 0x0020;
/// `f_flags`: access times are updated relatively (the `relatime` mount option).
pub const ST_RELATIME: u64 = 0x1000;

/// Longest file name, as every file system here has it (`NAME_MAX`).
pub const NAME_MAX: u64 = 255;

/// What `statfs` says of a file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatFs {
    /// Its type's magic number (`TMPFS_MAGIC`…).
    pub fs_type: u64,
    /// Blocks in all (of [`PAGE_SIZE`] bytes).
    pub blocks: u64,
    /// Blocks free.
    pub bfree: u64,
    /// Blocks free to an unprivileged user (the same here: nothing is reserved).
    pub bavail: u64,
    /// Inodes in all.
    pub files: u64,
    /// Inodes free.
    pub ffree: u64,
    /// Its id.
    pub fsid: [u32; 2],
    /// The mount's `ST_*` flags, without [`ST_VALID`] (added on encoding).
    pub flags: u64,
}

impl StatFs {
    /// A file system that reports only its type, as Linux's `simple_statfs` (ramfs, procfs,
    /// pipefs), mounted with `flags`.
    pub const fn simple(fs_type: u32, flags: u64) -> StatFs {
        StatFs {
            fs_type: fs_type as u64,
            blocks: 0,
            bfree: 0,
            bavail: 0,
            files: 0,
            ffree: 0,
            fsid: [0, 0],
            flags,
        }
    }

    /// A tmpfs of `max_bytes` and `max_inodes` with `used_bytes` and `used_inodes` taken, as
    /// Linux's `shmem_statfs` reports one with size and inode limits.
    pub fn tmpfs(limits: (u64, u64), used: (u64, u64), fsid: [u32; 2], flags: u64) -> StatFs {
        let (max_bytes, max_inodes) = limits;
        let (used_bytes, used_inodes) = used;
        let blocks = max_bytes / PAGE_SIZE;
        let free = blocks.saturating_sub(used_bytes.div_ceil(PAGE_SIZE));
        StatFs {
            fs_type: u64::from(g::TMPFS_MAGIC),
            blocks,
            bfree: free,
            bavail: free,
            files: max_inodes,
            ffree: max_inodes.saturating_sub(used_inodes),
            fsid,
            flags,
        }
    }

    /// The kernel's `struct statfs` bytes.
    pub fn to_bytes(&self) -> [u8; STATFS_BYTES] {
        let mut b = [0u8; STATFS_BYTES];
        let mut put =
            |offset: usize, v: u64| b[offset..offset + 8].copy_from_slice(&v.to_le_bytes());
        put(offset_of!(g::statfs, f_type), self.fs_type);
        put(offset_of!(g::statfs, f_bsize), PAGE_SIZE);
        put(offset_of!(g::statfs, f_blocks), self.blocks);
        put(offset_of!(g::statfs, f_bfree), self.bfree);
        put(offset_of!(g::statfs, f_bavail), self.bavail);
        put(offset_of!(g::statfs, f_files), self.files);
        put(offset_of!(g::statfs, f_ffree), self.ffree);
        let fsid = u64::from(self.fsid[0]) | (u64::from(self.fsid[1]) << u32::BITS);
        put(offset_of!(g::statfs, f_fsid), fsid);
        put(offset_of!(g::statfs, f_namelen), NAME_MAX);
        put(offset_of!(g::statfs, f_frsize), PAGE_SIZE);
        put(offset_of!(g::statfs, f_flags), self.flags | ST_VALID);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(b: &[u8], offset: usize) -> u64 {
        u64::from_le_bytes(b[offset..offset + 8].try_into().unwrap())
    }

    #[test]
    fn layout_is_the_kernels() {
        assert_eq!(STATFS_BYTES, 120);
        let s = StatFs {
            fs_type: 1,
            blocks: 3,
            bfree: 4,
            bavail: 5,
            files: 6,
            ffree: 7,
            fsid: [8, 9],
            flags: ST_RELATIME,
        };
        let b = s.to_bytes();
        let at = [
            (0, 1),
            (8, PAGE_SIZE),
            (16, 3),
            (24, 4),
            (32, 5),
            (40, 6),
            (48, 7),
        ];
        for (offset, v) in at {
            assert_eq!(word(&b, offset), v, "offset {offset}");
        }
        assert_eq!(word(&b, 56), 8 | (9 << 32));
        assert_eq!(word(&b, 64), NAME_MAX);
        assert_eq!(word(&b, 72), PAGE_SIZE);
        assert_eq!(word(&b, 80), ST_RELATIME | ST_VALID);
        assert!(b[88..].iter().all(|&x| x == 0), "f_spare is zero");
    }

    #[test]
    fn tmpfs_counts_used_pages_and_inodes() {
        let s = StatFs::tmpfs((40 * PAGE_SIZE, 100), (PAGE_SIZE + 1, 10), [1, 2], 0);
        assert_eq!((s.blocks, s.bfree, s.bavail), (40, 38, 38));
        assert_eq!((s.files, s.ffree), (100, 90));
        assert_eq!(s.fs_type, u64::from(g::TMPFS_MAGIC));
        // More used than the limit (the limits are shared between file systems): none free.
        let full = StatFs::tmpfs((PAGE_SIZE, 1), (8 * PAGE_SIZE, 5), [0, 0], 0);
        assert_eq!((full.bfree, full.ffree), (0, 0));
    }

    #[test]
    fn simple_reports_only_its_type() {
        let s = StatFs::simple(g::RAMFS_MAGIC, ST_RELATIME);
        let b = s.to_bytes();
        assert_eq!(word(&b, 0), u64::from(g::RAMFS_MAGIC));
        assert!((16..56).step_by(8).all(|o| word(&b, o) == 0));
        assert_eq!(word(&b, 80), ST_RELATIME | ST_VALID);
    }
}
