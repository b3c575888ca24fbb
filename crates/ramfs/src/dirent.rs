//! Directory listings: [`Fs::getdents`] with resumable cookies, and [`encode_dirent64`], the
//! records `getdents64(2)` copies out.
//!
//! A listing starts at cookie 0 and goes on from the `next_cookie` of the last entry the program
//! received (the server keeps it as the descriptor's position, and `lseek(fd, 0, SEEK_SET)`
//! rewinds it to 0). Position 0 is `.`, 1 is `..`, then the entries in the order they were
//! added (`dir.rs`): a cookie stays valid whatever is added or removed meanwhile, entries present
//! throughout are listed exactly once, an entry added meanwhile is listed if it lands after the
//! cookie (new entries always do), and a removed one is not.

use alloc::vec::Vec;
use core::mem::{offset_of, size_of};

use k42_linux::Errno;

use crate::dir::FIRST_ID;
use crate::inode::{FileType, Ino, Timespec};
use crate::{Fs, linux};

/// One directory entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The inode the entry names.
    pub ino: Ino,
    /// The name (`.` and `..` included), without NUL.
    pub name: Vec<u8>,
    /// Its type; [`FileType::dirent_type`] is the `DT_*` value.
    pub kind: FileType,
    /// The cookie that resumes the listing after this entry (`d_off`).
    pub next_cookie: u64,
}

impl Fs {
    /// Up to `max` entries of directory `ino`, from position `cookie` on (0 starts over); empty
    /// at the end. `.` and `..` come first (`..` of the root is the root). Reading updates the
    /// directory's access time (`relatime`).
    ///
    /// The server asks for about as many entries as the program's buffer can hold (a record
    /// takes at least 24 bytes) and encodes them with [`encode_dirent64`].
    /// `ENOTDIR` for anything but a directory; `ENOENT` for a removed one (Linux's
    /// `IS_DEADDIR` check in `iterate_dir`).
    pub fn getdents(
        &mut self,
        ino: Ino,
        cookie: u64,
        max: usize,
        now: Timespec,
    ) -> Result<Vec<DirEntry>, Errno> {
        let inode = self.inode(ino)?;
        let dir = inode.dir().ok_or(Errno::ENOTDIR)?;
        if inode.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        let mut out = Vec::new();
        let dots: [(&[u8], Ino); 2] = [(b".", ino), (b"..", self.dotdot(ino))];
        for (pos, (name, target)) in dots.into_iter().enumerate() {
            let pos = pos as u64;
            if cookie <= pos && out.len() < max {
                out.push(DirEntry {
                    ino: target,
                    name: name.to_vec(),
                    kind: FileType::Directory,
                    next_cookie: pos + 1,
                });
            }
        }
        for (id, name, child) in dir.entries_from(cookie.max(FIRST_ID)) {
            if out.len() >= max {
                break;
            }
            let kind = self.inode(child)?.file_type();
            out.push(DirEntry {
                ino: child,
                name: name.to_vec(),
                kind,
                next_cookie: id + 1,
            });
        }
        self.inode_mut(ino)?.touch_atime(now);
        Ok(out)
    }
}

/// Where `d_name` starts in a `struct linux_dirent64` (19: after `d_ino`, `d_off`, `d_reclen`,
/// `d_type`).
const NAME_OFFSET: usize = offset_of!(linux::linux_dirent64, d_name);

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
    type D = linux::linux_dirent64;
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
}
