//! The native K42 programs (`user/bin/*`, on the runtime in `user/rt` and `user/sys`): built
//! with cargo for the kernel target, like the kernel (`kernel.rs`), and installed by `rootfs.rs`
//! in the base archive at `/k42/bin/NAME` (`k42_abi::kernel::NATIVE_BIN_DIR`), where the
//! kernel's loader finds them. They ride in the one initramfs both OSes boot; Linux ignores
//! them.

use std::path::PathBuf;
use std::process::Command;

use k42_abi::kernel::NATIVE_BIN_DIR;

use crate::{kernel, paths};

/// Each native program: its cargo package and its binary name (its name under `/k42/bin`).
pub const PROGRAMS: [(&str, &str); 12] = [
    ("k42-bootstrap", "bootstrap"),
    ("k42-console", "console"),
    ("k42-echo", "echo"),
    ("k42-ppcbench", "ppcbench"),
    ("k42-overflow", "overflow"),
    ("k42-spinner", "spinner"),
    ("k42-ticker", "ticker"),
    ("k42-utest", "utest"),
    ("k42-linux-personality", "linux"),
    ("k42-fs", "fs"),
    ("k42-procs", "procs"),
    ("k42-pipes", "pipes"),
];

/// Builds every native program in one cargo run; returns each one's path in the initramfs
/// and the built file.
pub fn build() -> Result<Vec<(String, PathBuf)>, String> {
    eprintln!(
        "xtask: building the native K42 programs ({}, {})",
        kernel::PROFILE,
        paths::KERNEL_TARGET
    );
    let mut cmd = Command::new(paths::cargo());
    cmd.args(["build", "--release", "--target", paths::KERNEL_TARGET]);
    for (package, _) in PROGRAMS {
        cmd.args(["--package", package]);
    }
    let status = cmd
        .current_dir(paths::root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the native K42 programs failed ({status})"
        ));
    }
    Ok(PROGRAMS
        .iter()
        .map(|(_, binary)| (format!("{NATIVE_BIN_DIR}/{binary}"), program_path(binary)))
        .collect())
}

/// Where the build leaves native program `binary`.
pub fn program_path(binary: &str) -> PathBuf {
    paths::target_dir()
        .join(paths::KERNEL_TARGET)
        .join(kernel::PROFILE)
        .join(binary)
}
