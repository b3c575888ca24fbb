//! The guest tier's interactive sessions (issue #5): on each OS the boot that names no
//! program — busybox `sh` on an interactive console, as `cargo xtask run` without a program
//! gives it — runs under QEMU inside a detached tmux session on a private socket, and is typed
//! on as a person would: `send-keys` for the keys, `capture-pane` polled for what the shell
//! shows. Case `guest.OS.tmux_session`, its steps in order ([`drive`]):
//!
//! 1. a prompt comes;
//! 2. `ls / | wc -l` prints a number above 0;
//! 3. `sleep 10 &`, then `jobs` lists it Running;
//! 4. `cat` copies a line typed to it, Ctrl-C ends it (`$?` 130) and a prompt comes back;
//! 5. `sleep 30`, Ctrl-Z: the shell reports it Stopped and `jobs` lists it so; `fg %N`
//!    resumes it and Ctrl-C ends it (`$?` 130);
//! 6. `cat` copying a line, Ctrl-Z, `fg %N`: the resumed cat copies a line typed then (a
//!    wake-up due while it was stopped is not lost), and Ctrl-C ends it;
//! 7. `exit 3` ends the run: QEMU ends through isa-debug-exit (`#{pane_dead_status}`, the
//!    pane being kept with `remain-on-exit`) with the status line 3 on the log port.
//!
//! Each wait polls the pane with a generous timeout (TCG, and a loaded machine), all of them
//! within `--timeout`; a failure names the step and shows the pane as last captured. The
//! tmux server is killed however the session ends (`Drop`), which ends QEMU with it. The log
//! port is read here from its Unix socket, as the runner does (`../qemu/`); the pane's whole
//! history and the log are kept as `target/k42/logs/guest-OS-tmux.{console,log}`.
//!
//! `guest_tier.rs` calls [`run`]; the initramfs comes from `boot.rs`, tmux from
//! `../prereq.rs`.

use std::io::Read;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Context;
use super::boot::initramfs_with;
use super::report::Report;
use crate::cli::{self, Os};
use crate::qemu::{self, logs_hint};
use crate::{kernel, linux};

/// The tmux session's name (on a server of our own: [`Tmux::socket`]).
const SESSION: &str = "k42";
/// The pane's fixed size: the 80 columns busybox's line editing assumes on a serial console.
const WIDTH: &str = "80";
const HEIGHT: &str = "24";
/// Lines of the pane shown in a failure.
const PANE_LINES: usize = 24;
/// How often the pane is captured while waiting.
const POLL: Duration = Duration::from_millis(250);
/// How long the first prompt may take (a Linux boot under TCG takes seconds; a loaded
/// machine many more).
const BOOT_WAIT: Duration = Duration::from_secs(240);
/// How long any later step may take.
const STEP_WAIT: Duration = Duration::from_secs(120);
/// How often Ctrl-Z, Ctrl-C and the line for `cat` are typed again while their effect has not
/// shown: a key typed before the command's process group is the terminal's foreground group
/// (the shell forks, the child sets its group and takes the terminal, then execs) reaches the
/// shell, which ignores it.
const KEY_RETRY: Duration = Duration::from_secs(5);
/// What `exit` is given, and the run's status expected from it.
const EXIT_STATUS: u8 = 3;
/// `echo status $?` after a foreground job Ctrl-C ended: 128 + SIGINT.
const INTERRUPTED: &str = "status 130";
/// The line typed to `cat`, which it echoes.
const CAT_LINE: &str = "meow from tmux";
/// What is typed to the cat resumed by `fg` after Ctrl-Z.
const RESUMED_LINE: &str = "resumed cat reads";
/// How long QEMU may outlive the session's own limit (`--timeout`) before `timeout` ends it,
/// should this process be gone without killing the tmux server.
const QEMU_SPARE: Duration = Duration::from_secs(60);
/// How long the log reader may take to see QEMU's end once the session is over.
const LOG_DRAIN: Duration = Duration::from_secs(5);

/// The case `guest.OS.tmux_session`, unless the filter leaves it out.
pub(super) fn run(ctx: &Context<'_>, report: &mut Report, os: Os) {
    let case = format!("guest.{}.tmux_session", os.name());
    if !report.wanted(&case) {
        return;
    }
    let label = format!("guest-{}-tmux", os.name());
    match session(ctx, os, &label) {
        Ok(()) => report.pass(&case),
        Err(why) => report.fail(&case, &why),
    }
}

/// Boots `os`'s interactive shell in tmux, drives it, and checks how the run ended.
fn session(ctx: &Context<'_>, os: Os, label: &str) -> Result<(), String> {
    let tmux_bin = ctx
        .tools
        .tmux
        .clone()
        .ok_or("tmux is missing (prereq::ensure_tmux did not run)")?;
    let kernel = match os {
        Os::K42 => kernel::build()?,
        Os::Linux => linux::kernel_image(
            ctx.tools
                .vmlinuz
                .as_deref()
                .ok_or("no Linux kernel image")?,
        ),
    };
    let medium = qemu::Medium::Direct {
        kernel,
        initrd: initramfs_with(ctx, None, Vec::new(), label)?,
        cmdline: qemu::cmdline(os, cli::DEFAULT_LOG, &[]),
    };
    let machine = qemu::Machine::standard(os, medium, cli::DEFAULT_SMP, ctx.tools.qboot.clone());
    let log = LogPort::listen(label)?;
    // QEMU runs in the tmux server's session, out of reach of a Ctrl-C or kill of this
    // process (whose end kills the server only when it unwinds): `timeout` ends it in any
    // case. `--foreground` keeps it in the pane's foreground group, where it reads the
    // terminal; its status is QEMU's.
    let command = format!(
        "exec timeout --foreground {} {}",
        ctx.args.timeout + QEMU_SPARE.as_secs(),
        qemu::shell_words(qemu::QEMU, &qemu::args(&machine, &log.socket, true))
    );
    if ctx.args.verbose {
        eprintln!("xtask: {label}: in tmux: {command}");
    }
    let start = Instant::now();
    let tmux = Tmux {
        bin: tmux_bin,
        socket: format!("k42-xtask-{}-{}", std::process::id(), os.name()),
    };
    let driven = tmux.start(&command).and_then(|()| {
        let mut shell = Shell {
            tmux: &tmux,
            limit: start + Duration::from_secs(ctx.args.timeout),
            prompt: String::new(),
            label,
            verbose: ctx.args.verbose,
        };
        drive(&mut shell)
    });
    let pane = tmux.capture().unwrap_or_default();
    // The end of the server ends QEMU (SIGHUP), if `exit` did not.
    drop(tmux);
    let log = log.finish();
    let _ = std::fs::write(qemu::log_path(&format!("{label}.console"))?, &pane);
    let _ = std::fs::write(qemu::log_path(&format!("{label}.log"))?, &log);
    let shown = || {
        let lines: Vec<&str> = pane.lines().collect();
        lines[lines.len().saturating_sub(PANE_LINES)..].join("\n")
    };
    let qemu_exit = match driven {
        Ok(status) => status,
        Err(why) => {
            return Err(format!(
                "{why}; {}\nthe pane:\n{}",
                logs_hint(label),
                shown()
            ));
        }
    };
    let outcome = qemu::Outcome {
        console: pane.clone().into_bytes(),
        log,
        qemu_exit,
        timed_out: None,
        first_log_byte: None,
        init_start: None,
        elapsed: start.elapsed(),
    };
    match (outcome.status_line(), outcome.problem()) {
        (Some(EXIT_STATUS), None) => Ok(()),
        (status, problem) => Err(format!(
            "`exit {EXIT_STATUS}` ended the run with status {status:?}, expected \
             {EXIT_STATUS}{}; {}\nthe pane:\n{}",
            problem.map(|p| format!(" ({p})")).unwrap_or_default(),
            logs_hint(label),
            shown()
        )),
    }
}

/// The session's steps (module comment); QEMU's exit code once `exit` ended it (`None`: a
/// signal).
fn drive(shell: &mut Shell<'_>) -> Result<Option<i32>, String> {
    shell.prompt = shell.wait("a shell prompt", BOOT_WAIT, None, |lines| {
        lines
            .last()
            .filter(|l| l.ends_with('#') || l.ends_with('$'))
            .cloned()
    })?;

    let out = shell.command("ls / | wc -l")?;
    if !out
        .iter()
        .any(|l| l.trim().parse::<u32>().is_ok_and(|n| n > 0))
    {
        return Err(format!(
            "`ls / | wc -l` printed {out:?}, expected a number above 0"
        ));
    }

    shell.command("sleep 10 &")?;
    let out = shell.command("jobs")?;
    if !out
        .iter()
        .any(|l| l.contains("Running") && l.contains("sleep 10"))
    {
        return Err(format!(
            "`jobs` after `sleep 10 &` printed {out:?}, expected a Running line for it"
        ));
    }

    // Ctrl-C of a foreground cat, once it read a line typed to it and wrote it back (the
    // terminal's echo and cat's copy: two whole lines). A line typed while the terminal goes
    // from the shell's line editing (raw, no echo) to cat comes out cut or without its end
    // (seen on Linux), so it is typed again until they show. A Ctrl-C
    // typed before cat is the foreground job is lost, hence the retries, and `$?` tells cat
    // was interrupted.
    let (typed, before) = start(shell, "cat")?;
    copies(shell, "cat", &typed, CAT_LINE, Some(Retry::Line(CAT_LINE)))?;
    interrupt(shell, "cat", before)?;

    // Ctrl-Z of a foreground sleep; it is listed Stopped, then resumed and ended.
    let (typed, before) = start(shell, "sleep 30")?;
    let job = suspend(shell, "sleep 30", &typed, before)?;
    let out = shell.command("jobs")?;
    if !out
        .iter()
        .any(|l| l.contains("Stopped") && l.contains("sleep 30"))
    {
        return Err(format!(
            "`jobs` after Ctrl-Z printed {out:?}, expected a Stopped line for sleep 30"
        ));
    }
    let (_, before) = resume(shell, "sleep 30", job)?;
    interrupt(shell, "the resumed sleep 30", before)?;

    // Ctrl-Z of a cat waiting for input, `fg`, and a line typed to it then: the resumed cat
    // reads it (a wake-up due while it was stopped is not lost). Typed once: each typing
    // shows once (the echo), so a second copy can only be cat's.
    let (typed, before) = start(shell, "cat")?;
    copies(shell, "cat", &typed, CAT_LINE, Some(Retry::Line(CAT_LINE)))?;
    let job = suspend(shell, "cat", &typed, before)?;
    let (typed, before) = resume(shell, "cat", job)?;
    shell.line(RESUMED_LINE)?;
    copies(shell, "the resumed cat", &typed, RESUMED_LINE, None)?;
    interrupt(shell, "the resumed cat", before)?;

    shell.line(&format!("exit {EXIT_STATUS}"))?;
    shell.wait_dead(STEP_WAIT)
}

/// Types `command` at the prompt and waits until the shell shows it read it; returns the line
/// it shows and the prompts counted before.
fn start(shell: &Shell<'_>, command: &str) -> Result<(String, usize), String> {
    let before = shell.prompts()?;
    shell.line(command)?;
    let typed = format!("{} {command}", shell.prompt);
    shell.wait(
        &format!("the shell to read `{command}`"),
        STEP_WAIT,
        None,
        |lines| lines.contains(&typed).then_some(()),
    )?;
    Ok((typed, before))
}

/// Waits until `line` shows twice after `typed` — the terminal's echo and `who`'s copy.
fn copies(
    shell: &Shell<'_>,
    who: &str,
    typed: &str,
    line: &str,
    retry: Option<Retry<'_>>,
) -> Result<(), String> {
    let what = format!("{who} to copy the line typed to it");
    shell.wait(&what, STEP_WAIT, retry, |lines| {
        let whole = after_last(lines, typed).iter().filter(|l| *l == line);
        (whole.count() >= 2).then_some(())
    })
}

/// Ctrl-Z (until it takes) of the foreground `command`: waits for the shell's Stopped line
/// and a prompt; returns the job's number.
fn suspend(shell: &Shell<'_>, command: &str, typed: &str, before: usize) -> Result<u32, String> {
    let what = format!("a Stopped line for {command} after Ctrl-Z, then a prompt");
    shell.wait(&what, STEP_WAIT, Some(Retry::Key("C-z")), |lines| {
        let job = after_last(lines, typed)
            .iter()
            .filter(|l| l.contains("Stopped") && l.contains(command))
            .find_map(|l| job_number(l))?;
        shell.idle_after(lines, before).then_some(job)
    })
}

/// `fg %job`, waiting for the shell to show it resumed `command`; returns as [`start`].
fn resume(shell: &Shell<'_>, command: &str, job: u32) -> Result<(String, usize), String> {
    let before = shell.prompts()?;
    let fg = format!("fg %{job}");
    shell.line(&fg)?;
    let typed = format!("{} {fg}", shell.prompt);
    shell.wait(
        &format!("`fg` to resume {command}"),
        STEP_WAIT,
        None,
        |lines| {
            after_last(lines, &typed)
                .iter()
                .any(|l| l.trim() == command)
                .then_some(())
        },
    )?;
    Ok((typed, before))
}

/// Ctrl-C (until it takes) of the foreground `who`: a prompt comes back, and `$?` says it
/// was interrupted.
fn interrupt(shell: &Shell<'_>, who: &str, before: usize) -> Result<(), String> {
    let what = format!("a prompt after Ctrl-C of {who}");
    shell.wait(&what, STEP_WAIT, Some(Retry::Key("C-c")), |lines| {
        shell.idle_after(lines, before).then_some(())
    })?;
    let out = shell.command("echo status $?")?;
    if !out.iter().any(|l| l == INTERRUPTED) {
        return Err(format!(
            "`echo status $?` after Ctrl-C of {who} printed {out:?}, expected {INTERRUPTED:?}"
        ));
    }
    Ok(())
}

/// The lines after the last one equal to `marker` (none if it is not there).
fn after_last<'a>(lines: &'a [String], marker: &str) -> &'a [String] {
    lines
        .iter()
        .rposition(|l| l == marker)
        .map_or(&[], |i| &lines[i + 1..])
}

/// The job number of a job line of busybox `sh` (`[2]+  Stopped   sleep 30`), which may follow
/// the terminal's echo of the keys on the same line (`^Z[2]+ ...`).
fn job_number(line: &str) -> Option<u32> {
    let rest = &line[line.find('[')? + 1..];
    rest[..rest.find(']')?].parse().ok()
}

/// What a wait types again until it sees its effect.
#[derive(Debug, Clone, Copy)]
enum Retry<'a> {
    /// A key (`C-c`).
    Key(&'a str),
    /// A line of text, then Enter.
    Line(&'a str),
}

/// The shell in the pane, and what is known of it.
struct Shell<'a> {
    tmux: &'a Tmux,
    /// When the whole session must be over (`--timeout` from the start).
    limit: Instant,
    /// The prompt, as the first one showed (`/ #`), trailing spaces trimmed.
    prompt: String,
    label: &'a str,
    verbose: bool,
}

impl Shell<'_> {
    /// The pane's lines (its whole history, wrapped lines joined), trailing spaces and empty
    /// lines dropped.
    fn screen(&self) -> Result<Vec<String>, String> {
        let text = self.tmux.capture()?;
        let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        Ok(lines)
    }

    /// How many lines start with the prompt.
    fn count_prompts(&self, lines: &[String]) -> usize {
        let typed = format!("{} ", self.prompt);
        lines
            .iter()
            .filter(|l| **l == self.prompt || l.starts_with(&typed))
            .count()
    }

    fn prompts(&self) -> Result<usize, String> {
        Ok(self.count_prompts(&self.screen()?))
    }

    /// Whether a prompt came after the `before` there were, and waits for input as the last line.
    fn idle_after(&self, lines: &[String], before: usize) -> bool {
        self.count_prompts(lines) > before && lines.last().is_some_and(|l| *l == self.prompt)
    }

    /// Types `text` and Enter.
    fn line(&self, text: &str) -> Result<(), String> {
        if self.verbose {
            eprintln!("xtask: {}: typing {text:?}", self.label);
        }
        self.tmux.keys(&["-l", text])?;
        self.tmux.keys(&["Enter"])
    }

    /// Types the command `text`, waits for the next prompt, and returns the lines between.
    fn command(&self, text: &str) -> Result<Vec<String>, String> {
        let before = self.prompts()?;
        self.line(text)?;
        let typed = format!("{} {text}", self.prompt);
        self.wait(
            &format!("the prompt after `{text}`"),
            STEP_WAIT,
            None,
            |lines| {
                self.idle_after(lines, before).then(|| {
                    let out = after_last(lines, &typed);
                    out[..out.len().saturating_sub(1)].to_vec()
                })
            },
        )
    }

    /// Polls the pane until `check` gives an answer, for at most `wait` (and within the
    /// session's limit), typing `retry` at once and again every [`KEY_RETRY`].
    fn wait<T>(
        &self,
        what: &str,
        wait: Duration,
        retry: Option<Retry<'_>>,
        check: impl Fn(&[String]) -> Option<T>,
    ) -> Result<T, String> {
        let start = Instant::now();
        let deadline = (start + wait).min(self.limit);
        let mut next_key = start;
        loop {
            if let Some(retry) = retry
                && Instant::now() >= next_key
            {
                match retry {
                    Retry::Key(key) => {
                        if self.verbose {
                            eprintln!("xtask: {}: pressing {key}", self.label);
                        }
                        self.tmux.keys(&[key])?;
                    }
                    Retry::Line(text) => self.line(text)?,
                }
                next_key = Instant::now() + KEY_RETRY;
            }
            if let Some(answer) = check(&self.screen()?) {
                return Ok(answer);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no {what} within {:.0} s",
                    start.elapsed().as_secs_f64()
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits for the pane's command (QEMU) to end; its exit code (`None`: a signal).
    fn wait_dead(&self, wait: Duration) -> Result<Option<i32>, String> {
        let start = Instant::now();
        let deadline = (start + wait).min(self.limit);
        loop {
            if let Some(code) = self.tmux.ended()? {
                return Ok(code);
            }
            self.tmux.nudge();
            if Instant::now() >= deadline {
                return Err(format!(
                    "QEMU did not end within {:.0} s of `exit {EXIT_STATUS}`",
                    start.elapsed().as_secs_f64()
                ));
            }
            std::thread::sleep(POLL);
        }
    }
}

/// A tmux server of our own (`-L`, no configuration file), killed when dropped.
struct Tmux {
    bin: PathBuf,
    socket: String,
}

impl Tmux {
    /// Runs one tmux command line (`;` separates commands); its stdout.
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.bin)
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "`tmux {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Starts the server and the session running `command` (through `sh -c`) in a detached
    /// pane of the fixed size, kept after its command ends so its exit code can be read.
    fn start(&self, command: &str) -> Result<(), String> {
        self.run(&[
            "start-server",
            ";",
            "set-option",
            "-g",
            "-w",
            "remain-on-exit",
            "on",
            ";",
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            WIDTH,
            "-y",
            HEIGHT,
            command,
        ])
        .map(drop)
    }

    /// Sends keys to the pane (`-l TEXT` for literal text).
    fn keys(&self, keys: &[&str]) -> Result<(), String> {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend(keys);
        self.run(&args).map(drop)
    }

    /// The pane's whole history and screen, wrapped lines joined.
    fn capture(&self) -> Result<String, String> {
        self.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", SESSION])
    }

    /// How the pane's command ended, once tmux knows: `Some(Some(code))` when it exited,
    /// `Some(None)` when a signal ended it, `None` while it runs (or tmux has seen the pane's
    /// terminal close but not yet collected the exit status).
    fn ended(&self) -> Result<Option<Option<i32>>, String> {
        let out = self.run(&[
            "display-message",
            "-p",
            "-t",
            SESSION,
            "#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}",
        ])?;
        let mut fields = out.trim().split(':');
        let (dead, status, signal) = (fields.next(), fields.next(), fields.next());
        Ok(match (dead, status, signal) {
            (Some("1"), Some(status), _) if !status.is_empty() => {
                Some(Some(status.parse().unwrap_or(-1)))
            }
            (Some("1"), _, Some(signal)) if !signal.is_empty() => Some(None),
            _ => None,
        })
    }
}

impl Tmux {
    /// Sends the server a SIGCHLD. Debian's tmux is built with libutempter, whose own SIGCHLD
    /// handler is in place while tmux adds or removes a pane's utmp record — it removes it
    /// when the pane's terminal closes, just as its command ends — and can swallow that
    /// command's SIGCHLD: tmux then never collects it and the pane never dies (tmux issues
    /// #311, #4559; seen here, QEMU left a zombie under the server after `exit`). tmux reaps
    /// with WNOHANG, so a spare SIGCHLD is harmless.
    fn nudge(&self) {
        let Ok(pid) = self.run(&["display-message", "-p", "#{pid}"]) else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-s", "CHLD", pid.trim()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The log port (COM2): a Unix socket QEMU connects to, read into memory by a thread.
struct LogPort {
    dir: PathBuf,
    socket: PathBuf,
    bytes: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    reader: JoinHandle<()>,
}

impl LogPort {
    /// Listens in a fresh private directory (short: a socket path has at most 108 bytes).
    fn listen(label: &str) -> Result<LogPort, String> {
        let dir = std::env::temp_dir().join(format!("k42-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let socket = dir.join("log.sock");
        let listener = UnixListener::bind(&socket)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| format!("cannot listen on {}: {e}", socket.display()))?;
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let bytes = Arc::clone(&bytes);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || read_log(&listener, &bytes, &stop))
        };
        Ok(LogPort {
            dir,
            socket,
            bytes,
            stop,
            reader,
        })
    }

    /// What came, once QEMU closed the port (or [`LOG_DRAIN`] passed).
    fn finish(self) -> String {
        self.stop.store(true, Ordering::SeqCst);
        let start = Instant::now();
        while !self.reader.is_finished() && start.elapsed() < LOG_DRAIN {
            std::thread::sleep(POLL);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        let bytes = self.bytes.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Accepts QEMU's connection (unless `stop` comes first) and keeps what it sends.
fn read_log(listener: &UnixListener, bytes: &Mutex<Vec<u8>>, stop: &AtomicBool) {
    let mut stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(POLL);
            }
            Err(_) => return,
        }
    };
    if stream.set_nonblocking(false).is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if let Ok(mut b) = bytes.lock() {
                    b.extend_from_slice(&buf[..n]);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_lines_give_their_number() {
        assert_eq!(
            job_number("[2]+  Stopped                    sleep 30"),
            Some(2)
        );
        assert_eq!(job_number("^Z^Z[12]+  Stopped   sleep 30"), Some(12));
        assert_eq!(job_number("sleep 30"), None);
    }

    #[test]
    fn output_follows_the_last_marker() {
        let lines: Vec<String> = ["/ # a", "1", "/ # a", "2", "/ #"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(after_last(&lines, "/ # a"), &lines[3..]);
        assert!(after_last(&lines, "/ # b").is_empty());
    }
}
