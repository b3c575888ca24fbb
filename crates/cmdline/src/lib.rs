//! Kernel command-line parsing: the `-append "..."` string QEMU hands over at boot, the Linux way.
//!
//! The kernel boots like Linux (a kernel image, an initramfs, a command line), and the same command line
//! must mean the same thing to both, so words are split exactly as Linux's `next_arg` splits them:
//! whitespace separates words, double quotes group words, `key=value` or a bare `flag`, and a standalone
//! `--` hands the rest to init. It runs before any heap exists, so everything borrows from the original
//! text. The kernel's boot code reads the log level and options from here; the runner in the xtask
//! writes the string.
#![no_std]

use core::fmt;

/// Key naming the log level.
const LOG_KEY: &str = "log";
/// Bare flag that lowers the default log level, as on Linux.
const QUIET_FLAG: &str = "quiet";
/// Word separating kernel parameters from init's arguments.
const INIT_SEPARATOR: &str = "--";
/// The one quoting character Linux understands.
const QUOTE: u8 = b'"';
/// Separates a key from its value.
const EQUALS: u8 = b'=';
/// Vertical tab and form feed: whitespace to C's `isspace`, which Linux uses, but not to Rust's ASCII set.
const VERTICAL_TAB: u8 = 0x0b;
const FORM_FEED: u8 = 0x0c;

/// How much the kernel logs; later variants log more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    /// Only errors.
    Error,
    /// Errors and warnings.
    Warn,
    /// The default.
    #[default]
    Info,
    /// Debugging detail.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// Every level with the word that selects it, in increasing verbosity.
    const NAMES: [(LogLevel, &'static str); 5] = [
        (LogLevel::Error, "error"),
        (LogLevel::Warn, "warn"),
        (LogLevel::Info, "info"),
        (LogLevel::Debug, "debug"),
        (LogLevel::Trace, "trace"),
    ];

    /// The level a `log=` value names (ASCII case ignored), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|&(level, _)| level)
    }

    /// The word that selects this level.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(level, _)| *level == self)
            .map_or("", |&(_, n)| n)
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parameter whose value the kernel does not understand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadValue<'a> {
    /// The parameter, e.g. `log`.
    pub key: &'static str,
    /// The value given (empty for a bare flag).
    pub value: &'a str,
    /// What would have been accepted, for the message.
    pub expected: &'static str,
}

impl fmt::Display for BadValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad value {:?} for `{}=`: expected {}",
            self.value, self.key, self.expected
        )
    }
}

/// A parsed view of a kernel command line; parsing is lazy and never allocates.
#[derive(Clone, Copy, Debug)]
pub struct Cmdline<'a> {
    text: &'a str,
}

impl<'a> Cmdline<'a> {
    /// Wraps the command line text.
    pub fn new(text: &'a str) -> Self {
        Self { text }
    }

    /// Kernel parameters as `(key, value)`, in order, up to a standalone `--`; a bare flag has no value.
    pub fn params(&self) -> Params<'a> {
        Params {
            words: Words { rest: self.text },
        }
    }

    /// Value of the last occurrence of `key`; a bare flag gives `Some("")`.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.params()
            .filter(|&(k, _)| k == key)
            .last()
            .map(|(_, v)| v.unwrap_or(""))
    }

    /// Whether `key` appears at all, as a flag or with a value.
    pub fn has(&self, key: &str) -> bool {
        self.params().any(|(k, _)| k == key)
    }

    /// The log level from `log=error|warn|info|debug|trace`, by default `Info`.
    ///
    /// A bare `quiet` means `Warn` unless `log=` is given too. An unknown value is an error naming it,
    /// so a typo is reported rather than silently ignored.
    pub fn log_level(&self) -> Result<LogLevel, BadValue<'a>> {
        match self.get(LOG_KEY) {
            Some(value) => LogLevel::from_name(value).ok_or(BadValue {
                key: LOG_KEY,
                value,
                expected: "one of error, warn, info, debug, trace",
            }),
            None if self.has(QUIET_FLAG) => Ok(LogLevel::Warn),
            None => Ok(LogLevel::default()),
        }
    }

    /// Init's arguments: the words after a standalone `--`.
    ///
    /// A word quoted as a whole loses its quotes (`"a b"` gives `a b`, `"x=a b"` gives `x=a b`). Linux
    /// also rejoins a quoted value to its key (`x="a b"` gives `x=a b`), which needs a copy; without a
    /// heap such a word is returned as written, quotes included.
    pub fn init_args(&self) -> InitArgs<'a> {
        let mut words = Words { rest: self.text };
        // Skip the kernel's own parameters; without a separator there are no init arguments.
        if !words.by_ref().any(|w| w.is_separator()) {
            words.rest = "";
        }
        InitArgs { words }
    }
}

/// Iterator over the kernel parameters, from [`Cmdline::params`].
#[derive(Clone, Debug)]
pub struct Params<'a> {
    words: Words<'a>,
}

impl<'a> Iterator for Params<'a> {
    type Item = (&'a str, Option<&'a str>);

    fn next(&mut self) -> Option<Self::Item> {
        let word = self.words.next()?;
        if word.is_separator() {
            // Everything after belongs to init; stay exhausted.
            self.words.rest = "";
            return None;
        }
        Some((word.key, word.value))
    }
}

/// Iterator over init's arguments, from [`Cmdline::init_args`].
#[derive(Clone, Debug)]
pub struct InitArgs<'a> {
    words: Words<'a>,
}

impl<'a> Iterator for InitArgs<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<Self::Item> {
        self.words.next().map(|w| w.whole)
    }
}

/// One word, split as Linux's `next_arg` splits it.
#[derive(Clone, Copy, Debug)]
struct Word<'a> {
    key: &'a str,
    value: Option<&'a str>,
    /// The word with whole-word quotes removed, for init's argv.
    whole: &'a str,
}

impl Word<'_> {
    /// Linux stops parsing kernel parameters at a `--` with no value, quoted or not.
    fn is_separator(&self) -> bool {
        self.key == INIT_SEPARATOR && self.value.is_none()
    }
}

/// Splits the text into words; every delimiter is ASCII, so byte offsets are always char boundaries.
#[derive(Clone, Debug)]
struct Words<'a> {
    rest: &'a str,
}

fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace() || b == VERTICAL_TAB || b == FORM_FEED
}

/// Drops a trailing quote, as Linux does when the word or the value opened with one.
fn strip_closing_quote(s: &str) -> &str {
    s.strip_suffix(char::from(QUOTE)).unwrap_or(s)
}

impl<'a> Iterator for Words<'a> {
    type Item = Word<'a>;

    fn next(&mut self) -> Option<Word<'a>> {
        let text = self
            .rest
            .trim_start_matches(|c: char| u8::try_from(c).is_ok_and(is_space));
        if text.is_empty() {
            self.rest = text;
            return None;
        }
        let quoted = text.as_bytes()[0] == QUOTE;
        let body = if quoted { &text[1..] } else { text };
        let mut in_quote = quoted;
        let mut equals = None;
        let mut end = body.len();
        for (i, &b) in body.as_bytes().iter().enumerate() {
            if is_space(b) && !in_quote {
                end = i;
                break;
            }
            // Linux records the first `=` past the word's first byte: a leading `=` is part of the key.
            if equals.is_none() && i > 0 && b == EQUALS {
                equals = Some(i);
            }
            if b == QUOTE {
                in_quote = !in_quote;
            }
        }
        let content = &body[..end];
        self.rest = &body[end..];

        let whole = if quoted {
            strip_closing_quote(content)
        } else {
            content
        };
        let word = match equals {
            None => Word {
                key: whole,
                value: None,
                whole,
            },
            Some(eq) => {
                let raw = &content[eq + 1..];
                let value = match raw.strip_prefix(char::from(QUOTE)) {
                    Some(inner) => strip_closing_quote(inner),
                    None if quoted => strip_closing_quote(raw),
                    None => raw,
                };
                Word {
                    key: &content[..eq],
                    value: Some(value),
                    whole,
                }
            }
        };
        Some(word)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec::Vec;

    fn params(text: &str) -> Vec<(&str, Option<&str>)> {
        Cmdline::new(text).params().collect()
    }

    fn init(text: &str) -> Vec<&str> {
        Cmdline::new(text).init_args().collect()
    }

    #[test]
    fn empty_and_blank_input() {
        for text in ["", "   ", "\t\n\r\x0b\x0c"] {
            assert!(params(text).is_empty());
            assert!(init(text).is_empty());
            assert_eq!(Cmdline::new(text).log_level(), Ok(LogLevel::Info));
        }
    }

    #[test]
    fn words_keys_values_and_flags() {
        assert_eq!(
            params("  console=ttyS0  quiet\tfoo=  a=b=c "),
            [
                ("console", Some("ttyS0")),
                ("quiet", None),
                ("foo", Some("")),
                ("a", Some("b=c"))
            ]
        );
    }

    #[test]
    fn leading_equals_belongs_to_the_key() {
        assert_eq!(params("=x =a=b"), [("=x", None), ("=a", Some("b"))]);
    }

    #[test]
    fn quotes_group_words_and_are_stripped() {
        assert_eq!(
            params(r#"key="a b" next"#),
            [("key", Some("a b")), ("next", None)]
        );
        assert_eq!(
            params(r#""key=a b" "flag x""#),
            [("key", Some("a b")), ("flag x", None)]
        );
        assert_eq!(params(r#"k="""#), [("k", Some(""))]);
        assert_eq!(params(r#""""#), [("", None)]);
    }

    #[test]
    fn quotes_inside_a_word_group_but_stay() {
        // Linux only strips a quote that opens the word or the value.
        assert_eq!(
            params(r#"k=a"b c"d e"#),
            [("k", Some(r#"a"b c"d"#)), ("e", None)]
        );
    }

    #[test]
    fn unterminated_quote_runs_to_the_end() {
        assert_eq!(
            params(r#"a=1 key="b c -- d"#),
            [("a", Some("1")), ("key", Some("b c -- d"))]
        );
        assert_eq!(params(r#""flag rest"#), [("flag rest", None)]);
        assert_eq!(params(r#"k=""#), [("k", Some(""))]);
    }

    #[test]
    fn get_and_has() {
        let c = Cmdline::new("a=1 flag a=2 b= -- a=3 late");
        assert_eq!(
            c.get("a"),
            Some("2"),
            "last occurrence wins, but not past `--`"
        );
        assert_eq!(c.get("flag"), Some(""));
        assert_eq!(c.get("b"), Some(""));
        assert_eq!(c.get("missing"), None);
        assert!(c.has("flag") && c.has("a") && c.has("b"));
        assert!(!c.has("late"));
        assert!(!c.has("--"));
    }

    #[test]
    fn log_level_rules() {
        let level = |text| Cmdline::new(text).log_level();
        assert_eq!(level("console=ttyS0"), Ok(LogLevel::Info));
        assert_eq!(level("log=error"), Ok(LogLevel::Error));
        assert_eq!(level("log=warn"), Ok(LogLevel::Warn));
        assert_eq!(level("log=info"), Ok(LogLevel::Info));
        assert_eq!(level("log=debug"), Ok(LogLevel::Debug));
        assert_eq!(level("log=TRACE"), Ok(LogLevel::Trace));
        assert_eq!(level("quiet"), Ok(LogLevel::Warn));
        assert_eq!(level("quiet log=debug"), Ok(LogLevel::Debug));
        assert_eq!(level("log=debug quiet"), Ok(LogLevel::Debug));
        assert_eq!(level("log=error log=trace"), Ok(LogLevel::Trace));
        assert_eq!(
            level("-- quiet"),
            Ok(LogLevel::Info),
            "init's words are not the kernel's"
        );
        let err = level("log=loud").unwrap_err();
        assert_eq!(err.value, "loud");
        assert_eq!(err.key, "log");
        let msg = std::format!("{err}");
        assert!(msg.contains("loud") && msg.contains("trace"), "{msg}");
        assert_eq!(level("log").unwrap_err().value, "");
    }

    #[test]
    fn log_level_order_and_names() {
        assert!(LogLevel::Error < LogLevel::Warn && LogLevel::Debug < LogLevel::Trace);
        for (level, name) in LogLevel::NAMES {
            assert_eq!(LogLevel::from_name(name), Some(level));
            assert_eq!(std::format!("{level}"), name);
        }
        assert_eq!(LogLevel::from_name("verbose"), None);
    }

    #[test]
    fn double_dash_splits_init_args() {
        let text = r#"console=ttyS0 -- /bin/sh -c "echo hi" x=1 -- y"#;
        assert_eq!(params(text), [("console", Some("ttyS0"))]);
        assert_eq!(init(text), ["/bin/sh", "-c", "echo hi", "x=1", "--", "y"]);
    }

    #[test]
    fn init_args_edge_cases() {
        assert!(init("a b c").is_empty(), "no separator, no init args");
        assert!(init("a --").is_empty());
        assert_eq!(init("-- "), Vec::<&str>::new());
        assert_eq!(
            init(r#""--" a"#),
            ["a"],
            "a quoted `--` still separates, as on Linux"
        );
        assert_eq!(init(r#"-- "x=a b" x="a b""#), ["x=a b", r#"x="a b""#]);
        // `--=x` has a value, so it is an ordinary parameter.
        assert_eq!(params("--=x b"), [("--", Some("x")), ("b", None)]);
        assert!(init("--=x b").is_empty());
    }

    #[test]
    fn bad_value_display() {
        let bad = BadValue {
            key: "log",
            value: "x",
            expected: "y",
        };
        assert_eq!(
            std::format!("{bad}"),
            r#"bad value "x" for `log=`: expected y"#
        );
    }
}
