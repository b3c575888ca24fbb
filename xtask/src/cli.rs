//! The command line of `cargo xtask`: `run`, `test`, `build`, `iso` and `bench`, declared with clap's
//! derive so `--help` documents every flag. Only parsing lives here; `main.rs`
//! dispatches to `qemu/` (run), `test/` (test) and `kernel.rs`/`rootfs.rs` (build).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Default number of virtual CPUs: the machines this runs on have two cores, and
/// the kernel must never be designed for one.
pub const DEFAULT_SMP: u32 = 2;
/// Default guest memory, in QEMU's `-m` syntax: room for Linux's 65 MB vmlinux,
/// the initramfs and the programs.
pub const DEFAULT_MEM: &str = "512M";
/// Default K42 log level (`log=LEVEL` on the kernel command line).
pub const DEFAULT_LOG: &str = "info";
/// Default time limit, in seconds, of a boot that runs a PROGRAM (and of each
/// boot in `cargo xtask test`): a hung guest then fails instead of blocking CI.
pub const DEFAULT_PROGRAM_TIMEOUT_SECS: u64 = 300;

/// Builds and runs the K42 operating system, and Debian's Linux beside it, under QEMU.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Boot an OS under QEMU and run PROGRAM as its first process (or a shell).
    ///
    /// stdout carries exactly what PROGRAM wrote to its console (the tty's "\n" to
    /// "\r\n" mapping is undone), so the two OSes can be compared with `cmp`; boot
    /// logs and the runner's messages go to stderr. The exit status is PROGRAM's;
    /// 124 = timed out, 125 = the guest kernel failed (panic or exception report),
    /// 126 = QEMU ended without a status line (crash, triple fault), 1 = the runner
    /// could not set up the run.
    ///
    /// On K42, PROGRAM is a built-in entry — `ktest [FILTER...]` (the in-kernel
    /// tests), `ktest-fault` (a deliberate kernel page fault), `ktest-overflow` (a
    /// deliberate kernel stack overflow) — or a program looked up like a shell would
    /// along PATH with the native directory /k42/bin last: a Linux program runs
    /// under the Linux personality, a native one (utest, ppcbench) as itself; one
    /// that cannot be found or started ends with status 127. With no PROGRAM both
    /// OSes start an interactive busybox shell (on K42 without job control yet: type
    /// `set +m` before running external commands and pipelines).
    Run(RunArgs),
    /// Run the test tiers (lint, host, kernel, guest, bench) and print `N passed, M failed`.
    Test(TestArgs),
    /// Build the K42 kernel and the default root file system, without booting.
    Build,
    /// Build a GRUB ISO that boots K42 through multiboot2, e.g. on real hardware
    /// (write it to a USB stick) or with `qemu-system-x86_64 -cdrom`.
    Iso(IsoArgs),
    /// Run the benchmarks of bench/ on Linux and what K42 can report, side by side,
    /// under -icount and plain TCG; write docs/bench/{results.json,README.md,ratios.svg}.
    ///
    /// Boots are interleaved (Linux, K42, Linux, K42 ...) over --runs runs, every boot of
    /// both OSes with the same QEMU configuration (--smp, --mem). K42 runs the benchmark
    /// programs its Linux personality can (a program it cannot run yet gets cells saying
    /// "not yet" and why), one boot per program, and its native `ppcbench` (PPC round
    /// trip, kernel calls, an upcall, with the kernel's counters).
    Bench(BenchArgs),
}

/// Which kernel to boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Os {
    /// Our kernel (target/x86_64-unknown-none/release/k42-kernel).
    K42,
    /// Debian's Linux kernel (package linux-image-amd64), for comparison.
    Linux,
}

impl Os {
    /// The lower-case name used in case names and file names.
    pub fn name(self) -> &'static str {
        match self {
            Os::K42 => "k42",
            Os::Linux => "linux",
        }
    }
}

/// Which OSes `cargo xtask test` runs guest programs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestOs {
    /// K42 only.
    K42,
    /// Linux only.
    Linux,
    /// Both, side by side.
    Both,
}

impl TestOs {
    /// Whether this selection includes `os`.
    pub fn includes(self, os: Os) -> bool {
        matches!(
            (self, os),
            (TestOs::Both, _) | (TestOs::K42, Os::K42) | (TestOs::Linux, Os::Linux)
        )
    }
}

/// QEMU's accelerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Accel {
    /// Hardware virtualization, used only when /dev/kvm opens. Careful: on nested,
    /// paging-based hypervisors a ring-3 `syscall` misbehaves there.
    Kvm,
    /// Software emulation (the default; what tests and benchmarks use).
    Tcg,
}

/// The test tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Tier {
    /// `cargo test` of the host crates.
    Host,
    /// The in-kernel tests, booted in QEMU.
    Kernel,
    /// C and shell guest programs, run as the first process of a booted OS.
    Guest,
    /// rustfmt and clippy.
    Lint,
    /// The benchmark programs of `cargo xtask bench` with tiny counts: well-formed
    /// results, no timing threshold.
    Bench,
}

impl Tier {
    /// All tiers, in the order `cargo xtask test` runs them.
    pub const ALL: [Tier; 5] = [
        Tier::Lint,
        Tier::Host,
        Tier::Kernel,
        Tier::Guest,
        Tier::Bench,
    ];

    /// The tier's name, as in case names.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Host => "host",
            Tier::Kernel => "kernel",
            Tier::Guest => "guest",
            Tier::Lint => "lint",
            Tier::Bench => "bench",
        }
    }
}

/// `cargo xtask run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A newc cpio archive appended to the initramfs (repeatable; later entries win).
    #[arg(long, value_name = "FILE")]
    pub initrd: Vec<PathBuf>,
    /// A directory whose contents are laid over the default root file system.
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,
    /// Number of virtual CPUs.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SMP)]
    pub smp: u32,
    /// Guest memory, as QEMU's -m takes it (512M, 2G).
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MEM)]
    pub mem: String,
    /// The kernel to boot.
    #[arg(long, value_enum, default_value_t = Os::K42)]
    pub os: Os,
    /// QEMU's accelerator (kvm only when /dev/kvm opens).
    #[arg(long, value_enum, default_value_t = Accel::Tcg)]
    pub accel: Accel,
    /// Start QEMU's gdb server on :1234 and wait for the debugger before booting.
    #[arg(long)]
    pub gdb: bool,
    /// Count guest time in guest instructions (QEMU `-icount shift=0,sleep=off`): one ns per
    /// instruction, so a program's timings read as instruction counts and repeat.
    #[arg(long)]
    pub icount: bool,
    /// Kill the guest after SECS seconds (default: none when interactive, 300 with a PROGRAM).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// The kernel command line.
    #[command(flatten)]
    pub kernel: KernelCmdline,
    /// The program to run as the first process, and its arguments (after `--`).
    /// On K42 only the built-in entries `ktest [FILTER...]`, `ktest-fault` and
    /// `ktest-overflow` for now.
    #[arg(last = true, value_name = "PROGRAM ARGS")]
    pub program: Vec<String>,
}

/// What goes on the kernel command line, for `run` and `iso` alike.
#[derive(Debug, Args)]
pub struct KernelCmdline {
    /// K42's log level (log=LEVEL on its command line: error, warn, info, debug, trace).
    #[arg(long, value_name = "LEVEL", default_value = DEFAULT_LOG)]
    pub log: String,
    /// Extra text for the kernel command line (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub append: Vec<String>,
}

/// `cargo xtask iso`.
#[derive(Debug, Args)]
pub struct IsoArgs {
    /// Where to write the ISO (default: target/k42/iso/k42.iso).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The kernel command line.
    #[command(flatten)]
    pub kernel: KernelCmdline,
    /// The program the ISO runs, and its arguments (after `--`), as for `run`;
    /// without one, the interactive shell.
    #[arg(last = true, value_name = "PROGRAM ARGS")]
    pub program: Vec<String>,
}

/// Default time limit, in seconds, of one benchmark boot (a full run's Linux boot
/// under -icount takes a few minutes).
pub const DEFAULT_BENCH_TIMEOUT_SECS: u64 = 1800;
/// Where `cargo xtask bench` writes, relative to the workspace root.
pub const DEFAULT_BENCH_OUT: &str = "docs/bench";

/// `cargo xtask bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Keep only benchmarks whose name contains NAME (boot and footprint always run).
    #[arg(long, value_name = "NAME")]
    pub filter: Option<String>,
    /// vCPUs of the main boots (SDET also runs at 1 vCPU).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SMP)]
    pub smp: u32,
    /// Runs of each boot (default 5; 3 with --quick).
    #[arg(long, value_name = "R")]
    pub runs: Option<u32>,
    /// Guest memory of every boot, both OSes alike, as QEMU's -m takes it (512M, 2G): as
    /// `cargo xtask run --mem`. Free memory after boot is read at this size.
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MEM)]
    pub mem: String,
    /// Fewer runs and a fifth of the iterations: a few minutes, for everyday use.
    #[arg(long)]
    pub quick: bool,
    /// Directory for results.json, README.md and ratios.svg (relative to the workspace root).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_BENCH_OUT)]
    pub out: PathBuf,
    /// Time limit of each boot, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_BENCH_TIMEOUT_SECS)]
    pub timeout: u64,
    /// Copy each boot's console and log to stderr as it runs.
    #[arg(long, short)]
    pub verbose: bool,
}

/// `cargo xtask test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Which OSes to run the boot tiers on.
    #[arg(long, value_enum, default_value_t = TestOs::Both)]
    pub os: TestOs,
    /// Run only this tier (repeatable; default: all).
    #[arg(long, value_enum)]
    pub tier: Vec<Tier>,
    /// Time limit of each boot, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_PROGRAM_TIMEOUT_SECS)]
    pub timeout: u64,
    /// Copy each boot's console and log to stderr as it runs.
    #[arg(long, short)]
    pub verbose: bool,
    /// Keep only cases whose name contains FILTER (the host tier hands it to libtest,
    /// which matches it against test paths).
    #[arg(value_name = "FILTER")]
    pub filter: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(words: &[&str]) -> BenchArgs {
        let argv = ["cargo xtask", "bench"].iter().chain(words);
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::Bench(args),
            }) => args,
            other => panic!("not a bench command: {other:?}"),
        }
    }

    #[test]
    fn bench_takes_the_runners_memory_syntax_and_default() {
        assert_eq!(bench(&[]).mem, DEFAULT_MEM);
        assert_eq!(bench(&["--mem", "1G"]).mem, "1G");
        assert_eq!(bench(&["--quick", "--mem=768M"]).mem, "768M");
        // `cargo xtask run` has the same option with the same default.
        let run = Cli::try_parse_from(["cargo xtask", "run", "--mem", "1G"]);
        assert!(matches!(run, Ok(Cli { command: Command::Run(r) }) if r.mem == "1G"));
        let run = Cli::try_parse_from(["cargo xtask", "run"]);
        assert!(matches!(run, Ok(Cli { command: Command::Run(r) }) if r.mem == DEFAULT_MEM));
        assert!(Cli::try_parse_from(["cargo xtask", "bench", "--mem"]).is_err());
    }
}
