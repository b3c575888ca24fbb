//! Starting "init": the program the runner named in the initramfs. Until user
//! mode and the Linux personality exist (issues #3, #4), only built-in entries
//! run: `ktest [FILTER...]` (the in-kernel tests), `ktest-fault` (a
//! deliberate kernel page fault, to prove the exception report) and
//! `ktest-overflow` (a runaway recursion, to prove the stack guard page). The run ends
//! with the runner's status line and the `isa-debug-exit` verdict.

use core::fmt::Write;

use crate::{initramfs, ktest};
use k42_abi::runner::{DEBUG_EXIT_DONE, INIT_START_MARKER, STATUS_LINE_PREFIX, STATUS_NOT_FOUND};

/// Built-in entry that runs the in-kernel tests.
pub const KTEST: &str = "ktest";
/// Built-in entry that faults on purpose.
pub const KTEST_FAULT: &str = "ktest-fault";
/// Built-in entry that overflows its kernel stack on purpose.
pub const KTEST_OVERFLOW: &str = "ktest-overflow";

/// Runs the requested entry and ends the machine with its status.
pub fn start(ctx: &ktest::Context<'_>) -> ! {
    let argv = ctx.tree.and_then(initramfs::argv);
    k42_hal::serial::with_log(|log| {
        let _ = writeln!(log, "{INIT_START_MARKER}");
    });
    let status = match argv.as_deref() {
        None => {
            log::info!(
                "no program to run ({} absent): the interactive shell comes with the Linux \
                 personality (issues #4, #5); powering off",
                k42_abi::runner::ARGV_PATH
            );
            0
        }
        Some([KTEST, filters @ ..]) => ktest::run_all(ctx, filters),
        Some([KTEST_FAULT, ..]) => ktest_fault(),
        Some([KTEST_OVERFLOW, ..]) => ktest_overflow(),
        Some([program, ..]) => {
            log::error!(
                "cannot run {program}: Linux programs need the Linux personality (issue #4); \
                 built-in entries are `{KTEST}`, `{KTEST_FAULT}` and `{KTEST_OVERFLOW}`"
            );
            STATUS_NOT_FOUND
        }
        Some([]) => {
            log::error!("{} holds no program name", k42_abi::runner::ARGV_PATH);
            STATUS_NOT_FOUND
        }
    };
    finish(status)
}

/// Writes the status line and ends the run.
fn finish(status: u8) -> ! {
    k42_hal::serial::with_log(|log| {
        let _ = writeln!(log, "{STATUS_LINE_PREFIX}{status}");
    });
    k42_hal::exit::qemu_exit(DEBUG_EXIT_DONE)
}

/// Takes a page fault in the kernel on purpose; the report must name this
/// function in its backtrace.
#[inline(never)]
fn ktest_fault() -> ! {
    log::info!("{KTEST_FAULT}: writing to the never-mapped page");
    k42_hal::debug::fault_on_never_mapped_page()
}

/// Recurses until the kernel stack runs into its guard page. The fault cannot
/// be delivered on the exhausted stack, so it becomes a double fault on its own
/// IST stack, whose report names the guard page.
fn ktest_overflow() -> ! {
    log::info!("{KTEST_OVERFLOW}: recursing until the stack's guard page");
    let depth = recurse(core::hint::black_box(u64::MAX));
    panic!("recursion of depth {depth} returned without overflowing the stack")
}

#[inline(never)]
fn recurse(n: u64) -> u64 {
    const FRAME_PADDING: usize = 512;
    let pad = core::hint::black_box([n as u8; FRAME_PADDING]);
    if n == 0 {
        return 0;
    }
    recurse(core::hint::black_box(n - 1)) + u64::from(pad[0] & 1)
}
