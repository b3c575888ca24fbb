//! The process server's logic (`user/bin/procs`, interface `k42_ifaces::procs`) as pure,
//! host-tested code: the tree of Linux processes with zombies and reparenting to init
//! ([`tree`]), their credentials and the setuid family's rules ([`creds`]), the wait
//! statuses they leave ([`status`]), and which children a wait selects with Linux's errno
//! rules ([`select`]), whom a `kill` reaches ([`kill`]), and job control: stops, continues,
//! the terminal's foreground group ([`job`]); scheduling parameters by pid, group or user
//! ([`sched`]); the ids of processes' further threads ([`threads`]); `/proc`'s
//! process facts and texts ([`procfs`]), its system-wide files ([`procsys`]) and name space
//! ([`procpath`]). The server around it only maps badges to calls and
//! sends notifications; the Linux personality (`user/bin/linux`) uses [`select`] and
//! [`status`] to validate `wait4`/`waitid` and to fill what they return.
//!
//! Every Linux number comes from linux-raw-sys through `k42_linux::raw`.

#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod creds;
pub mod job;
pub mod kill;
pub mod procfs;
pub mod procpath;
pub mod procsys;
pub mod sched;
pub mod select;
pub mod status;
pub mod threads;
pub mod tree;

pub use creds::{Creds, Family, IdChange, IdSet, NGROUPS_MAX, UNCHANGED};
pub use job::{Change, Job, Report, Terminal, TerminalView};
pub use kill::{Target, may_signal};
pub use select::{Selector, WaitOptions};
pub use status::WaitStatus;
pub use tree::{DEFAULT_UMASK, Exited, FIRST_PID, INIT_PID, PID_MAX, Pid, Proc, State, Tree};

#[cfg(test)]
extern crate std;

#[cfg(test)]
mod creds_tests;
#[cfg(test)]
mod job_tests;
#[cfg(test)]
mod procfs_tests;
#[cfg(test)]
mod procsys_tests;
#[cfg(test)]
mod sched_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod threads_tests;
