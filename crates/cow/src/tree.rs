//! The tree itself: the arena of nodes, making a memory object, fork-copy, exit, and the read-only
//! views (peek, chain length, frames held, the consistency check).

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::mem;

use crate::CowError;
use crate::collapse::{Collapse, Collapsed};
use crate::limbo::Limbo;
use crate::node::{Kind, Node, NodeId, Slot, State};

/// A forest of copy-on-write memory objects: every tree's leaves are the FCMs processes map, its
/// interior nodes the pages forks left shared. `F` is the kernel's frame handle (a physical frame
/// number, say); the tree only stores, moves and returns frames, it never touches memory.
#[derive(Debug)]
pub struct Cow<F> {
    slots: Vec<Slot<F>>,
    free_slots: Vec<u32>,
    /// Frames held by nodes of the tree or in transit in a collapse (parked frames not counted).
    frames: usize,
    /// Frames taken out of a collapse's vanishing node and not yet put into its survivor.
    pub(crate) in_transit: usize,
    nodes: usize,
    pub(crate) limbo: Limbo<F>,
}

/// What [`Cow::fork`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forked {
    /// The new leaf, for the child process.
    pub child: NodeId,
    /// The interior node the forked leaf and the child now share as parent.
    pub parent: NodeId,
    /// `true` when the forked leaf's parent had it as its only child and adopted the new leaf
    /// (no node was made); `false` when a new interior node was made.
    pub adopted: bool,
    /// Frames that moved out of the forked leaf into `parent`; the kernel write-protects their
    /// mappings in the forking process.
    pub moved: usize,
    /// Frames of an adopting parent that the forked leaf's own copies replaced (parked for
    /// reuse; nobody else could see them).
    pub replaced: usize,
}

/// What [`Cow::release`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Released {
    /// Frames that left the tree (parked until [`Cow::reclaim`] hands them back).
    pub frames_freed: usize,
    /// Nodes deleted: the leaf, and every interior node left with no child above it.
    pub nodes_freed: usize,
    /// The interior node left with exactly one child, if any: the node to collapse.
    pub lone: Option<NodeId>,
}

/// What [`Cow::exit`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exited {
    /// Frames that left the tree, by the exit and by the collapses it ran.
    pub frames_freed: usize,
    /// Nodes deleted, by the exit and by the collapses it ran.
    pub nodes_freed: usize,
    /// Collapses run to completion.
    pub collapses: usize,
    /// An interior node still left with one child because a collapse next to it was in progress
    /// ([`CowError::Busy`]); collapse it later (it is also in [`Cow::lone_nodes`]).
    pub pending: Option<NodeId>,
}

/// Where a page a leaf sees lives, from [`Cow::peek`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved<F> {
    /// The frame holding the page.
    pub frame: F,
    /// The node holding it: the leaf itself, or an ancestor.
    pub node: NodeId,
    /// How many levels above the leaf (0: the leaf's own page).
    pub level: usize,
}

impl<F: Copy> Default for Cow<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Copy> Cow<F> {
    /// An empty forest.
    pub const fn new() -> Self {
        Self {
            slots: Vec::new(),
            free_slots: Vec::new(),
            frames: 0,
            in_transit: 0,
            nodes: 0,
            limbo: Limbo::new(),
        }
    }

    // ---- the arena ----

    pub(crate) fn node(&self, id: NodeId) -> Option<&Node<F>> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.incarnation != id.incarnation {
            return None;
        }
        slot.node.as_ref()
    }

    pub(crate) fn node_mut(&mut self, id: NodeId) -> Option<&mut Node<F>> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.incarnation != id.incarnation {
            return None;
        }
        slot.node.as_mut()
    }

    pub(crate) fn get(&self, id: NodeId) -> Result<&Node<F>, CowError> {
        self.node(id).ok_or(CowError::NoSuchNode)
    }

    /// A node the caller has already checked exists.
    pub(crate) fn at(&mut self, id: NodeId) -> &mut Node<F> {
        self.node_mut(id).expect("a node checked to exist")
    }

    fn insert_node(&mut self, node: Node<F>) -> NodeId {
        self.nodes += 1;
        if let Some(index) = self.free_slots.pop() {
            let slot = &mut self.slots[index as usize];
            slot.node = Some(node);
            return NodeId {
                index,
                incarnation: slot.incarnation,
            };
        }
        let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 nodes at once");
        self.slots.push(Slot {
            incarnation: 0,
            node: Some(node),
        });
        NodeId {
            index,
            incarnation: 0,
        }
    }

    /// Deletes a node, parking its frames; returns the node (its pages emptied) and how many
    /// frames were parked.
    pub(crate) fn delete_node(&mut self, id: NodeId) -> (Node<F>, usize) {
        let slot = &mut self.slots[id.index as usize];
        debug_assert_eq!(slot.incarnation, id.incarnation);
        let mut node = slot.node.take().expect("a node checked to exist");
        slot.incarnation = slot.incarnation.wrapping_add(1);
        self.free_slots.push(id.index);
        self.nodes -= 1;
        let pages = mem::take(&mut node.pages);
        let freed = pages.len();
        for frame in pages.into_values() {
            self.limbo.park(frame);
        }
        self.frames -= freed;
        (node, freed)
    }

    pub(crate) fn add_frames(&mut self, count: usize) {
        self.frames += count;
    }

    pub(crate) fn sub_frames(&mut self, count: usize) {
        self.frames -= count;
    }

    /// Replaces `old` by `new` in `parent`'s children.
    pub(crate) fn replace_child(&mut self, parent: NodeId, old: NodeId, new: NodeId) {
        let children = &mut self.at(parent).children;
        let slot = children
            .iter_mut()
            .find(|c| **c == old)
            .expect("a child is in its parent's list");
        *slot = new;
    }

    // ---- making, forking and exiting ----

    /// A new memory object: an empty root leaf (every page zero-fills on first touch).
    pub fn create(&mut self) -> NodeId {
        self.insert_node(Node::new(Kind::Leaf, None))
    }

    /// Fork-copy of leaf `leaf`: returns the child's new leaf.
    ///
    /// The leaf's frames move to an interior parent and the leaf and the new child become its
    /// children, both seeing those pages read-only (copy on write). If the leaf's parent has the
    /// leaf as its only child (a collapse not yet run), that parent is the interior parent: the
    /// leaf's frames move up into it, replacing the parent's copies of the same pages (which only
    /// the leaf could see), and it adopts the child, so no node is made and chains do not grow.
    /// Otherwise a new interior node takes the leaf's place under its parent.
    ///
    /// The kernel quiesces the forking process first and write-protects its mappings of the
    /// moved frames afterwards; a fault of the leaf still in flight fails its generation check.
    pub fn fork(&mut self, leaf: NodeId) -> Result<Forked, CowError> {
        let node = self.get(leaf)?;
        if node.kind != Kind::Leaf {
            return Err(CowError::NotLeaf);
        }
        if node.in_collapse {
            return Err(CowError::Busy);
        }
        let parent = node.parent;
        let adopt = match parent {
            Some(p) => {
                let pn = self.get(p)?;
                if pn.in_collapse {
                    return Err(CowError::Busy);
                }
                pn.children.len() == 1
            }
            None => false,
        };
        let x = self.at(leaf);
        let pages = mem::take(&mut x.pages);
        let hidden = mem::take(&mut x.hidden);
        x.generation += 1;
        let moved = pages.len();
        if adopt {
            let p = parent.expect("adoption needs a parent");
            let mut shadowed = Vec::new();
            let pn = self.at(p);
            for (page, frame) in pages {
                pn.hidden.remove(&page);
                if let Some(old) = pn.pages.insert(page, frame) {
                    shadowed.push(old);
                }
            }
            // What the leaf discarded, only it could see in `p`: it goes, and `p` hides it.
            for page in hidden {
                if let Some(old) = pn.pages.remove(&page) {
                    shadowed.push(old);
                }
                pn.hidden.insert(page);
            }
            pn.generation += 1;
            let replaced = shadowed.len();
            for frame in shadowed {
                self.limbo.park(frame);
            }
            self.frames -= replaced;
            let child = self.insert_node(Node::new(Kind::Leaf, Some(p)));
            self.at(p).children.push(child);
            return Ok(Forked {
                child,
                parent: p,
                adopted: true,
                moved,
                replaced,
            });
        }
        let mut inner = Node::new(Kind::Interior, parent);
        inner.pages = pages;
        inner.hidden = hidden;
        inner.children.push(leaf);
        let n = self.insert_node(inner);
        let child = self.insert_node(Node::new(Kind::Leaf, Some(n)));
        self.at(n).children.push(child);
        self.at(leaf).parent = Some(n);
        if let Some(p) = parent {
            self.replace_child(p, leaf, n);
        }
        Ok(Forked {
            child,
            parent: n,
            adopted: false,
            moved,
            replaced: 0,
        })
    }

    /// Exit (destroy) of leaf `leaf`, without the collapse: its frames leave the tree, its parent
    /// loses a child, an interior node left with no child is deleted too (and so on up), and the
    /// interior node left with exactly one child, if any, is returned for [`Cow::collapse`] (the
    /// kernel may run it at once, as [`Cow::exit`] does, or later).
    pub fn release(&mut self, leaf: NodeId) -> Result<Released, CowError> {
        let node = self.get(leaf)?;
        if node.kind != Kind::Leaf {
            return Err(CowError::NotLeaf);
        }
        if node.in_collapse {
            return Err(CowError::Busy);
        }
        // Check every node the release will change before changing any.
        let mut up = node.parent;
        while let Some(p) = up {
            let pn = self.get(p)?;
            if pn.in_collapse {
                return Err(CowError::Busy);
            }
            up = if pn.children.len() == 1 {
                pn.parent
            } else {
                None
            };
        }
        let (gone, mut frames_freed) = self.delete_node(leaf);
        let mut nodes_freed = 1;
        let mut child = leaf;
        let mut up = gone.parent;
        let mut lone = None;
        while let Some(p) = up {
            let pn = self.at(p);
            pn.children.retain(|c| *c != child);
            match pn.children.len() {
                0 => {
                    let (gone, freed) = self.delete_node(p);
                    frames_freed += freed;
                    nodes_freed += 1;
                    child = p;
                    up = gone.parent;
                }
                1 => {
                    lone = Some(p);
                    break;
                }
                _ => break,
            }
        }
        Ok(Released {
            frames_freed,
            nodes_freed,
            lone,
        })
    }

    /// Exit of leaf `leaf` with its collapses: [`Cow::release`], then [`Cow::collapse`] of the
    /// node left with one child, repeated while a collapse leaves another such node.
    pub fn exit(&mut self, leaf: NodeId) -> Result<Exited, CowError> {
        let released = self.release(leaf)?;
        let mut exited = Exited {
            frames_freed: released.frames_freed,
            nodes_freed: released.nodes_freed,
            collapses: 0,
            pending: None,
        };
        let mut next = released.lone;
        while let Some(node) = next {
            match self.collapse(node) {
                Ok(Collapsed {
                    frames_freed, lone, ..
                }) => {
                    exited.frames_freed += frames_freed;
                    exited.nodes_freed += 1;
                    exited.collapses += 1;
                    next = lone;
                }
                Err(CowError::Busy) => {
                    exited.pending = Some(node);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(exited)
    }

    /// Hands every frame that left the tree and that no fault search in flight can still hold to
    /// `free`; returns how many. Frames leave the tree on exit, on collapse (a copy shadowed by the
    /// child's own) and on adoption (likewise); they are parked until every search that started
    /// before they left has committed or been abandoned.
    pub fn reclaim(&mut self, free: impl FnMut(F)) -> usize {
        self.limbo.reclaim(free)
    }

    // ---- looking at the tree ----

    /// The state of node `id` ([`State::Deleted`] for a stale id).
    pub fn state(&self, id: NodeId) -> State {
        self.node(id).map_or(State::Deleted, |n| n.state)
    }

    /// Whether node `id` is a leaf or interior.
    pub fn kind(&self, id: NodeId) -> Result<Kind, CowError> {
        Ok(self.get(id)?.kind)
    }

    /// Node `id`'s generation (bumped whenever a frame leaves it or is replaced in it).
    pub fn generation(&self, id: NodeId) -> Result<u64, CowError> {
        Ok(self.get(id)?.generation)
    }

    /// Node `id`'s parent (`None` for a root).
    pub fn parent(&self, id: NodeId) -> Result<Option<NodeId>, CowError> {
        Ok(self.get(id)?.parent)
    }

    /// Node `id`'s children (none for a leaf).
    pub fn children(&self, id: NodeId) -> Result<&[NodeId], CowError> {
        Ok(&self.get(id)?.children)
    }

    /// The pages node `id` holds itself, as (page, frame), in page order.
    pub fn pages(&self, id: NodeId) -> Result<impl Iterator<Item = (u64, &F)>, CowError> {
        Ok(self.get(id)?.pages.iter().map(|(p, f)| (*p, f)))
    }

    /// How many frames node `id` holds itself.
    pub fn frames_held(&self, id: NodeId) -> Result<usize, CowError> {
        Ok(self.get(id)?.pages.len())
    }

    /// Frames held by every node of the forest or in transit in a collapse (not counting parked
    /// ones).
    pub const fn total_frames(&self) -> usize {
        self.frames
    }

    /// Frames out of the tree and waiting for [`Cow::reclaim`].
    pub fn parked_frames(&self) -> usize {
        self.limbo.parked()
    }

    /// Fault searches started and not yet committed or abandoned.
    pub fn searches_in_flight(&self) -> usize {
        self.limbo.in_flight()
    }

    /// Nodes in the forest, leaves and interior.
    pub const fn node_count(&self) -> usize {
        self.nodes
    }

    /// The chain length of node `id`: the nodes from it to its root, both counted (1 for a
    /// process that never forked); a fault looks at most this many nodes.
    pub fn depth(&self, id: NodeId) -> Result<usize, CowError> {
        let mut depth = 1;
        let mut at = self.get(id)?.parent;
        while let Some(p) = at {
            depth += 1;
            at = self.get(p)?.parent;
        }
        Ok(depth)
    }

    /// The longest chain of any leaf in the forest (0 when empty), for the kernel's statistics.
    pub fn longest_chain(&self) -> usize {
        self.ids()
            .filter(|id| self.node(*id).is_some_and(|n| n.kind == Kind::Leaf))
            .map(|id| self.depth(id).unwrap_or(0))
            .max()
            .unwrap_or(0)
    }

    /// Interior nodes left with exactly one child: the collapses not yet run.
    pub fn lone_nodes(&self) -> Vec<NodeId> {
        self.ids()
            .filter(|id| {
                self.node(*id)
                    .is_some_and(|n| n.kind == Kind::Interior && n.children.len() == 1)
            })
            .collect()
    }

    /// Every node of the forest.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            slot.node.as_ref().map(|_| NodeId {
                index: index as u32,
                incarnation: slot.incarnation,
            })
        })
    }

    /// Where the page `page` that leaf (or node) `id` sees lives, if anywhere: the first node from
    /// `id` up that holds it. A stop-the-world view (it ignores states), for tests and
    /// statistics; faults use [`Cow::search`]. With a collapse between its steps, use
    /// [`Cow::peek_during`].
    pub fn peek(&self, id: NodeId, page: u64) -> Result<Option<Resolved<F>>, CowError> {
        self.peek_during(id, page, None)
    }

    /// [`Cow::peek`] while `collapse` is in progress: a page in transit counts as still in the
    /// vanishing node, where it logically is until it reaches the survivor.
    pub fn peek_during(
        &self,
        id: NodeId,
        page: u64,
        collapse: Option<&Collapse<F>>,
    ) -> Result<Option<Resolved<F>>, CowError> {
        let transit = collapse.and_then(|c| c.transit().map(|(p, f)| (c.vanishing(), p, f)));
        let mut at = id;
        let mut level = 0;
        loop {
            let node = self.get(at)?;
            let moving = transit
                .filter(|&(v, p, _)| v == at && p == page)
                .map(|(_, _, f)| f);
            if let Some(frame) = node.pages.get(&page).copied().or(moving) {
                return Ok(Some(Resolved {
                    frame,
                    node: at,
                    level,
                }));
            }
            if node.hidden.contains(&page) {
                return Ok(None);
            }
            match node.parent {
                Some(p) => {
                    at = p;
                    level += 1;
                }
                None => return Ok(None),
            }
        }
    }
}

impl<F: Copy + Ord> Cow<F> {
    /// Checks the tree's invariants: parent and child links agree, leaves have no children,
    /// interior nodes have at least one, a collapsing node is in a collapse, the frame count is
    /// right, and no frame is held twice (in the tree or parked). For tests.
    pub fn check(&self) -> Result<(), &'static str> {
        let mut frames = 0;
        let mut nodes = 0;
        let mut seen = BTreeSet::new();
        for id in self.ids() {
            let node = self.get(id).map_err(|_| "an id from ids() is stale")?;
            nodes += 1;
            frames += node.pages.len();
            if node.pages.keys().any(|page| node.hidden.contains(page)) {
                return Err("a node both holds and hides a page");
            }
            for frame in node.pages.values() {
                if !seen.insert(frame) {
                    return Err("a frame is held twice");
                }
            }
            match node.kind {
                Kind::Leaf if !node.children.is_empty() => return Err("a leaf has children"),
                Kind::Interior if node.children.is_empty() => {
                    return Err("an interior node has no child");
                }
                _ => {}
            }
            if node.state == State::Collapsing && !node.in_collapse {
                return Err("a collapsing node is not in a collapse");
            }
            if let Some(p) = node.parent {
                let pn = self.get(p).map_err(|_| "a parent is deleted")?;
                if pn.children.iter().filter(|c| **c == id).count() != 1 {
                    return Err("a node is not once in its parent's children");
                }
            }
            for c in &node.children {
                let cn = self.get(*c).map_err(|_| "a child is deleted")?;
                if cn.parent != Some(id) {
                    return Err("a child's parent is not the node listing it");
                }
            }
        }
        for frame in self.limbo.frames() {
            if !seen.insert(frame) {
                return Err("a parked frame is also held, or parked twice");
            }
        }
        if frames + self.in_transit != self.frames {
            return Err("the frame count is wrong");
        }
        if nodes != self.nodes {
            return Err("the node count is wrong");
        }
        Ok(())
    }
}
