//! `cargo xtask bench`: the benchmarks of `bench/` on Debian's Linux and on K42 —
//! those K42's Linux personality can run (`catalog::runs_on_k42`: all of them now) —
//! plus what only K42 reports (boot time, free memory, image size, and its own figures
//! from the native `ppcbench`: the null PPC round trip, kernel object call and upcall
//! round trip with their kernel counters), side by side in the runner's one QEMU
//! configuration (`--mem` and `--smp` alike for both OSes), in two modes — `-icount`
//! (primary: guest time counts instructions, repeatable) and plain TCG wall time
//! (secondary) — with the boots interleaved (Linux, K42, Linux, K42 …) over several
//! runs. Linux runs its programs under a driver script; K42, which boots in a
//! fraction of a second, boots once per program, each as the run's program with the
//! driver's argv. Each OS also boots its interactive shell once per run and mode, timed
//! from QEMU's start to the shell's first prompt on the console.
//!
//! It writes `docs/bench/results.json` (raw), `docs/bench/README.md` (tables) and
//! `docs/bench/ratios.svg` (chart). Modules: `catalog` (what runs, with which
//! counts), `programs` (build, pack, driver script), `boots` (one boot → raw
//! record), `record` (result lines, K42's included), `footprint` (K42's banner, image sizes),
//! `host` (where it ran), `results` (the JSON model), `stats` + `summary`
//! (medians, rows, repeatability), `report` (README), `chart` (SVG). The test
//! tier's sanity check (`../test/bench_tier.rs`) runs the same programs with tiny
//! counts.

pub mod boots;
pub mod catalog;
mod chart;
pub mod footprint;
mod host;
pub mod programs;
pub mod record;
mod report;
pub mod results;
mod stats;
mod summary;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cli::{BenchArgs, Os};
use crate::{kernel, linux, paths, prereq, rootfs};

use boots::{Settings, Target, Work};
use catalog::Scale;
use programs::{Parts, Plan};
use results::{Images, Mode, Purpose, Results, Setup};

/// K42's (free, managed) frames in MiB from its boot log, for the test tier.
pub fn footprint_of(log: &str) -> Option<(u64, u64)> {
    footprint::k42_frames(log)
}

/// vCPUs of every `-icount` boot. Debian's Linux 6.1 under QEMU 7.2's `-icount`
/// hangs bringing up its second CPU ("x86: Booting SMP configuration:", checked
/// with shift=0/1/auto and sleep=on/off), and under `-icount` the vCPUs run one at a
/// time anyway; so that mode measures both OSes at one vCPU, and multi-vCPU
/// figures come from the wall-time boots at `--smp`.
pub const ICOUNT_SMP: u32 = 1;

/// Runs of each boot: full and `--quick`.
const FULL_RUNS: u32 = 5;
const QUICK_RUNS: u32 = 3;
/// Lines of a program's output kept as a problem's reason.
const REASON_LINES: usize = 20;
/// Exit status when a boot or a benchmark had a problem (the files are still written).
const BENCH_PROBLEM: i32 = 1;
const RESULTS_JSON: &str = "results.json";
const README: &str = "README.md";
const CHART: &str = "ratios.svg";
/// The copy of K42's kernel every boot of a `cargo xtask bench` boots, under the work
/// directory.
const K42_KERNEL_COPY: &str = "k42-kernel";
/// The shell boots' initramfs, under the work directory.
const SHELL_CPIO: &str = "shell.cpio";
/// The programs' archive without a driver, under the work directory, for running one
/// K42 benchmark boot by hand (`cargo xtask run --initrd`).
pub const K42_PROGRAMS_CPIO: &str = "programs.cpio";

/// `cargo xtask bench`; returns the exit status.
pub fn run(args: &BenchArgs) -> Result<i32, String> {
    let started = Instant::now();
    let date_utc = host::date_utc();
    // The tree the binaries are built from now: read at the end, it would show edits made
    // while the runs went on, which none of them measured.
    let (git_commit, git_dirty) = host::git();
    let tools = prereq::ensure(prereq::Needs {
        boot: true,
        linux: true,
        kernel_target: true,
        ..prereq::Needs::default()
    })?;
    let vmlinuz = tools.vmlinuz.clone().ok_or("no Linux kernel image")?;
    let dir = paths::work("bench")?;
    // The boots of every run use this copy: the build's own file may be rebuilt meanwhile
    // (the work tree is shared), and a run must not boot another kernel than the first.
    let k42_kernel = snapshot(&kernel::build()?, &dir.join(K42_KERNEL_COPY))?;
    let linux_kernel = linux::kernel_image(&vmlinuz);
    let installs = programs::build()?;

    let scale = if args.quick {
        Scale::Quick
    } else {
        Scale::Full
    };
    let runs = args
        .runs
        .unwrap_or(if args.quick { QUICK_RUNS } else { FULL_RUNS })
        .max(1);
    let wanted = |name: &str| args.filter.as_deref().is_none_or(|f| name.contains(f));
    let all = Parts {
        micro: true,
        sdet: true,
    };
    let wall_suite = programs::plan(scale, args.smp, all, &wanted);
    let icount_suite = programs::plan(scale, ICOUNT_SMP, all, &wanted);
    let sdet_only = Parts {
        micro: false,
        sdet: true,
    };
    // SDET in wall time at one vCPU too, when the main boots have more (meminfo is
    // always step 0).
    let sdet_one = (args.smp != 1)
        .then(|| programs::plan(scale, 1, sdet_only, &wanted))
        .filter(|p| p.steps.len() > 1);
    // K42's programs of bench/, one boot each, with the argv Linux's driver gives them in
    // the same mode (only SDET's depends on the vCPUs); SDET at one vCPU too, as Linux.
    let k42_icount_plans = programs::k42_plans(scale, ICOUNT_SMP, all, &wanted);
    let k42_wall_plans = programs::k42_plans(scale, args.smp, all, &wanted);
    let k42_sdet_one = if sdet_one.is_some() {
        programs::k42_plans(scale, 1, sdet_only, &wanted)
    } else {
        Vec::new()
    };

    let linux_initrd = |plan: &Plan, name: &str| -> Result<PathBuf, String> {
        let out = dir.join(name);
        let spec = rootfs::Spec {
            extra: vec![programs::archive(&installs, plan)?],
            argv: Some(programs::driver_argv()),
            ..rootfs::Spec::default()
        };
        rootfs::build(&tools.busybox, &spec, &out)?;
        Ok(out)
    };
    let suite_target = |plan, smp, name| -> Result<Target<'_>, String> {
        Ok(Target {
            os: Os::Linux,
            kernel: &linux_kernel,
            initrd: linux_initrd(plan, name)?,
            work: Work::Driver(plan),
            purpose: Purpose::Suite,
            smp,
        })
    };
    let wall_target = suite_target(&wall_suite, args.smp, "linux-wall.cpio")?;
    let icount_target = suite_target(&icount_suite, ICOUNT_SMP, "linux-icount.cpio")?;
    let sdet_target = match &sdet_one {
        Some(plan) => Some(Target {
            os: Os::Linux,
            kernel: &linux_kernel,
            initrd: linux_initrd(plan, "linux-sdet.cpio")?,
            work: Work::Driver(plan),
            purpose: Purpose::Sdet,
            smp: 1,
        }),
        None => None,
    };
    // K42 boots the base image with argv ["ppcbench"], as Linux boots get theirs: it
    // prints its banner (the footprint figures), runs the native benchmark and powers off.
    let k42_initrd = dir.join("k42.cpio");
    let k42_spec = rootfs::Spec {
        argv: Some(vec![catalog::PPCBENCH_PROGRAM.to_string()]),
        ..rootfs::Spec::default()
    };
    rootfs::build(&tools.busybox, &k42_spec, &k42_initrd)?;
    let k42_target = |smp| Target {
        os: Os::K42,
        kernel: &k42_kernel,
        initrd: k42_initrd.clone(),
        work: Work::Native,
        purpose: Purpose::Native,
        smp,
    };
    // Each K42 program boots the base image, the programs (no driver script) and its
    // argv. The programs' archive is also left on its own for `cargo xtask run --initrd`.
    let programs_archive = programs::programs_archive(&installs)?;
    let programs_cpio = dir.join(K42_PROGRAMS_CPIO);
    std::fs::write(&programs_cpio, &programs_archive)
        .map_err(|e| format!("cannot write {}: {e}", programs_cpio.display()))?;
    // One initramfs per distinct argv (the micro plans are the same in both modes).
    let mut k42_initrds: Vec<(Vec<String>, PathBuf)> = Vec::new();
    for plan in k42_icount_plans
        .iter()
        .chain(&k42_wall_plans)
        .chain(&k42_sdet_one)
    {
        let step = &plan.steps[0];
        if k42_initrds.iter().any(|(argv, _)| *argv == step.argv) {
            continue;
        }
        let out = dir.join(format!("k42-{}-{}.cpio", step.name, k42_initrds.len()));
        let spec = rootfs::Spec {
            extra: vec![programs_archive.clone()],
            argv: Some(step.argv.clone()),
            ..rootfs::Spec::default()
        };
        rootfs::build(&tools.busybox, &spec, &out)?;
        k42_initrds.push((step.argv.clone(), out));
    }
    let k42_program = |plan, smp| k42_program_target(&k42_kernel, &k42_initrds, plan, smp);
    // Both OSes boot their interactive shell, timed to its first prompt.
    let shell_initrd = shell_initramfs(&tools, &dir)?;
    let shell_target = |os, kernel, smp| Target {
        os,
        kernel,
        initrd: shell_initrd.clone(),
        work: Work::Shell,
        purpose: Purpose::Prompt,
        smp,
    };
    let mut pairs = Vec::new();
    for (mode, linux, plans, smp) in [
        (Mode::Icount, icount_target, &k42_icount_plans, ICOUNT_SMP),
        (Mode::Wall, wall_target, &k42_wall_plans, args.smp),
    ] {
        let mut targets = vec![
            linux,
            k42_target(smp),
            shell_target(Os::Linux, linux_kernel.as_path(), smp),
            shell_target(Os::K42, k42_kernel.as_path(), smp),
        ];
        for plan in plans {
            targets.push(k42_program(plan, smp)?);
        }
        pairs.push((mode, targets));
    }
    let k42_sdet_targets = k42_sdet_one
        .iter()
        .map(|plan| k42_program(plan, 1))
        .collect::<Result<Vec<_>, _>>()?;

    let settings = Settings {
        qboot: tools.qboot.clone(),
        mem: args.mem.clone(),
        timeout: Duration::from_secs(args.timeout),
        verbose: args.verbose,
    };
    let mut boots = Vec::new();
    for run in 1..=runs {
        for (mode, targets) in &pairs {
            for target in targets {
                boots.push(run_one(target, *mode, run, runs, &settings));
            }
        }
        for target in sdet_target.iter().chain(&k42_sdet_targets) {
            boots.push(run_one(target, Mode::Wall, run, runs, &settings));
        }
    }

    let reference = boots::qemu_args(&boots::machine(&pairs[1].1[0], Mode::Wall, &settings));
    let results = Results {
        setup: Setup {
            command: reproduce_command(args),
            quick: args.quick,
            runs,
            smp: args.smp,
            icount_smp: ICOUNT_SMP,
            filter: args.filter.clone(),
            accelerator: host::qemu_setting(&reference, "-accel"),
            cpu_model: host::qemu_setting(&reference, "-cpu"),
            machine: host::qemu_setting(&reference, "-M"),
            memory: host::qemu_setting(&reference, "-m"),
            qemu_version: host::qemu_version(),
            host_cpu: host::cpu(),
            host_cpus: host::cpus(),
            git_commit,
            git_dirty,
            date_utc,
            wall_seconds: started.elapsed().as_secs_f64(),
        },
        images: Images {
            k42_kernel: footprint::image_size(&k42_kernel)?,
            linux_vmlinux: footprint::image_size(&linux_kernel)?,
            linux_bzimage: footprint::image_size(&vmlinuz)?,
            base_initramfs_bytes: rootfs::base(&tools.busybox)?.len() as u64,
        },
        boots,
    };
    let out = paths::root().join(&args.out);
    write(&out, &results)?;

    let problems: Vec<String> = results
        .boots
        .iter()
        .flat_map(|b| {
            b.problems.iter().map(move |p| {
                format!(
                    "run {} {} {} ({} vCPUs): {p}",
                    b.run,
                    b.mode.name(),
                    b.os,
                    b.smp
                )
            })
        })
        .collect();
    for p in &problems {
        eprintln!("xtask: bench: problem: {p}");
    }
    eprintln!(
        "xtask: bench: wrote {} ({}, {}, {}) in {:.0} s",
        out.display(),
        RESULTS_JSON,
        README,
        CHART,
        results.setup.wall_seconds
    );
    Ok(if problems.is_empty() {
        0
    } else {
        BENCH_PROBLEM
    })
}

/// Copies `file` to `to` and returns `to`.
fn snapshot(file: &Path, to: &Path) -> Result<PathBuf, String> {
    std::fs::copy(file, to)
        .map_err(|e| format!("cannot copy {} to {}: {e}", file.display(), to.display()))?;
    Ok(to.to_path_buf())
}

/// The initramfs of the shell boots (`Purpose::Prompt`), in `dir`: the image `cargo xtask
/// run` boots when it names no program (the base image and bash, no argv file), so each OS
/// runs its interactive shell.
pub fn shell_initramfs(tools: &prereq::Tools, dir: &Path) -> Result<PathBuf, String> {
    let out = dir.join(SHELL_CPIO);
    let spec = rootfs::Spec {
        bash: tools.bash.clone(),
        ..rootfs::Spec::default()
    };
    rootfs::build(&tools.busybox, &spec, &out)?;
    Ok(out)
}

/// The boot of K42's `plan` with `smp` vCPUs, on the initramfs of `initrds` built for its argv.
fn k42_program_target<'a>(
    kernel: &'a Path,
    initrds: &[(Vec<String>, PathBuf)],
    plan: &'a Plan,
    smp: u32,
) -> Result<Target<'a>, String> {
    let argv = &plan.steps[0].argv;
    let initrd = initrds
        .iter()
        .find(|(a, _)| a == argv)
        .map(|(_, initrd)| initrd.clone())
        .ok_or_else(|| format!("no K42 initramfs for {argv:?}"))?;
    Ok(Target {
        os: Os::K42,
        kernel,
        initrd,
        work: Work::Alone(plan),
        purpose: Purpose::Program,
        smp,
    })
}

/// One boot, with a progress line.
fn run_one(
    target: &Target<'_>,
    mode: Mode,
    run: u32,
    runs: u32,
    settings: &Settings,
) -> results::Boot {
    let start = Instant::now();
    let boot = boots::boot(target, mode, run, settings);
    eprintln!(
        "xtask: bench: run {run}/{runs} {} {} ({:?}, {} vCPUs): {} results, {:.1} s{}",
        mode.name(),
        target.os.name(),
        target.purpose,
        target.smp,
        boot.records.len(),
        start.elapsed().as_secs_f64(),
        if boot.problems.is_empty() {
            ""
        } else {
            ", with problems"
        }
    );
    boot
}

/// The command line that reproduces this run.
fn reproduce_command(args: &BenchArgs) -> String {
    let mut words = vec!["cargo xtask bench".to_string()];
    if args.quick {
        words.push("--quick".into());
    }
    if let Some(runs) = args.runs {
        words.push(format!("--runs {runs}"));
    }
    if args.smp != crate::cli::DEFAULT_SMP {
        words.push(format!("--smp {}", args.smp));
    }
    if args.mem != crate::cli::DEFAULT_MEM {
        words.push(format!("--mem {}", args.mem));
    }
    if let Some(filter) = &args.filter {
        words.push(format!("--filter {filter}"));
    }
    words.join(" ")
}

/// Writes the three files into `dir`.
fn write(dir: &Path, results: &Results) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let put = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let json = serde_json::to_string_pretty(results).map_err(|e| format!("results: {e}"))?;
    put(RESULTS_JSON, json + "\n")?;
    put(README, report::render(results))?;
    let rows = summary::benchmark_rows(results, Mode::Icount);
    let boot_rows = summary::boot_rows(results, Mode::Icount);
    let size_rows = summary::size_rows(results);
    let mut lines: Vec<chart::Line<'_>> = rows
        .iter()
        .map(|row| chart::Line {
            label: format!(
                "{} ({} vCPU{}, {})",
                row.name,
                row.smp.unwrap_or(0),
                if row.smp == Some(1) { "" } else { "s" },
                row.unit
            ),
            row,
        })
        .collect();
    let benchmarks = lines.len();
    lines.extend(boot_rows.iter().chain(&size_rows).map(|row| chart::Line {
        label: format!("{} ({})", short(&row.name), row.unit),
        row,
    }));
    chart::draw(
        &dir.join(CHART),
        "K42 / Linux, -icount mode (primary), medians over runs",
        &lines,
        benchmarks,
    )
}

/// A row name up to its first parenthesis, for the chart's narrow label column.
fn short(name: &str) -> &str {
    name.split(" (").next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(mem: &str, smp: u32) -> BenchArgs {
        BenchArgs {
            filter: Some("ppc".into()),
            smp,
            runs: Some(1),
            quick: true,
            mem: mem.into(),
            out: PathBuf::from(crate::cli::DEFAULT_BENCH_OUT),
            timeout: 1,
            verbose: false,
        }
    }

    #[test]
    fn the_reproduce_command_names_what_is_not_the_default() {
        let default = args(crate::cli::DEFAULT_MEM, crate::cli::DEFAULT_SMP);
        assert_eq!(
            reproduce_command(&default),
            "cargo xtask bench --quick --runs 1 --filter ppc"
        );
        assert_eq!(
            reproduce_command(&args("1G", 1)),
            "cargo xtask bench --quick --runs 1 --smp 1 --mem 1G --filter ppc"
        );
    }
}
