//! The cargo commands of the lint and host tiers: run from the workspace root with
//! stdout and stderr in one stream, and cut down to a failure's reason.
//!
//! `lint.rs` and `host.rs` call these; the kernel-only crates they leave out of the
//! host build are listed here so both agree.

use std::io::Read;
use std::process::Command;

use super::REASON_LINES;
use crate::paths;

/// The crates that only build for the kernel target.
pub(super) const KERNEL_CRATES: [&str; 2] = ["k42-kernel", "k42-hal"];

/// Runs `cmd` with stdout and stderr merged into one pipe (so cargo's progress and
/// libtest's lines keep their order); returns success and the output.
pub(super) fn run_merged(mut cmd: Command) -> Result<(bool, String), String> {
    let (mut reader, writer) = std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
    let writer2 = writer
        .try_clone()
        .map_err(|e| format!("cannot make a pipe: {e}"))?;
    cmd.current_dir(paths::root())
        .stdout(writer2)
        .stderr(writer);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    // The command holds our copies of the write end: drop them, or the read never ends.
    drop(cmd);
    let mut bytes = Vec::new();
    let _ = reader.read_to_end(&mut bytes);
    let status = child
        .wait()
        .map_err(|e| format!("waiting for a command: {e}"))?;
    Ok((
        status.success(),
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

pub(super) fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(paths::cargo());
    cmd.args(args);
    cmd
}

/// The diagnostic lines of a failed command's output (errors, warnings, their
/// locations, rustfmt's diffs), at most [`REASON_LINES`]; its tail when none.
pub(super) fn diagnostics(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let picked: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("error")
                || t.starts_with("warning:")
                || t.starts_with("-->")
                || t.starts_with("Diff in")
        })
        .filter(|l| !l.contains("generated") && !l.contains("could not compile"))
        .take(REASON_LINES)
        .collect();
    if picked.is_empty() {
        lines[lines.len().saturating_sub(REASON_LINES)..].join("\n")
    } else {
        picked.join("\n")
    }
}
