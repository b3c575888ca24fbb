//! `cargo xtask test`: every tier in one command, one closing line.
//!
//! - lint: `cargo fmt --check` and clippy with `-D warnings` for the host crates and
//!   for the kernel target, one case each;
//! - host: `cargo test` of the host crates, counted from libtest's `test result:`
//!   lines, each failed test reported by name;
//! - kernel: K42 booted with the built-in `ktest` entry, every result line on the
//!   console a case `kernel.NAME`; and one boot each with `ktest-fault` and
//!   `ktest-overflow`, which must end in the exception report and the kernel-failure
//!   verdict (`kernel.exception_report`, `kernel.stack_overflow_report`);
//! - guest: the programs of `tests/guest/` in one Linux boot (`guest.rs`), cases
//!   `guest.linux.PROGRAM.CASE`; on K42 each program is skipped until the Linux
//!   personality lands.
//!
//! Every boot has a time limit, so a hang fails the run with a message instead of
//! blocking CI. The run ends with `N passed, M failed` (`, K skipped` when K > 0),
//! each failure's name and reason just above it, and a non-zero exit on any failure.

use std::io::Read;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use k42_abi::runner::{INIT_START_MARKER, KERNEL_EXCEPTION_MARKER, RUNNER_KERNEL_FAILURE};
use k42_abi::testfmt::{self, Verdict};

use crate::cli::{Os, TestArgs, Tier};
use crate::guest::{self, CaseVerdict};
use crate::prereq::{self, Tools};
use crate::{cli, kernel, linux, paths, qemu, rootfs};

/// The built-in K42 entries the kernel tier boots (see kernel/src/run.rs).
const KTEST_ENTRY: &str = "ktest";
/// The case that boots the in-kernel tests from a GRUB ISO (multiboot2).
const GRUB_ISO_CASE: &str = "kernel.grub_iso_ktest";
/// The kernel's exception report opens with KERNEL_EXCEPTION_MARKER and lists the
/// frames after this header (kernel/src/report.rs).
const BACKTRACE_HEADER: &str = "backtrace:";

/// A built-in entry that must end in an exception report and the kernel-failure
/// verdict, and what its report must show.
struct Crash {
    /// The case name.
    case: &'static str,
    /// The built-in entry that crashes on purpose.
    entry: &'static str,
    /// Text the log port must carry.
    needs: &'static [&'static str],
    /// A function some backtrace frame must name.
    frame: Option<&'static str>,
}

const CRASHES: [Crash; 2] = [
    // A page fault on a never-mapped page: vector 14, the faulting address, and a
    // symbolized backtrace through the function that faulted.
    Crash {
        case: "kernel.exception_report",
        entry: "ktest-fault",
        needs: &[
            KERNEL_EXCEPTION_MARKER,
            "vector 14",
            "CR2=",
            BACKTRACE_HEADER,
        ],
        frame: Some("ktest_fault"),
    },
    // A runaway recursion: caught by the kernel stack's guard page and reported
    // as a stack overflow, never a silent triple fault.
    Crash {
        case: "kernel.stack_overflow_report",
        entry: "ktest-overflow",
        needs: &[KERNEL_EXCEPTION_MARKER, "stack overflow", BACKTRACE_HEADER],
        frame: None,
    },
];
/// Why guest programs are skipped on K42 for now.
const K42_GUEST_SKIP: &str = "needs the Linux personality (issue #4)";
/// Exit status of `cargo xtask test` when a case failed.
const TEST_FAILURE: i32 = 1;
/// Lines of a command's output kept as a failure's reason.
const REASON_LINES: usize = 20;
/// The crates that only build for the kernel target.
const KERNEL_CRATES: [&str; 2] = ["k42-kernel", "k42-hal"];

/// The cases counted so far.
#[derive(Debug, Default)]
struct Report {
    passed: usize,
    failed: Vec<(String, String)>,
    skipped: Vec<(String, String)>,
    filter: Option<String>,
}

impl Report {
    fn wanted(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }

    fn pass(&mut self, name: &str) {
        if self.wanted(name) {
            println!(
                "{}{name}{}{}",
                testfmt::CASE_PREFIX,
                testfmt::SEPARATOR,
                testfmt::OK
            );
            self.passed += 1;
        }
    }

    fn fail(&mut self, name: &str, why: &str) {
        if self.wanted(name) {
            let first = why.lines().next().unwrap_or_default();
            println!(
                "{}{name}{}{}: {first}",
                testfmt::CASE_PREFIX,
                testfmt::SEPARATOR,
                testfmt::FAILED
            );
            self.failed.push((name.to_string(), why.to_string()));
        }
    }

    fn skip(&mut self, name: &str, why: &str) {
        if self.wanted(name) {
            println!(
                "{}{name}{}{}: {why}",
                testfmt::CASE_PREFIX,
                testfmt::SEPARATOR,
                testfmt::SKIPPED
            );
            self.skipped.push((name.to_string(), why.to_string()));
        }
    }

    fn counts(&self) -> (usize, usize, usize) {
        (self.passed, self.failed.len(), self.skipped.len())
    }
}

/// What the boot tiers share.
struct Context<'a> {
    args: &'a TestArgs,
    tools: Tools,
}

/// Runs the selected tiers; returns the exit status.
pub fn run(args: &TestArgs) -> Result<i32, String> {
    let tiers: Vec<Tier> = Tier::ALL
        .into_iter()
        .filter(|t| args.tier.is_empty() || args.tier.contains(t))
        .collect();
    let mut report = Report {
        filter: args.filter.clone(),
        ..Report::default()
    };
    let has = |t: Tier| tiers.contains(&t);
    let linux_guests = has(Tier::Guest) && args.os.includes(Os::Linux);
    let needs = prereq::Needs {
        boot: has(Tier::Kernel) || linux_guests,
        linux: linux_guests,
        glibc: linux_guests,
        kernel_target: has(Tier::Lint) || has(Tier::Kernel),
        lint_tools: has(Tier::Lint),
        iso: has(Tier::Kernel),
    };
    let tools = match prereq::ensure(needs) {
        Ok(tools) => Some(tools),
        Err(why) => {
            report.fail("setup.prerequisites", &why);
            None
        }
    };

    let mut times = Vec::new();
    for tier in tiers {
        let start = Instant::now();
        let before = report.counts();
        eprintln!("xtask: === tier {} ===", tier.name());
        match (tier, &tools) {
            (Tier::Lint, _) => lint(&mut report),
            (Tier::Host, _) => host(&mut report, args.filter.as_deref()),
            (Tier::Kernel, Some(tools)) if args.os.includes(Os::K42) => {
                kernel_tier(
                    &Context {
                        args,
                        tools: tools.clone(),
                    },
                    &mut report,
                );
            }
            (Tier::Guest, Some(tools)) => {
                guest_tier(
                    &Context {
                        args,
                        tools: tools.clone(),
                    },
                    &mut report,
                );
            }
            (Tier::Kernel | Tier::Guest, _) => {}
        }
        let after = report.counts();
        let took = start.elapsed();
        eprintln!(
            "xtask: tier {}: {} passed, {} failed, {} skipped in {:.1} s",
            tier.name(),
            after.0 - before.0,
            after.1 - before.1,
            after.2 - before.2,
            took.as_secs_f64()
        );
        times.push(format!("{} {:.1} s", tier.name(), took.as_secs_f64()));
    }

    println!();
    println!("tier times: {}", times.join(", "));
    for (name, why) in &report.failed {
        println!("FAILED {name}:");
        for line in why.lines() {
            println!("    {line}");
        }
    }
    let (passed, failed, skipped) = report.counts();
    if skipped > 0 {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("{passed} passed, {failed} failed");
    }
    Ok(if failed > 0 { TEST_FAILURE } else { 0 })
}

/// Runs `cmd` with stdout and stderr merged into one pipe (so cargo's progress and
/// libtest's lines keep their order); returns success and the output.
fn run_merged(mut cmd: Command) -> Result<(bool, String), String> {
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

fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(paths::cargo());
    cmd.args(args);
    cmd
}

/// The diagnostic lines of a failed command's output (errors, warnings, their
/// locations, rustfmt's diffs), at most [`REASON_LINES`]; its tail when none.
fn diagnostics(output: &str) -> String {
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

/// The lint tier: one case per command.
fn lint(report: &mut Report) {
    let mut host_clippy = vec!["clippy", "--workspace"];
    for krate in KERNEL_CRATES {
        host_clippy.extend(["--exclude", krate]);
    }
    host_clippy.extend(["--all-targets", "--", "-D", "warnings"]);
    let mut kernel_clippy = vec!["clippy"];
    for krate in KERNEL_CRATES {
        kernel_clippy.extend(["--package", krate]);
    }
    kernel_clippy.extend(["--target", paths::KERNEL_TARGET, "--", "-D", "warnings"]);
    let cases: [(&str, Vec<&str>); 3] = [
        ("lint.fmt", vec!["fmt", "--all", "--check"]),
        ("lint.clippy_host", host_clippy),
        ("lint.clippy_kernel", kernel_clippy),
    ];
    for (name, args) in cases {
        if !report.wanted(name) {
            continue;
        }
        eprintln!("xtask: {name}: cargo {}", args.join(" "));
        match run_merged(cargo(&args)) {
            Ok((true, _)) => report.pass(name),
            Ok((false, output)) => report.fail(
                name,
                &format!(
                    "`cargo {}` failed:\n{}",
                    args.join(" "),
                    diagnostics(&output)
                ),
            ),
            Err(why) => report.fail(name, &why),
        }
    }
}

/// The host tier: `cargo test` of every host crate.
fn host(report: &mut Report, filter: Option<&str>) {
    let mut args = vec!["test", "--workspace", "--no-fail-fast"];
    for krate in KERNEL_CRATES {
        args.extend(["--exclude", krate]);
    }
    if let Some(filter) = filter {
        args.extend(["--", filter]);
    }
    eprintln!("xtask: host: cargo {}", args.join(" "));
    let (success, output) = match run_merged(cargo(&args)) {
        Ok(result) => result,
        Err(why) => return report.fail("host.cargo_test", &why),
    };
    let parsed = parse_libtest(&output);
    // Libtest already applied the filter: count what it reports.
    report.passed += parsed.passed;
    let filter = report.filter.take();
    for name in &parsed.ignored {
        report.skip(name, "ignored");
    }
    for (name, why) in &parsed.failed {
        report.fail(name, why);
    }
    report.filter = filter;
    eprintln!(
        "xtask: host: {} passed, {} failed, {} ignored in {} test binaries",
        parsed.passed,
        parsed.failed.len(),
        parsed.ignored.len(),
        parsed.binaries
    );
    if !success && parsed.failed.is_empty() {
        report.fail(
            "host.cargo_test",
            &format!(
                "`cargo {}` failed:\n{}",
                args.join(" "),
                diagnostics(&output)
            ),
        );
    }
}

/// What libtest's output says.
#[derive(Debug, Default)]
struct Libtest {
    passed: usize,
    ignored: Vec<String>,
    failed: Vec<(String, String)>,
    binaries: usize,
}

/// Reads cargo test's merged output: `Running`/`Doc-tests` headers name the binary,
/// `test result:` lines give the counts, `test X ... FAILED` lines the failures,
/// and the `---- X stdout ----` sections their messages.
fn parse_libtest(output: &str) -> Libtest {
    let mut out = Libtest::default();
    let mut binary: Option<String> = None;
    let mut summarized = true;
    let mut failed_here: Vec<String> = Vec::new();
    let lines: Vec<&str> = output.lines().collect();
    let crashed = |out: &mut Libtest, binary: &Option<String>, summarized: bool| {
        if let (Some(b), false) = (binary, summarized) {
            out.failed.push((
                format!("host.{b}"),
                "the test binary ended without a `test result:` line (crash or abort)".into(),
            ));
        }
    };
    for line in &lines {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Running ") {
            crashed(&mut out, &binary, summarized);
            binary = Some(binary_name(rest));
            summarized = false;
            out.binaries += 1;
        } else if let Some(krate) = t.strip_prefix("Doc-tests ") {
            crashed(&mut out, &binary, summarized);
            binary = Some(format!("{krate}.doc"));
            summarized = false;
            out.binaries += 1;
        } else if let Some(counts) = t.strip_prefix("test result: ") {
            summarized = true;
            let count = |word: &str| {
                counts
                    .split(';')
                    .filter_map(|part| {
                        part.trim()
                            .trim_start_matches("ok. ")
                            .trim_start_matches("FAILED. ")
                            .strip_suffix(word)
                    })
                    .filter_map(|n| n.trim().parse::<usize>().ok())
                    .next()
                    .unwrap_or(0)
            };
            out.passed += count(" passed");
            let failed = count(" failed");
            // A failure libtest counted but whose line we did not see still counts.
            for _ in failed_here.len()..failed {
                let b = binary.clone().unwrap_or_default();
                out.failed
                    .push((format!("host.{b}"), "a test failed (see cargo test)".into()));
            }
            failed_here.clear();
        } else if let Some(rest) = t.strip_prefix(testfmt::CASE_PREFIX)
            && let Some((name, verdict)) = rest.rsplit_once(testfmt::SEPARATOR)
        {
            let b = binary.clone().unwrap_or_default();
            let full = format!("host.{b}.{name}");
            if verdict.starts_with(testfmt::FAILED) {
                failed_here.push(name.to_string());
                out.failed.push((full, failure_message(&lines, name)));
            } else if verdict.starts_with("ignored") {
                out.ignored.push(full);
            }
        }
    }
    crashed(&mut out, &binary, summarized);
    out
}

/// `unittests src/lib.rs (target/debug/deps/k42_cpio-0123abcd)` -> `k42_cpio`.
fn binary_name(running: &str) -> String {
    let inside = running
        .rsplit_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap_or(running);
    let file = inside.rsplit('/').next().unwrap_or(inside);
    match file.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
        _ => file.to_string(),
    }
}

/// The panic message of a failed test, from its `---- NAME stdout ----` section.
fn failure_message(lines: &[&str], name: &str) -> String {
    let header = format!("---- {name} stdout ----");
    let Some(at) = lines.iter().position(|l| l.trim() == header) else {
        return "failed (no captured output)".into();
    };
    let section: Vec<&str> = lines[at + 1..]
        .iter()
        .copied()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.starts_with("---- ") && !l.trim().is_empty())
        .take(REASON_LINES)
        .collect();
    if section.is_empty() {
        "failed".into()
    } else {
        section.join("\n")
    }
}

/// Builds the initramfs for a boot with `argv` and the `extra` archives.
fn initramfs(
    ctx: &Context<'_>,
    argv: Vec<String>,
    extra: Vec<Vec<u8>>,
    label: &str,
) -> Result<PathBuf, String> {
    let initrd = paths::work("test")?.join(format!("{label}.cpio"));
    let spec = rootfs::Spec {
        overlay: None,
        extra,
        argv: Some(argv),
        initrds: Vec::new(),
    };
    rootfs::build(&ctx.tools.busybox, &spec, &initrd)?;
    Ok(initrd)
}

/// Builds the initramfs for a boot and boots it directly (`-kernel`, PVH).
fn boot(
    ctx: &Context<'_>,
    os: Os,
    kernel: &std::path::Path,
    argv: Vec<String>,
    extra: Vec<Vec<u8>>,
    label: &str,
) -> Result<qemu::Outcome, String> {
    let medium = qemu::Medium::Direct {
        kernel: kernel.to_path_buf(),
        initrd: initramfs(ctx, argv, extra, label)?,
        cmdline: qemu::cmdline(os, cli::DEFAULT_LOG, &[]),
    };
    boot_medium(ctx, os, medium, label)
}

/// Boots `medium` in the test configuration and keeps its console and log.
fn boot_medium(
    ctx: &Context<'_>,
    os: Os,
    medium: qemu::Medium,
    label: &str,
) -> Result<qemu::Outcome, String> {
    let machine = qemu::Machine {
        os,
        medium,
        smp: cli::DEFAULT_SMP,
        mem: cli::DEFAULT_MEM.to_string(),
        accel: cli::Accel::Tcg,
        gdb: false,
        qboot: ctx.tools.qboot.clone(),
    };
    let options = qemu::Options {
        console: qemu::Console::Program {
            echo: ctx.args.verbose.then_some(qemu::Echo::Stderr),
        },
        echo_log: ctx.args.verbose,
        timeout: Some(Duration::from_secs(ctx.args.timeout)),
        show_command: ctx.args.verbose,
    };
    let outcome = qemu::run(&machine, &options)?;
    eprintln!("xtask: {label}: {}", outcome.timings());
    // Keep both streams for a post-mortem; the failure reasons point here.
    let _ = std::fs::write(
        qemu::log_path(&format!("{label}.console"))?,
        &outcome.console,
    );
    let _ = std::fs::write(qemu::log_path(&format!("{label}.log"))?, &outcome.log);
    Ok(outcome)
}

fn logs_hint(label: &str) -> String {
    let at = |ext: &str| {
        qemu::log_path(&format!("{label}.{ext}")).unwrap_or_else(|_| PathBuf::from("?"))
    };
    format!(
        "console in {}, log in {}",
        at("console").display(),
        at("log").display()
    )
}

/// The kernel tier: `ktest` and `ktest-fault` on K42.
fn kernel_tier(ctx: &Context<'_>, report: &mut Report) {
    let image = match kernel::build() {
        Ok(image) => image,
        Err(why) => return report.fail("kernel.build", &why),
    };

    let label = "kernel-ktest";
    match boot(
        ctx,
        Os::K42,
        &image,
        vec![KTEST_ENTRY.into()],
        Vec::new(),
        label,
    ) {
        Err(why) => report.fail("kernel.ktest", &why),
        Ok(outcome) => {
            let console = String::from_utf8_lossy(&outcome.console);
            let (cases, problem) = ktest_results(&console, &outcome);
            for (name, verdict) in cases {
                let full = format!("kernel.{name}");
                match verdict {
                    Verdict::Ok => report.pass(&full),
                    Verdict::Failed(why) => report.fail(&full, why),
                    Verdict::Skipped(why) => report.skip(&full, why),
                }
            }
            if let Some(problem) = problem {
                report.fail("kernel.ktest", &format!("{problem}; {}", logs_hint(label)));
            }
        }
    }

    // The same kernel and tests, booted by GRUB through multiboot2 from an ISO.
    match grub_iso_ktest(ctx, &image) {
        Ok(()) => report.pass(GRUB_ISO_CASE),
        Err(why) => report.fail(GRUB_ISO_CASE, &why),
    }

    for crash in &CRASHES {
        let label = format!("kernel-{}", crash.entry);
        match boot(
            ctx,
            Os::K42,
            &image,
            vec![crash.entry.into()],
            Vec::new(),
            &label,
        ) {
            Err(why) => report.fail(crash.case, &why),
            Ok(outcome) => match check_crash_report(crash, &outcome) {
                Ok(()) => report.pass(crash.case),
                Err(why) => report.fail(crash.case, &format!("{why}; {}", logs_hint(&label))),
            },
        }
    }
}

/// Each `ktest` result line of a boot, and what is wrong with the run as a whole
/// (a boot problem, no result line, or a failure status without a failed case).
fn ktest_results<'a>(
    console: &'a str,
    outcome: &qemu::Outcome,
) -> (Vec<(&'a str, Verdict<'a>)>, Option<String>) {
    let cases: Vec<(&str, Verdict<'_>)> = console.lines().filter_map(testfmt::parse_line).collect();
    let failures = cases
        .iter()
        .filter(|(_, v)| matches!(v, Verdict::Failed(_)))
        .count();
    let status = outcome.status_line();
    let problem = if let Some(problem) = outcome.problem() {
        Some(problem)
    } else if cases.is_empty() {
        Some("`ktest` printed no result line".to_string())
    } else if status != Some(0) && failures == 0 {
        Some(format!(
            "`ktest` ended with status {status:?} but no case failed"
        ))
    } else {
        None
    };
    (cases, problem)
}

/// Boots `ktest` from a GRUB ISO; every case must pass there too.
fn grub_iso_ktest(ctx: &Context<'_>, kernel: &std::path::Path) -> Result<(), String> {
    let label = "kernel-grub-iso";
    let initrd = initramfs(ctx, vec![KTEST_ENTRY.into()], Vec::new(), label)?;
    let iso = paths::work("test")?.join(format!("{label}.iso"));
    let cmdline = qemu::cmdline(Os::K42, cli::DEFAULT_LOG, &[]);
    crate::iso::build(kernel, &initrd, &cmdline, &iso)?;
    let medium = qemu::Medium::Cdrom {
        iso,
        kernel: kernel.to_path_buf(),
    };
    let outcome = boot_medium(ctx, Os::K42, medium, label)?;
    let console = String::from_utf8_lossy(&outcome.console);
    let (cases, problem) = ktest_results(&console, &outcome);
    let failed: Vec<&str> = cases
        .iter()
        .filter(|(_, v)| matches!(v, Verdict::Failed(_)))
        .map(|(name, _)| *name)
        .collect();
    match (problem, failed.is_empty()) {
        (Some(problem), _) => Err(format!("{problem}; {}", logs_hint(label))),
        (None, false) => Err(format!(
            "under GRUB these cases failed: {}; {}",
            failed.join(", "),
            logs_hint(label)
        )),
        (None, true) => Ok(()),
    }
}

/// A deliberate crash must give its report and the kernel-failure verdict.
fn check_crash_report(crash: &Crash, outcome: &qemu::Outcome) -> Result<(), String> {
    let log = &outcome.log;
    if !log.contains(INIT_START_MARKER) {
        return Err(format!(
            "no `{INIT_START_MARKER}` line: `{}` never started",
            crash.entry
        ));
    }
    if let Some(missing) = crash.needs.iter().find(|needed| !log.contains(**needed)) {
        return Err(format!("the exception report lacks `{missing}`"));
    }
    if let Some(function) = crash.frame {
        let frames = log
            .split_once(BACKTRACE_HEADER)
            .map_or("", |(_, rest)| rest);
        if !frames.lines().any(|l| l.contains(function)) {
            return Err(format!("no backtrace frame names `{function}`"));
        }
    }
    let status = outcome.runner_status();
    if status != RUNNER_KERNEL_FAILURE {
        return Err(format!(
            "the run's verdict is {status}, not the kernel failure {RUNNER_KERNEL_FAILURE} ({})",
            outcome.problem().unwrap_or_else(|| "a normal end".into())
        ));
    }
    Ok(())
}

/// The guest tier: every program in one Linux boot; skipped on K42 for now.
fn guest_tier(ctx: &Context<'_>, report: &mut Report) {
    let programs = match guest::discover() {
        Ok(programs) => programs,
        Err(why) => return report.fail("guest.discover", &why),
    };
    if ctx.args.os.includes(Os::K42) {
        for p in &programs {
            report.skip(&format!("guest.k42.{}", p.name), K42_GUEST_SKIP);
        }
    }
    if !ctx.args.os.includes(Os::Linux) {
        return;
    }
    let os = Os::Linux;
    let prefix = format!("guest.{}", os.name());
    let (built, failed) = match guest::build_all(&programs) {
        Ok(result) => result,
        Err(why) => return report.fail(&format!("{prefix}.build"), &why),
    };
    for (program, why) in &failed {
        report.fail(&format!("{prefix}.{}", program.name), &why.to_string());
    }
    if built.is_empty() {
        return;
    }
    let Some(vmlinuz) = ctx.tools.vmlinuz.as_deref() else {
        return report.fail(&format!("{prefix}.boot"), "no Linux kernel image");
    };
    let image = linux::kernel_image(vmlinuz);
    let archive = match guest::archive(&built) {
        Ok(archive) => archive,
        Err(why) => return report.fail(&format!("{prefix}.build"), &why),
    };
    let label = "guest-linux";
    let outcome = match boot(ctx, os, &image, guest::run_all_argv(), vec![archive], label) {
        Ok(outcome) => outcome,
        Err(why) => return report.fail(&format!("{prefix}.boot"), &why),
    };
    let names: Vec<String> = built.iter().map(|b| b.program.name.clone()).collect();
    let console = String::from_utf8_lossy(&outcome.console);
    let runs = guest::parse(&console, &names);
    let boot_problem = outcome.problem();
    for (name, run) in names.iter().zip(&runs) {
        let program = format!("{prefix}.{name}");
        let mut case_failed = false;
        for (case, verdict) in &run.cases {
            let full = format!("{program}.{case}");
            match verdict {
                CaseVerdict::Ok => report.pass(&full),
                CaseVerdict::Failed(why) => {
                    case_failed = true;
                    report.fail(&full, why);
                }
                CaseVerdict::Skipped(why) => report.skip(&full, why),
            }
        }
        let tail = || {
            let lines: Vec<&str> = run.output.lines().collect();
            match lines[lines.len().saturating_sub(REASON_LINES)..].join("\n") {
                text if text.trim().is_empty() => "(none)".to_string(),
                text => text,
            }
        };
        let problem = if !run.began {
            Some(format!(
                "did not run ({})",
                boot_problem
                    .clone()
                    .unwrap_or_else(|| "the driver never reached it".into())
            ))
        } else if run.status.is_none() {
            Some(format!(
                "did not finish ({})",
                boot_problem.clone().unwrap_or_else(|| "no end line".into())
            ))
        } else if let (true, Some(status)) = (run.cases.is_empty(), run.status) {
            Some(format!("printed no result line (exit status {status})"))
        } else if let (Some(status @ 1..), false) = (run.status, case_failed) {
            Some(format!("exited with status {status} though no case failed"))
        } else {
            None
        };
        if let Some(problem) = problem {
            report.fail(
                &program,
                &format!("{problem}; {}\nlast output:\n{}", logs_hint(label), tail()),
            );
        }
    }
    if let Some(problem) = boot_problem
        && runs.iter().all(|r| r.status.is_some())
    {
        report.fail(
            &format!("{prefix}.boot"),
            &format!("{problem}; {}", logs_hint(label)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARGO_TEST_OUTPUT: &str = "\
   Compiling k42-abi v0.1.0
     Running unittests src/lib.rs (target/debug/deps/k42_abi-0123456789abcdef)

running 3 tests
test testfmt::tests::a ... ok
test testfmt::tests::b ... FAILED
test testfmt::tests::c ... ignored

failures:

---- testfmt::tests::b stdout ----

thread 'testfmt::tests::b' panicked at crates/abi/src/testfmt.rs:1:1:
assertion failed: false

failures:
    testfmt::tests::b

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/roundtrip.rs (target/debug/deps/roundtrip-fedcba9876543210)

running 2 tests
test one ... ok
test two ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests k42_abi

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running unittests src/main.rs (target/debug/deps/xtask-00112233445566aa)
";

    #[test]
    fn libtest_output_is_counted_and_failures_named() {
        let parsed = parse_libtest(CARGO_TEST_OUTPUT);
        assert_eq!(parsed.passed, 3);
        assert_eq!(parsed.binaries, 4);
        assert_eq!(parsed.ignored, vec!["host.k42_abi.testfmt::tests::c"]);
        assert_eq!(parsed.failed.len(), 2);
        assert_eq!(parsed.failed[0].0, "host.k42_abi.testfmt::tests::b");
        assert!(parsed.failed[0].1.contains("assertion failed: false"));
        // The last binary printed no summary: it crashed.
        assert_eq!(parsed.failed[1].0, "host.xtask");
    }

    #[test]
    fn binary_names_drop_the_hash() {
        assert_eq!(
            binary_name("unittests src/lib.rs (target/debug/deps/k42_cpio-0a1b)"),
            "k42_cpio"
        );
        assert_eq!(
            binary_name("tests/layering.rs (target/debug/deps/layering-ff00)"),
            "layering"
        );
    }

    fn outcome(log: &str, status: i32) -> qemu::Outcome {
        qemu::Outcome {
            console: Vec::new(),
            log: log.into(),
            qemu_exit: Some(status),
            timed_out: None,
            first_log_byte: None,
            init_start: None,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn fault_report_checks_bite() {
        let failure = k42_abi::runner::qemu_status_for(k42_abi::runner::DEBUG_EXIT_KERNEL_FAILURE);
        let good = "k42-run: init-start\n!!! KERNEL EXCEPTION: #PF page fault (vector 14), error code 0x2\n\
                    RSP=0x1 CR2=0x2\nbacktrace:\n  #0  0x1 k42_kernel::run::ktest_fault+0x5\n";
        let fault = &CRASHES[0];
        assert_eq!(check_crash_report(fault, &outcome(good, failure)), Ok(()));
        assert!(check_crash_report(fault, &outcome(good, 1)).is_err());
        let unnamed = good.replace("ktest_fault", "?");
        assert!(check_crash_report(fault, &outcome(&unnamed, failure)).is_err());
        let no_trace = good.replace("backtrace:", "");
        assert!(check_crash_report(fault, &outcome(&no_trace, failure)).is_err());
    }
}
