//! Compiles the project's C programs — the Linux init wrapper (`rootfs.rs`) and the
//! guest tests (`guest.rs`) — as static executables (or, for the guest tests of dynamic
//! linking, dynamically linked ones: `shared_libs.rs` puts their libraries in the image),
//! passing every value shared
//! with the Rust side as `-D` defines taken from `k42_abi`, so no port, path,
//! marker or result format is written twice.
//!
//! Builds are skipped when the output is newer than its sources, the shared
//! header and this xtask binary (which carries the defines).

use std::path::{Path, PathBuf};
use std::process::Command;

use k42_abi::{runner, testfmt};

/// Which C library to link statically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Libc {
    /// musl, through Debian's `musl-gcc` wrapper (most guest programs, the init wrapper).
    Musl,
    /// glibc, through plain `gcc -static` (the `*.glibc.c` guest programs).
    Glibc,
    /// glibc as a static PIE (`gcc -static-pie`: the `*.pie.c` guest programs), loaded at a
    /// bias of the loader's choosing and relocating itself.
    GlibcPie,
    /// glibc, dynamically linked (`gcc`, Debian's default PIE: the `*.dyn.c` guest programs),
    /// run by `/lib64/ld-linux-x86-64.so.2`.
    GlibcDynamic,
    /// glibc, dynamically linked but not position independent (`gcc -no-pie`, an `ET_EXEC`
    /// linked at 0x400000: the `*.nopie-dyn.c` guest programs).
    GlibcDynamicNoPie,
    /// musl, dynamically linked (`musl-gcc`: the `*.musl-dyn.c` guest programs), run by
    /// `/lib/ld-musl-x86_64.so.1`.
    MuslDynamic,
}

impl Libc {
    fn compiler(self) -> &'static str {
        match self {
            Libc::Musl | Libc::MuslDynamic => "musl-gcc",
            Libc::Glibc | Libc::GlibcPie | Libc::GlibcDynamic | Libc::GlibcDynamicNoPie => "gcc",
        }
    }

    /// How it links: statically, as a static PIE, or (no flag) dynamically.
    fn link_flags(self) -> &'static [&'static str] {
        match self {
            Libc::Musl | Libc::Glibc => &["-static"],
            Libc::GlibcPie => &["-static-pie"],
            Libc::GlibcDynamic | Libc::MuslDynamic => &[],
            Libc::GlibcDynamicNoPie => &["-no-pie"],
        }
    }
}

/// Flags for every build besides how it links ([`Libc::link_flags`]): optimized, warnings on.
const FLAGS: [&str; 4] = ["-O2", "-Wall", "-Wextra", "-std=gnu11"];

/// A C string literal for `s`, for a `-D` define.
pub fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_ascii_control() => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A brace initializer of C string literals (`{"a", "b"}`), for a `char *[]`.
pub fn c_string_array<S: AsRef<str>>(items: &[S]) -> String {
    let literals: Vec<String> = items.iter().map(|s| c_string(s.as_ref())).collect();
    format!("{{{}}}", literals.join(", "))
}

/// The `-D` defines every C program gets: the runner contract and the result format.
pub fn abi_defines() -> Vec<String> {
    let define = |name: &str, value: String| format!("-D{name}={value}");
    vec![
        define("K42_LOG_UART_PORT", format!("{:#x}", runner::LOG_UART_PORT)),
        define(
            "K42_CONSOLE_UART_PORT",
            format!("{:#x}", runner::CONSOLE_UART_PORT),
        ),
        define(
            "K42_DEBUG_EXIT_PORT",
            format!("{:#x}", runner::DEBUG_EXIT_PORT),
        ),
        define(
            "K42_DEBUG_EXIT_IOSIZE",
            runner::DEBUG_EXIT_IOSIZE.to_string(),
        ),
        define(
            "K42_DEBUG_EXIT_DONE",
            format!("{}u", runner::DEBUG_EXIT_DONE),
        ),
        define("K42_STATUS_NOT_FOUND", runner::STATUS_NOT_FOUND.to_string()),
        define("K42_INIT_START_MARKER", c_string(runner::INIT_START_MARKER)),
        define(
            "K42_STATUS_LINE_PREFIX",
            c_string(runner::STATUS_LINE_PREFIX),
        ),
        define("K42_ARGV_PATH", c_string(runner::ARGV_PATH)),
        define("K42_INTERACTIVE_SHELL", c_string(runner::INTERACTIVE_SHELL)),
        define("K42_ENVIRONMENT", c_string_array(&runner::ENVIRONMENT)),
        define("K42_CASE_PREFIX", c_string(testfmt::CASE_PREFIX)),
        define("K42_SEPARATOR", c_string(testfmt::SEPARATOR)),
        define("K42_OK", c_string(testfmt::OK)),
        define("K42_FAILED", c_string(testfmt::FAILED)),
        define("K42_SKIPPED", c_string(testfmt::SKIPPED)),
    ]
}

/// One program to build.
#[derive(Debug)]
pub struct Build<'a> {
    /// The C file.
    pub source: &'a Path,
    /// Where the executable goes.
    pub output: PathBuf,
    /// Which libc.
    pub libc: Libc,
    /// Defines beyond [`abi_defines`].
    pub defines: Vec<String>,
    /// Directories for `#include "..."` (and their headers count as inputs).
    pub include_dirs: Vec<PathBuf>,
    /// Other files whose change must trigger a rebuild (e.g. an `.args` file).
    pub extra_inputs: Vec<PathBuf>,
}

/// Compiles `build` unless its output is up to date; returns the output path, or
/// the compiler's messages on failure.
pub fn compile(build: &Build<'_>) -> Result<PathBuf, String> {
    if up_to_date(build) {
        return Ok(build.output.clone());
    }
    let mut cmd = Command::new(build.libc.compiler());
    cmd.args(build.libc.link_flags())
        .args(FLAGS)
        .args(abi_defines())
        .args(&build.defines)
        .args(
            build
                .include_dirs
                .iter()
                .map(|d| format!("-I{}", d.display())),
        )
        .arg("-o")
        .arg(&build.output)
        .arg(build.source);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", build.libc.compiler()))?;
    let messages = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "{} {} failed:\n{}",
            build.libc.compiler(),
            build.source.display(),
            messages.trim_end()
        ));
    }
    if !messages.trim().is_empty() {
        eprintln!("{}", messages.trim_end());
    }
    Ok(build.output.clone())
}

fn up_to_date(build: &Build<'_>) -> bool {
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    let Some(built) = modified(&build.output) else {
        return false;
    };
    let headers = build
        .include_dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "h"));
    let xtask = std::env::current_exe().ok();
    std::iter::once(build.source.to_path_buf())
        .chain(headers)
        .chain(build.extra_inputs.iter().cloned())
        .chain(xtask)
        .all(|input| modified(&input).is_some_and(|t| t <= built))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_c_strings() {
        assert_eq!(c_string("k42-run: init-start"), "\"k42-run: init-start\"");
        assert_eq!(c_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(c_string("\x01"), "\"\\001\"");
        assert_eq!(c_string_array(&["a", "b c"]), "{\"a\", \"b c\"}");
    }
}
