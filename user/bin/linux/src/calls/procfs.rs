//! The call that changes what `/proc` shows of this process: `prctl` with `PR_SET_NAME` and
//! `PR_GET_NAME`, the process's name (`/proc/PID/comm`, `stat`'s second field), which the
//! process server keeps (`crate::procs::set_comm`; `/proc` itself is `crate::procfs`).
//! busybox renames itself so after running an applet by `/proc/self/exe` or without an exec,
//! which is how `ps` shows the applet's name.
//!
//! Linux names each thread; here the name is the process's: a thread other than the first
//! may set a name (the call succeeds, nothing is kept) and reads the process's. Every other
//! option is `ENOSYS`, logged once per option, as an unserved syscall is (`crate::table`).

use core::sync::atomic::{AtomicU64, Ordering};

use k42_linux::{Errno, PAGE_SIZE, SysResult};
use k42_ptree::procfs::COMM_MAX;
use k42_rt::log;
use linux_raw_sys::prctl as pr;

use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// Bytes `PR_GET_NAME` writes: the name, NUL-padded (Linux's `TASK_COMM_LEN`).
const NAME_BYTES: usize = COMM_MAX + 1;

/// Options already logged as not served (bit N: option N, for the options below 64).
static LOGGED: AtomicU64 = AtomicU64::new(0);

/// `prctl(option, arg2, …)`.
pub fn prctl(linux: &Linux, args: &Args) -> SysResult {
    let option = args[0] as u32;
    match option {
        pr::PR_SET_NAME => set_name(linux, args[1]),
        pr::PR_GET_NAME => get_name(linux, args[1]),
        _ => {
            let bit = 1u64.checked_shl(option).unwrap_or(0);
            if LOGGED.fetch_or(bit, Ordering::Relaxed) & bit == 0 || bit == 0 {
                log!("linux: prctl option {option} is not served (ENOSYS)");
            }
            Err(Errno::ENOSYS)
        }
    }
}

/// Whether the calling thread is the process's first (whose name is the process's).
fn first_thread(linux: &Linux) -> bool {
    crate::threads::tid(linux) == linux.ids.pid
}

/// `PR_SET_NAME`: the name at `addr`, up to its NUL or [`COMM_MAX`] bytes (Linux's
/// `strncpy_from_user`: no byte past those is read).
fn set_name(linux: &Linux, addr: u64) -> SysResult {
    let mut name = alloc::vec::Vec::new();
    let mut at = addr;
    while name.len() < COMM_MAX {
        let to_page_end = (PAGE_SIZE - at % PAGE_SIZE) as usize;
        let bytes = uaccess::read(linux, at, to_page_end.min(COMM_MAX - name.len()))?;
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            name.extend_from_slice(&bytes[..nul]);
            break;
        }
        name.extend_from_slice(&bytes);
        at = uaccess::end(at, bytes.len() as u64)?;
    }
    if first_thread(linux) {
        crate::procs::set_comm(linux, &name)?;
    }
    Ok(0)
}

/// `PR_GET_NAME`: the process's name, NUL-padded to [`NAME_BYTES`], at `addr`.
fn get_name(linux: &Linux, addr: u64) -> SysResult {
    let facts = crate::procs::facts(linux, linux.ids.pid)?;
    let mut out = [0u8; NAME_BYTES];
    let n = facts.comm.len().min(COMM_MAX);
    out[..n].copy_from_slice(&facts.comm[..n]);
    uaccess::write(linux, addr, &out).map(|()| 0)
}
