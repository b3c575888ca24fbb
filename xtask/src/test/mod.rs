//! `cargo xtask test`: every tier in one command, one closing line.
//!
//! - lint: `cargo fmt --check` and clippy with `-D warnings` for the host crates and
//!   for the kernel target, one case each (`lint.rs`), and `lint.syscall_map`: the table of
//!   where each Linux call runs against the code (`syscall_map.rs`);
//! - host: `cargo test` of the host crates, counted from libtest's `test result:`
//!   lines, each failed test reported by name (`host.rs`, `libtest.rs`);
//! - kernel: K42 booted with the built-in `ktest` entry, every result line on the
//!   console a case `kernel.NAME`; and one boot each with `ktest-fault` and
//!   `ktest-overflow`, which must end in the exception report and the kernel-failure
//!   verdict (`kernel.exception_report`, `kernel.stack_overflow_report`)
//!   (`kernel_tier.rs`);
//! - guest: the programs of `tests/guest/` in one Linux boot (`../guest.rs`), cases
//!   `guest.linux.PROGRAM.CASE`; on K42 each program is skipped until the Linux
//!   personality lands (`guest_tier.rs`); and the shell comparison of `tests/compare/`
//!   under bash and busybox `sh`, K42's transcripts against Linux's, cases
//!   `compare.OS.SCRIPT.SHELL` (`compare_tier.rs`, `../compare.rs`); and on each OS the
//!   interactive shell typed on under tmux, job control included, case
//!   `guest.OS.tmux_session` (`tmux_tier.rs`);
//! - bench: every benchmark program of `bench/` on Linux with tiny counts, each
//!   result line checked for form and plausibility (no timing threshold); K42's
//!   banner figures the benchmarks read (`bench_tier.rs`).
//!
//! Every boot has a time limit, so a hang fails the run with a message instead of
//! blocking CI (`boot.rs`). The run ends with `N passed, M failed` (`, K skipped`
//! when K > 0), each failure's name and reason just above it, and a non-zero exit on
//! any failure. The cases are counted in `report.rs`; `cargo.rs` runs the cargo
//! commands of the lint and host tiers.

mod bench_tier;
mod boot;
mod cargo;
mod compare_tier;
mod guest_tier;
mod host;
mod kernel_tier;
mod libtest;
mod lint;
mod report;
mod syscall_map;
mod tmux_tier;

use std::time::Instant;

use crate::cli::{Os, TestArgs, Tier};
use crate::prereq::{self, Tools};

use report::Report;

/// Exit status of `cargo xtask test` when a case failed.
const TEST_FAILURE: i32 = 1;
/// Lines of a command's output kept as a failure's reason.
const REASON_LINES: usize = 20;

/// What the boot tiers share.
struct Context<'a> {
    args: &'a TestArgs,
    tools: Tools,
}

impl Context<'_> {
    /// The kernel image `os` boots: K42's built now, Debian's found by the prerequisites.
    fn kernel(&self, os: Os) -> Result<std::path::PathBuf, String> {
        match os {
            Os::K42 => crate::kernel::build(),
            Os::Linux => self
                .tools
                .vmlinuz
                .as_deref()
                .map(crate::linux::kernel_image)
                .ok_or_else(|| "no Linux kernel image".to_string()),
        }
    }
}

/// Runs the selected tiers; returns the exit status.
pub fn run(args: &TestArgs) -> Result<i32, String> {
    let tiers: Vec<Tier> = Tier::ALL
        .into_iter()
        .filter(|t| args.tier.is_empty() || args.tier.contains(t))
        .collect();
    let mut report = Report {
        filter: args.filter.clone(),
        ..Report::default()
    };
    let has = |t: Tier| tiers.contains(&t);
    let linux_guests = has(Tier::Guest) && args.os.includes(Os::Linux);
    let linux_bench = has(Tier::Bench) && args.os.includes(Os::Linux);
    let k42_guests = has(Tier::Guest) && args.os.includes(Os::K42);
    let k42_bench = has(Tier::Bench) && args.os.includes(Os::K42);
    let needs = prereq::Needs {
        boot: has(Tier::Kernel) || has(Tier::Guest) || has(Tier::Bench),
        linux: linux_guests || linux_bench,
        glibc: has(Tier::Guest),
        kernel_target: has(Tier::Lint) || has(Tier::Kernel) || k42_guests || k42_bench,
        lint_tools: has(Tier::Lint),
        iso: has(Tier::Kernel),
    };
    let tools = prereq::ensure(needs).and_then(|mut tools| {
        if has(Tier::Guest) {
            prereq::ensure_tmux(&mut tools)?;
        }
        Ok(tools)
    });
    let tools = match tools {
        Ok(tools) => Some(tools),
        Err(why) => {
            report.fail("setup.prerequisites", &why);
            None
        }
    };

    let mut times = Vec::new();
    for tier in tiers {
        let start = Instant::now();
        let before = report.counts();
        eprintln!("xtask: === tier {} ===", tier.name());
        match (tier, &tools) {
            (Tier::Lint, _) => lint::run(&mut report),
            (Tier::Host, _) => host::run(&mut report, args.filter.as_deref()),
            (Tier::Kernel, Some(tools)) if args.os.includes(Os::K42) => {
                kernel_tier::run(
                    &Context {
                        args,
                        tools: tools.clone(),
                    },
                    &mut report,
                );
            }
            (Tier::Guest, Some(tools)) => {
                guest_tier::run(
                    &Context {
                        args,
                        tools: tools.clone(),
                    },
                    &mut report,
                );
            }
            (Tier::Bench, Some(tools)) => {
                bench_tier::run(
                    &Context {
                        args,
                        tools: tools.clone(),
                    },
                    &mut report,
                );
            }
            (Tier::Kernel | Tier::Guest | Tier::Bench, _) => {}
        }
        let after = report.counts();
        let took = start.elapsed();
        eprintln!(
            "xtask: tier {}: {} passed, {} failed, {} skipped in {:.1} s",
            tier.name(),
            after.0 - before.0,
            after.1 - before.1,
            after.2 - before.2,
            took.as_secs_f64()
        );
        times.push(format!("{} {:.1} s", tier.name(), took.as_secs_f64()));
    }

    println!();
    println!("tier times: {}", times.join(", "));
    for (name, why) in &report.failed {
        println!("FAILED {name}:");
        for line in why.lines() {
            println!("    {line}");
        }
    }
    let (passed, failed, skipped) = report.counts();
    if skipped > 0 {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("{passed} passed, {failed} failed");
    }
    Ok(if failed > 0 { TEST_FAILURE } else { 0 })
}
