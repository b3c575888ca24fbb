//! A server's XObject table: the entries its clients' handles name.
//!
//! Slots live in one `Vec`; freed slots form an intrusive free list (LIFO, so a hot server keeps
//! reusing warm slots) and carry their next sequence number, so releasing an entry makes every old
//! handle to it stale at once (policy in `slot.rs`). Every client-facing lookup runs the check in
//! `object.rs`; the server-facing calls (`get`, `revoke`) skip only the rights, never staleness.

mod slot;

use alloc::vec::Vec;

pub use slot::FIRST_SEQ;
use slot::Slot;

use crate::{Badge, Rights, RightsError, XHandle, XObject};

/// A server's object table. `T` is the server's object reference (cloned for each given access).
#[derive(Clone, Debug)]
pub struct XObjectTable<T> {
    slots: Vec<Slot<T>>,
    /// Head of the free list threaded through vacant slots.
    free_head: Option<u32>,
    /// Live entries.
    len: usize,
    /// Most slots the table may grow to (live, vacant and retired alike), so a client spamming
    /// give-access cannot grow a server without bound.
    limit: u32,
}

impl<T> Default for XObjectTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> XObjectTable<T> {
    /// An empty table limited only by the index space.
    pub const fn new() -> Self {
        Self::with_limit(u32::MAX)
    }

    /// An empty table that never grows beyond `limit` slots.
    pub const fn with_limit(limit: u32) -> Self {
        Self {
            slots: Vec::new(),
            free_head: None,
            len: 0,
            limit,
        }
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is live.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds an entry for `target`: `matched` rights for `match_pid`, `unmatched` for any caller.
    /// `client_data` starts at 0.
    pub fn insert(
        &mut self,
        target: T,
        match_pid: Badge,
        matched: Rights,
        unmatched: Rights,
    ) -> Result<XHandle, RightsError> {
        let mut obj = XObject {
            target,
            client_data: 0,
            match_pid,
            matched,
            unmatched,
            seq: FIRST_SEQ,
            given_by: None,
        };
        if let Some(index) = self.free_head {
            let slot = &mut self.slots[index as usize];
            let Slot::Vacant {
                next_seq,
                next_free,
            } = *slot
            else {
                unreachable!("the free list threads vacant slots only");
            };
            self.free_head = next_free;
            obj.seq = next_seq;
            *slot = Slot::Occupied(obj);
            self.len += 1;
            return Ok(XHandle {
                index,
                seq: next_seq,
            });
        }
        let index = u32::try_from(self.slots.len())
            .ok()
            .filter(|&i| i < self.limit)
            .ok_or(RightsError::TableFull)?;
        self.slots.push(Slot::Occupied(obj));
        self.len += 1;
        Ok(XHandle {
            index,
            seq: FIRST_SEQ,
        })
    }

    /// The live entry `handle` names, without a rights check: for the server's own bookkeeping.
    pub fn get(&self, handle: XHandle) -> Result<&XObject<T>, RightsError> {
        self.slot(handle)?.resolve(handle)
    }

    /// As [`XObjectTable::get`], mutably (e.g. to set `client_data`).
    pub fn get_mut(&mut self, handle: XHandle) -> Result<&mut XObject<T>, RightsError> {
        self.slot_mut(handle)?.resolve_mut(handle)
    }

    /// The entry `handle` names if `badge` may make a call needing `need` on it: the lookup every
    /// client call goes through.
    pub fn lookup(
        &self,
        handle: XHandle,
        badge: Badge,
        need: Rights,
    ) -> Result<&XObject<T>, RightsError> {
        let obj = self.get(handle)?;
        obj.check(badge, need)?;
        Ok(obj)
    }

    /// As [`XObjectTable::lookup`], mutably: what the generated dispatch calls before a method.
    pub fn lookup_mut(
        &mut self,
        handle: XHandle,
        badge: Badge,
        need: Rights,
    ) -> Result<&mut XObject<T>, RightsError> {
        let obj = self.get_mut(handle)?;
        obj.check(badge, need)?;
        Ok(obj)
    }

    /// Gives process `to` access to `handle`'s object: a new entry matched to `to`, returned for the
    /// giver to pass on. Needs CONTROL. The new entry holds exactly the giver's power cut down to
    /// `rights`: matched = `rights ∩ matched` if the giver is the match_pid (else nothing), unmatched
    /// = `rights ∩ unmatched`. So for every set of rights, the receiver may call with it only if the
    /// giver could — never more, never a union of the two paths.
    pub fn give_access(
        &mut self,
        handle: XHandle,
        giver: Badge,
        to: Badge,
        rights: Rights,
    ) -> Result<XHandle, RightsError>
    where
        T: Clone,
    {
        let obj = self.lookup(handle, giver, Rights::CONTROL)?;
        let giver_matched = if giver == obj.match_pid {
            obj.matched
        } else {
            Rights::empty()
        };
        let target = obj.target.clone();
        let unmatched = rights.intersection(obj.unmatched);
        let new = self.insert(target, to, rights.intersection(giver_matched), unmatched)?;
        self.get_mut(new)?.given_by = Some(giver);
        Ok(new)
    }

    /// Releases (revokes) `handle`'s entry on behalf of `badge`, which must be the entry's
    /// match_pid (dropping its own access) or the process that gave it (revoking a delegation).
    /// Every handle to the entry is stale from now on. Returns the entry so the server can drop its
    /// reference to the target.
    pub fn release(&mut self, handle: XHandle, badge: Badge) -> Result<XObject<T>, RightsError> {
        let obj = self.get(handle)?;
        if obj.match_pid != badge && obj.given_by != Some(badge) {
            return Err(RightsError::NotHolder);
        }
        self.revoke(handle)
    }

    /// Revokes `handle`'s entry by the server's own decision (no badge check), e.g. when the object
    /// is destroyed.
    pub fn revoke(&mut self, handle: XHandle) -> Result<XObject<T>, RightsError> {
        self.get(handle)?;
        Ok(self.vacate(handle.index))
    }

    /// Releases every entry matched to `badge` (the process died). Entries it gave to others stay:
    /// their receivers keep the access they were given. Returns how many entries went.
    pub fn release_all_for(&mut self, badge: Badge) -> usize {
        self.take_all_for(badge).len()
    }

    /// [`XObjectTable::release_all_for`], returning the released entries, so the server can
    /// drop its references to their targets as each entry's own release would have.
    pub fn take_all_for(&mut self, badge: Badge) -> Vec<XObject<T>> {
        let mut taken = Vec::new();
        for index in 0..self.slots.len() {
            if matches!(&self.slots[index], Slot::Occupied(obj) if obj.match_pid == badge) {
                // Slot indices fit in u32: `insert` never grows the table past that.
                taken.push(self.vacate(index as u32));
            }
        }
        taken
    }

    /// Keeps only the entries `keep` approves; the others are revoked as by [`XObjectTable::revoke`].
    pub fn retain(&mut self, mut keep: impl FnMut(XHandle, &XObject<T>) -> bool) {
        for index in 0..self.slots.len() {
            let Slot::Occupied(obj) = &self.slots[index] else {
                continue;
            };
            // Slot indices fit in u32: `insert` never grows the table past that.
            let index = index as u32;
            let handle = XHandle {
                index,
                seq: obj.seq,
            };
            if !keep(handle, obj) {
                self.vacate(index);
            }
        }
    }

    /// Every live entry with its handle, in slot order: for debugging and tests.
    pub fn iter(&self) -> impl Iterator<Item = (XHandle, &XObject<T>)> {
        self.slots
            .iter()
            .zip(0..)
            .filter_map(|(slot, index)| match slot {
                Slot::Occupied(obj) => Some((
                    XHandle {
                        index,
                        seq: obj.seq,
                    },
                    obj,
                )),
                _ => None,
            })
    }

    fn slot(&self, handle: XHandle) -> Result<&Slot<T>, RightsError> {
        self.slots
            .get(handle.index as usize)
            .ok_or(RightsError::NoSuchHandle(handle))
    }

    fn slot_mut(&mut self, handle: XHandle) -> Result<&mut Slot<T>, RightsError> {
        self.slots
            .get_mut(handle.index as usize)
            .ok_or(RightsError::NoSuchHandle(handle))
    }

    /// Takes the live entry out of slot `index`, bumping the slot's sequence number (or retiring
    /// it) and pushing it on the free list.
    fn vacate(&mut self, index: u32) -> XObject<T> {
        let slot = &mut self.slots[index as usize];
        let seq = match slot {
            Slot::Occupied(obj) => obj.seq,
            _ => unreachable!("vacate is called on live entries only"),
        };
        let next = Slot::after_release(seq, self.free_head);
        if matches!(next, Slot::Vacant { .. }) {
            self.free_head = Some(index);
        }
        let Slot::Occupied(obj) = core::mem::replace(slot, next) else {
            unreachable!("checked occupied above");
        };
        self.len -= 1;
        obj
    }

    /// Test hook: makes the live entry at `handle` look as if it had been issued `seq`, to test the
    /// end of the sequence space without 2³² releases.
    #[cfg(test)]
    pub(crate) fn force_seq(&mut self, handle: XHandle, seq: u32) -> XHandle {
        let obj = self.get_mut(handle).expect("live handle");
        obj.seq = seq;
        XHandle { seq, ..handle }
    }
}

#[cfg(test)]
mod tests;
