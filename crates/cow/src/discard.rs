//! Discarding a leaf's pages (`munmap`, `madvise(MADV_DONTNEED)`, exec's overlay): afterwards
//! the leaf reads zeros there, whatever its ancestors hold. The leaf's own frames leave the tree
//! and go straight back to the caller, not through deferred reuse (`limbo.rs`): no search but
//! the leaf's own can find a leaf's page (a leaf has no descendants), and the leaf's own search
//! in flight fails its commit on the generation bumped here, having planned to map the page,
//! never to copy from it. So the caller frees them after its own TLB shootdown, and no other
//! operation's reclaim can free them before that shootdown has run;
//! the pages an ancestor still holds for its other descendants are *hidden* in the leaf
//! (`Node::hidden`), so a fault there zero-fills instead of finding the ancestor's copy. Forks
//! and collapses carry hidden pages along with the frames they move (`tree.rs`, `collapse.rs`),
//! so a leaf's view never changes under them. A process that never forked has no ancestor and
//! hides nothing.

use core::ops::Range;

use crate::node::Kind;
use crate::{Cow, CowError, NodeId};

/// What [`Cow::discard`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Discarded {
    /// The leaf's own frames that left the tree (handed to the caller's `free`).
    pub frames_freed: usize,
    /// Pages an ancestor holds that the leaf now hides.
    pub hidden: usize,
}

impl<F: Copy> Cow<F> {
    /// Makes leaf `leaf` read zeros at every page index in `pages`, handing the leaf's own
    /// frames there to `free` (the caller frees them once no TLB reaches them). Refused with
    /// [`CowError::Busy`] while the leaf or an ancestor takes part in a collapse.
    pub fn discard(
        &mut self,
        leaf: NodeId,
        pages: Range<u64>,
        mut free: impl FnMut(F),
    ) -> Result<Discarded, CowError> {
        let node = self.get(leaf)?;
        if node.kind != Kind::Leaf {
            return Err(CowError::NotLeaf);
        }
        if node.in_collapse {
            return Err(CowError::Busy);
        }
        let mut hide = alloc::collections::BTreeSet::new();
        let mut up = node.parent;
        while let Some(p) = up {
            let pn = self.get(p)?;
            if pn.in_collapse {
                return Err(CowError::Busy);
            }
            hide.extend(pn.pages.range(pages.clone()).map(|(&page, _)| page));
            up = pn.parent;
        }
        let x = self.at(leaf);
        let own: alloc::vec::Vec<u64> = x.pages.range(pages).map(|(&p, _)| p).collect();
        let mut freed = alloc::vec::Vec::with_capacity(own.len());
        for page in own {
            if let Some(frame) = x.pages.remove(&page) {
                freed.push(frame);
            }
        }
        let hidden = hide.len();
        x.hidden.extend(hide);
        // A fault of this leaf in flight must not commit what it found before the discard.
        x.generation += 1;
        let frames_freed = freed.len();
        freed.into_iter().for_each(&mut free);
        self.sub_frames(frames_freed);
        Ok(Discarded {
            frames_freed,
            hidden,
        })
    }
}
