//! The personality's map of the Linux program's address space, and the program break: the
//! bookkeeping behind `mmap`, `munmap`, `mprotect`, `mremap` and `brk`.
//!
//! The kernel keeps the authoritative regions of a space (`k42-vm`) and answers faults; the
//! personality keeps this map of the same space as Linux sees it, with what the kernel does not
//! know: which ranges are anonymous private or shared memory, the ELF image, the stack and its
//! guard. It decides placement (Linux's top-down mmap layout), refuses what Linux refuses, and
//! tells its caller which ranges to map, unmap or reprotect through the kernel.
//!
//! A [`MmapSpace`] is a set of non-overlapping, page-aligned [`Range`]s, each with one protection
//! (`PROT_*` bits, from linux-raw-sys, as a `u8`) and one [`Kind`]. Neighbours that touch and
//! agree in protection and kind are merged, as Linux merges VMAs (so a heap grown by many `brk`
//! calls is one range), except the kinds that name one mapping each ([`Kind::is_one_mapping`]):
//! two shared mappings are distinct objects even when adjacent, and two file mappings may be
//! of different files or offsets, which the map does not record ([`origins`] does, beside it).
//! Every operation that fails changes nothing.
//!
//! What Linux checks before it maps a file, and what kind of range the mapping becomes, is
//! [`file`].
//!
//! | operation                        | Linux call it serves                                  |
//! |----------------------------------|-------------------------------------------------------|
//! | [`MmapSpace::insert`]            | `mmap` at a free place, `MAP_FIXED_NOREPLACE` (EEXIST) |
//! | [`MmapSpace::insert_fixed`]      | `MAP_FIXED`: replaces what overlaps, returns it       |
//! | [`MmapSpace::remove`]            | `munmap`, and the old range of a moving `mremap`      |
//! | [`MmapSpace::protect`]           | `mprotect` (ENOMEM over a hole, EACCES to write a [`Kind::FileShared`]) |
//! | [`MmapSpace::find_free`]         | placement of a non-fixed `mmap` or a moving `mremap`  |
//! | [`MmapSpace::lookup`], [`MmapSpace::covering`] | faults (SIGSEGV or not), `mremap`'s source |
//! | [`Brk::set`]                     | `brk`                                                 |

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use linux_raw_sys::general as raw;

use crate::PAGE_SIZE;
use crate::errno::Errno;

pub mod file;
pub mod origins;
pub mod past_eof;

/// `PROT_NONE` as this map stores protections.
pub const PROT_NONE: u8 = raw::PROT_NONE as u8;
/// `PROT_READ` as this map stores protections.
pub const PROT_READ: u8 = raw::PROT_READ as u8;
/// `PROT_WRITE` as this map stores protections.
pub const PROT_WRITE: u8 = raw::PROT_WRITE as u8;
/// `PROT_EXEC` as this map stores protections.
pub const PROT_EXEC: u8 = raw::PROT_EXEC as u8;
/// Every protection bit a range may carry; any other bit is `EINVAL`.
pub const PROT_MASK: u8 = PROT_READ | PROT_WRITE | PROT_EXEC;

/// What a range of the Linux program's address space holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `MAP_PRIVATE | MAP_ANONYMOUS` memory, and the heap `brk` grows.
    AnonPrivate,
    /// `MAP_SHARED | MAP_ANONYMOUS` memory: shared with the children a `fork` makes. Never merged
    /// with a neighbour.
    AnonShared,
    /// The segments of an ELF image (the program's or its interpreter's).
    Image,
    /// The main thread's stack.
    Stack,
    /// An inaccessible guard range (below the stack, between thread stacks).
    Guard,
    /// `MAP_PRIVATE` of a file: private memory filled from the file's bytes when it was mapped,
    /// copy-on-write across fork like [`Kind::AnonPrivate`]. Never merged with a neighbour.
    FilePrivate,
    /// `MAP_SHARED` of a file, read-only: the file's bytes as they were when it was mapped. It
    /// can never be made writable ([`MmapSpace::protect`]: `EACCES`), since writes would not
    /// reach the file. Never merged with a neighbour.
    FileShared,
}

impl Kind {
    /// Whether a range of this kind is one mapping of its own, never merged with a neighbour:
    /// a shared object, or a file mapping (whose file and offset the map does not record).
    pub fn is_one_mapping(self) -> bool {
        matches!(
            self,
            Kind::AnonShared | Kind::FilePrivate | Kind::FileShared
        )
    }
}

/// One range of the map: `[start, end)`, page-aligned and non-empty, with one protection and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Range {
    /// First address (page-aligned).
    pub start: u64,
    /// One past the last address (page-aligned, above `start`).
    pub end: u64,
    /// `PROT_*` bits ([`PROT_MASK`]).
    pub prot: u8,
    /// What the range holds.
    pub kind: Kind,
}

impl Range {
    /// Its length in bytes, a multiple of [`PAGE_SIZE`].
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Always false: a range holds at least one page.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `addr` lies in `[start, end)`.
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    /// Whether this range and `next` (which starts where this one ends) may be one range.
    fn merges_with(&self, next: &Range) -> bool {
        self.end == next.start
            && self.prot == next.prot
            && self.kind == next.kind
            && !self.kind.is_one_mapping()
    }
}

/// `addr` rounded up to a page boundary, `None` on overflow.
pub fn page_ceil(addr: u64) -> Option<u64> {
    Some(addr.checked_add(PAGE_SIZE - 1)? & !(PAGE_SIZE - 1))
}

/// The page range `[start, end)` a call names with `start` and `len`, `len` rounded up to whole
/// pages as every Linux memory call does: `EINVAL` if `start` is not page-aligned or `len` is 0,
/// `ENOMEM` if the end passes the top of the 64-bit space (Linux's `mmap` answer; `munmap` says
/// `EINVAL` there, which its caller substitutes).
pub fn check_range(start: u64, len: u64) -> Result<(u64, u64), Errno> {
    if !start.is_multiple_of(PAGE_SIZE) || len == 0 {
        return Err(Errno::EINVAL);
    }
    let end = page_ceil(len)
        .and_then(|l| start.checked_add(l))
        .ok_or(Errno::ENOMEM)?;
    Ok((start, end))
}

/// `EINVAL` for protection bits outside [`PROT_MASK`].
fn check_prot(prot: u8) -> Result<(), Errno> {
    if prot & !PROT_MASK != 0 {
        Err(Errno::EINVAL)
    } else {
        Ok(())
    }
}

/// The Linux program's address space as the personality tracks it; see the module documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MmapSpace {
    /// The ranges by start address.
    ranges: BTreeMap<u64, Range>,
}

impl MmapSpace {
    /// An empty space.
    pub fn new() -> MmapSpace {
        MmapSpace::default()
    }

    /// The ranges, in address order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Range> + '_ {
        self.ranges.values()
    }

    /// How many ranges the map holds (after merging).
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The range holding `addr`, if any.
    pub fn lookup(&self, addr: u64) -> Option<Range> {
        self.ranges
            .range(..=addr)
            .next_back()
            .map(|(_, r)| *r)
            .filter(|r| r.contains(addr))
    }

    /// The one range holding all of `[start, start + len)`, if there is one (`mremap`'s source
    /// must lie in a single mapping; Linux answers `EFAULT` otherwise). `len` 0 asks about `start`.
    pub fn covering(&self, start: u64, len: u64) -> Option<Range> {
        let r = self.lookup(start)?;
        let last = start.checked_add(len.max(1) - 1)?;
        r.contains(last).then_some(r)
    }

    /// Whether every page of `[start, end)` is mapped (no hole; `mlock`, `msync` and
    /// `madvise` answer `ENOMEM` for one).
    pub fn is_mapped(&self, start: u64, end: u64) -> bool {
        let mut cursor = start;
        while cursor < end {
            match self.lookup(cursor) {
                Some(r) => cursor = r.end,
                None => return false,
            }
        }
        true
    }

    /// Whether no page of `[start, end)` is mapped.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        self.overlapping(start, end).next().is_none()
    }

    /// The ranges that share a page with `[start, end)`, in address order.
    fn overlapping(&self, start: u64, end: u64) -> impl Iterator<Item = &Range> + '_ {
        let before = self
            .ranges
            .range(..start)
            .next_back()
            .map(|(_, r)| r)
            .filter(|r| r.end > start);
        let inside = self.ranges.range(start..end.max(start)).map(|(_, r)| r);
        before.into_iter().chain(inside)
    }

    /// Maps `[start, start + len)` (`len` rounded up to pages) with `prot` and `kind` where nothing
    /// is mapped yet: `EEXIST` if any page of it is taken (`MAP_FIXED_NOREPLACE`), `EINVAL` for an
    /// unaligned start, a zero length or unknown `prot` bits, `ENOMEM` past the top.
    pub fn insert(&mut self, start: u64, len: u64, prot: u8, kind: Kind) -> Result<(), Errno> {
        let (start, end) = check_range(start, len)?;
        check_prot(prot)?;
        if !self.is_free(start, end) {
            return Err(Errno::EEXIST);
        }
        self.put(Range {
            start,
            end,
            prot,
            kind,
        });
        Ok(())
    }

    /// `MAP_FIXED`: maps `[start, start + len)` like [`MmapSpace::insert`], first removing whatever
    /// overlaps it. Returns the removed pieces (clipped to the new range, in address order) for the
    /// caller to unmap. Errors as `insert`, without `EEXIST`; on error nothing is removed.
    pub fn insert_fixed(
        &mut self,
        start: u64,
        len: u64,
        prot: u8,
        kind: Kind,
    ) -> Result<Vec<Range>, Errno> {
        let (start, end) = check_range(start, len)?;
        check_prot(prot)?;
        let removed = self.cut(start, end);
        self.put(Range {
            start,
            end,
            prot,
            kind,
        });
        Ok(removed)
    }

    /// `munmap`: removes every page of `[start, start + len)` (`len` rounded up to pages),
    /// splitting ranges it covers only in part, and returns the removed pieces in address order
    /// (empty if nothing was mapped there). An unaligned `start`, a zero `len` or an overflowing
    /// end removes nothing: check with [`check_range`] first to answer `EINVAL`.
    pub fn remove(&mut self, start: u64, len: u64) -> Vec<Range> {
        match check_range(start, len) {
            Ok((start, end)) => self.cut(start, end),
            Err(_) => Vec::new(),
        }
    }

    /// `mprotect`: gives every page of `[start, start + len)` (`len` rounded up to pages) the
    /// protection `prot`, splitting and merging as needed, and returns the affected pieces as they
    /// were (with their old protection, clipped to the range). `ENOMEM` if any page of the range is
    /// unmapped (as Linux), `EACCES` if `prot` would make a [`Kind::FileShared`] page writable
    /// (Linux's answer for a shared mapping whose file is not open for writing), whichever the
    /// walk up from `start` meets first, as Linux's; `EINVAL` for an unaligned start or unknown
    /// bits; a zero `len` succeeds and changes nothing (as Linux).
    pub fn protect(&mut self, start: u64, len: u64, prot: u8) -> Result<Vec<Range>, Errno> {
        if len == 0 && start.is_multiple_of(PAGE_SIZE) {
            check_prot(prot)?;
            return Ok(Vec::new());
        }
        let (start, end) = check_range(start, len)?;
        check_prot(prot)?;
        let mut cursor = start;
        for r in self.overlapping(start, end) {
            if r.start > cursor {
                return Err(Errno::ENOMEM);
            }
            if r.kind == Kind::FileShared && prot & PROT_WRITE != 0 {
                return Err(Errno::EACCES);
            }
            cursor = r.end;
        }
        if cursor < end {
            return Err(Errno::ENOMEM);
        }
        let old = self.cut(start, end);
        for piece in &old {
            self.ranges.insert(piece.start, Range { prot, ..*piece });
        }
        self.coalesce(start, end);
        Ok(old)
    }

    /// Where a non-fixed mapping of `len` bytes (rounded up to pages) goes: `hint` itself (rounded
    /// up to a page, as Linux does) if it is not 0 and `[hint, hint + len)` is free and inside
    /// `[floor, ceiling)`; otherwise the highest free place of that size inside `[floor, ceiling)`
    /// (top-down first fit, Linux's default mmap layout with `ceiling` = `mmap_base`). `None` for a
    /// zero `len` or when nothing fits (`mmap`'s `ENOMEM`). `floor` is rounded up and `ceiling`
    /// down to pages.
    pub fn find_free(&self, len: u64, hint: u64, floor: u64, ceiling: u64) -> Option<u64> {
        if len == 0 {
            return None;
        }
        let len = page_ceil(len)?;
        let floor = page_ceil(floor)?;
        let ceiling = ceiling & !(PAGE_SIZE - 1);
        if ceiling < floor || ceiling - floor < len {
            return None;
        }
        if hint != 0
            && let Some(h) = page_ceil(hint)
            && h >= floor
            && h <= ceiling - len
            && self.is_free(h, h + len)
        {
            return Some(h);
        }
        // Walk the gaps from the ceiling down: `top` is the end of the current gap.
        let mut top = ceiling;
        for r in self
            .overlapping(floor, ceiling)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            if r.end < top && top - r.end >= len {
                return Some(top - len);
            }
            top = top.min(r.start);
            if top < floor || top - floor < len {
                return None;
            }
        }
        (top - floor >= len).then(|| top - len)
    }

    /// Removes every page of `[start, end)` (both page-aligned), returning the removed pieces.
    fn cut(&mut self, start: u64, end: u64) -> Vec<Range> {
        let hit: Vec<Range> = self.overlapping(start, end).copied().collect();
        let mut removed = Vec::with_capacity(hit.len());
        for r in hit {
            self.ranges.remove(&r.start);
            if r.start < start {
                self.ranges.insert(r.start, Range { end: start, ..r });
            }
            if r.end > end {
                self.ranges.insert(end, Range { start: end, ..r });
            }
            removed.push(Range {
                start: r.start.max(start),
                end: r.end.min(end),
                ..r
            });
        }
        removed
    }

    /// Adds a range over free pages and merges it with its neighbours.
    fn put(&mut self, r: Range) {
        self.ranges.insert(r.start, r);
        self.coalesce(r.start, r.end);
    }

    /// Merges every pair of touching, agreeing ranges from the one before `start` to the one
    /// starting at `end`: all the places an edit of `[start, end)` can have made mergeable.
    fn coalesce(&mut self, start: u64, end: u64) {
        let first = self
            .ranges
            .range(..start)
            .next_back()
            .map_or(start, |(&k, _)| k);
        let keys: Vec<u64> = self.ranges.range(first..=end).map(|(&k, _)| k).collect();
        let Some((&head, rest)) = keys.split_first() else {
            return;
        };
        let mut current = head;
        for &k in rest {
            let next = self.ranges[&k];
            let cur = self.ranges.get_mut(&current).expect("key listed above");
            if cur.merges_with(&next) {
                cur.end = next.end;
                self.ranges.remove(&k);
            } else {
                current = k;
            }
        }
    }
}

/// The program break: `start` is where the heap begins (the page after the image's bss, as Linux's
/// `mm->start_brk`), `current` the break the program last set (any byte address, not rounded) and
/// `limit` the highest break allowed (the personality's `RLIMIT_DATA` and room below `mmap_base`).
/// The heap's pages are `[page_ceil(start), page_ceil(current))`, mapped `PROT_READ | PROT_WRITE`
/// as [`Kind::AnonPrivate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Brk {
    /// The lowest break, and the start of the heap.
    pub start: u64,
    /// The break now.
    pub current: u64,
    /// The highest break [`Brk::set`] accepts.
    pub limit: u64,
}

/// What a [`Brk::set`] asks the caller to do in the kernel, the map having been updated already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrkChange {
    /// Nothing: the break stayed within its last page, or the request was refused.
    None,
    /// Map `[start, start + len)` anonymous, zero-filled, read-write.
    Map {
        /// First new page.
        start: u64,
        /// Bytes, whole pages.
        len: u64,
    },
    /// Unmap `[start, start + len)`.
    Unmap {
        /// First page no longer in the heap.
        start: u64,
        /// Bytes, whole pages.
        len: u64,
    },
}

impl Brk {
    /// A heap that is empty at `start`, growing at most to `limit`.
    pub fn new(start: u64, limit: u64) -> Brk {
        Brk {
            start,
            current: start,
            limit,
        }
    }

    /// `brk(requested)` with Linux's semantics (`mm/mmap.c`), returning the break (what the syscall
    /// returns) and what to do in the kernel; `space` is updated to match.
    ///
    /// - below `start` (`brk(0)` included) or above `limit`: refused, the current break returned;
    /// - within the current last page: the break moves, nothing is mapped or unmapped;
    /// - shrinking: the pages above the new break's page are removed from `space` (whatever they
    ///   hold now) and returned as [`BrkChange::Unmap`];
    /// - growing: refused unless `[old page end, new page end + one page)` is free in `space`
    ///   (Linux keeps a page's gap above the heap); then mapped and returned as [`BrkChange::Map`].
    ///
    /// A refusal returns the old break, as Linux does. If the kernel then fails to map the pages,
    /// the caller undoes the growth with `set(old_break, space)`.
    pub fn set(&mut self, requested: u64, space: &mut MmapSpace) -> (u64, BrkChange) {
        if requested < self.start || requested > self.limit {
            return (self.current, BrkChange::None);
        }
        let (Some(new_end), Some(old_end)) = (page_ceil(requested), page_ceil(self.current)) else {
            return (self.current, BrkChange::None);
        };
        if new_end == old_end {
            self.current = requested;
            return (requested, BrkChange::None);
        }
        if new_end < old_end {
            space.cut(new_end, old_end);
            self.current = requested;
            return (
                requested,
                BrkChange::Unmap {
                    start: new_end,
                    len: old_end - new_end,
                },
            );
        }
        let Some(guard_end) = new_end.checked_add(PAGE_SIZE) else {
            return (self.current, BrkChange::None);
        };
        if !space.is_free(old_end, guard_end) {
            return (self.current, BrkChange::None);
        }
        space.put(Range {
            start: old_end,
            end: new_end,
            prot: PROT_READ | PROT_WRITE,
            kind: Kind::AnonPrivate,
        });
        self.current = requested;
        (
            requested,
            BrkChange::Map {
                start: old_end,
                len: new_end - old_end,
            },
        )
    }
}

#[cfg(test)]
mod tests;
