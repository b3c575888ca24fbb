//! The syscall families the personality serves without a server of their own, one file each
//! (the fd table and memory are `crate::fd` and `crate::mem`, the table is `crate::table`):
//! - a new program in the process (`exec`: `execve`, `execveat`);
//! - new processes and threads (`fork`: `fork`, `vfork`, `clone`) and the threads' wait queue
//!   (`futex`);
//! - reading and writing (`io`), copying between descriptors (`copy`: `sendfile`,
//!   `copy_file_range`), readiness (`poll`, `epoll`), files and directories of the file server
//!   (`file`), file metadata (`stat`), extended attributes (`xattr`), file systems' figures
//!   (`statfs`), files mapped into memory (`mmap_file`), locking memory and writing it back
//!   (`memlock`), the name space's mounts (`mount`);
//! - the process and its thread (`proc`), its user and group ids (`creds`), its resource
//!   limits (`rlimit`), its scheduling parameters (`sched`: nice, policy, CPU affinity), its
//!   name as `/proc` shows it (`procfs`: `prctl`), collecting children (`wait`);
//! - signals: their state, sending and waiting (`signal`), interval timers (`timer`), and what
//!   happens to a program that faults (`fault`);
//! - clocks and sleep (`time`), CPU time (`usage`), system information and randomness
//!   (`info`).

pub mod copy;
pub mod creds;
pub mod epoll;
pub mod eventfd;
pub mod exec;
pub mod fault;
pub mod file;
pub mod fork;
pub mod futex;
pub mod info;
pub mod io;
pub mod memlock;
pub mod mmap_file;
pub mod mount;
pub mod pipe;
pub mod poll;
pub mod proc;
pub mod procfs;
pub mod rlimit;
pub mod sched;
pub mod signal;
pub mod signalfd;
pub mod stat;
pub mod statfs;
pub mod time;
pub mod timer;
pub mod timerfd;
pub mod usage;
pub mod wait;
pub mod xattr;
