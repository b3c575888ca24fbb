//! The one line format in which every in-guest test case reports its result, so
//! one parser in the xtask reads kernel tests and guest programs alike.
//!
//! ```text
//! test <name> ... ok
//! test <name> ... FAILED: <why>
//! test <name> ... skipped: <why>
//! ```
//! `<name>` has no spaces. Lines that do not start with [`CASE_PREFIX`] are
//! ordinary output and are ignored by the parser.

/// Start of every result line.
pub const CASE_PREFIX: &str = "test ";
/// Between the case name and its verdict.
pub const SEPARATOR: &str = " ... ";
/// Verdict of a passing case.
pub const OK: &str = "ok";
/// Verdict of a failing case (followed by `: <why>`).
pub const FAILED: &str = "FAILED";
/// Verdict of a skipped case (followed by `: <why>`).
pub const SKIPPED: &str = "skipped";

/// The verdict of one reported case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// The case passed.
    Ok,
    /// The case failed, with the reason it gave.
    Failed(&'a str),
    /// The case did not run, with the reason it gave.
    Skipped(&'a str),
}

/// Parses one console line; `None` when it is not a result line.
pub fn parse_line(line: &str) -> Option<(&str, Verdict<'_>)> {
    let rest = line
        .trim_end_matches(['\r', '\n'])
        .strip_prefix(CASE_PREFIX)?;
    let (name, verdict) = rest.split_once(SEPARATOR)?;
    if name.is_empty() || name.contains(' ') {
        return None;
    }
    let reason = |v: &'static str| {
        verdict
            .strip_prefix(v)
            .map(|r| r.strip_prefix(':').unwrap_or(r).trim())
    };
    if verdict == OK {
        Some((name, Verdict::Ok))
    } else if let Some(why) = reason(FAILED) {
        Some((name, Verdict::Failed(why)))
    } else {
        reason(SKIPPED).map(|why| (name, Verdict::Skipped(why)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_verdict() {
        assert_eq!(parse_line("test a.b ... ok"), Some(("a.b", Verdict::Ok)));
        assert_eq!(
            parse_line("test heap ... FAILED: got 3\r\n"),
            Some(("heap", Verdict::Failed("got 3")))
        );
        assert_eq!(
            parse_line("test smp ... skipped: one cpu"),
            Some(("smp", Verdict::Skipped("one cpu")))
        );
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(parse_line("hello"), None);
        assert_eq!(parse_line("test  ... ok"), None);
        assert_eq!(parse_line("test a b ... ok"), None);
        assert_eq!(parse_line("test a ... maybe"), None);
        assert_eq!(parse_line("test a ... okay"), None);
    }
}
