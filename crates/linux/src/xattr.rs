//! Extended attributes (`getxattr(2)`, `setxattr(2)`, `listxattr(2)`, `removexattr(2)` and
//! their `l`/`f` forms) on file systems that keep none, as Linux 6.1 answers on one without
//! extended-attribute handlers (ramfs, procfs, pipefs): every name is `EOPNOTSUPP` and a
//! listing is empty. The checks before that are Linux's (`fs/xattr.c`): once the file is
//! found, the flags, the name's length and the value's size as the call copies them in, and
//! the namespace
//! rule (`xattr_permission`) before the file system is asked: a `user.` attribute exists only
//! on regular files and directories, so on anything else reading one is `ENODATA` and writing
//! one `EPERM`. Every caller here is root, so the `trusted.` namespace and the permission check
//! pass.
//!
//! Pure logic, tested on the host; `user/bin/linux/src/calls/xattr.rs` serves the calls.

use crate::Errno;
use crate::raw::general as g;

/// Longest attribute name (`XATTR_NAME_MAX`).
pub const NAME_MAX: usize = 255;
/// Largest attribute value (`XATTR_SIZE_MAX`): a larger `setxattr` is `E2BIG`.
pub const SIZE_MAX: u64 = 65536;
/// `setxattr`'s flags (`XATTR_CREATE`, `XATTR_REPLACE`).
pub const KNOWN_FLAGS: u64 = 0x1 | 0x2;

/// The namespace whose attributes only regular files and directories have.
const USER_PREFIX: &[u8] = b"user.";

/// What is done to an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `getxattr`.
    Get,
    /// `setxattr`.
    Set,
    /// `removexattr`.
    Remove,
}

/// Checks a name as the call copies it in (`strncpy_from_user` into `XATTR_NAME_MAX + 1`
/// bytes): empty, or too long to fit with its NUL, is `ERANGE`.
pub fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(Errno::ERANGE);
    }
    Ok(())
}

/// Checks `setxattr`'s flags (Linux checks them before the name, the size after it).
pub fn check_set_flags(flags: u64) -> Result<(), Errno> {
    if flags & !KNOWN_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// `setxattr`'s value size check (after the name's).
pub fn check_set_size(size: u64) -> Result<(), Errno> {
    if size > SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    Ok(())
}

/// The answer to `op` on attribute `name` of a file of mode `mode` (its `S_IFMT` bits are
/// what count) on a file system that keeps no attributes.
pub fn answer(op: Op, name: &[u8], mode: u32) -> Errno {
    let kind = mode & g::S_IFMT;
    if name.starts_with(USER_PREFIX) && kind != g::S_IFREG && kind != g::S_IFDIR {
        return match op {
            Op::Get => Errno::ENODATA,
            Op::Set | Op::Remove => Errno::EPERM,
        };
    }
    Errno::EOPNOTSUPP
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: u32 = g::S_IFREG | 0o644;
    const DIR: u32 = g::S_IFDIR | 0o755;
    const FIFO: u32 = g::S_IFIFO | 0o600;
    const CHAR: u32 = g::S_IFCHR | 0o666;

    #[test]
    fn nothing_is_kept_anywhere() {
        for op in [Op::Get, Op::Set, Op::Remove] {
            for name in [
                &b"user.x"[..],
                b"trusted.x",
                b"security.selinux",
                b"system.y",
                b"x",
            ] {
                assert_eq!(answer(op, name, FILE), Errno::EOPNOTSUPP);
                assert_eq!(answer(op, name, DIR), Errno::EOPNOTSUPP);
            }
        }
    }

    #[test]
    fn user_attributes_only_on_files_and_directories() {
        for mode in [FIFO, CHAR, g::S_IFLNK | 0o777] {
            assert_eq!(answer(Op::Get, b"user.x", mode), Errno::ENODATA);
            assert_eq!(answer(Op::Set, b"user.x", mode), Errno::EPERM);
            assert_eq!(answer(Op::Remove, b"user.x", mode), Errno::EPERM);
            assert_eq!(answer(Op::Get, b"trusted.x", mode), Errno::EOPNOTSUPP);
        }
    }

    #[test]
    fn names_flags_and_sizes() {
        assert_eq!(check_name(b""), Err(Errno::ERANGE));
        assert_eq!(check_name(&[b'a'; NAME_MAX]), Ok(()));
        assert_eq!(check_name(&[b'a'; NAME_MAX + 1]), Err(Errno::ERANGE));
        assert_eq!(check_set_flags(3), Ok(()));
        assert_eq!(check_set_flags(4), Err(Errno::EINVAL));
        assert_eq!(check_set_size(SIZE_MAX), Ok(()));
        assert_eq!(check_set_size(SIZE_MAX + 1), Err(Errno::E2BIG));
    }
}
