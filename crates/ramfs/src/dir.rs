//! A directory's entries, with the positions `getdents` cookies name.
//!
//! Every entry gets an id from a per-directory counter that only grows, and keeps it until it is
//! removed; the entries are listed in id order. A cookie is "the next id to list", so a listing
//! that resumes from a cookie never repeats or skips an entry that existed throughout, whatever
//! was added or removed in between (Linux's tmpfs keeps such stable offsets too,
//! `simple_offset_*` in `fs/libfs.c`). Positions 0 and 1 are `.` and `..` (`dirent.rs`); entry
//! ids start at [`FIRST_ID`].
//!
//! The directory also records its parent (what `..` names), which `rename` updates when it moves
//! the directory.

use alloc::collections::BTreeMap;
use alloc::collections::btree_map;
use alloc::vec::Vec;

use crate::Ino;

/// The first entry id; 0 and 1 are the positions of `.` and `..`.
pub(crate) const FIRST_ID: u64 = 2;

/// One directory's entries.
#[derive(Debug)]
pub(crate) struct Dir {
    /// The directory `..` names (the root's is itself).
    pub parent: Ino,
    /// Name → (id, inode).
    by_name: BTreeMap<Vec<u8>, (u64, Ino)>,
    /// Id → name, the listing order.
    by_id: BTreeMap<u64, Vec<u8>>,
    next_id: u64,
}

impl Dir {
    /// An empty directory inside `parent`.
    pub fn new(parent: Ino) -> Dir {
        Dir {
            parent,
            by_name: BTreeMap::new(),
            by_id: BTreeMap::new(),
            next_id: FIRST_ID,
        }
    }

    /// Entries, `.` and `..` not counted.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether the directory has no entries (besides `.` and `..`).
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The inode `name` names.
    pub fn get(&self, name: &[u8]) -> Option<Ino> {
        self.by_name.get(name).map(|&(_, ino)| ino)
    }

    /// Adds `name` → `ino` with a new id, listed after every existing entry. The name must be
    /// absent.
    pub fn insert(&mut self, name: &[u8], ino: Ino) {
        let id = self.next_id;
        self.next_id += 1;
        match self.by_name.entry(name.to_vec()) {
            btree_map::Entry::Vacant(v) => {
                v.insert((id, ino));
                self.by_id.insert(id, name.to_vec());
            }
            btree_map::Entry::Occupied(_) => debug_assert!(false, "duplicate entry"),
        }
    }

    /// Points the existing entry `name` at `ino`, keeping its position (`RENAME_EXCHANGE`).
    pub fn replace(&mut self, name: &[u8], ino: Ino) {
        if let Some(slot) = self.by_name.get_mut(name) {
            slot.1 = ino;
        }
    }

    /// Removes `name`, answering the inode it named.
    pub fn remove(&mut self, name: &[u8]) -> Option<Ino> {
        let (id, ino) = self.by_name.remove(name)?;
        self.by_id.remove(&id);
        Some(ino)
    }

    /// The entries with ids at or above `from`, in order: (id, name, inode).
    pub fn entries_from(&self, from: u64) -> impl Iterator<Item = (u64, &[u8], Ino)> {
        self.by_id.range(from..).map(move |(&id, name)| {
            let ino = self.by_name.get(name.as_slice()).map_or(0, |&(_, ino)| ino);
            (id, name.as_slice(), ino)
        })
    }

    /// Every entry, in listing order: (name, inode).
    pub fn entries(&self) -> impl Iterator<Item = (&[u8], Ino)> {
        self.entries_from(0).map(|(_, name, ino)| (name, ino))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn ids_only_grow() {
        let mut d = Dir::new(1);
        d.insert(b"b", 10);
        d.insert(b"a", 11);
        d.remove(b"b");
        d.insert(b"b", 12);
        let listed: Vec<_> = d
            .entries_from(0)
            .map(|(id, n, i)| (id, n.to_vec(), i))
            .collect();
        assert_eq!(listed, vec![(3, b"a".to_vec(), 11), (4, b"b".to_vec(), 12)]);
        d.replace(b"a", 13);
        assert_eq!(d.get(b"a"), Some(13));
        assert_eq!(d.len(), 2);
        assert_eq!(d.entries_from(4).count(), 1);
    }
}
