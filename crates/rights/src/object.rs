//! One entry of a server's object table, and the rights check every call goes through.
//!
//! The check is the whole security model of `DESIGN.md` §2.2 in one function, [`check`]; the table
//! (`table.rs`) calls it on every lookup and the generated dispatch (`k42-idl`) never bypasses the
//! table, so no method body runs without it.

use crate::{Badge, Rights, RightsError};

/// The K42 rights check: a call needing `need` is allowed iff
/// `(badge == match_pid && need ⊆ matched) || need ⊆ unmatched`.
///
/// The two sets are tried separately, never united: holding READ matched and WRITE unmatched does
/// not allow a call needing READ|WRITE. An empty `need` is always allowed.
pub fn check(
    badge: Badge,
    match_pid: Badge,
    matched: Rights,
    unmatched: Rights,
    need: Rights,
) -> Result<(), RightsError> {
    let badge_matched = badge == match_pid;
    if (badge_matched && matched.contains(need)) || unmatched.contains(need) {
        return Ok(());
    }
    let lacking_unmatched = need.difference(unmatched);
    let missing = if badge_matched {
        let lacking_matched = need.difference(matched);
        // Report the path the caller was closer to; ties go to matched, its own rights.
        if lacking_matched.bits().count_ones() <= lacking_unmatched.bits().count_ones() {
            lacking_matched
        } else {
            lacking_unmatched
        }
    } else {
        lacking_unmatched
    };
    Err(RightsError::Lacking {
        missing,
        badge_matched,
    })
}

/// An entry of an [`XObjectTable`](crate::XObjectTable): what a handle reaches and who may do what
/// with it. The security fields are private so that only the table (insert, give access) sets them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XObject<T> {
    /// The server's object (typically a cheap clone: an index or a shared pointer, since every
    /// entry made by giving access holds a clone).
    pub target: T,
    /// One word of per-client data for the server (K42's clientData: e.g. a file offset). Entries
    /// made by giving access start at 0.
    pub client_data: u64,
    pub(crate) match_pid: Badge,
    pub(crate) matched: Rights,
    pub(crate) unmatched: Rights,
    pub(crate) seq: u32,
    pub(crate) given_by: Option<Badge>,
}

impl<T> XObject<T> {
    /// The one process the matched rights belong to.
    pub fn match_pid(&self) -> Badge {
        self.match_pid
    }

    /// Rights for `match_pid` only.
    pub fn matched(&self) -> Rights {
        self.matched
    }

    /// Rights for any caller presenting the handle.
    pub fn unmatched(&self) -> Rights {
        self.unmatched
    }

    /// The slot's sequence number this entry was issued under.
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// The process whose give-access made this entry, if any; it may revoke the entry.
    pub fn given_by(&self) -> Option<Badge> {
        self.given_by
    }

    /// [`check`] against this entry.
    pub fn check(&self, badge: Badge, need: Rights) -> Result<(), RightsError> {
        check(badge, self.match_pid, self.matched, self.unmatched, need)
    }
}
