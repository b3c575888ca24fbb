//! `/proc/k42/counters`: the kernel's event counters (`k42_kapi::counter`), summed over the
//! CPUs, for a Linux program that wants to know what its work cost in kernel events — the
//! benchmarks of `bench/` (`bench/bench.h`) read them around their timed batches, so K42's rows
//! of `cargo xtask bench` say how many ring transitions, address-space switches and TLB flushes
//! an operation took (issue #6), which `-icount` timings alone hide.
//!
//! It is a link whose target is the text, `NAME=VALUE` words separated by spaces, read with
//! `readlink(2)`, as Linux's own `/proc` magic links carry text in their targets
//! (`/proc/self/ns/net` reads `net:[4026531840]`): one call takes one consistent snapshot, and
//! the path answers `ENOENT` on Linux, so the same binary runs on both. The personality's
//! `/proc` (`crate::procfs`, its name space in `k42_ptree::procpath`) answers the path from here.
//!
//! The counters are read through the `Boot` object (READ), which only the run's first program
//! holds (the bootstrap hands it over at start-up; a fork child gets none): elsewhere the path
//! does not exist. Each read is one kernel call, so a snapshot's own reads (one per counter
//! and CPU, plus the `readlink` reflection) count in the next snapshot's kernel entries.

use alloc::string::String;
use core::fmt::Write;

use k42_kapi::{BootClient, counter};
use k42_rights::XHandle;
use k42_rt::KernelPpc;

use crate::state::Linux;

/// The counters shown, by their names in the text (those issue #6 asks for first).
const SHOWN: [(&str, u32); 6] = [
    ("kernel_entries", counter::KERNEL_ENTRIES),
    ("space_switches", counter::SPACE_SWITCHES),
    ("tlb_flushes", counter::TLB_FLUSHES),
    ("upcalls", counter::UPCALLS),
    ("ipis", counter::IPIS),
    ("reflections", counter::REFLECTIONS),
];

/// The link's target now, or `None` when this process cannot read the counters (no `Boot`
/// handle, or the kernel refused: the path then does not exist, as on Linux).
pub fn text(linux: &Linux) -> Option<String> {
    if linux.boot == XHandle::NULL {
        return None;
    }
    let mut boot = BootClient::new(KernelPpc, linux.boot);
    let cpus = boot.cpus().ok()?;
    let mut out = String::new();
    for (name, which) in SHOWN {
        let mut sum: u64 = 0;
        for cpu in 0..cpus {
            sum = sum.wrapping_add(boot.counter(which, cpu).ok()?);
        }
        let sep = if out.is_empty() { "" } else { " " };
        // Writing to a String cannot fail.
        let _ = write!(out, "{sep}{name}={sum}");
    }
    Some(out)
}
