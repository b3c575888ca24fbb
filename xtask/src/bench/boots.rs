//! One benchmark boot: the machine in the runner's configuration (plus `-icount`
//! in the primary mode), its console split by program (`../guest.rs`'s parser) and
//! each program's result lines checked against the plan; or, on K42, the banner's
//! figures and either the result lines of its native `ppcbench` or those of the one
//! program of `bench/` the boot runs as its program (no driver script: one boot per
//! program, `programs.rs`); or, on either OS, the interactive shell timed to its first
//! prompt ([`Work::Shell`]). What comes back is a `results.rs` [`Boot`], problems
//! included, so a failed boot is recorded rather than lost.
//!
//! `mod.rs` runs the boots in order; `../test/bench_tier.rs` uses [`collect`],
//! [`collect_alone`] and [`collect_native`] on its sanity boots.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::programs::{self, Plan};
use super::record::{self, Record};
use super::results::{Boot, Mode, Purpose};
use super::{catalog, footprint};
use crate::cli::{self, Os};
use crate::{guest, qemu};

/// Placeholder for the log socket's path in recorded command lines (the real
/// one is a fresh temporary directory per boot).
const LOG_SOCKET_PLACEHOLDER: &str = "LOG.sock";

/// What to boot.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// Which kernel.
    pub os: Os,
    /// Its image.
    pub kernel: &'a Path,
    /// The initramfs (with the programs, and the driver for Linux), whose argv
    /// file names what [`Target::work`] says.
    pub initrd: PathBuf,
    /// What runs.
    pub work: Work<'a>,
    /// What the boot is for.
    pub purpose: Purpose,
    /// vCPUs.
    pub smp: u32,
}

/// What a boot runs, as its initramfs names it.
#[derive(Debug, Clone, Copy)]
pub enum Work<'a> {
    /// Linux: the driver script runs the plan's steps.
    Driver(&'a Plan),
    /// K42: the plan's one step is the run's program.
    Alone(&'a Plan),
    /// K42: the native `ppcbench`, after the banner.
    Native,
    /// Either OS: no program named (no argv file), so the interactive shell, as `cargo
    /// xtask run` without a program gives it; `footprint::PROMPT_INPUT` is typed once init
    /// starts, and the boot is timed to the first byte of its first prompt.
    Shell,
}

impl Work<'_> {
    /// The run's program and its arguments.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Work::Driver(_) => programs::driver_argv(),
            Work::Alone(plan) => plan.steps.first().map_or_else(Vec::new, |s| s.argv.clone()),
            Work::Native => vec![catalog::PPCBENCH_PROGRAM.to_string()],
            Work::Shell => vec![k42_abi::runner::INTERACTIVE_SHELL.to_string()],
        }
    }
}

/// How to run it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The qboot firmware (as the runner uses it).
    pub qboot: Option<PathBuf>,
    /// Guest memory of every boot, both OSes alike (QEMU's `-m`: `cargo xtask bench --mem`).
    pub mem: String,
    /// Kill a boot after this long.
    pub timeout: Duration,
    /// Copy the console and log to stderr.
    pub verbose: bool,
}

/// The machine for `target` in `mode`: the runner's configuration with `settings`' memory,
/// whichever OS boots.
pub fn machine(target: &Target<'_>, mode: Mode, settings: &Settings) -> qemu::Machine {
    let medium = qemu::Medium::Direct {
        kernel: target.kernel.to_path_buf(),
        initrd: target.initrd.clone(),
        cmdline: qemu::cmdline(target.os, cli::DEFAULT_LOG, &[]),
    };
    let mut m = qemu::Machine::standard(target.os, medium, target.smp, settings.qboot.clone());
    m.mem.clone_from(&settings.mem);
    m.icount = (mode == Mode::Icount).then_some(qemu::Icount::ONE_NS_PER_INSTRUCTION);
    m
}

/// QEMU's arguments for `m`, with the placeholder log socket.
pub fn qemu_args(m: &qemu::Machine) -> Vec<String> {
    qemu::args(m, Path::new(LOG_SOCKET_PLACEHOLDER), false)
}

/// Boots `target` in `mode` as run `run` and records what came out.
pub fn boot(target: &Target<'_>, mode: Mode, run: u32, settings: &Settings) -> Boot {
    let m = machine(target, mode, settings);
    let program = match target.work {
        Work::Alone(plan) => plan
            .steps
            .first()
            .map_or_else(String::new, |s| format!("-{}", s.name)),
        Work::Driver(_) | Work::Native | Work::Shell => String::new(),
    };
    let label = format!(
        "bench-{run}-{}-{}-{:?}{program}-smp{}",
        mode.name(),
        target.os.name(),
        target.purpose,
        target.smp
    )
    .to_lowercase();
    let mut boot = Boot {
        run,
        os: target.os.name().into(),
        mode,
        purpose: target.purpose,
        smp: target.smp,
        qemu_command: qemu::shell_words(qemu::QEMU, &qemu_args(&m)),
        argv: target.work.argv(),
        status: k42_abi::runner::RUNNER_NO_STATUS,
        problems: Vec::new(),
        init_start_s: None,
        prompt_s: None,
        elapsed_s: 0.0,
        records: Vec::new(),
        k42_free_mib: None,
        k42_managed_mib: None,
    };
    let echo = settings.verbose.then_some(qemu::Echo::Stderr);
    let options = qemu::Options {
        console: match target.work {
            Work::Shell => qemu::Console::Scripted {
                echo,
                input: footprint::PROMPT_INPUT,
            },
            _ => qemu::Console::Program { echo },
        },
        echo_log: settings.verbose,
        timeout: Some(settings.timeout),
        show_command: settings.verbose,
    };
    let (outcome, arrivals) = match qemu::run_kept_timed(&m, &options, &label) {
        Ok(timed) => timed,
        Err(why) => {
            boot.problems.push(why);
            return boot;
        }
    };
    boot.status = outcome.runner_status();
    boot.init_start_s = outcome.init_start.map(|d| d.as_secs_f64());
    boot.elapsed_s = outcome.elapsed.as_secs_f64();
    if let Some(problem) = outcome.problem() {
        boot.problems
            .push(format!("{problem}; {}", qemu::logs_hint(&label)));
    }
    let banner = |boot: &mut Boot| match footprint::k42_frames(&outcome.log) {
        Some((free, managed)) => {
            boot.k42_free_mib = Some(free);
            boot.k42_managed_mib = Some(managed);
        }
        None => boot.problems.push(format!(
            "no `frames:` banner line on the log port; {}",
            qemu::logs_hint(&label)
        )),
    };
    let steps = |boot: &mut Boot, (records, problems): Collected| {
        boot.records = records.into_iter().flat_map(|(_, r)| r).collect();
        boot.problems.extend(
            problems
                .into_iter()
                .map(|p| format!("{p}; {}", qemu::logs_hint(&label))),
        );
    };
    match target.work {
        Work::Driver(plan) => steps(&mut boot, collect(&outcome, plan)),
        Work::Alone(plan) => {
            banner(&mut boot);
            steps(&mut boot, collect_alone(&outcome, plan));
        }
        Work::Shell => {
            let prompt = footprint::prompt_offset(&outcome.console);
            boot.prompt_s = prompt
                .and_then(|at| arrivals.of_byte(at))
                .map(|d| d.as_secs_f64());
            if let Some(secs) = boot.prompt_s {
                eprintln!("xtask: {label}: QEMU start -> shell prompt {secs:.3} s");
            } else {
                boot.problems.push(format!(
                    "no shell prompt {:?} at the start of a console line; {}",
                    footprint::SHELL_PROMPT,
                    qemu::logs_hint(&label)
                ));
            }
            if outcome.status_line().is_some() && boot.status != footprint::PROMPT_EXIT_STATUS {
                boot.problems.push(format!(
                    "the shell typed {:?} exited with status {}, expected {}; {}",
                    String::from_utf8_lossy(footprint::PROMPT_INPUT),
                    boot.status,
                    footprint::PROMPT_EXIT_STATUS,
                    qemu::logs_hint(&label)
                ));
            }
        }
        Work::Native => {
            banner(&mut boot);
            let (records, problems) = collect_native(&outcome);
            boot.records = records;
            let mut problems: Vec<String> = problems.into_iter().map(|p| p.text).collect();
            if outcome.status_line().is_some() && boot.status != 0 {
                problems.push(format!(
                    "{}: exited with status {}",
                    catalog::PPCBENCH_PROGRAM,
                    boot.status
                ));
            }
            boot.problems.extend(
                problems
                    .into_iter()
                    .map(|p| format!("{p}; {}", qemu::logs_hint(&label))),
            );
        }
    }
    boot
}

/// Each step's checked records (by step name), and every problem.
pub type Collected = (Vec<(String, Vec<Record>)>, Vec<String>);

/// A problem with K42's `ppcbench` lines, and the figure it concerns (`None`: a
/// malformed line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeProblem {
    /// The figure (`NAME` of `NAME` or `NAME.COUNTER`).
    pub figure: Option<String>,
    /// What is wrong, starting with the program's name.
    pub text: String,
}

/// The well-formed result lines of K42's `ppcbench` on the console, and every
/// problem: a malformed line, a required figure or one of its counters missing, a
/// counter line without its figure. Figures the catalog does not name are kept.
pub fn collect_native(outcome: &qemu::Outcome) -> (Vec<Record>, Vec<NativeProblem>) {
    let program = catalog::PPCBENCH_PROGRAM;
    let console = String::from_utf8_lossy(&outcome.console);
    let (records, errors) = record::parse(&console);
    let mut problems: Vec<NativeProblem> = errors
        .into_iter()
        .map(|e| NativeProblem {
            figure: None,
            text: format!("{program}: {e}"),
        })
        .collect();
    let mut about = |name: &str, text: String| {
        problems.push(NativeProblem {
            figure: Some(record::native_figure(name).to_string()),
            text: format!("{program}: {text}"),
        });
    };
    let mut good = Vec::new();
    for r in records {
        match record::check_native(&r) {
            Ok(()) => good.push(r),
            Err(why) => about(&r.name, format!("{}: {why}", r.name)),
        }
    }
    let has = |name: &str| good.iter().any(|r: &Record| r.name == name);
    for native in catalog::NATIVE.iter().filter(|n| n.required) {
        let mut wanted = vec![native.name.to_string()];
        wanted.extend(
            catalog::COUNTERS
                .iter()
                .map(|c| catalog::counter_name(native.name, c.suffix)),
        );
        for name in wanted.iter().filter(|n| !has(n)) {
            about(name, format!("no result line for {name}"));
        }
    }
    for r in good.iter().filter(|r| r.name.contains('.')) {
        if !has(record::native_figure(&r.name)) {
            about(&r.name, format!("{} without its figure", r.name));
        }
    }
    (good, problems)
}

/// Each step's checked records (by step name), and every problem: a step that
/// did not run or exited non-zero, a malformed line, a missing or unexpected result.
pub fn collect(outcome: &qemu::Outcome, plan: &Plan) -> Collected {
    let names = programs::step_names(plan);
    let console = String::from_utf8_lossy(&outcome.console);
    let runs = guest::parse(&console, &names);
    check_runs(plan, &names, &runs)
}

/// [`collect`] for a boot whose program was `plan`'s one step, run with no driver
/// (K42): the whole console is its output, the status line its exit status.
pub fn collect_alone(outcome: &qemu::Outcome, plan: &Plan) -> Collected {
    debug_assert_eq!(plan.steps.len(), 1, "one program per boot");
    let names = programs::step_names(plan);
    let console = String::from_utf8_lossy(&outcome.console);
    let runs = vec![guest::parse_single(&console, outcome.status_line())];
    check_runs(plan, &names, &runs)
}

/// Each step's records checked against `plan`, and every problem.
fn check_runs(plan: &Plan, names: &[String], runs: &[guest::ProgramRun]) -> Collected {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for ((name, run), expected) in names.iter().zip(runs).zip(&plan.expected) {
        let last_output = || {
            let lines: Vec<&str> = run.output.lines().collect();
            lines[lines.len().saturating_sub(super::REASON_LINES)..].join("\n")
        };
        match run.status {
            _ if !run.began => problems.push(format!("{name}: did not run")),
            None => problems.push(format!("{name}: did not finish:\n{}", last_output())),
            Some(0) => {}
            Some(status) => problems.push(format!(
                "{name}: exited with status {status}:\n{}",
                last_output()
            )),
        }
        let (records, errors) = record::parse(&run.output);
        problems.extend(errors.into_iter().map(|e| format!("{name}: {e}")));
        let mut good = Vec::new();
        for want in expected {
            match records.iter().find(|r| r.name == want.name) {
                None if run.began => {
                    problems.push(format!("{name}: no result line for {}", want.name));
                }
                None => {}
                Some(r) => match record::check(r, want) {
                    Ok(()) => good.push(r.clone()),
                    Err(why) => problems.push(format!("{name}: {}: {why}", want.name)),
                },
            }
        }
        for extra in records
            .iter()
            .filter(|r| !expected.iter().any(|e| e.name == r.name))
        {
            problems.push(format!("{name}: unexpected result {}", extra.name));
        }
        out.push((name.clone(), good));
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(console: &str) -> qemu::Outcome {
        qemu::Outcome {
            console: console.as_bytes().to_vec(),
            log: String::new(),
            qemu_exit: Some(0),
            timed_out: None,
            first_log_byte: None,
            init_start: None,
            elapsed: Duration::from_secs(1),
        }
    }

    fn line(name: &str, unit: &str, median: f64) -> String {
        format!(
            "{{\"name\":\"{name}\",\"unit\":\"{unit}\",\"iterations\":2000,\"median\":{median},\"min\":{median},\"max\":{median}}}\n"
        )
    }

    fn figure(name: &str, counts: [f64; 4]) -> String {
        let mut out = line(name, catalog::NS, 1000.0);
        for (counter, v) in catalog::COUNTERS.iter().zip(counts) {
            out += &line(
                &catalog::counter_name(name, counter.suffix),
                catalog::PER_CALL,
                v,
            );
        }
        out
    }

    #[test]
    fn both_oses_boot_with_the_memory_asked_for() {
        let settings = Settings {
            qboot: None,
            mem: "1G".into(),
            timeout: Duration::from_secs(1),
            verbose: false,
        };
        for (os, work, mode) in [
            (Os::Linux, Work::Shell, Mode::Wall),
            (Os::K42, Work::Native, Mode::Icount),
        ] {
            let target = Target {
                os,
                kernel: Path::new("kernel"),
                initrd: PathBuf::from("initrd"),
                work,
                purpose: Purpose::Native,
                smp: 1,
            };
            let args = qemu_args(&machine(&target, mode, &settings));
            let at = args.iter().position(|a| a == "-m").expect("-m");
            assert_eq!(args[at + 1], "1G", "{os:?}: {args:?}");
        }
    }

    #[test]
    fn a_program_run_alone_is_checked_as_under_the_driver() {
        let micro = programs::Parts {
            micro: true,
            sdet: false,
        };
        let plans = programs::k42_plans(catalog::Scale::Sanity, 1, micro, &|n: &str| {
            n.contains("stat")
        });
        let plan = &plans[0];
        let ran = |console: &str, status: &str| {
            let mut o = outcome(console);
            o.log = format!("k42-run: init-start\nk42-run: exit-status {status}\n");
            collect_alone(&o, plan)
        };
        let stat = line("stat", "ns", 15_000.0).replace("2000", "2");
        let fstat = line("fstat", "ns", 10_000.0).replace("2000", "2");
        let (records, problems) = ran(&format!("{stat}{fstat}"), "0");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(records[0].0, "syscalls");
        assert_eq!(records[0].1.len(), 2);

        // A failed operation: the figure before it is kept, the rest is a problem.
        let (records, problems) = ran(
            &format!("{stat}bench: fstat: fstat: Function not implemented\n"),
            "1",
        );
        assert_eq!(records[0].1.len(), 1);
        assert!(problems[0].starts_with("syscalls: exited with status 1:"));
        assert!(problems[0].contains("Function not implemented"));
        assert_eq!(problems[1], "syscalls: no result line for fstat");
        // No status line: the program did not finish.
        let (_, problems) = collect_alone(&outcome(&stat), plan);
        assert!(problems[0].starts_with("syscalls: did not finish"));
    }

    #[test]
    fn native_lines_are_collected_and_checked() {
        let good = figure("ppc_null_roundtrip", [2.0, 2.0, 1.0, 2324.0])
            + &figure("kernel_object_null_call", [1.0, 0.0, 0.0, 899.0])
            + &figure("null_kernel_call", [1.0, 0.0, 0.0, 479.0])
            + &figure("upcall_roundtrip", [1.0, 0.0, 1.0, 700.0]);
        let (records, problems) = collect_native(&outcome(&format!("noise\n{good}")));
        assert_eq!(records.len(), 20);
        assert!(problems.is_empty(), "{problems:?}");
        // The upcall round trip is required: without it, its lines are missing.
        let no_upcall = good.replace("upcall_roundtrip", "other_figure");
        let (_, problems) = collect_native(&outcome(&no_upcall));
        assert_eq!(problems.len(), 1 + catalog::COUNTERS.len(), "{problems:?}");
        assert!(
            problems
                .iter()
                .all(|p| p.figure.as_deref() == Some("upcall_roundtrip"))
        );

        // A required counter missing, a time of zero, a stray counter, a broken line.
        let bad = figure("ppc_null_roundtrip", [2.0, 2.0, 1.0, 2324.0])
            .replace("kernel_ns", "other")
            + &line("kernel_object_null_call", catalog::NS, 0.0)
            + &line("ghost.upcalls", catalog::PER_CALL, 1.0)
            + "{broken\n";
        let (records, problems) = collect_native(&outcome(&bad));
        assert_eq!(records.len(), 6);
        let of = |figure: Option<&str>| {
            problems
                .iter()
                .filter(|p| p.figure.as_deref() == figure)
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            of(Some("ppc_null_roundtrip")),
            ["ppcbench: no result line for ppc_null_roundtrip.kernel_ns"]
        );
        let object = of(Some("kernel_object_null_call"));
        assert!(object[0].contains("finite and positive"), "{object:?}");
        // The rejected line, then the figure and its counters missing.
        assert_eq!(object.len(), 2 + catalog::COUNTERS.len());
        assert_eq!(
            of(Some("ghost")),
            ["ppcbench: ghost.upcalls without its figure"]
        );
        assert_eq!(of(None).len(), 1);
    }
}
