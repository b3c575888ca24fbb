//! The inode table: inodes by number in a hash map, so the look-ups every call and every path
//! component makes cost the same whatever the file system's size (a `BTreeMap` searched a node
//! per level, a few hundred instructions per look-up with the initramfs loaded).
//!
//! Numbers stay what they were (monotonic, never reused: `Fs::alloc`); only where an inode is
//! kept changes. Nothing depends on the table's order: walks go by number, and the few sweeps
//! over every inode (`mount.rs`) either ask "any?" or sort what they collect.

use core::hash::{BuildHasherDefault, Hasher};

use hashbrown::HashMap;

use crate::inode::{Ino, Inode};

/// Inodes by number.
pub(crate) type Inodes = HashMap<Ino, Inode, BuildHasherDefault<InoHasher>>;

/// Fibonacci hashing's multiplier (2^64 / φ, odd): consecutive numbers land in distinct
/// buckets (the low bits of the product are a bijection of the number's), and the high bits
/// the table keeps as each entry's tag are well mixed.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// A hasher for inode numbers: one multiplication. Numbers are the file system's own, never a
/// client's choice, so no one can steer them into one bucket.
#[derive(Default)]
pub(crate) struct InoHasher(u64);

impl Hasher for InoHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used for an `Ino`; anything else is folded in a byte at a time.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(GOLDEN);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(GOLDEN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::hash::BuildHasher;

    #[test]
    fn consecutive_numbers_spread() {
        let build = BuildHasherDefault::<InoHasher>::default();
        let mask = 1023u64;
        let mut seen = alloc::vec![false; 1024];
        for ino in 1..=1024u64 {
            let bucket = (build.hash_one(ino) & mask) as usize;
            assert!(!seen[bucket], "two numbers in bucket {bucket}");
            seen[bucket] = true;
        }
    }
}
