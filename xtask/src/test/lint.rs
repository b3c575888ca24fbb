//! The lint tier: `cargo fmt --check`, and clippy with `-D warnings` once for the
//! host crates and once for the kernel target, one case each; and `lint.syscall_map`, which
//! holds docs/linux-personality.md's table of where each Linux call runs to the personality's
//! syscall table and the kernel's calls (`syscall_map.rs`).
//!
//! The commands run through `cargo.rs`; the cases land in `report.rs`.

use super::cargo::{KERNEL_CRATES, cargo, diagnostics, run_merged};
use super::report::Report;
use super::syscall_map;
use crate::paths;

/// The lint tier: one case per command, then the syscall map's.
pub(super) fn run(report: &mut Report) {
    let mut host_clippy = vec!["clippy", "--workspace"];
    for krate in KERNEL_CRATES {
        host_clippy.extend(["--exclude", krate]);
    }
    host_clippy.extend(["--all-targets", "--", "-D", "warnings"]);
    let mut kernel_clippy = vec!["clippy"];
    for krate in KERNEL_CRATES {
        kernel_clippy.extend(["--package", krate]);
    }
    kernel_clippy.extend(["--target", paths::KERNEL_TARGET, "--", "-D", "warnings"]);
    let cases: [(&str, Vec<&str>); 3] = [
        ("lint.fmt", vec!["fmt", "--all", "--check"]),
        ("lint.clippy_host", host_clippy),
        ("lint.clippy_kernel", kernel_clippy),
    ];
    for (name, args) in cases {
        if !report.wanted(name) {
            continue;
        }
        eprintln!("xtask: {name}: cargo {}", args.join(" "));
        match run_merged(cargo(&args)) {
            Ok((true, _)) => report.pass(name),
            Ok((false, output)) => report.fail(
                name,
                &format!(
                    "`cargo {}` failed:\n{}",
                    args.join(" "),
                    diagnostics(&output)
                ),
            ),
            Err(why) => report.fail(name, &why),
        }
    }
    syscall_map::run(report);
}
