//! The tally of `cargo xtask test`: each case printed as it is counted, in
//! `k42_abi::testfmt`'s line format, with the `--filter` applied here.
//!
//! Every tier (`lint.rs`, `host.rs`, `kernel_tier.rs`, `guest_tier.rs`) reports
//! into one [`Report`]; `mod.rs` prints the closing summary from it.

use k42_abi::testfmt;

/// The cases counted so far.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub(super) passed: usize,
    pub(super) failed: Vec<(String, String)>,
    pub(super) skipped: Vec<(String, String)>,
    pub(super) filter: Option<String>,
}

impl Report {
    pub(super) fn wanted(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }

    pub(super) fn pass(&mut self, name: &str) {
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

    pub(super) fn fail(&mut self, name: &str, why: &str) {
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

    pub(super) fn skip(&mut self, name: &str, why: &str) {
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

    pub(super) fn counts(&self) -> (usize, usize, usize) {
        (self.passed, self.failed.len(), self.skipped.len())
    }
}
