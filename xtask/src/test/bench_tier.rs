//! The bench tier: the sanity check of `cargo xtask bench`'s programs, with no
//! timing threshold. Every program of `bench/` runs once on Linux with the
//! smallest iteration counts (`catalog::Scale::Sanity`) in one boot, and each
//! expected result is a case `bench.linux.PROGRAM.NAME` that passes when its JSON
//! line is well formed, has the expected name, unit and iteration count, and
//! plausible figures (finite, > 0, min <= median <= max); a program that did not
//! run or exited non-zero fails as `bench.linux.PROGRAM`. Each benchmark's line must
//! carry Linux's kernel events per operation (`bench.linux.PROGRAM.NAME.counters`: every
//! Linux counter of `catalog::EVENT_COLUMNS`, from `/proc`).
//!
//! On K42, each program of `bench/` that K42 runs (`catalog::runs_on_k42`: the
//! syscalls, pipes, context switches, fork/exec, mmap and SDET) boots on its own as the
//! run's program with the same counts and vCPUs, as the benchmarks run it, and is
//! checked the same way (`bench.k42.PROGRAM.NAME`, `bench.k42.PROGRAM`), and each line
//! must carry the kernel's events per operation (`bench.k42.PROGRAM.NAME.counters`:
//! every K42 counter of `catalog::EVENT_COLUMNS`, some kernel entries); the others are
//! skipped with the reason (`catalog::k42_not_yet`: meminfo, since K42 reads its free
//! memory from its banner). One more boot runs the native
//! `ppcbench` as the benchmarks do and checks that the banner figures they read are
//! still there (`bench.k42.footprint`), that each figure's lines are well formed
//! (`bench.k42.ppcbench.FIGURE`: the figure in ns and its per-call counters), and that
//! the counters K42's design fixes hold (`bench.k42.ppcbench.FIGURE.design`: a PPC round
//! trip is 2 kernel entries, 2 address-space switches and 1 upcall; the upcall round trip 1
//! kernel entry, no switch and 1 upcall) — counts, not timings.
//!
//! The programs and the checks are `../bench/`'s own (`programs.rs`, `boots.rs`,
//! `record.rs`, `catalog.rs`); the boots go through `boot.rs`.

use std::time::Duration;

use super::Context;
use super::boot::boot;
use super::report::Report;
use crate::bench::catalog::{self, Scale};
use crate::bench::results::{Mode, Purpose};
use crate::bench::{boots, programs, record};
use crate::cli::{self, Os};
use crate::qemu::logs_hint;
use crate::{kernel, linux};

/// vCPUs of the shell boot: the `-icount` boots' count, the one every OS is timed at.
const PROMPT_SMP: u32 = crate::bench::ICOUNT_SMP;
/// The run number of the shell boot: 0, apart from the benchmarks' runs (1, 2 …), so its
/// logs (`target/k42/logs/bench-0-…`) do not take the place of theirs.
const SANITY_RUN: u32 = 0;

/// The bench tier.
pub(super) fn run(ctx: &Context<'_>, report: &mut Report) {
    if ctx.args.os.includes(Os::K42) {
        k42_native(ctx, report);
        k42_programs(ctx, report);
    }
    if ctx.args.os.includes(Os::Linux) {
        linux_sanity(ctx, report);
    }
    for os in [Os::Linux, Os::K42] {
        if ctx.args.os.includes(os) {
            shell_prompt(ctx, report, os);
        }
    }
}

/// `os`'s shell boot, as `cargo xtask bench` boots it for the time to a shell prompt (one
/// vCPU, plain TCG): case `bench.OS.prompt` passes when the prompt came on the console (a
/// time was taken — whatever it is) and the typed `exit` ended the run as planned.
fn shell_prompt(ctx: &Context<'_>, report: &mut Report, os: Os) {
    let case = format!("bench.{}.prompt", os.name());
    if !report.wanted(&case) {
        return;
    }
    let kernel = ctx.kernel(os);
    let initrd = crate::paths::work("bench-tier")
        .and_then(|dir| crate::bench::shell_initramfs(&ctx.tools, &dir));
    let (kernel, initrd) = match (kernel, initrd) {
        (Ok(kernel), Ok(initrd)) => (kernel, initrd),
        (Err(why), _) | (_, Err(why)) => return report.fail(&case, &why),
    };
    let target = boots::Target {
        os,
        kernel: &kernel,
        initrd,
        work: boots::Work::Shell,
        purpose: Purpose::Prompt,
        smp: PROMPT_SMP,
    };
    let settings = boots::Settings {
        qboot: ctx.tools.qboot.clone(),
        mem: cli::DEFAULT_MEM.to_string(),
        timeout: Duration::from_secs(ctx.args.timeout),
        verbose: ctx.args.verbose,
    };
    let boot = boots::boot(&target, Mode::Wall, SANITY_RUN, &settings);
    match (boot.prompt_s, boot.problems.is_empty()) {
        (Some(_), true) => report.pass(&case),
        _ => report.fail(
            &case,
            &format!(
                "expected the prompt {:?} and a clean end; {}",
                crate::bench::footprint::SHELL_PROMPT,
                if boot.problems.is_empty() {
                    "no prompt time".to_string()
                } else {
                    boot.problems.join("\n")
                }
            ),
        ),
    }
}

/// Every program with tiny counts in one Linux boot, each result a case.
fn linux_sanity(ctx: &Context<'_>, report: &mut Report) {
    let prefix = "bench.linux";
    let installs = match programs::build() {
        Ok(installs) => installs,
        Err(why) => return report.fail(&format!("{prefix}.build"), &why),
    };
    let parts = programs::Parts {
        micro: true,
        sdet: true,
    };
    let plan = programs::plan(Scale::Sanity, cli::DEFAULT_SMP, parts, &|_| true);
    let archive = match programs::archive(&installs, &plan) {
        Ok(archive) => archive,
        Err(why) => return report.fail(&format!("{prefix}.build"), &why),
    };
    let Some(vmlinuz) = ctx.tools.vmlinuz.as_deref() else {
        return report.fail(&format!("{prefix}.boot"), "no Linux kernel image");
    };
    let label = "bench-sanity-linux";
    let image = linux::kernel_image(vmlinuz);
    let outcome = match boot(
        ctx,
        Os::Linux,
        &image,
        programs::driver_argv(),
        vec![archive],
        label,
    ) {
        Ok(outcome) => outcome,
        Err(why) => return report.fail(&format!("{prefix}.boot"), &why),
    };
    let collected = boots::collect(&outcome, &plan);
    for (program, records) in &collected.0 {
        // meminfo's lines are read once, not around timed batches.
        if program == catalog::MEMINFO_PROGRAM {
            continue;
        }
        for r in records {
            let case = format!("{prefix}.{program}.{}.counters", r.name);
            match counted(r, Os::Linux) {
                Ok(()) => report.pass(&case),
                Err(why) => report.fail(&case, &format!("{why}; {}", logs_hint(label))),
            }
        }
    }
    judge(report, prefix, &plan, collected, label);
    if let Some(problem) = outcome.problem() {
        report.fail(
            &format!("{prefix}.boot"),
            &format!("{problem}; {}", logs_hint(label)),
        );
    }
}

/// Each program K42 runs, with tiny counts, in a boot of its own as the run's program
/// (as `cargo xtask bench` runs it); the others skipped with the reason.
fn k42_programs(ctx: &Context<'_>, report: &mut Report) {
    let prefix = "bench.k42";
    let parts = programs::Parts {
        micro: true,
        sdet: true,
    };
    let plans = programs::k42_plans(Scale::Sanity, cli::DEFAULT_SMP, parts, &|_| true);
    let built = programs::build()
        .and_then(|installs| programs::programs_archive(&installs))
        .and_then(|archive| Ok((archive, kernel::build()?)));
    for program in catalog::programs() {
        let case = format!("{prefix}.{program}");
        let Some(plan) = plans.iter().find(|p| p.steps[0].name == program) else {
            let why = catalog::k42_not_yet(program).unwrap_or("no benchmark to run");
            report.skip(&case, why);
            continue;
        };
        let (archive, kernel) = match &built {
            Ok(built) => built,
            Err(why) => {
                report.fail(&case, why);
                continue;
            }
        };
        let label = format!("bench-sanity-k42-{program}");
        let argv = plan.steps[0].argv.clone();
        let outcome = match boot(ctx, Os::K42, kernel, argv, vec![archive.clone()], &label) {
            Ok(outcome) => outcome,
            Err(why) => {
                report.fail(&case, &why);
                continue;
            }
        };
        // A boot that did not end as planned is the program's own problem.
        let (checked, mut problems) = boots::collect_alone(&outcome, plan);
        problems.extend(outcome.problem().map(|p| format!("{program}: {p}")));
        for (_, records) in &checked {
            for r in records {
                let case = format!("{prefix}.{program}.{}.counters", r.name);
                match counted(r, Os::K42) {
                    Ok(()) => report.pass(&case),
                    Err(why) => report.fail(&case, &format!("{why}; {}", logs_hint(&label))),
                }
            }
        }
        judge(report, prefix, plan, (checked, problems), &label);
    }
}

/// Whether a result line of `os` carries the kernel's events per operation (`bench/bench.h`
/// reads them around the timed batches: on K42 the personality's `/proc/k42/counters`, on
/// Linux `/proc/stat`, `/proc/vmstat` and `/proc/interrupts`): every counter the catalog
/// shows for `os`, and on K42 some kernel entries (every benchmark's operation enters the
/// kernel; Linux has no such counter, and any of its counts may be 0 for an operation).
/// Counts, not timings; [`record::check`] already found them finite and not negative.
fn counted(r: &record::Record, os: Os) -> Result<(), String> {
    let counters = r.counters.as_ref().ok_or(match os {
        Os::K42 => "no \"counters\" on the line: /proc/k42/counters could not be read",
        Os::Linux => {
            "no \"counters\" on the line: /proc/stat, /proc/vmstat and \
                      /proc/interrupts could not be read"
        }
    })?;
    for name in catalog::event_counters(os) {
        if !counters.contains_key(name) {
            return Err(format!("no counter {name} in {counters:?}"));
        }
    }
    match (os, counters.get(catalog::KERNEL_ENTRIES)) {
        (Os::Linux, _) => Ok(()),
        (Os::K42, Some(entries)) if *entries > 0.0 => Ok(()),
        (Os::K42, _) => Err(format!("no kernel entries per operation: {counters:?}")),
    }
}

/// The cases of `plan`'s steps from what `boots::collect` (or `collect_alone`) found:
/// `PREFIX.PROGRAM.NAME` per expected result, and `PREFIX.PROGRAM` for a problem of
/// the program's own (did not run, non-zero exit, a stray or malformed line).
fn judge(
    report: &mut Report,
    prefix: &str,
    plan: &programs::Plan,
    (checked, problems): boots::Collected,
    label: &str,
) {
    for ((step, expected), (_, good)) in plan.steps.iter().zip(&plan.expected).zip(&checked) {
        let name = &step.name;
        let about = |p: &str, want: &str| {
            p.starts_with(&format!("{name}: {want}: "))
                || p == format!("{name}: no result line for {want}")
        };
        let step_level: Vec<&str> = problems
            .iter()
            .filter(|p| p.starts_with(&format!("{name}:")))
            .filter(|p| !expected.iter().any(|w| about(p, &w.name)))
            .map(String::as_str)
            .collect();
        for want in expected {
            let case = format!("{prefix}.{name}.{}", want.name);
            if good.iter().any(|r| r.name == want.name) {
                report.pass(&case);
            } else {
                // Its own problems, and why the program stopped, if it did.
                let mut why: Vec<&str> = problems
                    .iter()
                    .map(String::as_str)
                    .filter(|p| about(p, &want.name))
                    .collect();
                why.extend(step_level.first());
                if why.is_empty() {
                    why.push("no result line");
                }
                report.fail(&case, &format!("{}; {}", why.join("\n"), logs_hint(label)));
            }
        }
        if !step_level.is_empty() {
            report.fail(
                &format!("{prefix}.{name}"),
                &format!("{}; {}", step_level.join("\n"), logs_hint(label)),
            );
        }
    }
}

/// K42 booted with `ppcbench`, as in the benchmarks: the free-frames line of its
/// banner, then each figure's lines and design counts.
fn k42_native(ctx: &Context<'_>, report: &mut Report) {
    let footprint = "bench.k42.footprint";
    let prefix = format!("bench.k42.{}", catalog::PPCBENCH_PROGRAM);
    let label = "bench-k42-ppcbench";
    let outcome = match kernel::build().and_then(|image| {
        boot(
            ctx,
            Os::K42,
            &image,
            vec![catalog::PPCBENCH_PROGRAM.to_string()],
            Vec::new(),
            label,
        )
    }) {
        Ok(outcome) => outcome,
        Err(why) => {
            report.fail(footprint, &why);
            return report.fail(&prefix, &why);
        }
    };
    match (
        outcome.problem(),
        crate::bench::footprint_of(&outcome.log),
        outcome.init_start,
    ) {
        (Some(problem), _, _) => {
            report.fail(footprint, &format!("{problem}; {}", logs_hint(label)));
        }
        (None, None, _) => report.fail(
            footprint,
            &format!(
                "no `frames: N MiB free of M MiB managed` line; {}",
                logs_hint(label)
            ),
        ),
        (None, _, None) => {
            report.fail(
                footprint,
                &format!("no init-start marker; {}", logs_hint(label)),
            );
        }
        (None, Some((free, managed)), Some(_)) if free == 0 || free > managed => report.fail(
            footprint,
            &format!("implausible: {free} MiB free of {managed} MiB managed"),
        ),
        (None, Some(_), Some(_)) => report.pass(footprint),
    }

    let (records, problems) = boots::collect_native(&outcome);
    // Every figure the catalog requires or the program printed, in that order.
    let mut figures: Vec<&str> = catalog::NATIVE
        .iter()
        .filter(|n| n.required)
        .map(|n| n.name)
        .collect();
    for r in &records {
        let figure = record::native_figure(&r.name);
        if !figures.contains(&figure) {
            figures.push(figure);
        }
    }
    let about = |figure: &str, p: &boots::NativeProblem| p.figure.as_deref() == Some(figure);
    for figure in &figures {
        let case = format!("{prefix}.{figure}");
        let mine: Vec<&str> = problems
            .iter()
            .filter(|p| about(figure, p))
            .map(|p| p.text.as_str())
            .collect();
        if mine.is_empty() {
            report.pass(&case);
        } else {
            report.fail(&case, &format!("{}; {}", mine.join("\n"), logs_hint(label)));
        }
        if let Some(native) = catalog::native(figure) {
            let case = format!("{case}.design");
            match record::check_design(&records, native) {
                Ok(()) => report.pass(&case),
                Err(why) => report.fail(&case, &format!("{why}; {}", logs_hint(label))),
            }
        }
    }
    // What no figure owns (a malformed line, a non-zero exit) fails the program.
    let mut rest: Vec<String> = problems
        .iter()
        .filter(|p| !figures.iter().any(|f| about(f, p)))
        .map(|p| p.text.clone())
        .collect();
    if outcome.status_line().is_some() && outcome.runner_status() != 0 {
        rest.push(format!("exited with status {}", outcome.runner_status()));
    }
    if !rest.is_empty() {
        report.fail(
            &prefix,
            &format!("{}; {}", rest.join("\n"), logs_hint(label)),
        );
    }
}
