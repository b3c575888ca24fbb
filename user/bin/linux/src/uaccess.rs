//! Program pointers are allegations: every address a syscall names is checked against the
//! personality's map of the program's memory (`mem.rs`, `k42_linux::mmap_space`) before a byte
//! moves, and only then copied by `k42_sys::foreign` — `EFAULT` otherwise, as Linux answers,
//! never a fault in the personality. Lengths and offsets use checked arithmetic.

use alloc::vec;
use alloc::vec::Vec;

use k42_linux::{Errno, PAGE_SIZE};
use k42_rt::sys::foreign;

use crate::mem::{Access, Mem};
use crate::state::Linux;

/// Copies `len` bytes of program memory at `addr`.
pub fn read(linux: &Linux, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
    let mut bytes = vec![0u8; len];
    read_into(linux, addr, &mut bytes)?;
    Ok(bytes)
}

/// Copies program memory at `addr` into `buf`.
pub fn read_into(linux: &Linux, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
    read_locked(&linux.mem.lock(), addr, buf)
}

/// Copies `bytes` into program memory at `addr`.
pub fn write(linux: &Linux, addr: u64, bytes: &[u8]) -> Result<(), Errno> {
    write_locked(&linux.mem.lock(), addr, bytes)
}

/// [`read_into`] for a caller that holds the memory state's lock. Holding it is what keeps the
/// checked range mapped during the copy: every unmap goes through that state.
pub fn read_locked(mem: &Mem, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
    if buf.is_empty() {
        return Ok(());
    }
    // The map's lock, held by our caller for the copy, keeps any unmap out until it is done.
    mem.check(addr, buf.len() as u64, Access::Read)?;
    foreign::copy_from(addr, buf).map_err(|_| Errno::EFAULT)
}

/// [`write`] for a caller that holds the memory state's lock.
pub fn write_locked(mem: &Mem, addr: u64, bytes: &[u8]) -> Result<(), Errno> {
    if bytes.is_empty() {
        return Ok(());
    }
    mem.check(addr, bytes.len() as u64, Access::Write)?;
    foreign::copy_to(addr, bytes).map_err(|_| Errno::EFAULT)
}

/// Reads a `T` (plain data: every bit pattern valid) at `addr`, through its bytes.
pub fn read_words<const N: usize>(linux: &Linux, addr: u64) -> Result<[u64; N], Errno> {
    let mut bytes = [0u8; 64];
    let len = N * 8;
    if len > bytes.len() {
        return Err(Errno::EINVAL);
    }
    read_into(linux, addr, &mut bytes[..len])?;
    let mut words = [0u64; N];
    for (i, word) in words.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        *word = u64::from_le_bytes(b);
    }
    Ok(words)
}

/// Writes words at `addr` (a struct of 64-bit fields, as Linux lays out timespec and friends).
pub fn write_words(linux: &Linux, addr: u64, words: &[u64]) -> Result<(), Errno> {
    let mut bytes = Vec::with_capacity(words.len() * 8);
    for word in words {
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    write(linux, addr, &bytes)
}

/// Most bytes one string argument (a path) may have, with its NUL (Linux's `PATH_MAX`).
pub const MAX_STRING: usize = 4096;

/// Bytes of a string argument copied at a time: a path is short, so a piece is small (less to
/// copy and scan past its NUL than the rest of a page), and it never crosses a page.
const STRING_PIECE: usize = 256;

/// A NUL-terminated string at `addr` (without the NUL), at most [`MAX_STRING`] bytes with it
/// (`ENAMETOOLONG` past that): read a piece at a time, never past the page the NUL is in, so a
/// string ending just before unmapped memory is fine.
pub fn read_string(linux: &Linux, addr: u64) -> Result<Vec<u8>, Errno> {
    read_string_max(linux, addr, MAX_STRING)
}

/// [`read_string`] of at most `max` bytes with the NUL: `ENAMETOOLONG` when none comes within
/// them, and nothing past them is read (an extended attribute's name is copied so).
pub fn read_string_max(linux: &Linux, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
    let mem = linux.mem.lock();
    let mut out = Vec::new();
    let mut piece = [0u8; STRING_PIECE];
    let mut at = addr;
    while out.len() < max {
        let to_page_end = PAGE_SIZE - at % PAGE_SIZE;
        let chunk = (to_page_end as usize)
            .min(STRING_PIECE)
            .min(max - out.len());
        let bytes = &mut piece[..chunk];
        read_locked(&mem, at, bytes)?;
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            out.extend_from_slice(&bytes[..nul]);
            return Ok(out);
        }
        out.extend_from_slice(bytes);
        at = at.checked_add(chunk as u64).ok_or(Errno::EFAULT)?;
    }
    Err(Errno::ENAMETOOLONG)
}

/// Adds a program-supplied length to a program address, `EFAULT` on overflow.
pub fn end(addr: u64, len: u64) -> Result<u64, Errno> {
    addr.checked_add(len).ok_or(Errno::EFAULT)
}

/// The bytes a write takes: the program's memory at an address, checked and copied a piece at
/// a time as every program pointer is; or bytes the personality holds already — what
/// `sendfile` read from its input (`calls/copy.rs`) — so that every kind of file takes both
/// through one write path.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    Program(u64),
    Held(&'a [u8]),
}

impl Source<'_> {
    /// Whether `len` bytes can be taken: [`end`]'s check of the program's range (`EFAULT`), or
    /// that the held bytes are that many.
    pub fn check(self, len: u64) -> Result<(), Errno> {
        match self {
            Source::Program(addr) => end(addr, len).map(|_| ()),
            Source::Held(bytes) if len <= bytes.len() as u64 => Ok(()),
            Source::Held(_) => Err(Errno::EFAULT),
        }
    }

    /// The `len` bytes at `offset` into the source.
    pub fn read(self, linux: &Linux, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        match self {
            Source::Program(addr) => read(linux, end(addr, offset)?, len),
            Source::Held(bytes) => usize::try_from(offset)
                .ok()
                .and_then(|start| bytes.get(start..start.checked_add(len)?))
                .map(<[u8]>::to_vec)
                .ok_or(Errno::EFAULT),
        }
    }
}
