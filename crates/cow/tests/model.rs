//! The randomized property test: deterministic random sequences of fork, write, read and exit
//! over several processes, with collapses run at once, later, or step by step while fault
//! searches are in flight, checked after every step against a model holding each live process's
//! whole memory (page → value). Also checked after every step: the tree's invariants, the chain
//! bound, that every frame the store has handed out is held by the tree or parked (no leak), and
//! at the end that every frame came back.

mod common;

use std::collections::BTreeMap;

use common::{Frame, Rng, Store, reclaim, seen_during};
use k42_cow::{
    Access, Collapse, CollapseStep, Commit, Cow, CowError, Fault, Frames, Mapping, NodeId, Plan,
    Search, Step,
};

const PAGES: u64 = 6;
const MAX_PROCS: usize = 7;

struct Proc {
    leaf: NodeId,
    mem: BTreeMap<u64, u64>,
}

/// A search in flight: its process's leaf and, for a write, the value to store.
struct InFlight {
    search: Search<Frame>,
    value: Option<u64>,
}

struct World {
    cow: Cow<Frame>,
    store: Store,
    procs: Vec<Proc>,
    collapse: Option<Collapse<Frame>>,
    searches: Vec<InFlight>,
    next_value: u64,
    longest: usize,
    stats: BTreeMap<&'static str, u64>,
}

impl World {
    fn new() -> Self {
        let mut cow = Cow::new();
        let leaf = cow.create();
        Self {
            cow,
            store: Store::new(),
            procs: vec![Proc {
                leaf,
                mem: BTreeMap::new(),
            }],
            collapse: None,
            searches: Vec::new(),
            next_value: 1,
            longest: 0,
            stats: BTreeMap::new(),
        }
    }

    fn count(&mut self, what: &'static str) {
        *self.stats.entry(what).or_default() += 1;
    }

    fn proc_of(&mut self, leaf: NodeId) -> Option<&mut Proc> {
        self.procs.iter_mut().find(|p| p.leaf == leaf)
    }

    fn value(&mut self) -> u64 {
        self.next_value += 1;
        self.next_value
    }

    /// Checks a mapping a fault of `leaf` got: the frame the leaf sees, live, with the model's
    /// value; stores `value` for a write.
    fn mapped(
        &mut self,
        leaf: NodeId,
        page: u64,
        frame: Frame,
        writable: bool,
        value: Option<u64>,
    ) {
        let seen = self
            .cow
            .peek_during(leaf, page, self.collapse.as_ref())
            .unwrap()
            .expect("a mapped page is held");
        assert_eq!(
            seen.frame, frame,
            "the fault mapped a frame the leaf does not see"
        );
        assert!(self.store.is_live(frame), "mapped a freed frame");
        let proc = self.proc_of(leaf).expect("a live process");
        let expected = proc.mem.get(&page).copied().unwrap_or(0);
        assert_eq!(self.store.value(frame), expected, "read a wrong value");
        if let Some(value) = value {
            assert!(writable && seen.level == 0, "a write mapped a shared page");
            self.store.write(frame, value);
            self.proc_of(leaf).unwrap().mem.insert(page, value);
        }
    }

    fn fork(&mut self, rng: &mut Rng) {
        if self.procs.len() >= MAX_PROCS {
            return;
        }
        let i = rng.below(self.procs.len() as u64) as usize;
        match self.cow.fork(self.procs[i].leaf) {
            Ok(forked) => {
                let mem = self.procs[i].mem.clone();
                self.procs.push(Proc {
                    leaf: forked.child,
                    mem,
                });
                self.count(if forked.adopted {
                    "fork (adopted)"
                } else {
                    "fork (new node)"
                });
            }
            Err(CowError::Busy) => self.count("fork busy"),
            Err(e) => panic!("fork: {e}"),
        }
    }

    fn fault(&mut self, rng: &mut Rng, access: Access) {
        let leaf = self.procs[rng.below(self.procs.len() as u64) as usize].leaf;
        let page = rng.below(PAGES);
        let value = (access == Access::Write).then(|| self.value());
        match self.cow.fault(leaf, page, access, &mut self.store).unwrap() {
            Fault::Mapped { frame, writable } => self.mapped(leaf, page, frame, writable, value),
            Fault::Restart => {
                assert!(
                    self.collapse.is_some(),
                    "a restart with no collapse running"
                );
                self.count("fault restart");
            }
        }
    }

    fn exit(&mut self, rng: &mut Rng) {
        let i = rng.below(self.procs.len() as u64) as usize;
        let leaf = self.procs[i].leaf;
        let result = if rng.chance(1, 2) {
            self.cow.exit(leaf).map(|_| ())
        } else {
            self.cow.release(leaf).map(|_| ())
        };
        match result {
            Ok(()) => {
                self.procs.remove(i);
                self.count("exit");
                if self.procs.is_empty() {
                    let leaf = self.cow.create();
                    self.procs.push(Proc {
                        leaf,
                        mem: BTreeMap::new(),
                    });
                }
            }
            Err(CowError::Busy) => self.count("exit busy"),
            Err(e) => panic!("exit: {e}"),
        }
    }

    /// Discards a random page range of a random process (munmap, exec): it reads zeros after.
    fn discard(&mut self, rng: &mut Rng) {
        let i = rng.below(self.procs.len() as u64) as usize;
        let start = rng.below(PAGES);
        let end = start + 1 + rng.below(PAGES - start);
        let store = &mut self.store;
        match self
            .cow
            .discard(self.procs[i].leaf, start..end, |f| store.free(f))
        {
            Ok(d) => {
                self.procs[i]
                    .mem
                    .retain(|page, _| !(start..end).contains(page));
                self.count("discard");
                if d.hidden > 0 {
                    self.count("discard hid an ancestor's page");
                }
            }
            Err(CowError::Busy) => self.count("discard busy"),
            Err(e) => panic!("discard: {e}"),
        }
    }

    fn collapse_op(&mut self, rng: &mut Rng) {
        if let Some(mut col) = self.collapse.take() {
            if rng.chance(1, 4) {
                self.cow.collapse_finish(col).unwrap();
                self.count("collapse finished");
                return;
            }
            match self.cow.collapse_step(&mut col).unwrap() {
                CollapseStep::Taken { .. } => self.count("collapse page taken"),
                CollapseStep::Moved { .. } => self.count("collapse page moved"),
                CollapseStep::Shadowed { frame, .. } => {
                    assert!(self.store.is_live(frame));
                    self.count("collapse page shadowed");
                }
                CollapseStep::Done => {}
            }
            self.collapse = Some(col);
            return;
        }
        let lone = self.cow.lone_nodes();
        if lone.is_empty() {
            return;
        }
        let node = rng.pick(&lone);
        if rng.chance(1, 3) {
            match self.cow.collapse(node) {
                Ok(_) => self.count("collapse whole"),
                Err(CowError::Busy) => self.count("collapse busy"),
                Err(e) => panic!("collapse: {e}"),
            }
            return;
        }
        match self.cow.collapse_begin(node) {
            Ok(col) => {
                self.count("collapse begun");
                self.collapse = Some(col);
            }
            Err(CowError::Busy) => self.count("collapse busy"),
            Err(e) => panic!("collapse_begin: {e}"),
        }
    }

    fn start_search(&mut self, rng: &mut Rng) {
        if self.searches.len() >= 4 {
            return;
        }
        let leaf = self.procs[rng.below(self.procs.len() as u64) as usize].leaf;
        let access = if rng.chance(1, 2) {
            Access::Read
        } else {
            Access::Write
        };
        let value = (access == Access::Write).then(|| self.value());
        let search = self.cow.search(leaf, rng.below(PAGES), access).unwrap();
        self.searches.push(InFlight { search, value });
    }

    fn step_search(&mut self, rng: &mut Rng) {
        if self.searches.is_empty() {
            return;
        }
        let i = rng.below(self.searches.len() as u64) as usize;
        let step = self.cow.step(&mut self.searches[i].search);
        match step {
            Step::Continue => {}
            Step::Restarted => self.count("search restart"),
            Step::Gone => {
                let gone = self.searches.swap_remove(i);
                self.cow.abandon(gone.search);
                self.count("search gone");
            }
            Step::Found(plan) => {
                // Found: half the time commit now, else leave it for a later step.
                if rng.chance(1, 2) {
                    return;
                }
                let InFlight { search, value } = self.searches.swap_remove(i);
                let leaf = search.leaf();
                let page = search.page();
                let new = match plan {
                    Plan::Map { .. } => None,
                    Plan::Copy { from } => Some(self.store.copy_of(from).unwrap()),
                    Plan::ZeroFill => Some(self.store.zeroed().unwrap()),
                };
                match self.cow.commit(search, new).unwrap() {
                    Commit::Mapped(Mapping {
                        frame,
                        writable,
                        unused,
                    }) => {
                        if let Some(f) = unused {
                            self.store.free(f);
                        }
                        assert!(self.proc_of(leaf).is_some(), "a commit for an exited leaf");
                        self.mapped(leaf, page, frame, writable, value);
                        self.count("search committed");
                    }
                    Commit::Retry { unused } => {
                        if let Some(f) = unused {
                            self.store.free(f);
                        }
                        self.count("search retry");
                    }
                }
            }
        }
    }

    fn check(&mut self) {
        self.cow.check().unwrap();
        for proc in &self.procs {
            for page in 0..PAGES {
                let expected = proc.mem.get(&page).copied().unwrap_or(0);
                assert_eq!(
                    seen_during(
                        &self.cow,
                        &self.store,
                        proc.leaf,
                        page,
                        self.collapse.as_ref()
                    ),
                    expected,
                    "page {page} of a process"
                );
            }
        }
        // Every frame handed out is in the tree or parked: nothing leaks, nothing is freed early.
        assert_eq!(
            self.store.live(),
            self.cow.total_frames() + self.cow.parked_frames(),
            "frame accounting"
        );
        // Each interior node on a path with two or more children has a leaf off the path.
        let bound = self.procs.len() + self.cow.lone_nodes().len();
        for proc in &self.procs {
            let depth = self.cow.depth(proc.leaf).unwrap();
            assert!(depth <= bound, "chain {depth} > {bound}");
            self.longest = self.longest.max(depth);
        }
    }

    fn finish(mut self) -> (usize, BTreeMap<&'static str, u64>) {
        if let Some(col) = self.collapse.take() {
            self.cow.collapse_finish(col).unwrap();
        }
        for s in std::mem::take(&mut self.searches) {
            self.cow.abandon(s.search);
        }
        for proc in std::mem::take(&mut self.procs) {
            self.cow.exit(proc.leaf).unwrap();
        }
        assert_eq!(self.cow.node_count(), 0);
        assert_eq!(self.cow.total_frames(), 0);
        reclaim(&mut self.cow, &mut self.store);
        assert_eq!(self.cow.parked_frames(), 0);
        assert_eq!(self.store.live(), 0, "frames leaked");
        assert_eq!(self.store.allocs, self.store.frees);
        (self.longest, self.stats)
    }
}

#[test]
fn random_fork_write_read_exit_against_a_model_of_every_process() {
    let mut longest = 0;
    let mut totals: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut allocs = 0;
    for seed in 1..=300 {
        let mut rng = Rng::new(seed);
        let mut world = World::new();
        for _ in 0..400 {
            match rng.below(21) {
                0..=1 => world.fork(&mut rng),
                20 => world.discard(&mut rng),
                2..=5 => world.fault(&mut rng, Access::Write),
                6..=7 => world.fault(&mut rng, Access::Read),
                8 => world.exit(&mut rng),
                9..=11 => world.collapse_op(&mut rng),
                12..=13 => world.start_search(&mut rng),
                14..=17 => world.step_search(&mut rng),
                _ => {
                    reclaim(&mut world.cow, &mut world.store);
                }
            }
            world.check();
        }
        allocs += world.store.allocs;
        let (l, stats) = world.finish();
        longest = longest.max(l);
        for (k, v) in stats {
            *totals.entry(k).or_default() += v;
        }
    }
    println!("longest chain seen: {longest}; frames allocated: {allocs}; {totals:?}");
    for what in [
        "fork (adopted)",
        "fork (new node)",
        "collapse page moved",
        "collapse page shadowed",
        "collapse whole",
        "search restart",
        "search retry",
        "search committed",
        "fault restart",
        "discard",
        "discard hid an ancestor's page",
    ] {
        assert!(
            totals.get(what).copied().unwrap_or(0) > 0,
            "never exercised: {what}"
        );
    }
}
