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
//! `mod.rs` collects a boot's records; `../test/bench_tier.rs` runs [`check`] on
//! every line of the sanity boot.

use serde::{Deserialize, Serialize};

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
    let figures = [record.min, record.median, record.max];
    if !figures.iter().all(|f| f.is_finite() && *f > 0.0) {
        return Err(format!(
            "figures must be finite and positive: min {} median {} max {}",
            record.min, record.median, record.max
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
        // Equal figures (icount can repeat exactly) are fine.
        assert_eq!(
            with(|r| {
                r.min = 359.1;
                r.max = 359.1;
            }),
            Ok(())
        );
    }
}
