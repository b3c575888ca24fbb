//! One loadable segment of a plan (`PT_LOAD`), already biased and validated, with the three ranges
//! a loader works from: the pages to map, the file bytes to copy, and the bytes to zero (`.bss`).
//!
//! The fields are private so that every `Segment` in existence came out of [`crate::plan`], which
//! checked all of their sums: the range helpers can then add without overflow.

use core::ops::Range;

use crate::page::{page_ceil, page_floor};

bitflags::bitflags! {
    /// Access a segment's pages get, from its `p_flags` (`PF_R`, `PF_W`, `PF_X`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Prot: u8 {
        /// Readable (`PF_R`).
        const READ = 1 << 0;
        /// Writable (`PF_W`).
        const WRITE = 1 << 1;
        /// Executable (`PF_X`).
        const EXEC = 1 << 2;
    }
}

/// A `PT_LOAD` segment as it will sit in memory.
///
/// Addresses are biased (the load bias of a PIE is already added). The segment occupies
/// `[vaddr, vaddr + mem_size)`; its first `file_size` bytes come from the file at `file_offset`
/// and the rest are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    vaddr: u64,
    mem_size: u64,
    file_offset: u64,
    file_size: u64,
    prot: Prot,
    align: u64,
}

impl Segment {
    /// A placeholder for the unused slots of a plan's fixed array; never handed out.
    pub(crate) const EMPTY: Segment = Segment {
        vaddr: 0,
        mem_size: 0,
        file_offset: 0,
        file_size: 0,
        prot: Prot::empty(),
        align: 0,
    };

    /// Builds a segment. The caller ([`crate::plan`]) has checked that `vaddr + mem_size`, its page
    /// round-up and `file_offset + file_size` do not overflow and that `file_size <= mem_size`.
    pub(crate) const fn new(
        vaddr: u64,
        mem_size: u64,
        file_offset: u64,
        file_size: u64,
        prot: Prot,
        align: u64,
    ) -> Segment {
        Segment {
            vaddr,
            mem_size,
            file_offset,
            file_size,
            prot,
            align,
        }
    }

    /// First byte of the segment in memory (biased `p_vaddr`).
    pub const fn vaddr(&self) -> u64 {
        self.vaddr
    }

    /// Bytes the segment occupies in memory (`p_memsz`).
    pub const fn mem_size(&self) -> u64 {
        self.mem_size
    }

    /// Where the segment's initialised bytes start in the file (`p_offset`).
    pub const fn file_offset(&self) -> u64 {
        self.file_offset
    }

    /// How many bytes come from the file (`p_filesz`); the remaining `mem_size - file_size` are zero.
    pub const fn file_size(&self) -> u64 {
        self.file_size
    }

    /// Access the mapped pages get.
    pub const fn prot(&self) -> Prot {
        self.prot
    }

    /// The segment's `p_align` as written in the file (0 or 1: no constraint). Informational: the
    /// plan already checked it; mappings are page granular whatever it says.
    pub const fn align(&self) -> u64 {
        self.align
    }

    /// One past the segment's last byte in memory.
    pub const fn end(&self) -> u64 {
        // Checked by plan: vaddr + mem_size does not overflow.
        self.vaddr + self.mem_size
    }

    /// The whole pages to map (page-aligned, half open): from the page holding the first byte to
    /// the end of the page holding the last. Bytes of these pages outside [`Segment::vaddr`]..
    /// [`Segment::end`] must read as zero (fresh zeroed frames), or as the neighbouring file bytes
    /// if the loader maps file pages directly, as Linux does.
    pub const fn map_range(&self) -> Range<u64> {
        let end = match page_ceil(self.end()) {
            Some(end) => end,
            // Checked by plan: the rounded-up end does not overflow.
            None => u64::MAX,
        };
        page_floor(self.vaddr)..end
    }

    /// The file bytes to copy, as offsets into the image: `file_offset..file_offset + file_size`.
    pub const fn file_range(&self) -> Range<u64> {
        // Checked by plan: the range lies inside the file.
        self.file_offset..self.file_offset + self.file_size
    }

    /// Where [`Segment::file_range`] goes in memory: `vaddr..vaddr + file_size`.
    pub const fn copy_range(&self) -> Range<u64> {
        // file_size <= mem_size, so this does not overflow either.
        self.vaddr..self.vaddr + self.file_size
    }

    /// The bytes to zero after the copy (`.bss`): `vaddr + file_size..vaddr + mem_size`. Empty
    /// when the whole segment comes from the file.
    pub const fn zero_range(&self) -> Range<u64> {
        self.vaddr + self.file_size..self.end()
    }

    /// The bytes [`Segment::file_range`] names, taken from `image`; `None` if `image` is not (a
    /// prefix-compatible copy of) the file the plan was made from and is too short.
    pub fn file_bytes<'a>(&self, image: &'a [u8]) -> Option<&'a [u8]> {
        let start = usize::try_from(self.file_offset).ok()?;
        let end = usize::try_from(self.file_range().end).ok()?;
        image.get(start..end)
    }

    /// Whether `[start, start + len)` lies inside the segment's memory (empty ranges count if
    /// `start` is inside or at the end).
    pub(crate) fn contains_range(&self, start: u64, len: u64) -> bool {
        match start.checked_add(len) {
            Some(end) => self.vaddr <= start && end <= self.end(),
            None => false,
        }
    }
}
