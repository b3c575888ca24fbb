//! Model-based randomized test: thousands of random inserts (all three policies), unmaps,
//! protects, in-place growths and gap searches on a small address space, each checked against a
//! plain per-page array saying which backing page and protection every virtual page has.
//!
//! The model knows nothing of regions. After every step the map must equal the model's maximal
//! runs of continuing pages (same backing, same protection, offsets counting up by one page),
//! which is at once "right contents", "sorted and non-overlapping" and "fully merged"; the map's
//! own `audit` must pass; `find` must agree with the model on every page; and `total_mapped` must
//! count the model's mapped pages. Each operation's result (placement, displaced or removed pieces,
//! errors) is predicted from the model before the map is asked.

mod common;

use std::collections::BTreeMap;

use common::{Obj, Row, pg, r, rows_of};
use k42_vm::{Bounds, Policy, Prot, RegionMap, VRange, VmError};

/// Seeds for independent runs.
const SEEDS: [u64; 6] = [1, 0x9e37_79b9_7f4a_7c15, 42, 0xdead_beef, 7, 0x1234_5678];
/// Operations per run.
const STEPS: usize = 5_000;
/// The map's window, in pages: small, so operations collide all the time.
const MIN_PAGE: u64 = 2;
const TOP_PAGE: u64 = 62;
/// Operations start anywhere in `0..START_SPAN` pages, a little past both ends of the window,
/// so out-of-bounds requests happen too.
const START_SPAN: u64 = TOP_PAGE + 2;
/// Longest operation, in pages.
const MAX_PAGES: u64 = 10;
/// Pages the model tracks: everything an operation can touch.
const SPAN: u64 = START_SPAN + MAX_PAGES;
/// Backing objects in play: few, so neighbours share one often.
const OBJECTS: u64 = 3;
/// Backing offsets drawn at random stay below this many pages.
const MAX_OFFSET_PAGE: u64 = 16;
/// Protections in play.
const PROTS: [Prot; 4] = [Prot::NONE, Prot::READ, Prot::RW, Prot::RX];
/// Operation mix: cumulative upper bounds in percent.
const FIXED_BELOW: u64 = 25;
const NO_REPLACE_BELOW: u64 = 35;
const HINT_BELOW: u64 = 45;
const UNMAP_BELOW: u64 = 65;
const PROTECT_BELOW: u64 = 87;
const GROW_BELOW: u64 = 95;
const PERCENT: u64 = 100;
/// Most pages an in-place growth adds.
const MAX_GROWTH: u64 = 4;
/// Every operation outcome must be seen at least this often over all seeds.
const MIN_SEEN: u64 = 20;

/// xorshift64: tiny, deterministic, good enough to drive a model test.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Zero is xorshift's one fixed point; any other seed works.
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn coin(&mut self) -> bool {
        self.below(2) == 0
    }
}

/// What one virtual page maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Page {
    obj: Obj,
    /// Page number in the object.
    off: u64,
    prot: Prot,
}

struct World {
    map: RegionMap<Obj>,
    /// Index = virtual page number.
    model: Vec<Option<Page>>,
    rng: Rng,
    /// How often each outcome happened, to show every path ran.
    seen: BTreeMap<&'static str, u64>,
}

const fn window() -> Bounds {
    Bounds {
        min: pg(MIN_PAGE),
        top: pg(TOP_PAGE),
    }
}

fn in_window(first: u64, pages: u64) -> bool {
    MIN_PAGE <= first && first + pages <= TOP_PAGE
}

/// Maximal runs of continuing pages in `model[from..to]`, as rows: what the regions (trimmed to
/// that span) must be.
fn runs(model: &[Option<Page>], from: u64, to: u64) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for p in from..to {
        let Some(page) = model[p as usize] else {
            continue;
        };
        if let Some(last) = out.last_mut() {
            let (first, len, prot, obj, off) = *last;
            if first + len == p && prot == page.prot && obj == page.obj && off + len == page.off {
                last.1 += 1;
                continue;
            }
        }
        out.push((p, 1, page.prot, page.obj, page.off));
    }
    out
}

/// The run containing page `p`, which must be mapped.
fn run_at(model: &[Option<Page>], p: u64) -> Row {
    *runs(model, 0, SPAN)
        .iter()
        .find(|row| row.0 <= p && p < row.0 + row.1)
        .expect("page is mapped")
}

/// Highest start of `pages` free pages inside `[floor, ceiling)`, as the top-down search must find.
fn model_gap(model: &[Option<Page>], pages: u64, floor: u64, ceiling: u64) -> Option<u64> {
    (floor..=ceiling.checked_sub(pages)?)
        .rev()
        .find(|&s| (s..s + pages).all(|p| model[p as usize].is_none()))
}

impl World {
    fn new(seed: u64) -> World {
        World {
            map: RegionMap::new(window()),
            model: vec![None; SPAN as usize],
            rng: Rng::new(seed),
            seen: BTreeMap::new(),
        }
    }

    fn saw(&mut self, what: &'static str) {
        *self.seen.entry(what).or_default() += 1;
    }

    /// A random operation range as `(first page, pages)`.
    fn pick_range(&mut self) -> (u64, u64) {
        (self.rng.below(START_SPAN), 1 + self.rng.below(MAX_PAGES))
    }

    /// A random existing region as `(first page, pages)`, if any.
    fn pick_region(&mut self) -> Option<(u64, u64)> {
        let count = self.map.len() as u64;
        if count == 0 {
            return None;
        }
        let region = self.map.iter().nth(self.rng.below(count) as usize)?;
        Some((region.range.start() / pg(1), region.range.pages()))
    }

    fn pick_prot(&mut self) -> Prot {
        PROTS[self.rng.below(PROTS.len() as u64) as usize]
    }

    /// Backing and offset page for a new mapping at `first`: half the time the offset equals the
    /// page number, so neighbouring maps of one object continue and must merge.
    fn pick_backing(&mut self, first: u64) -> (Obj, u64) {
        let obj = 1 + self.rng.below(OBJECTS) as Obj;
        let off = if self.rng.coin() {
            first
        } else {
            self.rng.below(MAX_OFFSET_PAGE)
        };
        (obj, off)
    }

    fn fill(&mut self, first: u64, pages: u64, prot: Prot, obj: Obj, off: u64) {
        for i in 0..pages {
            self.model[(first + i) as usize] = Some(Page {
                obj,
                off: off + i,
                prot,
            });
        }
    }

    fn is_free(&self, first: u64, pages: u64) -> bool {
        (first..first + pages).all(|p| self.model[p as usize].is_none())
    }

    fn step(&mut self) {
        let roll = self.rng.below(PERCENT);
        if roll < FIXED_BELOW {
            self.fixed();
        } else if roll < NO_REPLACE_BELOW {
            self.no_replace();
        } else if roll < HINT_BELOW {
            self.hint();
        } else if roll < UNMAP_BELOW {
            self.unmap();
        } else if roll < PROTECT_BELOW {
            self.protect();
        } else if roll < GROW_BELOW {
            self.grow();
        } else {
            self.gap();
        }
        self.check();
    }

    fn fixed(&mut self) {
        let (first, pages) = self.pick_range();
        let (obj, off) = self.pick_backing(first);
        let prot = self.pick_prot();
        let range = r(first, pages);
        let got = self.map.insert(range, prot, obj, pg(off), Policy::Fixed);
        if !in_window(first, pages) {
            assert_eq!(got, Err(out_of_bounds(range)));
            self.saw("fixed: out of bounds");
            return;
        }
        let expected = runs(&self.model, first, first + pages);
        let mapped = got.expect("fixed map in bounds");
        assert_eq!(mapped.range, range);
        assert_eq!(rows_of(&mapped.displaced), expected, "displaced pieces");
        self.saw(if expected.is_empty() {
            "fixed: into a hole"
        } else {
            "fixed: displacing"
        });
        self.fill(first, pages, prot, obj, off);
    }

    fn no_replace(&mut self) {
        let (first, pages) = self.pick_range();
        let (obj, off) = self.pick_backing(first);
        let prot = self.pick_prot();
        let range = r(first, pages);
        let got = self
            .map
            .insert(range, prot, obj, pg(off), Policy::FixedNoReplace);
        if !in_window(first, pages) {
            assert_eq!(got, Err(out_of_bounds(range)));
            self.saw("no-replace: out of bounds");
        } else if let Some(p) = (first..first + pages).find(|&p| self.model[p as usize].is_some()) {
            let (start, len, ..) = run_at(&self.model, p);
            assert_eq!(
                got,
                Err(VmError::Exists {
                    range,
                    occupied: r(start, len)
                })
            );
            self.saw("no-replace: exists");
        } else {
            let mapped = got.expect("no-replace map into a hole");
            assert_eq!(mapped.range, range);
            assert!(mapped.displaced.is_empty());
            self.fill(first, pages, prot, obj, off);
            self.saw("no-replace: mapped");
        }
    }

    fn hint(&mut self) {
        let (mut first, pages) = self.pick_range();
        if self.rng.coin() {
            first = 0; // no preference
        }
        let below = if self.rng.coin() {
            u64::MAX
        } else {
            pg(self.rng.below(SPAN))
        };
        let (obj, off) = self.pick_backing(first);
        let prot = self.pick_prot();
        let got = self
            .map
            .insert(r(first, pages), prot, obj, pg(off), Policy::Hint { below });
        let ceiling = (below / pg(1)).min(TOP_PAGE);
        let (expected, what) =
            if first != 0 && in_window(first, pages) && self.is_free(first, pages) {
                (Some(first), "hint: as asked")
            } else if let Some(s) = model_gap(&self.model, pages, MIN_PAGE, ceiling) {
                (Some(s), "hint: below the ceiling")
            } else if let Some(s) = model_gap(&self.model, pages, MIN_PAGE, TOP_PAGE) {
                (Some(s), "hint: above the ceiling")
            } else {
                (None, "hint: no space")
            };
        self.saw(what);
        match expected {
            Some(s) => {
                let mapped = got.expect("hinted map with room");
                assert_eq!(mapped.range, r(s, pages), "{what}");
                assert!(mapped.displaced.is_empty());
                self.fill(s, pages, prot, obj, off);
            }
            None => assert_eq!(got, Err(VmError::NoSpace { len: pg(pages) })),
        }
    }

    fn unmap(&mut self) {
        let (first, pages) = self.pick_range();
        let expected = runs(&self.model, first, first + pages);
        let removed = self.map.unmap(r(first, pages));
        assert_eq!(rows_of(&removed), expected, "removed pieces");
        self.saw(if expected.is_empty() {
            "unmap: hole"
        } else {
            "unmap: removed"
        });
        for p in first..first + pages {
            self.model[p as usize] = None;
        }
    }

    fn protect(&mut self) {
        // Half the time, protect inside one mapped run so the success path is common.
        let (first, pages) = match self.pick_region() {
            Some((start, len)) if self.rng.coin() => {
                let first = start + self.rng.below(len);
                (first, 1 + self.rng.below(start + len - first))
            }
            _ => self.pick_range(),
        };
        let prot = self.pick_prot();
        let got = self.map.protect(r(first, pages), prot);
        match (first..first + pages).find(|&p| self.model[p as usize].is_none()) {
            Some(p) => {
                assert_eq!(got, Err(VmError::NotMapped { addr: pg(p) }));
                self.saw("protect: not mapped");
            }
            None => {
                assert_eq!(got, Ok(()));
                for p in first..first + pages {
                    if let Some(page) = &mut self.model[p as usize] {
                        page.prot = prot;
                    }
                }
                self.saw("protect: done");
            }
        }
    }

    fn grow(&mut self) {
        // Mostly the tail of a real region, sometimes any range (which should mostly fail).
        let (first, pages) = match self.pick_region() {
            Some((start, len)) if self.rng.below(4) != 0 => {
                let end = start + len;
                let tail = 1 + self.rng.below(len);
                (end - tail, tail)
            }
            _ => self.pick_range(),
        };
        let new_pages = pages + 1 + self.rng.below(MAX_GROWTH);
        let grown = self.map.grow_in_place(r(first, pages), pg(new_pages));
        let end = first + pages;
        let expected = self.model[first as usize].is_some() && {
            let (start, len, ..) = run_at(&self.model, first);
            start + len == end
                && first + new_pages <= TOP_PAGE
                && self.is_free(end, first + new_pages - end)
        };
        assert_eq!(grown, expected, "grow {first}+{pages} to {new_pages} pages");
        if grown {
            let last = self.model[(end - 1) as usize].expect("tail page mapped");
            self.fill(
                end,
                first + new_pages - end,
                last.prot,
                last.obj,
                last.off + 1,
            );
            self.saw("grow: grown");
        } else {
            self.saw("grow: refused");
        }
    }

    fn gap(&mut self) {
        let pages = 1 + self.rng.below(MAX_PAGES);
        // Sometimes a narrower window than the map's own.
        let (lo, hi) = if self.rng.coin() {
            (0, u64::MAX)
        } else {
            let a = self.rng.below(SPAN);
            let b = self.rng.below(SPAN);
            (pg(a.min(b)), pg(a.max(b)))
        };
        let below = pg(self.rng.below(SPAN + 1));
        let got = self
            .map
            .free_gap(pg(pages), Bounds { min: lo, top: hi }, below);
        let floor = (lo / pg(1)).max(MIN_PAGE);
        let ceiling = (hi / pg(1)).min(TOP_PAGE).min(below / pg(1));
        let expected = model_gap(&self.model, pages, floor, ceiling).map(|s| r(s, pages));
        assert_eq!(
            got, expected,
            "free_gap of {pages} pages in [{floor}, {ceiling})"
        );
        self.saw(if expected.is_some() {
            "gap: found"
        } else {
            "gap: none"
        });
    }

    /// The map against the model, after every step.
    fn check(&self) {
        self.map.audit().expect("map invariants");
        let got: Vec<Row> = self.map.iter().map(common::row).collect();
        assert_eq!(got, runs(&self.model, 0, SPAN), "regions vs model");
        let mapped = self.model.iter().filter(|p| p.is_some()).count() as u64;
        assert_eq!(self.map.total_mapped(), pg(mapped));
        for p in 0..SPAN {
            // Probe the middle of the page: lookups must not depend on the byte within it.
            let addr = pg(p) + pg(1) / 2;
            let found = self.map.find(addr);
            match self.model[p as usize] {
                None => assert!(found.is_none(), "page {p} should be unmapped"),
                Some(page) => {
                    let region = found.expect("mapped page found");
                    assert_eq!(region.backing, page.obj);
                    assert_eq!(region.prot, page.prot);
                    assert_eq!(region.page_offset(addr), Some(pg(page.off)));
                }
            }
        }
    }
}

fn out_of_bounds(range: VRange) -> VmError {
    VmError::OutOfBounds {
        range,
        bounds: window(),
    }
}

#[test]
fn random_operations_match_the_page_model() {
    let mut seen: BTreeMap<&'static str, u64> = BTreeMap::new();
    for seed in SEEDS {
        let mut world = World::new(seed);
        for _ in 0..STEPS {
            world.step();
        }
        for (what, n) in world.seen {
            *seen.entry(what).or_default() += n;
        }
    }
    let outcomes = [
        "fixed: out of bounds",
        "fixed: into a hole",
        "fixed: displacing",
        "no-replace: out of bounds",
        "no-replace: exists",
        "no-replace: mapped",
        "hint: as asked",
        "hint: below the ceiling",
        "hint: above the ceiling",
        "hint: no space",
        "unmap: hole",
        "unmap: removed",
        "protect: not mapped",
        "protect: done",
        "grow: grown",
        "grow: refused",
        "gap: found",
        "gap: none",
    ];
    for what in outcomes {
        let n = seen.get(what).copied().unwrap_or(0);
        assert!(
            n >= MIN_SEEN,
            "outcome {what:?} seen only {n} times: {seen:?}"
        );
    }
}
