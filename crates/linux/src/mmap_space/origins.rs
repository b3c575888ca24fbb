//! Where the pages of file mappings come from: for each page-aligned `[start, end)` of a file
//! mapping, the file (a `T` the personality chooses: its open file) and the file offset of
//! `start`. Linux keeps the same in each VMA (`vm_file`, `vm_pgoff`); the personality needs it
//! when a mapping grows (`mremap`), whose new pages show the file's bytes that follow.
//!
//! It follows the map's changes as [`super::past_eof::PastEof`] does: whatever unmaps part of a
//! mapping (`munmap`, a `MAP_FIXED` mapping over it, `mremap`, `execve`) takes that part out,
//! and a piece cut from the front of a record keeps its place in the file (its offset moves
//! on with its start). A moving `mremap` carries the records with it ([`Origins::moved`]).
//!
//! Disjoint records sorted by start; touching records are kept apart (they may name different
//! files, or parts of one file that do not follow each other). The source of a record that
//! goes is not dropped here but kept until [`Origins::take_gone`]: the personality's sources
//! are file nodes, and dropping the last one is a call to the file server, which the caller
//! makes only once it has let its own lock go.

use alloc::vec::Vec;

/// One record: `[start, end)` maps `source` from file offset `offset` on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin<T> {
    /// First address (page-aligned).
    pub start: u64,
    /// One past the last address (page-aligned, above `start`).
    pub end: u64,
    /// The file offset `start` maps.
    pub offset: u64,
    /// The file.
    pub source: T,
}

/// The origins of the file mappings of one address space (module comment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origins<T> {
    records: Vec<Origin<T>>,
    /// The sources of records that went, until taken.
    gone: Vec<T>,
}

impl<T> Default for Origins<T> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            gone: Vec::new(),
        }
    }
}

impl<T: Clone> Origins<T> {
    /// Nothing recorded.
    pub const fn new() -> Self {
        Self {
            records: Vec::new(),
            gone: Vec::new(),
        }
    }

    /// The sources of the records that went since the last call (module comment).
    pub fn take_gone(&mut self) -> Vec<T> {
        core::mem::take(&mut self.gone)
    }

    /// Records that `[start, end)` maps `source` from file offset `offset` on, replacing
    /// whatever was recorded there. Nothing for an empty range.
    pub fn add(&mut self, start: u64, end: u64, source: T, offset: u64) {
        if start >= end {
            return;
        }
        self.remove(start, end);
        let at = self.records.partition_point(|r| r.start < start);
        self.records.insert(
            at,
            Origin {
                start,
                end,
                offset,
                source,
            },
        );
    }

    /// Forgets whatever of `[start, end)` was recorded; a record cut in two keeps both ends,
    /// each at its own place in the file.
    pub fn remove(&mut self, start: u64, end: u64) {
        // Most unmaps touch no file mapping: they rebuild nothing.
        if start >= end || !self.records.iter().any(|r| r.start < end && r.end > start) {
            return;
        }
        let mut kept = Vec::with_capacity(self.records.len() + 1);
        for r in self.records.drain(..) {
            if r.end <= start || r.start >= end {
                kept.push(r);
                continue;
            }
            let right_offset = r.offset.saturating_add(end.saturating_sub(r.start));
            match (r.start < start, r.end > end) {
                (false, false) => self.gone.push(r.source),
                (true, false) => kept.push(Origin { end: start, ..r }),
                (false, true) => kept.push(Origin {
                    start: end,
                    offset: right_offset,
                    ..r
                }),
                (true, true) => {
                    kept.push(Origin {
                        end: start,
                        ..r.clone()
                    });
                    kept.push(Origin {
                        start: end,
                        offset: right_offset,
                        ..r
                    });
                }
            }
        }
        self.records = kept;
    }

    /// The file `addr` maps and the file offset of `addr`'s own byte, if a record holds it.
    pub fn at(&self, addr: u64) -> Option<(&T, u64)> {
        let at = self.records.partition_point(|r| r.start <= addr);
        let r = self.records.get(at.checked_sub(1)?)?;
        (addr < r.end).then(|| (&r.source, r.offset.saturating_add(addr - r.start)))
    }

    /// A moving `mremap`: the records of `[from, from + len)` move to `[to, to + len)`, each at
    /// the same place in its file, replacing whatever was recorded there.
    pub fn moved(&mut self, from: u64, len: u64, to: u64) {
        let Some(end) = from.checked_add(len) else {
            return;
        };
        let moving: Vec<Origin<T>> = self
            .records
            .iter()
            .filter(|r| r.start < end && r.end > from)
            .map(|r| {
                let (s, e) = (r.start.max(from), r.end.min(end));
                Origin {
                    start: s,
                    end: e,
                    offset: r.offset.saturating_add(s - r.start),
                    source: r.source.clone(),
                }
            })
            .collect();
        self.remove(from, end);
        if let Some(to_end) = to.checked_add(len) {
            self.remove(to, to_end);
        }
        for r in moving {
            let start = r.start - from + to;
            self.add(start, start + (r.end - r.start), r.source, r.offset);
        }
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Every record, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Origin<T>> + '_ {
        self.records.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const P: u64 = 0x1000;

    fn spans(o: &Origins<char>) -> Vec<(u64, u64, u64, char)> {
        o.iter()
            .map(|r| (r.start, r.end, r.offset, r.source))
            .collect()
    }

    #[test]
    fn at_names_the_file_and_the_offset_of_the_byte() {
        let mut o = Origins::new();
        o.add(4 * P, 8 * P, 'a', 10 * P);
        o.add(P, 2 * P, 'b', 0);
        assert_eq!(o.at(4 * P), Some((&'a', 10 * P)));
        assert_eq!(o.at(6 * P + 5), Some((&'a', 12 * P + 5)));
        assert_eq!(o.at(P + 1), Some((&'b', 1)));
        assert_eq!(o.at(8 * P), None, "one past the end");
        assert_eq!(o.at(3 * P), None, "a hole");
        assert_eq!(o.at(0), None, "below every record");
        o.add(0, 0, 'c', 0);
        assert_eq!(spans(&o).len(), 2, "an empty range records nothing");
    }

    #[test]
    fn remove_keeps_both_ends_each_at_its_place_in_the_file() {
        let mut o = Origins::new();
        o.add(P, 9 * P, 'a', 100 * P);
        o.remove(3 * P, 5 * P);
        assert_eq!(
            spans(&o),
            vec![(P, 3 * P, 100 * P, 'a'), (5 * P, 9 * P, 104 * P, 'a')]
        );
        o.remove(0, 2 * P);
        o.remove(8 * P, 20 * P);
        assert_eq!(
            spans(&o),
            vec![(2 * P, 3 * P, 101 * P, 'a'), (5 * P, 8 * P, 104 * P, 'a')]
        );
        assert!(
            o.take_gone().is_empty(),
            "a record cut in two keeps its source"
        );
        o.remove(0, 20 * P);
        assert!(o.is_empty());
        assert_eq!(
            o.take_gone(),
            vec!['a', 'a'],
            "each record that went leaves its source"
        );
        assert!(o.take_gone().is_empty());
    }

    #[test]
    fn add_replaces_what_it_covers() {
        let mut o = Origins::new();
        o.add(P, 5 * P, 'a', 0);
        o.add(2 * P, 3 * P, 'b', 7 * P);
        assert_eq!(
            spans(&o),
            vec![
                (P, 2 * P, 0, 'a'),
                (2 * P, 3 * P, 7 * P, 'b'),
                (3 * P, 5 * P, 2 * P, 'a')
            ]
        );
    }

    #[test]
    fn moved_carries_the_records_and_their_offsets() {
        let mut o = Origins::new();
        o.add(P, 3 * P, 'a', 10 * P);
        o.add(3 * P, 4 * P, 'b', 0);
        o.add(20 * P, 21 * P, 'z', 0);
        // The middle of `a` and all of `b` move up; what was at the target goes.
        o.moved(2 * P, 2 * P, 20 * P);
        assert_eq!(
            spans(&o),
            vec![
                (P, 2 * P, 10 * P, 'a'),
                (20 * P, 21 * P, 11 * P, 'a'),
                (21 * P, 22 * P, 0, 'b')
            ]
        );
        // A move to a lower address that overlaps where it came from.
        o.moved(20 * P, 2 * P, 19 * P);
        assert_eq!(
            spans(&o),
            vec![
                (P, 2 * P, 10 * P, 'a'),
                (19 * P, 20 * P, 11 * P, 'a'),
                (20 * P, 21 * P, 0, 'b')
            ]
        );
    }
}
