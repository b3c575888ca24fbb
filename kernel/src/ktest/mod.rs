//! In-kernel tests: run by the built-in `ktest` entry inside QEMU, each printed
//! on the console in the shared result format (`k42_abi::testfmt`) that
//! `cargo xtask test` parses. They test what only a booted kernel can: the
//! frame allocator over the real memory map, the live page tables, the heap,
//! the tick, the unpacked initramfs, the symbol table.

mod boot;
mod cow;
mod cow_race;
mod frame;
mod memory;
mod smp;
mod svc_return;

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
    /// Local APIC ids of the CPUs the MADT listed at boot.
    pub apic_ids: &'a [u32],
    /// Physical range of the kernel image.
    pub kernel_phys: (u64, u64),
}

/// Why a test did not pass.
#[derive(Debug)]
pub enum NotPassed {
    /// It failed, for this reason.
    Failed(String),
    /// It could not run here, for this reason.
    Skipped(String),
}

impl From<String> for NotPassed {
    fn from(why: String) -> Self {
        Self::Failed(why)
    }
}

impl From<&str> for NotPassed {
    fn from(why: &str) -> Self {
        Self::Failed(why.into())
    }
}

/// A test's verdict; `?` on a `Result<_, String>` or `Option::ok_or("…")` fails it.
pub type Outcome = Result<(), NotPassed>;

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
            return Err($crate::ktest::NotPassed::Failed(alloc::format!($($why)*)));
        }
    };
}

fn all() -> impl Iterator<Item = &'static Case> {
    memory::CASES
        .iter()
        .chain(boot::CASES)
        .chain(cow::CASES)
        .chain(cow_race::CASES)
        .chain(smp::CASES)
        .chain(frame::CASES)
        .chain(svc_return::CASES)
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
            Err(NotPassed::Skipped(why)) => {
                cprintln!("{CASE_PREFIX}{}{SEPARATOR}{SKIPPED}: {why}", case.name);
            }
            Err(NotPassed::Failed(why)) => {
                failed += 1;
                cprintln!("{CASE_PREFIX}{}{SEPARATOR}{FAILED}: {why}", case.name);
            }
        }
    }
    log::info!("ktest: {passed} passed, {failed} failed");
    u8::from(failed > 0 || passed == 0)
}

/// A skipped outcome with its reason.
pub fn skip(why: &str) -> Outcome {
    Err(NotPassed::Skipped(why.into()))
}
