//! `docs/bench/results.json`: everything one `cargo xtask bench` measured, raw —
//! every boot of every run with its QEMU command line and every result line —
//! plus where it ran (host CPU, QEMU, commit, date). The README and the chart are
//! computed from this alone (`summary.rs`), so they can be checked against it.
//!
//! `mod.rs` fills it in boot by boot and writes it.

use serde::{Deserialize, Serialize};

use super::footprint::ImageSize;
use super::record::Record;

/// How guest time is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `-icount shift=0,sleep=off`: guest time counts instructions (primary).
    Icount,
    /// Plain TCG: guest time follows the host's clock (secondary).
    Wall,
}

impl Mode {
    /// Both, primary first (the order of every run).
    pub const ALL: [Mode; 2] = [Mode::Icount, Mode::Wall];

    /// Its name in labels and tables.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Icount => "icount",
            Mode::Wall => "wall",
        }
    }
}

/// What a boot was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// Linux: meminfo, the microbenchmarks and SDET at the run's vCPU count.
    Suite,
    /// Linux with one vCPU: meminfo and SDET only.
    Sdet,
    /// K42: its banner (the footprint figures), then the native `ppcbench`.
    Native,
    /// K42: one program of `bench/` as the run's program (no driver script: one boot per
    /// program), with the argv the Linux driver gives it.
    Program,
    /// Either OS: no program named, so the interactive busybox `sh` of `cargo xtask run`
    /// without one; timed to its first prompt on the console, then typed `exit`.
    Prompt,
}

/// One boot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boot {
    /// 1-based run number.
    pub run: u32,
    /// "linux" or "k42".
    pub os: String,
    /// Guest time keeping.
    pub mode: Mode,
    /// What it ran.
    pub purpose: Purpose,
    /// vCPUs.
    pub smp: u32,
    /// QEMU's command line (the log socket's path is a placeholder).
    pub qemu_command: String,
    /// The run's program and its arguments, as the initramfs names them (Linux: the
    /// driver script; K42: `ppcbench`, or a program of `bench/` and its arguments).
    #[serde(default)]
    pub argv: Vec<String>,
    /// The runner's status (the driver script's; 0 when every step ran).
    pub status: i32,
    /// Why the boot did not end as planned, or a step failed.
    pub problems: Vec<String>,
    /// Host seconds from QEMU's start to the init-start marker.
    pub init_start_s: Option<f64>,
    /// Host seconds from QEMU's start to the first byte of the interactive shell's first
    /// prompt on the console (`Purpose::Prompt` boots: `footprint::prompt_offset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_s: Option<f64>,
    /// Host seconds from QEMU's start to its end.
    pub elapsed_s: f64,
    /// Every result line, in order (on K42, ppcbench's or the program's).
    pub records: Vec<Record>,
    /// K42's free frames after boot, MiB (from its banner).
    pub k42_free_mib: Option<u64>,
    /// K42's managed frames, MiB.
    pub k42_managed_mib: Option<u64>,
}

/// The images both OSes boot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Images {
    /// K42's kernel ELF (booted as is).
    pub k42_kernel: ImageSize,
    /// Debian's vmlinux, taken out of the bzImage (what the runner boots).
    pub linux_vmlinux: ImageSize,
    /// Debian's bzImage (`/boot/vmlinuz-*`, compressed).
    pub linux_bzimage: ImageSize,
    /// The shared base root file system (busybox, /dev, /etc, the init wrapper):
    /// the same archive under both kernels.
    pub base_initramfs_bytes: u64,
}

/// Where and how the run happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    /// The command that reproduces this file.
    pub command: String,
    /// `--quick` or a full run.
    pub quick: bool,
    /// Runs of each boot.
    pub runs: u32,
    /// vCPUs of the wall-time boots.
    pub smp: u32,
    /// vCPUs of the `-icount` boots (see `mod.rs`'s ICOUNT_SMP).
    pub icount_smp: u32,
    /// `--filter`, if any.
    pub filter: Option<String>,
    /// QEMU's accelerator.
    pub accelerator: String,
    /// QEMU's `-cpu`.
    pub cpu_model: String,
    /// QEMU's `-M`.
    pub machine: String,
    /// QEMU's `-m`.
    pub memory: String,
    /// `qemu-system-x86_64 --version`, first line.
    pub qemu_version: String,
    /// The host's CPU (`model name` in /proc/cpuinfo) and its count.
    pub host_cpu: String,
    /// Logical CPUs of the host.
    pub host_cpus: usize,
    /// `git rev-parse HEAD`, and whether the work tree had changes.
    pub git_commit: String,
    /// See [`Setup::git_commit`].
    pub git_dirty: bool,
    /// When the run started, UTC (RFC 3339).
    pub date_utc: String,
    /// Host seconds the whole command took.
    pub wall_seconds: f64,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Where and how.
    pub setup: Setup,
    /// The images.
    pub images: Images,
    /// Every boot, in the order they ran.
    pub boots: Vec<Boot>,
}
