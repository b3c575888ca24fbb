//! The echo interface: a tiny server (`user/bin/echo`) that native tests call to check PPC end to
//! end — every argument and result register, the badge the kernel stamps, and the rights check
//! of a user-level server.
//!
//! [`Echo::echo`] returns [`digest`] of its six arguments: each result word mixes the arguments
//! with their positions, so a dropped, swapped or zeroed argument register, or a lost result
//! word, changes what the client compares against its own `digest`.
//!
//! [`Echo::echo_data`] does the same for the PPC data area (`k42_abi::kernel::DispatcherPage::
//! ppc_data`): its bytes travel beside the call's words (the client sends them with
//! `k42_rt::Ppc::call_with_data`, the server takes them with `k42_rt::server::take_call_data`
//! and answers with `k42_rt::server::set_reply_data`); it returns their count and
//! [`data_digest`], and replies with bytes the client can predict ([`reply_byte`]).
//! [`Echo::bounce`] sends the bytes straight back.

use core::convert::Infallible;

use k42_abi::kernel::PPC_DATA_BYTES;

use k42_rights::{Badge, Rights};

use crate::FIRST_SERVER_INTERFACE;

/// Interface id of [`Echo`].
pub const ECHO_INTERFACE: u32 = FIRST_SERVER_INTERFACE + 1;

/// The echo server's second spawn word (`arg1`) that makes it serve on every CPU, a dispatcher
/// on each (`k42_rt::server::Cpus::Every`); any other word keeps it on the CPU it was spawned
/// on, so a call from another CPU goes by mail.
pub const ON_EVERY_CPU: u64 = 1;

/// The longest [`Echo::hold`] holds its lock.
pub const MAX_HOLD_MS: u64 = 1000;

/// Rights the echo server gives its spawner: [`Echo::echo`] and [`Echo::whoami`] but not
/// CONTROL, so [`Echo::privileged`] (and giving access) is refused.
pub const SPAWNER_RIGHTS: Rights = Rights::READ.union(Rights::WRITE);

/// The echo server.
#[k42_idl::interface(id = 17)]
pub trait Echo {
    /// Returns [`digest`] of the six arguments.
    // Six argument words, the most a PPC carries (`k42_rights::wire::ARG_WORDS`), plus the badge.
    #[allow(clippy::too_many_arguments)]
    #[rights(READ)]
    fn echo(
        &self,
        caller: Badge,
        a: u64,
        b: u64,
        c: u64,
        d: u64,
        e: u64,
        f: u64,
    ) -> Result<(u64, u64, u64, u64), Infallible>;
    /// Returns the caller's badge as the server saw it.
    #[rights(READ)]
    fn whoami(&self, caller: Badge) -> Result<u64, Infallible>;
    /// Needs CONTROL, which the spawner is not given: a call that must be refused.
    #[rights(CONTROL)]
    fn privileged(&mut self, caller: Badge) -> Result<(), Infallible>;
    /// The CPU the server's dispatcher runs on (the one that ran this call).
    #[rights(READ)]
    fn cpu(&self, caller: Badge) -> Result<u64, Infallible>;
    /// Blocks the call briefly inside the server: a new server thread takes a lock and holds it
    /// for `ms` milliseconds (at most [`MAX_HOLD_MS`]), sleeping, while the call's thread waits
    /// for the lock; the holder still has work after it lets go, so the server answers while it
    /// has a thread left to run. Returns how long the call waited for the lock, in µs.
    #[rights(READ)]
    fn hold(&self, caller: Badge, ms: u64) -> Result<u64, Infallible>;
    /// Data through the PPC data area: returns how many bytes the call carried and their
    /// [`data_digest`], and replies with `reply_len` bytes of data (at most `PPC_DATA_BYTES`;
    /// more is cut to that), byte `i` being [`reply_byte`] of the bytes received.
    #[rights(READ)]
    fn echo_data(&self, caller: Badge, reply_len: u64) -> Result<(u64, u64), Infallible>;
    /// Answers at once, then keeps the server busy — a thread of its own running, so the reply
    /// goes without WAIT — for `ms` milliseconds (at most [`MAX_HOLD_MS`]): calls made meanwhile
    /// get `Retry`, and IPC_RETRY when it is idle again.
    #[rights(READ)]
    fn busy(&self, caller: Badge, ms: u64) -> Result<(), Infallible>;
    /// Sends the bytes the call carried in the PPC data area straight back as its reply data,
    /// and returns their count: the cheapest data round trip (`ppcbench`).
    #[rights(READ)]
    fn bounce(&self, caller: Badge) -> Result<u64, Infallible>;
}

const _: () = assert!(EchoMethod::INTERFACE_ID == ECHO_INTERFACE);

/// Bits each argument is rotated by per position in the xor word.
const ROTATE_PER_POSITION: u32 = 8;
/// Half a word, for the rotation in the third result word.
const HALF_WORD: u32 = u64::BITS / 2;

/// What [`Echo::echo`] returns for `args`: a position-weighted sum, a position-rotated xor, and
/// two words of pairs, so each argument's value and place shows in the result.
pub fn digest(args: [u64; 6]) -> (u64, u64, u64, u64) {
    let (mut sum, mut xor) = (0u64, 0u64);
    for (weight, (position, &arg)) in (1u64..).zip(args.iter().enumerate()) {
        sum = sum.wrapping_add(arg.wrapping_mul(weight));
        // Lossless: six positions.
        xor ^= arg.rotate_left(position as u32 * ROTATE_PER_POSITION);
    }
    let [a, b, c, d, e, f] = args;
    (
        sum,
        xor,
        (a ^ f).rotate_left(HALF_WORD) ^ c,
        b.wrapping_sub(e) ^ d.rotate_left(1),
    )
}

/// FNV-1a offset basis and prime (64-bit).
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// What [`Echo::echo_data`] returns for the bytes it received: their 64-bit FNV-1a hash, which
/// a lost, changed or moved byte changes.
pub fn data_digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// Byte `i` of [`Echo::echo_data`]'s reply data to `received`: the received bytes reversed,
/// then a pattern of the position.
pub fn reply_byte(received: &[u8], i: usize) -> u8 {
    match received.len().checked_sub(i + 1) {
        Some(back) => received[back],
        // Truncated on purpose: the pattern repeats every 256 bytes.
        None => (i as u8).wrapping_mul(31) ^ 0xa5,
    }
}

/// How many bytes [`Echo::echo_data`] replies with when asked for `reply_len`.
pub fn reply_len(reply_len: u64) -> usize {
    usize::try_from(reply_len).map_or(PPC_DATA_BYTES, |n| n.min(PPC_DATA_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_digest_sees_every_byte_and_its_place() {
        let bytes: [u8; 5] = [1, 2, 3, 4, 5];
        let base = data_digest(&bytes);
        assert_ne!(data_digest(&bytes[..4]), base);
        assert_ne!(data_digest(&[1, 2, 4, 3, 5]), base);
        assert_ne!(data_digest(&[]), data_digest(&[0]));
        assert_ne!(data_digest(&[0]), data_digest(&[0, 0]));
    }

    #[test]
    fn reply_bytes_reverse_the_data_then_follow_a_pattern() {
        let got: [u8; 4] = core::array::from_fn(|i| reply_byte(&[7, 8], i));
        assert_eq!(got[..2], [8, 7]);
        assert_eq!(got[2], 2u8.wrapping_mul(31) ^ 0xa5);
        assert_eq!(reply_len(u64::MAX), PPC_DATA_BYTES);
        assert_eq!(reply_len(3), 3);
    }

    #[test]
    fn every_argument_and_its_place_change_the_digest() {
        let args = [1, 2, 3, 4, 5, 6].map(|i: u64| i * 0x0101_0101_0101_0101);
        let base = digest(args);
        for i in 0..6 {
            let mut zeroed = args;
            zeroed[i] = 0;
            assert_ne!(digest(zeroed), base, "argument {i} zeroed");
            for j in i + 1..6 {
                let mut swapped = args;
                swapped.swap(i, j);
                assert_ne!(digest(swapped), base, "arguments {i} and {j} swapped");
            }
        }
        // Each result word depends on the arguments on its own.
        let (w0, w1, w2, w3) = base;
        assert!(w0 != 0 && w1 != 0 && w2 != 0 && w3 != 0);
    }
}
