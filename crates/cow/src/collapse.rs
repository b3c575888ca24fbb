//! Fork-chain collapse, step-wise: an interior node left with one child merges with that child,
//! the child's pages winning, so every leaf's view of memory stays what it was.
//!
//! [`Cow::collapse_begin`] marks the side whose pages move out as [`State::Collapsing`] (fault
//! searches that meet it restart) and bumps its generation (faults that already found a page there
//! fail their commit). Each page then moves in two [`Cow::collapse_step`]s, as the kernel moves it
//! holding one node's lock at a time: taken out of the vanishing node, then put into the survivor.
//! While a page is in transit it is in neither node; a search cannot miss it unnoticed because to
//! get past the vanishing node it must have looked at it before the collapse began (and found the
//! page there) or restart. [`Cow::collapse_finish`] moves what is left and relinks the tree.

use alloc::collections::btree_map::Entry;

use crate::node::{Kind, NodeId, State};
use crate::{Cow, CowError};

/// Which way the pages move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The only child is interior: its frames move up into the lone node, which adopts the
    /// child's children and stays; the child is deleted.
    Up,
    /// The only child is a leaf (a process maps it, so it must stay): the lone node's frames move
    /// down into it, filling its holes, and it takes the lone node's place; the lone node is
    /// deleted.
    Down,
}

/// A collapse that has begun. Finish it with [`Cow::collapse_finish`]; until then the two nodes
/// refuse forks, exits and other collapses that would change them ([`CowError::Busy`]).
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a collapse that has begun must be finished"]
pub struct Collapse<F> {
    node: NodeId,
    child: NodeId,
    direction: Direction,
    /// A page taken out of the vanishing node and not yet put into the survivor.
    in_transit: Option<(u64, F)>,
    moved: usize,
    shadowed: usize,
}

impl<F> Collapse<F> {
    /// The interior node that was left with one child.
    pub const fn node(&self) -> NodeId {
        self.node
    }

    /// Its only child.
    pub const fn child(&self) -> NodeId {
        self.child
    }

    /// Which way the pages move.
    pub const fn direction(&self) -> Direction {
        self.direction
    }

    /// Pages moved so far (put into the survivor).
    pub const fn moved(&self) -> usize {
        self.moved
    }

    /// The page taken out of the vanishing node and not yet put into the survivor, if any.
    pub fn in_transit(&self) -> Option<u64> {
        self.in_transit.as_ref().map(|(page, _)| *page)
    }

    pub(crate) fn transit(&self) -> Option<(u64, F)>
    where
        F: Copy,
    {
        self.in_transit
    }

    /// The node whose pages move out and which is deleted at the end (state
    /// [`State::Collapsing`] meanwhile).
    pub const fn vanishing(&self) -> NodeId {
        match self.direction {
            Direction::Up => self.child,
            Direction::Down => self.node,
        }
    }

    /// The node that receives the pages and stays.
    pub const fn survivor(&self) -> NodeId {
        match self.direction {
            Direction::Up => self.node,
            Direction::Down => self.child,
        }
    }
}

/// One step of a collapse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollapseStep<F> {
    /// The vanishing node's lowest page was taken out (the kernel: under that node's lock); the
    /// next step puts it into the survivor.
    Taken {
        /// The page index.
        page: u64,
    },
    /// The page in transit went into the survivor (the kernel: under the survivor's lock).
    Moved {
        /// The page index.
        page: u64,
    },
    /// A page both nodes held: the child's copy stays and the lone node's copy (`frame`) left the
    /// tree. Only the child's subtree could see it and it was shadowed there, so nobody maps it
    /// except through a fault in flight, which fails its commit; it is parked until
    /// [`Cow::reclaim`], and the kernel removes any HAT entry of it in the subtree's leaves.
    Shadowed {
        /// The page index.
        page: u64,
        /// The frame that left the tree.
        frame: F,
    },
    /// No page is left to move; call [`Cow::collapse_finish`].
    Done,
}

/// What a finished collapse did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Collapsed {
    /// The node that stayed (the lone node for [`Direction::Up`], its leaf child for
    /// [`Direction::Down`]).
    pub survivor: NodeId,
    /// The node deleted.
    pub removed: NodeId,
    /// Which way the pages moved.
    pub direction: Direction,
    /// Pages moved, over all steps.
    pub moved: usize,
    /// Frames that left the tree as shadowed copies, over all steps.
    pub frames_freed: usize,
    /// The survivor, if it is itself an interior node left with one child (its child had one):
    /// collapse it next.
    pub lone: Option<NodeId>,
}

impl<F: Copy> Cow<F> {
    /// Begins collapsing interior node `node`, which must have exactly one child. Refused with
    /// [`CowError::Busy`] if `node`, its child, its parent or (for [`Direction::Up`]) a
    /// grandchild is already in a collapse: adjacent collapses wait for each other.
    pub fn collapse_begin(&mut self, node: NodeId) -> Result<Collapse<F>, CowError> {
        let n = self.get(node)?;
        if n.kind != Kind::Interior {
            return Err(CowError::NotInterior);
        }
        if n.in_collapse {
            return Err(CowError::Busy);
        }
        let [child] = n.children[..] else {
            return Err(CowError::NotLone);
        };
        if let Some(p) = n.parent
            && self.get(p)?.in_collapse
        {
            return Err(CowError::Busy);
        }
        let c = self.get(child)?;
        if c.in_collapse {
            return Err(CowError::Busy);
        }
        let direction = match c.kind {
            Kind::Leaf => Direction::Down,
            Kind::Interior => Direction::Up,
        };
        for grandchild in &c.children {
            if self.get(*grandchild)?.in_collapse {
                return Err(CowError::Busy);
            }
        }
        let mut collapse = Collapse {
            node,
            child,
            direction,
            in_transit: None,
            moved: 0,
            shadowed: 0,
        };
        let vanishing = self.at(collapse.vanishing());
        vanishing.state = State::Collapsing;
        vanishing.generation += 1;
        collapse.shadowed += self.merge_hidden(node, child, direction);
        self.at(node).in_collapse = true;
        self.at(child).in_collapse = true;
        Ok(collapse)
    }

    fn check_collapse(&self, collapse: &Collapse<F>) -> Result<(), CowError> {
        let vanishing = self.get(collapse.vanishing())?;
        let survivor = self.get(collapse.survivor())?;
        if vanishing.state != State::Collapsing || !survivor.in_collapse {
            return Err(CowError::NoSuchNode);
        }
        Ok(())
    }

    /// One step of a collapse: take the vanishing node's lowest page out, or put the page in
    /// transit into the survivor (the child's copy winning), or say it is done.
    pub fn collapse_step(
        &mut self,
        collapse: &mut Collapse<F>,
    ) -> Result<CollapseStep<F>, CowError> {
        self.check_collapse(collapse)?;
        let Some((page, frame)) = collapse.in_transit.take() else {
            return Ok(match self.at(collapse.vanishing()).pages.pop_first() {
                Some((page, frame)) => {
                    collapse.in_transit = Some((page, frame));
                    self.in_transit += 1;
                    CollapseStep::Taken { page }
                }
                None => CollapseStep::Done,
            });
        };
        self.in_transit -= 1;
        let survivor = self.at(collapse.survivor());
        let step = match collapse.direction {
            // The child is the survivor: its own copy wins; the lone node's copy leaves.
            Direction::Down => match survivor.pages.entry(page) {
                // The leaf hides the page (it discarded it): the lone node's copy leaves.
                Entry::Vacant(_) if survivor.hidden.contains(&page) => {
                    self.limbo.park(frame);
                    self.sub_frames(1);
                    CollapseStep::Shadowed { page, frame }
                }
                Entry::Vacant(hole) => {
                    hole.insert(frame);
                    CollapseStep::Moved { page }
                }
                Entry::Occupied(_) => {
                    self.limbo.park(frame);
                    self.sub_frames(1);
                    CollapseStep::Shadowed { page, frame }
                }
            },
            // The child is the vanishing node: its copy replaces the lone node's.
            Direction::Up => match survivor.put(page, frame) {
                Some(old) => {
                    survivor.generation += 1;
                    self.limbo.park(old);
                    self.sub_frames(1);
                    CollapseStep::Shadowed { page, frame: old }
                }
                None => CollapseStep::Moved { page },
            },
        };
        match step {
            CollapseStep::Shadowed { .. } => collapse.shadowed += 1,
            _ => collapse.moved += 1,
        }
        Ok(step)
    }

    /// Moves the pages a collapse has left and relinks the tree: for [`Direction::Down`] the
    /// leaf takes the lone node's place under its parent; for [`Direction::Up`] the lone node
    /// adopts the child's children. The vanishing node is deleted.
    pub fn collapse_finish(&mut self, mut collapse: Collapse<F>) -> Result<Collapsed, CowError> {
        self.check_collapse(&collapse)?;
        while !matches!(self.collapse_step(&mut collapse)?, CollapseStep::Done) {}
        let (gone, _) = self.delete_node(collapse.vanishing());
        let survivor = collapse.survivor();
        match collapse.direction {
            Direction::Down => {
                self.at(survivor).parent = gone.parent;
                if let Some(g) = gone.parent {
                    self.replace_child(g, collapse.node, survivor);
                }
            }
            Direction::Up => {
                for grandchild in &gone.children {
                    self.at(*grandchild).parent = Some(survivor);
                }
                self.at(survivor).children = gone.children;
            }
        }
        let s = self.at(survivor);
        s.in_collapse = false;
        let lone = (s.kind == Kind::Interior && s.children.len() == 1).then_some(survivor);
        Ok(Collapsed {
            survivor,
            removed: collapse.vanishing(),
            direction: collapse.direction,
            moved: collapse.moved,
            frames_freed: collapse.shadowed,
            lone,
        })
    }

    /// Carries the hidden (discarded) pages across a collapse as it begins, so the merged node
    /// hides what the child hid and what the lone node hid where the child holds nothing.
    /// Down: the lone node's hidden pages join the leaf's (its pages then never fill a page the
    /// leaf hides: `collapse_step`). Up: the child's hidden pages join the lone node's, and the
    /// lone node's copies of them leave the tree (only the child's subtree could see them, and
    /// it hid them). Searches cannot tell: they restart at the vanishing node.
    /// Returns how many frames left the tree.
    fn merge_hidden(&mut self, node: NodeId, child: NodeId, direction: Direction) -> usize {
        match direction {
            Direction::Down => {
                let hidden = self.at(node).hidden.clone();
                let leaf = self.at(child);
                let hidden: alloc::vec::Vec<u64> = hidden
                    .into_iter()
                    .filter(|page| !leaf.pages.contains_key(page))
                    .collect();
                leaf.hidden.extend(hidden);
                0
            }
            Direction::Up => {
                let hidden = self.at(child).hidden.clone();
                let lone = self.at(node);
                let mut shadowed = alloc::vec::Vec::new();
                for page in hidden {
                    if let Some(frame) = lone.pages.remove(&page) {
                        shadowed.push(frame);
                    }
                    lone.hidden.insert(page);
                }
                if !shadowed.is_empty() {
                    lone.generation += 1;
                }
                let count = shadowed.len();
                for frame in shadowed {
                    self.limbo.park(frame);
                }
                self.sub_frames(count);
                count
            }
        }
    }

    /// A whole collapse of interior node `node` (begin, every step, finish), as one operation
    /// (the kernel runs the same parts one lock hold each): a [`Direction::Down`] collapse
    /// merges the leaf's pages into the lone node's page map and hands the leaf the result
    /// ([`Cow::merge_down_at_once`]) when the leaf holds fewer — the usual case after a fork
    /// child exits, where the parent wrote a few pages of many. The outcome is the step-wise
    /// one's; only the work differs.
    pub fn collapse(&mut self, node: NodeId) -> Result<Collapsed, CowError> {
        let mut collapse = self.collapse_begin(node)?;
        self.merge_down_at_once(&mut collapse)?;
        self.collapse_finish(collapse)
    }

    /// The steps of a [`Direction::Down`] collapse at once, by the smaller page map: when the
    /// leaf holds fewer pages than the lone node, the lone node's map becomes the leaf's, the
    /// leaf's own pages go into it (each replacing the lone node's copy, which leaves the tree)
    /// and the pages the leaf hides leave it. Otherwise (or for [`Direction::Up`], or with a page
    /// in transit) nothing: the steps move the lone node's (fewer) pages one by one. The work is
    /// the leaf's pages, not the lone node's: after a fork child exits, the parent has written a
    /// few pages of many. The kernel runs it as one step under the lock the steps take (a search
    /// that meets either node restarts, as for any step).
    pub fn merge_down_at_once(&mut self, collapse: &mut Collapse<F>) -> Result<(), CowError> {
        self.check_collapse(collapse)?;
        let (lone, leaf) = (collapse.node, collapse.child);
        if collapse.direction != Direction::Down
            || collapse.in_transit.is_some()
            || self.at(lone).pages.len() <= self.at(leaf).pages.len()
        {
            return Ok(());
        }
        let mut merged = core::mem::take(&mut self.at(lone).pages);
        let lone_pages = merged.len();
        let survivor = self.at(leaf);
        let own = core::mem::take(&mut survivor.pages);
        let mut gone = alloc::vec::Vec::new();
        for page in &survivor.hidden {
            if let Some(frame) = merged.remove(page) {
                gone.push(frame);
            }
        }
        for (page, frame) in own {
            if let Some(old) = merged.insert(page, frame) {
                gone.push(old);
            }
        }
        survivor.pages = merged;
        // Every frame that left was one of the lone node's.
        let shadowed = gone.len();
        for frame in gone {
            self.limbo.park(frame);
        }
        self.sub_frames(shadowed);
        collapse.shadowed += shadowed;
        collapse.moved += lone_pages - shadowed;
        Ok(())
    }
}
