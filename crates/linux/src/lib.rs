//! The pure logic of the Linux personality, host-tested here and built into the personality
//! (`user/bin/linux`) for `x86_64-unknown-none`.
//!
//! The personality (`DESIGN.md` §2.6) is a native K42 program mapped into every Linux process: the
//! kernel reflects the Linux program's `syscall`s to it, and it serves them in the program's own
//! address space. What it decides without touching the kernel lives in this crate, so it can be
//! tested on the host like the other `crates/`:
//!
//! - [`errno`]: the typed [`Errno`], [`SysResult`], and [`to_return`], the one place an error
//!   becomes `-errno` in `rax`;
//! - [`sysno`]: syscall names by number, for the "-ENOSYS plus one log line naming the call" rule;
//! - [`exec_layout`]: where `execve` puts a position-independent program and its interpreter
//!   (the dynamic linker), as Linux's `load_elf_binary` does;
//! - [`stack`]: the initial process stack Linux's `create_elf_tables` builds (argc, argv, envp,
//!   the auxiliary vector, the strings and AT_RANDOM's bytes);
//! - [`mmap_space`]: the personality's map of the program's address space with one protection and
//!   kind per range, the rules of mmap/munmap/mprotect/mremap, and [`mmap_space::Brk`];
//! - [`dirent`]: file types and `getdents64`'s `struct linux_dirent64` records, shared by the
//!   file server's listings and `/proc`'s;
//! - [`maps`]: `/proc/PID/maps`'s lines, from that map;
//! - [`stat`]: file metadata encoded as the kernel's `struct stat` and `struct statx`;
//! - [`statfs`]: file system figures encoded as the kernel's `struct statfs`;
//! - [`xattr`]: extended attributes on file systems that keep none, with Linux's checks;
//! - [`path`]: path normalization, symlink resolution with Linux's 40-hop limit, and `execvp`'s
//!   `PATH` search;
//! - [`script`]: `#!` interpreter lines as Linux's `binfmt_script` parses them, and the argv an
//!   interpreter gets;
//! - [`rlimit`]: resource limits, Linux's defaults and the rules of `setrlimit`/`prlimit64`;
//! - [`sched`]: a process's scheduling parameters (nice value, policy, CPU affinity) and
//!   Linux's checks on changing them;
//! - [`random`]: a process's random bytes, a ChaCha20 stream keyed from an entropy source and
//!   rekeyed after every request;
//! - [`seek`]: `lseek`'s arithmetic, for the personality's private offsets and the file
//!   server's shared ones;
//! - [`signal`]: signal state, the choice of the next signal, default actions, the restart
//!   rule and the x86_64 `rt_sigframe` layout.
//!
//! Every Linux number (errno values, `__NR_*`, `AT_*`, `PROT_*`, `PATH_MAX`) comes from the
//! `linux-raw-sys` crate, re-exported as [`raw`] so the personality names the same constants.
//! What the UAPI headers do not carry (the page size, `MAX_ARG_STRLEN`, `MAXSYMLINKS`,
//! `MAX_ERRNO`) is defined once, documented with its kernel source.

#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod dirent;
pub mod errno;
pub mod exec_layout;
pub mod futex;
pub mod maps;
pub mod mmap_space;
pub mod path;
pub mod random;
pub mod rlimit;
pub mod sched;
pub mod script;
pub mod seek;
pub mod signal;
pub mod stack;
pub mod stat;
pub mod statfs;
pub mod sysno;
pub mod xattr;

pub use errno::{Errno, SysResult, to_return};
/// linux-raw-sys (features `general`, `errno`, `auxvec`, `no_std`): the source of every Linux
/// number in this crate, re-exported for the personality.
pub use linux_raw_sys as raw;

/// The x86_64 page size (4 KiB). Not in the UAPI headers (user space asks `AT_PAGESZ`); the
/// personality passes it as `AT_PAGESZ` and every range in [`mmap_space`] is a multiple of it.
pub const PAGE_SIZE: u64 = 4096;
