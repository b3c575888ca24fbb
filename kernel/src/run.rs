//! Starting "init": the program the runner named in the initramfs. Built-in
//! entries run in the kernel: `ktest [FILTER...]` (the in-kernel tests),
//! `ktest-fault` (a deliberate kernel page fault, to prove the exception report)
//! and `ktest-overflow` (a runaway recursion, to prove the stack guard page). Any
//! other program starts the bootstrap task, which starts the servers and then the
//! program: a native one (`/k42/bin/NAME`) itself, a Linux one under the Linux
//! personality (`user/bin/bootstrap` decides which). With no program named (no argv
//! file), the run is the interactive shell, `k42_abi::runner::INTERACTIVE_SHELL`, started
//! the same way (`Boot::argv` answers it). The run ends with the runner's status line
//! and the `isa-debug-exit` verdict.

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
                "no program named ({} absent): starting the interactive shell {}",
                k42_abi::runner::ARGV_PATH,
                k42_abi::runner::INTERACTIVE_SHELL
            );
            start_native()
        }
        Some([KTEST, filters @ ..]) => ktest::run_all(ctx, filters),
        Some([KTEST_FAULT, ..]) => ktest_fault(),
        Some([KTEST_OVERFLOW, ..]) => ktest_overflow(),
        Some([_, ..]) => start_native(),
        Some([]) => {
            log::error!("{} holds no program name", k42_abi::runner::ARGV_PATH);
            STATUS_NOT_FOUND
        }
    };
    finish(u32::from(status))
}

/// The bootstrap task every native run starts with.
const BOOTSTRAP: &str = "bootstrap";

/// Starts the bootstrap task (with the Boot object) on this CPU and enters user mode.
fn start_native() -> ! {
    let me = crate::cpu::this();
    let spawned = crate::loader::spawn(
        BOOTSTRAP,
        k42_sched::Class::System,
        crate::loader::ProcessKind::Native,
        [0, 0],
        0,
        0,
        me.index,
    );
    let mut spawned = match spawned {
        Ok(s) => s,
        Err(e) => {
            log::error!(
                "cannot start {}/{BOOTSTRAP}: {e:?}",
                k42_abi::kernel::NATIVE_BIN_DIR
            );
            finish(u32::from(STATUS_NOT_FOUND))
        }
    };
    let pid = k42_abi::kernel::comm_pid(spawned.comm);
    match crate::kobj::insert_boot(pid) {
        Ok(boot) => spawned.dispatcher.set_first_arg(boot.to_word()),
        Err(e) => {
            log::error!("no Boot object for the bootstrap: {e:?}");
            finish(u32::from(STATUS_NOT_FOUND))
        }
    }
    if let Some(p) = crate::process::lookup(pid) {
        *p.life.lock() = crate::process::Life::Running;
    }
    BOOTSTRAP_PID.store(pid, core::sync::atomic::Ordering::Relaxed);
    let mut frame = k42_hal::user::UserFrame::new_user(0, 0);
    let mut cpu = me.state.lock();
    let comm = spawned.comm;
    crate::kobj::apply(
        &mut cpu,
        crate::kobj::Effect::Add(alloc::boxed::Box::new(spawned.dispatcher)),
        &mut frame,
    );
    crate::switch::start(&mut cpu, comm, &mut frame, crate::switch::Origin::Call);
    if cpu.running.is_none() {
        drop(cpu);
        crate::switch::start_cpu()
    }
    drop(cpu);
    k42_hal::user::enter(&frame)
}

/// The bootstrap task's process id (0 before it exists): when it ends, the run ends.
static BOOTSTRAP_PID: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Ends the run if `pid` is the bootstrap task, which has nobody else to report to.
pub fn process_ended(pid: u64, status: u32) {
    if pid == BOOTSTRAP_PID.load(core::sync::atomic::Ordering::Relaxed) {
        log::info!("the bootstrap task exited with status {status}: ending the run");
        finish(status)
    }
}

/// Writes the status line and ends the run. A status above 255 is cut to its low byte, as a
/// Linux exit status is.
pub fn finish(status: u32) -> ! {
    let status = status & 0xff;
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
