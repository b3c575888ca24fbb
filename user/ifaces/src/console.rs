//! The console interface: bytes to the program console (COM1), written by the console server
//! (`user/bin/console`), which alone may drive the UART.
//!
//! Servers never read client memory. [`Console::write_data`] takes its bytes from the PPC data
//! area (`k42_abi::kernel::DispatcherPage::ppc_data`): up to [`WRITE_DATA_BYTES`] per call,
//! sent beside the call's words by a [`PpcDataTransport`] (`k42_rt::Ppc::call_with_data`) and
//! taken by the server with `k42_rt::server::take_call_data`. [`Console::write`] carries its
//! bytes in the argument words instead: up to [`WRITE_BYTES`] (5 words × 8) per call, in memory
//! order (word `i` holds bytes `8i..8i+8`, little-endian), for transports without a data area.
//! [`Writer`] cuts a stream into `write_data` calls of a line or a full area each and is a
//! `core::fmt::Write`.
//!
//! **Input: the tty.** The server runs Linux's N_TTY line discipline (`crates/tty`) over what
//! the UART receives. [`Console::read`] hands out readable bytes in the reply's data area, at
//! most one line in canonical mode, with a [`ReadReply`] word; when nothing is readable it
//! answers [`ConsoleError::WouldBlock`] — a server never waits on a client's behalf. A client
//! registers its dispatcher with [`Console::notify`] and is then sent an async message
//! ([`NOTIFY_METHOD`], payload [`Event`]) when input becomes readable after one of its reads
//! found none, and on every signal the input raises (^C, ^\\, ^Z, a window-size change).
//! [`Console::tcgets`] and [`Console::tcsets`] move the kernel's 36-byte `struct termios` in
//! the data area; [`Console::get_winsize`] and [`Console::set_winsize`] move `struct winsize`
//! in one word. [`read_input`], [`tcgets`] and [`tcsets`] make those calls over a
//! [`DataTransport`].

use core::fmt;

use k42_abi::kernel::{
    ASYNC_PAYLOAD_WORDS, AsyncMessage, PPC_DATA_BYTES, PpcDataTransport, comm_pid,
};
use k42_rights::wire::method_word;
use k42_rights::wire::{ARG_WORDS, CallError, Reply, Transport, Word};
use k42_rights::{Badge, Rights, XHandle};

use crate::FIRST_SERVER_INTERFACE;

/// Interface id of [`Console`].
pub const CONSOLE_INTERFACE: u32 = FIRST_SERVER_INTERFACE;
/// Argument words carrying bytes in one write.
pub const WRITE_WORDS: usize = 5;
/// Bytes one write carries at most.
pub const WRITE_BYTES: usize = WRITE_WORDS * size_of::<u64>();
/// Bytes one [`Console::write_data`] carries at most: the whole PPC data area.
pub const WRITE_DATA_BYTES: usize = PPC_DATA_BYTES;

/// Bytes one [`Console::read`] hands back at most: the whole PPC data area.
pub const READ_DATA_BYTES: usize = PPC_DATA_BYTES;
/// Bytes of the kernel's `struct termios` (x86_64: four flag words, `c_line`, 19 `c_cc`), as
/// [`Console::tcgets`] and [`Console::tcsets`] carry it.
pub const TERMIOS_BYTES: usize = size_of::<k42_linux::raw::general::termios>();

/// The spawner's own right: [`Console::attach_procs`]. Programs are never given it.
pub const ATTACH: Rights = Rights::object(0);
/// Rights the console server gives its spawner on the console: read (input, settings), write,
/// give access (so the bootstrap can pass them to the program it starts), and attach the
/// process server.
pub const SPAWNER_RIGHTS: Rights = Rights::READ
    .union(Rights::WRITE)
    .union(Rights::CONTROL)
    .union(ATTACH);

/// Why a console call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum ConsoleError {
    /// `len` is more than [`WRITE_BYTES`].
    TooLong = 1,
    /// [`Console::write_data`]'s `len` is not the number of bytes the call carried (it was
    /// made without its data, or with other data): nothing was written.
    DataMismatch = 2,
    /// [`Console::read`]: nothing is readable (and no timed wait applies). Wait for a
    /// [`NOTIFY_METHOD`] message (after [`Console::notify`]) and read again.
    WouldBlock = 3,
    /// [`Console::notify`] named a dispatcher of another process.
    NotYours = 4,
    /// This console has no input side (the methods' default, e.g. a test double's).
    NoInput = 5,
}

impl Word for ConsoleError {
    fn to_word(self) -> u64 {
        self as u64
    }
    fn from_word(word: u64) -> Option<Self> {
        match word {
            1 => Some(Self::TooLong),
            2 => Some(Self::DataMismatch),
            3 => Some(Self::WouldBlock),
            4 => Some(Self::NotYours),
            5 => Some(Self::NoInput),
            _ => None,
        }
    }
}

/// The program console.
#[k42_idl::interface(id = 16)]
pub trait Console {
    /// Writes the first `len` (at most [`WRITE_BYTES`]) bytes of `w0..w4` to the console, "\n"
    /// as "\r\n" as a tty with default settings does; returns `len`.
    // Six argument words, the most a PPC carries (`k42_rights::wire::ARG_WORDS`), plus the badge.
    #[allow(clippy::too_many_arguments)]
    #[rights(WRITE)]
    fn write(
        &mut self,
        caller: Badge,
        len: u8,
        w0: u64,
        w1: u64,
        w2: u64,
        w3: u64,
        w4: u64,
    ) -> Result<u8, ConsoleError>;
    /// Writes the bytes the call carries in the PPC data area (at most [`WRITE_DATA_BYTES`]) to
    /// the console, "\n" as "\r\n" as [`Console::write`] does; `len` says how many were sent,
    /// and must match what arrived ([`ConsoleError::DataMismatch`] otherwise). Returns `len`.
    /// The bytes travel beside the words: send them with the transport's data call, the server
    /// takes them with `k42_rt::server::take_call_data`.
    #[rights(WRITE)]
    fn write_data(&mut self, caller: Badge, len: u64) -> Result<u64, ConsoleError>;
    /// Input for a read(2) of `want` bytes that has `got` of them from earlier calls: up to
    /// `want - got` bytes (at most [`READ_DATA_BYTES`]) in the reply's data area, and the
    /// [`ReadReply`] word saying how many, whether a canonical line ended, or that a timed wait
    /// (`VTIME`) applies. [`ConsoleError::WouldBlock`] when nothing is readable.
    #[rights(READ)]
    fn read(&mut self, caller: Badge, want: u64, got: u64) -> Result<u64, ConsoleError> {
        let _ = (caller, want, got);
        Err(ConsoleError::NoInput)
    }
    /// The terminal's settings: the kernel's `struct termios` ([`TERMIOS_BYTES`]) in the
    /// reply's data area; returns its length.
    #[rights(READ)]
    fn tcgets(&mut self, caller: Badge) -> Result<u64, ConsoleError> {
        let _ = caller;
        Err(ConsoleError::NoInput)
    }
    /// Sets the terminal's settings from the `struct termios` the call carries in the data
    /// area (`len` must be [`TERMIOS_BYTES`] and what arrived: [`ConsoleError::DataMismatch`]
    /// otherwise); `flush` drops pending input first (`TCSETSF`).
    #[rights(WRITE)]
    fn tcsets(&mut self, caller: Badge, flush: bool, len: u64) -> Result<(), ConsoleError> {
        let _ = (caller, flush, len);
        Err(ConsoleError::NoInput)
    }
    /// The window size: the kernel's `struct winsize` as one little-endian word.
    #[rights(READ)]
    fn get_winsize(&mut self, caller: Badge) -> Result<u64, ConsoleError> {
        let _ = caller;
        Err(ConsoleError::NoInput)
    }
    /// Sets the window size (a change is a `SIGWINCH` [`Event`] to every registered client).
    #[rights(WRITE)]
    fn set_winsize(&mut self, caller: Badge, winsize: u64) -> Result<(), ConsoleError> {
        let _ = (caller, winsize);
        Err(ConsoleError::NoInput)
    }
    /// Registers the caller's dispatcher `comm` (a CommID of the caller's own process:
    /// [`ConsoleError::NotYours`] otherwise) for [`NOTIFY_METHOD`] messages.
    #[rights(READ)]
    fn notify(&mut self, caller: Badge, comm: u64) -> Result<(), ConsoleError> {
        let _ = (caller, comm);
        Err(ConsoleError::NoInput)
    }
    /// The spawner attaches the process server (issue #5): from then on the signals the input
    /// raises go to the terminal's foreground process group, through
    /// `k42_ifaces::procs::Procs::terminal_signal` on the table handle `handle` (on which the
    /// spawner gave this server `TERMINAL`) at the process server's dispatcher `comm`, instead
    /// of to every registered client as [`Event::Signal`].
    #[rights(crate::console::ATTACH)]
    fn attach_procs(&mut self, caller: Badge, comm: u64, handle: u64) -> Result<(), ConsoleError> {
        let _ = (caller, comm, handle);
        Err(ConsoleError::NoInput)
    }
    /// `poll`'s question about input: 1 if a read would return data now (Linux's
    /// `input_available_p`: a complete line in canonical mode, `VMIN` bytes or one in raw
    /// mode); 0 if not, and the caller is armed as by a read that found nothing, so its
    /// registered dispatcher gets one `Event::Input` when input becomes readable.
    #[rights(READ)]
    fn poll_input(&mut self, caller: Badge) -> Result<u64, ConsoleError> {
        let _ = caller;
        Err(ConsoleError::NoInput)
    }
    /// 1 if the terminal's `TOSTOP` is set (a background process's write then goes through
    /// job control: SIGTTOU, as Linux's `n_tty_write` checks), 0 if not — and for a console
    /// without a terminal's settings.
    #[rights(READ)]
    fn tostop(&mut self, caller: Badge) -> Result<u64, ConsoleError> {
        let _ = caller;
        Ok(0)
    }
}

const _: () = assert!(ConsoleMethod::INTERFACE_ID == CONSOLE_INTERFACE);
const _: () = assert!(WRITE_BYTES <= u8::MAX as usize);

/// The first [`WRITE_BYTES`] bytes of `bytes` as a write's `len` and words.
pub fn pack(bytes: &[u8]) -> (u8, [u64; WRITE_WORDS]) {
    let bytes = &bytes[..bytes.len().min(WRITE_BYTES)];
    let mut words = [0u64; WRITE_WORDS];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks(size_of::<u64>())) {
        let mut le = [0u8; size_of::<u64>()];
        le[..chunk.len()].copy_from_slice(chunk);
        *word = u64::from_le_bytes(le);
    }
    // Lossless: at most WRITE_BYTES (asserted to fit a u8).
    (bytes.len() as u8, words)
}

/// The bytes a write carries: a buffer and how many of its bytes count.
pub fn unpack(
    len: u8,
    words: [u64; WRITE_WORDS],
) -> Result<([u8; WRITE_BYTES], usize), ConsoleError> {
    let len = usize::from(len);
    if len > WRITE_BYTES {
        return Err(ConsoleError::TooLong);
    }
    let mut bytes = [0u8; WRITE_BYTES];
    for (chunk, word) in bytes.chunks_mut(size_of::<u64>()).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    Ok((bytes, len))
}

/// What [`Writer`] needs of its transport: word calls (the generated client) and calls with
/// data (`k42_rt::Ppc` is both).
pub trait DataTransport: Transport + PpcDataTransport<XHandle, Reply> {}

impl<T: Transport + PpcDataTransport<XHandle, Reply>> DataTransport for T {}

/// A transport whose calls carry `send` in the data area: the generated stub's words go beside
/// it.
struct Sending<'a, T> {
    transport: &'a mut T,
    send: &'a [u8],
}

impl<T: DataTransport> Transport for Sending<'_, T> {
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
        // A write's reply carries no data.
        self.transport
            .call_with_data(handle, method, args, self.send, &mut [])
            .0
    }
}

/// A buffered console stream: collects bytes and sends them with [`Console::write_data`], a
/// full data area (or a line) at a time. Call [`Writer::flush`] when done; dropping it flushes
/// too, ignoring errors.
pub struct Writer<T: DataTransport> {
    client: ConsoleClient<T>,
    buf: [u8; WRITE_DATA_BYTES],
    len: usize,
}

impl<T: DataTransport> Writer<T> {
    /// A stream onto the console object `client` names.
    pub fn new(client: ConsoleClient<T>) -> Self {
        Self {
            client,
            buf: [0; WRITE_DATA_BYTES],
            len: 0,
        }
    }

    /// Sends what is buffered.
    pub fn flush(&mut self) -> Result<(), CallError<ConsoleError>> {
        if self.len == 0 {
            return Ok(());
        }
        let len = core::mem::take(&mut self.len);
        let sending = Sending {
            transport: &mut self.client.transport,
            send: &self.buf[..len],
        };
        // Lossless: at most WRITE_DATA_BYTES.
        ConsoleClient::new(sending, self.client.handle).write_data(len as u64)?;
        Ok(())
    }

    /// Writes `bytes`, sending each full buffer and each completed line.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), CallError<ConsoleError>> {
        let mut rest = bytes;
        while !rest.is_empty() {
            // Up to the end of the first line, or as much as the buffer takes.
            let room = WRITE_DATA_BYTES - self.len;
            let line = rest.iter().position(|&b| b == b'\n').map(|i| i + 1);
            let n = line.unwrap_or(rest.len()).min(room);
            self.buf[self.len..self.len + n].copy_from_slice(&rest[..n]);
            self.len += n;
            let line_done = line == Some(n);
            rest = &rest[n..];
            if self.len == WRITE_DATA_BYTES || line_done {
                self.flush()?;
            }
        }
        Ok(())
    }
}

impl<T: DataTransport> fmt::Write for Writer<T> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

impl<T: DataTransport> Drop for Writer<T> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// What a [`Console::read`] answered beside its bytes (its reply word).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadReply {
    /// `n` bytes are in the data area. `line_end`: they end a canonical line (or, with `n` =
    /// 0, are the empty read of end of file), so the read(2) is complete; in raw mode `n` = 0
    /// also completes it, with what it has.
    Data {
        /// Bytes in the data area.
        n: usize,
        /// A canonical line ended.
        line_end: bool,
    },
    /// Nothing now: wait for a notification at most `deciseconds` tenths of a second (`VTIME`);
    /// then the read(2) is complete with what it has.
    TimedWait {
        /// `VTIME`.
        deciseconds: u8,
    },
}

/// [`ReadReply`]'s word: bits 0..32 the byte count, then these flags, and `VTIME` at
/// [`READ_VTIME_SHIFT`].
const READ_LINE_END: u64 = 1 << 32;
const READ_TIMED_WAIT: u64 = 1 << 33;
const READ_VTIME_SHIFT: u32 = 40;
const READ_COUNT_MASK: u64 = u32::MAX as u64;

impl ReadReply {
    /// The reply word.
    pub fn to_word(self) -> u64 {
        match self {
            // Lossless: at most READ_DATA_BYTES.
            Self::Data { n, line_end } => n as u64 | if line_end { READ_LINE_END } else { 0 },
            Self::TimedWait { deciseconds } => {
                READ_TIMED_WAIT | u64::from(deciseconds) << READ_VTIME_SHIFT
            }
        }
    }

    /// The answer a reply word carries, if it is one.
    pub fn from_word(word: u64) -> Option<Self> {
        if word & READ_TIMED_WAIT != 0 {
            let deciseconds = u8::try_from(word >> READ_VTIME_SHIFT).ok()?;
            return Some(Self::TimedWait { deciseconds });
        }
        let n = usize::try_from(word & READ_COUNT_MASK).ok()?;
        (n <= READ_DATA_BYTES && word & !(READ_COUNT_MASK | READ_LINE_END) == 0).then_some(
            Self::Data {
                n,
                line_end: word & READ_LINE_END != 0,
            },
        )
    }
}

/// The console's notification messages: the console interface with a method index no method
/// has (async messages are not dispatched; the word only has to be unmistakable).
const NOTIFY_INDEX: u32 = u32::MAX;
/// Method word of the message a registered client ([`Console::notify`]) is sent; its payload
/// is an [`Event`].
pub const NOTIFY_METHOD: u64 = method_word(CONSOLE_INTERFACE, NOTIFY_INDEX);
/// Payload word 0 of an [`Event::Input`] message, and of an [`Event::Signal`] one (word 1 the
/// signal number).
const EVENT_INPUT: u64 = 1;
const EVENT_SIGNAL: u64 = 2;

/// What a console notification says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Input became readable: read again.
    Input,
    /// The input raised Linux signal number `n` (`SIGINT`, `SIGQUIT`, `SIGTSTP`, `SIGWINCH`),
    /// for the client to deliver to its foreground program.
    Signal(u32),
}

impl Event {
    /// The message payload.
    pub fn to_payload(self) -> [u64; ASYNC_PAYLOAD_WORDS] {
        let mut payload = [0; ASYNC_PAYLOAD_WORDS];
        match self {
            Self::Input => payload[0] = EVENT_INPUT,
            Self::Signal(n) => {
                payload[0] = EVENT_SIGNAL;
                payload[1] = u64::from(n);
            }
        }
        payload
    }

    /// The event `msg` carries, if it is a notification from the console server whose
    /// dispatcher is `console_comm` (the badge is the kernel's stamp: nobody else can send
    /// one).
    pub fn from_message(msg: &AsyncMessage, console_comm: u64) -> Option<Self> {
        if msg.method != NOTIFY_METHOD || msg.badge != comm_pid(console_comm) {
            return None;
        }
        match msg.payload[0] {
            EVENT_INPUT => Some(Self::Input),
            EVENT_SIGNAL => u32::try_from(msg.payload[1]).ok().map(Self::Signal),
            _ => None,
        }
    }
}

/// A transport whose calls carry `send` in the data area and take the reply's bytes into
/// `recv`.
struct Exchanging<'a, T> {
    transport: &'a mut T,
    send: &'a [u8],
    recv: &'a mut [u8],
    received: usize,
}

impl<T: DataTransport> Transport for Exchanging<'_, T> {
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
        let (reply, received) = self
            .transport
            .call_with_data(handle, method, args, self.send, self.recv);
        self.received = received;
        reply
    }
}

/// One [`Console::read`] (module comment) for a read(2) of `want` bytes with `got` of them
/// already: the answer, its bytes at the front of `buf` (`want - got` is cut to `buf.len()`
/// and [`READ_DATA_BYTES`]).
pub fn read_input<T: DataTransport>(
    client: &mut ConsoleClient<T>,
    want: u64,
    got: u64,
    buf: &mut [u8],
) -> Result<ReadReply, CallError<ConsoleError>> {
    let room = buf.len().min(READ_DATA_BYTES) as u64;
    let want = want.min(got.saturating_add(room));
    let mut ex = Exchanging {
        transport: &mut client.transport,
        send: &[],
        recv: buf,
        received: 0,
    };
    let word = ConsoleClient::new(&mut ex, client.handle).read(want, got)?;
    let reply = ReadReply::from_word(word).ok_or(CallError::BadReply)?;
    match reply {
        ReadReply::Data { n, .. } if n != ex.received => Err(CallError::BadReply),
        reply => Ok(reply),
    }
}

/// [`Console::tcgets`]: the kernel's `struct termios` bytes.
pub fn tcgets<T: DataTransport>(
    client: &mut ConsoleClient<T>,
) -> Result<[u8; TERMIOS_BYTES], CallError<ConsoleError>> {
    let mut termios = [0u8; TERMIOS_BYTES];
    let mut ex = Exchanging {
        transport: &mut client.transport,
        send: &[],
        recv: &mut termios,
        received: 0,
    };
    let len = ConsoleClient::new(&mut ex, client.handle).tcgets()?;
    if len != TERMIOS_BYTES as u64 || ex.received != TERMIOS_BYTES {
        return Err(CallError::BadReply);
    }
    Ok(termios)
}

/// [`Console::tcsets`] with the kernel's `struct termios` bytes; `flush` for `TCSETSF`.
pub fn tcsets<T: DataTransport>(
    client: &mut ConsoleClient<T>,
    termios: &[u8; TERMIOS_BYTES],
    flush: bool,
) -> Result<(), CallError<ConsoleError>> {
    let mut ex = Exchanging {
        transport: &mut client.transport,
        send: termios,
        recv: &mut [],
        received: 0,
    };
    ConsoleClient::new(&mut ex, client.handle).tcsets(flush, TERMIOS_BYTES as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k42_rights::XObjectTable;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::vec::Vec;

    #[test]
    fn pack_and_unpack_round_trip() {
        let text = b"hello, console: forty bytes fit one call";
        assert_eq!(text.len(), WRITE_BYTES);
        let (len, words) = pack(text);
        let (bytes, n) = unpack(len, words).unwrap();
        assert_eq!(&bytes[..n], text);
        let (len, _) = pack(b"more than forty bytes are cut to the first forty");
        assert_eq!(usize::from(len), WRITE_BYTES);
        assert_eq!(unpack(41, [0; WRITE_WORDS]), Err(ConsoleError::TooLong));
    }

    /// The data area of the call in progress, as the server's runtime would hand it over.
    type Area = Rc<RefCell<Vec<u8>>>;

    /// A console that records what it was sent.
    #[derive(Clone, Default)]
    struct Tape {
        written: Rc<RefCell<Vec<u8>>>,
        area: Area,
    }

    impl Console for Tape {
        fn write(
            &mut self,
            _caller: Badge,
            len: u8,
            w0: u64,
            w1: u64,
            w2: u64,
            w3: u64,
            w4: u64,
        ) -> Result<u8, ConsoleError> {
            let (bytes, n) = unpack(len, [w0, w1, w2, w3, w4])?;
            self.written.borrow_mut().extend_from_slice(&bytes[..n]);
            Ok(len)
        }

        fn write_data(&mut self, _caller: Badge, len: u64) -> Result<u64, ConsoleError> {
            let data = core::mem::take(&mut *self.area.borrow_mut());
            if data.len() as u64 != len {
                return Err(ConsoleError::DataMismatch);
            }
            self.written.borrow_mut().extend_from_slice(&data);
            Ok(len)
        }
    }

    /// Calls the dispatch directly, the data going through `area`; counts the calls.
    struct Direct {
        table: XObjectTable<Tape>,
        area: Area,
        calls: usize,
    }

    impl Transport for Direct {
        fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
            self.calls += 1;
            self.area.borrow_mut().clear();
            ConsoleServer::<Tape>::dispatch(&mut self.table, Badge(1), handle, method, args)
        }
    }

    impl PpcDataTransport<XHandle, Reply> for Direct {
        fn call_with_data(
            &mut self,
            handle: XHandle,
            method: u64,
            args: &[u64; ARG_WORDS],
            send: &[u8],
            _recv: &mut [u8],
        ) -> (Reply, usize) {
            assert!(send.len() <= PPC_DATA_BYTES);
            self.calls += 1;
            *self.area.borrow_mut() = send.to_vec();
            let reply =
                ConsoleServer::<Tape>::dispatch(&mut self.table, Badge(1), handle, method, args);
            (reply, 0)
        }
    }

    fn writer() -> (Writer<Direct>, Tape) {
        let tape = Tape::default();
        let mut table = XObjectTable::new();
        let h = table
            .insert(tape.clone(), Badge(1), Rights::WRITE, Rights::NONE)
            .unwrap();
        let direct = Direct {
            table,
            area: tape.area.clone(),
            calls: 0,
        };
        (Writer::new(ConsoleClient::new(direct, h)), tape)
    }

    #[test]
    fn the_writer_sends_lines_and_full_buffers() {
        let (mut w, tape) = writer();
        let long = [b'x'; WRITE_DATA_BYTES + 2];
        w.write_bytes(b"line\n").unwrap();
        w.write_bytes(b"two\nlines\npart").unwrap();
        w.write_bytes(&long).unwrap();
        w.flush().unwrap();
        let calls = w.client.transport.calls;
        drop(w);
        let mut want = b"line\ntwo\nlines\npart".to_vec();
        want.extend_from_slice(&long);
        assert_eq!(*tape.written.borrow(), want);
        // "line\n", "two\n", "lines\n", then "part" and the x's fill one area, the rest is
        // flushed.
        assert_eq!(calls, 5);
    }

    #[test]
    fn write_data_refuses_a_call_without_its_data() {
        let (mut w, tape) = writer();
        let handle = w.client.handle;
        let refused = ConsoleClient::new(&mut w.client.transport, handle).write_data(3);
        assert_eq!(refused, Err(CallError::Method(ConsoleError::DataMismatch)));
        assert!(tape.written.borrow().is_empty());
    }
}

/// The input side: the read reply and event encodings, and the client helpers over a data
/// transport against a scripted console.
#[cfg(test)]
mod input_tests {
    use super::*;
    use k42_abi::kernel::comm_id;
    use k42_rights::XObjectTable;
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;
    use std::vec::Vec;

    /// The data areas of the call in progress: what it brought, what its reply takes back.
    #[derive(Clone, Default)]
    struct Areas {
        call: Rc<RefCell<Vec<u8>>>,
        reply: Rc<RefCell<Vec<u8>>>,
    }

    /// A console with scripted input and settings kept as bytes.
    #[derive(Clone, Default)]
    struct Keyboard {
        areas: Areas,
        input: Rc<RefCell<VecDeque<u8>>>,
        termios: Rc<RefCell<Vec<u8>>>,
    }

    impl Console for Keyboard {
        #[allow(clippy::too_many_arguments)]
        fn write(
            &mut self,
            _caller: Badge,
            len: u8,
            _w0: u64,
            _w1: u64,
            _w2: u64,
            _w3: u64,
            _w4: u64,
        ) -> Result<u8, ConsoleError> {
            Ok(len)
        }

        fn write_data(&mut self, _caller: Badge, len: u64) -> Result<u64, ConsoleError> {
            Ok(len)
        }

        fn read(&mut self, _caller: Badge, want: u64, got: u64) -> Result<u64, ConsoleError> {
            let mut input = self.input.borrow_mut();
            if input.is_empty() {
                return Err(ConsoleError::WouldBlock);
            }
            let n = input.len().min((want - got) as usize);
            let bytes: Vec<u8> = input.drain(..n).collect();
            let line_end = bytes.last() == Some(&b'\n');
            *self.areas.reply.borrow_mut() = bytes;
            Ok(ReadReply::Data { n, line_end }.to_word())
        }

        fn tcgets(&mut self, _caller: Badge) -> Result<u64, ConsoleError> {
            let t = self.termios.borrow().clone();
            *self.areas.reply.borrow_mut() = t;
            Ok(TERMIOS_BYTES as u64)
        }

        fn tcsets(&mut self, _caller: Badge, _flush: bool, len: u64) -> Result<(), ConsoleError> {
            let data = core::mem::take(&mut *self.areas.call.borrow_mut());
            if len != TERMIOS_BYTES as u64 || data.len() as u64 != len {
                return Err(ConsoleError::DataMismatch);
            }
            *self.termios.borrow_mut() = data;
            Ok(())
        }
    }

    /// Calls the dispatch directly, moving the data areas as the kernel would.
    struct Direct<S: Console + Clone> {
        table: XObjectTable<S>,
        areas: Areas,
    }

    impl<S: Console + Clone> Transport for Direct<S> {
        fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
            self.call_with_data(handle, method, args, &[], &mut []).0
        }
    }

    impl<S: Console + Clone> PpcDataTransport<XHandle, Reply> for Direct<S> {
        fn call_with_data(
            &mut self,
            handle: XHandle,
            method: u64,
            args: &[u64; ARG_WORDS],
            send: &[u8],
            recv: &mut [u8],
        ) -> (Reply, usize) {
            *self.areas.call.borrow_mut() = send.to_vec();
            self.areas.reply.borrow_mut().clear();
            let reply =
                ConsoleServer::<S>::dispatch(&mut self.table, Badge(1), handle, method, args);
            let out = core::mem::take(&mut *self.areas.reply.borrow_mut());
            let n = out.len().min(recv.len());
            recv[..n].copy_from_slice(&out[..n]);
            (reply, n)
        }
    }

    fn client<S: Console + Clone>(console: S, areas: Areas) -> ConsoleClient<Direct<S>> {
        let mut table = XObjectTable::new();
        let h = table
            .insert(console, Badge(1), SPAWNER_RIGHTS, Rights::NONE)
            .unwrap();
        ConsoleClient::new(Direct { table, areas }, h)
    }

    #[test]
    fn read_replies_round_trip_through_their_word() {
        for reply in [
            ReadReply::Data {
                n: 0,
                line_end: true,
            },
            ReadReply::Data {
                n: READ_DATA_BYTES,
                line_end: false,
            },
            ReadReply::TimedWait { deciseconds: 255 },
        ] {
            assert_eq!(ReadReply::from_word(reply.to_word()), Some(reply));
        }
        assert_eq!(ReadReply::from_word(READ_DATA_BYTES as u64 + 1), None);
        assert_eq!(ReadReply::from_word(1 << 50), None);
    }

    #[test]
    fn events_come_only_from_the_console_server() {
        let console = comm_id(3, 0);
        for event in [Event::Input, Event::Signal(2)] {
            let msg = AsyncMessage {
                badge: comm_pid(console),
                handle: 0,
                method: NOTIFY_METHOD,
                payload: event.to_payload(),
            };
            assert_eq!(Event::from_message(&msg, console), Some(event));
            let forged = AsyncMessage { badge: 9, ..msg };
            assert_eq!(Event::from_message(&forged, console), None);
        }
        assert_ne!(NOTIFY_METHOD, ConsoleMethod::Notify.number());
    }

    #[test]
    fn reads_bring_bytes_in_the_data_area_or_would_block() {
        let keyboard = Keyboard::default();
        keyboard.input.borrow_mut().extend(b"ls\nmore");
        let mut c = client(keyboard.clone(), keyboard.areas.clone());
        let mut buf = [0u8; 64];
        let reply = read_input(&mut c, 3, 0, &mut buf).unwrap();
        assert_eq!(
            reply,
            ReadReply::Data {
                n: 3,
                line_end: true
            }
        );
        assert_eq!(&buf[..3], b"ls\n");
        // The request is cut to the buffer.
        let mut small = [0u8; 2];
        let reply = read_input(&mut c, 100, 0, &mut small).unwrap();
        assert_eq!(
            reply,
            ReadReply::Data {
                n: 2,
                line_end: false
            }
        );
        read_input(&mut c, 100, 0, &mut buf).unwrap();
        assert_eq!(
            read_input(&mut c, 100, 0, &mut buf),
            Err(CallError::Method(ConsoleError::WouldBlock))
        );
    }

    #[test]
    fn termios_travels_whole_in_the_data_area() {
        let keyboard = Keyboard::default();
        let mut c = client(keyboard.clone(), keyboard.areas.clone());
        let mut t = [0u8; TERMIOS_BYTES];
        t.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        tcsets(&mut c, &t, false).unwrap();
        assert_eq!(tcgets(&mut c).unwrap(), t);
        assert_eq!(TERMIOS_BYTES, 36);
    }

    /// A console with no input side: the defaults.
    #[derive(Clone)]
    struct Printer;

    impl Console for Printer {
        #[allow(clippy::too_many_arguments)]
        fn write(
            &mut self,
            _caller: Badge,
            len: u8,
            _w0: u64,
            _w1: u64,
            _w2: u64,
            _w3: u64,
            _w4: u64,
        ) -> Result<u8, ConsoleError> {
            Ok(len)
        }

        fn write_data(&mut self, _caller: Badge, len: u64) -> Result<u64, ConsoleError> {
            Ok(len)
        }
    }

    #[test]
    fn a_console_without_input_says_so_and_rights_are_checked() {
        let mut c = client(Printer, Areas::default());
        assert_eq!(c.notify(7), Err(CallError::Method(ConsoleError::NoInput)));
        assert_eq!(
            c.get_winsize(),
            Err(CallError::Method(ConsoleError::NoInput))
        );
        assert!(SPAWNER_RIGHTS.contains(Rights::READ | Rights::WRITE | Rights::CONTROL));
        let mut table = XObjectTable::new();
        let h = table
            .insert(Printer, Badge(1), Rights::WRITE, Rights::NONE)
            .unwrap();
        let mut write_only = ConsoleClient::new(
            Direct {
                table,
                areas: Areas::default(),
            },
            h,
        );
        assert!(matches!(
            write_only.read(1, 0),
            Err(CallError::Failed(k42_rights::wire::DispatchError::Rights(
                _
            )))
        ));
    }
}
