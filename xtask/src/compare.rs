//! The shell comparison test (issue #5): the scripts of `tests/compare/`, each run under
//! Debian's bash (`/bin/bash`, from bash-static) and under busybox `sh` on Linux and on K42,
//! and each run's *transcript* — its console output, then its exit status — must be the same
//! on both OSes. Linux's transcript is the expected one, as for every guest test; a script
//! may also carry its transcript literally (`NAME.expected`, or `NAME.SHELL.expected` when the
//! shells differ), which Linux's run must then match too.
//!
//! This module is the host-testable half: finding the scripts, packing them with one driver
//! script (the guest tests' [`guest::driver_script`], so each run sits between the same begin
//! and end lines, split back out by [`guest::parse`]), turning a run into a transcript, and the
//! first difference between two transcripts. `test/compare_tier.rs` boots each OS once with
//! the driver and reports the cases `compare.OS.SCRIPT.SHELL`.

use std::path::PathBuf;

use k42_abi::runner;
use k42_cpio::Writer;

use crate::guest::{self, Step};
use crate::{paths, rootfs};

/// The scripts, relative to the workspace root.
const SOURCE_DIR: &str = "tests/compare";
/// Where the scripts and the driver go in the initramfs.
const INSTALL_DIR: &str = "/k42/compare";
/// The generated driver, in [`INSTALL_DIR`].
const DRIVER: &str = "run-all.sh";
const SCRIPT_SUFFIX: &str = ".sh";
const EXPECTED_EXTENSION: &str = "expected";
const EXEC_MODE: u32 = 0o755;
/// How a transcript shows the exit status, after the output.
const STATUS_LINE: &str = "[exit status ";
/// The line a transcript adds after output whose last line has no newline.
const NO_NEWLINE: &str = "[no newline at end of output]";

/// A shell every script runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shell {
    /// Its name in case names and in `NAME.SHELL.expected`.
    pub name: &'static str,
    /// Its path in the initramfs.
    pub path: &'static str,
}

/// The shells compared: Debian's bash-static and busybox `sh` (its ash, the image's `/bin/sh`),
/// named `bash` and `busybox` in case names.
pub const SHELLS: [Shell; 2] = [
    Shell {
        name: "bash",
        path: rootfs::BASH_PATH,
    },
    Shell {
        name: "busybox",
        path: runner::INTERACTIVE_SHELL,
    },
];

/// One script of `tests/compare/`.
#[derive(Debug, Clone)]
pub struct Script {
    /// Its name (the file name without `.sh`), part of case names.
    pub name: String,
    /// Its source.
    pub source: PathBuf,
    /// Its literal transcript per shell, when the script carries one (`NAME.SHELL.expected`,
    /// else `NAME.expected`), in [`SHELLS`] order.
    pub expected: Vec<Option<String>>,
}

impl Script {
    /// Where it is installed in the initramfs.
    fn install_path(&self) -> String {
        format!("{INSTALL_DIR}/{}{SCRIPT_SUFFIX}", self.name)
    }
}

/// One script under one shell: a case of each OS.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// The script.
    pub script: &'a Script,
    /// The shell, an index into [`SHELLS`].
    pub shell: usize,
}

impl Run<'_> {
    /// `SCRIPT.SHELL`: the step's name in the driver and the tail of the case names.
    pub fn name(&self) -> String {
        format!("{}.{}", self.script.name, SHELLS[self.shell].name)
    }

    /// Its expected transcript, if the script carries one.
    pub fn expected(&self) -> Option<&str> {
        self.script.expected[self.shell].as_deref()
    }
}

/// Every script in `tests/compare/`, sorted by name.
pub fn discover() -> Result<Vec<Script>, String> {
    let dir = paths::root().join(SOURCE_DIR);
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut scripts = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let Ok(file) = entry.file_name().into_string() else {
            continue;
        };
        let Some(name) = file.strip_suffix(SCRIPT_SUFFIX) else {
            continue;
        };
        if name.is_empty() || name.contains(['.', ' ']) {
            return Err(format!(
                "{}: a comparison script's name may not contain '.' or spaces (it is part of \
                 case names)",
                entry.path().display()
            ));
        }
        let read = |path: PathBuf| -> Result<Option<String>, String> {
            if !path.is_file() {
                return Ok(None);
            }
            std::fs::read_to_string(&path)
                .map(Some)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let shared = read(dir.join(format!("{name}.{EXPECTED_EXTENSION}")))?;
        let mut expected = Vec::new();
        for shell in SHELLS {
            let own = read(dir.join(format!("{name}.{}.{EXPECTED_EXTENSION}", shell.name)))?;
            expected.push(own.or_else(|| shared.clone()));
        }
        scripts.push(Script {
            name: name.to_string(),
            source: entry.path(),
            expected,
        });
    }
    scripts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(scripts)
}

/// Every script under every shell, script by script.
pub fn runs(scripts: &[Script]) -> Vec<Run<'_>> {
    scripts
        .iter()
        .flat_map(|script| (0..SHELLS.len()).map(move |shell| Run { script, shell }))
        .collect()
}

/// The archive with every script and a driver that runs `runs` one after another.
pub fn archive(scripts: &[Script], runs: &[Run<'_>]) -> Result<Vec<u8>, String> {
    let mut w = Writer::new();
    rootfs::add_parents(&mut w, &format!("{INSTALL_DIR}/{DRIVER}"));
    for script in scripts {
        let data = std::fs::read(&script.source)
            .map_err(|e| format!("cannot read {}: {e}", script.source.display()))?;
        w.file(&script.install_path(), EXEC_MODE, &data);
    }
    w.file(
        &format!("{INSTALL_DIR}/{DRIVER}"),
        EXEC_MODE,
        driver(runs).as_bytes(),
    );
    Ok(w.finish())
}

/// The driver: each run as `SHELL SCRIPT`, between the guest tests' begin and end lines.
fn driver(runs: &[Run<'_>]) -> String {
    let steps: Vec<Step> = runs
        .iter()
        .map(|run| Step {
            name: run.name(),
            argv: vec![
                SHELLS[run.shell].path.to_string(),
                run.script.install_path(),
            ],
        })
        .collect();
    guest::driver_script("cargo xtask test (xtask/src/compare.rs)", &steps)
}

/// The argv of a boot that runs the driver (under busybox `sh`, on both OSes).
pub fn driver_argv() -> Vec<String> {
    vec![
        runner::INTERACTIVE_SHELL.to_string(),
        format!("{INSTALL_DIR}/{DRIVER}"),
    ]
}

/// What a run showed: its console output, then `[exit status N]` on a line of its own. `None`
/// when it did not finish (no end line: the boot ended or hung first).
pub fn transcripts(console: &str, runs: &[Run<'_>]) -> Vec<Option<String>> {
    let names: Vec<String> = runs.iter().map(Run::name).collect();
    guest::parse(console, &names)
        .into_iter()
        .map(|run| {
            let status = run.status?;
            // The driver's end line starts with a newline of its own, so that output without
            // a last newline still ends its line; that newline is not the script's.
            let output = run.output.strip_suffix('\n').unwrap_or(&run.output);
            Some(transcript(output, status))
        })
        .collect()
}

/// A transcript from a run's output and exit status; output whose last line has no newline
/// says so on a line of its own (as `diff` does), so the transcript stays exact.
fn transcript(output: &str, status: i32) -> String {
    let unended = if output.is_empty() || output.ends_with('\n') {
        String::new()
    } else {
        format!("\n{NO_NEWLINE}\n")
    };
    format!("{output}{unended}{STATUS_LINE}{status}]\n")
}

/// Where two transcripts first differ: the line number (from 1) and each side's line there
/// (`None` past its end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The first differing line, counted from 1.
    pub line: usize,
    /// The expected transcript's line there.
    pub expected: Option<String>,
    /// The actual transcript's line there.
    pub actual: Option<String>,
}

impl Difference {
    /// The difference in a few readable lines, the sides named `expected_name` and
    /// `actual_name`.
    pub fn describe(&self, expected_name: &str, actual_name: &str) -> String {
        let show = |line: &Option<String>| match line {
            Some(text) => format!("{text:?}"),
            None => "(no such line: the transcript ends before it)".to_string(),
        };
        let width = expected_name.len().max(actual_name.len());
        format!(
            "first difference at line {}:\n  {expected_name:<width$}: {}\n  {actual_name:<width$}: {}",
            self.line,
            show(&self.expected),
            show(&self.actual)
        )
    }
}

/// The first line where `actual` differs from `expected`, or `None` if they are the same.
pub fn first_difference(expected: &str, actual: &str) -> Option<Difference> {
    if expected == actual {
        return None;
    }
    let mut want = expected.split_inclusive('\n');
    let mut got = actual.split_inclusive('\n');
    let mut line = 1;
    loop {
        match (want.next(), got.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            (a, b) => {
                // A line that differs only by its final newline shows that in its text.
                let text = |l: Option<&str>| {
                    l.map(|l| match l.strip_suffix('\n') {
                        Some(l) => l.to_string(),
                        None => format!("{l}(no newline at end)"),
                    })
                };
                return Some(Difference {
                    line,
                    expected: text(a),
                    actual: text(b),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(name: &str) -> Script {
        Script {
            name: name.to_string(),
            source: PathBuf::from(format!("{name}.sh")),
            expected: vec![None; SHELLS.len()],
        }
    }

    #[test]
    fn every_script_runs_under_every_shell() {
        let scripts = [script("pipes"), script("traps")];
        let names: Vec<String> = runs(&scripts).iter().map(Run::name).collect();
        assert_eq!(
            names,
            ["pipes.bash", "pipes.busybox", "traps.bash", "traps.busybox"]
        );
        let text = driver(&runs(&scripts[..1]));
        assert!(text.contains("'/bin/bash' '/k42/compare/pipes.sh'\n"));
        assert!(text.contains("'/bin/sh' '/k42/compare/pipes.sh'\n"));
    }

    #[test]
    fn transcripts_are_output_then_status() {
        let scripts = [script("a"), script("b"), script("c")];
        let all = runs(&scripts[..]);
        // As the driver prints them: begin line, output, a newline, end line with status.
        let console = "k42-guest: begin a.bash\none\ntwo\n\nk42-guest: end a.bash 0\n\
                       k42-guest: begin a.busybox\npartial\nk42-guest: end a.busybox 3\n\
                       k42-guest: begin b.bash\n\nk42-guest: end b.bash 0\n\
                       k42-guest: begin b.busybox\nblank follows\n\n\nk42-guest: end b.busybox 1\n\
                       k42-guest: begin c.bash\nhung\n";
        let got = transcripts(console, &all);
        assert_eq!(got[0].as_deref(), Some("one\ntwo\n[exit status 0]\n"));
        assert_eq!(
            got[1].as_deref(),
            Some("partial\n[no newline at end of output]\n[exit status 3]\n")
        );
        assert_eq!(got[2].as_deref(), Some("[exit status 0]\n"));
        assert_eq!(
            got[3].as_deref(),
            Some("blank follows\n\n[exit status 1]\n")
        );
        assert_eq!(got[4], None, "no end line: did not finish");
        assert_eq!(got[5], None, "never began");
    }

    #[test]
    fn the_first_difference_is_found_and_named() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        let d = first_difference("a\nb\n[exit status 0]\n", "a\nc\n[exit status 0]\n")
            .expect("they differ");
        assert_eq!(
            (d.line, d.expected.as_deref(), d.actual.as_deref()),
            (2, Some("b"), Some("c"))
        );
        let shorter = first_difference("a\nb\n", "a\n").expect("they differ");
        assert_eq!((shorter.line, shorter.actual), (2, None));
        let unended = first_difference("a\n", "a").expect("they differ");
        assert_eq!(unended.actual.as_deref(), Some("a(no newline at end)"));
        let text = d.describe("linux", "k42");
        assert!(text.contains("line 2") && text.contains("linux: \"b\""));
        assert!(text.contains("k42  : \"c\""));
    }
}
