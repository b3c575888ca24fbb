//! The threads that drain QEMU's two serial ports while it runs: the console pipe
//! (COM1), with the tty's ONLCR mapping undone and each piece timed as it is read (for
//! `cargo xtask bench`'s time to a shell prompt), and the log socket (COM2), timed for
//! its first byte and the init marker.
//!
//! `mod.rs` spawns [`pump_console`] and [`pump_log`] and builds the `outcome.rs`
//! [`Outcome`](super::Outcome) and [`ConsoleArrivals`] from what they hand back.

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use k42_abi::runner::INIT_START_MARKER;

use super::machine::Echo;
use super::outcome::ConsoleArrivals;

/// How often the log thread checks for QEMU's connection before it arrives.
const ACCEPT_POLL_INTERVAL: Duration = Duration::from_millis(1);
/// Read buffer of the console and log pumps.
const PUMP_BUFFER: usize = 4096;

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
pub(super) struct LogResult {
    pub(super) bytes: Vec<u8>,
    pub(super) first_byte: Option<Duration>,
    pub(super) init_start: Option<Duration>,
}

/// Copies the console pipe, ONLCR undone, to `echo` and into the returned buffer, with
/// the time since `start` at which each read returned its piece.
pub(super) fn pump_console(
    mut from: impl Read,
    echo: Option<Echo>,
    start: Instant,
) -> (Vec<u8>, ConsoleArrivals) {
    let mut undo = OnlcrUndo::default();
    let mut all = Vec::new();
    let mut arrivals = ConsoleArrivals::default();
    let mut buf = [0u8; PUMP_BUFFER];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let before = all.len();
        arrivals.push(before, start.elapsed());
        undo.feed(&buf[..n], &mut all);
        write_echo(echo, &all[before..]);
    }
    let before = all.len();
    undo.finish(&mut all);
    write_echo(echo, &all[before..]);
    arrivals.finish(all.len());
    (all, arrivals)
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
/// stderr (if `echo`) and keeps it, timing the first byte and the init marker (and
/// raising `init_seen` at the marker).
pub(super) fn pump_log(
    listener: UnixListener,
    qemu_done: Arc<AtomicBool>,
    init_seen: Arc<AtomicBool>,
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
                init_seen.store(true, Ordering::SeqCst);
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
    fn console_pieces_are_timed_where_they_start() {
        let start = Instant::now();
        let (bytes, arrivals) = pump_console(&b"hi\r\n/ # "[..], None, start);
        assert_eq!(bytes, b"hi\n/ # ");
        // One read took the whole input: every byte arrived with it.
        let first = arrivals.of_byte(0).expect("a piece at 0");
        assert_eq!(arrivals.of_byte(bytes.len() - 1), Some(first));
        assert_eq!(arrivals.of_byte(bytes.len()), None);
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
}
