//! The kernel tier: K42 booted with the built-in `ktest` entry, directly and from a
//! GRUB ISO, every result line on the console a case `kernel.NAME`; and the
//! deliberate crashes, which must end in the exception report and the
//! kernel-failure verdict.
//!
//! The boots go through `boot.rs`; the entries it names are K42's
//! (kernel/src/run.rs), the report it checks is the kernel's (kernel/src/report.rs).

use k42_abi::runner::{INIT_START_MARKER, KERNEL_EXCEPTION_MARKER, RUNNER_KERNEL_FAILURE};
use k42_abi::testfmt::{self, Verdict};

use super::Context;
use super::boot::{boot, boot_medium, boot_smp, initramfs};
use super::report::Report;
use crate::cli::{self, Os};
use crate::qemu::logs_hint;
use crate::{kernel, paths, qemu};

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

/// The name the hostile executables are installed under.
const BAD_PROGRAM: &str = "hostile";

/// Native executables the loader must refuse: truncated, not ELF at all, and a real program
/// whose entry point was moved outside every executable segment.
fn bad_executables() -> Vec<(&'static str, Vec<u8>)> {
    let real = std::fs::read(crate::native::program_path("utest")).unwrap_or_default();
    let truncated = real
        .get(..real.len().min(3000))
        .unwrap_or_default()
        .to_vec();
    let mut bad_entry = real.clone();
    /// `e_entry`'s offset in an ELF64 header.
    const E_ENTRY: usize = 24;
    if bad_entry.len() > E_ENTRY + 8 {
        bad_entry[E_ENTRY..E_ENTRY + 8].copy_from_slice(&0x7fff_0000_0000u64.to_le_bytes());
    }
    vec![
        ("native.refuses_truncated_elf", truncated),
        (
            "native.refuses_non_elf",
            b"#!/bin/sh\necho not an ELF\n".to_vec(),
        ),
        ("native.refuses_entry_outside_code", bad_entry),
    ]
}

/// Where the hostile Linux executables are installed (off `PATH`, so argv\[0\] names them by path
/// and the bootstrap hands them to the Linux personality).
const BAD_LINUX_PATH: &str = "/k42/hostile/program";
/// The personality's log line for an ELF it refuses.
const LINUX_REFUSAL: &str = "not an executable this system runs";

/// Linux executables the personality's exec must refuse (ENOEXEC, run status 127), made from
/// Debian's static busybox: truncated, not ELF, the entry point outside every segment, and a
/// segment claiming 64 TiB.
fn bad_linux_executables(busybox: &std::path::Path) -> Vec<(&'static str, Vec<u8>)> {
    let real = std::fs::read(busybox).unwrap_or_default();
    let truncated = real
        .get(..real.len().min(3000))
        .unwrap_or_default()
        .to_vec();
    /// `e_entry`'s offset in an ELF64 header, and `e_phoff`'s.
    const E_ENTRY: usize = 24;
    const E_PHOFF: usize = 32;
    /// `p_memsz`'s offset in an ELF64 program header.
    const P_MEMSZ: usize = 40;
    let word = |b: &[u8], at: usize| {
        b.get(at..at + 8)
            .map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or_default()))
    };
    let mut bad_entry = real.clone();
    if bad_entry.len() > E_ENTRY + 8 {
        bad_entry[E_ENTRY..E_ENTRY + 8].copy_from_slice(&0x7fff_0000_0000u64.to_le_bytes());
    }
    let mut huge = real.clone();
    let memsz = usize::try_from(word(&real, E_PHOFF))
        .unwrap_or(usize::MAX)
        .saturating_add(P_MEMSZ);
    if huge.len() > memsz.saturating_add(8) {
        huge[memsz..memsz + 8].copy_from_slice(&(1u64 << 46).to_le_bytes());
    }
    vec![
        ("linux.refuses_truncated_elf", truncated),
        (
            "linux.refuses_non_elf",
            b"\x7fELG not an executable at all".to_vec(),
        ),
        ("linux.refuses_entry_outside_code", bad_entry),
        ("linux.refuses_huge_segment", huge),
    ]
}

/// The Linux program that touches a guard page (`tests/faults/segv.c`), where it is installed,
/// the case that boots it, and what the personality logs when it ends it: the status of a
/// death by SIGSEGV, as on Linux.
const SEGV_SOURCE: &str = "tests/faults/segv.c";
const SEGV_PATH: &str = "/k42/faults/segv";
const SEGV_CASE: &str = "linux.guard_page_fault_is_sigsegv";
const SEGV_LOG: &str = "SIGSEGV (page fault)";
/// Linux's status for a death by SIGSEGV (128 + 11).
const SEGV_STATUS: u8 = 128 + 11;

/// Boots `tests/faults/segv.c` as the run's program: it must end with status 139 and the
/// personality's log line, after its first output line — not hang, not take the kernel down.
fn guard_page_fault(ctx: &Context<'_>, image: &std::path::Path) -> Result<(), String> {
    let out = paths::work("test")?.join("segv");
    let source = paths::root().join(SEGV_SOURCE);
    crate::cc::compile(&crate::cc::Build {
        source: &source,
        output: out.clone(),
        libc: crate::cc::Libc::Musl,
        defines: Vec::new(),
        include_dirs: Vec::new(),
        extra_inputs: Vec::new(),
    })?;
    let bytes = std::fs::read(&out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
    let mut w = k42_cpio::Writer::new();
    w.dir("/k42", 0o755).dir("/k42/faults", 0o755);
    w.file(SEGV_PATH, 0o755, &bytes);
    let label = "kernel-linux-segv";
    let o = boot(
        ctx,
        Os::K42,
        image,
        vec![SEGV_PATH.into()],
        vec![w.finish()],
        label,
    )?;
    let console = String::from_utf8_lossy(&o.console);
    let ran = console.contains("touching the guard page");
    let survived = console.contains("survived");
    match (o.status_line(), o.log.contains(SEGV_LOG), ran, survived) {
        (Some(SEGV_STATUS), true, true, false) => Ok(()),
        (status, logged, ran, survived) => Err(format!(
            "expected status {SEGV_STATUS} and the SIGSEGV log line after the first output; got \
             status {status:?}, logged {logged}, ran {ran}, survived {survived}; {}",
            logs_hint(label)
        )),
    }
}

/// The native test program (user/bin/utest) and the CPU counts it runs at.
const NATIVE_TEST_ENTRY: &str = "utest";
const NATIVE_SMP: [u32; 2] = [1, 4];

/// CPU counts the in-kernel tests run at: one, the default and four (cases of the
/// default run are `kernel.NAME`, the others `kernel.smpN.NAME`).
const KTEST_SMP: [u32; 3] = [1, cli::DEFAULT_SMP, 4];

/// The kernel tier: `ktest` at several CPU counts, from a GRUB ISO, and the
/// deliberate crashes, on K42.
pub(super) fn run(ctx: &Context<'_>, report: &mut Report) {
    let image = match kernel::build() {
        Ok(image) => image,
        Err(why) => return report.fail("kernel.build", &why),
    };

    // One CPU, the default, and several: per-CPU set-up must hold for each.
    for smp in KTEST_SMP {
        let prefix = if smp == cli::DEFAULT_SMP {
            "kernel".to_string()
        } else {
            format!("kernel.smp{smp}")
        };
        run_cases(ctx, &image, KTEST_ENTRY, smp, &prefix, report);
    }

    // The native K42 tests (user mode, dispatchers, PPC, rights: user/bin/utest), started by
    // the bootstrap task, at one CPU and at several.
    for smp in NATIVE_SMP {
        run_cases(
            ctx,
            &image,
            NATIVE_TEST_ENTRY,
            smp,
            &format!("native.smp{smp}"),
            report,
        );
    }

    // Hostile native executables: the loader refuses them with a diagnostic, the bootstrap
    // reports it and the run ends with "not found" status — no kernel failure, no hang.
    let native = bad_executables().into_iter().map(|(case, bytes)| {
        (
            case,
            bytes,
            format!("/k42/bin/{BAD_PROGRAM}"),
            BAD_PROGRAM,
            "not a loadable native program",
        )
    });
    // The same for Linux executables: the personality's exec refuses them.
    let linux = bad_linux_executables(&ctx.tools.busybox)
        .into_iter()
        .map(|(case, bytes)| {
            (
                case,
                bytes,
                BAD_LINUX_PATH.to_string(),
                BAD_LINUX_PATH,
                LINUX_REFUSAL,
            )
        });
    for (case, bytes, path, argv0, refusal) in native.chain(linux) {
        let label = format!("kernel-{}", case.replace('.', "-"));
        let mut w = k42_cpio::Writer::new();
        w.dir("/k42", 0o755)
            .dir("/k42/bin", 0o755)
            .dir("/k42/hostile", 0o755);
        w.file(&path, 0o755, &bytes);
        let outcome = boot(
            ctx,
            Os::K42,
            &image,
            vec![argv0.into()],
            vec![w.finish()],
            &label,
        );
        let verdict = outcome.and_then(|o| {
            let refused = o.log.contains(refusal);
            match (o.status_line(), refused) {
                (Some(status), true) if status == k42_abi::runner::STATUS_NOT_FOUND => Ok(()),
                (status, _) => Err(format!(
                    "expected the loader's refusal and status {}, got status {status:?} \
                     (refusal logged: {refused}); {}",
                    k42_abi::runner::STATUS_NOT_FOUND,
                    logs_hint(&label)
                )),
            }
        });
        match verdict {
            Ok(()) => report.pass(case),
            Err(why) => report.fail(case, &why),
        }
    }

    // The same kernel and tests, booted by GRUB through multiboot2 from an ISO.
    match grub_iso_ktest(ctx, &image) {
        Ok(()) => report.pass(GRUB_ISO_CASE),
        Err(why) => report.fail(GRUB_ISO_CASE, &why),
    }

    match guard_page_fault(ctx, &image) {
        Ok(()) => report.pass(SEGV_CASE),
        Err(why) => report.fail(SEGV_CASE, &why),
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

/// Boots `entry` (a program printing result lines: `ktest`, `utest`) with `smp` CPUs and
/// reports each line as a case `PREFIX.NAME`; a boot problem fails `PREFIX.ENTRY`.
fn run_cases(
    ctx: &Context<'_>,
    image: &std::path::Path,
    entry: &str,
    smp: u32,
    prefix: &str,
    report: &mut Report,
) {
    let label = format!("kernel-{entry}-smp{smp}");
    let whole = format!("{prefix}.{entry}");
    let outcome = boot_smp(
        ctx,
        Os::K42,
        image,
        vec![entry.into()],
        Vec::new(),
        &label,
        smp,
    );
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(why) => return report.fail(&whole, &why),
    };
    let console = String::from_utf8_lossy(&outcome.console);
    let (cases, problem) = ktest_results(&console, &outcome);
    for (name, verdict) in cases {
        let full = format!("{prefix}.{name}");
        match verdict {
            Verdict::Ok => report.pass(&full),
            Verdict::Failed(why) => report.fail(&full, why),
            Verdict::Skipped(why) => report.skip(&full, why),
        }
    }
    if let Some(problem) = problem {
        report.fail(&whole, &format!("{problem}; {}", logs_hint(&label)));
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
    let outcome = boot_medium(ctx, Os::K42, medium, label, cli::DEFAULT_SMP)?;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

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
