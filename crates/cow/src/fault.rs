//! Faults: a search up the tree that takes no lock across nodes and restarts when it meets a node
//! being collapsed or deleted, then a commit that validates what the search found.
//!
//! A fault is three steps so the kernel can do the slow part (allocating and copying a frame)
//! between them and so tests can interleave other operations anywhere:
//!
//! 1. [`Cow::search`] registers the search (its epoch keeps every frame it may find from being
//!    reused, see [`Cow::reclaim`]);
//! 2. [`Cow::step`] looks at one node at a time until it returns a [`Plan`];
//! 3. the caller allocates the frame the plan asks for (zeroed, or a copy of the plan's source)
//!    and [`Cow::commit`]s it; the commit either maps or says [`Commit::Retry`].
//!
//! [`Cow::fault`] runs the three at once with a [`Frames`] allocator.

use crate::node::{Kind, NodeId, State};
use crate::{Cow, CowError};

/// The access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load (or an instruction fetch).
    Read,
    /// A store.
    Write,
}

/// What a finished search asks of the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan<F> {
    /// Map this frame: the leaf's own page (`writable`), or an ancestor's page for a read
    /// (read-only: it is shared). No frame to allocate.
    Map {
        /// The frame to map.
        frame: F,
        /// Whether copy-on-write allows writes through the mapping (the kernel also applies the
        /// region's protection).
        writable: bool,
    },
    /// A write to a page an ancestor holds: allocate a frame, copy `from` into it, and commit it;
    /// it becomes the leaf's own page.
    Copy {
        /// The ancestor's frame to copy.
        from: F,
    },
    /// No node holds the page: allocate a zeroed frame and commit it; it becomes the leaf's own
    /// page (for reads too, so a later write needs no second fault on the tree).
    ZeroFill,
}

/// One step of a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<F> {
    /// Looked at a node without the page; the search moved to its parent.
    Continue,
    /// Met a node being collapsed or deleted: the search went back to its leaf and will start
    /// over at the next step (the kernel yields first, as the collapse is someone else's work).
    Restarted,
    /// The search is done; this is its plan (repeated by further steps).
    Found(Plan<F>),
    /// The leaf itself is deleted; abandon the search.
    Gone,
}

/// A fault search in flight. It must end in [`Cow::commit`] or [`Cow::abandon`]: until it does,
/// frames that leave the tree are not reclaimed.
#[derive(Debug)]
#[must_use = "a search must be committed or abandoned, or parked frames are never reclaimed"]
pub struct Search<F> {
    leaf: NodeId,
    page: u64,
    access: Access,
    /// The next node to look at.
    at: NodeId,
    epoch: u64,
    /// The leaf's generation when this pass of the search looked at it.
    leaf_generation: u64,
    restarts: u32,
    visited: u32,
    found: Option<Found<F>>,
}

#[derive(Clone, Copy, Debug)]
struct Found<F> {
    /// The node the page was found in and its generation then; `None` for a zero-fill.
    source: Option<(NodeId, u64)>,
    plan: Plan<F>,
}

impl<F> Search<F> {
    /// The faulting leaf.
    pub const fn leaf(&self) -> NodeId {
        self.leaf
    }

    /// The page index faulted on.
    pub const fn page(&self) -> u64 {
        self.page
    }

    /// The access that faulted.
    pub const fn access(&self) -> Access {
        self.access
    }

    /// The node the next step looks at.
    pub const fn at(&self) -> NodeId {
        self.at
    }

    /// How many times the search restarted.
    pub const fn restarts(&self) -> u32 {
        self.restarts
    }

    /// How many nodes the search has looked at, restarts included.
    pub const fn visited(&self) -> u32 {
        self.visited
    }

    /// The node the page was found in, once the search is done (`None` before, and for a
    /// zero-fill).
    pub fn source(&self) -> Option<NodeId> {
        self.found.as_ref().and_then(|f| f.source).map(|(id, _)| id)
    }
}

/// The result of [`Cow::commit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit<F> {
    /// Map this.
    Mapped(Mapping<F>),
    /// What the search found changed before the commit (a fork moved the page, a collapse
    /// began at the node it was found in, the leaf exited): start a new search. `unused` is the
    /// frame the caller passed, never seen by anyone: free it or keep it for the retry.
    Retry {
        /// The frame passed to the commit, if any.
        unused: Option<F>,
    },
}

/// What the kernel maps after a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping<F> {
    /// The frame to map.
    pub frame: F,
    /// Whether copy-on-write allows writes through the mapping.
    pub writable: bool,
    /// The frame the caller passed if it was not needed after all (another fault of the same
    /// leaf put the page there first); never seen by anyone, free it.
    pub unused: Option<F>,
}

/// The result of [`Cow::fault`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault<F> {
    /// Map this frame.
    Mapped {
        /// The frame to map.
        frame: F,
        /// Whether copy-on-write allows writes through the mapping.
        writable: bool,
    },
    /// The search met a node being collapsed or deleted (or the commit found its answer
    /// changed): nothing was done; fault again once the collapse has moved on.
    Restart,
}

/// The frame allocator [`Cow::fault`] uses (the kernel's page manager).
pub trait Frames<F> {
    /// A new zeroed frame, or `None` when memory is out.
    fn zeroed(&mut self) -> Option<F>;
    /// A new frame holding a copy of `from`, or `None` when memory is out.
    fn copy_of(&mut self, from: F) -> Option<F>;
    /// Takes back a frame the tree did not keep.
    fn free(&mut self, frame: F);
}

impl<F: Copy> Cow<F> {
    /// Starts a fault of leaf `leaf` at page `page`.
    pub fn search(
        &mut self,
        leaf: NodeId,
        page: u64,
        access: Access,
    ) -> Result<Search<F>, CowError> {
        if self.get(leaf)?.kind != Kind::Leaf {
            return Err(CowError::NotLeaf);
        }
        let epoch = self.limbo.enter();
        Ok(Search {
            leaf,
            page,
            access,
            at: leaf,
            epoch,
            leaf_generation: 0,
            restarts: 0,
            visited: 0,
            found: None,
        })
    }

    /// Looks at the search's next node (the kernel: lock that node, read, unlock). The first
    /// node holding the page decides: in the leaf, map it writable; in an ancestor, map it
    /// read-only for a read and copy it for a write. No node holds it: zero-fill. A node that is
    /// collapsing or deleted sends the search back to its leaf.
    pub fn step(&mut self, search: &mut Search<F>) -> Step<F> {
        if let Some(found) = search.found {
            return Step::Found(found.plan);
        }
        let at = search.at;
        let Some(node) = self.node(at) else {
            if at == search.leaf {
                return Step::Gone;
            }
            return Self::restart(search);
        };
        if node.state != State::Live {
            return Self::restart(search);
        }
        search.visited += 1;
        if at == search.leaf {
            search.leaf_generation = node.generation;
        }
        if let Some(&frame) = node.pages.get(&search.page) {
            let plan = if at == search.leaf {
                Plan::Map {
                    frame,
                    writable: true,
                }
            } else if search.access == Access::Read {
                Plan::Map {
                    frame,
                    writable: false,
                }
            } else {
                Plan::Copy { from: frame }
            };
            search.found = Some(Found {
                source: Some((at, node.generation)),
                plan,
            });
            return Step::Found(plan);
        }
        match node.parent {
            // A discarded page reads as zero here, as if no ancestor held it.
            Some(parent) if !node.hidden.contains(&search.page) => {
                search.at = parent;
                Step::Continue
            }
            _ => {
                search.found = Some(Found {
                    source: None,
                    plan: Plan::ZeroFill,
                });
                Step::Found(Plan::ZeroFill)
            }
        }
    }

    fn restart(search: &mut Search<F>) -> Step<F> {
        search.at = search.leaf;
        search.restarts += 1;
        Step::Restarted
    }

    /// Ends a search with the frame its plan asked for (`None` for [`Plan::Map`]): the fault's
    /// linearization point (the kernel: under the leaf's lock, reading the source node's
    /// generation, and installing the HAT entry before unlocking).
    ///
    /// The answer stands only if the node the page was found in is still live with the same
    /// generation (no frame has left it, been replaced in it, and no collapse has begun there)
    /// and the leaf's generation is what the search saw (no fork has moved its pages out);
    /// otherwise [`Commit::Retry`]. If the leaf meanwhile got the page itself (another thread's
    /// fault), that page is the answer. A [`Plan::Copy`] or [`Plan::ZeroFill`] frame becomes the
    /// leaf's own page.
    pub fn commit(&mut self, search: Search<F>, new: Option<F>) -> Result<Commit<F>, CowError> {
        self.limbo.leave(search.epoch);
        let Some(found) = search.found else {
            return Ok(Commit::Retry { unused: new });
        };
        let needs_frame = matches!(found.plan, Plan::Copy { .. } | Plan::ZeroFill);
        if needs_frame && new.is_none() {
            return Err(CowError::MissingFrame);
        }
        if let Some((id, generation)) = found.source {
            match self.node(id) {
                Some(n) if n.state == State::Live && n.generation == generation => {}
                _ => return Ok(Commit::Retry { unused: new }),
            }
        }
        let Some(leaf) = self.node_mut(search.leaf) else {
            return Ok(Commit::Retry { unused: new });
        };
        if leaf.generation != search.leaf_generation {
            // A fork moved the leaf's pages out since the search looked at it: a page another
            // thread put in the leaf meanwhile may now be in the new parent, unseen.
            return Ok(Commit::Retry { unused: new });
        }
        if found.source.map(|(id, _)| id) != Some(search.leaf)
            && let Some(&own) = leaf.pages.get(&search.page)
        {
            return Ok(Commit::Mapped(Mapping {
                frame: own,
                writable: true,
                unused: new,
            }));
        }
        match found.plan {
            Plan::Map { frame, writable } => Ok(Commit::Mapped(Mapping {
                frame,
                writable,
                unused: new,
            })),
            Plan::Copy { .. } | Plan::ZeroFill => {
                let frame = new.ok_or(CowError::MissingFrame)?;
                leaf.pages.insert(search.page, frame);
                leaf.hidden.remove(&search.page);
                self.add_frames(1);
                Ok(Commit::Mapped(Mapping {
                    frame,
                    writable: true,
                    unused: None,
                }))
            }
        }
    }

    /// Ends a search without committing it.
    pub fn abandon(&mut self, search: Search<F>) {
        self.limbo.leave(search.epoch);
    }

    /// A whole fault of leaf `leaf` at page `page`: search, allocate from `frames` what the plan
    /// asks, commit. Returns [`Fault::Restart`] without waiting if the search meets a collapse in
    /// progress.
    pub fn fault(
        &mut self,
        leaf: NodeId,
        page: u64,
        access: Access,
        frames: &mut impl Frames<F>,
    ) -> Result<Fault<F>, CowError> {
        let mut search = self.search(leaf, page, access)?;
        let plan = loop {
            match self.step(&mut search) {
                Step::Continue => {}
                Step::Found(plan) => break plan,
                Step::Restarted => {
                    self.abandon(search);
                    return Ok(Fault::Restart);
                }
                Step::Gone => {
                    self.abandon(search);
                    return Err(CowError::NoSuchNode);
                }
            }
        };
        let new = match plan {
            Plan::Map { .. } => None,
            Plan::Copy { from } => frames.copy_of(from),
            Plan::ZeroFill => frames.zeroed(),
        };
        if new.is_none() && !matches!(plan, Plan::Map { .. }) {
            self.abandon(search);
            return Err(CowError::NoMemory);
        }
        match self.commit(search, new)? {
            Commit::Mapped(Mapping {
                frame,
                writable,
                unused,
            }) => {
                if let Some(unused) = unused {
                    frames.free(unused);
                }
                Ok(Fault::Mapped { frame, writable })
            }
            Commit::Retry { unused } => {
                if let Some(unused) = unused {
                    frames.free(unused);
                }
                Ok(Fault::Restart)
            }
        }
    }
}
