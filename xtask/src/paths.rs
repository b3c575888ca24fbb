//! Where things live: the repository root, cargo's target directory and the
//! xtask's own work area under it (`target/k42/`: the extracted vmlinux, the built
//! init wrapper and guest programs, the assembled initramfs, the logs of each boot).
//!
//! Every other module asks here instead of building paths itself, so a
//! `CARGO_TARGET_DIR` override is honoured in one place.

use std::path::{Path, PathBuf};

/// The xtask's subdirectory of cargo's target directory.
const WORK_SUBDIR: &str = "k42";
/// Cargo's default target directory name, under the workspace root.
const DEFAULT_TARGET_DIR: &str = "target";
/// The target triple the kernel is built for.
pub const KERNEL_TARGET: &str = "x86_64-unknown-none";

/// The workspace root (the xtask crate sits one level below it).
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set, else `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join(DEFAULT_TARGET_DIR),
    }
}

/// `target/k42/<sub>`, created if missing.
pub fn work(sub: &str) -> Result<PathBuf, String> {
    let dir = target_dir().join(WORK_SUBDIR).join(sub);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The `cargo` that runs this xtask (so nested builds use the same toolchain).
pub fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// Finds an executable named `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    const ANY_EXECUTE_BIT: u32 = 0o111;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & ANY_EXECUTE_BIT != 0)
        })
}
