//! What `cargo xtask bench` runs: every benchmark by name, the program in `bench/`
//! that measures it, its unit, and its iteration counts for a full run, `--quick`
//! and the test tier's sanity check. The C programs take these as
//! `PROGRAM REPS NAME=ITERATIONS...` (`bench/bench.h`), so names, units and counts
//! are written down here once; the programs only check that they know the name.
//!
//! Also here: the columns of the kernel-events table ([`EVENT_COLUMNS`]: which counter of
//! which OS, K42's and Linux's nearest side by side).
//!
//! `programs.rs` turns this table into the boot's driver script, `record.rs`
//! checks the lines that come back against it, and `../test/bench_tier.rs` runs it
//! with [`Scale::Sanity`].

use crate::cli::Os;

/// Which way a figure improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Times: nanoseconds per operation.
    Lower,
    /// Rates: MB/s, scripts per hour.
    Higher,
}

/// How long a run should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// `cargo xtask bench`: batches of tens of milliseconds.
    Full,
    /// `cargo xtask bench --quick`: a fifth of that, for everyday use.
    Quick,
    /// The test tier: the smallest counts that still exercise every path.
    Sanity,
}

/// Timed batches per benchmark inside one program run (each reports its median,
/// min and max over these).
pub const fn reps(scale: Scale) -> u32 {
    match scale {
        Scale::Full => 7,
        Scale::Quick | Scale::Sanity => 3,
    }
}

/// Iterations of every benchmark in the sanity check.
const SANITY_ITERATIONS: u64 = 2;

/// One microbenchmark.
#[derive(Debug, Clone, Copy)]
pub struct Benchmark {
    /// Its name in result lines, tables and `--filter`.
    pub name: &'static str,
    /// The program (`bench/<program>.c`) that measures it.
    pub program: &'static str,
    /// The unit of its figure.
    pub unit: &'static str,
    /// Which way the figure improves.
    pub better: Better,
    /// Iterations per batch in a full run; `--quick` takes a fifth.
    pub full_iterations: u64,
    /// One line for the README.
    pub what: &'static str,
}

/// `--quick` runs this fraction of a full run's iterations.
const QUICK_DIVISOR: u64 = 5;

impl Benchmark {
    /// Iterations per batch at `scale`.
    pub fn iterations(&self, scale: Scale) -> u64 {
        match scale {
            Scale::Full => self.full_iterations,
            Scale::Quick => (self.full_iterations / QUICK_DIVISOR).max(1),
            Scale::Sanity => SANITY_ITERATIONS,
        }
    }
}

/// Nanoseconds per operation.
pub const NS: &str = "ns";
const MB_PER_S: &str = "MB/s";
/// The SDET figure's unit.
pub const SCRIPTS_PER_HOUR: &str = "scripts/hour";
/// The unit of meminfo's figures.
pub const KIB: &str = "KiB";

/// Every microbenchmark, in the order the boot runs them. Full iteration counts
/// aim at batches of roughly 10–100 ms of guest time under TCG.
pub const BENCHMARKS: [Benchmark; 17] = [
    time("null_syscall", "syscalls", 100_000, "getppid()"),
    time(
        "read_devnull",
        "syscalls",
        50_000,
        "read 1 byte from /dev/null",
    ),
    time(
        "write_devnull",
        "syscalls",
        50_000,
        "write 1 byte to /dev/null",
    ),
    time(
        "open_close",
        "syscalls",
        20_000,
        "open+close of a file in /tmp",
    ),
    time("stat", "syscalls", 20_000, "stat of a file in /tmp"),
    time("fstat", "syscalls", 50_000, "fstat of an open file"),
    time(
        "read_4k_cached",
        "syscalls",
        20_000,
        "pread 4 KiB of a cached file in /tmp",
    ),
    time(
        "pipe_latency",
        "pipe",
        5_000,
        "1-byte round trip between two processes over pipes",
    ),
    Benchmark {
        name: "pipe_bandwidth",
        program: "pipe",
        unit: MB_PER_S,
        better: Better::Higher,
        full_iterations: 2_000,
        what: "64 KiB writes to a child that reads them (iterations: chunks)",
    },
    time(
        "ctxsw_2",
        "ctxsw",
        5_000,
        "token passed around 2 processes (per hop; iterations: laps)",
    ),
    time(
        "ctxsw_8",
        "ctxsw",
        1_250,
        "token passed around 8 processes (per hop; iterations: laps)",
    ),
    time(
        "ctxsw_32",
        "ctxsw",
        300,
        "token passed around 32 processes (per hop; iterations: laps)",
    ),
    time(
        "fork_exit",
        "proc",
        1_000,
        "fork, child _exit(0), parent waitpid",
    ),
    time(
        "fork_exec_exit",
        "proc",
        500,
        "fork, child execs a tiny static program, waitpid",
    ),
    time(
        "mmap_touch_1m",
        "mmap",
        500,
        "mmap 1 MiB anonymous, write every page, munmap",
    ),
    time(
        "signal_roundtrip",
        "signal",
        20_000,
        "kill(self, SIGUSR1) with a handler",
    ),
    time(
        "thread_create_join",
        "thread",
        2_000,
        "pthread_create + pthread_join (musl)",
    ),
];

/// A time benchmark (ns per operation, lower is better).
const fn time(
    name: &'static str,
    program: &'static str,
    full_iterations: u64,
    what: &'static str,
) -> Benchmark {
    Benchmark {
        name,
        program,
        unit: NS,
        better: Better::Lower,
        full_iterations,
        what,
    }
}

/// The SDET-like benchmark's program; each user runs `bench/sdet/user.sh`.
pub const SDET_PROGRAM: &str = "sdet";
/// Prefix of its result names: `sdet_<users>`.
pub const SDET_PREFIX: &str = "sdet_";
/// Rounds of the script mix each user does. The same in full and quick runs, so
/// their scripts/hour compare; only the number of batches differs.
const SDET_LOOPS: u64 = 2;
/// The sanity check's rounds.
const SDET_SANITY_LOOPS: u64 = 1;

/// Rounds of the mix per user at `scale`.
pub const fn sdet_loops(scale: Scale) -> u64 {
    match scale {
        Scale::Full | Scale::Quick => SDET_LOOPS,
        Scale::Sanity => SDET_SANITY_LOOPS,
    }
}

/// The concurrent users of an SDET boot with `smp` vCPUs: one per vCPU, and twice that.
pub fn sdet_users(smp: u32) -> [u32; 2] {
    [smp, 2 * smp]
}

/// The result name of `users` concurrent users.
pub fn sdet_name(users: u32) -> String {
    format!("{SDET_PREFIX}{users}")
}

/// The program that reads Linux's free memory after boot (`bench/meminfo.c`).
pub const MEMINFO_PROGRAM: &str = "meminfo";
/// Its results: MemFree and MemAvailable, in KiB.
pub const MEM_FREE: &str = "mem_free";
/// See [`MEM_FREE`].
pub const MEM_AVAILABLE: &str = "mem_available";

/// The native K42 benchmark program (`user/bin/ppcbench`, installed at `/k42/bin`): every K42
/// boot of `cargo xtask bench` runs it (argv `["ppcbench"]`) after its banner. It takes no
/// arguments and prints the result lines of `bench/bench.h`: per figure, one line in [`NS`]
/// (median, min and max over its batches), then one line `NAME.COUNTER` per kernel counter,
/// in [`PER_CALL`].
pub const PPCBENCH_PROGRAM: &str = "ppcbench";
/// The unit of ppcbench's counter lines: events (or, for `kernel_ns`, ns) per call.
pub const PER_CALL: &str = "per_call";

/// A figure ppcbench prints that the tables know by name (it may print more: each is
/// recorded and shown under its own name).
#[derive(Debug, Clone, Copy)]
pub struct Native {
    /// Its name in result lines (its counters are `NAME.COUNTER`).
    pub name: &'static str,
    /// What it measures, for the README.
    pub what: &'static str,
    /// Whether a K42 boot without it has a problem (the figures the issue asks for).
    pub required: bool,
    /// Per call, by design (not a timing): kernel entries, address-space switches and
    /// upcalls, in the order of [`COUNTERS`]' first three.
    pub design: [u64; DESIGN_COUNTERS],
}

/// The counters of [`COUNTERS`] that have a value by design.
pub const DESIGN_COUNTERS: usize = 3;

/// The native figure that times an upcall: the null kernel call's TIMER, armed for a deadline
/// already past, so the kernel enters the caller's dispatcher at INTERRUPT on the way out and
/// its user-level scheduler resumes the calling thread.
pub const UPCALL_FIGURE: &str = "upcall_roundtrip";
/// The native figure that is the same kernel call without the upcall.
pub const NULL_KERNEL_CALL_FIGURE: &str = "null_kernel_call";

/// The figures the tables name, in the order ppcbench prints them.
pub const NATIVE: [Native; 5] = [
    Native {
        name: "ppc_null_roundtrip",
        what: "null PPC round trip to a user-level server (`Echo::whoami`, same CPU)",
        required: true,
        // Call: in, switch to the server's space, upcall; return: in, switch back.
        design: [2, 2, 1],
    },
    Native {
        name: "kernel_object_null_call",
        what: "null call on a kernel object (`Process::ids`)",
        required: true,
        design: [1, 0, 0],
    },
    Native {
        name: NULL_KERNEL_CALL_FIGURE,
        what: "null kernel call (cancel a timer that is not set)",
        required: false,
        design: [1, 0, 0],
    },
    Native {
        name: UPCALL_FIGURE,
        what: "upcall round trip: a kernel call (TIMER, deadline already past) whose way out \
               enters the caller's dispatcher at INTERRUPT; its user-level scheduler resumes \
               the thread",
        required: true,
        // The call's one entry; the upcall on its way out; the same address space throughout.
        design: [1, 0, 1],
    },
    Native {
        name: "ppc_data_roundtrip",
        what: "PPC round trip with 2 KiB each way in the PPC data area (`Echo::bounce`, same CPU)",
        required: false,
        // As the null round trip: the bytes are copied inside the same two kernel entries.
        design: [2, 2, 1],
    },
];

/// One of ppcbench's per-call counters.
#[derive(Debug, Clone, Copy)]
pub struct Counter {
    /// The suffix of its result line (`NAME.SUFFIX`).
    pub suffix: &'static str,
    /// What it counts, for the README.
    pub what: &'static str,
    /// Its unit in the README.
    pub unit: &'static str,
}

/// Per-call units in the README.
pub const PER_CALL_README: &str = "per call";

/// ppcbench's counters, in the order it prints them.
pub const COUNTERS: [Counter; 4] = [
    Counter {
        suffix: "kernel_entries",
        what: "kernel entries (ring transitions: each one in and one out)",
        unit: PER_CALL_README,
    },
    Counter {
        suffix: "space_switches",
        what: "address-space switches",
        unit: PER_CALL_README,
    },
    Counter {
        suffix: "upcalls",
        what: "upcalls",
        unit: PER_CALL_README,
    },
    Counter {
        suffix: "kernel_ns",
        what: "time in the kernel",
        unit: NS,
    },
];

/// The native figure named `name`, if the catalog knows it.
pub fn native(name: &str) -> Option<&'static Native> {
    NATIVE.iter().find(|n| n.name == name)
}

/// The counter with `suffix`, if the catalog knows it.
pub fn counter(suffix: &str) -> Option<&'static Counter> {
    COUNTERS.iter().find(|c| c.suffix == suffix)
}

/// The counter line of `figure` for `counter`.
pub fn counter_name(figure: &str, counter: &str) -> String {
    format!("{figure}.{counter}")
}

/// The counter of kernel entries, by its name in [`EVENT_COLUMNS`].
pub const KERNEL_ENTRIES: &str = "kernel_entries";

/// One column of the kernel-events table: a counter a benchmark line of `bench/` carries per
/// operation on one OS (`bench/bench.h` reads them around the timed batches: on K42 from the
/// personality's `/proc/k42/counters`, `user/bin/linux/src/kcounters.rs`; on Linux from
/// `/proc/stat`, `/proc/vmstat` and `/proc/interrupts`).
#[derive(Debug, Clone, Copy)]
pub struct EventColumn {
    /// Whose counter.
    pub os: Os,
    /// Its name in the line's `"counters"`.
    pub counter: &'static str,
    /// The column's heading.
    pub heading: &'static str,
}

const fn k42(counter: &'static str, heading: &'static str) -> EventColumn {
    EventColumn {
        os: Os::K42,
        counter,
        heading,
    }
}

const fn linux(counter: &'static str, heading: &'static str) -> EventColumn {
    EventColumn {
        os: Os::Linux,
        counter,
        heading,
    }
}

/// The kernel-events table's columns in order: each of K42's counters, with Linux's nearest
/// counter right after it where Linux has one (what each pair has and has not in common is
/// `report.rs`'s to say), then the counters only one OS has. A counter not listed here gets
/// a column of its own at the end.
pub const EVENT_COLUMNS: [EventColumn; 12] = [
    k42(
        KERNEL_ENTRIES,
        "K42 kernel entries (ring transitions in and out)",
    ),
    k42("space_switches", "K42 address-space switches"),
    linux("context_switches", "Linux context switches (`ctxt`)"),
    k42("tlb_flushes", "K42 TLB flushes (besides CR3 loads)"),
    linux("tlb_shootdowns", "Linux TLB shootdowns taken (`TLB`)"),
    k42("ipis", "K42 IPIs sent"),
    linux("ipis_received", "Linux IPIs taken (`RES` + `CAL`)"),
    k42("upcalls", "K42 upcalls"),
    k42("reflections", "K42 reflected syscalls"),
    linux("page_faults", "Linux page faults (`pgfault`)"),
    linux(
        "major_page_faults",
        "Linux major page faults (`pgmajfault`)",
    ),
    linux("interrupts", "Linux interrupts, all (`intr`)"),
];

/// The counters of [`EVENT_COLUMNS`] that `os`'s benchmark lines carry.
pub fn event_counters(os: Os) -> impl Iterator<Item = &'static str> {
    EVENT_COLUMNS
        .iter()
        .filter(move |c| c.os == os)
        .map(|c| c.counter)
}

/// Programs in `bench/helpers/`: installed next to the benchmarks, never run as one
/// (`nop` is what fork_exec_exit execs).
pub const HELPERS: [&str; 1] = ["nop"];
/// Data files the programs use, relative to `bench/` and to the install
/// directory's `data/` (`programs.rs`).
pub const DATA_FILES: [&str; 1] = ["sdet/user.sh"];

/// The programs of `bench/` K42 runs (issue #6): each needs only what the Linux
/// personality serves now (fork, execve, wait4, pipes and threads included: issue #5). Each K42
/// boot runs one of these as the run's program, with the argv the driver gives it on
/// Linux (`programs::k42_plans`); K42 boots in a fraction of a second, so a boot per
/// program costs little and starts every program on a fresh system. SDET (busybox
/// `sh` users) included: one boot per vCPU count, as Linux's.
pub const K42_PROGRAMS: [&str; 8] = [
    "syscalls",
    "pipe",
    "ctxsw",
    "proc",
    "mmap",
    "signal",
    "thread",
    SDET_PROGRAM,
];
/// Why `meminfo` does not run on K42: K42's free memory comes from its boot banner.
pub const K42_MEMINFO: &str =
    "no /proc/meminfo on K42: its free memory is read from its boot banner";

/// Whether K42 runs `program` (a program of `bench/`).
pub fn runs_on_k42(program: &str) -> bool {
    K42_PROGRAMS.contains(&program)
}

/// Why K42 does not run `program` (a program of `bench/`), or `None` when it does.
pub fn k42_not_yet(program: &str) -> Option<&'static str> {
    if runs_on_k42(program) {
        return None;
    }
    Some(match program {
        MEMINFO_PROGRAM => K42_MEMINFO,
        _ => "not in the K42 list of `xtask/src/bench/catalog.rs`",
    })
}

/// The program of `bench/` that gives the result named `name`, if the catalog knows it.
pub fn program_of(name: &str) -> Option<&'static str> {
    if name.starts_with(SDET_PREFIX) {
        return Some(SDET_PROGRAM);
    }
    find(name).map(|b| b.program)
}

/// Every program the catalog names, each once, in first-use order.
pub fn programs() -> Vec<&'static str> {
    let mut out = vec![MEMINFO_PROGRAM];
    for b in &BENCHMARKS {
        if !out.contains(&b.program) {
            out.push(b.program);
        }
    }
    out.push(SDET_PROGRAM);
    out
}

/// The benchmark named `name`, if the catalog has one.
pub fn find(name: &str) -> Option<&'static Benchmark> {
    BENCHMARKS.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_counts_shrink() {
        for (i, b) in BENCHMARKS.iter().enumerate() {
            assert!(
                BENCHMARKS[..i].iter().all(|o| o.name != b.name),
                "{}",
                b.name
            );
            assert!(b.iterations(Scale::Quick) <= b.iterations(Scale::Full));
            assert!(b.iterations(Scale::Sanity) <= b.iterations(Scale::Quick));
            assert_eq!(find(b.name).map(|f| f.name), Some(b.name));
        }
        assert_eq!(
            programs(),
            vec![
                "meminfo", "syscalls", "pipe", "ctxsw", "proc", "mmap", "signal", "thread", "sdet"
            ]
        );
        assert_eq!(sdet_users(2), [2, 4]);
        for (i, n) in NATIVE.iter().enumerate() {
            assert!(NATIVE[..i].iter().all(|o| o.name != n.name), "{}", n.name);
            assert!(
                find(n.name).is_none(),
                "{} is also a Linux benchmark",
                n.name
            );
            assert!(!n.name.contains('.'));
        }
        assert_eq!(
            native("ppc_null_roundtrip").map(|n| n.design),
            Some([2, 2, 1])
        );
        assert_eq!(native(UPCALL_FIGURE).map(|n| n.design), Some([1, 0, 1]));
        assert!(native(UPCALL_FIGURE).is_some_and(|n| n.required));
        assert_eq!(
            native(NULL_KERNEL_CALL_FIGURE).map(|n| n.design),
            Some([1, 0, 0])
        );
        assert_eq!(counter("upcalls").map(|c| c.unit), Some("per call"));
        assert_eq!(counter_name("x", "upcalls"), "x.upcalls");
        assert_eq!(sdet_name(4), "sdet_4");
        for program in K42_PROGRAMS {
            assert!(programs().contains(&program), "{program}");
        }
        let on_k42 = |name| program_of(name).is_some_and(runs_on_k42);
        assert!(on_k42("null_syscall") && on_k42("mmap_touch_1m"));
        assert!(on_k42("fork_exit") && on_k42("sdet_2"));
        assert!(on_k42("signal_roundtrip"));
        assert!(on_k42("thread_create_join") && program_of("nonesuch").is_none());
        assert_eq!(k42_not_yet("thread"), None);
        assert_eq!(k42_not_yet("meminfo"), Some(K42_MEMINFO));
        assert_eq!(k42_not_yet("ctxsw"), None);
        let k42: Vec<&str> = event_counters(Os::K42).collect();
        assert_eq!(k42.len(), 6);
        assert_eq!(k42[0], KERNEL_ENTRIES);
        assert_eq!(event_counters(Os::Linux).count(), 6);
        for (i, c) in EVENT_COLUMNS.iter().enumerate() {
            assert!(
                EVENT_COLUMNS[..i]
                    .iter()
                    .all(|o| (o.os, o.counter) != (c.os, c.counter)),
                "{}",
                c.counter
            );
        }
    }
}
