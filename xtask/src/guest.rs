//! The guest tests: the programs in `tests/guest/` built static, packed into the
//! initramfs under `/k42/tests/`, run one after another in a single boot by a
//! generated busybox `sh` script, and their result lines attributed back to them.
//!
//! - `NAME.c` is built with `musl-gcc -static -O2` and, as every call family is to be tested
//!   with both C libraries (issue #4), also with `gcc -static -O2` as program `NAME-glibc`
//!   (the same source, the same arguments; [`MUSL_ONLY`] lists the exceptions);
//!   `NAME.glibc.c` with `gcc -static -O2` only (program `NAME-glibc`), `NAME.pie.c` with `gcc -static-pie -O2` (program
//!   `NAME-pie`), `NAME.dyn.c` with `gcc -O2`, dynamically linked against glibc
//!   (program `NAME-dyn`), `NAME.nopie-dyn.c` the same with `-no-pie` (program
//!   `NAME-nopie-dyn`), `NAME.musl-dyn.c` with `musl-gcc -O2`, dynamically linked
//!   against musl (program `NAME-musl-dyn`), `NAME.sh` runs under busybox `sh`;
//! - `NAME.args` (optional, next to the source) holds the program's arguments, one
//!   per line; a C program gets the same list as `K42_TEST_ARGS` to compare argv with;
//! - C programs include `k42test.h`, shell programs source the generated
//!   `/k42/tests/k42test.sh`: both print `k42_abi::testfmt` lines, from defines
//!   this module passes, so the format is written down once.
//!
//! `test/guest_tier.rs` calls this for the guest tier; the expected results are Linux's.

use std::path::PathBuf;

use k42_abi::runner;
use k42_abi::testfmt::{self, Verdict};
use k42_cpio::Writer;

use crate::cc::{self, Libc};
use crate::{paths, rootfs};

/// The test sources, relative to the workspace root.
const SOURCE_DIR: &str = "tests/guest";
/// Where the programs go in the initramfs.
pub const INSTALL_DIR: &str = "/k42/tests";
/// The generated driver script and shell library, in [`INSTALL_DIR`].
const RUN_ALL: &str = "run-all.sh";
const SHELL_LIBRARY: &str = "k42test.sh";
/// The delimiter lines the driver prints around each program on the console.
const BEGIN_MARKER: &str = "k42-guest: begin ";
const END_MARKER: &str = "k42-guest: end ";
const GLIBC_SUFFIX: &str = ".glibc.c";
const PIE_SUFFIX: &str = ".pie.c";
const DYN_SUFFIX: &str = ".dyn.c";
const NOPIE_DYN_SUFFIX: &str = ".nopie-dyn.c";
const MUSL_DYN_SUFFIX: &str = ".musl-dyn.c";
const C_SUFFIX: &str = ".c";
const SHELL_SUFFIX: &str = ".sh";
const ARGS_EXTENSION: &str = "args";
/// The suffix of a musl program's glibc build.
pub const GLIBC_NAME_SUFFIX: &str = "-glibc";
/// `NAME.c` programs built with musl alone (none so far: every one passes with glibc too).
const MUSL_ONLY: [&str; 0] = [];
const EXEC_MODE: u32 = 0o755;
const FILE_MODE: u32 = 0o644;

/// How a guest program is built and started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// C, static musl.
    Musl,
    /// C, static glibc.
    Glibc,
    /// C, static-PIE glibc.
    GlibcPie,
    /// C, dynamically linked glibc.
    GlibcDynamic,
    /// C, dynamically linked glibc, not position independent.
    GlibcDynamicNoPie,
    /// C, dynamically linked musl.
    MuslDynamic,
    /// A busybox `sh` script.
    Shell,
}

/// One guest program.
#[derive(Debug, Clone)]
pub struct Program {
    /// Its name in case names (`guest.<os>.<name>.<case>`) and in `/k42/tests/`.
    pub name: String,
    /// How it is built and run.
    pub kind: Kind,
    /// Its source file.
    pub source: PathBuf,
    /// Its arguments (from `NAME.args`).
    pub args: Vec<String>,
    /// The `.args` file, when there is one.
    pub args_file: Option<PathBuf>,
}

impl Program {
    /// Where it is installed in the initramfs.
    pub fn install_path(&self) -> String {
        match self.kind {
            Kind::Shell => format!("{INSTALL_DIR}/{}{SHELL_SUFFIX}", self.name),
            Kind::Musl
            | Kind::Glibc
            | Kind::GlibcPie
            | Kind::GlibcDynamic
            | Kind::GlibcDynamicNoPie
            | Kind::MuslDynamic => format!("{INSTALL_DIR}/{}", self.name),
        }
    }
}

/// Every guest program in `tests/guest/`, sorted by name.
pub fn discover() -> Result<Vec<Program>, String> {
    let dir = paths::root().join(SOURCE_DIR);
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut programs = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let Ok(file) = entry.file_name().into_string() else {
            continue;
        };
        let (stem, kind) = if let Some(stem) = file.strip_suffix(GLIBC_SUFFIX) {
            (format!("{stem}-glibc"), Kind::Glibc)
        } else if let Some(stem) = file.strip_suffix(PIE_SUFFIX) {
            (format!("{stem}-pie"), Kind::GlibcPie)
        } else if let Some(stem) = file.strip_suffix(NOPIE_DYN_SUFFIX) {
            (format!("{stem}-nopie-dyn"), Kind::GlibcDynamicNoPie)
        } else if let Some(stem) = file.strip_suffix(DYN_SUFFIX) {
            (format!("{stem}-dyn"), Kind::GlibcDynamic)
        } else if let Some(stem) = file.strip_suffix(MUSL_DYN_SUFFIX) {
            (format!("{stem}-musl-dyn"), Kind::MuslDynamic)
        } else if let Some(stem) = file.strip_suffix(C_SUFFIX) {
            (stem.to_string(), Kind::Musl)
        } else if let Some(stem) = file.strip_suffix(SHELL_SUFFIX) {
            (stem.to_string(), Kind::Shell)
        } else {
            continue;
        };
        if stem.contains(['.', ' ']) || stem.is_empty() {
            return Err(format!(
                "{}: a guest program's name may not contain '.' or spaces (it is part of case names)",
                entry.path().display()
            ));
        }
        let source = entry.path();
        let args_file = Some(source.with_extension(ARGS_EXTENSION)).filter(|p| p.is_file());
        let args = match &args_file {
            Some(path) => parse_args(
                &std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            ),
            None => Vec::new(),
        };
        programs.push(Program {
            name: stem,
            kind,
            source,
            args,
            args_file,
        });
    }
    let glibc_builds: Vec<Program> = programs
        .iter()
        .filter(|p| p.kind == Kind::Musl && !MUSL_ONLY.contains(&p.name.as_str()))
        .map(|p| Program {
            name: format!("{}{GLIBC_NAME_SUFFIX}", p.name),
            kind: Kind::Glibc,
            ..p.clone()
        })
        .collect();
    programs.extend(glibc_builds);
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = programs.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!(
            "two guest programs are named {}: {} and {}",
            pair[0].name,
            pair[0].source.display(),
            pair[1].source.display()
        ));
    }
    Ok(programs)
}

/// One argument per line; an empty line is an empty argument; the file's last
/// newline only ends the last argument.
fn parse_args(text: &str) -> Vec<String> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return Vec::new();
    }
    text.split('\n').map(str::to_string).collect()
}

/// A built (or ready-to-run) program.
#[derive(Debug, Clone)]
pub struct Built {
    /// The program.
    pub program: Program,
    /// The executable or script to install.
    pub file: PathBuf,
}

/// A program that did not build, with the compiler's messages.
pub type BuildFailure = (Program, String);

/// Builds every C program; returns the ready ones and, separately, each program
/// that failed to build.
pub fn build_all(programs: &[Program]) -> Result<(Vec<Built>, Vec<BuildFailure>), String> {
    let out_dir = paths::work("guest")?;
    let include = paths::root().join(SOURCE_DIR);
    let mut built = Vec::new();
    let mut failed = Vec::new();
    for program in programs {
        let libc = match program.kind {
            Kind::Shell => {
                built.push(Built {
                    program: program.clone(),
                    file: program.source.clone(),
                });
                continue;
            }
            Kind::Musl => Libc::Musl,
            Kind::Glibc => Libc::Glibc,
            Kind::GlibcPie => Libc::GlibcPie,
            Kind::GlibcDynamic => Libc::GlibcDynamic,
            Kind::GlibcDynamicNoPie => Libc::GlibcDynamicNoPie,
            Kind::MuslDynamic => Libc::MuslDynamic,
        };
        let mut defines = Vec::new();
        if program.args_file.is_some() {
            defines.push(format!(
                "-DK42_TEST_ARGS={}",
                cc::c_string_array(&program.args)
            ));
        }
        let result = cc::compile(&cc::Build {
            source: &program.source,
            output: out_dir.join(&program.name),
            libc,
            defines,
            include_dirs: vec![include.clone()],
            extra_inputs: program.args_file.iter().cloned().collect(),
        });
        match result {
            Ok(file) => built.push(Built {
                program: program.clone(),
                file,
            }),
            Err(why) => failed.push((program.clone(), why)),
        }
    }
    Ok((built, failed))
}

/// The archive with the programs, the shell library and the driver script.
pub fn archive(built: &[Built]) -> Result<Vec<u8>, String> {
    let mut w = Writer::new();
    rootfs::add_parents(&mut w, &format!("{INSTALL_DIR}/{RUN_ALL}"));
    for b in built {
        let data =
            std::fs::read(&b.file).map_err(|e| format!("cannot read {}: {e}", b.file.display()))?;
        w.file(&b.program.install_path(), EXEC_MODE, &data);
    }
    w.file(
        &format!("{INSTALL_DIR}/{SHELL_LIBRARY}"),
        FILE_MODE,
        shell_library().as_bytes(),
    );
    w.file(
        &format!("{INSTALL_DIR}/{RUN_ALL}"),
        EXEC_MODE,
        run_all_script(built).as_bytes(),
    );
    Ok(w.finish())
}

/// The argv of the boot that runs every program.
pub fn run_all_argv() -> Vec<String> {
    vec![
        runner::INTERACTIVE_SHELL.to_string(),
        format!("{INSTALL_DIR}/{RUN_ALL}"),
    ]
}

/// Quotes `s` for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The shell library guest scripts source: the result line format of
/// `k42_abi::testfmt` as shell functions.
fn shell_library() -> String {
    let line = |verdict: &str, with_reason: bool| {
        format!(
            "printf '%s%s%s%s{}\\n' {} \"$1\" {} {}{}",
            if with_reason { ": %s" } else { "" },
            sh_quote(testfmt::CASE_PREFIX),
            sh_quote(testfmt::SEPARATOR),
            sh_quote(verdict),
            if with_reason { " \"$2\"" } else { "" },
        )
    };
    format!(
        r#"# Generated by cargo xtask (xtask/src/guest.rs) from k42_abi::testfmt.
# Guest shell tests source this file and report each case with these functions.
K42_FAILURES=0
# k42_pass NAME
k42_pass() {{ {pass}; }}
# k42_fail NAME WHY
k42_fail() {{ {fail}; K42_FAILURES=$((K42_FAILURES + 1)); }}
# k42_skip NAME WHY
k42_skip() {{ {skip}; }}
# k42_oneline TEXT: TEXT with newlines shown as '|', for a one-line reason.
k42_oneline() {{ printf '%s' "$1" | tr '\n' '|'; }}
# k42_check NAME EXPECTED ACTUAL: passes when ACTUAL is exactly EXPECTED.
k42_check() {{
    if [ "$2" = "$3" ]; then
        k42_pass "$1"
    else
        k42_fail "$1" "expected [$(k42_oneline "$2")], got [$(k42_oneline "$3")]"
    fi
}}
# k42_done: exit 0 when every case passed, 1 otherwise.
k42_done() {{ [ "$K42_FAILURES" -eq 0 ] && exit 0; exit 1; }}
"#,
        pass = line(testfmt::OK, false),
        fail = line(testfmt::FAILED, true),
        skip = line(testfmt::SKIPPED, true),
    )
}

/// The driver of the guest tests: every program, with its `.args`.
fn run_all_script(built: &[Built]) -> String {
    let steps: Vec<Step> = built
        .iter()
        .map(|b| {
            let mut argv = match b.program.kind {
                Kind::Shell => vec![
                    runner::INTERACTIVE_SHELL.to_string(),
                    b.program.install_path(),
                ],
                Kind::Musl
                | Kind::Glibc
                | Kind::GlibcPie
                | Kind::GlibcDynamic
                | Kind::GlibcDynamicNoPie
                | Kind::MuslDynamic => vec![b.program.install_path()],
            };
            argv.extend(b.program.args.iter().cloned());
            Step {
                name: b.program.name.clone(),
                argv,
            }
        })
        .collect();
    driver_script("cargo xtask test (xtask/src/guest.rs)", &steps)
}

/// One command of a driver script, reported under `name` (the guest tests here, the
/// benchmarks in `bench/programs.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The name its begin and end lines carry, and [`parse`] attributes output to.
    pub name: String,
    /// The command and its arguments (quoted for the shell here).
    pub argv: Vec<String>,
}

/// A busybox `sh` script that runs each step between a begin line and an end line
/// with its status, from `/`, in the init wrapper's environment; `generator` names
/// the code that wrote it, in its opening comment.
pub fn driver_script(generator: &str, steps: &[Step]) -> String {
    let mut s = format!(
        "# Generated by {generator}: runs each program between begin and end lines.\n\
         # busybox sh exports SHLVL and PWD to its children; the programs must see the\n\
         # environment the init wrapper gives (k42_abi::runner::ENVIRONMENT), so drop them\n\
         # (after the cd, which sets PWD and OLDPWD again).\n\
         cd /\n\
         unset SHLVL PWD OLDPWD\n",
    );
    for step in steps {
        let command: Vec<String> = step.argv.iter().map(|a| sh_quote(a)).collect();
        s.push_str(&format!(
            "printf '%s\\n' {begin}\n{command}\n\
             printf '\\n%s %d\\n' {end} \"$?\"\n",
            begin = sh_quote(&format!("{BEGIN_MARKER}{}", step.name)),
            command = command.join(" "),
            end = sh_quote(&format!("{END_MARKER}{}", step.name)),
        ));
    }
    s.push_str("exit 0\n");
    s
}

/// What one program did in the boot.
#[derive(Debug, Clone, Default)]
pub struct ProgramRun {
    /// Whether its begin line came.
    pub began: bool,
    /// Its exit status, when its end line came.
    pub status: Option<i32>,
    /// Its result lines: case name and verdict (`None` = ok, `Some(Err)` = failed,
    /// `Some(Ok)` = skipped, with the reason).
    pub cases: Vec<(String, CaseVerdict)>,
    /// Its console output.
    pub output: String,
}

/// An owned [`Verdict`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseVerdict {
    /// Passed.
    Ok,
    /// Failed, with the reason.
    Failed(String),
    /// Skipped, with the reason.
    Skipped(String),
}

/// The run of a program that was a boot's only program (K42 runs each guest program as the
/// run's program, with no driver script): the whole console is its output, `status` its exit
/// status from the status line.
pub fn parse_single(console: &str, status: Option<u8>) -> ProgramRun {
    let mut run = ProgramRun {
        began: true,
        status: status.map(i32::from),
        ..ProgramRun::default()
    };
    for line in console.lines() {
        run.output.push_str(line);
        run.output.push('\n');
        if let Some((case, verdict)) = testfmt::parse_line(line) {
            run.cases.push((case.to_string(), verdict_of(verdict)));
        }
    }
    run
}

fn verdict_of(verdict: Verdict<'_>) -> CaseVerdict {
    match verdict {
        Verdict::Ok => CaseVerdict::Ok,
        Verdict::Failed(why) => CaseVerdict::Failed(why.to_string()),
        Verdict::Skipped(why) => CaseVerdict::Skipped(why.to_string()),
    }
}

/// Attributes the console of the driver boot to the programs named `names`.
pub fn parse(console: &str, names: &[String]) -> Vec<ProgramRun> {
    let mut runs: Vec<ProgramRun> = vec![ProgramRun::default(); names.len()];
    let mut current: Option<usize> = None;
    for line in console.lines() {
        if let Some(at) = line.find(BEGIN_MARKER) {
            let name = line[at + BEGIN_MARKER.len()..].trim();
            current = names.iter().position(|n| n == name);
            if let Some(i) = current {
                runs[i].began = true;
            }
            continue;
        }
        if let Some(at) = line.find(END_MARKER) {
            let rest = &line[at + END_MARKER.len()..];
            if let Some((name, status)) = rest.trim().rsplit_once(' ')
                && let Some(i) = names.iter().position(|n| n == name)
            {
                runs[i].status = status.parse().ok();
                // Output before the marker on the same line is the program's.
                runs[i].output.push_str(&line[..at]);
            }
            current = None;
            continue;
        }
        let Some(i) = current else {
            continue;
        };
        runs[i].output.push_str(line);
        runs[i].output.push('\n');
        if let Some((case, verdict)) = testfmt::parse_line(line) {
            runs[i].cases.push((case.to_string(), verdict_of(verdict)));
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_file_lines_are_arguments() {
        assert_eq!(parse_args(""), Vec::<String>::new());
        assert_eq!(parse_args("a b\n\n'q'\n"), vec!["a b", "", "'q'"]);
        assert_eq!(parse_args("x"), vec!["x"]);
    }

    #[test]
    fn output_is_attributed_to_programs() {
        let names = vec!["env".to_string(), "files".to_string(), "late".to_string()];
        let console = "k42-guest: begin env\n\
                       test cwd ... ok\n\
                       test uid ... FAILED: uid 5\n\
                       \n\
                       k42-guest: end env 1\n\
                       k42-guest: begin files\n\
                       noise\n\
                       test open ... skipped: why\n\
                       partialk42-guest: end files 0\n";
        let runs = parse(console, &names);
        assert!(runs[0].began);
        assert_eq!(runs[0].status, Some(1));
        assert_eq!(
            runs[0].cases,
            vec![
                ("cwd".to_string(), CaseVerdict::Ok),
                ("uid".to_string(), CaseVerdict::Failed("uid 5".into()))
            ]
        );
        assert_eq!(runs[1].status, Some(0));
        assert_eq!(runs[1].cases.len(), 1);
        assert!(runs[1].output.contains("noise") && runs[1].output.contains("partial"));
        assert!(!runs[2].began && runs[2].status.is_none());
    }

    #[test]
    fn quoting_survives_the_shell() {
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        let script = run_all_script(&[Built {
            program: Program {
                name: "env".into(),
                kind: Kind::Musl,
                source: "env.c".into(),
                args: vec!["two words".into(), String::new()],
                args_file: None,
            },
            file: "env".into(),
        }]);
        assert!(script.contains("'/k42/tests/env' 'two words' ''\n"));
    }
}
