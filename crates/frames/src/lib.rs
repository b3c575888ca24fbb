//! Physical frame allocator logic: a bitmap over 4 KiB frames whose storage is lent by the caller.
//!
//! The kernel needs physical pages before any heap exists (the heap itself is built from them), so this
//! crate never allocates: the kernel carves the bitmap out of usable memory from the boot memory map,
//! lends it here, adds the usable ranges and then reserves what is already taken (kernel image, initrd,
//! the bitmap itself, low memory). The Page Managers in the kernel's memory subsystem sit on top of it
//! and hand frames on to FCMs; the unsafe work of actually mapping those frames lives in the hal crate.
//! Being pure logic, it is tested on the host against a simple model.
#![no_std]

use core::fmt;

/// Size of one physical frame, the unit this allocator hands out.
pub const FRAME_SIZE: u64 = 4096;

/// Bits in one bitmap word.
const WORD_BITS: usize = u64::BITS as usize;

/// A bitmap word with every frame free.
const ALL_FREE: u64 = u64::MAX;

/// Why an allocator could not be built or a frame could not be freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The address is not a multiple of [`FRAME_SIZE`].
    Unaligned(u64),
    /// The address lies outside the span of frames this allocator manages (or the span overflows).
    OutOfRange(u64),
    /// The frame at this address was already free.
    DoubleFree(u64),
    /// The lent bitmap is shorter than the frame count requires.
    BitmapTooSmall {
        /// How many `u64` words the bitmap must have.
        needed_words: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Unaligned(addr) => {
                write!(
                    f,
                    "physical address {addr:#x} is not {FRAME_SIZE}-byte aligned"
                )
            }
            Error::OutOfRange(addr) => {
                write!(
                    f,
                    "physical address {addr:#x} is outside the managed frames"
                )
            }
            Error::DoubleFree(addr) => write!(f, "frame {addr:#x} freed while already free"),
            Error::BitmapTooSmall { needed_words } => {
                write!(f, "frame bitmap too small: {needed_words} words needed")
            }
        }
    }
}

/// Next-fit bitmap allocator over `frame_count` frames starting at physical address `base`.
///
/// A set bit means the frame is free; a clear bit means it is allocated, reserved, or was never usable.
/// Bits past `frame_count` in the last word are never set, so searches need no bounds masking.
#[derive(Debug)]
pub struct FrameAllocator<'a> {
    bitmap: &'a mut [u64],
    base: u64,
    frame_count: usize,
    free: usize,
    total: usize,
    /// Word where the last single-frame allocation succeeded: next-fit keeps repeated allocations from
    /// rescanning the exhausted low words every time.
    hint: usize,
}

impl<'a> FrameAllocator<'a> {
    /// Builds an allocator for frames numbered from `base` (a physical address, 4 KiB aligned).
    ///
    /// Bitmap bit = 1 means free. All frames start as *not free*: the caller adds usable ranges
    /// ([`add_usable`](Self::add_usable)) and then reserves ranges ([`reserve`](Self::reserve)), both
    /// before the first allocation. Only the first [`words_needed`](Self::words_needed) words of `bitmap`
    /// are used.
    pub fn new(bitmap: &'a mut [u64], base: u64, frame_count: usize) -> Result<Self, Error> {
        if !base.is_multiple_of(FRAME_SIZE) {
            return Err(Error::Unaligned(base));
        }
        // The end of the span must be representable, or range clipping would wrap.
        u64::try_from(frame_count)
            .ok()
            .and_then(|n| n.checked_mul(FRAME_SIZE))
            .and_then(|len| base.checked_add(len))
            .ok_or(Error::OutOfRange(base))?;
        let needed_words = Self::words_needed(frame_count);
        let Some(words) = bitmap.get_mut(..needed_words) else {
            return Err(Error::BitmapTooSmall { needed_words });
        };
        words.fill(0);
        Ok(Self {
            bitmap: words,
            base,
            frame_count,
            free: 0,
            total: 0,
            hint: 0,
        })
    }

    /// How many `u64` bitmap words `frame_count` frames need.
    pub fn words_needed(frame_count: usize) -> usize {
        frame_count.div_ceil(WORD_BITS)
    }

    /// Marks the whole frames inside the half-open physical range `[start, end)` free.
    ///
    /// The range is rounded *inward* (a partial frame is not usable) and clipped to the managed span.
    /// Frames already free are left alone, so overlapping ranges from the memory map are harmless.
    pub fn add_usable(&mut self, start: u64, end: u64) {
        let first = self.frame_ceil(start);
        let last = self.frame_floor(end);
        if first < last {
            let newly_free = self.set_range(first, last, true);
            self.free += newly_free;
            self.total += newly_free;
        }
    }

    /// Marks every frame touching the half-open physical range `[start, end)` not free.
    ///
    /// The range is rounded *outward* (anything overlapping a frame makes it unusable) and clipped to the
    /// managed span. Reserved frames no longer count in [`total_frames`](Self::total_frames).
    pub fn reserve(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let first = self.frame_floor(start);
        let last = self.frame_ceil(end);
        if first < last {
            let newly_taken = self.set_range(first, last, false);
            self.free -= newly_taken;
            self.total -= newly_taken;
        }
    }

    /// Allocates one frame and returns its physical address, or `None` when none is free.
    ///
    /// Next-fit: the search starts at the word of the previous success and wraps once, so the worst case
    /// is one pass over the bitmap words.
    pub fn alloc(&mut self) -> Option<u64> {
        let words = self.bitmap.len();
        if self.free == 0 || words == 0 {
            return None;
        }
        for step in 0..words {
            let index = (self.hint + step) % words;
            let word = self.bitmap[index];
            if word != 0 {
                let bit = word.trailing_zeros() as usize;
                self.bitmap[index] = word & !(1 << bit);
                self.free -= 1;
                self.hint = index;
                return Some(self.address_of(index * WORD_BITS + bit));
            }
        }
        None
    }

    /// Allocates `count` physically contiguous frames whose first address is a multiple of
    /// `align_frames * FRAME_SIZE`, and returns that address.
    ///
    /// An `align_frames` of 0 means no alignment (like 1). Returns `None` for `count == 0` or when no such
    /// run is free. First-fit from the bottom of the span, skipping past each busy frame it meets.
    pub fn alloc_contiguous(&mut self, count: usize, align_frames: usize) -> Option<u64> {
        if count == 0 || count > self.free {
            return None;
        }
        let align = align_frames.max(1) as u64;
        let base_frame = self.base / FRAME_SIZE;
        // Index of the first frame whose physical frame number is a multiple of `align`.
        let first_aligned = usize::try_from((align - base_frame % align) % align).ok()?;
        let align = usize::try_from(align).ok()?;
        let mut candidate = first_aligned;
        loop {
            let end = candidate.checked_add(count)?;
            if end > self.frame_count {
                return None;
            }
            match self.last_busy(candidate, end) {
                None => {
                    let newly_taken = self.set_range(candidate, end, false);
                    self.free -= newly_taken;
                    return Some(self.address_of(candidate));
                }
                Some(busy) => {
                    // The next aligned frame strictly after the busy one.
                    let steps = (busy + 1 - first_aligned).div_ceil(align);
                    candidate = first_aligned.checked_add(steps.checked_mul(align)?)?;
                }
            }
        }
    }

    /// Frees the frame at physical address `addr`.
    ///
    /// Detects unaligned and out-of-range addresses and frames that are already free. It cannot tell a
    /// frame that was reserved or never usable from an allocated one: freeing such a frame makes it usable.
    pub fn free(&mut self, addr: u64) -> Result<(), Error> {
        if !addr.is_multiple_of(FRAME_SIZE) {
            return Err(Error::Unaligned(addr));
        }
        let index = self.index_of(addr).ok_or(Error::OutOfRange(addr))?;
        let (word, mask) = (index / WORD_BITS, 1u64 << (index % WORD_BITS));
        if self.bitmap[word] & mask != 0 {
            return Err(Error::DoubleFree(addr));
        }
        self.bitmap[word] |= mask;
        self.free += 1;
        Ok(())
    }

    /// Frames free right now.
    pub fn free_frames(&self) -> usize {
        self.free
    }

    /// Frames ever added as usable, minus those reserved: free plus allocated.
    pub fn total_frames(&self) -> usize {
        self.total
    }

    /// Physical address of frame `index`.
    fn address_of(&self, index: usize) -> u64 {
        self.base + index as u64 * FRAME_SIZE
    }

    /// Frame index of `addr`, if it lies inside the span.
    fn index_of(&self, addr: u64) -> Option<usize> {
        let index = usize::try_from(addr.checked_sub(self.base)? / FRAME_SIZE).ok()?;
        (index < self.frame_count).then_some(index)
    }

    /// Index of the first frame starting at or after `addr`, clipped to `[0, frame_count]`.
    fn frame_ceil(&self, addr: u64) -> usize {
        let Some(offset) = addr.checked_sub(self.base) else {
            return 0;
        };
        usize::try_from(offset.div_ceil(FRAME_SIZE))
            .map_or(self.frame_count, |i| i.min(self.frame_count))
    }

    /// Index of the frame containing `addr` (or the end of the span), clipped to `[0, frame_count]`.
    fn frame_floor(&self, addr: u64) -> usize {
        let Some(offset) = addr.checked_sub(self.base) else {
            return 0;
        };
        usize::try_from(offset / FRAME_SIZE).map_or(self.frame_count, |i| i.min(self.frame_count))
    }

    /// Bits of word `word` that cover frames `[first, last)`.
    fn word_mask(word: usize, first: usize, last: usize) -> u64 {
        let word_start = word * WORD_BITS;
        let lo = first.max(word_start) - word_start;
        let hi = last.min(word_start + WORD_BITS) - word_start;
        let upper = if hi == WORD_BITS {
            ALL_FREE
        } else {
            (1u64 << hi) - 1
        };
        upper & !((1u64 << lo) - 1)
    }

    /// Sets frames `[first, last)` free or not free; returns how many bits actually changed.
    fn set_range(&mut self, first: usize, last: usize, free: bool) -> usize {
        let mut changed = 0;
        for word in first / WORD_BITS..last.div_ceil(WORD_BITS) {
            let mask = Self::word_mask(word, first, last);
            let old = self.bitmap[word];
            let new = if free { old | mask } else { old & !mask };
            changed += (old ^ new).count_ones() as usize;
            self.bitmap[word] = new;
        }
        changed
    }

    /// Highest frame in `[first, last)` that is not free, a word at a time.
    fn last_busy(&self, first: usize, last: usize) -> Option<usize> {
        for word in (first / WORD_BITS..last.div_ceil(WORD_BITS)).rev() {
            let busy = !self.bitmap[word] & Self::word_mask(word, first, last);
            if busy != 0 {
                let top = (WORD_BITS - 1) - busy.leading_zeros() as usize;
                return Some(word * WORD_BITS + top);
            }
        }
        None
    }
}

/// Given the boot memory map's usable ranges (half-open physical `(start, end)`), the span
/// `[lowest, highest)` to manage, or `None` if no range holds a whole frame.
///
/// The bounds are rounded *inward* to frames, like [`FrameAllocator::add_usable`], so `lowest` is a valid
/// `base` and `(highest - lowest) / FRAME_SIZE` is the frame count: a partial frame at either end could
/// never be handed out. Empty ranges are ignored.
pub fn span_of(ranges: impl Iterator<Item = (u64, u64)>) -> Option<(u64, u64)> {
    let (lowest, highest) = ranges.filter(|&(start, end)| start < end).fold(
        None,
        |span: Option<(u64, u64)>, (start, end)| match span {
            None => Some((start, end)),
            Some((lo, hi)) => Some((lo.min(start), hi.max(end))),
        },
    )?;
    let lowest = lowest.checked_next_multiple_of(FRAME_SIZE)?;
    let highest = highest - highest % FRAME_SIZE;
    (lowest < highest).then_some((lowest, highest))
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::collections::HashSet;
    use std::vec;
    use std::vec::Vec;

    /// A span that is not a multiple of the word size, so the ragged last word is exercised.
    const FRAMES: usize = 200;
    /// Physical base well above zero and not aligned to anything larger than a frame.
    const BASE: u64 = 0x10_0000 + FRAME_SIZE;

    fn end_of_span() -> u64 {
        BASE + FRAMES as u64 * FRAME_SIZE
    }

    fn bitmap() -> Vec<u64> {
        vec![0; FrameAllocator::words_needed(FRAMES)]
    }

    fn frame(i: u64) -> u64 {
        BASE + i * FRAME_SIZE
    }

    #[test]
    fn words_needed_rounds_up() {
        assert_eq!(FrameAllocator::words_needed(0), 0);
        assert_eq!(FrameAllocator::words_needed(1), 1);
        assert_eq!(FrameAllocator::words_needed(WORD_BITS), 1);
        assert_eq!(FrameAllocator::words_needed(WORD_BITS + 1), 2);
    }

    #[test]
    fn new_checks_arguments() {
        let mut small = vec![0u64; 1];
        assert_eq!(
            FrameAllocator::new(&mut small, BASE, FRAMES).unwrap_err(),
            Error::BitmapTooSmall {
                needed_words: FrameAllocator::words_needed(FRAMES)
            }
        );
        let mut bits = bitmap();
        assert_eq!(
            FrameAllocator::new(&mut bits, BASE + 1, FRAMES).unwrap_err(),
            Error::Unaligned(BASE + 1)
        );
        let top = u64::MAX - (u64::MAX % FRAME_SIZE);
        assert_eq!(
            FrameAllocator::new(&mut bits, top, FRAMES).unwrap_err(),
            Error::OutOfRange(top)
        );
    }

    #[test]
    fn new_clears_stale_bitmap_and_starts_empty() {
        let mut bits = vec![ALL_FREE; FrameAllocator::words_needed(FRAMES)];
        let mut fa = FrameAllocator::new(&mut bits, BASE, FRAMES).unwrap();
        assert_eq!(fa.free_frames(), 0);
        assert_eq!(fa.total_frames(), 0);
        assert_eq!(fa.alloc(), None);
    }

    #[test]
    fn alloc_until_exhausted_hands_out_each_frame_once() {
        let mut bits = bitmap();
        let mut fa = FrameAllocator::new(&mut bits, BASE, FRAMES).unwrap();
        fa.add_usable(BASE, end_of_span());
        assert_eq!(fa.free_frames(), FRAMES);
        assert_eq!(fa.total_frames(), FRAMES);
        let mut seen = HashSet::new();
        while let Some(addr) = fa.alloc() {
            assert_eq!(addr % FRAME_SIZE, 0);
            assert!((BASE..end_of_span()).contains(&addr));
            assert!(seen.insert(addr), "frame {addr:#x} handed out twice");
        }
        assert_eq!(seen.len(), FRAMES);
        assert_eq!(fa.free_frames(), 0);
        assert_eq!(fa.alloc(), None);
        assert_eq!(fa.total_frames(), FRAMES);
    }

    #[test]
    fn free_then_realloc() {
        let mut bits = bitmap();
        let mut fa = FrameAllocator::new(&mut bits, BASE, FRAMES).unwrap();
        fa.add_usable(BASE, end_of_span());
        while fa.alloc().is_some() {}
        fa.free(frame(7)).unwrap();
        assert_eq!(fa.free_frames(), 1);
        assert_eq!(fa.alloc(), Some(frame(7)));
        assert_eq!(fa.alloc(), None);
    }

    #[test]
    fn free_reports_errors() {
        let mut bits = bitmap();
        let mut fa = FrameAllocator::new(&mut bits, BASE, FRAMES).unwrap();
        fa.add_usable(BASE, end_of_span());
        let addr = fa.alloc().unwrap();
        fa.free(addr).unwrap();
        assert_eq!(fa.free(addr), Err(Error::DoubleFree(addr)));
        assert_eq!(fa.free(addr + 1), Err(Error::Unaligned(addr + 1)));
        assert_eq!(
            fa.free(BASE - FRAME_SIZE),
            Err(Error::OutOfRange(BASE - FRAME_SIZE))
        );
        assert_eq!(
            fa.free(end_of_span()),
            Err(Error::OutOfRange(end_of_span()))
        );
        assert_eq!(fa.free_frames(), FRAMES);
    }

    #[test]
    fn errors_display() {
        use core::fmt::Write;
        let mut s = std::string::String::new();
        write!(s, "{}", Error::DoubleFree(0x2000)).unwrap();
        assert!(s.contains("0x2000"));
    }

    #[test]
    fn reserve_carves_out_a_middle_range() {
        let mut bits = bitmap();
        let mut fa = FrameAllocator::new(&mut bits, BASE, FRAMES).unwrap();
        fa.add_usable(BASE, end_of_span());
        // Rounded outward: touches frames 10..=20.
        fa.reserve(frame(10) + 1, frame(20) + 1);
        assert_eq!(fa.free_frames(), FRAMES - 11);
        assert_eq!(fa.total_frames(), FRAMES - 11);
        let mut got = HashSet::new();
        while let Some(addr) = fa.alloc() {
            got.insert(addr);
        }
        for i in 10..=20 {
            assert!(!got.contains(&frame(i)), "reserved frame {i} allocated");
        }
        assert!(got.contains(&frame(9)) && got.contains(&frame(21)));
        // Reserving again, or an empty range, changes nothing.
        fa.reserve(frame(10), frame(21));
        fa.reserve(frame(5), frame(5));
        assert_eq!(fa.total_frames(), FRAMES - 11);
    }

    #[test]
    fn add_usable_rounds_inward_and_clips() {
        let mut bits = bitmap();
        let mut fa = FrameAllocator::new(&mut bits, BASE, FRAMES).unwrap();
        // Partial frames at both ends are dropped: only frames 3, 4 and 5 are whole.
        fa.add_usable(frame(2) + 1, frame(6) + FRAME_SIZE - 1);
        assert_eq!(fa.free_frames(), 3);
        let mut got: Vec<u64> = core::iter::from_fn(|| fa.alloc()).collect();
        got.sort_unstable();
        assert_eq!(got, [frame(3), frame(4), frame(5)]);

        // A range smaller than a frame adds nothing; ranges outside the span are clipped.
        let mut bits = bitmap();
        let mut fa = FrameAllocator::new(&mut bits, BASE, FRAMES).unwrap();
        fa.add_usable(frame(1) + 1, frame(2) - 1);
        assert_eq!(fa.free_frames(), 0);
        fa.add_usable(0, u64::MAX);
        assert_eq!(fa.free_frames(), FRAMES);
        // Overlapping usable ranges do not count twice.
        fa.add_usable(frame(0), frame(10));
        assert_eq!(fa.total_frames(), FRAMES);
    }

    #[test]
    fn contiguous_with_alignment() {
        let mut bits = bitmap();
        let mut fa = FrameAllocator::new(&mut bits, BASE, FRAMES).unwrap();
        fa.add_usable(BASE, end_of_span());
        const ALIGN: usize = 16;
        const COUNT: usize = 5;
        let align_bytes = ALIGN as u64 * FRAME_SIZE;
        // Break the first aligned run so the search has to skip past it.
        let first_aligned = BASE.next_multiple_of(align_bytes);
        fa.reserve(
            first_aligned + 2 * FRAME_SIZE,
            first_aligned + 3 * FRAME_SIZE,
        );
        let addr = fa.alloc_contiguous(COUNT, ALIGN).unwrap();
        assert_eq!(addr % align_bytes, 0);
        assert_eq!(addr, first_aligned + align_bytes);
        assert_eq!(fa.free_frames(), FRAMES - 1 - COUNT);
        for i in 0..COUNT as u64 {
            assert_eq!(fa.free(addr + i * FRAME_SIZE), Ok(()));
        }
        // Unaligned requests take the lowest run; zero count and impossible sizes fail.
        assert_eq!(fa.alloc_contiguous(3, 0), Some(BASE));
        assert_eq!(fa.alloc_contiguous(0, 1), None);
        assert_eq!(fa.alloc_contiguous(FRAMES, 1), None);
        // No multiple of 4 GiB falls inside the span.
        const HUGE_ALIGN: usize = 1 << 20;
        assert_eq!(fa.alloc_contiguous(1, HUGE_ALIGN), None);
    }

    #[test]
    fn contiguous_spanning_words() {
        let mut bits = bitmap();
        let mut fa = FrameAllocator::new(&mut bits, BASE, FRAMES).unwrap();
        fa.add_usable(BASE, end_of_span());
        let run = WORD_BITS + 3;
        let addr = fa.alloc_contiguous(run, 1).unwrap();
        assert_eq!(addr, BASE);
        let next = fa.alloc_contiguous(run, 1).unwrap();
        assert_eq!(next, frame(run as u64));
        assert_eq!(fa.alloc_contiguous(run, 1), None);
        assert_eq!(fa.free_frames(), FRAMES - 2 * run);
    }

    #[test]
    fn span_of_rounds_inward() {
        assert_eq!(span_of(core::iter::empty()), None);
        assert_eq!(span_of([(10, 10), (0x2001, 0x2fff)].into_iter()), None);
        assert_eq!(
            span_of([(0x9000, 0xa000), (0x1001, 0x3000), (0x10_0000, 0x20_0fff)].into_iter()),
            Some((0x2000, 0x20_0000))
        );
    }

    /// Minimal xorshift64 so the randomized test needs no extra crate and is reproducible.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
    }

    #[test]
    fn randomized_against_model() {
        const SEED: u64 = 0x9e37_79b9_7f4a_7c15;
        const STEPS: usize = 20_000;
        const CHOICES: u64 = 10;
        const ALLOC_CHOICES: u64 = 5;
        const CONTIG_CHOICE: u64 = 5;
        const MAX_RUN: u64 = 4;
        let mut rng = XorShift(SEED);
        let mut bits = bitmap();
        let mut fa = FrameAllocator::new(&mut bits, BASE, FRAMES).unwrap();
        fa.add_usable(BASE, end_of_span());
        fa.reserve(frame(50), frame(60));
        let usable = fa.total_frames();
        let mut held: HashSet<u64> = HashSet::new();
        let mut held_list: Vec<u64> = Vec::new();
        for _ in 0..STEPS {
            let choice = rng.next() % CHOICES;
            if choice < ALLOC_CHOICES {
                match fa.alloc() {
                    Some(addr) => {
                        assert!(
                            !(frame(50)..frame(60)).contains(&addr),
                            "reserved frame {addr:#x}"
                        );
                        assert!(held.insert(addr), "frame {addr:#x} handed out twice");
                        held_list.push(addr);
                    }
                    None => assert_eq!(held.len(), usable),
                }
            } else if choice == CONTIG_CHOICE {
                let count = (rng.next() % MAX_RUN + 1) as usize;
                if let Some(addr) = fa.alloc_contiguous(count, 1) {
                    for i in 0..count as u64 {
                        let a = addr + i * FRAME_SIZE;
                        assert!(held.insert(a), "frame {a:#x} handed out twice");
                        held_list.push(a);
                    }
                }
            } else if !held_list.is_empty() {
                let i = (rng.next() % held_list.len() as u64) as usize;
                let addr = held_list.swap_remove(i);
                held.remove(&addr);
                fa.free(addr).unwrap();
                assert_eq!(fa.free(addr), Err(Error::DoubleFree(addr)));
            }
            assert_eq!(fa.free_frames() + held.len(), usable);
            assert_eq!(fa.total_frames(), usable);
        }
    }
}
