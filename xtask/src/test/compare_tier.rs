//! The shell comparison cases of the guest tier (issue #5): every script of `tests/compare/`
//! under bash and busybox `sh` (`../compare.rs`), all of them in one Linux boot and again in
//! one K42 boot, under the same driver script. Cases:
//!
//! - `compare.linux.SCRIPT.SHELL`: the run finished on Linux and, when the script carries its
//!   transcript literally, matches it;
//! - `compare.k42.SCRIPT.SHELL`: K42's transcript (output, then exit status) is Linux's, byte
//!   for byte — or, in a run with `--os k42` alone, the literal one; skipped, with the reason,
//!   for the scripts of [`K42_SKIP`], which K42 does not run yet (Linux still does).
//!
//! A difference is reported with its first differing line and both boots' log paths.
//! `guest_tier.rs` calls [`run`]; the boots go through `boot.rs`.

use super::boot::boot;
use super::report::Report;
use super::{Context, REASON_LINES};
use crate::cli::Os;
use crate::compare::{self, Run};
use crate::qemu::logs_hint;
use crate::{kernel, linux};

/// Runs K42 cannot make yet, with why: a script's name (under every shell) or one run's
/// `SCRIPT.SHELL`. They run on Linux and are reported skipped on K42 — not run there: a shell
/// waiting for a signal that never comes would hang the whole boot.
/// Empty since job control (issue #5) made `jobs` run on K42.
const K42_SKIP: &[(&str, &str)] = &[];

/// Why `run` is skipped on K42, if it is.
fn k42_skip(run: &Run<'_>) -> Option<&'static str> {
    K42_SKIP
        .iter()
        .find(|(name, _)| *name == run.script.name || *name == run.name())
        .map(|(_, why)| *why)
}

/// Names of the two boots, for their logs in `target/k42/logs/`.
const LINUX_LABEL: &str = "compare-linux";
const K42_LABEL: &str = "compare-k42";

/// The comparison cases on the OSes the run includes.
pub(super) fn run(ctx: &Context<'_>, report: &mut Report) {
    let scripts = match compare::discover() {
        Ok(scripts) => scripts,
        Err(why) => return report.fail("compare.discover", &why),
    };
    let runs = compare::runs(&scripts);
    if let Some((name, _)) = K42_SKIP.iter().find(|(name, _)| {
        !runs
            .iter()
            .any(|r| r.script.name == *name || r.name() == *name)
    }) {
        return report.fail(
            "compare.skip_list",
            &format!("K42_SKIP names {name}, which is no script or run of tests/compare/"),
        );
    }
    let case = |os: Os, run: &Run<'_>| format!("compare.{}.{}", os.name(), run.name());
    let wanted =
        |os: Os| ctx.args.os.includes(os) && runs.iter().any(|r| report.wanted(&case(os, r)));
    let (want_linux, want_k42) = (wanted(Os::Linux), wanted(Os::K42));

    // Linux first: its transcripts are what K42's are compared with.
    let linux = if want_linux || (want_k42 && ctx.args.os.includes(Os::Linux)) {
        linux_transcripts(ctx, report, &scripts, &runs)
    } else {
        None
    };
    if want_linux {
        for (run, got) in runs.iter().zip(linux.iter().flatten()) {
            judge_linux(report, &case(Os::Linux, run), run, got.as_deref());
        }
    }
    if !want_k42 {
        return;
    }
    let mut ready = Vec::new();
    for run in &runs {
        match k42_skip(run) {
            Some(why) => report.skip(&case(Os::K42, run), why),
            None => ready.push(run.clone()),
        }
    }
    let Some(k42) = k42_transcripts(ctx, report, &scripts, &ready) else {
        return;
    };
    for (run, got) in ready.iter().zip(&k42) {
        // Linux's transcript of the same run, when Linux ran in this test run.
        let reference = linux.as_ref().map(|all| {
            runs.iter()
                .position(|r| r.name() == run.name())
                .and_then(|i| all[i].clone())
        });
        judge_k42(report, &case(Os::K42, run), run, got.as_deref(), reference);
    }
}

/// Boots Linux once with every run; each run's transcript (`None` if it did not finish), or
/// `None` (reported) if the boot could not be made.
fn linux_transcripts(
    ctx: &Context<'_>,
    report: &mut Report,
    scripts: &[compare::Script],
    runs: &[Run<'_>],
) -> Option<Vec<Option<String>>> {
    let Some(vmlinuz) = ctx.tools.vmlinuz.as_deref() else {
        report.fail("compare.linux.boot", "no Linux kernel image");
        return None;
    };
    boot_driver(
        ctx,
        report,
        Os::Linux,
        &linux::kernel_image(vmlinuz),
        scripts,
        runs,
    )
}

/// Boots K42 once with `runs`.
fn k42_transcripts(
    ctx: &Context<'_>,
    report: &mut Report,
    scripts: &[compare::Script],
    runs: &[Run<'_>],
) -> Option<Vec<Option<String>>> {
    match kernel::build() {
        Ok(kernel) => boot_driver(ctx, report, Os::K42, &kernel, scripts, runs),
        Err(why) => {
            report.fail("compare.k42.build", &why);
            None
        }
    }
}

/// One boot of `os` running the driver over `runs`; a boot that ends badly is a failure of
/// its own (`compare.OS.boot`), besides the runs it cut short.
fn boot_driver(
    ctx: &Context<'_>,
    report: &mut Report,
    os: Os,
    kernel: &std::path::Path,
    scripts: &[compare::Script],
    runs: &[Run<'_>],
) -> Option<Vec<Option<String>>> {
    let label = label(os);
    let boot_case = format!("compare.{}.boot", os.name());
    let archive = match compare::archive(scripts, runs) {
        Ok(archive) => archive,
        Err(why) => {
            report.fail(&format!("compare.{}.build", os.name()), &why);
            return None;
        }
    };
    let outcome = match boot(
        ctx,
        os,
        kernel,
        compare::driver_argv(),
        vec![archive],
        label,
    ) {
        Ok(outcome) => outcome,
        Err(why) => {
            report.fail(&boot_case, &why);
            return None;
        }
    };
    let console = String::from_utf8_lossy(&outcome.console);
    let transcripts = compare::transcripts(&console, runs);
    if let Some(problem) = outcome.problem() {
        let tail: Vec<&str> = console.lines().collect();
        report.fail(
            &boot_case,
            &format!(
                "{problem}; {}\nlast output:\n{}",
                logs_hint(label),
                tail[tail.len().saturating_sub(REASON_LINES)..].join("\n")
            ),
        );
    }
    Some(transcripts)
}

fn label(os: Os) -> &'static str {
    match os {
        Os::Linux => LINUX_LABEL,
        Os::K42 => K42_LABEL,
    }
}

/// Linux's run: it must have finished, and match the script's literal transcript if any.
fn judge_linux(report: &mut Report, case: &str, run: &Run<'_>, got: Option<&str>) {
    let Some(got) = got else {
        return report.fail(
            case,
            &format!("did not finish on Linux; {}", logs_hint(LINUX_LABEL)),
        );
    };
    match run
        .expected()
        .and_then(|want| compare::first_difference(want, got))
    {
        None => report.pass(case),
        Some(difference) => report.fail(
            case,
            &format!(
                "Linux's transcript differs from the script's expected one; {}; {}",
                difference.describe("expected", "linux"),
                logs_hint(LINUX_LABEL)
            ),
        ),
    }
}

/// K42's run against Linux's (`reference`: `None` when Linux was not booted in this test run,
/// `Some(None)` when Linux's run did not finish), or the literal transcript without Linux.
fn judge_k42(
    report: &mut Report,
    case: &str,
    run: &Run<'_>,
    got: Option<&str>,
    reference: Option<Option<String>>,
) {
    let Some(got) = got else {
        return report.fail(
            case,
            &format!("did not finish on K42; {}", logs_hint(K42_LABEL)),
        );
    };
    let (want, source, logs) = match (reference, run.expected()) {
        (Some(Some(linux)), _) => (linux, "linux", format!("Linux: {}", logs_hint(LINUX_LABEL))),
        (Some(None), _) => {
            return report.fail(
                case,
                &format!(
                    "no Linux transcript to compare with (it did not finish on Linux); {}",
                    logs_hint(LINUX_LABEL)
                ),
            );
        }
        (None, Some(expected)) => (expected.to_string(), "expected", String::from("")),
        (None, None) => {
            return report.skip(
                case,
                "no Linux run to compare with (--os k42) and no literal transcript",
            );
        }
    };
    match compare::first_difference(&want, got) {
        None => report.pass(case),
        Some(difference) => report.fail(
            case,
            &format!(
                "K42's transcript differs from {source}'s; {}\nK42: {}{}{logs}",
                difference.describe(source, "k42"),
                logs_hint(K42_LABEL),
                if logs.is_empty() { "" } else { "\n" },
            ),
        ),
    }
}
