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

use super::{PROT_MASK, PROT_WRITE};

/// The page-fault error code's write bit (Intel SDM vol. 3, 4.7: `W/R`).
const PF_WRITE: u64 = 1 << 1;

/// Whether a page fault (CPU error code `err`) on a recorded page of a mapping with protection
/// `prot` is Linux's SIGBUS, rather than SIGSEGV (`SEGV_ACCERR`): Linux checks the access
/// against the mapping first (`do_user_addr_fault`'s `access_error`: a write needs
/// `PROT_WRITE`, any other access some protection), and only an allowed access reaches the
/// file (`filemap_fault`), which finds no page past the end.
pub fn fault_is_sigbus(prot: u8, err: u64) -> bool {
    if err & PF_WRITE != 0 {
        prot & PROT_WRITE != 0
    } else {
        prot & PROT_MASK != 0
    }
}

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
        // Most unmaps touch no such page: they rebuild nothing.
        if start >= end || !self.ranges.iter().any(|&(s, e)| s < end && e > start) {
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
    fn the_mapping_protection_comes_first() {
        use super::super::{PROT_EXEC, PROT_NONE, PROT_READ};
        let (read, write) = (0b100, 0b110); // user, not present; a write sets bit 1
        assert!(fault_is_sigbus(PROT_READ, read));
        assert!(fault_is_sigbus(PROT_READ | PROT_WRITE, write));
        assert!(fault_is_sigbus(PROT_EXEC, read));
        assert!(
            !fault_is_sigbus(PROT_READ, write),
            "a write to a read-only page: SIGSEGV"
        );
        assert!(!fault_is_sigbus(PROT_NONE, read), "PROT_NONE: SIGSEGV");
        assert!(!fault_is_sigbus(PROT_NONE, write));
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
