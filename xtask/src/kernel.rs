//! Builds the K42 kernel image the runner boots: `cargo build -p k42-kernel
//! --release --target x86_64-unknown-none`, then fills the linked ELF's `.ksyms`
//! section with its own symbols (`ksyms.rs`) so exception reports name functions.
//!
//! Patching happens after every build: it is idempotent, and cargo relinks (and so
//! erases the table) whenever the kernel changes.

use std::path::PathBuf;
use std::process::Command;

use crate::{ksyms, paths};

/// The kernel's package and binary name.
const KERNEL_PACKAGE: &str = "k42-kernel";
/// The profile the runner boots (the workspace gives it debug info for symbols); the native
/// programs (`native.rs`) are built with it too.
pub const PROFILE: &str = "release";

/// Builds and patches the kernel; returns the path of the bootable ELF.
pub fn build() -> Result<PathBuf, String> {
    eprintln!(
        "xtask: building {KERNEL_PACKAGE} ({PROFILE}, {})",
        paths::KERNEL_TARGET
    );
    let status = Command::new(paths::cargo())
        .args([
            "build",
            "--package",
            KERNEL_PACKAGE,
            "--release",
            "--target",
        ])
        .arg(paths::KERNEL_TARGET)
        .current_dir(paths::root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building {KERNEL_PACKAGE} failed ({status})"));
    }
    let image = paths::target_dir()
        .join(paths::KERNEL_TARGET)
        .join(PROFILE)
        .join(KERNEL_PACKAGE);
    let symbols = ksyms::patch_kernel(&image)?;
    eprintln!("xtask: {} carries {symbols} symbols", image.display());
    Ok(image)
}
