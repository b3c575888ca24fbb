//! Boots one machine under QEMU and turns what comes out of it into a verdict.
//!
//! Both OSes boot in the same configuration (`args.rs`): `-M pc` with the qboot
//! firmware, `-cpu max`, the isa-debug-exit device, COM1 as the program's console
//! and COM2 as the log port, `-kernel/-initrd/-append` as Linux boots. COM1 is QEMU's
//! stdio: passed through raw in interactive mode (QEMU puts the terminal in raw mode
//! and forwards stdin, `tty.rs` restores it), otherwise read from a pipe with the
//! tty's "\n" -> "\r\n" mapping undone so stdout carries exactly what the program
//! wrote. COM2 is a Unix socket QEMU connects to; its bytes are copied to stderr as
//! they come, and the markers and the status line of `k42_abi::runner` are read from
//! it (`pumps.rs`).
//!
//! Console input outside interactive mode (the runner's piped stdin, or a test's
//! script: [`Console`]) goes to QEMU through a pipe, written only once the init marker
//! came on the log port: QEMU moves input into the UART's FIFO as soon as it has room,
//! and a guest that resets the FIFO while it sets the port up (Linux's 8250 driver does,
//! when the console is first opened) would drop those first bytes.
//!
//! The verdict (`Outcome::runner_status`, `outcome.rs`) follows `k42_abi::runner`:
//! the program's status from the status line, or RUNNER_KERNEL_FAILURE,
//! RUNNER_TIMEOUT or RUNNER_NO_STATUS. QEMU's own exit code is never taken as
//! success: a triple fault under `-no-reboot` ends QEMU with 0. What to boot and how
//! is described in `machine.rs`. `main.rs` (run) and `test/` (the boot tiers) call
//! [`run`]; [`run_timed`] also says when each piece of the console came
//! ([`ConsoleArrivals`]), for `../bench/`'s time to a shell prompt.

mod args;
mod machine;
mod outcome;
mod pumps;
mod tty;

use std::io::IsTerminal;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::cli::Accel;
use crate::paths;

pub use args::{args, cmdline, resolve_accel, shell_words};
pub use machine::{Console, Echo, Icount, Machine, Medium, Options};
pub use outcome::{ConsoleArrivals, Outcome};
use pumps::{LogResult, pump_console, pump_log};
use tty::{restore_tty, save_tty};

/// The QEMU binary (also named in `../bench/` for its version and command lines).
pub const QEMU: &str = "qemu-system-x86_64";
/// QEMU's gdb server port for `-s`.
const GDB_PORT: u16 = 1234;
/// How often the main thread checks whether QEMU ended or the timeout passed.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Boots `m`, waits for the end (or the timeout), and returns what happened.
pub fn run(m: &Machine, opts: &Options) -> Result<Outcome, String> {
    run_timed(m, opts).map(|(outcome, _)| outcome)
}

/// [`run`], with when each piece of the console came (empty in interactive mode).
pub fn run_timed(m: &Machine, opts: &Options) -> Result<(Outcome, ConsoleArrivals), String> {
    let interactive = opts.console == Console::Interactive;
    let socket_dir = scratch_dir()?;
    let socket = socket_dir.join("log.sock");
    let listener = UnixListener::bind(&socket)
        .map_err(|e| format!("cannot listen on {}: {e}", socket.display()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot set up {}: {e}", socket.display()))?;
    let qemu_args = args(m, &socket, interactive);

    eprintln!(
        "xtask: booting {} ({}) with accelerator {}",
        m.os.name(),
        m.medium.kernel().display(),
        match m.accel {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    );
    if opts.show_command {
        eprintln!("xtask: {}", shell_words(QEMU, &qemu_args));
    }
    if m.gdb {
        eprintln!(
            "xtask: QEMU waits for the debugger: gdb {} -ex 'target remote localhost:{GDB_PORT}'",
            m.medium.kernel().display()
        );
    }
    let saved_tty = if interactive { save_tty() } else { None };
    if interactive {
        eprintln!("xtask: interactive console: Ctrl-A X ends QEMU, Ctrl-A C toggles its monitor");
    }

    let input = console_input(opts.console);
    let mut cmd = Command::new(QEMU);
    cmd.args(&qemu_args).stderr(Stdio::inherit());
    if interactive {
        cmd.stdin(Stdio::inherit()).stdout(Stdio::inherit());
    } else {
        let stdin = if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        cmd.stdin(stdin).stdout(Stdio::piped());
    }
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {QEMU}: {e}"))?;
    let qemu_done = Arc::new(AtomicBool::new(false));
    let init_seen = Arc::new(AtomicBool::new(false));

    let console_thread = child.stdout.take().map(|stdout| {
        let echo = match opts.console {
            Console::Program { echo } | Console::Scripted { echo, .. } => echo,
            Console::Interactive => None,
        };
        std::thread::spawn(move || pump_console(stdout, echo, start))
    });
    let log_thread = {
        let done = Arc::clone(&qemu_done);
        let seen = Arc::clone(&init_seen);
        let echo = opts.echo_log;
        // The terminal is raw while QEMU owns it: "\n" alone would not return the carriage.
        let crlf = interactive && std::io::stderr().is_terminal();
        std::thread::spawn(move || pump_log(listener, done, seen, start, echo, crlf))
    };
    if let (Some(input), Some(to_qemu)) = (input, child.stdin.take()) {
        let done = Arc::clone(&qemu_done);
        let seen = Arc::clone(&init_seen);
        // Not joined: copying the runner's stdin may wait on it for as long as it stays open.
        std::thread::spawn(move || feed_console(input, to_qemu, seen, done));
    }

    let mut timed_out = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(format!("waiting for QEMU: {e}")),
        }
        if let Some(limit) = opts.timeout
            && start.elapsed() >= limit
        {
            timed_out = Some(limit);
            // Already ended or not: either way wait() below collects it.
            let _ = child.kill();
            break child.wait().map_err(|e| format!("waiting for QEMU: {e}"))?;
        }
        std::thread::sleep(POLL_INTERVAL);
    };
    let elapsed = start.elapsed();
    qemu_done.store(true, Ordering::SeqCst);
    if let Some(saved) = saved_tty {
        restore_tty(&saved);
    }

    let (console, arrivals) = console_thread
        .map(|t| t.join().unwrap_or_default())
        .unwrap_or_default();
    let log = log_thread.join().unwrap_or(LogResult {
        bytes: Vec::new(),
        first_byte: None,
        init_start: None,
    });
    let _ = std::fs::remove_dir_all(&socket_dir);
    let outcome = Outcome {
        console,
        log: String::from_utf8_lossy(&log.bytes).into_owned(),
        qemu_exit: status.code(),
        timed_out,
        first_log_byte: log.first_byte,
        init_start: log.init_start,
        elapsed,
    };
    Ok((outcome, arrivals))
}

/// Where console input comes from outside interactive mode.
enum Input {
    /// The runner's stdin, copied until its end.
    Stdin,
    /// These bytes.
    Bytes(&'static [u8]),
}

/// The console input `console` asks for, if any.
fn console_input(console: Console) -> Option<Input> {
    match console {
        Console::Interactive => None,
        Console::Program { .. } => (!std::io::stdin().is_terminal()).then_some(Input::Stdin),
        Console::Scripted { input, .. } => (!input.is_empty()).then_some(Input::Bytes(input)),
    }
}

/// Writes `input` to QEMU's stdin (COM1) once the init marker came (module comment), then
/// closes it: the end of input. Gives up if QEMU ends first.
fn feed_console(
    input: Input,
    mut to_qemu: std::process::ChildStdin,
    init_seen: Arc<AtomicBool>,
    qemu_done: Arc<AtomicBool>,
) {
    use std::io::Write;
    while !init_seen.load(Ordering::SeqCst) {
        if qemu_done.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    // A guest that ended without reading its input closes the pipe: nothing to report.
    let _ = match input {
        Input::Stdin => std::io::copy(&mut std::io::stdin().lock(), &mut to_qemu).map(|_| ()),
        Input::Bytes(bytes) => to_qemu.write_all(bytes),
    };
}

/// A fresh private directory for the log socket (Unix socket paths are limited to
/// 108 bytes, so not under a possibly deep target directory).
fn scratch_dir() -> Result<PathBuf, String> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("k42-xtask-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The path of the work file for a boot's logs, `target/k42/logs/<name>`.
pub fn log_path(name: &str) -> Result<PathBuf, String> {
    Ok(paths::work("logs")?.join(name))
}

/// [`run`], then keeps both output streams as `target/k42/logs/<label>.{console,log}`
/// for a post-mortem (the test tiers' and the benchmarks' failure reasons point there).
pub fn run_kept(m: &Machine, opts: &Options, label: &str) -> Result<Outcome, String> {
    run_kept_timed(m, opts, label).map(|(outcome, _)| outcome)
}

/// [`run_kept`], with when each piece of the console came ([`run_timed`]).
pub fn run_kept_timed(
    m: &Machine,
    opts: &Options,
    label: &str,
) -> Result<(Outcome, ConsoleArrivals), String> {
    let (outcome, arrivals) = run_timed(m, opts)?;
    eprintln!("xtask: {label}: {}", outcome.timings());
    let _ = std::fs::write(log_path(&format!("{label}.console"))?, &outcome.console);
    let _ = std::fs::write(log_path(&format!("{label}.log"))?, &outcome.log);
    Ok((outcome, arrivals))
}

/// Where [`run_kept`] keeps `label`'s console and log, for failure messages.
pub fn logs_hint(label: &str) -> String {
    let at = |ext: &str| log_path(&format!("{label}.{ext}")).unwrap_or_else(|_| PathBuf::from("?"));
    format!(
        "console in {}, log in {}",
        at("console").display(),
        at("log").display()
    )
}
