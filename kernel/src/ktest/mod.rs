//! In-kernel tests: run by the built-in `ktest` entry inside QEMU, each printed
//! on the console in the shared result format (`k42_abi::testfmt`) that
//! `cargo xtask test` parses. They test what only a booted kernel can: the
//! frame allocator over the real memory map, the live page tables, the heap,
//! the tick, the unpacked initramfs, the symbol table.

mod boot;
mod memory;

use alloc::string::String;

use k42_abi::testfmt::{CASE_PREFIX, FAILED, OK, SEPARATOR, SKIPPED};
use k42_cmdline::Cmdline;
use k42_cpio::Tree;

use crate::cprintln;

/// What a test may look at.
pub struct Context<'a> {
    /// The kernel command line.
    pub cmdline: &'a Cmdline<'a>,
    /// The unpacked initramfs, if there was one.
    pub tree: Option<&'a Tree>,
    /// The ACPI RSDP from the loader.
    pub rsdp: Option<u64>,
    /// CPUs counted at boot.
    pub cpus: usize,
}

/// A test's verdict: `Err` carries the reason it failed.
pub type Outcome = Result<(), String>;

/// One named test.
pub struct Case {
    /// Name printed in the result line (no spaces).
    pub name: &'static str,
    /// The test.
    pub run: fn(&Context<'_>) -> Outcome,
}

/// Fails the test with a formatted reason unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($why:tt)*) => {
        if !$cond {
            return Err(alloc::format!($($why)*));
        }
    };
}

fn all() -> impl Iterator<Item = &'static Case> {
    memory::CASES.iter().chain(boot::CASES)
}

/// Runs every test whose name contains one of `filters` (all when empty) and
/// returns the exit status: 0 when all ran passed, 1 otherwise.
pub fn run_all(ctx: &Context<'_>, filters: &[&str]) -> u8 {
    let (mut passed, mut failed) = (0, 0);
    for case in all() {
        if !filters.is_empty() && !filters.iter().any(|f| case.name.contains(f)) {
            continue;
        }
        match (case.run)(ctx) {
            Ok(()) => {
                passed += 1;
                cprintln!("{CASE_PREFIX}{}{SEPARATOR}{OK}", case.name);
            }
            Err(why) if why.starts_with(SKIP_MARK) => {
                cprintln!(
                    "{CASE_PREFIX}{}{SEPARATOR}{SKIPPED}: {}",
                    case.name,
                    &why[SKIP_MARK.len()..]
                );
            }
            Err(why) => {
                failed += 1;
                cprintln!("{CASE_PREFIX}{}{SEPARATOR}{FAILED}: {why}", case.name);
            }
        }
    }
    log::info!("ktest: {passed} passed, {failed} failed");
    u8::from(failed > 0 || passed == 0)
}

/// Prefix of an `Err` that means "skipped" rather than "failed".
const SKIP_MARK: &str = "\u{0}skip:";

/// A skipped outcome with its reason.
pub fn skip(why: &str) -> Outcome {
    Err(alloc::format!("{SKIP_MARK}{why}"))
}
