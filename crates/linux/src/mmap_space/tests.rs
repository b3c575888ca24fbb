//! Tests of the address-space map and the break: the boundary cases one by one, then long
//! pseudo-random operation sequences checked page by page against a plain array model.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::*;

const P: u64 = PAGE_SIZE;
const RW: u8 = PROT_READ | PROT_WRITE;
const RX: u8 = PROT_READ | PROT_EXEC;

fn r(start: u64, end: u64, prot: u8, kind: Kind) -> Range {
    Range {
        start,
        end,
        prot,
        kind,
    }
}

fn ranges(s: &MmapSpace) -> Vec<Range> {
    s.iter().copied().collect()
}

#[test]
fn check_range_rules() {
    assert_eq!(check_range(0x1000, 1), Ok((0x1000, 0x2000)));
    assert_eq!(check_range(0x1000, P), Ok((0x1000, 0x2000)));
    assert_eq!(check_range(0x1001, P), Err(Errno::EINVAL));
    assert_eq!(check_range(0x1000, 0), Err(Errno::EINVAL));
    assert_eq!(check_range(u64::MAX - P + 1, P), Err(Errno::ENOMEM));
    assert_eq!(check_range(0, u64::MAX), Err(Errno::ENOMEM));
    assert_eq!(page_ceil(u64::MAX), None);
}

#[test]
fn insert_refuses_overlap_and_merges_neighbours() {
    let mut s = MmapSpace::new();
    s.insert(0x10000, 2 * P, RW, Kind::AnonPrivate).unwrap();
    assert_eq!(
        s.insert(0x11000, P, RW, Kind::AnonPrivate),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        s.insert(0xf000, 2 * P, RW, Kind::AnonPrivate),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        s.insert(0x10000, P, 0x8, Kind::AnonPrivate),
        Err(Errno::EINVAL)
    );
    // Touching, same prot and kind: one range, whichever side.
    s.insert(0x12000, P, RW, Kind::AnonPrivate).unwrap();
    s.insert(0xf000, P, RW, Kind::AnonPrivate).unwrap();
    assert_eq!(ranges(&s), [r(0xf000, 0x13000, RW, Kind::AnonPrivate)]);
    // Different prot or kind, or shared: separate.
    s.insert(0x13000, P, RX, Kind::AnonPrivate).unwrap();
    s.insert(0x14000, P, RX, Kind::Image).unwrap();
    s.insert(0x20000, P, RW, Kind::AnonShared).unwrap();
    s.insert(0x21000, P, RW, Kind::AnonShared).unwrap();
    assert_eq!(s.len(), 5);
    // Filling a hole between two agreeing ranges merges all three.
    let mut t = MmapSpace::new();
    t.insert(0x1000, P, RW, Kind::Stack).unwrap();
    t.insert(0x3000, P, RW, Kind::Stack).unwrap();
    t.insert(0x2000, P, RW, Kind::Stack).unwrap();
    assert_eq!(ranges(&t), [r(0x1000, 0x4000, RW, Kind::Stack)]);
}

#[test]
fn insert_fixed_replaces() {
    let mut s = MmapSpace::new();
    s.insert(0x10000, 4 * P, RX, Kind::Image).unwrap();
    s.insert(0x15000, 2 * P, RW, Kind::AnonPrivate).unwrap();
    let removed = s
        .insert_fixed(0x12000, 4 * P, RW, Kind::AnonShared)
        .unwrap();
    assert_eq!(
        removed,
        [
            r(0x12000, 0x14000, RX, Kind::Image),
            r(0x15000, 0x16000, RW, Kind::AnonPrivate)
        ]
    );
    assert_eq!(
        ranges(&s),
        [
            r(0x10000, 0x12000, RX, Kind::Image),
            r(0x12000, 0x16000, RW, Kind::AnonShared),
            r(0x16000, 0x17000, RW, Kind::AnonPrivate),
        ]
    );
    assert_eq!(
        s.insert_fixed(0x12001, P, RW, Kind::Image),
        Err(Errno::EINVAL)
    );
    assert_eq!(s.len(), 3, "a refused call changes nothing");
    assert_eq!(s.insert_fixed(0x30000, P, RW, Kind::Image), Ok(vec![]));
}

#[test]
fn remove_splits() {
    let mut s = MmapSpace::new();
    s.insert(0x10000, 8 * P, RW, Kind::AnonPrivate).unwrap();
    assert_eq!(
        s.remove(0x12000, 2 * P - 100),
        [r(0x12000, 0x14000, RW, Kind::AnonPrivate)]
    );
    assert_eq!(
        ranges(&s),
        [
            r(0x10000, 0x12000, RW, Kind::AnonPrivate),
            r(0x14000, 0x18000, RW, Kind::AnonPrivate)
        ]
    );
    assert_eq!(s.remove(0x40000, P), []);
    assert_eq!(s.remove(0x10001, P), [], "unaligned removes nothing");
    assert_eq!(s.remove(0x10000, 0), []);
    let all = s.remove(0, 0x100000);
    assert_eq!(all.len(), 2);
    assert!(s.is_empty());
}

#[test]
fn protect_rules() {
    let mut s = MmapSpace::new();
    s.insert(0x10000, 4 * P, RW, Kind::AnonPrivate).unwrap();
    s.insert(0x15000, P, RW, Kind::AnonPrivate).unwrap();
    let before = s.clone();
    // A hole anywhere in the range: ENOMEM, and nothing changed.
    assert_eq!(s.protect(0x13000, 2 * P, PROT_READ), Err(Errno::ENOMEM));
    assert_eq!(s.protect(0xf000, 2 * P, PROT_READ), Err(Errno::ENOMEM));
    assert_eq!(s.protect(0x15000, 2 * P, PROT_READ), Err(Errno::ENOMEM));
    assert_eq!(s.protect(0x10000, P, 0x10), Err(Errno::EINVAL));
    assert_eq!(s.protect(0x10800, P, PROT_READ), Err(Errno::EINVAL));
    assert_eq!(s, before);
    assert_eq!(
        s.protect(0x40000, 0, PROT_READ),
        Ok(vec![]),
        "len 0 succeeds, as Linux"
    );
    // The middle of a range: three pieces, the old one returned.
    let old = s.protect(0x11000, P, PROT_READ).unwrap();
    assert_eq!(old, [r(0x11000, 0x12000, RW, Kind::AnonPrivate)]);
    assert_eq!(s.len(), 4);
    assert_eq!(s.lookup(0x11fff).map(|r| r.prot), Some(PROT_READ));
    // Undone: merged again.
    s.protect(0x11000, P, RW).unwrap();
    assert_eq!(s, before);
    // Over several ranges of different kinds: each keeps its kind.
    s.insert(0x14000, P, RW, Kind::Image).unwrap();
    let old = s.protect(0x13000, 3 * P, PROT_NONE).unwrap();
    assert_eq!(
        old.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [Kind::AnonPrivate, Kind::Image, Kind::AnonPrivate]
    );
    assert_eq!(
        s.lookup(0x14000),
        Some(r(0x14000, 0x15000, PROT_NONE, Kind::Image))
    );
}

#[test]
fn file_ranges_are_never_merged() {
    let mut s = MmapSpace::new();
    s.insert(0x10000, P, PROT_READ, Kind::FilePrivate).unwrap();
    s.insert(0x11000, P, PROT_READ, Kind::FilePrivate).unwrap();
    s.insert(0x12000, P, PROT_READ, Kind::FileShared).unwrap();
    s.insert(0x13000, P, PROT_READ, Kind::FileShared).unwrap();
    s.insert(0x14000, P, PROT_READ, Kind::AnonPrivate).unwrap();
    assert_eq!(s.len(), 5, "two file mappings may be of different files");
    // Split by mprotect and put back: the pieces stay apart (the map cannot tell them from
    // two mappings).
    s.protect(0x14000, P, RW).unwrap();
    s.insert(0x20000, 3 * P, RW, Kind::FilePrivate).unwrap();
    s.protect(0x21000, P, PROT_READ).unwrap();
    s.protect(0x21000, P, RW).unwrap();
    assert_eq!(s.len(), 8);
    assert!(Kind::FileShared.is_one_mapping() && Kind::AnonShared.is_one_mapping());
    assert!(!Kind::AnonPrivate.is_one_mapping() && !Kind::Image.is_one_mapping());
}

#[test]
fn protect_never_makes_a_shared_file_range_writable() {
    let mut s = MmapSpace::new();
    s.insert(0x10000, P, RW, Kind::AnonPrivate).unwrap();
    s.insert(0x11000, 2 * P, PROT_READ, Kind::FileShared)
        .unwrap();
    let before = s.clone();
    assert_eq!(s.protect(0x11000, P, RW), Err(Errno::EACCES));
    assert_eq!(
        s.protect(0x10000, 3 * P, PROT_WRITE),
        Err(Errno::EACCES),
        "nothing changes, not even the range before it"
    );
    assert_eq!(s, before);
    // Whichever the walk from the start meets first: a hole before it is ENOMEM, one after EACCES.
    assert_eq!(s.protect(0xf000, 4 * P, RW), Err(Errno::ENOMEM));
    assert_eq!(s.protect(0x11000, 3 * P, RW), Err(Errno::EACCES));
    assert_eq!(s, before);
    // Any other protection is fine, executable included.
    s.protect(0x11000, 2 * P, RX).unwrap();
    s.protect(0x12000, P, PROT_NONE).unwrap();
    assert_eq!(
        ranges(&s)[1..],
        [
            r(0x11000, 0x12000, RX, Kind::FileShared),
            r(0x12000, 0x13000, PROT_NONE, Kind::FileShared)
        ]
    );
    // A private file mapping may be written, as Linux allows whatever the open mode.
    s.insert(0x20000, P, PROT_READ, Kind::FilePrivate).unwrap();
    s.protect(0x20000, P, RW).unwrap();
}

#[test]
fn lookup_and_covering() {
    let mut s = MmapSpace::new();
    s.insert(0x10000, 2 * P, RW, Kind::Stack).unwrap();
    s.insert(0x12000, P, RX, Kind::Image).unwrap();
    assert_eq!(s.lookup(0xffff), None);
    assert_eq!(s.lookup(0x10000).map(|r| r.kind), Some(Kind::Stack));
    assert_eq!(s.lookup(0x11fff).map(|r| r.kind), Some(Kind::Stack));
    assert_eq!(s.lookup(0x12000).map(|r| r.kind), Some(Kind::Image));
    assert_eq!(s.lookup(0x13000), None);
    assert!(s.covering(0x10000, 2 * P).is_some());
    assert!(s.covering(0x10000, 2 * P + 1).is_none(), "spans two ranges");
    assert!(s.covering(0x11000, 0).is_some());
    assert!(s.covering(u64::MAX, 2).is_none());
    assert!(s.is_free(0x13000, 0x20000));
    assert!(!s.is_free(0xf000, 0x10001));
    // Mapped through two ranges; a hole before, after or between is not.
    assert!(s.is_mapped(0x10000, 0x13000));
    assert!(s.is_mapped(0x11000, 0x11000), "nothing to map");
    assert!(!s.is_mapped(0xf000, 0x11000));
    assert!(!s.is_mapped(0x12000, 0x14000));
    s.insert(0x14000, P, RW, Kind::Stack).unwrap();
    assert!(!s.is_mapped(0x10000, 0x15000));
}

#[test]
fn find_free_top_down() {
    let mut s = MmapSpace::new();
    let (floor, ceiling) = (0x10000, 0x40000);
    assert_eq!(s.find_free(P, 0, floor, ceiling), Some(ceiling - P));
    assert_eq!(
        s.find_free(1, 0, floor, ceiling),
        Some(ceiling - P),
        "rounded up to a page"
    );
    assert_eq!(s.find_free(0, 0, floor, ceiling), None);
    assert_eq!(s.find_free(ceiling - floor, 0, floor, ceiling), Some(floor));
    assert_eq!(s.find_free(ceiling - floor + P, 0, floor, ceiling), None);
    s.insert(0x3f000, P, RW, Kind::Stack).unwrap();
    s.insert(0x30000, 0xc000, RW, Kind::AnonPrivate).unwrap();
    // Gaps: [0x10000, 0x30000), [0x3c000, 0x3f000).
    assert_eq!(s.find_free(3 * P, 0, floor, ceiling), Some(0x3c000));
    assert_eq!(s.find_free(4 * P, 0, floor, ceiling), Some(0x2c000));
    assert_eq!(s.find_free(0x20000, 0, floor, ceiling), Some(0x10000));
    assert_eq!(s.find_free(0x20001, 0, floor, ceiling), None);
    // A free hint is honoured (rounded up to a page); a taken or out-of-bounds one is not.
    assert_eq!(s.find_free(P, 0x12000, floor, ceiling), Some(0x12000));
    assert_eq!(s.find_free(P, 0x11001, floor, ceiling), Some(0x12000));
    assert_eq!(s.find_free(P, 0x30000, floor, ceiling), Some(0x3e000));
    assert_eq!(s.find_free(2 * P, 0x2f000, floor, ceiling), Some(0x3d000));
    assert_eq!(s.find_free(P, 0x8000, floor, ceiling), Some(0x3e000));
    assert_eq!(s.find_free(P, 0x40000, floor, ceiling), Some(0x3e000));
    assert_eq!(s.find_free(P, u64::MAX, floor, ceiling), Some(0x3e000));
    // Bounds are page-rounded inward; a range straddling the ceiling or floor counts.
    assert_eq!(s.find_free(P, 0, floor + 1, 0x3e800), Some(0x3d000));
    assert_eq!(s.find_free(P, 0, 0x31000, 0x3f800), Some(0x3e000));
    assert_eq!(s.find_free(P, 0, 0x31000, 0x3c000), None);
    assert_eq!(
        s.find_free(P, 0, 0x40000, 0x10000),
        None,
        "ceiling below floor"
    );
}

#[test]
fn brk_semantics() {
    let mut s = MmapSpace::new();
    s.insert(0x400000, 0x2000, RX, Kind::Image).unwrap();
    let start = 0x402000;
    let mut b = Brk::new(start, 0x500000);
    assert_eq!(b.set(0, &mut s), (start, BrkChange::None), "brk(0) queries");
    assert_eq!(b.set(start - 1, &mut s), (start, BrkChange::None));
    // Growing by bytes maps whole pages; the break is kept exact.
    assert_eq!(
        b.set(start + 10, &mut s),
        (start + 10, BrkChange::Map { start, len: P })
    );
    assert_eq!(
        b.set(start + P, &mut s),
        (start + P, BrkChange::None),
        "same last page"
    );
    assert_eq!(
        b.set(start + 3 * P + 1, &mut s),
        (
            start + 3 * P + 1,
            BrkChange::Map {
                start: start + P,
                len: 3 * P
            }
        )
    );
    assert_eq!(
        s.lookup(start + 3 * P),
        Some(r(start, start + 4 * P, RW, Kind::AnonPrivate))
    );
    // Shrinking unmaps the pages above the new break's page.
    assert_eq!(
        b.set(start + P + 5, &mut s),
        (
            start + P + 5,
            BrkChange::Unmap {
                start: start + 2 * P,
                len: 2 * P
            }
        )
    );
    assert_eq!(s.lookup(start + 2 * P), None);
    // Past the limit: refused, old break returned.
    assert_eq!(b.set(0x500001, &mut s), (start + P + 5, BrkChange::None));
    assert!(
        b.set(0x500000, &mut s).1 != BrkChange::None,
        "the limit itself is allowed"
    );
    b.set(start, &mut s);
    assert_eq!(b.current, start);
    assert!(s.is_free(start, 0x500000));
    // A mapping in the way, or less than a page above the new end: refused.
    s.insert(0x410000, P, RW, Kind::AnonPrivate).unwrap();
    assert_eq!(b.set(0x411000, &mut s), (start, BrkChange::None));
    assert_eq!(
        b.set(0x40f001, &mut s),
        (start, BrkChange::None),
        "no page left as gap"
    );
    assert_eq!(
        b.set(0x40f000, &mut s),
        (
            0x40f000,
            BrkChange::Map {
                start,
                len: 0x40f000 - start
            }
        )
    );
    // Undoing a growth the kernel could not map.
    let (old, _) = b.set(0x40e000, &mut s);
    assert_eq!(
        b.set(0x40f000, &mut s).1,
        BrkChange::Map {
            start: 0x40e000,
            len: P
        }
    );
    assert_eq!(
        b.set(old, &mut s).1,
        BrkChange::Unmap {
            start: 0x40e000,
            len: P
        }
    );
    assert_eq!(b.current, old);
    // The image below the heap is untouched throughout.
    assert_eq!(
        s.lookup(0x400000),
        Some(r(0x400000, 0x402000, RX, Kind::Image))
    );
}

/// A small xorshift64 generator: deterministic sequences without external crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The model: one slot per page of a small window.
const BASE: u64 = 0x1000_0000;
const PAGES: u64 = 48;
type Model = Vec<Option<(u8, Kind)>>;

fn page(addr: u64) -> usize {
    ((addr - BASE) / P) as usize
}

fn pieces_pages(pieces: &[Range]) -> Vec<(u64, u8, Kind)> {
    let mut v = Vec::new();
    for r in pieces {
        let mut a = r.start;
        while a < r.end {
            v.push((a, r.prot, r.kind));
            a += P;
        }
    }
    v
}

fn model_pages(model: &Model, start: u64, end: u64) -> Vec<(u64, u8, Kind)> {
    (start..end)
        .step_by(P as usize)
        .filter_map(|a| model[page(a)].map(|(p, k)| (a, p, k)))
        .collect()
}

/// Structural invariants plus equality with the model, page by page.
fn audit(s: &MmapSpace, model: &Model) {
    let mut prev: Option<Range> = None;
    for r in s.iter() {
        assert!(
            r.start < r.end && r.start % P == 0 && r.end % P == 0,
            "{r:?}"
        );
        assert!(
            r.start >= BASE && r.end <= BASE + PAGES * P,
            "{r:?} outside the window"
        );
        assert_eq!(r.prot & !PROT_MASK, 0);
        if let Some(p) = prev {
            assert!(p.end <= r.start, "overlap {p:?} {r:?}");
            assert!(!p.merges_with(r), "unmerged {p:?} {r:?}");
        }
        prev = Some(*r);
    }
    let actual: Vec<Option<(u8, Kind)>> = (0..PAGES)
        .map(|i| s.lookup(BASE + i * P).map(|r| (r.prot, r.kind)))
        .collect();
    assert_eq!(&actual, model);
}

fn random_prot(rng: &mut Rng) -> u8 {
    rng.below(8) as u8
}

fn random_kind(rng: &mut Rng) -> Kind {
    [
        Kind::AnonPrivate,
        Kind::AnonShared,
        Kind::Image,
        Kind::Stack,
        Kind::Guard,
        Kind::FilePrivate,
        Kind::FileShared,
    ][rng.below(7) as usize]
}

#[test]
fn random_operations_match_the_page_model() {
    for seed in 1..=40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut s = MmapSpace::new();
        let mut model: Model = vec![None; PAGES as usize];
        // The break lives in the upper half; its limit leaves the guard page inside the window.
        let brk_start = BASE + 32 * P;
        let mut brk = Brk::new(brk_start, BASE + (PAGES - 1) * P);
        let mut model_brk = brk_start;
        for _ in 0..400 {
            let first = rng.below(PAGES);
            let count = 1 + rng.below((PAGES - first).min(12));
            let (start, end) = (BASE + first * P, BASE + (first + count) * P);
            // Lengths not a page multiple are rounded up.
            let len = (end - start) - rng.below(2) * rng.below(P);
            match rng.below(7) {
                0 => {
                    let (prot, kind) = (random_prot(&mut rng), random_kind(&mut rng));
                    let taken = !model_pages(&model, start, end).is_empty();
                    let res = s.insert(start, len, prot, kind);
                    if taken {
                        assert_eq!(res, Err(Errno::EEXIST));
                    } else {
                        assert_eq!(res, Ok(()));
                        model[page(start)..page(end)].fill(Some((prot, kind)));
                    }
                }
                1 => {
                    let (prot, kind) = (random_prot(&mut rng), random_kind(&mut rng));
                    let removed = s.insert_fixed(start, len, prot, kind).unwrap();
                    assert_eq!(pieces_pages(&removed), model_pages(&model, start, end));
                    model[page(start)..page(end)].fill(Some((prot, kind)));
                }
                2 => {
                    let removed = s.remove(start, len);
                    assert_eq!(pieces_pages(&removed), model_pages(&model, start, end));
                    model[page(start)..page(end)].fill(None);
                }
                3 => {
                    let prot = random_prot(&mut rng);
                    let before = model_pages(&model, start, end);
                    let res = s.protect(start, len, prot);
                    // Linux's walk up from `start`: the first hole is ENOMEM, the first
                    // shared file page made writable EACCES.
                    let refusal =
                        model[page(start)..page(end)]
                            .iter()
                            .find_map(|slot| match slot {
                                None => Some(Errno::ENOMEM),
                                Some((_, Kind::FileShared)) if prot & PROT_WRITE != 0 => {
                                    Some(Errno::EACCES)
                                }
                                Some(_) => None,
                            });
                    if let Some(e) = refusal {
                        assert_eq!(res, Err(e));
                    } else {
                        assert_eq!(before.len() as u64, count);
                        assert_eq!(pieces_pages(&res.unwrap()), before);
                        for slot in &mut model[page(start)..page(end)] {
                            *slot = slot.map(|(_, k)| (prot, k));
                        }
                    }
                }
                4 => {
                    let floor = BASE + rng.below(PAGES / 2) * P;
                    let ceiling = BASE + (PAGES / 2 + rng.below(PAGES / 2 + 1)) * P;
                    let hint = if rng.below(2) == 0 {
                        0
                    } else {
                        BASE + rng.below(PAGES) * P
                    };
                    let len = count * P;
                    let free = |a: u64| model_pages(&model, a, a + len).is_empty();
                    let fits = |a: u64| a >= floor && a + len <= ceiling && free(a);
                    let expected = if hint != 0 && fits(hint) {
                        Some(hint)
                    } else {
                        (floor..=ceiling.saturating_sub(len))
                            .rev()
                            .step_by(P as usize)
                            .find(|&a| fits(a))
                    };
                    assert_eq!(s.find_free(len, hint, floor, ceiling), expected);
                }
                5 => {
                    let addr = BASE + rng.below(PAGES * P);
                    let want = model[page(addr)];
                    assert_eq!(s.lookup(addr).map(|r| (r.prot, r.kind)), want);
                }
                _ => {
                    // brk to a random byte address around the heap, or a query.
                    let requested = match rng.below(4) {
                        0 => 0,
                        _ => brk_start - 2 * P + rng.below((PAGES - 30) * P),
                    };
                    let (got, change) = brk.set(requested, &mut s);
                    let up = |a: u64| a.div_ceil(P) * P;
                    let (old_end, new_end) = (up(model_brk), up(requested));
                    let accepted = if requested < brk_start || requested > brk.limit {
                        false
                    } else if new_end <= old_end {
                        model[page(new_end)..page(old_end)].fill(None);
                        true
                    } else if model_pages(&model, old_end, new_end + P).is_empty() {
                        model[page(old_end)..page(new_end)].fill(Some((RW, Kind::AnonPrivate)));
                        true
                    } else {
                        false
                    };
                    if accepted {
                        model_brk = requested;
                    }
                    assert_eq!(got, model_brk);
                    assert_eq!(brk.current, model_brk);
                    let expected_change = match new_end.cmp(&old_end) {
                        _ if !accepted => BrkChange::None,
                        core::cmp::Ordering::Equal => BrkChange::None,
                        core::cmp::Ordering::Less => BrkChange::Unmap {
                            start: new_end,
                            len: old_end - new_end,
                        },
                        core::cmp::Ordering::Greater => BrkChange::Map {
                            start: old_end,
                            len: new_end - old_end,
                        },
                    };
                    assert_eq!(change, expected_change);
                }
            }
            audit(&s, &model);
        }
    }
}
