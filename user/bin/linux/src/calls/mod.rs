//! The syscall families the personality serves without a server of their own, one file each
//! (the fd table and memory are `crate::fd` and `crate::mem`, the table is `crate::table`):
//! reading and writing (`io`), readiness (`poll`), files and directories of the file server (`file`), the process and its thread (`proc`), signal state (`signal`), file metadata (`stat`),
//! clocks and sleep (`time`), system information and randomness (`info`), and what happens to
//! a program that faults (`fault`).

pub mod fault;
pub mod file;
pub mod info;
pub mod io;
pub mod poll;
pub mod proc;
pub mod signal;
pub mod stat;
pub mod time;
