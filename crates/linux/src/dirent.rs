//! Directory entries as Linux's `getdents64(2)` hands them out: a file's type ([`FileType`],
//! the `S_IFMT` bits and the `DT_*` value), one entry of a listing ([`DirEntry`]) and the
//! `struct linux_dirent64` records a buffer is filled with ([`encode_dirent64`]).
//!
//! This is Linux ABI, not any one file system's: the file server's ramfs (`k42_ramfs`) lists
//! its directories with it, and the personality's `/proc` (`k42_ptree::procpath`) its own, so
//! both write the same records.

use alloc::vec::Vec;
use core::mem::{offset_of, size_of};

use crate::errno::Errno;
use crate::raw::general as raw;

/// What kind of file an inode is (the `S_IFMT` bits of its mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// A regular file (`S_IFREG`).
    Regular,
    /// A directory (`S_IFDIR`).
    Directory,
    /// A symbolic link (`S_IFLNK`).
    Symlink,
    /// A character device node (`S_IFCHR`).
    CharDevice,
    /// A block device node (`S_IFBLK`).
    BlockDevice,
    /// A named pipe (`S_IFIFO`).
    Fifo,
    /// A Unix-domain socket node (`S_IFSOCK`).
    Socket,
}

impl FileType {
    /// The type the `S_IFMT` bits of `mode` name; `None` for a value Linux does not define.
    pub const fn from_mode(mode: u32) -> Option<FileType> {
        Some(match mode & raw::S_IFMT {
            raw::S_IFREG => FileType::Regular,
            raw::S_IFDIR => FileType::Directory,
            raw::S_IFLNK => FileType::Symlink,
            raw::S_IFCHR => FileType::CharDevice,
            raw::S_IFBLK => FileType::BlockDevice,
            raw::S_IFIFO => FileType::Fifo,
            raw::S_IFSOCK => FileType::Socket,
            _ => return None,
        })
    }

    /// The `S_IF*` bits.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => raw::S_IFREG,
            FileType::Directory => raw::S_IFDIR,
            FileType::Symlink => raw::S_IFLNK,
            FileType::CharDevice => raw::S_IFCHR,
            FileType::BlockDevice => raw::S_IFBLK,
            FileType::Fifo => raw::S_IFIFO,
            FileType::Socket => raw::S_IFSOCK,
        }
    }

    /// The `DT_*` value `getdents64` reports (`d_type`).
    pub const fn dirent_type(self) -> u8 {
        (match self {
            FileType::Regular => raw::DT_REG,
            FileType::Directory => raw::DT_DIR,
            FileType::Symlink => raw::DT_LNK,
            FileType::CharDevice => raw::DT_CHR,
            FileType::BlockDevice => raw::DT_BLK,
            FileType::Fifo => raw::DT_FIFO,
            FileType::Socket => raw::DT_SOCK,
        }) as u8
    }
}

/// One directory entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The inode the entry names.
    pub ino: u64,
    /// The name (`.` and `..` included), without NUL.
    pub name: Vec<u8>,
    /// Its type; [`FileType::dirent_type`] is the `DT_*` value.
    pub kind: FileType,
    /// The cookie that resumes the listing after this entry (`d_off`).
    pub next_cookie: u64,
}

/// Where `d_name` starts in a `struct linux_dirent64` (19: after `d_ino`, `d_off`, `d_reclen`,
/// `d_type`).
const NAME_OFFSET: usize = offset_of!(raw::linux_dirent64, d_name);

/// The length of the record for a name of `name_len` bytes: header, name, NUL, rounded up to 8
/// bytes (Linux's `filldir64`).
pub fn dirent64_reclen(name_len: usize) -> usize {
    (NAME_OFFSET + name_len + 1).next_multiple_of(size_of::<u64>())
}

/// Encodes `entries` as `getdents64(2)` fills a buffer of `buf_len` bytes: one
/// `struct linux_dirent64` per entry (`d_ino` u64, `d_off` i64 = the entry's `next_cookie`,
/// `d_reclen` u16, `d_type` u8 = `DT_*`, the name and a NUL, zero padding to a multiple of 8),
/// little-endian, as many whole entries as fit.
///
/// Returns the bytes and how many entries they hold (the server's new position is the last
/// one's `next_cookie`). No entries (the end of the directory) gives no bytes; `EINVAL` if the
/// first entry does not fit (Linux's "result buffer is too small").
pub fn encode_dirent64(entries: &[DirEntry], buf_len: usize) -> Result<(Vec<u8>, usize), Errno> {
    type D = raw::linux_dirent64;
    let mut out = Vec::new();
    let mut count = 0;
    for e in entries {
        let reclen = dirent64_reclen(e.name.len());
        if out.len() + reclen > buf_len || reclen > usize::from(u16::MAX) {
            break;
        }
        let start = out.len();
        out.resize(start + reclen, 0);
        let rec = &mut out[start..];
        let mut put = |at: usize, bytes: &[u8]| rec[at..at + bytes.len()].copy_from_slice(bytes);
        put(offset_of!(D, d_ino), &e.ino.to_le_bytes());
        put(offset_of!(D, d_off), &(e.next_cookie as i64).to_le_bytes());
        put(offset_of!(D, d_reclen), &(reclen as u16).to_le_bytes());
        put(offset_of!(D, d_type), &[e.kind.dirent_type()]);
        put(NAME_OFFSET, &e.name);
        count += 1;
    }
    if count == 0 && !entries.is_empty() {
        return Err(Errno::EINVAL);
    }
    Ok((out, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lengths() {
        assert_eq!(NAME_OFFSET, 19);
        assert_eq!(dirent64_reclen(1), 24);
        assert_eq!(dirent64_reclen(4), 24);
        assert_eq!(dirent64_reclen(5), 32);
        assert_eq!(dirent64_reclen(255), 280);
    }

    #[test]
    fn types_round_trip_through_the_mode() {
        for t in [
            FileType::Regular,
            FileType::Directory,
            FileType::Symlink,
            FileType::CharDevice,
            FileType::BlockDevice,
            FileType::Fifo,
            FileType::Socket,
        ] {
            assert_eq!(FileType::from_mode(t.mode_bits() | 0o644), Some(t));
        }
        assert_eq!(FileType::from_mode(0), None);
        assert_eq!(FileType::Directory.dirent_type(), raw::DT_DIR as u8);
    }
}
