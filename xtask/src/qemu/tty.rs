//! The terminal's settings around an interactive boot: saved before QEMU puts the
//! terminal in raw mode and restored after it ends, however it ended.
//!
//! `mod.rs` calls these only in interactive mode (`Console::Interactive`).

use std::process::{Command, Stdio};

/// The terminal's settings (`stty -g`), so they can be restored even if QEMU is
/// killed while it holds the terminal in raw mode.
pub(super) fn save_tty() -> Option<String> {
    let out = Command::new("stty")
        .arg("-g")
        .stdin(Stdio::inherit())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub(super) fn restore_tty(saved: &str) {
    let _ = Command::new("stty")
        .arg(saved)
        .stdin(Stdio::inherit())
        .status();
}
