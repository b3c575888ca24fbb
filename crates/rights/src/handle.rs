//! The two words that name who is calling ([`Badge`]) and what they call ([`XHandle`]).
//!
//! The kernel stamps the badge; the client supplies the handle. Both travel in registers, so each
//! packs into one `u64`. The table (`table.rs`) hands out handles; the check (`object.rs`) compares
//! badges.

use core::fmt;

/// Bit position of the sequence number in a packed handle word.
const SEQ_SHIFT: u32 = u32::BITS;
/// Mask of the index half of a packed handle word.
const INDEX_MASK: u64 = (1 << SEQ_SHIFT) - 1;

/// The caller's identity as the kernel stamps it on every call: its process id / CommID. A client
/// cannot choose it, so it is the only thing a server trusts about who is calling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Badge(pub u64);

impl fmt::Display for Badge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "badge {}", self.0)
    }
}

/// A client's name for an entry in one server's XObject table: the slot index and the slot's
/// sequence number at the time the entry was made. A released entry bumps the slot's sequence
/// number, so old handles fail as stale instead of reaching whatever reuses the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct XHandle {
    /// Slot in the server's table.
    pub index: u32,
    /// The slot's sequence number when this handle was issued; never 0 for an issued handle.
    pub seq: u32,
}

impl XHandle {
    /// A handle no table ever issues (sequence numbers start at 1), so a zeroed register is never a
    /// valid handle.
    pub const NULL: Self = Self { index: 0, seq: 0 };

    /// The handle as one register word: sequence number in the high half, index in the low half.
    pub const fn to_word(self) -> u64 {
        ((self.seq as u64) << SEQ_SHIFT) | self.index as u64
    }

    /// The handle a register word carries; every word is some handle (the table decides if it is
    /// a live one).
    pub const fn from_word(word: u64) -> Self {
        Self {
            // Both halves fit by construction of the shift and mask.
            index: (word & INDEX_MASK) as u32,
            seq: (word >> SEQ_SHIFT) as u32,
        }
    }
}

impl fmt::Display for XHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "xhandle {}#{}", self.index, self.seq)
    }
}
