//! The guest tier: the programs of `tests/guest/` built and run in one Linux boot,
//! cases `guest.linux.PROGRAM.CASE`, each program that did not run or finish
//! cleanly a failure of its own; on K42 each program is skipped until the Linux
//! personality lands.
//!
//! `../guest.rs` finds, builds and packs the programs and splits the console by
//! program; the boot goes through `boot.rs`.

use super::boot::boot;
use super::report::Report;
use super::{Context, REASON_LINES};
use crate::cli::Os;
use crate::guest::{self, CaseVerdict};
use crate::linux;
use crate::qemu::logs_hint;

/// Why guest programs are skipped on K42 for now.
const K42_GUEST_SKIP: &str = "needs the Linux personality (issue #4)";

/// The guest tier: every program in one Linux boot; skipped on K42 for now.
pub(super) fn run(ctx: &Context<'_>, report: &mut Report) {
    let programs = match guest::discover() {
        Ok(programs) => programs,
        Err(why) => return report.fail("guest.discover", &why),
    };
    if ctx.args.os.includes(Os::K42) {
        for p in &programs {
            report.skip(&format!("guest.k42.{}", p.name), K42_GUEST_SKIP);
        }
    }
    if !ctx.args.os.includes(Os::Linux) {
        return;
    }
    let os = Os::Linux;
    let prefix = format!("guest.{}", os.name());
    let (built, failed) = match guest::build_all(&programs) {
        Ok(result) => result,
        Err(why) => return report.fail(&format!("{prefix}.build"), &why),
    };
    for (program, why) in &failed {
        report.fail(&format!("{prefix}.{}", program.name), &why.to_string());
    }
    if built.is_empty() {
        return;
    }
    let Some(vmlinuz) = ctx.tools.vmlinuz.as_deref() else {
        return report.fail(&format!("{prefix}.boot"), "no Linux kernel image");
    };
    let image = linux::kernel_image(vmlinuz);
    let archive = match guest::archive(&built) {
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
    if let Some(problem) = boot_problem
        && runs.iter().all(|r| r.status.is_some())
    {
        report.fail(
            &format!("{prefix}.boot"),
            &format!("{problem}; {}", logs_hint(label)),
        );
    }
}
