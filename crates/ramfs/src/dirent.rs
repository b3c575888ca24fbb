//! Directory listings: [`Fs::getdents`] with resumable cookies. The records `getdents64(2)`
//! copies out are encoded by `k42_linux::dirent::encode_dirent64`, the Linux ABI crate's encoder
//! that `/proc`'s listings (`k42_ptree::procpath`) share.
//!
//! A listing starts at cookie 0 and goes on from the `next_cookie` of the last entry the program
//! received (the server keeps it as the descriptor's position, and `lseek(fd, 0, SEEK_SET)`
//! rewinds it to 0). Position 0 is `.`, 1 is `..`, then the entries in the order they were
//! added (`dir.rs`): a cookie stays valid whatever is added or removed meanwhile, entries present
//! throughout are listed exactly once, an entry added meanwhile is listed if it lands after the
//! cookie (new entries always do), and a removed one is not.

use alloc::vec::Vec;

use k42_linux::Errno;
pub use k42_linux::dirent::{DirEntry, dirent64_reclen, encode_dirent64};

use crate::Fs;
use crate::dir::FIRST_ID;
use crate::inode::{FileType, Ino, Timespec};

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
        // `..` is the directory's own parent, not the walk's: a mounted root is its own
        // (Linux's `dcache_readdir` reports the dentry's parent, a file system's root for its
        // root), as `/` is.
        let dots: [(&[u8], Ino); 2] = [(b".", ino), (b"..", dir.parent)];
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
