//! Helpers shared by the host tests: a frame store that remembers every frame's contents and
//! catches use after free, whole faults that read or write a value, and a small xorshift.
#![allow(dead_code)] // each test binary uses a different part of the helpers

use std::collections::BTreeMap;

use k42_cow::{Access, Collapse, Cow, Fault, Frames, NodeId};

/// A frame: a number the store hands out, never reused.
pub type Frame = u64;

/// The test's page manager: each live frame holds one value (a page's whole contents).
#[derive(Debug, Default)]
pub struct Store {
    next: Frame,
    contents: BTreeMap<Frame, u64>,
    pub allocs: u64,
    pub frees: u64,
}

impl Store {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value in a live frame; panics on a freed one.
    pub fn value(&self, frame: Frame) -> u64 {
        *self
            .contents
            .get(&frame)
            .unwrap_or_else(|| panic!("frame {frame} used after it was freed"))
    }

    /// Stores a value into a live frame.
    pub fn write(&mut self, frame: Frame, value: u64) {
        let slot = self
            .contents
            .get_mut(&frame)
            .unwrap_or_else(|| panic!("frame {frame} written after it was freed"));
        *slot = value;
    }

    pub fn is_live(&self, frame: Frame) -> bool {
        self.contents.contains_key(&frame)
    }

    /// Frames allocated and not yet freed.
    pub fn live(&self) -> usize {
        self.contents.len()
    }

    fn fresh(&mut self, value: u64) -> Frame {
        let frame = self.next;
        self.next += 1;
        self.allocs += 1;
        self.contents.insert(frame, value);
        frame
    }
}

impl Frames<Frame> for Store {
    fn zeroed(&mut self) -> Option<Frame> {
        Some(self.fresh(0))
    }

    fn copy_of(&mut self, from: Frame) -> Option<Frame> {
        let value = self.value(from);
        Some(self.fresh(value))
    }

    fn free(&mut self, frame: Frame) {
        assert!(
            self.contents.remove(&frame).is_some(),
            "frame {frame} freed twice"
        );
        self.frees += 1;
    }
}

/// A read fault that must map: the value the leaf sees.
pub fn read(cow: &mut Cow<Frame>, store: &mut Store, leaf: NodeId, page: u64) -> u64 {
    match cow
        .fault(leaf, page, Access::Read, store)
        .expect("read fault")
    {
        Fault::Mapped { frame, .. } => store.value(frame),
        Fault::Restart => panic!("read of page {page} restarted with no collapse running"),
    }
}

/// A write fault that must map writable; stores `value`. Returns the frame written.
pub fn write(
    cow: &mut Cow<Frame>,
    store: &mut Store,
    leaf: NodeId,
    page: u64,
    value: u64,
) -> Frame {
    match cow
        .fault(leaf, page, Access::Write, store)
        .expect("write fault")
    {
        Fault::Mapped { frame, writable } => {
            assert!(writable, "a write fault mapped read-only");
            store.write(frame, value);
            frame
        }
        Fault::Restart => panic!("write of page {page} restarted with no collapse running"),
    }
}

/// What the leaf sees at `page` without faulting (0 where nothing holds it).
pub fn seen(cow: &Cow<Frame>, store: &Store, leaf: NodeId, page: u64) -> u64 {
    cow.peek(leaf, page)
        .expect("a live leaf")
        .map_or(0, |r| store.value(r.frame))
}

/// What the leaf sees at pages `0..pages`.
pub fn view(cow: &Cow<Frame>, store: &Store, leaf: NodeId, pages: u64) -> Vec<u64> {
    view_during(cow, store, leaf, pages, None)
}

/// [`seen`] with a collapse in progress (its page in transit counted where it logically is).
pub fn seen_during(
    cow: &Cow<Frame>,
    store: &Store,
    leaf: NodeId,
    page: u64,
    collapse: Option<&Collapse<Frame>>,
) -> u64 {
    cow.peek_during(leaf, page, collapse)
        .expect("a live leaf")
        .map_or(0, |r| store.value(r.frame))
}

/// [`view`] with a collapse in progress.
pub fn view_during(
    cow: &Cow<Frame>,
    store: &Store,
    leaf: NodeId,
    pages: u64,
    collapse: Option<&Collapse<Frame>>,
) -> Vec<u64> {
    (0..pages)
        .map(|p| seen_during(cow, store, leaf, p, collapse))
        .collect()
}

/// Hands every reclaimable parked frame back to the store; returns how many.
pub fn reclaim(cow: &mut Cow<Frame>, store: &mut Store) -> usize {
    cow.reclaim(|frame| store.free(frame))
}

/// The frame holding `page` in node `id` itself, if it holds it.
pub fn own(cow: &Cow<Frame>, id: NodeId, page: u64) -> Option<Frame> {
    cow.pages(id)
        .expect("a live node")
        .find(|(p, _)| *p == page)
        .map(|(_, f)| *f)
}

/// xorshift64*: small, deterministic, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Zero is xorshift's one fixed point; any other seed works.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-enough in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}
