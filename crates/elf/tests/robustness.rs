//! Property-style checks that no input, however damaged, makes `plan` panic, and that whatever it
//! accepts is a plan a loader can follow: every truncation of each fixture, random bit flips and
//! extreme field values in their headers, and noise behind a valid magic.

mod common;

use common::*;
use k42_elf::{Options, plan};

/// Flip rounds per fixture: enough to hit every header field many times (the headers are a few
/// hundred bytes), fast enough for a debug build.
const FLIP_ROUNDS: usize = 20_000;

/// Most bits flipped in one round.
const MAX_FLIPS: u64 = 4;

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("static exec", static_exec().build()),
        ("static-pie with interp", static_pie(true).build()),
        ("static-pie", static_pie(false).build()),
        ("k42 native", k42_native().build()),
    ]
}

#[test]
fn every_truncation_is_an_error() {
    let o = Options::default();
    for (name, bytes) in fixtures() {
        assert_sound(&plan(&bytes, &o).unwrap(), &bytes, &o);
        // The writer ends the file at the last byte a header names, so every cut loses
        // something the plan needs.
        for cut in 0..bytes.len() {
            let result = plan(&bytes[..cut], &o);
            assert!(result.is_err(), "{name}: cut at {cut} accepted: {result:?}");
        }
    }
}

#[test]
fn random_bit_flips_never_panic() {
    let o = Options::default();
    let mut rng = Rng::new(0x6b34_325f_656c_6621);
    let (mut accepted, mut refused) = (0, 0);
    for (name, mut bytes) in fixtures() {
        let original = bytes.clone();
        // Most flips go to the ELF header and program header table, where they matter.
        let headers = (EHDR_SIZE + 8 * PHDR_SIZE).min(bytes.len() as u64);
        for round in 0..FLIP_ROUNDS {
            let mut flipped = Vec::new();
            for _ in 0..=rng.below(MAX_FLIPS) {
                let span = if rng.below(4) == 0 {
                    bytes.len() as u64
                } else {
                    headers
                };
                let at = rng.below(span) as usize;
                bytes[at] ^= 1 << rng.below(8);
                flipped.push(at);
            }
            match plan(&bytes, &o) {
                Ok(p) => {
                    accepted += 1;
                    assert_sound(&p, &bytes, &o);
                }
                Err(e) => {
                    refused += 1;
                    assert!(!e.to_string().is_empty());
                }
            }
            for at in flipped {
                bytes[at] = original[at];
            }
            assert_eq!(bytes, original, "{name}: round {round} not restored");
        }
    }
    // Both outcomes must actually occur, or the test exercised nothing.
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn extreme_field_values_never_panic() {
    let o = Options::default();
    let mut rng = Rng::new(0x0bad_f00d_dead_beef);
    let extremes = [
        0,
        1,
        u64::MAX,
        u64::MAX - 0xfff,
        1 << 63,
        0x7fff_ffff_f000,
        0x1000,
    ];
    for (_, mut bytes) in fixtures() {
        let original = bytes.clone();
        let headers = (EHDR_SIZE + 8 * PHDR_SIZE).min(bytes.len() as u64) as usize;
        for _ in 0..FLIP_ROUNDS {
            // Overwrite an aligned 8-byte field (or half of a 16-byte one) of the headers.
            let at = (rng.below(headers as u64 / 8) * 8) as usize;
            let value = if rng.below(2) == 0 {
                extremes[rng.below(extremes.len() as u64) as usize]
            } else {
                rng.next()
            };
            bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
            if let Ok(p) = plan(&bytes, &o) {
                assert_sound(&p, &bytes, &o);
            }
            bytes[at..at + 8].copy_from_slice(&original[at..at + 8]);
        }
    }
}

#[test]
fn noise_behind_a_valid_magic_never_panics() {
    let o = Options::default();
    let mut rng = Rng::new(42);
    for _ in 0..FLIP_ROUNDS {
        let len = rng.below(1024) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Keep the identification valid often enough to reach the program headers.
        let ident = b"\x7fELF\x02\x01\x01\x00";
        let keep = ident.len().min(len);
        if rng.below(2) == 0 {
            bytes[..keep].copy_from_slice(&ident[..keep]);
        }
        if let Ok(p) = plan(&bytes, &o) {
            assert_sound(&p, &bytes, &o);
        }
    }
}
