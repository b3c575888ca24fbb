//! Why a tree operation was refused: the crate's one error type. A refused operation has changed
//! nothing.

use core::fmt;

/// A refused copy-on-write operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CowError {
    /// The id names no node: its node has been deleted (a slot's later node gets a new id, so a
    /// stale id stays stale).
    NoSuchNode,
    /// The operation needs a leaf (a process's FCM) and the node is interior.
    NotLeaf,
    /// The operation needs an interior node and the node is a leaf.
    NotInterior,
    /// A collapse was asked of an interior node that does not have exactly one child.
    NotLone,
    /// A node the operation would change is taking part in a collapse that has begun and not
    /// finished; retry after the collapse finishes.
    Busy,
    /// The frame allocator had no frame for a zero-fill or a copy.
    NoMemory,
    /// A fault plan that needs a new frame ([`crate::Plan::Copy`], [`crate::Plan::ZeroFill`]) was
    /// committed without one.
    MissingFrame,
}

impl fmt::Display for CowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoSuchNode => "no such copy-on-write node (never made, or deleted)",
            Self::NotLeaf => "the node is interior; the operation needs a leaf",
            Self::NotInterior => "the node is a leaf; the operation needs an interior node",
            Self::NotLone => "the interior node does not have exactly one child",
            Self::Busy => "a node involved is taking part in an unfinished collapse",
            Self::NoMemory => "no frame for a zero-fill or a copy",
            Self::MissingFrame => "the fault plan needs a new frame and none was given",
        })
    }
}

impl core::error::Error for CowError {}
