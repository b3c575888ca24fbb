//! The echo interface: a tiny server (`user/bin/echo`) that native tests call to check PPC end to
//! end — every argument and result register, the badge the kernel stamps, and the rights check
//! of a user-level server.
//!
//! [`Echo::echo`] returns [`digest`] of its six arguments: each result word mixes the arguments
//! with their positions, so a dropped, swapped or zeroed argument register, or a lost result
//! word, changes what the client compares against its own `digest`.

use core::convert::Infallible;

use k42_rights::{Badge, Rights};

use crate::FIRST_SERVER_INTERFACE;

/// Interface id of [`Echo`].
pub const ECHO_INTERFACE: u32 = FIRST_SERVER_INTERFACE + 1;

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

#[cfg(test)]
mod tests {
    use super::*;

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
