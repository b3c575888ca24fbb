//! The cargo commands of the lint and host tiers: run from the workspace root with
//! stdout and stderr in one stream, and cut down to a failure's reason.
//!
//! `lint.rs` and `host.rs` call these; the kernel-only crates they leave out of the
//! host build are listed here so both agree.

use std::io::Read;
use std::process::Command;

use super::REASON_LINES;
use crate::paths;

/// The crates that only build for the kernel target: the kernel, the hardware crate, and ring 3's
/// runtime and native programs (`crate::native` builds those). The pure crates they share with
/// the host (`k42-ifaces`, `k42-user-build`) stay in the host build and its tests.
pub(super) const KERNEL_CRATES: [&str; 16] = [
    "k42-kernel",
    "k42-hal",
    "k42-sys",
    "k42-rt",
    "k42-bootstrap",
    "k42-console",
    "k42-echo",
    "k42-ppcbench",
    "k42-overflow",
    "k42-spinner",
    "k42-ticker",
    "k42-utest",
    "k42-linux-personality",
    "k42-fs",
    "k42-procs",
    "k42-pipes",
];

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

#[cfg(test)]
mod tests {
    use super::KERNEL_CRATES;

    #[test]
    fn every_native_program_is_linted_for_the_kernel_target() {
        for (package, _) in crate::native::PROGRAMS {
            assert!(KERNEL_CRATES.contains(&package), "{package} missing");
        }
    }
}
