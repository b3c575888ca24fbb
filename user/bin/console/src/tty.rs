//! The console's terminal: Linux's N_TTY line discipline (`k42_tty`) between the UART and the
//! clients, shared by every console object (one terminal, however many handles name it).
//!
//! **Input is polled.** There is no interrupt delivery to user level yet, so a thread
//! (`uart-rx`) looks at the UART's line status every [`POLL_INTERVAL_NS`] (10 ms, the kernel
//! tick that drives dispatcher timers, so no finer interval would be kept) and, while the
//! data-ready bit is set and the line discipline has room, takes received bytes and feeds them
//! to it. The UART's receive FIFO holds 16 bytes: at a real line's 115,200 baud that is ~1.4 ms
//! of input, so typing is safe but a paste can overrun on hardware; under QEMU the character
//! backend waits for room, so nothing is lost. Polling starts with the first call that shows
//! interest in input (`read`, `tcgets`, `tcsets`, `notify`): a console nobody reads costs no
//! timer wake-ups (native test programs and benchmarks never read it).
//!
//! **Output.** Clients' writes and the echo go out through the line discipline's output
//! processing (`OPOST`: `ONLCR` by default, so "\n" leaves as "\r\n", which the runner undoes),
//! under the terminal's lock, so echo and writes never interleave within a piece.
//!
//! **Reads never wait here** (the server rule, DESIGN §2.3): a read with nothing readable
//! answers `WouldBlock` (or a timed wait for `VTIME`) and *arms* the caller; when input becomes
//! readable, each armed client registered with `notify` is sent one `Event::Input` message and
//! disarmed, so a client that is not reading gets no flood of messages.
//!
//! **Signals** the input raises (^C, ^\\, ^Z) and window-size changes go to the terminal's
//! foreground process group, which the process server keeps with the sessions (job control,
//! issue #5): once the spawner has attached it (`attach_procs`), each is one
//! `Procs::terminal_signal` call, made after the terminal's lock is dropped. Without a process
//! server (a native program's run) they are sent to every registered client as
//! `Event::Signal`.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_abi::kernel::{Status, comm_pid};
use k42_abi::runner::CONSOLE_UART_PORT;
use k42_ifaces::console::{ConsoleError, Event, NOTIFY_METHOD, READ_DATA_BYTES, ReadReply};
use k42_ifaces::procs::ProcsClient;
use k42_rights::{Badge, XHandle};
use k42_rt::Ppc;
use k42_rt::sync::FairBLock;
use k42_rt::sys::cpu::inb;
use k42_rt::sys::kcall;
use k42_rt::thread::{self, Thread};
use k42_rt::{log, server};
use k42_tty::{LineDiscipline, Read, Signal, TERMIOS_BYTES, Termios, Winsize};

use crate::{REG_DATA, REG_LINE_STATUS, Uart};

/// How often the receive side is polled: the 100 Hz tick's period (dispatcher timers have its
/// 10 ms resolution).
pub const POLL_INTERVAL_NS: u64 = 10_000_000;
/// Line status: a received byte is waiting (DR).
const LINE_STATUS_DATA_READY: u8 = 0x01;
/// Most bytes taken from the UART in one poll.
const RX_BATCH: usize = 256;

/// A client registered for notifications.
struct Listener {
    /// Its process (the badge its calls carry).
    pid: u64,
    /// The dispatcher messages go to.
    comm: u64,
    /// One of its reads found nothing since its last `Input` message.
    armed: bool,
}

/// The terminal.
struct Tty {
    ld: LineDiscipline,
    listeners: Vec<Listener>,
}

static TTY: FairBLock<Tty> = FairBLock::new(Tty {
    ld: LineDiscipline::new(Termios::serial_console()),
    listeners: Vec::new(),
});

/// The process server's dispatcher and the table handle (with `TERMINAL`) the input's signals
/// go through, once attached.
static PROCS: spin::Once<(u64, XHandle)> = spin::Once::new();

/// `Console::attach_procs`: the signals go to the foreground group from now on (once).
pub fn attach_procs(comm: u64, handle: XHandle) {
    PROCS.call_once(|| (comm, handle));
}

/// Whether the receive side is being polled.
static POLLING: AtomicBool = AtomicBool::new(false);
/// The polling thread, parked until [`start_polling`].
static POLLER: FairBLock<Option<Thread>> = FairBLock::new(None);

/// Makes the polling thread; it waits until a client shows interest in input.
pub fn spawn_poller() {
    let handle = thread::spawn("uart-rx", poll_loop);
    *POLLER.lock() = Some(handle.thread().clone());
}

/// Starts polling (once).
fn start_polling() {
    if !POLLING.swap(true, Ordering::AcqRel)
        && let Some(poller) = POLLER.lock().as_ref()
    {
        poller.unpark();
    }
}

fn poll_loop() {
    while !POLLING.load(Ordering::Acquire) {
        thread::park();
    }
    loop {
        thread::sleep(POLL_INTERVAL_NS);
        poll_once();
    }
}

/// Takes what the UART received, feeds it to the line discipline, echoes and notifies.
fn poll_once() {
    let mut buf = [0u8; RX_BATCH];
    let sends = {
        let mut tty = TTY.lock();
        let room = tty.ld.room().min(RX_BATCH);
        let mut n = 0;
        while n < room && inb(CONSOLE_UART_PORT + REG_LINE_STATUS) & LINE_STATUS_DATA_READY != 0 {
            buf[n] = inb(CONSOLE_UART_PORT + REG_DATA);
            n += 1;
        }
        if n == 0 {
            return;
        }
        let events = tty.ld.receive(&buf[..n]);
        send_to_uart(&events.echo);
        tty.due(events.readable, &events.signals)
    };
    notify(sends);
}

/// Bytes to the UART as they are.
fn send_to_uart(bytes: &[u8]) {
    for &b in bytes {
        Uart.put(b);
    }
}

/// Writes `bytes` to the terminal through output processing.
pub fn write(bytes: &[u8]) {
    let mut tty = TTY.lock();
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8 + 1);
    tty.ld.write(bytes, &mut out);
    send_to_uart(&out);
}

impl Tty {
    /// The messages owed for these events: `Input` to each armed listener (disarming it) when
    /// data became readable; every signal to the process server, or to every listener when
    /// there is none. Sent after the lock is dropped.
    fn due(&mut self, readable: bool, signals: &[Signal]) -> Vec<(u64, Event)> {
        let mut sends = Vec::new();
        let procs = PROCS.get().map(|&(comm, _)| comm);
        if let Some(procs) = procs {
            sends.extend(signals.iter().map(|s| (procs, Event::Signal(s.number()))));
        }
        for l in &mut self.listeners {
            if readable && l.armed {
                l.armed = false;
                sends.push((l.comm, Event::Input));
            }
            if procs.is_none() {
                sends.extend(signals.iter().map(|s| (l.comm, Event::Signal(s.number()))));
            }
        }
        sends
    }

    /// Arms `pid`'s listener, if it registered.
    fn arm(&mut self, pid: u64) {
        if let Some(l) = self.listeners.iter_mut().find(|l| l.pid == pid) {
            l.armed = true;
        }
    }
}

/// Sends the messages; a dispatcher that no longer exists loses its registration, and an
/// `Input` that did not fit a full ring re-arms its listener (its next poll tries again).
fn notify(sends: Vec<(u64, Event)>) {
    for (comm, event) in sends {
        if let (Some(&(procs, handle)), Event::Signal(n)) = (PROCS.get(), event)
            && comm == procs
        {
            let sent = ProcsClient::new(Ppc::new(procs), handle).terminal_signal(u64::from(n));
            if let Err(e) = sent {
                log!("console: the process server refused signal {n}: {e}");
            }
            continue;
        }
        let status = kcall::async_send(comm, 0, NOTIFY_METHOD, &event.to_payload());
        if kcall::is_ok(status) {
            continue;
        }
        let mut tty = TTY.lock();
        if status == Status::NoSuchTarget as u64 {
            tty.listeners.retain(|l| l.comm != comm);
        } else if event == Event::Input {
            if let Some(l) = tty.listeners.iter_mut().find(|l| l.comm == comm) {
                l.armed = true;
            }
        } else {
            log!("console: cannot send {event:?} to {comm:#x}: status {status}");
        }
    }
}

/// `Console::read` (`k42_ifaces::console`).
pub fn read(caller: Badge, want: u64, got: u64) -> Result<u64, ConsoleError> {
    start_polling();
    let want = usize::try_from(want).unwrap_or(usize::MAX);
    let got = usize::try_from(got).unwrap_or(usize::MAX);
    let mut buf = vec![0u8; want.saturating_sub(got).min(READ_DATA_BYTES)];
    let mut tty = TTY.lock();
    match tty.ld.read(&mut buf, want, got) {
        Read::Data { n, line_end } => {
            reply_data(&buf[..n]);
            Ok(ReadReply::Data { n, line_end }.to_word())
        }
        Read::Wait { timeout } => {
            tty.arm(caller.0);
            match timeout {
                None => Err(ConsoleError::WouldBlock),
                Some(deciseconds) => Ok(ReadReply::TimedWait { deciseconds }.to_word()),
            }
        }
    }
}

/// `Console::poll_input`: whether input is readable; if not, the caller is armed.
pub fn poll_input(caller: Badge) -> bool {
    start_polling();
    let mut tty = TTY.lock();
    let readable = tty.ld.poll_readable();
    if !readable {
        tty.arm(caller.0);
    }
    readable
}

/// `Console::tostop`: whether the terminal's `TOSTOP` is set.
pub fn tostop() -> bool {
    TTY.lock().ld.tostop()
}

/// `Console::tcgets`.
pub fn tcgets() -> Result<u64, ConsoleError> {
    start_polling();
    let bytes = TTY.lock().ld.termios().to_bytes();
    reply_data(&bytes);
    Ok(TERMIOS_BYTES as u64)
}

/// `Console::tcsets`.
pub fn tcsets(flush: bool, len: u64) -> Result<(), ConsoleError> {
    start_polling();
    let data = server::take_call_data();
    let bytes: &[u8; TERMIOS_BYTES] = data
        .as_slice()
        .try_into()
        .map_err(|_| ConsoleError::DataMismatch)?;
    if len != TERMIOS_BYTES as u64 {
        return Err(ConsoleError::DataMismatch);
    }
    let sends = {
        let mut tty = TTY.lock();
        let events = tty.ld.set_termios(Termios::from_bytes(bytes), flush);
        tty.due(events.readable, &events.signals)
    };
    notify(sends);
    Ok(())
}

/// `Console::get_winsize`.
pub fn get_winsize() -> u64 {
    TTY.lock().ld.winsize().to_word()
}

/// `Console::set_winsize`.
pub fn set_winsize(word: u64) {
    let sends = {
        let mut tty = TTY.lock();
        let events = tty.ld.set_winsize(Winsize::from_word(word));
        tty.due(events.readable, &events.signals)
    };
    notify(sends);
}

/// `Console::notify`: registers (or moves) the caller's listener, armed.
pub fn register(caller: Badge, comm: u64) -> Result<(), ConsoleError> {
    if comm_pid(comm) != caller.0 {
        return Err(ConsoleError::NotYours);
    }
    start_polling();
    let mut tty = TTY.lock();
    tty.listeners.retain(|l| l.pid != caller.0);
    tty.listeners.push(Listener {
        pid: caller.0,
        comm,
        armed: true,
    });
    Ok(())
}

/// Puts a reply's bytes in the data area (at most `READ_DATA_BYTES` by construction).
fn reply_data(bytes: &[u8]) {
    if let Err(e) = server::set_reply_data(bytes) {
        log!("console: cannot set {} reply bytes: {e:?}", bytes.len());
    }
}
