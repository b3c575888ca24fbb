//! The contract between a booted guest (K42 or Linux) and `cargo xtask run`.
//!
//! Console bytes of the program travel on the first serial port (COM1) and nothing
//! else is written there, so the runner can pass them through byte for byte. Kernel
//! logs, markers and the final status line travel on the second serial port (COM2),
//! which the runner copies to stderr. The run ends through QEMU's `isa-debug-exit`
//! device; the program's exit status is carried by the status line, because a QEMU
//! exit code has room for only 7 bits.

/// I/O port of the UART that carries the program's console (COM1, `ttyS0`).
pub const CONSOLE_UART_PORT: u16 = 0x3f8;
/// I/O port of the UART that carries logs, markers and the status line (COM2, `ttyS1`).
pub const LOG_UART_PORT: u16 = 0x2f8;

/// I/O port of QEMU's `isa-debug-exit` device (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
pub const DEBUG_EXIT_PORT: u16 = 0xf4;
/// Width in bytes of the `isa-debug-exit` register (the `iosize` the runner passes).
pub const DEBUG_EXIT_IOSIZE: u16 = 4;

/// Value written to `isa-debug-exit` when the run ended as planned (the status line
/// says how the program ended). QEMU then exits with `(v << 1) | 1`.
pub const DEBUG_EXIT_DONE: u32 = 0;
/// Value written to `isa-debug-exit` when the kernel itself failed (panic, exception).
pub const DEBUG_EXIT_KERNEL_FAILURE: u32 = 1;

/// QEMU's own exit status for a value written to `isa-debug-exit`.
pub const fn qemu_status_for(debug_exit_value: u32) -> i32 {
    ((debug_exit_value << 1) | 1) as i32
}

/// Prefix of the line, on the log port, that carries the program's exit status as a
/// decimal number (`0..=255`; a program killed by signal N reports `128 + N`).
pub const STATUS_LINE_PREFIX: &str = "k42-run: exit-status ";
/// Line written on the log port when the first user program (or the built-in
/// entry on K42) is about to start: the runner times boot up to this marker.
pub const INIT_START_MARKER: &str = "k42-run: init-start";

/// Path inside the initramfs of the program to run and its arguments, each
/// followed by a NUL byte. The runner writes it into an extra archive appended to
/// the root file system, so no quoting passes through a kernel command line.
pub const ARGV_PATH: &str = "/k42/run/argv";
/// Path of the Linux init wrapper inside the initramfs (`rdinit=` on Linux).
pub const LINUX_INIT_PATH: &str = "/k42/init";

/// The fixed environment every program starts with, on both OSes.
pub const ENVIRONMENT: [&str; 3] = ["PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", "TERM=linux"];

/// Exit status reported when PROGRAM cannot be started (as a shell reports it).
pub const STATUS_NOT_FOUND: u8 = 127;

/// Exit status of the runner when the guest was killed after `--timeout`
/// (the value GNU `timeout` uses).
pub const RUNNER_TIMEOUT: i32 = 124;
/// Exit status of the runner when the guest kernel failed (panic or exception report).
pub const RUNNER_KERNEL_FAILURE: i32 = 125;
/// Exit status of the runner when QEMU ended without a status line (crash, triple fault).
pub const RUNNER_NO_STATUS: i32 = 126;

/// The program started when the runner names none (an interactive `cargo xtask run`):
/// busybox's shell from the default root file system.
pub const INTERACTIVE_SHELL: &str = "/bin/sh";

/// Start of the first line of the kernel's exception report on the log port; the
/// runner's `kernel.exception_report` and `kernel.stack_overflow_report` tests
/// look for it.
pub const KERNEL_EXCEPTION_MARKER: &str = "!!! KERNEL EXCEPTION";
/// Start of the first line of the kernel's panic report on the log port.
pub const KERNEL_PANIC_MARKER: &str = "!!! KERNEL PANIC";
