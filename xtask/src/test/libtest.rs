//! A reader of `cargo test`'s merged output: how many libtest cases passed, which
//! were ignored, which failed and why, and which test binaries crashed before
//! their summary.
//!
//! `host.rs` runs the command and hands its output here; kept apart because it is
//! pure text parsing, tested on a captured output below.

use k42_abi::testfmt;

use super::REASON_LINES;

/// What libtest's output says.
#[derive(Debug, Default)]
pub(super) struct Libtest {
    pub(super) passed: usize,
    pub(super) ignored: Vec<String>,
    pub(super) failed: Vec<(String, String)>,
    pub(super) binaries: usize,
}

/// Reads cargo test's merged output: `Running`/`Doc-tests` headers name the binary,
/// `test result:` lines give the counts, `test X ... FAILED` lines the failures,
/// and the `---- X stdout ----` sections their messages.
pub(super) fn parse_libtest(output: &str) -> Libtest {
    let mut out = Libtest::default();
    let mut binary: Option<String> = None;
    let mut summarized = true;
    let mut failed_here: Vec<String> = Vec::new();
    let lines: Vec<&str> = output.lines().collect();
    let crashed = |out: &mut Libtest, binary: &Option<String>, summarized: bool| {
        if let (Some(b), false) = (binary, summarized) {
            out.failed.push((
                format!("host.{b}"),
                "the test binary ended without a `test result:` line (crash or abort)".into(),
            ));
        }
    };
    for line in &lines {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Running ") {
            crashed(&mut out, &binary, summarized);
            binary = Some(binary_name(rest));
            summarized = false;
            out.binaries += 1;
        } else if let Some(krate) = t.strip_prefix("Doc-tests ") {
            crashed(&mut out, &binary, summarized);
            binary = Some(format!("{krate}.doc"));
            summarized = false;
            out.binaries += 1;
        } else if let Some(counts) = t.strip_prefix("test result: ") {
            summarized = true;
            let count = |word: &str| {
                counts
                    .split(';')
                    .filter_map(|part| {
                        part.trim()
                            .trim_start_matches("ok. ")
                            .trim_start_matches("FAILED. ")
                            .strip_suffix(word)
                    })
                    .filter_map(|n| n.trim().parse::<usize>().ok())
                    .next()
                    .unwrap_or(0)
            };
            out.passed += count(" passed");
            let failed = count(" failed");
            // A failure libtest counted but whose line we did not see still counts.
            for _ in failed_here.len()..failed {
                let b = binary.clone().unwrap_or_default();
                out.failed
                    .push((format!("host.{b}"), "a test failed (see cargo test)".into()));
            }
            failed_here.clear();
        } else if let Some(rest) = t.strip_prefix(testfmt::CASE_PREFIX)
            && let Some((name, verdict)) = rest.rsplit_once(testfmt::SEPARATOR)
        {
            let b = binary.clone().unwrap_or_default();
            let full = format!("host.{b}.{name}");
            if verdict.starts_with(testfmt::FAILED) {
                failed_here.push(name.to_string());
                out.failed.push((full, failure_message(&lines, name)));
            } else if verdict.starts_with("ignored") {
                out.ignored.push(full);
            }
        }
    }
    crashed(&mut out, &binary, summarized);
    out
}

/// `unittests src/lib.rs (target/debug/deps/k42_cpio-0123abcd)` -> `k42_cpio`.
fn binary_name(running: &str) -> String {
    let inside = running
        .rsplit_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap_or(running);
    let file = inside.rsplit('/').next().unwrap_or(inside);
    match file.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
        _ => file.to_string(),
    }
}

/// The panic message of a failed test, from its `---- NAME stdout ----` section.
fn failure_message(lines: &[&str], name: &str) -> String {
    let header = format!("---- {name} stdout ----");
    let Some(at) = lines.iter().position(|l| l.trim() == header) else {
        return "failed (no captured output)".into();
    };
    let section: Vec<&str> = lines[at + 1..]
        .iter()
        .copied()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.starts_with("---- ") && !l.trim().is_empty())
        .take(REASON_LINES)
        .collect();
    if section.is_empty() {
        "failed".into()
    } else {
        section.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARGO_TEST_OUTPUT: &str = "\
   Compiling k42-abi v0.1.0
     Running unittests src/lib.rs (target/debug/deps/k42_abi-0123456789abcdef)

running 3 tests
test testfmt::tests::a ... ok
test testfmt::tests::b ... FAILED
test testfmt::tests::c ... ignored

failures:

---- testfmt::tests::b stdout ----

thread 'testfmt::tests::b' panicked at crates/abi/src/testfmt.rs:1:1:
assertion failed: false

failures:
    testfmt::tests::b

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/roundtrip.rs (target/debug/deps/roundtrip-fedcba9876543210)

running 2 tests
test one ... ok
test two ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests k42_abi

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running unittests src/main.rs (target/debug/deps/xtask-00112233445566aa)
";

    #[test]
    fn libtest_output_is_counted_and_failures_named() {
        let parsed = parse_libtest(CARGO_TEST_OUTPUT);
        assert_eq!(parsed.passed, 3);
        assert_eq!(parsed.binaries, 4);
        assert_eq!(parsed.ignored, vec!["host.k42_abi.testfmt::tests::c"]);
        assert_eq!(parsed.failed.len(), 2);
        assert_eq!(parsed.failed[0].0, "host.k42_abi.testfmt::tests::b");
        assert!(parsed.failed[0].1.contains("assertion failed: false"));
        // The last binary printed no summary: it crashed.
        assert_eq!(parsed.failed[1].0, "host.xtask");
    }

    #[test]
    fn binary_names_drop_the_hash() {
        assert_eq!(
            binary_name("unittests src/lib.rs (target/debug/deps/k42_cpio-0a1b)"),
            "k42_cpio"
        );
        assert_eq!(
            binary_name("tests/layering.rs (target/debug/deps/layering-ff00)"),
            "layering"
        );
    }
}
