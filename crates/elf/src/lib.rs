//! x86_64 ELF executables turned into a validated **load plan**: which pages to map with which
//! protection, which file bytes to copy where, what to zero, where to start, and what the new
//! program's auxiliary vector needs (`AT_PHDR`, `AT_PHENT`, `AT_PHNUM`, `AT_ENTRY`).
//!
//! Two loaders share it: the kernel's loader of native K42 programs (static `ET_EXEC` images linked
//! by `user/link.ld`) and the Linux personality's `exec` (static `ET_EXEC`, static-PIE `ET_DYN`,
//! and dynamic programs, whose `PT_INTERP` is reported so `exec` loads the interpreter — planned
//! here too, after [`check_interp`] has made Linux's first checks of it). The crate does no mapping itself: it only reads the bytes and answers with a
//! [`LoadPlan`] or a typed [`ElfError`] naming the offending header and values, so the same checks
//! are host-tested here and trusted in ring 0.
//!
//! Parsing of the ELF header and program headers is goblin's (bounds-checked `scroll` reads);
//! this crate adds the validation a loader needs and Linux's `binfmt_elf` does only in part: every
//! address computation is checked, every segment must fit in the user window, `PT_LOAD`s must be
//! ascending and may not share a page, and the entry point must be executable. No input makes
//! [`plan`] panic; nothing here allocates.
//!
//! ```
//! use k42_elf::{ElfError, Options, plan};
//!
//! // Anything that is not an ELF file is refused with a reason, never a panic.
//! assert!(matches!(plan(b"#!/bin/sh\n", &Options::default()), Err(ElfError::NotElf { .. })));
//! ```

#![no_std]

mod error;
mod interp;
mod options;
mod page;
mod plan;
mod segment;

pub use error::ElfError;
pub use interp::{INTERP_PHDRS_MAX, InterpError, check_interp};
pub use options::{
    DEFAULT_MAX_TOTAL_MEM, DEFAULT_MIN_ADDR, DEFAULT_PIE_BIAS, DEFAULT_USER_TOP, MAX_SEGMENTS,
    Options,
};
pub use page::PAGE_SIZE;
pub use plan::{INTERP_MAX, Interp, Kind, LoadPlan, Tls, plan};
pub use segment::{Prot, Segment};
