//! The bench tier: the sanity check of `cargo xtask bench`'s programs, with no
//! timing threshold. Every program of `bench/` runs once on Linux with the
//! smallest iteration counts (`catalog::Scale::Sanity`) in one boot, and each
//! expected result is a case `bench.linux.PROGRAM.NAME` that passes when its JSON
//! line is well formed, has the expected name, unit and iteration count, and
//! plausible figures (finite, > 0, min <= median <= max); a program that did not
//! run or exited non-zero fails as `bench.linux.PROGRAM`. On K42, one boot checks
//! that the banner figures the benchmarks read (`bench.k42.footprint`) are still
//! there, and each program is skipped until the Linux personality lands.
//!
//! The programs and the checks are `../bench/`'s own (`programs.rs`, `boots.rs`,
//! `record.rs`); the boots go through `boot.rs`.

use super::Context;
use super::boot::{boot, boot_medium};
use super::report::Report;
use crate::bench::catalog::{self, Scale};
use crate::bench::{boots, programs};
use crate::cli::{self, Os};
use crate::qemu::{self, logs_hint};
use crate::{kernel, linux, paths, rootfs};

/// Why the benchmark programs are skipped on K42 for now.
const K42_SKIP: &str = "needs the Linux personality (issue #4)";

/// The bench tier.
pub(super) fn run(ctx: &Context<'_>, report: &mut Report) {
    if ctx.args.os.includes(Os::K42) {
        k42_footprint(ctx, report);
        for program in catalog::programs() {
            report.skip(&format!("bench.k42.{program}"), K42_SKIP);
        }
    }
    if ctx.args.os.includes(Os::Linux) {
        linux_sanity(ctx, report);
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
    let (checked, problems) = boots::collect(&outcome, &plan);
    for ((step, expected), (_, good)) in plan.steps.iter().zip(&plan.expected).zip(&checked) {
        let mine: Vec<&String> = problems
            .iter()
            .filter(|p| p.starts_with(&format!("{}:", step.name)))
            .collect();
        for want in expected {
            let case = format!("{prefix}.{}.{}", step.name, want.name);
            if good.iter().any(|r| r.name == want.name) {
                report.pass(&case);
            } else {
                let why = mine
                    .iter()
                    .find(|p| p.contains(&want.name))
                    .or(mine.first())
                    .map_or("no result line".to_string(), |p| p.to_string());
                report.fail(&case, &format!("{why}; {}", logs_hint(label)));
            }
        }
        // A step-level problem (did not run, non-zero exit, stray line) fails the program.
        let step_level: Vec<&&String> = mine
            .iter()
            .filter(|p| !expected.iter().any(|w| p.contains(&w.name)))
            .collect();
        if !step_level.is_empty() {
            let why: Vec<&str> = step_level.iter().map(|p| p.as_str()).collect();
            report.fail(
                &format!("{prefix}.{}", step.name),
                &format!("{}; {}", why.join("\n"), logs_hint(label)),
            );
        }
    }
    if let Some(problem) = outcome.problem() {
        report.fail(
            &format!("{prefix}.boot"),
            &format!("{problem}; {}", logs_hint(label)),
        );
    }
}

/// K42 booted to its banner: the free-frames line `cargo xtask bench` reads.
fn k42_footprint(ctx: &Context<'_>, report: &mut Report) {
    let case = "bench.k42.footprint";
    let label = "bench-k42-footprint";
    let result = (|| {
        let image = kernel::build()?;
        let initrd = paths::work("test")?.join(format!("{label}.cpio"));
        // No argv: K42 prints its banner and powers off, as in the benchmarks.
        rootfs::build(&ctx.tools.busybox, &rootfs::Spec::default(), &initrd)?;
        let medium = qemu::Medium::Direct {
            kernel: image,
            initrd,
            cmdline: qemu::cmdline(Os::K42, cli::DEFAULT_LOG, &[]),
        };
        boot_medium(ctx, Os::K42, medium, label, cli::DEFAULT_SMP)
    })();
    match result {
        Err(why) => report.fail(case, &why),
        Ok(outcome) => match (
            outcome.problem(),
            crate::bench::footprint_of(&outcome.log),
            outcome.init_start,
        ) {
            (Some(problem), _, _) => report.fail(case, &format!("{problem}; {}", logs_hint(label))),
            (None, None, _) => report.fail(
                case,
                &format!(
                    "no `frames: N MiB free of M MiB managed` line; {}",
                    logs_hint(label)
                ),
            ),
            (None, _, None) => {
                report.fail(case, &format!("no init-start marker; {}", logs_hint(label)));
            }
            (None, Some((free, managed)), Some(_)) if free == 0 || free > managed => report.fail(
                case,
                &format!("implausible: {free} MiB free of {managed} MiB managed"),
            ),
            (None, Some(_), Some(_)) => report.pass(case),
        },
    }
}
