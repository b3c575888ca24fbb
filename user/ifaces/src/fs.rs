//! The file server's interface (DESIGN §2.7; issue #4 item 4): the ramfs populated from the
//! initramfs (`user/bin/fs`), served to Linux programs through their personality.
//!
//! **Objects.** Every object is a *node*: a directory or file a client reached. The spawner
//! (the bootstrap) gets the root; it gives each Linux program access to it, and every
//! [`Fs::open`] makes a new node object for the caller (matched to its badge, with READ if the
//! open allows reading, WRITE if it allows writing). Closing is the generic release
//! (`k42_rights::wire::meta`). A directory node is also where relative paths start: the
//! personality passes its cwd's or `dirfd`'s node; absolute paths start at the root.
//!
//! **Data.** Paths, file contents, `struct stat` and directory records travel in the PPC data
//! area beside the words (`k42_rt::ppc`, `k42_rt::server`): a method documents what its call
//! data and reply data hold. Two-path methods send `old\0new`.
//!
//! **Credentials.** Every permission check uses the credentials the server holds for the
//! caller's badge, never ids a client sends: a badge with no credentials is refused
//! (`EACCES`). Only a holder of [`SET_CREDENTIALS`] sets them ([`Fs::set_credentials`]): the
//! spawner, for the run's program, and the process server (`k42_ifaces::procs`), which the
//! spawner gives that right and which passes on each change of a process's ids (the setuid
//! family, an exec); a fork child gets its parent's ([`Fs::share_credentials`]). Checks use
//! the filesystem ids and the supplementary groups, `access(2)` the real ids (Linux's
//! `access_override_creds`), as `k42_ramfs::cred` says.
//!
//! **FIFOs.** Opening a FIFO makes a node like any other (the open's permission check is the
//! server's); its pipe comes from the pipe server (`k42_ifaces::pipes`), which this server
//! asks with the factory handle the spawner gave it ([`Fs::attach_pipes`]): [`Fs::open_fifo`]
//! on the FIFO's node makes the caller's pipe end, so a process has a FIFO's pipe only by
//! being allowed to open the FIFO.
//!
//! Errors are Linux's errno values (`k42_linux::Errno`), returned to the program as they are.

use k42_linux::Errno;
use k42_rights::{Badge, Rights};

use crate::FIRST_SERVER_INTERFACE;

/// Interface id of [`Fs`].
pub const FS_INTERFACE: u32 = FIRST_SERVER_INTERFACE + 4;

/// The right to say which credentials a process's calls carry ([`Fs::set_credentials`]), to
/// forget an ended process ([`Fs::forget`]) and to say where FIFOs' pipes come from
/// ([`Fs::attach_pipes`]): the spawner's and the process server's (the spawner gives it on,
/// for credentials changes), never a Linux process's, or it could make itself root.
pub const SET_CREDENTIALS: Rights = Rights::object(0);
/// Rights the server gives its spawner on the root: use it, give access to it (CONTROL), and
/// set credentials.
pub const SPAWNER_RIGHTS: Rights = Rights::READ
    .union(Rights::WRITE)
    .union(Rights::CONTROL)
    .union(SET_CREDENTIALS);
/// Bytes of one supplementary group in a list ([`Fs::set_credentials`],
/// `k42_ifaces::procs::Procs::groups`): a little-endian gid_t.
pub const GID_BYTES: usize = size_of::<u32>();

/// Rights a program gets on the root: use it, and give it on (to a fork child: CONTROL).
pub const PROGRAM_ROOT_RIGHTS: Rights = Rights::READ.union(Rights::CONTROL);

/// The file server.
#[k42_idl::interface(id = 20)]
pub trait Fs {
    /// Opens the path in the call data (relative to this directory) with Linux's open `flags`
    /// and, when it creates, `mode` less `umask`. Returns the new node's handle word, its
    /// `st_mode`, its device number (`k42_linux::stat::encode_dev`, for device nodes) and its
    /// size.
    #[rights(READ)]
    fn open(
        &mut self,
        caller: Badge,
        flags: u64,
        mode: u64,
        umask: u64,
    ) -> Result<(u64, u64, u64, u64), Errno>;
    /// Reads up to `len` bytes (at most the data area) at `offset`: the bytes are the reply
    /// data; returns their count.
    #[rights(READ)]
    fn read(&mut self, caller: Badge, offset: u64, len: u64) -> Result<u64, Errno>;
    /// Writes the call data at `offset` (at the end, atomically, if `append` is 1); returns
    /// the count written and the offset after it.
    #[rights(WRITE)]
    fn write(&mut self, caller: Badge, offset: u64, append: u64) -> Result<(u64, u64), Errno>;
    /// Metadata of the path in the call data (empty with `AT_EMPTY_PATH`: this node), with
    /// Linux's `AT_*` `flags`: the reply data is a `k42_linux::stat` encoding — the kernel's
    /// `struct stat` bytes.
    #[rights(READ)]
    fn stat(&mut self, caller: Badge, flags: u64) -> Result<(), Errno>;
    /// Directory records (`struct linux_dirent64`, at most `max` bytes) from `cookie` (0: the
    /// start): the reply data; returns the cookie to continue from and the byte count.
    #[rights(READ)]
    fn getdents(&mut self, caller: Badge, cookie: u64, max: u64) -> Result<(u64, u64), Errno>;
    /// Sets this open file's size.
    #[rights(WRITE)]
    fn truncate(&mut self, caller: Badge, len: u64) -> Result<(), Errno>;
    /// Makes the directory the call data names.
    #[rights(READ)]
    fn mkdir(&mut self, caller: Badge, mode: u64, umask: u64) -> Result<(), Errno>;
    /// Makes the node (`mode` with its type, `rdev` encoded) the call data names.
    #[rights(READ)]
    fn mknod(&mut self, caller: Badge, mode: u64, rdev: u64, umask: u64) -> Result<(), Errno>;
    /// Removes the name in the call data (`AT_REMOVEDIR`: a directory).
    #[rights(READ)]
    fn unlink(&mut self, caller: Badge, flags: u64) -> Result<(), Errno>;
    /// Renames `old\0new` (call data): `old` relative to this directory, `new` to the node
    /// `new_dir` (a handle word the caller holds; the server resolves it), with `RENAME_*`
    /// flags.
    #[rights(READ)]
    fn rename(&mut self, caller: Badge, new_dir: u64, flags: u64) -> Result<(), Errno>;
    /// Links `old\0new` (call data) as [`Fs::rename`] names them (`AT_SYMLINK_FOLLOW` in
    /// `flags`).
    #[rights(READ)]
    fn link(&mut self, caller: Badge, new_dir: u64, flags: u64) -> Result<(), Errno>;
    /// Makes `path` a symlink to `target` (call data `target\0path`).
    #[rights(READ)]
    fn symlink(&mut self, caller: Badge) -> Result<(), Errno>;
    /// The target of the symlink the call data names: the reply data; returns its length.
    #[rights(READ)]
    fn readlink(&mut self, caller: Badge) -> Result<u64, Errno>;
    /// Changes the permission bits of the path in the call data (empty with `AT_EMPTY_PATH`:
    /// this node).
    #[rights(READ)]
    fn chmod(&mut self, caller: Badge, mode: u64, flags: u64) -> Result<(), Errno>;
    /// Changes owner and group (`u32::MAX`: unchanged) as [`Fs::chmod`] names the file.
    #[rights(READ)]
    fn chown(&mut self, caller: Badge, uid: u64, gid: u64, flags: u64) -> Result<(), Errno>;
    /// Sets access and modification times (nanoseconds `UTIME_NOW`/`UTIME_OMIT` as Linux) as
    /// [`Fs::chmod`] names the file.
    // Six argument words, the most a PPC carries (`k42_rights::wire::ARG_WORDS`), plus the badge.
    #[allow(clippy::too_many_arguments)]
    #[rights(READ)]
    fn utimens(
        &mut self,
        caller: Badge,
        flags: u64,
        atime_sec: u64,
        atime_nsec: u64,
        mtime_sec: u64,
        mtime_nsec: u64,
    ) -> Result<(), Errno>;
    /// Checks access `mode` (`F_OK`, `R_OK`…) to the path in the call data, with the caller's
    /// real ids, or with `AT_EACCESS` in `flags` its filesystem ids (Linux's `faccessat2`).
    #[rights(READ)]
    fn access(&mut self, caller: Badge, mode: u64, flags: u64) -> Result<(), Errno>;
    /// Sets the credentials of the process `badge`: its filesystem user and group `fsuid`,
    /// `fsgid` (what permission checks use), its real `uid` and `gid` (what `access(2)`
    /// checks with), and as the call data its supplementary groups, each a little-endian u32
    /// (none: no data). `EINVAL` for an id past 32 bits or data that is not whole groups.
    #[rights(crate::fs::SET_CREDENTIALS)]
    fn set_credentials(
        &mut self,
        caller: Badge,
        badge: u64,
        fsuid: u64,
        fsgid: u64,
        uid: u64,
        gid: u64,
    ) -> Result<(), Errno>;
    /// Gives the process `badge` the caller's own credentials, if it has none yet (`EEXIST`
    /// otherwise): how a fork child gets its parent's. A process can hand on only what it has,
    /// and only to a process nobody has set credentials for (a child it just made).
    #[rights(READ)]
    fn share_credentials(&mut self, caller: Badge, badge: u64) -> Result<(), Errno>;
    /// [`Fs::read`] at this open file description's own offset, which it advances. The
    /// offset is the server's once the client shares the file with another process (a fork
    /// child): every handle given on from this one moves the same offset, as Linux's open file
    /// descriptions do.
    #[rights(READ)]
    fn read_next(&mut self, caller: Badge, len: u64) -> Result<u64, Errno>;
    /// [`Fs::write`] at this open file description's offset (its end with `append` 1), which
    /// it advances; returns the count written.
    #[rights(WRITE)]
    fn write_next(&mut self, caller: Badge, append: u64) -> Result<u64, Errno>;
    /// `lseek` on this open file description's offset: `offset` is an `off_t`, `whence`
    /// Linux's (`SEEK_SET`, `SEEK_CUR`, `SEEK_END`, `SEEK_DATA`, `SEEK_HOLE`); returns the new
    /// offset.
    #[rights(READ)]
    fn seek(&mut self, caller: Badge, offset: u64, whence: u64) -> Result<u64, Errno>;
    /// The process `badge` has ended: its credentials go, and every handle it still held is
    /// released as if it had closed it (an unlinked file it held open goes). The spawner says
    /// so (with [`SET_CREDENTIALS`], the right over processes' standing here) when the kernel
    /// tells it a process ended.
    #[rights(crate::fs::SET_CREDENTIALS)]
    fn forget(&mut self, caller: Badge, badge: u64) -> Result<(), Errno>;
    /// On a FIFO's node, just opened for reading and/or writing (not `O_PATH`): the pipe end
    /// that open gives, made by the pipe server for the caller (`Pipes::open_named`, the FIFO
    /// named by its inode, with the node's access mode and `O_NONBLOCK`). Returns the end's
    /// handle word at the pipe server (matched to the caller), the pipe's number and its
    /// `k42_ifaces::pipes::Rendezvous` word: whether the caller must wait for the other side.
    /// Once per node (`EBADF` after; `EINVAL` on anything but a FIFO; `ENXIO` without a pipe
    /// server; the pipe server's errors, `ENXIO` for `O_WRONLY|O_NONBLOCK` with no reader).
    #[rights(READ)]
    fn open_fifo(&mut self, caller: Badge) -> Result<(u64, u64, u64), Errno>;
    /// Where FIFOs' pipes come from: the pipe server `comm` and this server's handle there on
    /// its factory (`k42_ifaces::pipes::FILE_SERVER_RIGHTS`). The spawner says so once both
    /// servers run.
    #[rights(crate::fs::SET_CREDENTIALS)]
    fn attach_pipes(&mut self, caller: Badge, comm: u64, handle: u64) -> Result<(), Errno>;
    /// On a regular file's node opened for reading: the file's bytes as they are now, as a
    /// kernel file image (`k42_kapi::Image`) for the caller to map privately — `execve`'s
    /// segments, `mmap(MAP_PRIVATE)` — instead of reading them. Returns the caller's handle on
    /// the image (READ, matched to the caller: release it once mapped; mappings keep the image)
    /// and the file's size. The server keeps one image per file version, so every caller until
    /// the next write or truncate shares its pages. `EBADF` for a node not opened for reading,
    /// `EISDIR` for a directory, `EINVAL` for anything else that is not a regular file and for
    /// an empty file, `ENOMEM` when the kernel has no memory for it.
    #[rights(READ)]
    fn image(&mut self, caller: Badge) -> Result<(u64, u64), Errno>;
    /// `mount(2)` of a new `tmpfs` or `ramfs` (`k42_ramfs::Fs::mount`): call data
    /// `target\0source\0fstype\0options`, the target relative to this directory; Linux's
    /// `MS_*` `flags`. Only for a caller whose credentials are root's (`EPERM`).
    #[rights(READ)]
    fn mount(&mut self, caller: Badge, flags: u64) -> Result<(), Errno>;
    /// `umount2(2)` of the file system mounted at the path in the call data (relative to this
    /// directory), with Linux's `MNT_*`/`UMOUNT_NOFOLLOW` `flags`. Root only (`EPERM`).
    #[rights(READ)]
    fn umount(&mut self, caller: Badge, flags: u64) -> Result<(), Errno>;
    /// The mounted file systems, the `from`-th (0: the first mounted) on, as many as the reply
    /// data holds: `source\0target\0fstype\0` each. Returns how many it holds and the index
    /// to ask from next (the number of mounts, once every one is listed).
    #[rights(READ)]
    fn mounts(&mut self, caller: Badge, from: u64) -> Result<(u64, u64), Errno>;
    /// `statfs(2)` of the file system the path in the call data leads to (empty with
    /// `AT_EMPTY_PATH`: this node's), with Linux's `AT_*` `flags` (`k42_ramfs::Fs::statfs`):
    /// the reply data is a `k42_linux::statfs` encoding — the kernel's `struct statfs` bytes.
    #[rights(READ)]
    fn statfs(&mut self, caller: Badge, flags: u64) -> Result<(), Errno>;
}

const _: () = assert!(FsMethod::INTERFACE_ID == FS_INTERFACE);
