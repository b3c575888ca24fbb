//! Boots one machine under QEMU and turns what comes out of it into a verdict.
//!
//! Both OSes boot in the same configuration (`args`): `-M pc` with the qboot
//! firmware, `-cpu max`, the isa-debug-exit device, COM1 as the program's console
//! and COM2 as the log port, `-kernel/-initrd/-append` as Linux boots. COM1 is QEMU's
//! stdio: passed through raw in interactive mode (QEMU puts the terminal in raw mode
//! and forwards stdin), otherwise read from a pipe with the tty's "\n" -> "\r\n"
//! mapping undone so stdout carries exactly what the program wrote. COM2 is a Unix
//! socket QEMU connects to; its bytes are copied to stderr as they come, and the
//! markers and the status line of `k42_abi::runner` are read from it.
//!
//! The verdict (`Outcome::runner_status`) follows `k42_abi::runner`: the program's
//! status from the status line, or RUNNER_KERNEL_FAILURE, RUNNER_TIMEOUT or
//! RUNNER_NO_STATUS. QEMU's own exit code is never taken as success: a triple fault
//! under `-no-reboot` ends QEMU with 0. `main.rs` (run) and `test.rs` (the boot
//! tiers) call [`run`].

use std::io::{IsTerminal, Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use k42_abi::runner::{
    self, DEBUG_EXIT_DONE, DEBUG_EXIT_KERNEL_FAILURE, INIT_START_MARKER, RUNNER_KERNEL_FAILURE,
    RUNNER_NO_STATUS, RUNNER_TIMEOUT, STATUS_LINE_PREFIX, qemu_status_for,
};

use crate::cli::{Accel, Os};
use crate::paths;

const QEMU: &str = "qemu-system-x86_64";
/// The PC machine: PCI for later virtio devices, and PVH boot of an ELF `-kernel`.
const MACHINE_TYPE: &str = "pc";
/// Every feature TCG can emulate; Debian's kernel boots with it (checked with 6.1).
const CPU_MODEL: &str = "max";
/// Under KVM, `max` is the host CPU; the nested hypervisor of these machines refuses
/// the IA32_ARCH_CAPABILITIES MSR QEMU then sets ("failed to set MSR 0x10a" and an
/// abort at start-up), so that one feature is left out.
const CPU_MODEL_KVM: &str = "max,-arch-capabilities";
const KVM_DEVICE: &str = "/dev/kvm";
/// QEMU's gdb server port for `-s`.
const GDB_PORT: u16 = 1234;
/// How often the main thread checks whether QEMU ended or the timeout passed.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// How often the log thread checks for QEMU's connection before it arrives.
const ACCEPT_POLL_INTERVAL: Duration = Duration::from_millis(1);
/// Read buffer of the console and log pumps.
const PUMP_BUFFER: usize = 4096;

/// The kernel command line of Linux: the console on COM1; `quiet loglevel=1` so no
/// kernel text reaches the program's console except emergencies (a panic still
/// prints: Linux raises the console level on panic only when it is nonzero, so not
/// `loglevel=0`); `panic=-1` reboots at once on a panic, which `-no-reboot` turns
/// into QEMU's end; and our init wrapper as init.
fn linux_cmdline() -> String {
    format!(
        "console=ttyS0 quiet loglevel=1 panic=-1 rdinit={}",
        runner::LINUX_INIT_PATH
    )
}

/// The kernel command line for `os`: K42's log level, or Linux's fixed options,
/// then the `--append` text.
pub fn cmdline(os: Os, log_level: &str, append: &[String]) -> String {
    let mut words = vec![match os {
        Os::K42 => format!("log={log_level}"),
        Os::Linux => linux_cmdline(),
    }];
    words.extend(append.iter().cloned());
    words.join(" ")
}

/// The accelerator to use for `requested`: KVM only when /dev/kvm opens.
pub fn resolve_accel(requested: Accel) -> Accel {
    match requested {
        Accel::Tcg => Accel::Tcg,
        Accel::Kvm => {
            let opens = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(KVM_DEVICE)
                .is_ok();
            if opens {
                eprintln!(
                    "xtask: warning: KVM requested. Under a nested, paging-based hypervisor \
                     (such as kvm_pvm on these machines) a ring-3 `syscall` does not reach ring 0 \
                     correctly and Debian's kernel does not boot; use --accel tcg there."
                );
                Accel::Kvm
            } else {
                eprintln!("xtask: warning: {KVM_DEVICE} does not open; using TCG");
                Accel::Tcg
            }
        }
    }
}

/// One machine to boot.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Which kernel this is (for messages).
    pub os: Os,
    /// How the kernel is loaded.
    pub medium: Medium,
    /// `-smp`.
    pub smp: u32,
    /// `-m`.
    pub mem: String,
    /// The accelerator, already resolved by [`resolve_accel`].
    pub accel: Accel,
    /// `-s -S`.
    pub gdb: bool,
    /// The qboot firmware, or `None` for QEMU's default SeaBIOS.
    pub qboot: Option<PathBuf>,
}

/// How a machine gets its kernel.
#[derive(Debug, Clone)]
pub enum Medium {
    /// `-kernel/-initrd/-append`, booted through PVH (how both OSes run here).
    Direct {
        /// `-kernel`.
        kernel: PathBuf,
        /// `-initrd`.
        initrd: PathBuf,
        /// `-append`.
        cmdline: String,
    },
    /// `-cdrom`: a GRUB ISO that boots the kernel through multiboot2, as on real
    /// hardware. Needs SeaBIOS: qboot boots no CD.
    Cdrom {
        /// The ISO.
        iso: PathBuf,
        /// The kernel ELF inside it (for messages and the debugger).
        kernel: PathBuf,
    },
}

impl Medium {
    /// The kernel ELF this medium boots.
    pub fn kernel(&self) -> &Path {
        match self {
            Medium::Direct { kernel, .. } | Medium::Cdrom { kernel, .. } => kernel,
        }
    }
}

/// Where the program's console goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// QEMU owns the terminal: raw bytes both ways (no PROGRAM, stdin a terminal).
    Interactive,
    /// Read from a pipe, "\r\n" -> "\n", kept in [`Outcome::console`] and copied to `echo`.
    Program {
        /// Where to copy the console as it comes, if anywhere.
        echo: Option<Echo>,
    },
}

/// A live copy's destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// The runner's stdout.
    Stdout,
    /// The runner's stderr.
    Stderr,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The console's treatment.
    pub console: Console,
    /// Copy the log port to stderr as it comes.
    pub echo_log: bool,
    /// Kill QEMU after this long.
    pub timeout: Option<Duration>,
    /// Print QEMU's command line on stderr.
    pub show_command: bool,
}

/// What came out of one boot.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The console, "\r\n" undone (empty in interactive mode).
    pub console: Vec<u8>,
    /// Everything on the log port.
    pub log: String,
    /// QEMU's exit code (`None` when a signal ended it).
    pub qemu_exit: Option<i32>,
    /// The timeout that killed QEMU, if one did.
    pub timed_out: Option<Duration>,
    /// From QEMU's start to the first byte on the log port.
    pub first_log_byte: Option<Duration>,
    /// From QEMU's start to the INIT_START_MARKER line.
    pub init_start: Option<Duration>,
    /// From QEMU's start to its end.
    pub elapsed: Duration,
}

impl Outcome {
    /// The exit status in the last status line of the log port.
    pub fn status_line(&self) -> Option<u8> {
        self.log.lines().rev().find_map(|line| {
            let at = line.find(STATUS_LINE_PREFIX)?;
            line[at + STATUS_LINE_PREFIX.len()..]
                .trim()
                .parse::<u8>()
                .ok()
        })
    }

    /// Whether the kernel ended the run with the kernel-failure verdict.
    pub fn kernel_failed(&self) -> bool {
        self.qemu_exit == Some(qemu_status_for(DEBUG_EXIT_KERNEL_FAILURE))
    }

    /// The runner's exit status for this outcome (see the module comment).
    pub fn runner_status(&self) -> i32 {
        if self.timed_out.is_some() {
            RUNNER_TIMEOUT
        } else if self.kernel_failed() {
            RUNNER_KERNEL_FAILURE
        } else {
            self.status_line().map_or(RUNNER_NO_STATUS, i32::from)
        }
    }

    /// Why the run did not end normally, when it did not (`None` when a status
    /// line came and QEMU ended through isa-debug-exit as planned).
    pub fn problem(&self) -> Option<String> {
        let qemu = match self.qemu_exit {
            Some(code) => format!("QEMU exit code {code}"),
            None => "QEMU killed by a signal".to_string(),
        };
        if let Some(limit) = self.timed_out {
            Some(format!(
                "the guest did not finish within the timeout of {} s (--timeout); QEMU was killed",
                limit.as_secs()
            ))
        } else if self.kernel_failed() {
            Some(format!(
                "the guest kernel failed (panic or exception report on the log port; {qemu})"
            ))
        } else if self.status_line().is_none() {
            Some(format!(
                "QEMU ended without a status line on the log port ({qemu}): the guest crashed \
                 (a Linux panic or a triple fault both end QEMU with 0 under -no-reboot), or QEMU \
                 was ended from outside (Ctrl-A X, a signal)"
            ))
        } else if self.qemu_exit != Some(qemu_status_for(DEBUG_EXIT_DONE)) {
            Some(format!(
                "the status line came, but QEMU did not end through isa-debug-exit ({qemu})"
            ))
        } else {
            None
        }
    }

    /// One line of timings, for stderr.
    pub fn timings(&self) -> String {
        let secs =
            |d: Option<Duration>| d.map_or("never".into(), |d| format!("{:.3} s", d.as_secs_f64()));
        format!(
            "QEMU start -> first log byte {}, -> {INIT_START_MARKER} {}, -> end {:.3} s",
            secs(self.first_log_byte),
            secs(self.init_start),
            self.elapsed.as_secs_f64()
        )
    }
}

/// QEMU's arguments for `m`, with the log port on the Unix socket `log_socket`.
pub fn args(m: &Machine, log_socket: &Path, interactive: bool) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
    push(&["-M", MACHINE_TYPE]);
    if let (Some(qboot), Medium::Direct { .. }) = (&m.qboot, &m.medium) {
        push(&["-bios", &qboot.to_string_lossy()]);
    }
    let (accel, cpu) = match m.accel {
        Accel::Kvm => ("kvm", CPU_MODEL_KVM),
        Accel::Tcg => ("tcg", CPU_MODEL),
    };
    push(&["-cpu", cpu, "-m", &m.mem, "-smp", &m.smp.to_string()]);
    push(&["-accel", accel, "-display", "none", "-no-reboot"]);
    let debug_exit = format!(
        "isa-debug-exit,iobase={:#x},iosize={:#04x}",
        runner::DEBUG_EXIT_PORT,
        runner::DEBUG_EXIT_IOSIZE
    );
    push(&["-device", &debug_exit]);
    // COM1: stdio without signals, so ^C reaches the guest's shell; interactively it
    // is multiplexed with QEMU's monitor (^A X quits, ^A C switches).
    if interactive {
        push(&["-chardev", "stdio,id=com1,signal=off,mux=on"]);
        push(&["-serial", "chardev:com1", "-mon", "chardev=com1"]);
    } else {
        push(&["-chardev", "stdio,id=com1,signal=off"]);
        push(&["-serial", "chardev:com1"]);
    }
    let log = format!("socket,id=com2,path={}", log_socket.display());
    push(&["-chardev", &log, "-serial", "chardev:com2"]);
    match &m.medium {
        Medium::Direct {
            kernel,
            initrd,
            cmdline,
        } => {
            push(&["-kernel", &kernel.to_string_lossy()]);
            push(&["-initrd", &initrd.to_string_lossy()]);
            push(&["-append", cmdline]);
        }
        Medium::Cdrom { iso, .. } => push(&["-cdrom", &iso.to_string_lossy()]),
    }
    if m.gdb {
        push(&["-s", "-S"]);
    }
    a
}

/// A shell-quoted rendering of a command, for messages.
pub fn shell_words(program: &str, args: &[String]) -> String {
    let quote = |s: &str| {
        if !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Undoes a tty's ONLCR output mapping ("\n" -> "\r\n"): every "\r\n" becomes
/// "\n". Exactly invertible as long as the program leaves OPOST on: a "\r\n" the
/// program wrote itself arrives as "\r\r\n" and comes back as "\r\n".
#[derive(Debug, Default)]
pub struct OnlcrUndo {
    held_cr: bool,
}

impl OnlcrUndo {
    /// Appends the unmapped bytes of `input` to `out` (a final "\r" is held back
    /// until the next byte shows whether it starts a "\r\n").
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &byte in input {
            if std::mem::take(&mut self.held_cr) && byte != b'\n' {
                out.push(b'\r');
            }
            if byte == b'\r' {
                self.held_cr = true;
            } else {
                out.push(byte);
            }
        }
    }

    /// Flushes a held "\r" at the end of the stream.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.held_cr) {
            out.push(b'\r');
        }
    }
}

/// What the log thread hands back.
struct LogResult {
    bytes: Vec<u8>,
    first_byte: Option<Duration>,
    init_start: Option<Duration>,
}

/// Boots `m`, waits for the end (or the timeout), and returns what happened.
pub fn run(m: &Machine, opts: &Options) -> Result<Outcome, String> {
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

    let mut cmd = Command::new(QEMU);
    cmd.args(&qemu_args).stderr(Stdio::inherit());
    if interactive {
        cmd.stdin(Stdio::inherit()).stdout(Stdio::inherit());
    } else {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    }
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {QEMU}: {e}"))?;
    let qemu_done = Arc::new(AtomicBool::new(false));

    let console_thread = child.stdout.take().map(|stdout| {
        let echo = match opts.console {
            Console::Program { echo } => echo,
            Console::Interactive => None,
        };
        std::thread::spawn(move || pump_console(stdout, echo))
    });
    let log_thread = {
        let done = Arc::clone(&qemu_done);
        let echo = opts.echo_log;
        // The terminal is raw while QEMU owns it: "\n" alone would not return the carriage.
        let crlf = interactive && std::io::stderr().is_terminal();
        std::thread::spawn(move || pump_log(listener, done, start, echo, crlf))
    };

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

    let console = console_thread
        .map(|t| t.join().unwrap_or_default())
        .unwrap_or_default();
    let log = log_thread.join().unwrap_or(LogResult {
        bytes: Vec::new(),
        first_byte: None,
        init_start: None,
    });
    let _ = std::fs::remove_dir_all(&socket_dir);
    Ok(Outcome {
        console,
        log: String::from_utf8_lossy(&log.bytes).into_owned(),
        qemu_exit: status.code(),
        timed_out,
        first_log_byte: log.first_byte,
        init_start: log.init_start,
        elapsed,
    })
}

/// Copies the console pipe, ONLCR undone, to `echo` and into the returned buffer.
fn pump_console(mut from: impl Read, echo: Option<Echo>) -> Vec<u8> {
    let mut undo = OnlcrUndo::default();
    let mut all = Vec::new();
    let mut buf = [0u8; PUMP_BUFFER];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let before = all.len();
        undo.feed(&buf[..n], &mut all);
        write_echo(echo, &all[before..]);
    }
    let before = all.len();
    undo.finish(&mut all);
    write_echo(echo, &all[before..]);
    all
}

fn write_echo(echo: Option<Echo>, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    // A closed stdout (`| head`) must not stop the run: the status still matters.
    let _ = match echo {
        Some(Echo::Stdout) => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|()| out.flush())
        }
        Some(Echo::Stderr) => std::io::stderr().lock().write_all(bytes),
        None => Ok(()),
    };
}

/// Accepts QEMU's connection to the log socket, then copies the log port to
/// stderr (if `echo`) and keeps it, timing the first byte and the init marker.
fn pump_log(
    listener: UnixListener,
    qemu_done: Arc<AtomicBool>,
    start: Instant,
    echo: bool,
    crlf: bool,
) -> LogResult {
    let mut result = LogResult {
        bytes: Vec::new(),
        first_byte: None,
        init_start: None,
    };
    let mut stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // QEMU connects at start-up; if it died first, there is nothing to read.
                if qemu_done.load(Ordering::SeqCst) {
                    return result;
                }
                std::thread::sleep(ACCEPT_POLL_INTERVAL);
            }
            Err(_) => return result,
        }
    };
    if stream.set_nonblocking(false).is_err() {
        return result;
    }
    let mut buf = [0u8; PUMP_BUFFER];
    let mut line_start = 0;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let now = start.elapsed();
        result.first_byte.get_or_insert(now);
        result.bytes.extend_from_slice(&buf[..n]);
        // Time the marker when its line completes.
        while let Some(newline) = result.bytes[line_start..].iter().position(|&b| b == b'\n') {
            let line = &result.bytes[line_start..line_start + newline];
            if result.init_start.is_none()
                && String::from_utf8_lossy(line).contains(INIT_START_MARKER)
            {
                result.init_start = Some(now);
            }
            line_start += newline + 1;
        }
        if echo {
            let mut err = std::io::stderr().lock();
            let _ = if crlf {
                let text: Vec<u8> = buf[..n]
                    .iter()
                    .flat_map(|&b| {
                        if b == b'\n' {
                            vec![b'\r', b'\n']
                        } else {
                            vec![b]
                        }
                    })
                    .collect();
                err.write_all(&text)
            } else {
                err.write_all(&buf[..n])
            };
        }
    }
    result
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

/// The terminal's settings (`stty -g`), so they can be restored even if QEMU is
/// killed while it holds the terminal in raw mode.
fn save_tty() -> Option<String> {
    let out = Command::new("stty")
        .arg("-g")
        .stdin(Stdio::inherit())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn restore_tty(saved: &str) {
    let _ = Command::new("stty")
        .arg(saved)
        .stdin(Stdio::inherit())
        .status();
}

/// The path of the work file for a boot's logs, `target/k42/logs/<name>`.
pub fn log_path(name: &str) -> Result<PathBuf, String> {
    Ok(paths::work("logs")?.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undo(chunks: &[&[u8]]) -> Vec<u8> {
        let mut u = OnlcrUndo::default();
        let mut out = Vec::new();
        for c in chunks {
            u.feed(c, &mut out);
        }
        u.finish(&mut out);
        out
    }

    #[test]
    fn onlcr_undo_inverts_the_tty_mapping() {
        assert_eq!(undo(&[b"hi\r\n"]), b"hi\n");
        assert_eq!(undo(&[b"hi\r", b"\nthere\r\n"]), b"hi\nthere\n");
        assert_eq!(undo(&[b"a\r\r\n"]), b"a\r\n");
        assert_eq!(undo(&[b"a\rb"]), b"a\rb");
        assert_eq!(undo(&[b"end\r"]), b"end\r");
        assert_eq!(undo(&[b"\r", b"\r", b"\n"]), b"\r\n");
    }

    fn outcome(log: &str, qemu_exit: Option<i32>) -> Outcome {
        Outcome {
            console: Vec::new(),
            log: log.to_string(),
            qemu_exit,
            timed_out: None,
            first_log_byte: None,
            init_start: None,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn verdicts_follow_the_contract() {
        let done = Some(qemu_status_for(DEBUG_EXIT_DONE));
        let ok = outcome("boot\nk42-run: init-start\nk42-run: exit-status 7\n", done);
        assert_eq!(ok.runner_status(), 7);
        assert!(ok.problem().is_none());
        // A triple fault ends QEMU with 0: never success.
        let crash = outcome("k42-run: init-start\n", Some(0));
        assert_eq!(crash.runner_status(), RUNNER_NO_STATUS);
        assert!(crash.problem().is_some());
        let failed = outcome(
            "!!! KERNEL EXCEPTION\n",
            Some(qemu_status_for(DEBUG_EXIT_KERNEL_FAILURE)),
        );
        assert_eq!(failed.runner_status(), RUNNER_KERNEL_FAILURE);
        let mut slow = outcome("k42-run: exit-status 0\n", None);
        slow.timed_out = Some(Duration::from_secs(3));
        assert_eq!(slow.runner_status(), RUNNER_TIMEOUT);
        assert!(slow.problem().is_some_and(|p| p.contains("3 s")));
    }

    #[test]
    fn both_oses_share_one_configuration() {
        let machine = |os, kernel: &str| Machine {
            os,
            medium: Medium::Direct {
                kernel: kernel.into(),
                initrd: "/i.cpio".into(),
                cmdline: "x".into(),
            },
            smp: 2,
            mem: "512M".into(),
            accel: Accel::Tcg,
            gdb: false,
            qboot: Some("/q.rom".into()),
        };
        let k42 = args(&machine(Os::K42, "/k"), Path::new("/s"), false);
        let linux = args(&machine(Os::Linux, "/v"), Path::new("/s"), false);
        let strip = |a: &[String]| {
            a.iter()
                .filter(|s| !["/k", "/v"].contains(&s.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&k42), strip(&linux));
        assert!(
            k42.windows(2)
                .any(|w| w[0] == "-device" && w[1] == "isa-debug-exit,iobase=0xf4,iosize=0x04")
        );
    }
}
