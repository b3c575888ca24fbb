//! The host tier: `cargo test` of every host crate, each libtest case counted and
//! each failed test reported by name.
//!
//! The command runs through `cargo.rs`; its output is read by `libtest.rs`; the
//! cases land in `report.rs`.

use super::cargo::{KERNEL_CRATES, cargo, diagnostics, run_merged};
use super::libtest::parse_libtest;
use super::report::Report;

/// The host tier: `cargo test` of every host crate.
pub(super) fn run(report: &mut Report, filter: Option<&str>) {
    let mut args = vec!["test", "--workspace", "--no-fail-fast"];
    for krate in KERNEL_CRATES {
        args.extend(["--exclude", krate]);
    }
    if let Some(filter) = filter {
        args.extend(["--", filter]);
    }
    eprintln!("xtask: host: cargo {}", args.join(" "));
    let (success, output) = match run_merged(cargo(&args)) {
        Ok(result) => result,
        Err(why) => return report.fail("host.cargo_test", &why),
    };
    let parsed = parse_libtest(&output);
    // Libtest already applied the filter: count what it reports.
    report.passed += parsed.passed;
    let filter = report.filter.take();
    for name in &parsed.ignored {
        report.skip(name, "ignored");
    }
    for (name, why) in &parsed.failed {
        report.fail(name, why);
    }
    report.filter = filter;
    eprintln!(
        "xtask: host: {} passed, {} failed, {} ignored in {} test binaries",
        parsed.passed,
        parsed.failed.len(),
        parsed.ignored.len(),
        parsed.binaries
    );
    if !success && parsed.failed.is_empty() {
        report.fail(
            "host.cargo_test",
            &format!(
                "`cargo {}` failed:\n{}",
                args.join(" "),
                diagnostics(&output)
            ),
        );
    }
}
