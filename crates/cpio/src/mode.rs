//! File-type and permission bits of `st_mode`, as stored in a newc header's mode field.
//!
//! These are the Linux (and POSIX) values; the kernel's ramfs and the Linux personality use the
//! same numbers, so they are public.

/// Mask of the file-type bits.
pub const S_IFMT: u32 = 0o170_000;
/// Socket.
pub const S_IFSOCK: u32 = 0o140_000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120_000;
/// Regular file.
pub const S_IFREG: u32 = 0o100_000;
/// Block device.
pub const S_IFBLK: u32 = 0o060_000;
/// Directory.
pub const S_IFDIR: u32 = 0o040_000;
/// Character device.
pub const S_IFCHR: u32 = 0o020_000;
/// FIFO.
pub const S_IFIFO: u32 = 0o010_000;
/// Mask of the permission bits, set-id and sticky bits included.
pub const PERMISSION_MASK: u32 = 0o7_777;

/// Permissions of the directories the parser creates implicitly: what `mkdir -p` gives under
/// the usual umask.
pub const DEFAULT_DIR_PERMISSIONS: u32 = 0o755;
/// Permissions of the root of a new tree, which an archive entry for `.` or `/` replaces: Linux
/// unpacks the initramfs into its rootfs, a tmpfs (when no `root=` is given) whose root has
/// tmpfs's default mode, `1777` (`shmem_fill_super`: `S_IRWXUGO | S_ISVTX`), so `ls -la /` on a
/// Linux booted with an archive that has no `.` entry shows `drwxrwxrwt`.
pub const ROOT_PERMISSIONS: u32 = 0o1777;
/// Permissions Linux gives every symlink.
pub const SYMLINK_PERMISSIONS: u32 = 0o777;
