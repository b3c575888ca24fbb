//! The guest tier: the programs of `tests/guest/` built and run in one Linux boot,
//! cases `guest.linux.PROGRAM.CASE`, each program that did not run or finish
//! cleanly a failure of its own. On K42 the programs the Linux personality can run
//! so far ([`K42_READY`]) run one boot each, as the run's program, with the same
//! verdicts (`guest.k42.PROGRAM.CASE`); the others are skipped, saying what they
//! wait for.
//!
//! On each OS, one more boot names no program — the interactive shell — and types a
//! script on its console ([`INTERACTIVE_INPUT`]): case `guest.OS.interactive_sh`, which
//! needs the shell's output and exit status (the console's input side, the tty). And one more
//! boot of the interactive shell on each OS runs in tmux, typed on key by key, job control
//! included: `tmux_tier.rs`, case `guest.OS.tmux_session`.
//!
//! The shell comparison of `tests/compare/` (bash and busybox `sh`, K42 against Linux) is
//! part of this tier too: `compare_tier.rs`, cases `compare.OS.SCRIPT.SHELL`.
//!
//! `../guest.rs` finds, builds and packs the programs and splits the console by
//! program; the boot goes through `boot.rs`.

use super::boot::{boot, boot_typed};
use super::compare_tier;
use super::report::Report;
use super::tmux_tier;
use super::{Context, REASON_LINES};
use crate::cli::Os;
use crate::guest::{self, CaseVerdict};
use crate::qemu::logs_hint;
use crate::{kernel, linux};
use k42_abi::runner;

/// The guest programs the Linux personality runs on K42 so far (issue #4); each of the
/// others needs a file system, fork or a shell first.
const K42_READY: [&str; 43] = [
    "creds",
    "mount",
    "exec_image",
    "personality",
    "tty",
    "files",
    "env",
    "loader-pie",
    "exec",
    "pipes",
    "fork",
    "wait",
    "pipes_fork",
    "busybox",
    "clock",
    "signals",
    "session",
    "fifo",
    "jobctl",
    "sigstop",
    "mmap_file",
    "threads",
    "hello-glibc",
    "procfs",
    "dynamic-dyn",
    "dynamic-nopie-dyn",
    "dynamic-musl-dyn",
    "procfs2",
    "files2",
    "rlimits",
    "statfs",
    "xattr",
    "sched",
    "vectored",
    "memlock",
    "usage",
    "sendfile",
    "epoll",
    "waitmask",
    "waittime",
    "eventfd",
    "timerfd",
    "signalfd",
];
/// Whether guest program `name` runs on K42: listed in [`K42_READY`], or the glibc build of a
/// listed musl program (`guest::discover`).
fn ready_on_k42(program: &guest::Program) -> bool {
    let name = program.name.as_str();
    K42_READY.contains(&name)
        || (program.kind == guest::Kind::Glibc
            && name
                .strip_suffix(guest::GLIBC_NAME_SUFFIX)
                .is_some_and(|base| K42_READY.contains(&base)))
}

/// Why the other guest programs are skipped on K42 for now.
const K42_GUEST_SKIP: &str = "not in the K42 list of `xtask/src/test/guest_tier.rs` yet";

/// What is typed on the interactive shell's console, and what its run must show: the lines the
/// shell and the commands it started printed (none of them the echo of what was typed) — a
/// builtin's arithmetic, a pipeline of two external commands, an external command alone — and
/// the status `exit` gave. The shell has job control (as on a terminal): each command runs in a
/// process group of its own, made the terminal's foreground group while it runs.
const INTERACTIVE_INPUT: &[u8] =
    b"echo $((6*7))\necho piped | tr a-z A-Z | cat\nls -d /t?p\nexit 5\n";
const INTERACTIVE_LINES: [&str; 3] = ["42", "PIPED", "/tmp"];
const INTERACTIVE_STATUS: u8 = 5;

/// The guest tier: every program in one Linux boot; the K42-ready ones one K42 boot each;
/// the interactive shell on each OS.
pub(super) fn run(ctx: &Context<'_>, report: &mut Report) {
    for os in [Os::Linux, Os::K42] {
        if ctx.args.os.includes(os) {
            interactive_sh(ctx, report, os);
            tmux_tier::run(ctx, report, os);
        }
    }
    compare_tier::run(ctx, report);
    let programs = match guest::discover() {
        Ok(programs) => programs,
        Err(why) => return report.fail("guest.discover", &why),
    };
    let (built, failed) = match guest::build_all(&programs) {
        Ok(result) => result,
        Err(why) => return report.fail("guest.build", &why),
    };
    for os in [Os::Linux, Os::K42] {
        if !ctx.args.os.includes(os) {
            continue;
        }
        for (program, why) in &failed {
            report.fail(
                &format!("guest.{}.{}", os.name(), program.name),
                &why.to_string(),
            );
        }
    }
    if built.is_empty() {
        return;
    }
    if ctx.args.os.includes(Os::K42) {
        run_k42(ctx, report, &built);
    }
    if ctx.args.os.includes(Os::Linux) {
        run_linux(ctx, report, &built);
    }
}

/// Boots `os` with no program named (its interactive shell), types [`INTERACTIVE_INPUT`]
/// and checks the shell's answer and exit status.
fn interactive_sh(ctx: &Context<'_>, report: &mut Report, os: Os) {
    let case = format!("guest.{}.interactive_sh", os.name());
    if !report.wanted(&case) {
        return;
    }
    let label = format!("guest-{}-interactive-sh", os.name());
    let kernel = ctx.kernel(os);
    let outcome = kernel.and_then(|k| boot_typed(ctx, os, &k, None, INTERACTIVE_INPUT, &label));
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(why) => return report.fail(&case, &why),
    };
    let console = String::from_utf8_lossy(&outcome.console);
    // The whole script is typed at once, and the terminal echoes what is typed ahead as it
    // arrives: an output line may come right after the echo of a line not yet read, on the
    // same line ("echo piped | t42"), so a line that ends with the output counts — and no
    // command typed ends with its own output (`ls -d /t?p` prints `/tmp`).
    let missing: Vec<&str> = INTERACTIVE_LINES
        .into_iter()
        .filter(|want| {
            !console
                .lines()
                .any(|l| l.trim_end_matches('\r').ends_with(want))
        })
        .collect();
    let status = outcome.status_line();
    match (outcome.problem(), missing.is_empty(), status) {
        (None, true, Some(INTERACTIVE_STATUS)) => report.pass(&case),
        (problem, _, _) => report.fail(
            &case,
            &format!(
                "expected the lines {INTERACTIVE_LINES:?} and status {INTERACTIVE_STATUS}; \
                 missing {missing:?}, status {status:?}{}; {}",
                problem.map(|p| format!(" ({p})")).unwrap_or_default(),
                logs_hint(&label)
            ),
        ),
    }
}

/// Each K42-ready program in a K42 boot of its own, as the run's program.
fn run_k42(ctx: &Context<'_>, report: &mut Report, built: &[guest::Built]) {
    let archive = match guest::archive(built) {
        Ok(archive) => archive,
        Err(why) => return report.fail("guest.k42.build", &why),
    };
    let kernel = match kernel::build() {
        Ok(kernel) => kernel,
        Err(why) => return report.fail("guest.k42.build", &why),
    };
    for b in built {
        let name = &b.program.name;
        if !ready_on_k42(&b.program) {
            report.skip(&format!("guest.k42.{name}"), K42_GUEST_SKIP);
            continue;
        }
        // A script runs under the shell, as the Linux driver runs it.
        let mut argv = match b.program.kind {
            guest::Kind::Shell => vec![runner::INTERACTIVE_SHELL.to_string()],
            _ => Vec::new(),
        };
        argv.push(b.program.install_path());
        argv.extend(b.program.args.iter().cloned());
        let label = format!("guest-k42-{name}");
        let outcome = match boot(ctx, Os::K42, &kernel, argv, vec![archive.clone()], &label) {
            Ok(outcome) => outcome,
            Err(why) => {
                report.fail(&format!("guest.k42.{name}"), &why);
                continue;
            }
        };
        let console = String::from_utf8_lossy(&outcome.console);
        let run = guest::parse_single(&console, outcome.status_line());
        judge(report, "guest.k42", name, &run, outcome.problem(), &label);
    }
}

/// Every program in one Linux boot, under the driver script.
fn run_linux(ctx: &Context<'_>, report: &mut Report, built: &[guest::Built]) {
    let os = Os::Linux;
    let prefix = format!("guest.{}", os.name());
    let Some(vmlinuz) = ctx.tools.vmlinuz.as_deref() else {
        return report.fail(&format!("{prefix}.boot"), "no Linux kernel image");
    };
    let image = linux::kernel_image(vmlinuz);
    let archive = match guest::archive(built) {
        Ok(archive) => archive,
        Err(why) => return report.fail(&format!("{prefix}.build"), &why),
    };
    let label = "guest-linux";
    let outcome = match boot(ctx, os, &image, guest::run_all_argv(), vec![archive], label) {
        Ok(outcome) => outcome,
        Err(why) => return report.fail(&format!("{prefix}.boot"), &why),
    };
    let names: Vec<String> = built.iter().map(|b| b.program.name.clone()).collect();
    let console = String::from_utf8_lossy(&outcome.console);
    let runs = guest::parse(&console, &names);
    let boot_problem = outcome.problem();
    for (name, run) in names.iter().zip(&runs) {
        judge(report, &prefix, name, run, boot_problem.clone(), label);
    }
    if let Some(problem) = boot_problem
        && runs.iter().all(|r| r.status.is_some())
    {
        report.fail(
            &format!("{prefix}.boot"),
            &format!("{problem}; {}", logs_hint(label)),
        );
    }
}

/// The verdicts of one program's run: its cases, and a failure of its own if it did not run,
/// did not finish, printed no result, or failed without a failed case.
fn judge(
    report: &mut Report,
    prefix: &str,
    name: &str,
    run: &guest::ProgramRun,
    boot_problem: Option<String>,
    label: &str,
) {
    let program = format!("{prefix}.{name}");
    let mut case_failed = false;
    for (case, verdict) in &run.cases {
        let full = format!("{program}.{case}");
        match verdict {
            CaseVerdict::Ok => report.pass(&full),
            CaseVerdict::Failed(why) => {
                case_failed = true;
                report.fail(&full, why);
            }
            CaseVerdict::Skipped(why) => report.skip(&full, why),
        }
    }
    let tail = || {
        let lines: Vec<&str> = run.output.lines().collect();
        match lines[lines.len().saturating_sub(REASON_LINES)..].join("\n") {
            text if text.trim().is_empty() => "(none)".to_string(),
            text => text,
        }
    };
    let problem = if !run.began {
        Some(format!(
            "did not run ({})",
            boot_problem
                .clone()
                .unwrap_or_else(|| "the driver never reached it".into())
        ))
    } else if run.status.is_none() {
        Some(format!(
            "did not finish ({})",
            boot_problem.clone().unwrap_or_else(|| "no end line".into())
        ))
    } else if let (true, Some(status)) = (run.cases.is_empty(), run.status) {
        Some(format!("printed no result line (exit status {status})"))
    } else if let (Some(status @ 1..), false) = (run.status, case_failed) {
        Some(format!("exited with status {status} though no case failed"))
    } else {
        None
    };
    if let Some(problem) = problem {
        report.fail(
            &program,
            &format!("{problem}; {}\nlast output:\n{}", logs_hint(label), tail()),
        );
    }
}
