//! Property-style checks that no input, however damaged, panics or reads out of bounds: every
//! truncation and many byte flips of valid images, plain and gzip, and random noise.

mod common;

use common::{Raw, Rng, S_IFLNK, archive, gzip};
use k42_cpio::{Limits, TRAILER_NAME, Tree, Writer};

/// A small image using every feature: several archives, links, symlinks, devices, padding.
fn image() -> Vec<u8> {
    let mut w = Writer::new();
    w.dir("/bin", 0o755)
        .file("/bin/sh", 0o755, b"#!/bin/sh\necho hi\n")
        .symlink("/init", "/bin/sh")
        .char_dev("/dev/console", 0o600, 5, 1)
        .fifo("/run/f", 0o644);
    let mut out = w.finish();
    let mut a = Raw::file("l1", b"");
    let mut b = Raw::file("l2", b"linked");
    (a.ino, a.nlink, b.ino, b.nlink) = (5, 2, 5, 2);
    out.extend(archive(&[a, b, Raw::new("s", S_IFLNK | 0o777, b"t\0")]));
    out.extend([0; 8]);
    out
}

/// Parses with small limits so that mutated size fields cannot make a test slow.
fn parse(input: &[u8]) {
    let limits = Limits {
        max_total_bytes: 1 << 20,
        max_entries: 1000,
        max_file_size: 1 << 16,
    };
    // Any result is fine; reaching here without a panic is the property.
    let _ = Tree::parse_with_limits(input, &limits);
}

#[test]
fn every_truncation_of_a_plain_image_is_an_error() {
    let input = image();
    Tree::parse(&input).unwrap();
    // Where each archive's trailer entry ends, and where the first archive's block padding ends.
    let trailer_ends: Vec<usize> = input
        .windows(TRAILER_NAME.len())
        .enumerate()
        .filter(|(_, w)| *w == TRAILER_NAME.as_bytes())
        .map(|(at, w)| (at + w.len() + 1).next_multiple_of(4))
        .collect();
    let first_block_end = trailer_ends[0].next_multiple_of(512);
    for cut in 0..=input.len() {
        // Only a prefix made of whole archives, plus zero padding, is itself a valid image.
        let whole_archives = (trailer_ends[0]..=first_block_end).contains(&cut)
            || (trailer_ends[1]..=input.len()).contains(&cut);
        let result = Tree::parse(&input[..cut]);
        assert_eq!(
            result.is_ok(),
            whole_archives || cut == 0,
            "cut at {cut}: {result:?}"
        );
    }
}

#[test]
fn every_truncation_of_a_gzip_image_is_an_error() {
    let input = gzip(&image());
    Tree::parse(&input).unwrap();
    for cut in 1..input.len() {
        assert!(Tree::parse(&input[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn flipping_any_byte_never_panics() {
    let input = image();
    for at in 0..input.len() {
        for mask in [0x01, 0x10, 0x80, 0xff] {
            let mut bad = input.clone();
            bad[at] ^= mask;
            parse(&bad);
        }
    }
}

#[test]
fn flipping_bytes_of_a_gzip_image_never_panics() {
    let input = gzip(&image());
    for at in 0..input.len() {
        let mut bad = input.clone();
        bad[at] ^= 0x5a;
        parse(&bad);
    }
}

#[test]
fn random_header_digits_never_panic() {
    // Random hex digits in random header fields reach size and offset arithmetic directly.
    let input = image();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let mut bad = input.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bad.len());
            bad[at] = b"0123456789abcdefF7"[rng.below(18)];
        }
        parse(&bad);
    }
}

#[test]
fn random_noise_never_panics() {
    let mut rng = Rng(42);
    for len in 0..2000 {
        let mut noise: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        parse(&noise);
        // Noise behind a valid magic gets past the first check.
        if len >= 6 {
            noise[..6].copy_from_slice(b"070701");
            parse(&noise);
        }
    }
}
