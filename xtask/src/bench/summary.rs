//! The tables, computed from the raw results alone: per mode, one row per
//! benchmark (and vCPU count) with Linux's and K42's figures over the runs and
//! their ratio; the boot and footprint rows; the K42-only rows; and whether the
//! `-icount` figures repeated exactly from run to run.
//!
//! Where K42 has no figure the row says why ("not yet (issue #4)"): a benchmark
//! is never dropped and never given a made-up number. `report.rs` and `chart.rs`
//! draw these rows.

use super::catalog::{self, Better};
use super::results::{Boot, Mode, Purpose, Results};
use super::stats::Summary;

/// Why a Linux program has no K42 figure yet.
pub const NEEDS_PERSONALITY: &str = "not yet (issue #4)";
const KIB_PER_MIB: f64 = 1024.0;
const BYTES_PER_MIB: f64 = 1024.0 * 1024.0;
const MIB: &str = "MiB";
const SECONDS: &str = "s";

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

/// Every benchmark figure of `os` in `mode`, in first-seen order.
fn figures(results: &Results, os: &str, mode: Mode) -> Figures {
    let mut out: Figures = Vec::new();
    for boot in boots(results, os, mode) {
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
            k42_missing: NEEDS_PERSONALITY.into(),
        })
        .collect()
}

/// The boot and memory rows of `mode`.
pub fn boot_rows(results: &Results, mode: Mode) -> Vec<Row> {
    let main = |b: &&Boot| b.purpose != Purpose::Sdet && b.status == 0;
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
            name: "free memory after boot (Linux MemFree, K42 free frames)".into(),
            unit: MIB.into(),
            better: Better::Higher,
            smp,
            linux: linux_mem(catalog::MEM_FREE),
            k42: Summary::of(&k42_free),
            k42_missing: "no banner line".into(),
        },
        Row {
            name: "available memory after boot (Linux MemAvailable)".into(),
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

/// The K42-only figures, none of which exist yet.
pub fn k42_only_rows() -> Vec<Row> {
    let row = |name: &str, missing: &str| Row {
        name: name.into(),
        unit: catalog::NS.into(),
        better: Better::Lower,
        smp: None,
        linux: None,
        k42: None,
        k42_missing: missing.into(),
    };
    vec![
        row(
            "PPC round trip (protected procedure call)",
            "not yet (issue #3)",
        ),
        row("upcall to a dispatcher", "not yet (issue #3)"),
        row(
            "syscall reflection to the Linux personality",
            "not yet (issue #4)",
        ),
    ]
}

/// How well the `-icount` figures repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    /// Linux figures with more than one run.
    pub compared: usize,
    /// Of those, how many were exactly the same in every run.
    pub identical: usize,
    /// The others: name, vCPUs and spread in percent, largest first.
    pub differing: Vec<(String, u32, f64)>,
}

/// Whether Linux's `-icount` figures repeated exactly across runs.
pub fn icount_repeat(results: &Results) -> Repeat {
    let mut repeat = Repeat {
        compared: 0,
        identical: 0,
        differing: Vec::new(),
    };
    for row in benchmark_rows(results, Mode::Icount) {
        let Some(s) = row.linux.filter(|s| s.runs > 1) else {
            continue;
        };
        repeat.compared += 1;
        if s.identical {
            repeat.identical += 1;
        } else {
            repeat
                .differing
                .push((row.name.clone(), row.smp.unwrap_or(0), s.spread_percent()));
        }
    }
    repeat.differing.sort_by(|a, b| b.2.total_cmp(&a.2));
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
        }
    }

    fn boot(run: u32, os: &str, mode: Mode, records: Vec<Record>) -> Boot {
        Boot {
            run,
            os: os.into(),
            mode,
            purpose: if os == "k42" {
                Purpose::Footprint
            } else {
                Purpose::Suite
            },
            smp: 2,
            qemu_command: "qemu".into(),
            status: 0,
            problems: Vec::new(),
            init_start_s: Some(f64::from(run)),
            elapsed_s: 1.0,
            records,
            k42_free_mib: (os == "k42").then_some(485),
            k42_managed_mib: (os == "k42").then_some(507),
        }
    }

    /// Two runs: null_syscall repeats exactly under icount, fork_exit does not.
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
                        record("null_syscall", "ns", 359.1),
                        record("fork_exit", "ns", 100_000.0 + f64::from(run)),
                    ],
                ));
                boots.push(boot(run, "k42", mode, Vec::new()));
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
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "null_syscall");
        assert_eq!(rows[0].linux.map(|s| s.median), Some(359.1));
        assert_eq!(rows[0].k42, None);
        assert_eq!(rows[0].ratio(), None);
        assert_eq!(rows[0].k42_missing, NEEDS_PERSONALITY);
        assert_eq!(rows[1].linux.map(|s| s.median), Some(100_001.5));
    }

    #[test]
    fn boot_rows_have_ratios_where_k42_reports() {
        let results = sample();
        let rows = boot_rows(&results, Mode::Wall);
        assert_eq!(rows[0].linux.map(|s| s.median), Some(1.5));
        assert_eq!(rows[0].ratio(), Some(1.0));
        assert_eq!(rows[1].linux.map(|s| s.median), Some(450.0));
        assert_eq!(rows[1].k42.map(|s| s.median), Some(485.0));
        assert!(rows[2].k42.is_none());
        let sizes = size_rows(&results);
        assert_eq!(sizes[0].ratio(), Some(1.0 / 16.0));
        assert_eq!(sizes[3].ratio(), Some(1.0));
    }

    #[test]
    fn icount_repeats_are_counted() {
        let repeat = icount_repeat(&sample());
        assert_eq!((repeat.compared, repeat.identical), (2, 1));
        assert_eq!(repeat.differing[0].0, "fork_exit");
        assert!(repeat.differing[0].2 > 0.0);
    }
}
