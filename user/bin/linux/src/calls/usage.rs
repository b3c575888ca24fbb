//! CPU time: `getrusage`, `times`, the `struct rusage` that `wait4` and `waitid` write, and
//! the CPU-time clocks (`calls/time.rs`).
//!
//! The kernel keeps each dispatcher's CPU time in its page (`DispatcherPage::run_ns`, read by
//! `k42_rt::clock::cpu_ns`): the time its CPU's policy ran it, which includes the time servers
//! on its CPU spent on its calls (a same-CPU PPC runs on the caller's time), as Linux counts a
//! system call's time as its caller's. A Linux process's threads share one dispatcher, so that
//! is the process's time; the user-level scheduler gives each thread its share as it switches
//! them (`k42_rt::thread::cpu_ns`), a thread's own time. As it ends it tells the process
//! server its own (`Procs::exit`), which bounds it by what the process could have had and adds
//! what the process's waits collected; a wait hands the sum to the parent (`Procs::wait`),
//! which adds it to its children's here (`Linux::children_cpu_ns`; a fork child starts from 0,
//! an exec keeps it).
//!
//! All of it is reported as user time and none as system time: on K42 a Linux program's system
//! calls run in user mode, in its personality and the servers, and the kernel does not tell a
//! process's own instructions from its calls' (docs/linux-personality.md). The other fields of
//! `struct rusage` (maximum resident size, faults, switches) are 0.

use core::mem::size_of;
use core::sync::atomic::Ordering;

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_ptree::procfs::USER_HZ;
use k42_rt::{clock, thread};

use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// Bytes of `struct rusage`.
pub const RUSAGE_BYTES: usize = size_of::<g::rusage>();
const NS_PER_SEC: u64 = 1_000_000_000;
const NS_PER_US: u64 = 1_000;
/// Nanoseconds in one `clock_t` tick of `times` (`USER_HZ`).
const NS_PER_TICK: u64 = NS_PER_SEC / USER_HZ;
/// `getrusage`'s `who` (C ints): the process, its waited-for children, the calling thread.
const RUSAGE_SELF: i32 = g::RUSAGE_SELF as i32;
const RUSAGE_CHILDREN: i32 = g::RUSAGE_CHILDREN;
const RUSAGE_THREAD: i32 = g::RUSAGE_THREAD as i32;

/// The CPU time of this process (ns).
pub fn own_ns() -> u64 {
    clock::cpu_ns()
}

/// The CPU time of the calling thread (ns): the process's while the user-level scheduler ran
/// this thread (`k42_rt::thread::cpu_ns`), the personality's work on its calls included.
pub fn thread_ns() -> u64 {
    thread::cpu_ns()
}

/// A child collected by a wait had `ns` of CPU time, its own waited-for children's included.
pub fn collected(linux: &Linux, ns: u64) {
    // Only the program's threads wait; the update cannot fail.
    let _ = linux
        .children_cpu_ns
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
            Some(t.saturating_add(ns))
        });
}

/// `struct rusage` with `ns` of user time and nothing else.
fn rusage(ns: u64) -> [u8; RUSAGE_BYTES] {
    let mut out = [0u8; RUSAGE_BYTES];
    let words = [ns / NS_PER_SEC, ns % NS_PER_SEC / NS_PER_US];
    for (i, w) in words.iter().enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// Writes the `struct rusage` of `ns` of user time at `addr` (nothing for a null pointer).
pub fn write_rusage(linux: &Linux, addr: u64, ns: u64) -> Result<(), Errno> {
    match addr {
        0 => Ok(()),
        addr => uaccess::write(linux, addr, &rusage(ns)),
    }
}

/// `getrusage(who, usage)`: `RUSAGE_SELF`, `RUSAGE_THREAD` (the calling thread's own),
/// `RUSAGE_CHILDREN`; `EINVAL` for another `who`.
pub fn getrusage(linux: &Linux, args: &Args) -> SysResult {
    let ns = match args[0] as u32 as i32 {
        RUSAGE_SELF => own_ns(),
        RUSAGE_THREAD => thread_ns(),
        RUSAGE_CHILDREN => linux.children_cpu_ns.load(Ordering::Relaxed),
        _ => return Err(Errno::EINVAL),
    };
    uaccess::write(linux, args[1], &rusage(ns)).map(|()| 0)
}

/// `times(buf)`: the process's and its waited-for children's user time (their system time 0)
/// in `USER_HZ` ticks, if `buf` is not null; the answer is the ticks since boot (only its
/// differences mean anything, as on Linux).
pub fn times(linux: &Linux, args: &Args) -> SysResult {
    if args[0] != 0 {
        let children = linux.children_cpu_ns.load(Ordering::Relaxed);
        let tms = [own_ns() / NS_PER_TICK, 0, children / NS_PER_TICK, 0];
        uaccess::write_words(linux, args[0], &tms)?;
    }
    Ok(clock::now_ns() / NS_PER_TICK)
}
