//! The nodes of the tree (FCMs) and their ids, kinds and states.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

/// Names one node of a [`Cow`](crate::Cow) tree.
///
/// An id is an arena slot plus the slot's incarnation; a deleted node's slot is reused with a new
/// incarnation, so an old id never names a newer node: it reads as [`State::Deleted`]. (This is
/// the model's stand-in for the kernel's deferred deletion, where a node's memory outlives every
/// search that may still hold a pointer to it.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    pub(crate) index: u32,
    pub(crate) incarnation: u32,
}

impl NodeId {
    /// The arena slot, for logs and statistics (not unique over time).
    pub const fn slot(self) -> u32 {
        self.index
    }
}

/// What a node is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A process's FCM: a region maps it; it never has children; its pages are its own and
    /// writable.
    Leaf,
    /// A node made by a fork: it holds pages shared by its descendants, read-only to them.
    Interior,
}

/// A node's life cycle, as a fault search sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// In the tree; searches look at its pages.
    Live,
    /// The node whose pages are moving out in a collapse that has begun. A search that meets it
    /// restarts from its leaf.
    Collapsing,
    /// Gone (exited, freed when childless, or merged away by a collapse). A search that meets it
    /// restarts; every operation on it fails with [`CowError::NoSuchNode`](crate::CowError).
    Deleted,
}

/// One FCM. Everything here is what the kernel's per-node lock protects.
#[derive(Debug)]
pub(crate) struct Node<F> {
    pub kind: Kind,
    /// `Live` or `Collapsing`; a deleted node is not stored.
    pub state: State,
    /// Bumped whenever a frame leaves the node or is replaced in it, and when it starts
    /// collapsing: a fault that found its page here commits only if this is unchanged.
    pub generation: u64,
    pub parent: Option<NodeId>,
    pub children: Vec<NodeId>,
    /// Page index in the memory object → frame.
    pub pages: BTreeMap<u64, F>,
    /// Pages this node shows as zero whatever its ancestors hold (a leaf's discarded range,
    /// carried up by forks and collapses): a search that reaches such a page here stops with a
    /// zero fill. Never a page `pages` holds (a page put in the node leaves this set).
    pub hidden: BTreeSet<u64>,
    /// Taking part (either side) in a collapse that has begun and not finished.
    pub in_collapse: bool,
}

impl<F> Node<F> {
    pub fn new(kind: Kind, parent: Option<NodeId>) -> Self {
        Self {
            kind,
            state: State::Live,
            generation: 0,
            parent,
            children: Vec::new(),
            pages: BTreeMap::new(),
            hidden: BTreeSet::new(),
            in_collapse: false,
        }
    }
}

impl<F> Node<F> {
    /// Puts `frame` in as page `page` (no longer hidden here); returns the frame it replaced.
    pub fn put(&mut self, page: u64, frame: F) -> Option<F> {
        self.hidden.remove(&page);
        self.pages.insert(page, frame)
    }
}

/// An arena slot: the node, if any, and how many nodes it has held before.
#[derive(Debug)]
pub(crate) struct Slot<F> {
    pub incarnation: u32,
    pub node: Option<Node<F>>,
}
