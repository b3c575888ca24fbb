//! The process server's interface (DESIGN §2.7; issue #4 item 4): Linux process ids, parents,
//! process groups and sessions, credentials, the umask, the host name, `uname` and `sysinfo`.
//! The kernel knows none of these (a K42 process is its badge); the personalities ask this
//! server, which answers every question about the *caller* by the badge the kernel stamped.
//!
//! **Objects.** One: the process table, whose root the spawner (the bootstrap, later the
//! personalities' fork) holds with CONTROL to [`Procs::register`] processes; each registered
//! Linux process is given access with READ. `uname`'s bytes travel in the PPC data area.
//! Errors are Linux's errno values.

use k42_linux::Errno;
use k42_rights::{Badge, Rights};

use crate::FIRST_SERVER_INTERFACE;

/// Interface id of [`Procs`].
pub const PROCS_INTERFACE: u32 = FIRST_SERVER_INTERFACE + 5;

/// Rights the spawner gets on the table: use, register, give access.
pub const SPAWNER_RIGHTS: Rights = Rights::READ.union(Rights::WRITE).union(Rights::CONTROL);
/// Rights a registered process gets.
pub const PROCESS_RIGHTS: Rights = Rights::READ;

/// Bytes of one `struct utsname` field (`__NEW_UTS_LEN` + 1).
pub const UTS_FIELD: usize = 65;
/// Fields of `struct utsname`.
pub const UTS_FIELDS: usize = 6;

/// The process server.
#[k42_idl::interface(id = 21)]
pub trait Procs {
    /// Registers the K42 process `badge` as a Linux process whose parent is the Linux process
    /// `parent` (1: init), with user and group `uid`/`gid` (real = effective = saved). Returns
    /// its Linux pid; it leads its own process group and session (as init's children do).
    #[rights(CONTROL)]
    fn register(
        &mut self,
        caller: Badge,
        badge: u64,
        parent: u64,
        uid: u64,
        gid: u64,
    ) -> Result<u64, Errno>;
    /// The caller's pid, parent pid, process group and session.
    #[rights(READ)]
    fn ids(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno>;
    /// The caller's real and effective user and group ids.
    #[rights(READ)]
    fn creds(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno>;
    /// The caller's umask; with `set` 1, replaces it with `new` and returns the old one.
    #[rights(READ)]
    fn umask(&mut self, caller: Badge, new: u64, set: u64) -> Result<u64, Errno>;
    /// `struct utsname` (six 65-byte fields) as the reply data.
    #[rights(READ)]
    fn uname(&self, caller: Badge) -> Result<(), Errno>;
    /// Sets the host name to the call data (`EPERM` unless the caller is root, `EINVAL` past
    /// 64 bytes).
    #[rights(READ)]
    fn sethostname(&mut self, caller: Badge) -> Result<(), Errno>;
    /// Uptime in seconds, the number of processes, and the bytes of memory the kernel manages
    /// and has free (`Boot::memory`).
    #[rights(READ)]
    fn sysinfo(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno>;
}

const _: () = assert!(ProcsMethod::INTERFACE_ID == PROCS_INTERFACE);
