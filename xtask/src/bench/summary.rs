//! The tables, computed from the raw results alone: per mode, one row per
//! benchmark (and vCPU count) with Linux's and K42's figures over the runs and
//! their ratio; the boot and footprint rows; the K42-only rows (ppcbench's figures
//! and counters in both modes, with Linux's pipe round trip and getppid of the same
//! runs beside them); and whether the `-icount` figures repeated exactly from run
//! to run.
//!
//! K42's benchmark figures come from its boots that run one program of `bench/`
//! each (`Purpose::Program`). Where K42 has no figure the row says why ("not yet:
//! needs threads …", from `catalog.rs`, or that its boot gave none): a
//! benchmark is never dropped and never given a made-up number. `report.rs` and
//! `chart.rs` draw these rows.

use super::catalog::{self, Better};
use super::record;
use super::results::{Boot, Mode, Purpose, Results};
use super::stats::Summary;
use crate::cli::Os;

/// What a K42 cell says for a benchmark of `program` K42 cannot run yet, or `None`
/// when K42 runs it.
pub fn k42_not_yet(program: &str) -> Option<String> {
    catalog::k42_not_yet(program).map(|why| format!("not yet: {why}"))
}

/// What the K42 cell of the benchmark `name` says when it has no figure: why K42
/// does not run it yet, or that its boots gave none.
pub fn k42_missing(name: &str) -> String {
    catalog::program_of(name)
        .and_then(k42_not_yet)
        .unwrap_or_else(|| NO_FIGURE.into())
}
const KIB_PER_MIB: f64 = 1024.0;
const BYTES_PER_MIB: f64 = 1024.0 * 1024.0;
const MIB: &str = "MiB";
const SECONDS: &str = "s";
/// The boot rows of the shell boots (`Purpose::Prompt`).
pub const PROMPT_ROW: &str = "QEMU start to the shell prompt (host time)";
/// See [`PROMPT_ROW`].
pub const INIT_TO_PROMPT_ROW: &str = "init-start to the shell prompt (host time)";
/// What a prompt cell says when no shell boot showed its prompt.
const NO_PROMPT: &str = "no prompt seen (see the problems in results.json)";

/// One row of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What is measured.
    pub name: String,
    /// The unit of the figures.
    pub unit: String,
    /// Which way it improves.
    pub better: Better,
    /// vCPUs of the boots it came from (`None` when it does not apply).
    pub smp: Option<u32>,
    /// Linux's figure over the runs.
    pub linux: Option<Summary>,
    /// K42's figure over the runs.
    pub k42: Option<Summary>,
    /// What the K42 cell says when there is no figure.
    pub k42_missing: String,
}

impl Row {
    /// K42 / Linux, when both exist.
    pub fn ratio(&self) -> Option<f64> {
        match (self.k42, self.linux) {
            (Some(k), Some(l)) if l.median != 0.0 => Some(k.median / l.median),
            _ => None,
        }
    }
}

/// Which way the result named `name` in `unit` improves.
fn better_for(name: &str, unit: &str) -> Better {
    catalog::find(name).map_or(
        if unit == catalog::NS {
            Better::Lower
        } else {
            Better::Higher
        },
        |b| b.better,
    )
}

fn is_footprint(name: &str) -> bool {
    name == catalog::MEM_FREE || name == catalog::MEM_AVAILABLE
}

/// The boots of `os` in `mode`.
fn boots<'a>(results: &'a Results, os: &'a str, mode: Mode) -> impl Iterator<Item = &'a Boot> {
    results
        .boots
        .iter()
        .filter(move |b| b.os == os && b.mode == mode)
}

/// A figure's identity: name, unit, vCPUs.
type Key = (String, String, u32);
/// Figures with one value per boot that reported them.
type Figures = Vec<(Key, Vec<f64>)>;

/// Every benchmark figure of `os` in `mode`, in first-seen order: Linux's suite and
/// SDET boots, K42's program boots (K42's native program's figures are not
/// benchmarks of `bench/`: see [`k42_only_rows`]).
fn figures(results: &Results, os: &str, mode: Mode) -> Figures {
    let mut out: Figures = Vec::new();
    for boot in boots(results, os, mode).filter(|b| b.purpose != Purpose::Native) {
        for r in boot.records.iter().filter(|r| !is_footprint(&r.name)) {
            let key = (r.name.clone(), r.unit.clone(), boot.smp);
            match out.iter_mut().find(|(k, _)| *k == key) {
                Some((_, values)) => values.push(r.median),
                None => out.push((key, vec![r.median])),
            }
        }
    }
    out
}

/// The benchmark rows of `mode`: every figure Linux or K42 gave.
pub fn benchmark_rows(results: &Results, mode: Mode) -> Vec<Row> {
    let linux = figures(results, "linux", mode);
    let k42 = figures(results, "k42", mode);
    let mut keys: Vec<&Key> = linux.iter().map(|(k, _)| k).collect();
    keys.extend(
        k42.iter()
            .map(|(k, _)| k)
            .filter(|k| !linux.iter().any(|(l, _)| l == *k)),
    );
    let find = |set: &[(Key, Vec<f64>)], key: &Key| {
        set.iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| Summary::of(v))
    };
    keys.into_iter()
        .map(|key| Row {
            name: key.0.clone(),
            unit: key.1.clone(),
            better: better_for(&key.0, &key.1),
            smp: Some(key.2),
            linux: find(&linux, key),
            k42: find(&k42, key),
            k42_missing: k42_missing(&key.0),
        })
        .collect()
}

/// A column of the kernel-events table: whose counter, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventKey {
    /// The OS whose lines carry it.
    pub os: Os,
    /// The counter's name in the lines' `"counters"`.
    pub counter: String,
}

/// One row of the kernel-events table: a benchmark of `bench/` and its counters per
/// operation over the runs, K42's and Linux's.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// The benchmark.
    pub name: String,
    /// vCPUs of its boots.
    pub smp: u32,
    /// Each column's counter per operation, in [`event_rows`]' column order.
    pub counts: Vec<Option<Summary>>,
}

/// The kernel events per operation in `mode`, both OSes: the columns (the catalog's, then any
/// other counter a line carried) and one row per benchmark figure whose lines carried
/// counters, Linux's first-seen order first (its suite and SDET boots), then K42's (its
/// program boots).
pub fn event_rows(results: &Results, mode: Mode) -> (Vec<EventKey>, Vec<EventRow>) {
    let mut columns: Vec<EventKey> = catalog::EVENT_COLUMNS
        .iter()
        .map(|c| EventKey {
            os: c.os,
            counter: c.counter.to_string(),
        })
        .collect();
    type Values = Vec<(EventKey, Vec<f64>)>;
    let mut gathered: Vec<((String, u32), Values)> = Vec::new();
    let sources = [
        (Os::Linux, [Purpose::Suite, Purpose::Sdet].as_slice()),
        (Os::K42, [Purpose::Program].as_slice()),
    ];
    for (os, purposes) in sources {
        let counted = boots(results, os.name(), mode)
            .filter(|b| purposes.contains(&b.purpose))
            .flat_map(|b| b.records.iter().map(move |r| (b.smp, r)));
        for (smp, r) in counted {
            let Some(counters) = &r.counters else {
                continue;
            };
            let key = (r.name.clone(), smp);
            let at = match gathered.iter().position(|(k, _)| *k == key) {
                Some(at) => at,
                None => {
                    gathered.push((key, Vec::new()));
                    gathered.len() - 1
                }
            };
            for (name, value) in counters {
                let column = EventKey {
                    os,
                    counter: name.clone(),
                };
                if !columns.contains(&column) {
                    columns.push(column.clone());
                }
                let values = &mut gathered[at].1;
                match values.iter_mut().find(|(c, _)| *c == column) {
                    Some((_, v)) => v.push(*value),
                    None => values.push((column, vec![*value])),
                }
            }
        }
    }
    let rows = gathered
        .into_iter()
        .map(|((name, smp), values)| EventRow {
            name,
            smp,
            counts: columns
                .iter()
                .map(|c| {
                    values
                        .iter()
                        .find(|(k, _)| k == c)
                        .and_then(|(_, v)| Summary::of(v))
                })
                .collect(),
        })
        .collect();
    (columns, rows)
}

/// The boot and memory rows of `mode`, from each run's main boot of each OS (Linux's
/// suite, K42's native boot: each boots with no program of its own yet run), and the time
/// to the shell prompt from each run's shell boot of each OS (`Purpose::Prompt`).
pub fn boot_rows(results: &Results, mode: Mode) -> Vec<Row> {
    let main = |b: &&Boot| matches!(b.purpose, Purpose::Suite | Purpose::Native) && b.status == 0;
    let init_start = |os| {
        let v: Vec<f64> = boots(results, os, mode)
            .filter(main)
            .filter_map(|b| b.init_start_s)
            .collect();
        Summary::of(&v)
    };
    let linux_mem = |name: &str| {
        let v: Vec<f64> = boots(results, "linux", mode)
            .filter(main)
            .flat_map(|b| b.records.iter().filter(|r| r.name == name))
            .map(|r| r.median / KIB_PER_MIB)
            .collect();
        Summary::of(&v)
    };
    // The shell boots: QEMU start to the prompt's first byte, and init-start to it.
    let prompt = |os, since_init: bool| {
        let v: Vec<f64> = boots(results, os, mode)
            .filter(|b| b.purpose == Purpose::Prompt)
            .filter_map(|b| match (b.prompt_s, b.init_start_s) {
                (Some(p), _) if !since_init => Some(p),
                (Some(p), Some(i)) => Some(p - i),
                _ => None,
            })
            .collect();
        Summary::of(&v)
    };
    let k42_free: Vec<f64> = boots(results, "k42", mode)
        .filter(main)
        .filter_map(|b| b.k42_free_mib.map(|m| m as f64))
        .collect();
    let smp = Some(match mode {
        Mode::Icount => results.setup.icount_smp,
        Mode::Wall => results.setup.smp,
    });
    vec![
        Row {
            name: "QEMU start to init-start (host time)".into(),
            unit: SECONDS.into(),
            better: Better::Lower,
            smp,
            linux: init_start("linux"),
            k42: init_start("k42"),
            k42_missing: "no boot completed".into(),
        },
        Row {
            name: PROMPT_ROW.into(),
            unit: SECONDS.into(),
            better: Better::Lower,
            smp,
            linux: prompt("linux", false),
            k42: prompt("k42", false),
            k42_missing: NO_PROMPT.into(),
        },
        Row {
            name: INIT_TO_PROMPT_ROW.into(),
            unit: SECONDS.into(),
            better: Better::Lower,
            smp,
            linux: prompt("linux", true),
            k42: prompt("k42", true),
            k42_missing: NO_PROMPT.into(),
        },
        Row {
            name: format!(
                "free memory after boot with -m {} (Linux MemFree, K42 free frames)",
                results.setup.memory
            ),
            unit: MIB.into(),
            better: Better::Higher,
            smp,
            linux: linux_mem(catalog::MEM_FREE),
            k42: Summary::of(&k42_free),
            k42_missing: "no banner line".into(),
        },
        Row {
            name: format!(
                "available memory after boot with -m {} (Linux MemAvailable)",
                results.setup.memory
            ),
            unit: MIB.into(),
            better: Better::Higher,
            smp,
            linux: linux_mem(catalog::MEM_AVAILABLE),
            k42: None,
            k42_missing: "not yet (no page cache: see free)".into(),
        },
    ]
}

/// The image size rows (the same in every mode).
pub fn size_rows(results: &Results) -> Vec<Row> {
    let mib = |bytes: u64| Summary::of(&[bytes as f64 / BYTES_PER_MIB]);
    let img = &results.images;
    let row = |name: &str, linux: Option<Summary>, k42: Option<Summary>, missing: &str| Row {
        name: name.into(),
        unit: MIB.into(),
        better: Better::Lower,
        smp: None,
        linux,
        k42,
        k42_missing: missing.into(),
    };
    vec![
        row(
            "kernel ELF file booted (K42 ELF with debug info; Linux vmlinux)",
            mib(img.linux_vmlinux.file_bytes),
            mib(img.k42_kernel.file_bytes),
            "",
        ),
        row(
            "kernel in memory (loadable ELF segments)",
            img.linux_vmlinux.loaded_bytes.and_then(mib),
            img.k42_kernel.loaded_bytes.and_then(mib),
            "not an ELF?",
        ),
        row(
            "compressed kernel (Linux bzImage)",
            mib(img.linux_bzimage.file_bytes),
            None,
            "none (boots its ELF)",
        ),
        row(
            "base initramfs (the same archive for both)",
            mib(img.base_initramfs_bytes),
            mib(img.base_initramfs_bytes),
            "",
        ),
    ]
}

/// A row of the K42-only table: one figure in both modes.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlyRow {
    /// Whose figure: K42's, or Linux's of the same runs, beside it.
    pub os: &'static str,
    /// What is measured.
    pub name: String,
    /// The unit of the figures.
    pub unit: String,
    /// Over the `-icount` runs.
    pub icount: Option<Summary>,
    /// Over the wall-time runs.
    pub wall: Option<Summary>,
    /// What a cell without a figure says.
    pub missing: String,
}

/// The OS names of the K42-only table and the repeat counts.
pub const K42: &str = "K42";
/// See [`K42`].
pub const LINUX: &str = "Linux";
/// What a cell says when a boot gave no figure.
const NO_FIGURE: &str = "no figure (see the problems in results.json)";
/// What a cell says when `--filter` left its benchmark out.
const NOT_RUN: &str = "not run (see --filter)";
/// The benchmark that times a Linux syscall reflected to K42's personality.
const REFLECTION_FIGURE: &str = "null_syscall";
/// The counters of K42's reflected getppid shown under it (names as in `bench/bench.h`'s
/// `"counters"`), with what they count.
const REFLECTION_COUNTERS: [(&str, &str); 4] = [
    (
        catalog::KERNEL_ENTRIES,
        "kernel entries (ring transitions: each one in and one out)",
    ),
    ("space_switches", "address-space switches"),
    ("upcalls", "upcalls"),
    ("reflections", "reflected syscalls"),
];
/// The native figure Linux's figures sit beside.
const PPC_FIGURE: &str = "ppc_null_roundtrip";
/// Linux's figures beside the PPC round trip (issue #6): benchmark name, label.
const BESIDE_PPC: [(&str, &str); 2] = [
    (
        "pipe_latency",
        "beside it: pipe ping-pong round trip, 1 byte (`pipe_latency`)",
    ),
    ("null_syscall", "beside it: getppid (`null_syscall`)"),
];

/// The vCPUs of `mode`'s main boots.
fn mode_smp(results: &Results, mode: Mode) -> u32 {
    match mode {
        Mode::Icount => results.setup.icount_smp,
        Mode::Wall => results.setup.smp,
    }
}

/// K42's native figures of `mode` by line name, one value (the run's median) per
/// boot, in first-seen order.
fn native_figures(results: &Results, mode: Mode) -> Vec<(String, Vec<f64>)> {
    let mut out: Vec<(String, Vec<f64>)> = Vec::new();
    for boot in boots(results, "k42", mode).filter(|b| b.purpose == Purpose::Native) {
        for r in &boot.records {
            match out.iter_mut().find(|(name, _)| *name == r.name) {
                Some((_, values)) => values.push(r.median),
                None => out.push((r.name.clone(), vec![r.median])),
            }
        }
    }
    out
}

/// The K42-only figures: every figure of K42's native program (the catalog's
/// required ones even when missing) with its per-call counters, in both modes;
/// Linux's pipe round trip and getppid from the same runs beside the PPC round
/// trip; the upcall alone (the upcall round trip less the null kernel call); and the
/// reflected getppid of K42's `null_syscall` with its kernel events per call.
pub fn k42_only_rows(results: &Results) -> Vec<OnlyRow> {
    let per_mode = [
        native_figures(results, Mode::Icount),
        native_figures(results, Mode::Wall),
    ];
    let native = |mode: usize, name: &str| {
        per_mode[mode]
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| Summary::of(v))
    };
    let sets = |os| Mode::ALL.map(|mode| (figures(results, os, mode), mode_smp(results, mode)));
    let (linux_sets, k42_sets) = (sets("linux"), sets("k42"));
    // A benchmark `name` of `os`'s sets in mode `mode` (0: -icount, 1: wall), at
    // that mode's vCPUs.
    let benchmark = |sets: &[(Figures, u32); 2], mode: usize, name: &str| {
        let (set, smp) = &sets[mode];
        set.iter()
            .find(|((n, unit, s), _)| n == name && unit == catalog::NS && s == smp)
            .and_then(|(_, v)| Summary::of(v))
    };
    let linux = |mode: usize, name: &str| benchmark(&linux_sets, mode, name);
    let seen: Vec<&str> = per_mode
        .iter()
        .flatten()
        .map(|(name, _)| name.as_str())
        .collect();
    // The catalog's figures first, in its order, then any other the program printed.
    let mut figures: Vec<&str> = catalog::NATIVE
        .iter()
        .filter(|n| n.required || seen.contains(&n.name))
        .map(|n| n.name)
        .collect();
    for name in seen.iter().map(|n| record::native_figure(n)) {
        if !figures.contains(&name) {
            figures.push(name);
        }
    }
    let k42_row = |name: String, unit: &str, line: &str| OnlyRow {
        os: K42,
        name,
        unit: unit.into(),
        icount: native(0, line),
        wall: native(1, line),
        missing: NO_FIGURE.into(),
    };
    let mut rows = Vec::new();
    for figure in figures {
        let label = catalog::native(figure).map_or_else(
            || format!("`{figure}`"),
            |n| format!("`{figure}`: {}", n.what),
        );
        rows.push(k42_row(label, catalog::NS, figure));
        let mut suffixes: Vec<&str> = catalog::COUNTERS.iter().map(|c| c.suffix).collect();
        for name in &seen {
            if let Some((f, suffix)) = name.split_once('.')
                && f == figure
                && !suffixes.contains(&suffix)
            {
                suffixes.push(suffix);
            }
        }
        for suffix in suffixes {
            let (what, unit) = catalog::counter(suffix)
                .map_or((suffix, catalog::PER_CALL_README), |c| (c.what, c.unit));
            rows.push(k42_row(
                format!("`{figure}`: {what}"),
                unit,
                &catalog::counter_name(figure, suffix),
            ));
        }
        if figure == PPC_FIGURE {
            for (name, label) in BESIDE_PPC {
                rows.push(OnlyRow {
                    os: LINUX,
                    name: label.into(),
                    unit: catalog::NS.into(),
                    icount: linux(0, name),
                    wall: linux(1, name),
                    missing: NOT_RUN.into(),
                });
            }
        }
    }
    // The upcall alone: each run's upcall round trip less its null kernel call, the same
    // TIMER call without the timer's firing and the upcall (both from the same boot).
    let upcall_alone = |mode: Mode| {
        let diffs: Vec<f64> = boots(results, "k42", mode)
            .filter(|b| b.purpose == Purpose::Native)
            .filter_map(|b| {
                let at = |name: &str| b.records.iter().find(|r| r.name == name);
                let (with, without) = (
                    at(catalog::UPCALL_FIGURE)?,
                    at(catalog::NULL_KERNEL_CALL_FIGURE)?,
                );
                Some(with.median - without.median)
            })
            .collect();
        Summary::of(&diffs)
    };
    rows.push(OnlyRow {
        os: K42,
        name: format!(
            "upcall alone, firing the timer included: `{}` less `{}` (the same TIMER call, \
             neither firing nor upcalling), each run's difference",
            catalog::UPCALL_FIGURE,
            catalog::NULL_KERNEL_CALL_FIGURE
        ),
        unit: catalog::NS.into(),
        icount: upcall_alone(Mode::Icount),
        wall: upcall_alone(Mode::Wall),
        missing: NO_FIGURE.into(),
    });
    let reflection_missing = if results
        .setup
        .filter
        .as_deref()
        .is_some_and(|f| !REFLECTION_FIGURE.contains(f))
    {
        NOT_RUN
    } else {
        NO_FIGURE
    };
    rows.push(OnlyRow {
        os: K42,
        name: format!(
            "syscall reflection to the Linux personality: getppid from a Linux program, round \
             trip (`{REFLECTION_FIGURE}` on K42; Linux's is beside the PPC round trip)"
        ),
        unit: catalog::NS.into(),
        icount: benchmark(&k42_sets, 0, REFLECTION_FIGURE),
        wall: benchmark(&k42_sets, 1, REFLECTION_FIGURE),
        missing: reflection_missing.into(),
    });
    // Its kernel events per call, from the same boots' line (`bench/bench.h`'s counters, as in
    // the kernel-events table).
    let reflection_counter = |mode: Mode, counter: &str| {
        let smp = mode_smp(results, mode);
        let v: Vec<f64> = boots(results, "k42", mode)
            .filter(|b| b.purpose == Purpose::Program && b.smp == smp)
            .flat_map(|b| &b.records)
            .filter(|r| r.name == REFLECTION_FIGURE)
            .filter_map(|r| r.counters.as_ref()?.get(counter).copied())
            .collect();
        Summary::of(&v)
    };
    for (counter, what) in REFLECTION_COUNTERS {
        rows.push(OnlyRow {
            os: K42,
            name: format!("`{REFLECTION_FIGURE}` on K42: {what}"),
            unit: catalog::PER_CALL_README.into(),
            icount: reflection_counter(Mode::Icount, counter),
            wall: reflection_counter(Mode::Wall, counter),
            missing: reflection_missing.into(),
        });
    }
    rows
}

/// A figure whose `-icount` runs differed.
#[derive(Debug, Clone, PartialEq)]
pub struct Differing {
    /// Whose.
    pub os: &'static str,
    /// Its name.
    pub name: String,
    /// vCPUs of its boots.
    pub smp: u32,
    /// max − min over the median, percent.
    pub spread: f64,
}

/// How well the `-icount` figures repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    /// Per OS: figures with more than one run, and of those how many were exactly
    /// the same in every run.
    pub counts: Vec<(&'static str, usize, usize)>,
    /// The others, largest spread first.
    pub differing: Vec<Differing>,
}

impl Repeat {
    /// Figures compared, all OSes.
    pub fn compared(&self) -> usize {
        self.counts.iter().map(|c| c.1).sum()
    }

    /// Figures identical in every run, all OSes.
    pub fn identical(&self) -> usize {
        self.counts.iter().map(|c| c.2).sum()
    }
}

/// Whether the `-icount` figures repeated exactly across runs: Linux's benchmarks,
/// and K42's (its native program's figures and counters, and any benchmark).
pub fn icount_repeat(results: &Results) -> Repeat {
    let mut repeat = Repeat {
        counts: vec![(LINUX, 0, 0), (K42, 0, 0)],
        differing: Vec::new(),
    };
    let smp = results.setup.icount_smp;
    let benchmarks = benchmark_rows(results, Mode::Icount);
    let mut figures: Vec<(&'static str, String, u32, Option<Summary>)> = Vec::new();
    for row in &benchmarks {
        let smp = row.smp.unwrap_or(0);
        figures.push((LINUX, row.name.clone(), smp, row.linux));
        figures.push((K42, row.name.clone(), smp, row.k42));
    }
    for (name, values) in native_figures(results, Mode::Icount) {
        figures.push((K42, name, smp, Summary::of(&values)));
    }
    for (os, name, smp, summary) in figures {
        let Some(s) = summary.filter(|s| s.runs > 1) else {
            continue;
        };
        let Some(count) = repeat.counts.iter_mut().find(|c| c.0 == os) else {
            continue;
        };
        count.1 += 1;
        if s.identical {
            count.2 += 1;
        } else {
            repeat.differing.push(Differing {
                os,
                name,
                smp,
                spread: s.spread_percent(),
            });
        }
    }
    repeat
        .differing
        .sort_by(|a, b| b.spread.total_cmp(&a.spread));
    repeat
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::bench::footprint::ImageSize;
    use crate::bench::record::Record;
    use crate::bench::results::{Images, Setup};

    fn record(name: &str, unit: &str, median: f64) -> Record {
        Record {
            name: name.into(),
            unit: unit.into(),
            iterations: 1,
            median,
            min: median,
            max: median,
            counters: None,
        }
    }

    /// `r` with `counters` per operation.
    fn counted(mut r: Record, counters: &[(&str, f64)]) -> Record {
        r.counters = Some(counters.iter().map(|(n, v)| (n.to_string(), *v)).collect());
        r
    }

    fn boot(run: u32, os: &str, mode: Mode, records: Vec<Record>) -> Boot {
        Boot {
            run,
            os: os.into(),
            mode,
            purpose: if os == "k42" {
                Purpose::Native
            } else {
                Purpose::Suite
            },
            smp: match mode {
                Mode::Icount => 1,
                Mode::Wall => 2,
            },
            qemu_command: "qemu".into(),
            argv: vec!["program".into()],
            status: 0,
            problems: Vec::new(),
            init_start_s: Some(f64::from(run)),
            prompt_s: None,
            elapsed_s: 1.0,
            records,
            k42_free_mib: (os == "k42").then_some(485),
            k42_managed_mib: (os == "k42").then_some(507),
        }
    }

    /// Two runs: null_syscall repeats exactly under icount, fork_exit does not; K42
    /// runs null_syscall in a program boot of its own (repeating under icount), whose
    /// boot time and free memory the boot rows leave out.
    pub(in crate::bench) fn sample() -> Results {
        let size = |b| ImageSize {
            path: "x".into(),
            file_bytes: b,
            loaded_bytes: Some(b / 2),
        };
        let mut boots = Vec::new();
        for run in 1..=2 {
            for mode in Mode::ALL {
                boots.push(boot(
                    run,
                    "linux",
                    mode,
                    vec![
                        record(catalog::MEM_FREE, catalog::KIB, 460_800.0),
                        record(catalog::MEM_AVAILABLE, catalog::KIB, 462_848.0),
                        counted(
                            record("null_syscall", "ns", 359.1),
                            &[("context_switches", 0.0001), ("page_faults", 0.0)],
                        ),
                        counted(
                            record("pipe_latency", "ns", 13_200.0),
                            &[("context_switches", 2.0), ("new_counter", 3.0)],
                        ),
                        record("fork_exit", "ns", 100_000.0 + f64::from(run)),
                    ],
                ));
                // ppcbench: the PPC round trip repeats under icount, not in wall time;
                // one figure the catalog does not know.
                let ppc = match mode {
                    Mode::Icount => 2820.7,
                    Mode::Wall => 21_000.0 + f64::from(run),
                };
                let counts = |name: &str, [entries, switches, upcalls]: [f64; 3], ns| {
                    vec![
                        record(
                            &format!("{name}.kernel_entries"),
                            catalog::PER_CALL,
                            entries,
                        ),
                        record(
                            &format!("{name}.space_switches"),
                            catalog::PER_CALL,
                            switches,
                        ),
                        record(&format!("{name}.upcalls"), catalog::PER_CALL, upcalls),
                        record(&format!("{name}.kernel_ns"), catalog::PER_CALL, ns),
                    ]
                };
                let mut native = vec![record("ppc_null_roundtrip", "ns", ppc)];
                native.extend(counts("ppc_null_roundtrip", [2.0, 2.0, 1.0], 2324.0));
                native.push(record("kernel_object_null_call", "ns", 1125.1));
                native.extend(counts("kernel_object_null_call", [1.0, 0.0, 0.0], 899.7));
                // The upcall round trip and the same kernel call without it: 579 ns apart
                // under icount; in wall time 600 + run apart.
                let (null, upcall) = match mode {
                    Mode::Icount => (321.0, 900.0),
                    Mode::Wall => (380.0 + f64::from(run), 980.0 + 2.0 * f64::from(run)),
                };
                native.push(record("null_kernel_call", "ns", null));
                native.extend(counts("null_kernel_call", [1.0, 0.0, 0.0], 209.0));
                native.push(record("upcall_roundtrip", "ns", upcall));
                native.extend(counts("upcall_roundtrip", [1.0, 0.0, 1.0], 500.0));
                native.push(record("new_figure", "ns", 50.0));
                native.push(record("new_figure.tlb_flushes", catalog::PER_CALL, 0.0));
                boots.push(boot(run, "k42", mode, native));
                let getppid = match mode {
                    Mode::Icount => 3087.0,
                    Mode::Wall => 4200.0 + f64::from(run),
                };
                let getppid = counted(
                    record("null_syscall", "ns", getppid),
                    &[
                        ("kernel_entries", 2.0),
                        ("space_switches", 0.0),
                        ("upcalls", 1.0),
                        ("reflections", 1.0),
                    ],
                );
                let mut program = boot(run, "k42", mode, vec![getppid]);
                program.purpose = Purpose::Program;
                program.init_start_s = Some(100.0);
                program.k42_free_mib = Some(1);
                boots.push(program);
                // The shell boots: K42's prompt 0.5 s after QEMU's start, Linux's 3 s
                // (plus the run); Linux's second run shows none.
                for (os, prompt) in [("k42", 0.5), ("linux", 3.0 + f64::from(run))] {
                    let mut shell = boot(run, os, mode, Vec::new());
                    shell.purpose = Purpose::Prompt;
                    shell.init_start_s = Some(prompt - 0.25);
                    shell.prompt_s = (os == "k42" || run == 1).then_some(prompt);
                    boots.push(shell);
                }
            }
        }
        Results {
            setup: Setup {
                command: "cargo xtask bench --quick".into(),
                quick: true,
                runs: 2,
                smp: 2,
                icount_smp: 1,
                filter: None,
                accelerator: "tcg".into(),
                cpu_model: "max".into(),
                machine: "pc".into(),
                memory: "512M".into(),
                qemu_version: "QEMU 7.2".into(),
                host_cpu: "AMD EPYC".into(),
                host_cpus: 2,
                git_commit: "abc".into(),
                git_dirty: false,
                date_utc: "2026-11-26T00:00:00Z".into(),
                wall_seconds: 1.0,
            },
            images: Images {
                k42_kernel: size(4 << 20),
                linux_vmlinux: size(64 << 20),
                linux_bzimage: size(8 << 20),
                base_initramfs_bytes: 2 << 20,
            },
            boots,
        }
    }

    #[test]
    fn rows_keep_every_benchmark_and_say_why_k42_has_none() {
        let results = sample();
        let rows = benchmark_rows(&results, Mode::Icount);
        // K42's native figures are not benchmarks of bench/.
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].name, "null_syscall");
        assert_eq!(rows[0].linux.map(|s| s.median), Some(359.1));
        assert_eq!(rows[0].k42.map(|s| s.median), Some(3087.0));
        assert_eq!(rows[0].ratio(), Some(3087.0 / 359.1));
        // One K42 runs whose boots gave nothing, and one it cannot run yet.
        assert_eq!(rows[1].name, "pipe_latency");
        assert_eq!(rows[1].k42, None);
        assert_eq!(rows[1].ratio(), None);
        assert_eq!(rows[1].k42_missing, NO_FIGURE);
        assert_eq!(k42_missing("stat"), NO_FIGURE);
        assert_eq!(k42_missing("sdet_4"), NO_FIGURE);
        assert_eq!(k42_missing("thread_create_join"), NO_FIGURE);
        assert_eq!(rows[2].linux.map(|s| s.median), Some(100_001.5));
        let wall = benchmark_rows(&results, Mode::Wall);
        assert_eq!(wall[0].k42.map(|s| (s.median, s.runs)), Some((4201.5, 2)));
    }

    #[test]
    fn event_rows_take_medians_per_counter_of_each_os() {
        let (columns, rows) = event_rows(&sample(), Mode::Icount);
        // The catalog's columns, then Linux's counter it does not know.
        assert_eq!(columns.len(), catalog::EVENT_COLUMNS.len() + 1);
        assert_eq!(
            columns[0],
            EventKey {
                os: Os::K42,
                counter: "kernel_entries".into()
            }
        );
        let last = columns.last().expect("columns");
        assert_eq!((last.os, last.counter.as_str()), (Os::Linux, "new_counter"));
        let column = |os, counter: &str| {
            columns
                .iter()
                .position(|c| c.os == os && c.counter == counter)
                .expect("a column")
        };
        // null_syscall carries counters on both OSes, pipe_latency on Linux only.
        assert_eq!(rows.len(), 2);
        let null = &rows[0];
        assert_eq!((null.name.as_str(), null.smp), ("null_syscall", 1));
        assert_eq!(
            null.counts[column(Os::K42, "kernel_entries")].map(|s| (s.median, s.runs)),
            Some((2.0, 2))
        );
        assert_eq!(
            null.counts[column(Os::K42, "space_switches")].map(|s| s.median),
            Some(0.0)
        );
        assert!(null.counts[column(Os::K42, "tlb_flushes")].is_none());
        let ctxt = null.counts[column(Os::Linux, "context_switches")].expect("Linux's");
        assert_eq!((ctxt.median, ctxt.runs), (0.0001, 2));
        assert_eq!(rows[1].name, "pipe_latency");
        assert!(rows[1].counts[column(Os::K42, "kernel_entries")].is_none());
        assert_eq!(
            rows[1].counts[column(Os::Linux, "new_counter")].map(|s| s.median),
            Some(3.0)
        );
    }

    #[test]
    fn boot_rows_have_ratios_where_k42_reports() {
        let results = sample();
        let rows = boot_rows(&results, Mode::Wall);
        assert_eq!(rows[0].linux.map(|s| s.median), Some(1.5));
        assert_eq!(rows[0].ratio(), Some(1.0));
        // Only the shell boots count for the prompt, only those that showed one.
        assert_eq!(rows[1].name, PROMPT_ROW);
        assert_eq!(rows[1].linux.map(|s| (s.median, s.runs)), Some((4.0, 1)));
        assert_eq!(rows[1].k42.map(|s| (s.median, s.runs)), Some((0.5, 2)));
        assert_eq!(rows[1].ratio(), Some(0.125));
        assert_eq!(rows[2].name, INIT_TO_PROMPT_ROW);
        assert_eq!(rows[2].k42.map(|s| s.median), Some(0.25));
        assert_eq!(
            rows[3].name,
            "free memory after boot with -m 512M (Linux MemFree, K42 free frames)"
        );
        assert!(rows[4].name.contains("with -m 512M ("));
        assert_eq!(rows[3].linux.map(|s| s.median), Some(450.0));
        assert_eq!(rows[3].k42.map(|s| s.median), Some(485.0));
        assert!(rows[4].k42.is_none());
        let sizes = size_rows(&results);
        assert_eq!(sizes[0].ratio(), Some(1.0 / 16.0));
        assert_eq!(sizes[3].ratio(), Some(1.0));
    }

    #[test]
    fn icount_repeats_are_counted() {
        let repeat = icount_repeat(&sample());
        // Linux: null_syscall and pipe_latency repeat, fork_exit does not; K42: its
        // null_syscall and all twenty-two native lines repeat.
        assert_eq!(repeat.counts, vec![(LINUX, 3, 2), (K42, 23, 23)]);
        assert_eq!((repeat.compared(), repeat.identical()), (26, 25));
        assert_eq!(repeat.differing.len(), 1);
        assert_eq!(repeat.differing[0].os, LINUX);
        assert_eq!(repeat.differing[0].name, "fork_exit");
        assert_eq!(repeat.differing[0].smp, 1);
        assert!(repeat.differing[0].spread > 0.0);
    }

    #[test]
    fn k42_only_rows_have_both_modes_counters_and_linux_beside() {
        let rows = k42_only_rows(&sample());
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let at = |needle: &str| {
            names
                .iter()
                .position(|n| n.contains(needle))
                .unwrap_or_else(|| panic!("no row {needle} in {names:?}"))
        };
        let ppc = &rows[0];
        assert_eq!(ppc.os, K42);
        assert!(
            ppc.name
                .starts_with("`ppc_null_roundtrip`: null PPC round trip")
        );
        assert_eq!(ppc.unit, "ns");
        assert!(
            ppc.icount
                .is_some_and(|s| s.identical && s.median == 2820.7)
        );
        assert!(
            ppc.wall
                .is_some_and(|s| !s.identical && s.median == 21_001.5)
        );
        // Its counters, in the catalog's order and units.
        assert!(rows[1].name.contains("kernel entries"));
        assert_eq!(rows[1].unit, "per call");
        assert_eq!(rows[1].icount.map(|s| s.median), Some(2.0));
        assert_eq!(rows[3].wall.map(|s| s.median), Some(1.0));
        assert_eq!(rows[4].unit, "ns");
        assert_eq!(rows[4].icount.map(|s| s.median), Some(2324.0));
        // Linux beside it, from the same runs, at each mode's vCPUs.
        let pipe = &rows[at("pipe_latency")];
        assert_eq!(pipe.os, LINUX);
        assert_eq!(at("pipe_latency"), 5);
        assert_eq!(pipe.icount.map(|s| s.median), Some(13_200.0));
        assert_eq!(pipe.wall.map(|s| s.median), Some(13_200.0));
        assert_eq!(rows[at("getppid")].icount.map(|s| s.median), Some(359.1));
        // Zero counts are figures; the unknown figure and counter are kept.
        let object = at("`kernel_object_null_call`: null call");
        assert_eq!(rows[object + 2].icount.map(|s| s.median), Some(0.0));
        let new = names
            .iter()
            .position(|n| *n == "`new_figure`")
            .expect("the unknown figure's row");
        assert!(rows[new + 1].name.contains("kernel entries"));
        assert!(rows[new + 1].icount.is_none());
        assert_eq!(rows[new + 1].missing, NO_FIGURE);
        let flushes = &rows[at("new_figure`: tlb_flushes")];
        assert!(flushes.icount.is_some());
        assert_eq!(flushes.unit, "per call");
        // The upcall round trip with its counters, and the upcall alone: each run's
        // difference from the null kernel call.
        let upcall = at("`upcall_roundtrip`: upcall round trip");
        assert_eq!(rows[upcall].icount.map(|s| s.median), Some(900.0));
        assert_eq!(rows[upcall + 1].icount.map(|s| s.median), Some(1.0));
        assert_eq!(rows[upcall + 3].wall.map(|s| s.median), Some(1.0));
        let alone = &rows[at("upcall alone")];
        assert_eq!(alone.os, K42);
        assert_eq!(alone.unit, "ns");
        assert!(
            alone
                .icount
                .is_some_and(|s| s.identical && s.median == 579.0)
        );
        let wall = alone.wall.expect("wall time");
        assert_eq!((wall.min, wall.max, wall.runs), (601.0, 602.0, 2));
        // Reflection is K42's getppid, with its kernel events per call.
        let reflection = &rows[at("syscall reflection")];
        assert_eq!(reflection.os, K42);
        assert_eq!(reflection.icount.map(|s| s.median), Some(3087.0));
        assert_eq!(reflection.wall.map(|s| s.median), Some(4201.5));
        let events = &rows[at("syscall reflection") + 1..];
        assert_eq!(events.len(), REFLECTION_COUNTERS.len());
        assert!(
            events[0]
                .name
                .starts_with("`null_syscall` on K42: kernel entries")
        );
        assert_eq!(events[0].icount.map(|s| s.median), Some(2.0));
        assert_eq!(events[0].unit, "per call");
        assert_eq!(events[2].wall.map(|s| (s.median, s.runs)), Some((1.0, 2)));
        assert_eq!(events[3].icount.map(|s| s.median), Some(1.0));
    }

    #[test]
    fn required_native_figures_show_even_when_missing() {
        let mut results = sample();
        for b in &mut results.boots {
            b.records.retain(|r| !r.name.starts_with("kernel_object"));
        }
        let rows = k42_only_rows(&results);
        let object = rows
            .iter()
            .find(|r| r.name.starts_with("`kernel_object_null_call`: null call"))
            .expect("a row");
        assert!(object.icount.is_none() && object.wall.is_none());
        assert_eq!(object.missing, NO_FIGURE);
    }
}
