//! The console interface: bytes to the program console (COM1), written by the console server
//! (`user/bin/console`), which alone may drive the UART.
//!
//! Servers never read client memory, and there is no shared-memory channel yet, so a write
//! carries its bytes in the argument words: up to [`WRITE_BYTES`] (5 words × 8) per call, in
//! memory order (word `i` holds bytes `8i..8i+8`, little-endian). [`Writer`] cuts a stream into
//! such calls and is a `core::fmt::Write`.

use core::fmt;

use k42_rights::wire::{CallError, Transport, Word};
use k42_rights::{Badge, Rights};

use crate::FIRST_SERVER_INTERFACE;

/// Interface id of [`Console`].
pub const CONSOLE_INTERFACE: u32 = FIRST_SERVER_INTERFACE;
/// Argument words carrying bytes in one write.
pub const WRITE_WORDS: usize = 5;
/// Bytes one write carries at most.
pub const WRITE_BYTES: usize = WRITE_WORDS * size_of::<u64>();

/// Rights the console server gives its spawner on the console: write, and give access (so the
/// bootstrap can pass it to the program it starts).
pub const SPAWNER_RIGHTS: Rights = Rights::WRITE.union(Rights::CONTROL);

/// Why a console call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum ConsoleError {
    /// `len` is more than [`WRITE_BYTES`].
    TooLong = 1,
}

impl Word for ConsoleError {
    fn to_word(self) -> u64 {
        self as u64
    }
    fn from_word(word: u64) -> Option<Self> {
        (word == Self::TooLong as u64).then_some(Self::TooLong)
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

/// A buffered console stream: collects bytes and sends them a full write (or a line) at a time.
/// Call [`Writer::flush`] when done; dropping it flushes too, ignoring errors.
pub struct Writer<T: Transport> {
    client: ConsoleClient<T>,
    buf: [u8; WRITE_BYTES],
    len: usize,
}

impl<T: Transport> Writer<T> {
    /// A stream onto the console object `client` names.
    pub fn new(client: ConsoleClient<T>) -> Self {
        Self {
            client,
            buf: [0; WRITE_BYTES],
            len: 0,
        }
    }

    /// Sends what is buffered.
    pub fn flush(&mut self) -> Result<(), CallError<ConsoleError>> {
        if self.len == 0 {
            return Ok(());
        }
        let (len, w) = pack(&self.buf[..self.len]);
        self.len = 0;
        self.client.write(len, w[0], w[1], w[2], w[3], w[4])?;
        Ok(())
    }

    /// Writes `bytes`, sending each full buffer and each completed line.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), CallError<ConsoleError>> {
        for &byte in bytes {
            self.buf[self.len] = byte;
            self.len += 1;
            if self.len == WRITE_BYTES || byte == b'\n' {
                self.flush()?;
            }
        }
        Ok(())
    }
}

impl<T: Transport> fmt::Write for Writer<T> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

impl<T: Transport> Drop for Writer<T> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k42_rights::wire::{ARG_WORDS, Reply};
    use k42_rights::{XHandle, XObjectTable};
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

    /// A console that records what it was sent.
    #[derive(Clone, Default)]
    struct Tape(Rc<RefCell<Vec<u8>>>);

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
            self.0.borrow_mut().extend_from_slice(&bytes[..n]);
            Ok(len)
        }
    }

    struct Direct(XObjectTable<Tape>, usize);

    impl Transport for Direct {
        fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
            self.1 += 1;
            ConsoleServer::<Tape>::dispatch(&mut self.0, Badge(1), handle, method, args)
        }
    }

    #[test]
    fn the_writer_sends_lines_and_full_buffers() {
        let tape = Tape::default();
        let mut table = XObjectTable::new();
        let h = table
            .insert(tape.clone(), Badge(1), Rights::WRITE, Rights::NONE)
            .unwrap();
        let mut w = Writer::new(ConsoleClient::new(Direct(table, 0), h));
        let long = [b'x'; WRITE_BYTES + 2];
        w.write_bytes(b"line\n").unwrap();
        w.write_bytes(&long).unwrap();
        w.flush().unwrap();
        let calls = w.client.transport.1;
        drop(w);
        let mut want = b"line\n".to_vec();
        want.extend_from_slice(&long);
        assert_eq!(*tape.0.borrow(), want);
        assert_eq!(calls, 3);
    }
}
