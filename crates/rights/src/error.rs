//! Why a handle was refused: the one error type of the table (`table.rs`) and the check
//! (`object.rs`), precise enough that a test or a log line says which branch failed.

use core::fmt;

use crate::{Rights, XHandle};

/// A refused handle operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RightsError {
    /// The handle names a slot the table never had, or a sequence number the slot never issued
    /// (a forged or corrupted handle, or [`XHandle::NULL`]).
    NoSuchHandle(XHandle),
    /// The handle was issued once, but its entry has since been released or revoked.
    Stale(XHandle),
    /// The entry exists but does not allow the call.
    Lacking {
        /// Rights the caller would additionally need on the closer of its two paths (matched if its
        /// badge matches and that path lacks fewer rights, else unmatched).
        missing: Rights,
        /// Whether the caller's badge was the entry's `match_pid`; `false` means only the entry's
        /// unmatched rights were available to it.
        badge_matched: bool,
    },
    /// Only the entry's holder (`match_pid`) or the process that gave it may release an entry.
    NotHolder,
    /// The table has no free slot and has reached its limit.
    TableFull,
}

impl fmt::Display for RightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchHandle(h) => write!(f, "no such handle: {h}"),
            Self::Stale(h) => write!(f, "stale handle: {h}"),
            Self::Lacking {
                missing,
                badge_matched,
            } => write!(
                f,
                "rights lacking: {missing:?} (badge {})",
                if *badge_matched {
                    "matched"
                } else {
                    "unmatched"
                }
            ),
            Self::NotHolder => f.write_str("only the holder or the giver may release an entry"),
            Self::TableFull => f.write_str("object table full"),
        }
    }
}

impl core::error::Error for RightsError {}
