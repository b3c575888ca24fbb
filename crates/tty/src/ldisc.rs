//! The line discipline: received bytes in, echo, signals and readable data out, after Linux's
//! `drivers/tty/n_tty.c`.
//!
//! [`LineDiscipline::receive`] runs each byte through input processing (`ISTRIP`, `IUCLC`,
//! `IXON`, `ISIG`, `IGNCR`/`ICRNL`/`INLCR`), then canonical editing when `ICANON` is on
//! (erase, kill, word erase, literal next, reprint, end of line and of file), and echoes what
//! `ECHO`, `ECHOE`, `ECHOK`/`ECHOKE`, `ECHONL` and `ECHOCTL` ask for. The echo is already
//! output-processed ([`crate::output`]): the caller sends it as it is.
//!
//! [`LineDiscipline::read`] hands out what is readable: in canonical mode at most one line per
//! read(2) (a line ended by `VEOF` keeps no terminator, and an empty one is end of file); in
//! raw mode the `VMIN`/`VTIME` rules, the timer left to the caller ([`Read::Wait`]).
//!
//! Departures from Linux, all at the edges: the input buffer holds [`BUFFER`] bytes, and in
//! canonical mode a line that would overflow it drops further ordinary characters with a bell
//! (Linux before 3.12 did this; later ones let the line wrap over itself); `IXON` stops and
//! starts are recorded ([`LineDiscipline::output_stopped`]) for the output side to honour;
//! `ECHOPRT`, `PARMRK` and `EXTPROC` are not implemented.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use k42_linux::raw::general as g;

use crate::output::{Output, is_cntrl, is_continuation};
use crate::termios::{Termios, Winsize};

/// Bytes of input the discipline holds (Linux's `N_TTY_BUF_SIZE`).
pub const BUFFER: usize = 4096;
/// The bell, echoed when a canonical line is full.
const BELL: u8 = 0x07;
/// Backspace, as erasing echoes it.
const BACKSPACE: u8 = 0x08;

/// A signal a received character raises (`ISIG`), or a window-size change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// `VINTR` (^C): `SIGINT`.
    Interrupt,
    /// `VQUIT` (^\\): `SIGQUIT`.
    Quit,
    /// `VSUSP` (^Z): `SIGTSTP`.
    Suspend,
    /// The window size changed: `SIGWINCH`.
    WindowChange,
}

impl Signal {
    /// The Linux signal number.
    pub fn number(self) -> u32 {
        match self {
            Signal::Interrupt => g::SIGINT,
            Signal::Quit => g::SIGQUIT,
            Signal::Suspend => g::SIGTSTP,
            Signal::WindowChange => g::SIGWINCH,
        }
    }

    /// The signal with Linux number `n`, if it is one of these.
    pub fn from_number(n: u32) -> Option<Self> {
        [
            Signal::Interrupt,
            Signal::Quit,
            Signal::Suspend,
            Signal::WindowChange,
        ]
        .into_iter()
        .find(|s| s.number() == n)
    }
}

/// What receiving bytes (or changing the settings) produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// Bytes to send to the terminal: the echo, output-processed.
    pub echo: Vec<u8>,
    /// Signals to raise, in order.
    pub signals: Vec<Signal>,
    /// Whether new data became readable (a completed line, or raw bytes).
    pub readable: bool,
}

/// The answer to a read ([`LineDiscipline::read`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// `n` bytes were copied out. `line_end`: they end a canonical line (or, with `n` = 0, are
    /// the empty read of end of file): the read(2) is complete. In raw mode `n` = 0 means the
    /// read(2) is complete with what it already has.
    Data {
        /// Bytes copied.
        n: usize,
        /// A canonical line ended.
        line_end: bool,
    },
    /// Nothing to hand out yet: the reader waits for input and asks again. `timeout`: `VTIME`
    /// in tenths of a second when the wait is timed (raw mode); once it passes with no input,
    /// the read(2) is complete with what it already has (possibly nothing). `None`: untimed.
    Wait {
        /// `VTIME` (1..=255), if the wait is timed.
        timeout: Option<u8>,
    },
}

/// Which erase a character asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Erase {
    Char,
    Word,
    Line,
}

/// Linux's N_TTY line discipline for one terminal (module comment).
#[derive(Clone, Debug)]
pub struct LineDiscipline {
    termios: Termios,
    winsize: Winsize,
    output: Output,
    /// Readable bytes: every byte in raw mode; completed lines in canonical mode.
    ready: VecDeque<u8>,
    /// Canonical mode: the length of each completed line in `ready` (what is left of it).
    lines: VecDeque<usize>,
    /// Canonical mode: the line being edited.
    edit: Vec<u8>,
    /// Columns each byte of `edit` took when echoed (what erasing a tab moves back).
    widths: Vec<usize>,
    /// The next byte is taken literally (`VLNEXT`).
    lnext: bool,
    /// Output stopped by `VSTOP` (`IXON`).
    stopped: bool,
    /// The output column when the current [`receive`](Self::receive) began.
    echo_base: usize,
}

impl Default for LineDiscipline {
    fn default() -> Self {
        Self::new(Termios::serial_console())
    }
}

impl LineDiscipline {
    /// A terminal with settings `termios`, nothing typed, window size 0×0.
    pub const fn new(termios: Termios) -> Self {
        Self {
            termios,
            winsize: Winsize {
                ws_row: 0,
                ws_col: 0,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
            output: Output { column: 0 },
            ready: VecDeque::new(),
            lines: VecDeque::new(),
            edit: Vec::new(),
            widths: Vec::new(),
            lnext: false,
            stopped: false,
            echo_base: 0,
        }
    }

    /// The settings.
    pub fn termios(&self) -> &Termios {
        &self.termios
    }

    /// Whether a background process's write goes through job control (`TOSTOP`): the
    /// personality asks before writing, as Linux's `n_tty_write` checks first.
    pub fn tostop(&self) -> bool {
        self.termios.local(g::TOSTOP)
    }

    /// The window size.
    pub fn winsize(&self) -> Winsize {
        self.winsize
    }

    /// Sets the window size; a change raises [`Signal::WindowChange`], as Linux's
    /// `tty_do_resize` sends `SIGWINCH`.
    pub fn set_winsize(&mut self, winsize: Winsize) -> Events {
        let mut ev = Events::default();
        if winsize != self.winsize {
            self.winsize = winsize;
            ev.signals.push(Signal::WindowChange);
        }
        ev
    }

    /// Whether output is stopped (`VSTOP` typed under `IXON`, not yet `VSTART`).
    pub fn output_stopped(&self) -> bool {
        self.stopped
    }

    /// The output column.
    pub fn column(&self) -> usize {
        self.output.column
    }

    /// Bytes held for reading or being edited.
    pub fn queued(&self) -> usize {
        self.ready.len() + self.edit.len()
    }

    /// How many more bytes [`receive`](Self::receive) should be given now; the rest wait in
    /// the device. In canonical mode with no complete line, input is always taken (erasing must
    /// work on a full line; ordinary characters beyond the buffer are dropped with a bell).
    pub fn room(&self) -> usize {
        if self.termios.canonical() && self.lines.is_empty() {
            BUFFER
        } else {
            BUFFER.saturating_sub(self.queued())
        }
    }

    /// Whether a read would return data (or end of file) now.
    pub fn readable(&self) -> bool {
        if self.termios.canonical() {
            !self.lines.is_empty()
        } else {
            !self.ready.is_empty()
        }
    }

    /// Whether `poll` reports input (Linux's `input_available_p(tty, 1)`): a complete line in
    /// canonical mode; in raw mode `VMIN` bytes when `VTIME` is 0 and `VMIN` is not, else one.
    pub fn poll_readable(&self) -> bool {
        if self.termios.canonical() {
            return !self.lines.is_empty();
        }
        let vmin = usize::from(self.termios.cc(g::VMIN));
        let amount = match self.termios.cc(g::VTIME) {
            0 if vmin > 0 => vmin,
            _ => 1,
        };
        self.ready.len() >= amount
    }

    /// Drops all input, read or being edited (`TCIFLUSH`, or a signal character without
    /// `NOFLSH`).
    pub fn flush_input(&mut self) {
        self.ready.clear();
        self.lines.clear();
        self.edit.clear();
        self.widths.clear();
        self.lnext = false;
    }

    /// Installs new settings (`TCSETS`; `flush` for `TCSETSF`). Switching `ICANON` off makes
    /// the line being edited readable; switching it on makes everything pending one line, as
    /// Linux's `n_tty_set_termios` does.
    pub fn set_termios(&mut self, termios: Termios, flush: bool) -> Events {
        let mut ev = Events::default();
        if flush {
            self.flush_input();
        }
        let was = self.termios.canonical();
        self.termios = termios;
        let now = termios.canonical();
        if was && !now {
            self.lines.clear();
            self.ready.extend(self.edit.drain(..));
            self.widths.clear();
            self.lnext = false;
            ev.readable = !self.ready.is_empty();
        } else if !was && now {
            self.lines.clear();
            if !self.ready.is_empty() {
                self.lines.push_back(self.ready.len());
                ev.readable = true;
            }
            self.lnext = false;
        }
        if !termios.input(g::IXON) {
            self.stopped = false;
        }
        ev
    }

    /// Bytes written to the terminal, output-processed, appended to `out`.
    pub fn write(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        self.output.write(&self.termios, bytes, out);
    }

    /// Takes received bytes (module comment); what they produced.
    pub fn receive(&mut self, input: &[u8]) -> Events {
        let mut ev = Events::default();
        self.echo_base = self.output.column;
        for &byte in input {
            self.receive_byte(byte, &mut ev);
        }
        ev
    }

    /// One received byte.
    fn receive_byte(&mut self, byte: u8, ev: &mut Events) {
        let t = self.termios;
        let mut c = byte;
        if t.input(g::ISTRIP) {
            c &= 0x7f;
        }
        if t.input(g::IUCLC) && t.local(g::IEXTEN) {
            c = c.to_ascii_lowercase();
        }
        if core::mem::take(&mut self.lnext) {
            self.ordinary(c, ev);
            return;
        }
        if t.input(g::IXON) {
            if t.is_cc(g::VSTART, c) {
                self.stopped = false;
                return;
            }
            if t.is_cc(g::VSTOP, c) {
                self.stopped = true;
                return;
            }
        }
        if t.local(g::ISIG) {
            let signal = [
                (g::VINTR, Signal::Interrupt),
                (g::VQUIT, Signal::Quit),
                (g::VSUSP, Signal::Suspend),
            ]
            .into_iter()
            .find(|&(index, _)| t.is_cc(index, c));
            if let Some((_, signal)) = signal {
                self.signal(signal, c, ev);
                return;
            }
        }
        if self.stopped && t.input(g::IXON | g::IXANY) {
            self.stopped = false;
        }
        let special = self.is_special(c);
        if c == b'\r' {
            if t.input(g::IGNCR) {
                return;
            }
            if t.input(g::ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && t.input(g::INLCR) {
            c = b'\r';
        }
        if t.canonical() && special && self.canonical(c, ev) {
            return;
        }
        if special && c == b'\n' {
            // The special path echoes a newline as itself, never as ^J.
            if t.local(g::ECHO) {
                self.echo_raw(b'\n', ev);
            }
            self.put(c, 0, ev);
        } else {
            self.ordinary(c, ev);
        }
    }

    /// Whether `c` is in Linux's `char_map`: a byte input processing or editing looks at.
    fn is_special(&self, c: u8) -> bool {
        let t = &self.termios;
        if c == 0 {
            return false;
        }
        let canon = t.canonical()
            && (t.is_cc(g::VERASE, c)
                || t.is_cc(g::VKILL, c)
                || t.is_cc(g::VEOF, c)
                || c == b'\n'
                || t.is_cc(g::VEOL, c)
                || (t.local(g::IEXTEN)
                    && (t.is_cc(g::VWERASE, c)
                        || t.is_cc(g::VLNEXT, c)
                        || t.is_cc(g::VEOL2, c)
                        || (t.local(g::ECHO) && t.is_cc(g::VREPRINT, c)))));
        canon
            || (c == b'\r' && (t.input(g::IGNCR) || t.input(g::ICRNL)))
            || (c == b'\n' && t.input(g::INLCR))
    }

    /// A byte with no special meaning: echoed and queued.
    fn ordinary(&mut self, c: u8, ev: &mut Events) {
        let t = self.termios;
        if t.canonical() && self.queued() >= BUFFER - 1 {
            if t.local(g::ECHO) {
                self.echo_raw(BELL, ev);
            }
            return;
        }
        let width = if t.local(g::ECHO) {
            self.echo_char(c, ev)
        } else {
            0
        };
        self.put(c, width, ev);
    }

    /// Canonical editing of special byte `c`; false if `c` is data after all.
    fn canonical(&mut self, c: u8, ev: &mut Events) -> bool {
        let t = self.termios;
        let iexten = t.local(g::IEXTEN);
        let echo = t.local(g::ECHO);
        if t.is_cc(g::VERASE, c) {
            self.erase(Erase::Char, c, ev);
            return true;
        }
        if t.is_cc(g::VKILL, c) {
            self.erase(Erase::Line, c, ev);
            return true;
        }
        if iexten && t.is_cc(g::VWERASE, c) {
            self.erase(Erase::Word, c, ev);
            return true;
        }
        if iexten && t.is_cc(g::VLNEXT, c) {
            self.lnext = true;
            if echo && t.local(g::ECHOCTL) {
                self.echo_raw(b'^', ev);
                self.echo_raw(BACKSPACE, ev);
            }
            return true;
        }
        if iexten && echo && t.is_cc(g::VREPRINT, c) {
            self.echo_char(c, ev);
            self.echo_raw(b'\n', ev);
            let line = core::mem::take(&mut self.edit);
            self.widths.clear();
            for &b in &line {
                let w = self.echo_char(b, ev);
                self.widths.push(w);
            }
            self.edit = line;
            return true;
        }
        if c == b'\n' {
            if echo || t.local(g::ECHONL) {
                self.echo_raw(b'\n', ev);
            }
            self.edit.push(c);
            self.widths.push(0);
            self.complete_line(ev);
            return true;
        }
        if t.is_cc(g::VEOF, c) {
            // The end-of-file character ends the line and is not part of it (nor echoed).
            self.complete_line(ev);
            return true;
        }
        if t.is_cc(g::VEOL, c) || (iexten && t.is_cc(g::VEOL2, c)) {
            let width = if echo { self.echo_char(c, ev) } else { 0 };
            self.edit.push(c);
            self.widths.push(width);
            self.complete_line(ev);
            return true;
        }
        false
    }

    /// Queues data byte `c`, echoed `width` columns wide.
    fn put(&mut self, c: u8, width: usize, ev: &mut Events) {
        if self.termios.canonical() {
            self.edit.push(c);
            self.widths.push(width);
        } else if self.ready.len() < BUFFER {
            self.ready.push_back(c);
            ev.readable = true;
        }
    }

    /// Makes the line being edited readable.
    fn complete_line(&mut self, ev: &mut Events) {
        self.lines.push_back(self.edit.len());
        self.ready.extend(self.edit.drain(..));
        self.widths.clear();
        ev.readable = true;
    }

    /// A signal character: the signal, Linux's flush (unless `NOFLSH`: input and the echo not
    /// yet sent), then its echo.
    fn signal(&mut self, signal: Signal, c: u8, ev: &mut Events) {
        let t = self.termios;
        if !t.local(g::NOFLSH) {
            self.flush_input();
            self.unecho(ev);
        }
        ev.signals.push(signal);
        if t.input(g::IXON) {
            self.stopped = false;
        }
        if t.local(g::ECHO) {
            self.echo_char(c, ev);
        }
    }

    /// Drops the echo of this batch (not yet sent) and the columns it moved.
    fn unecho(&mut self, ev: &mut Events) {
        ev.echo.clear();
        self.output.column = self.echo_base;
    }

    /// Erases a character, a word or the line (Linux's `eraser`).
    fn erase(&mut self, kind: Erase, c: u8, ev: &mut Events) {
        let t = self.termios;
        if self.edit.is_empty() {
            return;
        }
        if kind == Erase::Line {
            if !t.local(g::ECHO) {
                self.edit.clear();
                self.widths.clear();
                return;
            }
            if !t.local(g::ECHOK | g::ECHOKE | g::ECHOE) {
                self.edit.clear();
                self.widths.clear();
                self.echo_char(c, ev);
                if t.local(g::ECHOK) {
                    self.echo_raw(b'\n', ev);
                }
                return;
            }
        }
        let mut seen_alnums = false;
        while let Some(last) = self.edit.len().checked_sub(1) {
            // A whole character: a UTF-8 sequence under IUTF8 goes at once.
            let mut start = last;
            while start > 0 && is_continuation(&t, self.edit[start]) {
                start -= 1;
            }
            let first = self.edit[start];
            if is_continuation(&t, first) {
                break;
            }
            if kind == Erase::Word {
                if first.is_ascii_alphanumeric() || first == b'_' {
                    seen_alnums = true;
                } else if seen_alnums {
                    break;
                }
            }
            let width = self.widths[start];
            self.edit.truncate(start);
            self.widths.truncate(start);
            if t.local(g::ECHO) {
                if kind == Erase::Char && !t.local(g::ECHOE) {
                    self.echo_char(t.cc(g::VERASE), ev);
                } else if first == b'\t' {
                    for _ in 0..width {
                        self.echo_raw(BACKSPACE, ev);
                    }
                } else {
                    let ctl = is_cntrl(first);
                    if ctl && t.local(g::ECHOCTL) {
                        self.rub_out(ev);
                    }
                    if !ctl || t.local(g::ECHOCTL) {
                        self.rub_out(ev);
                    }
                }
            }
            if kind == Erase::Char {
                break;
            }
        }
    }

    /// "\b \b": one column rubbed out.
    fn rub_out(&mut self, ev: &mut Events) {
        for b in [BACKSPACE, b' ', BACKSPACE] {
            self.echo_raw(b, ev);
        }
    }

    /// Echoes `c` as typed (`^X` for a control character under `ECHOCTL`); the columns it took.
    fn echo_char(&mut self, c: u8, ev: &mut Events) -> usize {
        let before = self.output.column;
        if self.termios.local(g::ECHOCTL) && is_cntrl(c) && c != b'\t' {
            self.output.put_caret(c, &mut ev.echo);
        } else {
            self.output.put(&self.termios, c, &mut ev.echo);
        }
        self.output.column.saturating_sub(before)
    }

    /// Echoes `c` itself, output-processed.
    fn echo_raw(&mut self, c: u8, ev: &mut Events) {
        self.output.put(&self.termios, c, &mut ev.echo);
    }

    /// Hands out readable bytes into `out` (at most `out.len()`) for a read(2) of `want`
    /// bytes in all that has `got` of them already (from earlier calls: a caller moving
    /// bytes in small pieces asks again with `got` grown).
    ///
    /// Canonical mode: bytes of the first complete line; `line_end` once its end is handed
    /// out; [`Read::Wait`] (untimed) without a complete line.
    ///
    /// Raw mode, with `need` = min(`VMIN`, `want`) − `got`:
    /// - `VMIN` = 0, `VTIME` = 0: what is there, possibly nothing;
    /// - `VMIN` = 0, `VTIME` > 0: what is there; if nothing and `got` = 0, a timed wait;
    /// - `VMIN` > 0, `VTIME` = 0: nothing until `need` bytes are there (untimed wait);
    /// - `VMIN` > 0, `VTIME` > 0: the first byte is waited for untimed; after it, what is
    ///   there, and with nothing there a timed wait (the inter-byte timer).
    pub fn read(&mut self, out: &mut [u8], want: usize, got: usize) -> Read {
        if self.termios.canonical() {
            return self.read_line(out);
        }
        let vmin = usize::from(self.termios.cc(g::VMIN));
        let vtime = self.termios.cc(g::VTIME);
        let need = vmin.min(want).saturating_sub(got);
        let available = self.ready.len();
        let timed = (vtime != 0).then_some(vtime);
        if vmin == 0 {
            if available == 0 && got == 0 && timed.is_some() {
                return Read::Wait { timeout: timed };
            }
        } else if available < need {
            match (timed, available, got) {
                (None, _, _) | (Some(_), 0, 0) => return Read::Wait { timeout: None },
                (Some(_), 0, _) => return Read::Wait { timeout: timed },
                // Some bytes now, the rest under the inter-byte timer.
                (Some(_), _, _) => {}
            }
        }
        let n = out.len().min(available);
        for (slot, byte) in out.iter_mut().zip(self.ready.drain(..n)) {
            *slot = byte;
        }
        Read::Data { n, line_end: false }
    }

    /// A canonical read: from the first complete line.
    fn read_line(&mut self, out: &mut [u8]) -> Read {
        let Some(left) = self.lines.front_mut() else {
            return Read::Wait { timeout: None };
        };
        let n = out.len().min(*left);
        for (slot, byte) in out.iter_mut().zip(self.ready.drain(..n)) {
            *slot = byte;
        }
        *left -= n;
        let line_end = *left == 0;
        if line_end {
            self.lines.pop_front();
        }
        Read::Data { n, line_end }
    }
}
