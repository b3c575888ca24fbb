//! `docs/bench/README.md`: the tables a person reads, generated from the results
//! (`summary.rs`) on every `cargo xtask bench`, with the chart, the repeatability
//! of the `-icount` figures, where and how the run happened, and the command that
//! reproduces it.
//!
//! `mod.rs` writes what [`render`] returns next to `results.json` and `ratios.svg`.

use std::fmt::Write;

use super::catalog::{self, Better, Scale};
use super::footprint;
use super::results::{Mode, Results};
use super::stats::Summary;
use super::summary::{self, OnlyRow, Row};
use crate::cli::Os;

/// Figures at or above this print without decimals; below [`ONE_DECIMAL`], two.
const NO_DECIMALS: f64 = 100.0;
const ONE_DECIMAL: f64 = 10.0;
/// Run-to-run spreads below this many percent count as "nearly" repeating.
const NEARLY_PERCENT: f64 = 1.0;
/// Per-operation counts below this (and not zero) print with four decimals, the precision
/// `bench/bench.h` prints them with; others with two.
const SMALL_COUNT: f64 = 0.01;

/// A figure, rounded for reading (the JSON keeps every digit).
pub fn figure(v: f64) -> String {
    if v.abs() >= NO_DECIMALS {
        format!("{v:.0}")
    } else if v.abs() >= ONE_DECIMAL {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn summary_cell(s: Option<Summary>, missing: &str) -> String {
    s.map_or_else(|| missing.to_string(), |s| figure(s.median))
}

fn spread_cell(s: Option<Summary>) -> String {
    match s {
        None => "—".into(),
        Some(s) if s.runs == 1 => "1 run".into(),
        Some(s) if s.identical => format!("identical in {} runs", s.runs),
        Some(s) => format!(
            "{}–{} (±{:.1}%, {} runs)",
            figure(s.min),
            figure(s.max),
            s.spread_percent() / 2.0,
            s.runs
        ),
    }
}

fn better(b: Better) -> &'static str {
    match b {
        Better::Lower => "lower",
        Better::Higher => "higher",
    }
}

fn ratio_cell(row: &Row) -> String {
    row.ratio().map_or("—".into(), |r| format!("{r:.3}"))
}

fn benchmark_table(out: &mut String, rows: &[Row]) {
    out.push_str(
        "| benchmark | vCPUs | unit | better | Linux | Linux across runs | K42 | K42/Linux |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.smp.map_or("—".into(), |s| s.to_string()),
            r.unit,
            better(r.better),
            summary_cell(r.linux, "missing"),
            spread_cell(r.linux),
            summary_cell(r.k42, &r.k42_missing),
            ratio_cell(r)
        );
    }
}

/// The K42-only table: both modes side by side, each with its spread.
fn k42_only_table(out: &mut String, results: &Results, rows: &[OnlyRow]) {
    let vcpus = |n: u32| format!("{n} vCPU{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        out,
        "| OS | figure | unit | `-icount` ({}) | `-icount` across runs | wall time ({}) | \
         wall across runs |\n|---|---|---|---|---|---|---|",
        vcpus(results.setup.icount_smp),
        vcpus(results.setup.smp)
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.os,
            r.name,
            r.unit,
            summary_cell(r.icount, &r.missing),
            spread_cell(r.icount),
            summary_cell(r.wall, &r.missing),
            spread_cell(r.wall)
        );
    }
}

fn footprint_table(out: &mut String, rows: &[(String, Row)]) {
    out.push_str(
        "| figure | mode | unit | Linux | Linux across runs | K42 | K42/Linux |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for (mode, r) in rows {
        let _ = writeln!(
            out,
            "| {} | {mode} | {} | {} | {} | {} | {} |",
            r.name,
            r.unit,
            summary_cell(r.linux, "—"),
            spread_cell(r.linux),
            summary_cell(r.k42, &r.k42_missing),
            ratio_cell(r)
        );
    }
}

/// A per-operation count, rounded for reading: two decimals, or four for a small fraction
/// (Linux's counters, system-wide, can be a few in ten thousand operations).
fn count(v: f64) -> String {
    if v != 0.0 && v.abs() < SMALL_COUNT {
        format!("{v:.4}")
    } else {
        format!("{v:.2}")
    }
}

/// Both OSes' kernel events per operation, both modes: a table each, or why there is none.
fn events_section(out: &mut String, results: &Results) {
    out.push_str(
        "## Kernel events per operation\n\n\
         What `-icount` timings hide (every instruction costs 1 ns there, a CR3 load or a TLB \
         flush no more than an add), from each kernel's own counters: `bench/bench.h` reads them \
         around each benchmark's timed batches — after the warm-up, outside the timing — and \
         prints the difference per operation: per unit of the figure for times (ctxsw's per \
         hop), per iteration for rates (pipe_bandwidth's per 64 KiB chunk, sdet's per round of \
         all its users). Both OSes' counters are system-wide: every CPU, every process of the \
         boot (on Linux its kernel threads and idle task too). The snapshots' own few system \
         calls are left in. Each cell is the median over the runs; — where that OS has no such \
         counter, or gave no figure.\n\n\
         - **K42's** come from the Linux personality's `/proc/k42/counters` \
         (`user/bin/linux/src/kcounters.rs`: a link whose target is the text, summed over the \
         CPUs).\n\
         - **Linux's** are what Linux tells any process without perf (which the guest does not \
         have): `/proc/stat` (`ctxt`; `intr`, its total), `/proc/vmstat` (`pgfault`, \
         `pgmajfault`) and `/proc/interrupts` (`RES`, `CAL` and `TLB`, summed over the \
         CPUs).\n\n\
         Side by side, and how far each pair means the same thing:\n\n\
         - **IPIs: the same events, counted at the other end.** K42 counts the IPIs it sends \
         (wake-ups and TLB shootdowns), Linux those its CPUs take (rescheduling and \
         function-call IPIs; Linux sends a TLB shootdown as a function call). Under `-icount` \
         both OSes have one vCPU, so neither sends any.\n\
         - **K42 address-space switches and Linux context switches: not the same.** K42 \
         counts CR3 loads, a PPC call into a server's address space and back included (no \
         scheduling there); Linux counts its scheduler's task switches, those to and from its \
         idle task and kernel threads included, which load no CR3, and a system call served in \
         the caller's context is none.\n\
         - **K42 TLB flushes and Linux TLB shootdowns: not the same.** K42 counts every TLB \
         flush but those CR3 loads imply: single pages invalidated when a mapping goes, and \
         whole flushes for a shootdown. Linux's `TLB` line counts only the shootdowns a CPU \
         takes from another; its local invalidations are counted nowhere in `/proc` (the \
         `nr_tlb_*` lines of `/proc/vmstat` need `CONFIG_DEBUG_TLBFLUSH`, and Debian's \
         kernel's `/proc/vmstat` has none).\n\
         - **Only K42:** kernel entries (every entry from user mode: system calls, reflected \
         Linux syscalls, faults, interrupts of user code; Linux's ring transitions would need \
         perf or tracing in the guest), upcalls and reflected syscalls.\n\
         - **Only Linux:** page faults (on K42 a fault is one of its kernel entries, not \
         counted apart) and interrupts, all of them (the timer's, devices', IPIs; on K42 an \
         interrupt of user code is a kernel entry, one of the kernel or the idle loop is not \
         counted).\n\n",
    );
    for mode in Mode::ALL {
        let (columns, rows) = summary::event_rows(results, mode);
        let _ = writeln!(
            out,
            "{}:\n",
            match mode {
                Mode::Icount => "Under `-icount`",
                Mode::Wall => "In wall time",
            }
        );
        if rows.is_empty() {
            out.push_str("No result line carried counters.\n\n");
            continue;
        }
        let heading = |c: &summary::EventKey| {
            catalog::EVENT_COLUMNS
                .iter()
                .find(|e| e.os == c.os && e.counter == c.counter)
                .map_or_else(
                    || format!("{} {}", os_label(c.os), c.counter),
                    |e| e.heading.to_string(),
                )
        };
        let headings: Vec<String> = columns.iter().map(heading).collect();
        let _ = writeln!(
            out,
            "| benchmark | vCPUs | {} |\n|---|---|{}",
            headings.join(" | "),
            "---|".repeat(columns.len())
        );
        for r in rows {
            let cells: Vec<String> = r
                .counts
                .iter()
                .map(|s| s.map_or("—".into(), |s| count(s.median)))
                .collect();
            let _ = writeln!(out, "| {} | {} | {} |", r.name, r.smp, cells.join(" | "));
        }
        out.push('\n');
    }
}

/// An OS as the tables name it.
fn os_label(os: Os) -> &'static str {
    match os {
        Os::K42 => summary::K42,
        Os::Linux => summary::LINUX,
    }
}

/// The README for `results`.
pub fn render(results: &Results) -> String {
    let s = &results.setup;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Benchmarks: K42 beside Linux\n\n\
         Generated by `cargo xtask bench` (`xtask/src/bench/`) from `results.json` in this \
         directory, which holds every run raw; do not edit by hand. Reproduce with:\n\n\
         ```sh\n{}\n```\n",
        s.command
    );
    let _ = writeln!(
        out,
        "Measured {} at commit `{}`{} on a host with {} ({} logical CPUs); {}. \
         QEMU `-M {} -cpu {} -m {} -smp {}` (`-smp {}` under `-icount`), accelerator {}, \
         the same for both OSes (the runner's configuration; the full command line of every \
         boot is in `results.json`). \
         {} runs{}, interleaved Linux, K42, Linux, K42 …; the whole command took {:.0} s.\n",
        s.date_utc,
        s.git_commit,
        if s.git_dirty {
            " (with uncommitted changes)"
        } else {
            ""
        },
        s.host_cpu,
        s.host_cpus,
        s.qemu_version,
        s.machine,
        s.cpu_model,
        s.memory,
        s.smp,
        s.icount_smp,
        s.accelerator,
        s.runs,
        if s.quick { " of `--quick`" } else { "" },
        s.wall_seconds
    );
    // What K42 does not run yet, from the catalog (meminfo aside: K42's banner says that).
    let not_on_k42: Vec<String> = catalog::programs()
        .into_iter()
        .filter(|p| *p != catalog::MEMINFO_PROGRAM && catalog::k42_not_yet(p).is_some())
        .map(|p| format!("`bench/{p}.c`"))
        .collect();
    let _ = writeln!(
        out,
        "## How to read this\n\n\
         - **Where K42 stands.** K42 runs static Linux programs through its Linux personality \
         (issue #4), with files from its file server, and fork, execve, wait, pipes, signal \
         delivery and threads at user level (issue #5). So it runs {}; a K42 cell without a \
         figure says why (\"not yet\" with the reason, or that its boots gave none) — never a \
         made-up figure, and no benchmark is dropped. \
         Linux runs its programs under a driver script in one boot; K42, which boots in a \
         fraction of a second, boots once per program, each as the run's program, with exactly \
         the argv Linux's driver gives it (`PROGRAM REPS NAME=ITERATIONS…`), so both OSes run \
         the same binary with the same counts, each program's timed batches inside it; each \
         K42 cell is the median over the runs of those boots (the `argv` of every boot is in \
         `results.json`). Besides, K42 reports \
         *Boot and footprint* (its boot time, its free memory after boot and its image size, \
         from its boot with the native `ppcbench`) and *K42-only figures*: its null PPC round \
         trip, kernel object call and upcall round trip with the kernel counters behind them, \
         the upcall alone, and a reflected Linux syscall, beside Linux's pipe round trip and \
         getppid from the same runs.",
        if not_on_k42.is_empty() {
            "every benchmark of `bench/`, SDET included".to_string()
        } else {
            format!("every benchmark but {}", not_on_k42.join(", "))
        }
    );
    out.push_str(
        "\
         - **Two modes, both TCG** (KVM does not run ring 3 correctly on these machines). \
         `-icount shift=0,sleep=off` (primary): guest time counts guest instructions, one \
         nanosecond each, so figures repeat from run to run but hide costly events (TLB \
         flushes, exceptions cost what their instructions cost). Plain TCG wall time \
         (secondary): guest time follows the host clock, noisy on these shared machines.\n\
         - **Under `-icount` QEMU runs the vCPUs one at a time**, so multi-vCPU throughput \
         (SDET at 1 and 2 vCPUs) is read in the wall-time table. And Debian's Linux 6.1 \
         hangs bringing up its second CPU under QEMU 7.2's `-icount` (shift 0, 1 or auto, \
         sleep on or off), so the `-icount` boots of both OSes have one vCPU; the wall-time \
         boots have `--smp` vCPUs (SDET also at one).\n\
         - **Each figure** is the median over the runs of each run's median (every program \
         times several batches per run); *across runs* gives the smallest and largest run. \
         K42/Linux is the ratio of the medians: below 1 is better for `ns`, above 1 for rates.\n\
         - **Boot time** is host time from QEMU's start to the `k42-run: init-start` marker \
         on the log port (each run's main boot of each OS), in both modes (under `-icount` the \
         host spends longer emulating the same boot; guest time is not measured here).\n\
         - **Time to a shell prompt** is host time from QEMU's start to the first byte of the \
         interactive busybox `sh`'s first prompt, `{prompt}`, on the console: each OS boots once \
         per run and mode with no program named, as `cargo xtask run` without one (the base \
         image and bash, no argv file), and the instant taken is when the runner's read of the \
         console pipe returned the piece holding the prompt's first byte (QEMU passes each \
         byte the guest writes to the UART on as it comes, and the runner waits in that read). \
         `{input}` is typed once init starts, as the guest tier types its scripts; the shell \
         reads it after that prompt and ends the run. *init-start to the shell prompt* is the \
         same boots' difference: on Linux the init wrapper forking and exec'ing `/bin/sh`, on \
         K42 everything from the kernel's starting its first user program (the bootstrap, \
         the servers, the Linux personality) — in both, busybox starting up to its prompt. \
         These are boots of their own, on an image of their own (no benchmark programs, but \
         bash), so the main boots' *QEMU start to init-start* is not where their prompt time \
         starts from, and host time differs from boot to boot on these shared machines: the \
         prompt can come sooner after QEMU's start than another boot's init-start.\n\n\
         ![K42/Linux ratios, -icount](ratios.svg)\n\n"
            .replace("{prompt}", footprint::SHELL_PROMPT)
            .replace(
                "{input}",
                String::from_utf8_lossy(footprint::PROMPT_INPUT).trim_end(),
            )
            .as_str(),
    );

    let repeat = summary::icount_repeat(results);
    out.push_str("## Did the `-icount` figures repeat?\n\n");
    let per_os = repeat
        .counts
        .iter()
        .filter(|c| c.1 > 0)
        .map(|(os, compared, identical)| format!("{identical} of {compared} {os} figures"))
        .collect::<Vec<_>>()
        .join(" and ");
    if repeat.compared() == 0 {
        out.push_str("Not checked: fewer than two runs.\n\n");
    } else if repeat.identical() == repeat.compared() {
        let _ = writeln!(
            out,
            "Yes: all figures were exactly the same in every run ({per_os}).\n"
        );
    } else {
        let largest = repeat.differing.first().map_or(0.0, |d| d.spread);
        let _ = writeln!(
            out,
            "Not exactly{}: {per_os} were identical in every run; the others differed by \
             (largest first, max−min over median):\n",
            if largest < NEARLY_PERCENT {
                format!(", but all within {largest:.2}%")
            } else {
                String::new()
            },
        );
        for d in &repeat.differing {
            let _ = writeln!(
                out,
                "- {} {} ({} vCPU): {:.4}%",
                d.os, d.name, d.smp, d.spread
            );
        }
        out.push('\n');
    }

    for mode in Mode::ALL {
        let _ = writeln!(
            out,
            "## Benchmarks, {}\n",
            match mode {
                Mode::Icount => "`-icount` (primary)",
                Mode::Wall => "plain TCG wall time (secondary)",
            }
        );
        benchmark_table(&mut out, &summary::benchmark_rows(results, mode));
        out.push('\n');
    }

    events_section(&mut out, results);

    out.push_str("## Boot and footprint\n\n");
    let mut rows: Vec<(String, Row)> = Vec::new();
    for mode in Mode::ALL {
        rows.extend(
            summary::boot_rows(results, mode)
                .into_iter()
                .map(|r| (mode.name().to_string(), r)),
        );
    }
    rows.extend(
        summary::size_rows(results)
            .into_iter()
            .map(|r| ("—".to_string(), r)),
    );
    footprint_table(&mut out, &rows);
    let _ = writeln!(
        out,
        "\nFree memory is read right after boot, before any benchmark ran, in guests of \
         `-m {}` (`cargo xtask bench --mem`; every boot of both OSes gets the same): Linux's \
         from `/proc/meminfo` (`bench/meminfo.c`), K42's from its boot banner (`frames: N MiB \
         free`). K42's kernel ELF carries debug information (the release profile keeps it for \
         backtraces); its in-memory size is the fairer comparison.\n",
        s.memory
    );

    out.push_str("## K42-only figures\n\n");
    k42_only_table(&mut out, results, &summary::k42_only_rows(results));
    let iterations = results
        .boots
        .iter()
        .flat_map(|b| &b.records)
        .find(|r| r.name == catalog::NATIVE[0].name)
        .map_or_else(|| "N".to_string(), |r| r.iterations.to_string());
    let _ = writeln!(
        out,
        "\nK42's figures come from its native program `user/bin/{}`, which one K42 boot per \
         run and mode runs after its banner (argv `[\"{}\"]`): it times batches of {iterations} calls after a \
         warm-up and prints the median, min and max over its batches; each cell is the median \
         over the runs of those medians. The counters are the kernel's own (read through the \
         Boot object before and after all batches, on the calling CPU, the reads' own kernel \
         entries taken out), divided by the calls: kernel entries are ring transitions (each one in \
         and one out), address-space switches are CR3 loads, upcalls are entries into a \
         dispatcher at one of its vectors, and kernel time is TSC time in the kernel's entry \
         handler (under `-icount`, guest instructions). Their design values — a PPC round trip \
         is two kernel entries, two address-space switches and one upcall; a kernel object \
         call one entry and neither; an upcall round trip one entry, no switch and one \
         upcall — are checked by `cargo xtask test --tier bench`; a timer \
         tick inside a timed loop adds a fraction of an entry. Under `-icount` every guest \
         instruction costs 1 ns whatever it does, so what a CR3 load costs in TLB refills \
         shows only in the wall-time column. The PPC round trip goes to a server spawned on \
         the caller's CPU. Linux's rows are its figures from the same runs' boots (the \
         benchmarks tables), at the same vCPUs.\n\n\
         The upcall round trip (`{upcall}`) is `{null}`'s TIMER kernel call armed for a \
         deadline already past instead of cancelling: the kernel looks at due timers on every \
         way out of the kernel, so on the way out of this call it posts the TIMER soft \
         interrupt and, the dispatcher being enabled, enters it at INTERRUPT with the calling \
         thread's registers in its save area; the runtime's INTERRUPT handler \
         (`user/rt/src/sched.rs`) takes them as the thread's context and its idle loop \
         switches back to the thread at user level, with no second kernel entry. *Upcall \
         alone* is each run's `{upcall}` less its `{null}` — the same kernel call, which \
         neither fires a timer nor upcalls — the median over the runs of those differences: \
         what firing a due timer (the kernel's look through its CPU's dispatchers for due \
         timers, posting the TIMER bit), entering the dispatcher at INTERRUPT and the \
         runtime's getting back to its thread add to a kernel call. The timer's part is \
         kernel time, in the `time in the kernel` rows' difference with the upcall's own \
         kernel part; no figure here separates the two.\n\n\
         The syscall reflection row is K42's \
         `null_syscall` from the benchmarks tables: a getppid from Linux program code, which \
         the kernel reflects to the Linux personality in the same process and the personality \
         answers from its own state, with no server call (one kernel entry: the reflection, \
         which enters the personality at its SVC vector — an upcall —; the personality returns \
         through its SVC return stub without the kernel; `docs/linux-personality.md`); the \
         rows under it are that line's kernel events per \
         call (`bench/bench.h`'s counters, as in *Kernel events per operation*).",
        catalog::PPCBENCH_PROGRAM,
        catalog::PPCBENCH_PROGRAM,
        upcall = catalog::UPCALL_FIGURE,
        null = catalog::NULL_KERNEL_CALL_FIGURE,
    );

    let _ = writeln!(
        out,
        "\n## What each benchmark does\n\n\
         Programs in `bench/` (C, static, musl), each run as `PROGRAM REPS NAME=ITERATIONS…` \
         — on Linux by a driver script in one boot, on K42 one program per boot as the run's \
         program; the figure is per operation unless the unit is a rate. Iterations per batch: \
         full run / `--quick`; batches per program run: {} / {}.\n\n\
         | benchmark | program | what | iterations | on K42 |\n|---|---|---|---|---|",
        catalog::reps(Scale::Full),
        catalog::reps(Scale::Quick)
    );
    let on_k42 = |program: &str| summary::k42_not_yet(program).unwrap_or_else(|| "yes".into());
    for b in &catalog::BENCHMARKS {
        let _ = writeln!(
            out,
            "| {} | `bench/{}.c` | {} | {} / {} | {} |",
            b.name,
            b.program,
            b.what,
            b.iterations(Scale::Full),
            b.iterations(Scale::Quick),
            on_k42(b.program)
        );
    }
    let _ = writeln!(
        out,
        "| sdet_N | `bench/sdet.c` | N busybox `sh` users at once, each running \
         `bench/sdet/user.sh` (mkdir, awk, sed, cp, ls, cat, grep, sort, uniq, wc, a \
         compile-like sed/awk/sort pipeline, rm, checking its results) in its own /tmp \
         directory; N = vCPUs and 2 × vCPUs; scripts per hour | {} rounds per user | {} |",
        catalog::sdet_loops(Scale::Full),
        on_k42(catalog::SDET_PROGRAM)
    );
    let _ = writeln!(
        out,
        "\nTo run one K42 benchmark boot by hand, after a `cargo xtask bench` (which leaves the \
         programs' archive in `target/k42/bench/{}`), give its argv from `results.json`: \
         `cargo xtask run --icount --smp 1 --initrd target/k42/bench/{} -- \
         /k42/bench/syscalls 3 null_syscall=20000`.",
        super::K42_PROGRAMS_CPIO,
        super::K42_PROGRAMS_CPIO
    );
    out.push_str(
        "\nNot yet measured: TLB flushes in the K42-only table (ppcbench does not print them \
         yet; the benchmarks of `bench/` do, in *Kernel events per operation*); Linux's ring \
         transitions, address-space switches (CR3 loads) and local TLB flushes per operation, \
         which `/proc` does not count (they would need perf or tracing in the guest); and the \
         boot figures in guest time (they are host time).\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_round_for_reading() {
        assert_eq!(figure(100_001.5), "100002");
        assert_eq!(figure(359.14), "359");
        assert_eq!(figure(12.34), "12.3");
        assert_eq!(figure(1.234), "1.23");
    }

    #[test]
    fn the_readme_shows_every_row_and_the_command() {
        let text = render(&summary::tests::sample());
        assert!(text.contains("cargo xtask bench --quick"));
        assert!(text.contains(
            "| null_syscall | 1 | ns | lower | 359 | identical in 2 runs | 3087 | 8.596 |"
        ));
        assert!(text.contains(
            "| null_syscall | 2 | ns | lower | 359 | identical in 2 runs | 4202 | 11.700 |"
        ));
        assert!(text.contains(
            "| pipe_latency | 1 | ns | lower | 13200 | identical in 2 runs | \
             no figure (see the problems in results.json) | — |"
        ));
        assert!(text.contains(
            "Not exactly, but all within 0.00%: 2 of 3 Linux figures and 23 of 23 K42 figures"
        ));
        assert!(text.contains(
            "| K42 | `upcall_roundtrip`: upcall round trip: a kernel call (TIMER, deadline \
             already past) whose way out enters the caller's dispatcher at INTERRUPT; its \
             user-level scheduler resumes the thread | ns | 900 | identical in 2 runs |"
        ));
        assert!(text.contains("| K42 | `upcall_roundtrip`: upcalls | per call | 1.00 |"));
        assert!(text.contains(
            "| K42 | upcall alone, firing the timer included: `upcall_roundtrip` less \
             `null_kernel_call` (the same TIMER call, neither firing nor upcalling), each run's \
             difference | ns | 579 | identical in 2 runs | 602 | 601–602 (±0.1%, 2 runs) |"
        ));
        assert!(text.contains(
            "| K42 | `null_syscall` on K42: reflected syscalls | per call | 1.00 | identical in 2 runs |"
        ));
        assert!(text.contains("*Upcall alone* is each run's `upcall_roundtrip` less its"));
        assert!(
            text.contains(
                "| null_syscall | `bench/syscalls.c` | getppid() | 100000 / 20000 | yes |"
            )
        );
        assert!(text.contains(
            "| fork_exit | `bench/proc.c` | fork, child _exit(0), parent waitpid | 1000 / 200 | yes |"
        ));
        assert!(text.contains(
            "| signal_roundtrip | `bench/signal.c` | kill(self, SIGUSR1) with a handler | \
             20000 / 4000 | yes |"
        ));
        assert!(text.contains(
            "| thread_create_join | `bench/thread.c` | pthread_create + pthread_join (musl) | \
             2000 / 400 | yes |"
        ));
        assert!(text.contains("- Linux fork_exit (1 vCPU): "));
        assert!(text.contains(
            "| OS | figure | unit | `-icount` (1 vCPU) | `-icount` across runs | wall time (2 vCPUs) |"
        ));
        assert!(text.contains(
            "| K42 | `ppc_null_roundtrip`: null PPC round trip to a user-level server \
             (`Echo::whoami`, same CPU) | ns | 2821 | identical in 2 runs | 21002 | 21001–21002 (±0.0%, 2 runs) |"
        ));
        assert!(text.contains("| K42 | `ppc_null_roundtrip`: upcalls | per call | 1.00 |"));
        assert!(text.contains(
            "| Linux | beside it: getppid (`null_syscall`) | ns | 359 | identical in 2 runs | 359 |"
        ));
        assert!(text.contains(
            "round trip (`null_syscall` on K42; Linux's is beside the PPC round trip) | ns | \
             3087 | identical in 2 runs | 4202 | 4201–4202 (±0.0%, 2 runs) |"
        ));
        assert!(text.contains("batches of 1 calls"));
        assert!(text.contains(
            "| benchmark | vCPUs | K42 kernel entries (ring transitions in and out) | \
             K42 address-space switches | Linux context switches (`ctxt`) |"
        ));
        // K42's and Linux's counters on one row; a small fraction keeps four decimals; a
        // counter the catalog does not know gets a column named after its OS.
        assert!(text.contains("| null_syscall | 1 | 2.00 | 0.00 | 0.0001 | — |"));
        assert!(text.contains("| Linux new_counter |"));
        assert!(text.contains(
            "| QEMU start to the shell prompt (host time) | wall | s | 4.00 | 1 run | 0.50 | 0.125 |"
        ));
        assert!(text.contains("QEMU `-M pc -cpu max -m 512M -smp 2`"));
        assert!(text.contains(
            "| free memory after boot with -m 512M (Linux MemFree, K42 free frames) | icount |"
        ));
        assert!(text.contains("in guests of `-m 512M` (`cargo xtask bench --mem`;"));
        assert!(text.contains("first prompt, `/ # `, on the console"));
        assert!(text.contains("`exit 0` is typed once init starts"));
        assert!(text.contains("So it runs every benchmark of `bench/`, SDET included;"));
        assert!(text.contains("ratios.svg"));
    }
}
