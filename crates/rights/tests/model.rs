//! Randomized model test: random operations on an `XObjectTable` and on a plain map of every handle
//! ever issued, compared step by step. The model is written from the rules in `DESIGN.md` §2.2, not
//! from the table's code, so the two can only agree if the table implements them.

use std::collections::HashMap;

use k42_rights::{Badge, Rights, RightsError, XHandle, XObjectTable};

/// Seeds for independent runs.
const SEEDS: [u64; 8] = [
    1,
    0x9e37_79b9_7f4a_7c15,
    42,
    0xdead_beef,
    7,
    0x1234_5678_9abc_def0,
    99,
    0xfeed_face,
];
/// Operations per run.
const STEPS: usize = 4_000;
/// Processes in play: few, so badges collide with match_pids often.
const BADGES: u64 = 4;
/// Rights bits in play: the four named ones and two object-defined ones.
const RIGHT_BITS: [Rights; 6] = [
    Rights::READ,
    Rights::WRITE,
    Rights::CONTROL,
    Rights::DESTROY,
    Rights::object(0),
    Rights::object(1),
];
/// Operation mix, in percent of steps: cumulative upper bounds of each kind, drawn below 100.
/// Process death is rare because it empties a quarter of the table at once.
const INSERT_BELOW: u64 = 30;
const LOOKUP_BELOW: u64 = 65;
const GIVE_BELOW: u64 = 80;
const RELEASE_BELOW: u64 = 97;
const PERCENT: u64 = 100;
/// Handle mix, likewise: live, then any issued (mostly released), then forged.
const PICK_LIVE_BELOW: u64 = 70;
const PICK_ISSUED_BELOW: u64 = 90;
/// Forged handles range over a few more slots and sequence numbers than the table reaches.
const FORGED_INDICES: u64 = 32;
const FORGED_SEQS: u64 = 4;
/// Slot limit, small enough that `TableFull` happens.
const LIMIT: u32 = 24;

/// xorshift64*: tiny, deterministic, good enough to drive a model test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn badge(&mut self) -> Badge {
        Badge(self.below(BADGES))
    }
    /// Each right in play with probability 1/`one_in`.
    fn rights_one_in(&mut self, one_in: u64) -> Rights {
        RIGHT_BITS
            .iter()
            .filter(|_| self.below(one_in) == 0)
            .fold(Rights::empty(), |acc, &r| acc | r)
    }
    /// A grant: each right even odds.
    fn rights(&mut self) -> Rights {
        self.rights_one_in(2)
    }
    /// A need: sparser than grants, so both allowed and refused calls are common.
    fn need(&mut self) -> Rights {
        self.rights_one_in(4)
    }
}

/// What the model remembers of an issued handle.
#[derive(Clone, Debug)]
struct Entry {
    target: u64,
    match_pid: Badge,
    matched: Rights,
    unmatched: Rights,
    given_by: Option<Badge>,
    live: bool,
}

impl Entry {
    fn allows(&self, badge: Badge, need: Rights) -> bool {
        let subset = |set: Rights| need.bits() & !set.bits() == 0;
        (badge == self.match_pid && subset(self.matched)) || subset(self.unmatched)
    }
}

struct Model {
    entries: HashMap<XHandle, Entry>,
    issued: Vec<XHandle>,
    next_target: u64,
    seen: Seen,
}

/// Outcomes seen, so the test proves it exercised every branch rather than passing vacuously.
#[derive(Default, Debug)]
struct Seen {
    allowed: usize,
    lacking: usize,
    stale: usize,
    no_such: usize,
    given: usize,
    table_full: usize,
    not_holder: usize,
    released: usize,
    died: usize,
}

impl Seen {
    fn note_refusal(&mut self, e: RightsError) {
        match e {
            RightsError::Stale(_) => self.stale += 1,
            RightsError::NoSuchHandle(_) => self.no_such += 1,
            RightsError::Lacking { .. } => self.lacking += 1,
            RightsError::NotHolder => self.not_holder += 1,
            RightsError::TableFull => self.table_full += 1,
        }
    }

    fn all_branches(&self) -> bool {
        [
            self.allowed,
            self.lacking,
            self.stale,
            self.no_such,
            self.given,
            self.table_full,
            self.not_holder,
            self.released,
            self.died,
        ]
        .iter()
        .all(|&n| n > 0)
    }
}

impl Model {
    /// The error the table must give for `handle`, if it is not live.
    fn refusal(&self, handle: XHandle) -> Option<RightsError> {
        match self.entries.get(&handle) {
            Some(e) if e.live => None,
            Some(_) => Some(RightsError::Stale(handle)),
            // Sequence numbers of a slot are consecutive, so a handle never issued is above the
            // slot's newest: nothing, not stale.
            None => Some(RightsError::NoSuchHandle(handle)),
        }
    }

    fn live(&self) -> usize {
        self.entries.values().filter(|e| e.live).count()
    }

    /// A live handle most of the time, a released or forged one sometimes.
    fn pick(&self, rng: &mut Rng) -> XHandle {
        let live: Vec<_> = self
            .issued
            .iter()
            .filter(|h| self.entries[*h].live)
            .collect();
        let choose = |rng: &mut Rng, from: &[XHandle]| from[rng.below(from.len() as u64) as usize];
        match rng.below(PERCENT) {
            ..PICK_LIVE_BELOW if !live.is_empty() => *live[rng.below(live.len() as u64) as usize],
            PICK_LIVE_BELOW..PICK_ISSUED_BELOW if !self.issued.is_empty() => {
                choose(rng, &self.issued)
            }
            _ => XHandle::from_word(rng.below(FORGED_INDICES) | (rng.below(FORGED_SEQS) << 32)),
        }
    }

    fn record_new(&mut self, table: &XObjectTable<u64>, handle: XHandle, entry: Entry) {
        assert!(!self.entries.contains_key(&handle), "{handle} issued twice");
        assert_eq!(table.get(handle).unwrap().target, entry.target);
        self.entries.insert(handle, entry);
        self.issued.push(handle);
    }
}

fn step(rng: &mut Rng, table: &mut XObjectTable<u64>, model: &mut Model) {
    match rng.below(PERCENT) {
        ..INSERT_BELOW => {
            let (match_pid, matched, unmatched) = (rng.badge(), rng.rights(), rng.rights());
            let target = model.next_target;
            model.next_target += 1;
            match table.insert(target, match_pid, matched, unmatched) {
                Ok(h) => model.record_new(
                    table,
                    h,
                    Entry {
                        target,
                        match_pid,
                        matched,
                        unmatched,
                        given_by: None,
                        live: true,
                    },
                ),
                Err(e) => {
                    assert_eq!(e, RightsError::TableFull);
                    model.seen.note_refusal(e);
                    assert!(model.live() > 0 && table.len() == model.live());
                }
            }
        }
        INSERT_BELOW..LOOKUP_BELOW => {
            let (h, badge, need) = (model.pick(rng), rng.badge(), rng.need());
            let got = table.lookup(h, badge, need).map(|o| o.target);
            match model.refusal(h) {
                Some(e) => {
                    assert_eq!(got, Err(e));
                    model.seen.note_refusal(e);
                }
                None => {
                    let e = &model.entries[&h];
                    if e.allows(badge, need) {
                        assert_eq!(got, Ok(e.target));
                        model.seen.allowed += 1;
                    } else {
                        let Err(RightsError::Lacking { badge_matched, .. }) = got else {
                            panic!("expected lacking, got {got:?}");
                        };
                        assert_eq!(badge_matched, badge == e.match_pid);
                        model.seen.lacking += 1;
                    }
                }
            }
        }
        LOOKUP_BELOW..GIVE_BELOW => {
            let (h, giver, to, rights) = (model.pick(rng), rng.badge(), rng.badge(), rng.rights());
            let got = table.give_access(h, giver, to, rights);
            if let Some(e) = model.refusal(h) {
                assert_eq!(got, Err(e));
                return;
            }
            let old = model.entries[&h].clone();
            match got {
                Ok(new) => {
                    assert!(old.allows(giver, Rights::CONTROL));
                    let matched = if giver == old.match_pid {
                        old.matched & rights
                    } else {
                        Rights::empty()
                    };
                    let entry = Entry {
                        match_pid: to,
                        matched,
                        unmatched: old.unmatched & rights,
                        given_by: Some(giver),
                        ..old
                    };
                    let obj = table.get(new).unwrap();
                    assert_eq!(
                        (obj.match_pid(), obj.matched(), obj.unmatched()),
                        (entry.match_pid, entry.matched, entry.unmatched)
                    );
                    model.record_new(table, new, entry);
                    model.seen.given += 1;
                }
                Err(RightsError::TableFull) => assert!(old.allows(giver, Rights::CONTROL)),
                Err(_) => assert!(!old.allows(giver, Rights::CONTROL)),
            }
        }
        GIVE_BELOW..RELEASE_BELOW => {
            let (h, badge) = (model.pick(rng), rng.badge());
            let got = table.release(h, badge).map(|o| o.target);
            if let Some(e) = model.refusal(h) {
                assert_eq!(got, Err(e));
                return;
            }
            let entry = model.entries.get_mut(&h).unwrap();
            if badge == entry.match_pid || entry.given_by == Some(badge) {
                assert_eq!(got, Ok(entry.target));
                entry.live = false;
                model.seen.released += 1;
            } else {
                assert_eq!(got, Err(RightsError::NotHolder));
                model.seen.note_refusal(RightsError::NotHolder);
            }
        }
        _ => {
            let badge = rng.badge();
            let mut expected = 0;
            for e in model.entries.values_mut() {
                if e.live && e.match_pid == badge {
                    e.live = false;
                    expected += 1;
                }
            }
            assert_eq!(table.release_all_for(badge), expected);
            model.seen.died += expected;
        }
    }
}

fn check_contents(table: &XObjectTable<u64>, model: &Model) {
    assert_eq!(table.len(), model.live());
    for (h, obj) in table.iter() {
        let e = &model.entries[&h];
        assert!(e.live, "{h} listed but released");
        assert_eq!(obj.target, e.target);
    }
}

#[test]
fn table_matches_model_under_random_operations() {
    let mut seen = Vec::new();
    for seed in SEEDS {
        let mut rng = Rng(seed);
        let mut table = XObjectTable::with_limit(LIMIT);
        let mut model = Model {
            entries: HashMap::new(),
            issued: Vec::new(),
            next_target: 0,
            seen: Seen::default(),
        };
        for _ in 0..STEPS {
            step(&mut rng, &mut table, &mut model);
            check_contents(&table, &model);
        }
        // Every released handle stays stale to the end.
        for (h, e) in &model.entries {
            if !e.live {
                assert_eq!(table.get(*h).unwrap_err(), RightsError::Stale(*h));
            }
        }
        assert!(
            model.seen.all_branches(),
            "seed {seed:#x}: {:?}",
            model.seen
        );
        seen.push(model.seen);
    }
    println!("{seen:#?}");
}
