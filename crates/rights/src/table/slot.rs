//! One slot of an [`XObjectTable`](crate::XObjectTable) and the sequence-number policy that makes
//! stale handles fail.
//!
//! Policy: a slot's sequence numbers run `FIRST_SEQ, FIRST_SEQ + 1, …, u32::MAX`, one per entry it
//! holds, and never wrap. A slot whose last entry was issued `u32::MAX` is *retired* for good
//! instead of wrapping to reuse a number. So each `(index, seq)` pair is issued at most once in the
//! table's life and no old handle can ever become valid again, whatever the uptime. The cost is one
//! dead slot per 2³² entries that pass through a slot — at one create/release per microsecond on
//! the same slot, one slot's worth of memory every 71 minutes, which is nothing.

use crate::{RightsError, XHandle, XObject};

/// The sequence number of the first entry a slot holds. Sequence 0 is never issued, which makes
/// [`XHandle::NULL`] (a zeroed register) invalid everywhere.
pub const FIRST_SEQ: u32 = 1;

/// A table slot.
#[derive(Clone, Debug)]
pub(crate) enum Slot<T> {
    /// Holds a live entry, whose `seq` is the slot's current sequence number.
    Occupied(XObject<T>),
    /// Free, on the free list; its next entry gets `next_seq`.
    Vacant {
        next_seq: u32,
        next_free: Option<u32>,
    },
    /// Issued every sequence number; never used again.
    Retired,
}

impl<T> Slot<T> {
    /// Why `handle` (which names this slot) does not reach a live entry here, given that it does
    /// not match the current entry: issued before (stale) or never issued (no such handle).
    fn refusal(&self, handle: XHandle) -> RightsError {
        // One past the newest sequence number this slot has issued, widened so `Retired` fits.
        let issued_end = match self {
            Slot::Occupied(obj) => u64::from(obj.seq) + 1,
            Slot::Vacant { next_seq, .. } => u64::from(*next_seq),
            Slot::Retired => u64::from(u32::MAX) + 1,
        };
        let seq = u64::from(handle.seq);
        if seq >= u64::from(FIRST_SEQ) && seq < issued_end {
            RightsError::Stale(handle)
        } else {
            RightsError::NoSuchHandle(handle)
        }
    }

    /// The live entry `handle` names, or why not.
    pub(crate) fn resolve(&self, handle: XHandle) -> Result<&XObject<T>, RightsError> {
        match self {
            Slot::Occupied(obj) if obj.seq == handle.seq => Ok(obj),
            other => Err(other.refusal(handle)),
        }
    }

    /// As [`Slot::resolve`], mutably.
    pub(crate) fn resolve_mut(&mut self, handle: XHandle) -> Result<&mut XObject<T>, RightsError> {
        // Decide with a shared borrow first: returning a guarded mutable binding from one arm while
        // another arm reads the slot is beyond today's borrow checker.
        self.resolve(handle)?;
        match self {
            Slot::Occupied(obj) => Ok(obj),
            _ => unreachable!("resolve found a live entry"),
        }
    }

    /// The slot that follows this entry's release: vacant with the next sequence number, or
    /// retired if this entry used the last one.
    pub(crate) fn after_release(seq: u32, next_free: Option<u32>) -> Self {
        match seq.checked_add(1) {
            Some(next_seq) => Slot::Vacant {
                next_seq,
                next_free,
            },
            None => Slot::Retired,
        }
    }
}
