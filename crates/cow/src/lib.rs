//! Copy-on-write memory objects with K42's fork-copy and fork-chain collapse, as pure `no_std` +
//! `alloc` logic the kernel will use for the anonymous memory of forked processes, and the host
//! tests (`tests/`) check against a model of every process's memory.
//!
//! # The model
//!
//! An FCM (`DESIGN.md` §2.5) caches the pages of one memory object: page index → frame. Here FCMs
//! are the nodes of a tree ([`Cow`], generic over the kernel's frame handle `F`). **Leaves** are
//! the FCMs processes' regions map; their pages are their own. **Interior** nodes hold pages left
//! shared by a fork, read-only to every descendant. A leaf *sees* page `i` in the first node from
//! itself up to its root that holds `i`, or zero if none does. The tree never touches memory: it
//! stores, moves and hands back frames, and tells the caller what to allocate, copy and map.
//!
//! # Fork-copy
//!
//! [`Cow::fork`] of leaf `x`: `x`'s frames move to a new interior parent `p`; `x` and a new leaf
//! `y` become `p`'s children and see its pages read-only, copying on write. If `x`'s parent has
//! `x` as its only child (a collapse not yet run), that parent *is* `p`: `x`'s frames move up
//! into it (replacing its copies of the same pages, which only `x` could see) and it adopts `y`,
//! so no node is made and the chain does not grow. With adoption alone, repeated fork-then-exit
//! keeps every chain at two nodes even if no collapse ever runs (`tests/chain.rs`).
//!
//! # Faults
//!
//! A fault of leaf `l` at page `i` searches `l`, its parent, grandparent, …: found in `l` → map
//! it writable; found in an ancestor → map it read-only for a read, or copy it into a new frame
//! that becomes `l`'s own for a write; found nowhere → zero-fill a new frame in `l`. The caller
//! allocates the frame (a [`Frames`] allocator for [`Cow::fault`], or by hand between
//! [`Cow::step`] and [`Cow::commit`]). A write always copies an ancestor's page, even when the
//! ancestor's page is referenced only by this leaf's path (every node between having one child):
//! taking the frame instead is the optimization left out here; collapse (below) removes such
//! nodes, after which the page is the leaf's own and written in place.
//!
//! # Exit and collapse
//!
//! [`Cow::release`] deletes a leaf and its frames; its parent loses a child; an interior node
//! left with no child is deleted too (on up). An interior node `n` left with **one** child `c` is
//! collapsed ([`Cow::collapse`]; [`Cow::exit`] does both). The rule, chosen so that no leaf's view
//! changes:
//!
//! - **`n` and `c` merge into one node holding `c`'s pages plus `n`'s pages at `c`'s holes**
//!   (`c`'s own copy of a page wins; `n`'s shadowed copy leaves the tree). Only `c`'s subtree ever
//!   saw `n`, and it saw exactly that union, so nothing changes for anyone. `n`'s shadowed copies
//!   can be freed because `n` has no other child that could see them.
//! - The merged node keeps `c`'s identity when `c` is a **leaf** (a process maps it, so it must
//!   stay): `n`'s frames move **down** into `c`, which takes `n`'s place ([`Direction::Down`]).
//!   When `c` is **interior**, `c`'s frames move **up** into `n`, which adopts `c`'s children
//!   ([`Direction::Up`]): the issue's "moves its frames up into its own parent, which adopts its
//!   children", with `c` as the node moving up. Up moves `c`'s (usually fewer, newer) pages
//!   rather than the older ancestor's.
//! - Moving `n`'s own frames up into **`n`'s parent `g`** is *not* done: `g` has other children
//!   (every interior node keeps at least two once collapses have run), and they would start seeing
//!   `n`'s pages where they saw an older ancestor's (or zeros), and `g`'s own copies that `n`
//!   shadows would be overwritten under them. It would be right only if `g`'s only child were
//!   `n`, and then the collapse of `g` with `n` is this same rule.
//!
//! So every interior node has at least two children after each exit, and a leaf's chain is at
//! most the number of live leaves in its tree, plus collapses not yet run (`tests/model.rs`
//! checks that bound after every step, and that every frame comes back).
//!
//! # Concurrency without a global lock
//!
//! The crate models the protocol, not threads: every operation is a step, and the tests
//! interleave them. The kernel (`kernel/src/cow.rs`) runs the same steps on several CPUs at
//! once, holding its lock on the tree for one step at a time and never across a frame
//! allocation, a page copy or another step (per-node locks, each held only while that node's
//! own state is read or changed, would let steps at different nodes overlap too). What is in
//! flight is accounted for instead by:
//!
//! - **States.** A node is [`State::Live`], [`State::Collapsing`] (its pages are moving out in a
//!   collapse that has begun) or [`State::Deleted`]. A search ([`Cow::step`], one node per step:
//!   lock it, look, unlock) that meets a collapsing or deleted node goes back to its leaf and
//!   starts over ([`Step::Restarted`]; [`Fault::Restart`] from [`Cow::fault`]; the kernel yields
//!   first, since finishing the collapse is another thread's work).
//! - **Pages in transit.** A collapse moves a page in two steps, as the kernel does holding one
//!   node's lock at a time: out of the vanishing node ([`CollapseStep::Taken`]), then into the
//!   survivor. In between the page is in neither node, so a search could walk past both and find
//!   an older copy above (or none): the restart at the collapsing node is what prevents that,
//!   since getting past it means having looked at it before the collapse began.
//! - **Generations and the commit.** A node's generation is bumped when a frame leaves it, a
//!   frame in it is replaced, or it begins collapsing. A search records the leaf's generation
//!   and the node it found its page in with that node's generation; [`Cow::commit`] (the kernel:
//!   under the leaf's lock, installing the HAT entry before unlocking) maps only if both are
//!   unchanged and the node is still live, else [`Commit::Retry`]; if the leaf itself got the
//!   page meanwhile (another thread's fault, or a Down collapse), the leaf's page wins. The leaf's
//!   generation catches a fork that moved the leaf's pages out under the search.
//! - **Why a node the search passed stays passed.** Pages enter a node only from below it on the
//!   search's own path (an Up collapse, which the restart covers; a fork of the leaf, which the
//!   leaf's generation covers) or into the leaf (a commit, or a Down collapse, which the leaf
//!   check covers). So nothing can later put the page into a node the search already found
//!   without it. By the same argument the source node's generation check is not needed by the
//!   present rules (the randomized tests pass without it, while removing the restart or the
//!   leaf-generation check fails them); it is kept as a cheap local guard.
//! - **Deferred reuse.** Frames leaving the tree (exit, shadowed copies) are parked and handed
//!   back by [`Cow::reclaim`] only when every search that started before they left has committed
//!   or been abandoned ("requests in flight are counted, not locked out", `DESIGN.md` §2.8), so a
//!   search copying from a frame never copies from a reused one. Node ids carry an incarnation,
//!   the model of deferred deletion of the node itself.
//! - **Collapse step by step.** [`Cow::collapse_begin`], [`Cow::collapse_step`],
//!   [`Cow::collapse_finish`] (relink, delete). At every point each leaf's view is unchanged
//!   ([`Cow::peek_during`] counts the page in transit where it logically is). Forks, exits and
//!   collapses touching the two nodes get [`CowError::Busy`] until the finish. A shadowed frame
//!   is mapped by no committed fault: a leaf maps an ancestor's copy only while nothing between
//!   them holds the page, and pages enter those nodes only from the leaf itself (its fork, or
//!   its own copy, which it maps instead).
//! - **A discard's frames go straight back** to the caller, not through deferred reuse: only
//!   the leaf's own search can find a leaf's page, and the discard's generation bump fails its
//!   commit. The caller frees them after its TLB shootdown.
//!
//! # Statistics
//!
//! [`Cow::depth`] (a leaf's chain length: nodes from it to its root), [`Cow::longest_chain`],
//! [`Cow::frames_held`], [`Cow::total_frames`], [`Cow::parked_frames`], [`Cow::node_count`],
//! [`Cow::searches_in_flight`], [`Cow::lone_nodes`] (collapses not yet run).
#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

mod collapse;
mod discard;
mod error;
mod fault;
mod limbo;
mod node;
mod tree;

pub use collapse::{Collapse, CollapseStep, Collapsed, Direction};
pub use discard::Discarded;
pub use error::CowError;
pub use fault::{Access, Commit, Fault, Frames, Mapping, Plan, Search, Step};
pub use node::{Kind, NodeId, State};
pub use tree::{Cow, Exited, Forked, Released, Resolved};
