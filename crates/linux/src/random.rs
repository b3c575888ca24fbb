//! A process's random bytes: `getrandom`, `/dev/urandom` and `/dev/random`, and `execve`'s
//! `AT_RANDOM` (the C library's stack canary and pointer guard), from one ChaCha20 stream
//! (`rand_chacha`) per process, as Linux's own generator is a ChaCha20 stream keyed from its
//! entropy pool (`drivers/char/random.c`).
//!
//! The key comes from an entropy source the caller supplies — the personality's reads the
//! CPU's `RDRAND` (`user/bin/linux/src/calls/info.rs`) — when the first bytes are asked for,
//! and fresh entropy is mixed into it again after every [`RESEED_BYTES`] and after a fork
//! ([`Random::forked`]: the child's copy of the parent's memory holds the parent's next key).
//! After each request the
//! generator rekeys itself from its own stream ("fast key erasure", as Linux's
//! `crng_fast_key_erasure`), so the bytes it has handed out cannot be computed again from its
//! state, should a later copy of the process's memory (a core file, say) show it.
//!
//! Pure logic, tested on the host: the personality owns one [`Random`] per process and makes a
//! new, unkeyed one for a fork child, which therefore draws its own key instead of repeating
//! its parent's stream.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// Bytes of a ChaCha20 key, and of what one draw of the entropy source gives.
pub const KEY_BYTES: usize = 32;

/// Bytes handed out between two draws of fresh entropy (Linux reseeds its base generator once
/// a minute; a count keeps this crate free of a clock).
pub const RESEED_BYTES: usize = 1 << 20;

/// A process's generator: unkeyed until the first request.
pub struct Random {
    /// The stream, once keyed.
    stream: Option<ChaCha20Rng>,
    /// Bytes handed out since fresh entropy was last mixed in.
    since_reseed: usize,
}

impl Default for Random {
    fn default() -> Self {
        Self::new()
    }
}

impl Random {
    /// An unkeyed generator: its first request draws a key from the entropy source.
    pub const fn new() -> Self {
        Self {
            stream: None,
            since_reseed: 0,
        }
    }

    /// Fills `buf` with the stream's next bytes, then rekeys the generator from the stream.
    /// `entropy` is drawn for a key the first time and after every [`RESEED_BYTES`].
    pub fn fill(&mut self, buf: &mut [u8], entropy: impl FnOnce() -> [u8; KEY_BYTES]) {
        if self.stream.is_none() || self.since_reseed >= RESEED_BYTES {
            self.reseed(entropy());
        }
        let Some(stream) = self.stream.as_mut() else {
            return; // keyed just above
        };
        stream.fill_bytes(buf);
        let mut key = [0u8; KEY_BYTES];
        stream.fill_bytes(&mut key);
        *stream = ChaCha20Rng::from_seed(key);
        self.since_reseed = self.since_reseed.saturating_add(buf.len());
    }

    /// Makes the next request mix fresh entropy into the key first: the process has just been
    /// copied into a fork child, which can read the current key in its copy.
    pub fn forked(&mut self) {
        self.since_reseed = RESEED_BYTES;
    }

    /// Keys the stream from `fresh` mixed with what the current stream (if any) gives: fresh
    /// entropy adds to the old key's, never replaces it.
    fn reseed(&mut self, fresh: [u8; KEY_BYTES]) {
        let mut key = [0u8; KEY_BYTES];
        if let Some(stream) = self.stream.as_mut() {
            stream.fill_bytes(&mut key);
        }
        for (k, f) in key.iter_mut().zip(fresh) {
            *k ^= f;
        }
        self.stream = Some(ChaCha20Rng::from_seed(key));
        self.since_reseed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entropy source that gives `key` and counts its draws.
    fn source(key: u8, draws: &mut usize) -> impl FnOnce() -> [u8; KEY_BYTES] + '_ {
        move || {
            *draws += 1;
            [key; KEY_BYTES]
        }
    }

    #[test]
    fn first_bytes_are_chacha20_of_the_drawn_key() {
        let (mut draws, mut out) = (0, [0u8; 16]);
        let mut r = Random::new();
        r.fill(&mut out, source(7, &mut draws));
        let mut expected = [0u8; 16];
        ChaCha20Rng::from_seed([7; KEY_BYTES]).fill_bytes(&mut expected);
        assert_eq!((out, draws), (expected, 1));
    }

    #[test]
    fn each_request_rekeys_from_the_stream() {
        let mut draws = 0;
        let mut r = Random::new();
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        r.fill(&mut a, source(7, &mut draws));
        r.fill(&mut b, source(7, &mut draws));
        // Not the plain stream's next bytes: those follow `a` in one stream of the first key.
        let mut plain = [0u8; 32];
        ChaCha20Rng::from_seed([7; KEY_BYTES]).fill_bytes(&mut plain);
        assert_ne!(b, plain[16..]);
        // But the first key's stream after `a` and the 32 bytes the new key was taken from.
        let mut first = ChaCha20Rng::from_seed([7; KEY_BYTES]);
        let (mut skip, mut key) = ([0u8; 16], [0u8; KEY_BYTES]);
        first.fill_bytes(&mut skip);
        first.fill_bytes(&mut key);
        let mut expected = [0u8; 16];
        ChaCha20Rng::from_seed(key).fill_bytes(&mut expected);
        assert_eq!((b, draws), (expected, 1));
    }

    #[test]
    fn a_fork_makes_the_next_request_draw_entropy() {
        let mut draws = 0;
        let mut r = Random::new();
        let mut out = [0u8; 8];
        r.fill(&mut out, source(1, &mut draws));
        r.forked();
        r.fill(&mut out, source(1, &mut draws));
        assert_eq!(draws, 2);
    }

    #[test]
    fn two_new_generators_differ_only_by_their_entropy() {
        let (mut d1, mut d2, mut d3) = (0, 0, 0);
        let (mut a, mut b, mut c) = ([0u8; 32], [0u8; 32], [0u8; 32]);
        Random::new().fill(&mut a, source(1, &mut d1));
        Random::new().fill(&mut b, source(1, &mut d2));
        Random::new().fill(&mut c, source(2, &mut d3));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn fresh_entropy_is_mixed_in_after_reseed_bytes() {
        let mut draws = 0;
        let mut r = Random::new();
        let mut big = alloc::vec![0u8; RESEED_BYTES];
        r.fill(&mut big, source(1, &mut draws));
        let mut small = [0u8; 8];
        r.fill(&mut small, source(1, &mut draws));
        assert_eq!(draws, 2);
        // Mixed with, not replaced by, the new draw: a generator keyed from the draw alone
        // gives other bytes.
        let mut alone = [0u8; 8];
        ChaCha20Rng::from_seed([1; KEY_BYTES]).fill_bytes(&mut alone);
        assert_ne!(small, alone);
        r.fill(&mut small, source(1, &mut draws));
        assert_eq!(draws, 2);
    }
}
