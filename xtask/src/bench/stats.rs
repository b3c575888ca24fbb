//! Across-run statistics: each program run reports one median per benchmark (over
//! its own timed batches); a benchmark's figure is the median of those per-run
//! medians, with the smallest and largest as its spread, and whether every run
//! gave exactly the same figure (what `-icount` should achieve).
//!
//! `summary.rs` applies this to every row of the tables.

use serde::Serialize;

/// The median of `values` (the mean of the middle two for an even count), or
/// `None` when there are none. NaNs sort last and are not expected.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// One figure over several runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// The median of the runs' figures.
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// How many runs gave a figure.
    pub runs: usize,
    /// Whether every run gave exactly the same figure.
    pub identical: bool,
}

/// Percent in a ratio.
const PERCENT: f64 = 100.0;

impl Summary {
    /// The summary of `values` (one per run), or `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let median = median(values)?;
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(Summary {
            median,
            min,
            max,
            runs: values.len(),
            identical: values.iter().all(|v| *v == values[0]),
        })
    }

    /// (max - min) / median, in percent: how far apart the runs were.
    pub fn spread_percent(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / self.median * PERCENT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn summaries_report_spread_and_repeats() {
        assert_eq!(Summary::of(&[]), None);
        let s = Summary::of(&[110.0, 90.0, 100.0]).expect("three runs");
        assert_eq!((s.median, s.min, s.max, s.runs), (100.0, 90.0, 110.0, 3));
        assert!(!s.identical);
        assert!((s.spread_percent() - 20.0).abs() < 1e-9);
        let same = Summary::of(&[359.1, 359.1, 359.1]).expect("three runs");
        assert!(same.identical);
        assert_eq!(same.spread_percent(), 0.0);
    }
}
