//! `/proc`'s system-wide files beyond `uptime` and `meminfo` (`crate::procfs`): `/proc/stat`,
//! `/proc/loadavg`, `/proc/version`, `/proc/mounts` (also `/proc/PID/mounts`), `/proc/cpuinfo`
//! and `/proc/filesystems`, in the layouts Linux 6.1 writes them (`fs/proc/stat.c`,
//! `loadavg.c`, `version.c`, `fs/proc_namespace.c`, `arch/x86/kernel/cpu/proc.c`,
//! `fs/filesystems.c`); and the process tree's share of their figures ([`Tree::system`],
//! [`Tree::tasks_of`]). The personality (`user/bin/linux/src/procsys.rs`) gathers the figures —
//! the process server's, the kernel clock's, CPUID's — and writes them with these; the name
//! space is `crate::procpath`'s.
//!
//! What nothing here measures is written as 0, as a quiet Linux would show it, never made up:
//! CPU time by kind (the kernel keeps no per-CPU accounting of user, system or idle time),
//! interrupts, context switches, soft interrupts, blocked tasks and the load averages. What is
//! known is given: the CPUs, the boot time, the tasks made since boot, those that exist and the
//! last pid given.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use k42_linux::Errno;

use crate::tree::{INIT_PID, Pid, Tree};

/// Linux's soft-interrupt kinds (`NR_SOFTIRQS`): `/proc/stat`'s `softirq` line has one count
/// each after the total.
const NR_SOFTIRQS: usize = 10;
/// Fields of a `cpu` line after its name: user, nice, system, idle, iowait, irq, softirq,
/// steal, guest, guest_nice.
const CPU_FIELDS: usize = 10;

/// The system-wide figures `/proc/stat` and `/proc/loadavg` show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct System {
    /// CPUs the kernel runs.
    pub cpus: u64,
    /// Tasks (processes and threads) made since boot: Linux's `total_forks`.
    pub forks: u64,
    /// Tasks that exist now, init, zombies and threads included: Linux's `nr_threads`.
    pub tasks: u64,
    /// Tasks running now: the one asking (the process server cannot tell a wait from a run,
    /// `crate::procfs::RunState`).
    pub running: u64,
    /// The last pid given out.
    pub last_pid: Pid,
    /// When the system booted, in seconds since the epoch.
    pub boot_s: u64,
}

/// `/proc/stat` (Linux's `show_stat`): the `cpu` line and one per CPU, all times 0 (module
/// comment), then `intr` (the total alone: no interrupt has a count), `ctxt`, `btime`,
/// `processes`, `procs_running`, `procs_blocked` and `softirq`.
pub fn stat_text(sys: &System) -> String {
    let zeros = " 0".repeat(CPU_FIELDS);
    let mut out = alloc::format!("cpu {zeros}\n");
    for cpu in 0..sys.cpus {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "cpu{cpu}{zeros}");
    }
    let _ = write!(
        out,
        "intr 0\nctxt 0\nbtime {}\nprocesses {}\nprocs_running {}\nprocs_blocked 0\nsoftirq 0{}\n",
        sys.boot_s,
        sys.forks,
        sys.running,
        " 0".repeat(NR_SOFTIRQS),
    );
    out
}

/// `/proc/loadavg` (Linux's `loadavg_proc_show`): the three load averages (0: module comment),
/// running and existing tasks, and the last pid given.
pub fn loadavg_text(sys: &System) -> String {
    alloc::format!(
        "0.00 0.00 0.00 {}/{} {}\n",
        sys.running,
        sys.tasks,
        sys.last_pid
    )
}

/// Who built the kernel and with what, as `/proc/version` names them (Linux's
/// `LINUX_COMPILE_BY@LINUX_COMPILE_HOST` and `LINUX_COMPILER`).
const BUILT_BY: &str = "k42@k42";
const COMPILER: &str = "rustc";

/// `/proc/version` (Linux's `linux_proc_banner`) from `uname`'s system name, release and
/// version.
pub fn version_text(sysname: &str, release: &str, version: &str) -> String {
    alloc::format!("{sysname} version {release} ({BUILT_BY}) ({COMPILER}) {version}\n")
}

/// One mounted file system, as `/proc/mounts` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mount<'a> {
    /// What is mounted (the device, or the file system's name).
    pub source: &'a str,
    /// Where.
    pub target: &'a str,
    /// Its type.
    pub fstype: &'a str,
    /// Its options.
    pub options: &'a str,
}

/// The name space every process sees: the file server's ramfs as the root, filled from the
/// initramfs as Linux's rootfs is (`/dev` is a directory of it, with its device nodes, not a
/// mount of its own), and the personality's `/proc` on the empty directory the initramfs has.
/// The file systems programs mount (`tmpfs`, `ramfs`) follow these, as the file server lists
/// them.
pub const MOUNTS: [Mount<'static>; 2] = [
    Mount {
        source: "rootfs",
        target: "/",
        fstype: "rootfs",
        options: "rw",
    },
    Mount {
        source: "proc",
        target: "/proc",
        fstype: "proc",
        options: "rw,relatime",
    },
];

/// `/proc/mounts` (Linux's `show_vfsmnt`): one line per mount, its dump and pass numbers 0.
pub fn mounts_text(mounts: &[Mount<'_>]) -> String {
    let mut out = String::new();
    for m in mounts {
        let _ = writeln!(
            out,
            "{} {} {} {} 0 0",
            Escaped(m.source),
            Escaped(m.target),
            m.fstype,
            m.options
        );
    }
    out
}

/// A field of `/proc/mounts` as Linux's `mangle` writes it: space, tab, newline and backslash
/// as three-digit octal escapes, so a path with blanks stays one field.
struct Escaped<'a>(&'a str);

impl core::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for c in self.0.chars() {
            match c {
                ' ' | '\t' | '\n' | '\\' => write!(f, "\\{:03o}", c as u32)?,
                _ => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

/// The file system types there are (Linux's `nodev` marks those needing no device).
const FILESYSTEMS: [&str; 3] = ["proc", "ramfs", "tmpfs"];

/// `/proc/filesystems` (Linux's `filesystems_proc_show`).
pub fn filesystems_text() -> String {
    let mut out = String::new();
    for fs in FILESYSTEMS {
        let _ = writeln!(out, "nodev\t{fs}");
    }
    out
}

/// What CPUID says of the CPUs (every CPU is alike here).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cpu {
    /// The vendor string (leaf 0).
    pub vendor: String,
    /// Family, model and stepping as Linux computes them from leaf 1 (`x86_family`,
    /// `x86_model`: the extended fields folded in).
    pub family: u32,
    /// Model.
    pub model: u32,
    /// Stepping.
    pub stepping: u32,
    /// The brand string (leaves 0x80000002–4), leading and trailing blanks trimmed as Linux
    /// trims them; empty when the CPU has none.
    pub name: String,
}

impl Cpu {
    /// Linux's family, model and stepping from CPUID leaf 1's EAX (`x86_family`, `x86_model`,
    /// `x86_stepping`).
    pub fn signature(eax: u32) -> (u32, u32, u32) {
        let mut family = (eax >> 8) & 0xf;
        if family == 0xf {
            family += (eax >> 20) & 0xff;
        }
        let mut model = (eax >> 4) & 0xf;
        if family >= 0x6 {
            model += ((eax >> 16) & 0xf) << 4;
        }
        (family, model, eax & 0xf)
    }
}

/// `/proc/cpuinfo`: per CPU, Linux's first lines (`show_cpuinfo`: processor, vendor, family,
/// model, model name, stepping) and the blank line between CPUs. The rest of Linux's lines
/// (speed, caches, flags, bugs…) are not written.
pub fn cpuinfo_text(cpus: u64, cpu: &Cpu) -> String {
    let mut out = String::new();
    let name = if cpu.name.is_empty() {
        "unknown"
    } else {
        cpu.name.as_str()
    };
    for n in 0..cpus {
        let _ = write!(
            out,
            "processor\t: {n}\nvendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}\n\
             model name\t: {name}\nstepping\t: {}\n\n",
            cpu.vendor, cpu.family, cpu.model, cpu.stepping,
        );
    }
    out
}

impl Tree {
    /// The tree's share of [`System`]: tasks made since boot, tasks that exist (init, every
    /// process — zombies too, as Linux counts them until they are reaped — and every further
    /// thread), and the last pid given.
    pub fn system(&self) -> (u64, u64, Pid) {
        let tasks = 1 + self.procs.len() as u64 + self.threads.len() as u64;
        (self.given, tasks, self.next_pid.saturating_sub(1))
    }

    /// `/proc/PID/task`'s ids: the process's own and its further threads', in increasing
    /// order, those above `after` (0: all), at most `max`. `ESRCH` if there is no such process.
    pub fn tasks_of(&self, pid: Pid, after: Pid, max: usize) -> Result<Vec<Pid>, Errno> {
        if pid != INIT_PID && !self.procs.contains_key(&pid) {
            return Err(Errno::ESRCH);
        }
        let threads = self
            .threads
            .iter()
            .filter(|&(_, &owner)| owner == pid)
            .map(|(&tid, _)| tid);
        let mut ids: Vec<Pid> = core::iter::once(pid).chain(threads).collect();
        ids.sort_unstable();
        Ok(ids.into_iter().filter(|&t| t > after).take(max).collect())
    }
}
