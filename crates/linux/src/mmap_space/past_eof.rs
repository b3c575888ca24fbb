//! The pages of file mappings that lie wholly past their file's end.
//!
//! Linux maps them but raises SIGBUS (`BUS_ADRERR`) when the program touches one (`filemap_fault`
//! finds no page there); the bytes of the file's last page past its end read as zeros. The
//! personality maps such pages with no access at all and records them here, so that the fault a
//! touch causes becomes SIGBUS instead of SIGSEGV, and so that `mprotect` leaves them without
//! access whatever the mapping's protection becomes. Whatever unmaps them (`munmap`, a
//! `MAP_FIXED` mapping over them, `mremap`, `execve`) takes them out of the set.
//!
//! A set of disjoint, sorted, page-aligned `[start, end)` ranges; neighbours are merged.

use alloc::vec::Vec;

/// Pages past their file's end (module comment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PastEof {
    ranges: Vec<(u64, u64)>,
}

impl PastEof {
    /// Nothing recorded.
    pub const fn new() -> Self {
        Self { ranges: Vec::new() }
    }

    /// Records `[start, end)`.
    pub fn add(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        self.remove(start, end);
        let at = self.ranges.partition_point(|&(s, _)| s < start);
        self.ranges.insert(at, (start, end));
        // Merge with touching neighbours.
        if at + 1 < self.ranges.len() && self.ranges[at + 1].0 == end {
            self.ranges[at].1 = self.ranges[at + 1].1;
            self.ranges.remove(at + 1);
        }
        if at > 0 && self.ranges[at - 1].1 == start {
            self.ranges[at - 1].1 = self.ranges[at].1;
            self.ranges.remove(at);
        }
    }

    /// Forgets whatever of `[start, end)` was recorded.
    pub fn remove(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let mut kept = Vec::with_capacity(self.ranges.len() + 1);
        for &(s, e) in &self.ranges {
            if e <= start || s >= end {
                kept.push((s, e));
                continue;
            }
            if s < start {
                kept.push((s, start));
            }
            if e > end {
                kept.push((end, e));
            }
        }
        self.ranges = kept;
    }

    /// Whether `addr` lies in a recorded page.
    pub fn contains(&self, addr: u64) -> bool {
        let at = self.ranges.partition_point(|&(s, _)| s <= addr);
        at > 0 && addr < self.ranges[at - 1].1
    }

    /// The recorded parts of `[start, end)`, in order.
    pub fn within(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        self.ranges
            .iter()
            .filter(|&&(s, e)| s < end && e > start)
            .map(|&(s, e)| (s.max(start), e.min(end)))
            .collect()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const P: u64 = 0x1000;

    #[test]
    fn add_merges_and_contains() {
        let mut s = PastEof::new();
        s.add(4 * P, 6 * P);
        s.add(P, 2 * P);
        s.add(2 * P, 3 * P);
        assert_eq!(s.within(0, 10 * P), vec![(P, 3 * P), (4 * P, 6 * P)]);
        assert!(s.contains(P) && s.contains(3 * P - 1) && s.contains(5 * P));
        assert!(!s.contains(P - 1) && !s.contains(3 * P) && !s.contains(6 * P));
        s.add(3 * P, 4 * P);
        assert_eq!(s.within(0, 10 * P), vec![(P, 6 * P)]);
        s.add(0, 0);
        assert_eq!(s.within(0, 10 * P), vec![(P, 6 * P)]);
    }

    #[test]
    fn remove_splits_and_trims() {
        let mut s = PastEof::new();
        s.add(P, 8 * P);
        s.remove(3 * P, 4 * P);
        assert_eq!(s.within(0, 10 * P), vec![(P, 3 * P), (4 * P, 8 * P)]);
        s.remove(0, 2 * P);
        s.remove(7 * P, 9 * P);
        assert_eq!(s.within(0, 10 * P), vec![(2 * P, 3 * P), (4 * P, 7 * P)]);
        assert_eq!(s.within(5 * P, 6 * P), vec![(5 * P, 6 * P)]);
        s.remove(0, 10 * P);
        assert!(s.is_empty());
    }
}
