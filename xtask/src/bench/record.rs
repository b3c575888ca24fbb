//! The result lines the benchmark programs print (`bench/bench.h`):
//!
//! ```text
//! {"name":"null_syscall","unit":"ns","iterations":100000,"median":359.10,"min":358.90,"max":360.20}
//! ```
//!
//! parsed into [`Record`]s, and checked against what was asked for: the expected
//! name, unit and iteration count, and plausible figures (finite, positive,
//! min <= median <= max). No timing threshold: a slow figure is still a figure.
//!
//! K42's native program (`catalog::PPCBENCH_PROGRAM`) prints lines of the same form
//! without being told names or counts: [`check_native`] checks their form (figures in
//! ns, per-call counters that may be zero), and [`check_design`] the counters that
//! K42's design fixes (a PPC round trip is two kernel entries, two address-space
//! switches and one upcall) and that kernel time was counted — the test tier's check, not
//! the benchmark's.
//!
//! A line of `bench/` also carries `"counters":{…}`, the kernel's events per operation
//! ([`Record::counters`]: K42's on K42, Linux's from `/proc` on Linux); [`check`] wants them
//! finite and not negative.
//!
//! `mod.rs` collects a boot's records; `../test/bench_tier.rs` runs [`check`] on
//! every line of the sanity boot.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::catalog::{self, Native};

/// How far a measured per-call count may sit from its design value: a timer tick
/// that lands inside the timed loop is a kernel entry too (and may preempt), which
/// adds a small fraction per call; a design change moves a count by a whole one.
pub const DESIGN_TOLERANCE: f64 = 0.05;

/// The suffix of a native figure's kernel-time line (`catalog::COUNTERS`' last).
const KERNEL_NS: &str = "kernel_ns";

/// One result line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The benchmark's name.
    pub name: String,
    /// The unit of median/min/max.
    pub unit: String,
    /// Operations per timed batch, as asked for on the command line.
    pub iterations: u64,
    /// The median over the program's timed batches.
    pub median: f64,
    /// The smallest of them.
    pub min: f64,
    /// The largest of them.
    pub max: f64,
    /// The kernel's events per operation over the timed batches, by counter name: what
    /// `bench/bench.h` read around them — on K42 from the personality's
    /// `/proc/k42/counters` (`kernel_entries`, `space_switches`, `tlb_flushes`, …), on Linux
    /// from `/proc/stat`, `/proc/vmstat` and `/proc/interrupts` (`context_switches`,
    /// `page_faults`, …). None on meminfo's lines and ppcbench's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counters: Option<BTreeMap<String, f64>>,
}

/// The records in `output`, in order, and a message for each line that looked like
/// one (started with `{`) but did not parse.
pub fn parse(output: &str) -> (Vec<Record>, Vec<String>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for line in output.lines().map(str::trim) {
        if !line.starts_with('{') {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(record) => records.push(record),
            Err(e) => errors.push(format!("malformed result line [{line}]: {e}")),
        }
    }
    (records, errors)
}

/// What a record should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The name.
    pub name: String,
    /// The unit.
    pub unit: String,
    /// The iteration count asked for.
    pub iterations: u64,
}

/// Whether `record` is the well-formed, plausible answer to `expected`.
pub fn check(record: &Record, expected: &Expected) -> Result<(), String> {
    if record.name != expected.name {
        return Err(format!("name {}, expected {}", record.name, expected.name));
    }
    if record.unit != expected.unit {
        return Err(format!("unit {}, expected {}", record.unit, expected.unit));
    }
    if record.iterations != expected.iterations {
        return Err(format!(
            "{} iterations, expected {}",
            record.iterations, expected.iterations
        ));
    }
    plausible(record)?;
    plausible_counters(record)
}

/// Counters, when the line has them: each finite and not negative (a count per operation).
pub fn plausible_counters(record: &Record) -> Result<(), String> {
    for (name, value) in record.counters.iter().flatten() {
        if !(value.is_finite() && *value >= 0.0) {
            return Err(format!(
                "counter {name} must be finite and not negative: {value}"
            ));
        }
    }
    Ok(())
}

/// Finite figures in order (min <= median <= max), positive — or, for a per-call
/// count, not negative (a kernel object call switches no address space).
fn plausible(record: &Record) -> Result<(), String> {
    let counts = record.unit == catalog::PER_CALL;
    let figures = [record.min, record.median, record.max];
    if !figures
        .iter()
        .all(|f| f.is_finite() && (*f > 0.0 || (counts && *f == 0.0)))
    {
        return Err(format!(
            "figures must be finite and {}: min {} median {} max {}",
            if counts { "not negative" } else { "positive" },
            record.min,
            record.median,
            record.max
        ));
    }
    if !(record.min <= record.median && record.median <= record.max) {
        return Err(format!(
            "min {} <= median {} <= max {} does not hold",
            record.min, record.median, record.max
        ));
    }
    Ok(())
}

/// The figure a native line belongs to: `NAME` for a figure, `NAME` of `NAME.COUNTER`.
pub fn native_figure(name: &str) -> &str {
    name.split_once('.').map_or(name, |(figure, _)| figure)
}

/// Whether `record` is a well-formed line of K42's native program: a figure in ns, or
/// a counter `NAME.COUNTER` per call; some iterations; plausible figures.
pub fn check_native(record: &Record) -> Result<(), String> {
    let unit = if record.name.contains('.') {
        catalog::PER_CALL
    } else {
        catalog::NS
    };
    if record.unit != unit {
        return Err(format!("unit {}, expected {unit}", record.unit));
    }
    if record.iterations == 0 {
        return Err("0 iterations".into());
    }
    plausible(record)
}

/// Whether `records` show `native`'s per-call counts by design (to
/// [`DESIGN_TOLERANCE`]), and kernel time for it: every native figure enters the kernel, so
/// its `kernel_ns` is positive unless the kernel-time counter stayed off (`Boot::time_kernel`).
pub fn check_design(records: &[Record], native: &Native) -> Result<(), String> {
    let mut wrong = Vec::new();
    let kernel_ns = catalog::counter_name(native.name, KERNEL_NS);
    if let Some(r) = records.iter().find(|r| r.name == kernel_ns)
        && r.median <= 0.0
    {
        wrong.push(format!("{kernel_ns} {}: no kernel time counted", r.median));
    }
    for (counter, want) in catalog::COUNTERS.iter().zip(native.design) {
        let name = catalog::counter_name(native.name, counter.suffix);
        match records.iter().find(|r| r.name == name) {
            None => wrong.push(format!("no {name} line")),
            Some(r) if (r.median - want as f64).abs() > DESIGN_TOLERANCE => {
                wrong.push(format!("{name} {}, by design {want}", r.median));
            }
            Some(_) => {}
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"name":"null_syscall","unit":"ns","iterations":100,"median":359.10,"min":358.90,"max":360.20}"#;

    fn expected() -> Expected {
        Expected {
            name: "null_syscall".into(),
            unit: "ns".into(),
            iterations: 100,
        }
    }

    #[test]
    fn parses_result_lines_among_noise() {
        let output = format!("noise\n  {LINE}\r\n{{broken\nbench: x: failed\n");
        let (records, errors) = parse(&output);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].name, "null_syscall");
        assert_eq!(records[0].iterations, 100);
        assert!((records[0].median - 359.1).abs() < 1e-9);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("{broken"));
        // A missing or extra field is malformed, not silently defaulted.
        let (_, errors) = parse(r#"{"name":"x","unit":"ns","iterations":1,"median":1,"min":1}"#);
        assert_eq!(errors.len(), 1);
        let (_, errors) = parse(&LINE.replace("}", r#","extra":1}"#));
        assert_eq!(errors.len(), 1);
        // The counters ride along; a line may have none.
        let counted = LINE.replace(
            "}",
            r#","counters":{"kernel_entries":2.0001,"tlb_flushes":0.0000}}"#,
        );
        let (records, errors) = parse(&counted);
        assert!(errors.is_empty(), "{errors:?}");
        let counters = records[0].counters.as_ref().expect("counters");
        assert_eq!(counters.get("kernel_entries"), Some(&2.0001));
        assert_eq!(check(&records[0], &expected()), Ok(()));
        assert_eq!(parse(LINE).0[0].counters, None);
        let negative = counted.replace("2.0001", "-1");
        assert!(check(&parse(&negative).0[0], &expected()).is_err());
    }

    #[test]
    fn checks_names_counts_and_plausibility() {
        let (records, _) = parse(LINE);
        let good = &records[0];
        assert_eq!(check(good, &expected()), Ok(()));
        let with = |f: fn(&mut Record)| {
            let mut r = good.clone();
            f(&mut r);
            check(&r, &expected())
        };
        assert!(with(|r| r.name = "other".into()).is_err());
        assert!(with(|r| r.unit = "MB/s".into()).is_err());
        assert!(with(|r| r.iterations = 99).is_err());
        assert!(with(|r| r.min = 0.0).is_err());
        assert!(with(|r| r.max = f64::NAN).is_err());
        assert!(with(|r| r.median = 400.0).is_err());
        assert!(with(|r| r.min = 360.0).is_err());
        // Zero is a count, not a time.
        let mut count = good.clone();
        count.unit = catalog::PER_CALL.into();
        count.min = 0.0;
        let mut want = expected();
        want.unit = catalog::PER_CALL.into();
        assert_eq!(check(&count, &want), Ok(()));
        // Equal figures (icount can repeat exactly) are fine.
        assert_eq!(
            with(|r| {
                r.min = 359.1;
                r.max = 359.1;
            }),
            Ok(())
        );
    }

    const PPCBENCH: &str = r#"k42-run: init-start
{"name":"ppc_null_roundtrip","unit":"ns","iterations":2000,"median":2820.70,"min":2802.23,"max":2820.70}
{"name":"ppc_null_roundtrip.kernel_entries","unit":"per_call","iterations":2000,"median":2.00,"min":2.00,"max":2.00}
{"name":"ppc_null_roundtrip.space_switches","unit":"per_call","iterations":2000,"median":2.00,"min":2.00,"max":2.00}
{"name":"ppc_null_roundtrip.upcalls","unit":"per_call","iterations":2000,"median":1.00,"min":1.00,"max":1.00}
{"name":"ppc_null_roundtrip.kernel_ns","unit":"per_call","iterations":2000,"median":2324.01,"min":2324.01,"max":2324.01}
{"name":"kernel_object_null_call.space_switches","unit":"per_call","iterations":2000,"median":0.00,"min":0.00,"max":0.00}
"#;

    #[test]
    fn native_lines_are_figures_and_counts() {
        let (records, errors) = parse(PPCBENCH);
        assert!(errors.is_empty());
        assert_eq!(records.len(), 6);
        for r in &records {
            assert_eq!(check_native(r), Ok(()), "{}", r.name);
        }
        assert_eq!(native_figure(&records[1].name), "ppc_null_roundtrip");
        assert_eq!(native_figure(&records[0].name), "ppc_null_roundtrip");
        let mut wrong = records[0].clone();
        wrong.unit = catalog::PER_CALL.into();
        assert!(check_native(&wrong).is_err());
        let mut zero_time = records[0].clone();
        zero_time.min = 0.0;
        assert!(check_native(&zero_time).is_err());
        let mut none = records[5].clone();
        none.iterations = 0;
        assert!(check_native(&none).is_err());
    }

    #[test]
    fn design_counts_are_checked_with_a_tick_of_slack() {
        let (mut records, _) = parse(PPCBENCH);
        let ppc = catalog::native("ppc_null_roundtrip").expect("in the catalog");
        assert_eq!(check_design(&records, ppc), Ok(()));
        records[1].median = 2.01; // a timer tick inside the loop
        assert_eq!(check_design(&records, ppc), Ok(()));
        records[3].median = 2.0; // an upcall too many
        let why = check_design(&records, ppc).expect_err("wrong upcalls");
        assert!(why.contains("upcalls 2, by design 1"), "{why}");
        records[3].median = 1.0;
        let kernel_ns = records
            .iter_mut()
            .find(|r| r.name == "ppc_null_roundtrip.kernel_ns")
            .expect("in the sample");
        kernel_ns.median = 0.0; // the kernel-time counter left off
        let why = check_design(&records, ppc).expect_err("no kernel time");
        assert!(why.contains("kernel_ns 0: no kernel time"), "{why}");
        let object = catalog::native("kernel_object_null_call").expect("in the catalog");
        let why = check_design(&records, object).expect_err("lines missing");
        assert!(why.contains("no kernel_object_null_call.kernel_entries line"));
    }
}
