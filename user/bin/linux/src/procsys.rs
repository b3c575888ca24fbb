//! `/proc`'s system-wide files beyond `uptime` and `meminfo` (`crate::procfs`): `/proc/stat`,
//! `/proc/loadavg`, `/proc/version`, `/proc/cpuinfo`, `/proc/filesystems` and the mounts
//! (`/proc/mounts`, a link to `/proc/PID/mounts`: the fixed two, then the file server's,
//! `Fs::mounts`). The figures come from whoever knows them —
//! the process server (`Procs::system`: CPUs, tasks, forks, the last pid; `Procs::uname`),
//! the runtime's clocks (the boot time), CPUID (the CPU's names) — and are written in Linux's
//! layouts by `k42_ptree::procsys`, which also says what is written as 0 and why.

use alloc::string::String;
use alloc::vec::Vec;
use core::arch::x86_64::__cpuid;

use k42_linux::Errno;
use k42_ptree::procpath::{Entry, Node};
use k42_ptree::procsys::{self, Cpu, MOUNTS, Mount, System};
use k42_rt::clock;

use crate::calls::info;
use crate::state::Linux;

/// Nanoseconds in a second.
const NS_PER_SEC: u64 = 1_000_000_000;
/// Tasks running as the asker sees them: itself (`k42_ptree::procsys::System::running`).
const RUNNING: u64 = 1;
/// `struct utsname`'s fields `/proc/version` shows: sysname, release, version.
const UTS_SYSNAME: usize = 0;
const UTS_RELEASE: usize = 2;
const UTS_VERSION: usize = 3;
/// CPUID leaves: the vendor and highest basic leaf, the signature, the highest extended leaf
/// and the three of the brand string.
const LEAF_VENDOR: u32 = 0;
const LEAF_SIGNATURE: u32 = 1;
const LEAF_EXTENDED_MAX: u32 = 0x8000_0000;
const LEAVES_BRAND: [u32; 3] = [0x8000_0002, 0x8000_0003, 0x8000_0004];

/// The text of system-wide file `node`, or `None` if it is not one of this module's.
pub fn text(linux: &Linux, node: Node) -> Option<Result<Vec<u8>, Errno>> {
    let made = match node {
        Node::Stat => system(linux).map(|s| procsys::stat_text(&s)),
        Node::Loadavg => system(linux).map(|s| procsys::loadavg_text(&s)),
        Node::Version => version(linux),
        Node::Cpuinfo => system(linux).map(|s| procsys::cpuinfo_text(s.cpus, &cpu())),
        Node::Filesystems => Ok(procsys::filesystems_text()),
        Node::Of(_, Entry::Mounts) => mounts(linux),
        _ => return None,
    };
    Some(made.map(String::into_bytes))
}

/// `/proc/mounts`: the fixed root and `/proc`, then what programs mounted (the file server's
/// mounts, in mount order).
fn mounts(linux: &Linux) -> Result<String, Errno> {
    let mounted = crate::calls::mount::server_mounts(linux)?;
    let mut all: Vec<Mount<'_>> = MOUNTS.to_vec();
    all.extend(mounted.iter().map(|(source, target, fstype)| Mount {
        source,
        target,
        fstype,
        options: MOUNTED_OPTIONS,
    }));
    Ok(procsys::mounts_text(&all))
}

/// The options `/proc/mounts` shows for a mounted tmpfs or ramfs: the only ones it has.
const MOUNTED_OPTIONS: &str = "rw,relatime";

/// The system's figures now (module comment).
fn system(linux: &Linux) -> Result<System, Errno> {
    let (cpus, forks, tasks, last_pid) = crate::procs::system(linux)?;
    let boot_ns = clock::wall_ns().saturating_sub(clock::now_ns());
    Ok(System {
        cpus,
        forks,
        tasks,
        running: RUNNING,
        last_pid,
        boot_s: boot_ns / NS_PER_SEC,
    })
}

/// `/proc/version` from `uname`'s fields.
fn version(linux: &Linux) -> Result<String, Errno> {
    let uts = info::utsname(linux)?;
    let field = |i| String::from_utf8_lossy(info::uts_field(&uts, i)).into_owned();
    Ok(procsys::version_text(
        &field(UTS_SYSNAME),
        &field(UTS_RELEASE),
        &field(UTS_VERSION),
    ))
}

/// What CPUID says of this CPU (every CPU is alike: the kernel boots them from one model).
fn cpu() -> Cpu {
    let vendor_regs = __cpuid(LEAF_VENDOR);
    let mut vendor = Vec::new();
    for reg in [vendor_regs.ebx, vendor_regs.edx, vendor_regs.ecx] {
        vendor.extend_from_slice(&reg.to_le_bytes());
    }
    let (family, model, stepping) = Cpu::signature(__cpuid(LEAF_SIGNATURE).eax);
    let mut name = Vec::new();
    if __cpuid(LEAF_EXTENDED_MAX).eax >= LEAVES_BRAND[2] {
        for leaf in LEAVES_BRAND {
            let r = __cpuid(leaf);
            for reg in [r.eax, r.ebx, r.ecx, r.edx] {
                name.extend_from_slice(&reg.to_le_bytes());
            }
        }
    }
    let name = String::from_utf8_lossy(&name);
    Cpu {
        vendor: String::from_utf8_lossy(&vendor).into_owned(),
        family,
        model,
        stepping,
        // Linux trims the blanks and NULs around the brand string.
        name: String::from(name.trim_matches(|c: char| c == '\0' || c == ' ')),
    }
}
