//! What `/proc` shows that only the process itself knows: its descriptors (`/proc/PID/fd`, a
//! directory of links named by descriptor, each to the path the file was opened by or Linux's
//! name for what has none, `pipe:[N]`) and its address space (`/proc/PID/maps`, from the map
//! the personality keeps, written by `k42_linux::maps`). The fd table and that map live in
//! each process's own personality (`crate::fd`, `crate::mem`), so another process's are not
//! known here: listing or reading them is `EACCES`, what Linux answers a reader without ptrace
//! access (root may on Linux; not yet here). `crate::procfs` hands these nodes here.

use alloc::string::String;
use alloc::vec::Vec;

use k42_linux::Errno;
use k42_linux::maps::{self, MapsFile, Names};
use k42_linux::raw::general as g;

use crate::state::Linux;

/// Permission bits of a descriptor's link (Linux's `tid_fd_update_inode`): read and search
/// for a file open for reading, write and search for writing.
const LINK_READ: u32 = g::S_IRUSR | g::S_IXUSR;
const LINK_WRITE: u32 = g::S_IWUSR | g::S_IXUSR;

/// `EACCES` unless `pid` is this process (module comment).
pub fn own(linux: &Linux, pid: u64) -> Result<(), Errno> {
    if pid == linux.ids.pid {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

/// This process's open descriptors.
pub fn fds(linux: &Linux, pid: u64) -> Result<Vec<u64>, Errno> {
    own(linux, pid)?;
    Ok(linux.fds.lock().open_fds())
}

/// Where descriptor `fd` of process `pid` leads: the path its file was opened by, or Linux's
/// name for a pipe (`pipe:[N]`). `ENOENT` when it is not open (Linux's lookup of a closed
/// descriptor).
pub fn fd_target(linux: &Linux, pid: u64, fd: u64) -> Result<String, Errno> {
    own(linux, pid)?;
    let file = linux.fds.lock().get(fd).map_err(|_| Errno::ENOENT)?;
    Ok(file.path.clone())
}

/// The permission bits of descriptor `fd`'s link, from how its file is open (none for
/// `O_PATH`, as Linux's).
pub fn fd_perm(linux: &Linux, pid: u64, fd: u64) -> Result<u32, Errno> {
    own(linux, pid)?;
    let file = linux.fds.lock().get(fd).map_err(|_| Errno::ENOENT)?;
    if file.flags() & g::O_PATH != 0 {
        return Ok(0);
    }
    let mut perm = 0;
    if file.readable() {
        perm |= LINK_READ;
    }
    if file.writable() {
        perm |= LINK_WRITE;
    }
    Ok(perm)
}

/// `/proc/PID/maps` of this process.
pub fn maps_text(linux: &Linux, pid: u64) -> Result<Vec<u8>, Errno> {
    own(linux, pid)?;
    let exe = linux.exe.lock().clone();
    // The image file's device and inode, from the file server (none if it cannot say).
    let image_stat = linux.files().ok().and_then(|files| {
        let ((), bytes) = crate::files::call(&files.root, exe.as_bytes(), |c| c.stat(0)).ok()?;
        k42_linux::stat::Stat::from_stat_bytes(&bytes)
    });
    let image = image_stat.map(|st| MapsFile {
        path: exe.as_str(),
        dev: st.dev,
        ino: st.ino,
    });
    let mem = linux.mem.lock();
    let names = Names {
        image,
        heap: mem.brk.as_ref().map(|b| (b.start, b.current)),
    };
    Ok(maps::maps_text(&mem.space, &names).into_bytes())
}
