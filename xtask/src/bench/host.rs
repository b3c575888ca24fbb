//! Facts about where a benchmark run happens, for `results.json`: the host's CPU,
//! QEMU's version, the commit and the date, and the machine settings read back out
//! of QEMU's own command line (so they cannot disagree with what ran).
//!
//! Every probe is read-only; one that fails leaves "unknown" rather than failing the
//! run. `mod.rs` puts these into `results.rs`'s `Setup`.

use std::process::Command;

use crate::{paths, qemu};

const UNKNOWN: &str = "unknown";
const CPUINFO: &str = "/proc/cpuinfo";
const MODEL_NAME: &str = "model name";

/// The first line `program args` prints, or "unknown".
fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .current_dir(paths::root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| UNKNOWN.into())
}

/// The host CPU's model name.
pub fn cpu() -> String {
    std::fs::read_to_string(CPUINFO)
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with(MODEL_NAME))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| UNKNOWN.into())
}

/// The host's logical CPUs.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(0, usize::from)
}

/// `qemu-system-x86_64 --version`'s first line.
pub fn qemu_version() -> String {
    first_line(qemu::QEMU, &["--version"])
}

/// The commit checked out, and whether the work tree differs from it.
pub fn git() -> (String, bool) {
    let commit = first_line("git", &["rev-parse", "HEAD"]);
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(paths::root())
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    (commit, dirty)
}

/// Now, UTC, RFC 3339.
pub fn date_utc() -> String {
    first_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"])
}

/// The value after `flag` in QEMU's arguments.
pub fn qemu_setting(args: &[String], flag: &str) -> String {
    args.windows(2)
        .find(|w| w[0] == flag)
        .map_or_else(|| UNKNOWN.into(), |w| w[1].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_command_line() {
        let args: Vec<String> = ["-M", "pc", "-cpu", "max", "-m", "512M"]
            .map(String::from)
            .to_vec();
        assert_eq!(qemu_setting(&args, "-cpu"), "max");
        assert_eq!(qemu_setting(&args, "-m"), "512M");
        assert_eq!(qemu_setting(&args, "-smp"), UNKNOWN);
    }
}
