//! Where `execve` puts a dynamically linked program and its interpreter, as Linux 6.1's
//! `load_elf_binary` does without address randomization: the program, if position
//! independent, at `ELF_ET_DYN_BASE` aligned down to its largest segment alignment
//! ([`pie_bias`]); the interpreter (an `ET_DYN` dynamic linker) where the first mapping of its
//! whole span goes, the highest free place below the mmap base ([`interp_bias`], top-down like
//! `mmap`'s placement in [`crate::mmap_space`]). The personality's exec (`user/bin/linux`,
//! `exec.rs`) plans both images with `k42-elf` and asks here for the biases before anything
//! is mapped, so the auxiliary vector (`AT_BASE`) is built before exec's point of no return.

use core::ops::Range;

use crate::PAGE_SIZE;

/// The load bias of a position-independent program that names an interpreter: `base`
/// (Linux's `ELF_ET_DYN_BASE`) aligned down to `max_align` (its `maximum_alignment`, a power
/// of two of at least a page), less the page of its first segment's `p_vaddr`
/// (`ELF_PAGESTART(load_bias - vaddr)`). `None` if that underflows.
pub fn pie_bias(base: u64, max_align: u64, first_vaddr: u64) -> Option<u64> {
    let align = if max_align.is_power_of_two() {
        max_align.max(PAGE_SIZE)
    } else {
        PAGE_SIZE
    };
    let aligned = base & !(align - 1);
    aligned.checked_sub(first_vaddr).map(page_floor)
}

/// The highest page-aligned start of `span` bytes inside `[floor, ceiling)` that overlaps
/// none of `taken`, as a top-down `get_unmapped_area` finds it; `None` if there is none or
/// `span` is not a positive multiple of the page size.
pub fn top_down(span: u64, taken: &[Range<u64>], floor: u64, ceiling: u64) -> Option<u64> {
    if span == 0 || !span.is_multiple_of(PAGE_SIZE) {
        return None;
    }
    let mut top = page_floor(ceiling);
    loop {
        let start = top.checked_sub(span)?;
        if start < floor {
            return None;
        }
        // Any gap between two ranges that both overlap the candidate is shorter than `span`,
        // so the next candidate ends below the lowest of them. It strictly descends.
        let blocking = taken
            .iter()
            .filter(|r| r.start < top && r.end > start)
            .map(|r| r.start)
            .min();
        match blocking {
            None => return Some(start),
            Some(lowest) => top = page_floor(lowest),
        }
    }
}

/// The bias of an `ET_DYN` interpreter planned at `provisional` (any bias its plan passes at)
/// whose segments then span `bounds`: the bias that puts that span where [`top_down`] finds
/// room below `ceiling`, clear of the program's `taken` ranges. Linux maps the interpreter's
/// whole span first, without a hint, then its segments inside it (`load_elf_interp`), so its
/// `AT_BASE` is the start of that first mapping less the page of its first `p_vaddr`.
pub fn interp_bias(
    provisional: u64,
    bounds: &Range<u64>,
    taken: &[Range<u64>],
    floor: u64,
    ceiling: u64,
) -> Option<u64> {
    let span = bounds.end.checked_sub(bounds.start)?;
    let below_bias = bounds.start.checked_sub(provisional)?;
    top_down(span, taken, floor, ceiling)?.checked_sub(below_bias)
}

/// Whether two half-open ranges share an address (an `ET_EXEC` interpreter, which goes where
/// it is linked, must not land on the program).
pub fn overlaps(a: &Range<u64>, b: &Range<u64>) -> bool {
    a.start < b.end && b.start < a.end
}

fn page_floor(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

#[cfg(test)]
// One range in a slice is a program of one segment, not a mistaken `0..n` array.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    /// Linux's x86_64 `ELF_ET_DYN_BASE` without randomization, page-aligned.
    const ET_DYN_BASE: u64 = 0x5555_5555_4000;
    const FLOOR: u64 = 0x4000_0000_0000;
    const CEILING: u64 = 0x7e00_0000_0000;
    const MIB2: u64 = 0x20_0000;

    #[test]
    fn a_pie_goes_where_linux_puts_it() {
        assert_eq!(pie_bias(ET_DYN_BASE, PAGE_SIZE, 0), Some(ET_DYN_BASE));
        // Linked above 0: the bias takes the first segment's page off.
        assert_eq!(
            pie_bias(ET_DYN_BASE, PAGE_SIZE, 0x1234),
            Some(0x5555_5555_2000)
        );
        // A 2 MiB segment alignment aligns the base down first.
        assert_eq!(pie_bias(ET_DYN_BASE, MIB2, 0), Some(0x5555_5540_0000));
        // Nonsense alignments count as a page; an underflow is refused.
        assert_eq!(pie_bias(ET_DYN_BASE, 3, 0), Some(ET_DYN_BASE));
        assert_eq!(pie_bias(ET_DYN_BASE, 0, 0), Some(ET_DYN_BASE));
        assert_eq!(pie_bias(0x1000, PAGE_SIZE, 0x2000), None);
    }

    #[test]
    fn top_down_takes_the_highest_room() {
        let span = 0x3_5000;
        assert_eq!(top_down(span, &[], FLOOR, CEILING), Some(CEILING - span));
        // An unaligned ceiling is rounded down first.
        assert_eq!(
            top_down(span, &[], FLOOR, CEILING + 0x10),
            Some(CEILING - span)
        );
        // Something at the top pushes it below.
        let taken = [CEILING - 0x1000..CEILING];
        assert_eq!(
            top_down(span, &taken, FLOOR, CEILING),
            Some(CEILING - 0x1000 - span)
        );
        // A gap too small between two ranges is skipped; one big enough is used.
        let small = [
            CEILING - 0x2000..CEILING,
            CEILING - span - 0x3000..CEILING - 0x3000,
        ];
        assert_eq!(
            top_down(span, &small, FLOOR, CEILING),
            Some(CEILING - span - 0x3000 - span)
        );
        let exact = [CEILING - 0x1000..CEILING, 0..CEILING - 0x1000 - span];
        assert_eq!(
            top_down(span, &exact, 0, CEILING),
            Some(CEILING - 0x1000 - span)
        );
    }

    #[test]
    fn top_down_refuses_what_cannot_fit() {
        assert_eq!(top_down(0, &[], FLOOR, CEILING), None);
        assert_eq!(top_down(0x1001, &[], FLOOR, CEILING), None);
        assert_eq!(top_down(CEILING, &[], FLOOR, CEILING), None);
        assert_eq!(top_down(0x2000, &[FLOOR..CEILING], FLOOR, CEILING), None);
        assert_eq!(top_down(0x2000, &[], 0, 0x1000), None);
        assert_eq!(top_down(!(PAGE_SIZE - 1), &[], 0x1000, u64::MAX), None);
    }

    #[test]
    fn the_interpreter_lands_below_the_ceiling_clear_of_the_program() {
        // ld.so planned at bias 0x1000_0000 spans 0x3_5000 bytes from its first page.
        let provisional = 0x1000_0000;
        let bounds = provisional..provisional + 0x3_5000;
        let bias = interp_bias(provisional, &bounds, &[], FLOOR, CEILING);
        assert_eq!(bias, Some(CEILING - 0x3_5000));
        // Linked at 0x40_0000 (a prelinked object): the bias is the start less that page.
        let bounds = provisional + 0x40_0000..provisional + 0x40_0000 + 0x3_5000;
        let bias = interp_bias(provisional, &bounds, &[], FLOOR, CEILING);
        assert_eq!(bias, Some(CEILING - 0x3_5000 - 0x40_0000));
        // A program occupying the top of the area pushes it down.
        let program = [CEILING - 0x10_0000..CEILING];
        let bounds = provisional..provisional + 0x3_5000;
        let bias = interp_bias(provisional, &bounds, &program, FLOOR, CEILING);
        assert_eq!(bias, Some(CEILING - 0x10_0000 - 0x3_5000));
        // Bounds that do not make sense are refused, never a panic.
        let backwards = provisional + 0x1000..provisional;
        assert_eq!(
            interp_bias(provisional, &backwards, &[], FLOOR, CEILING),
            None
        );
        let below = provisional - 0x1000..provisional;
        assert_eq!(interp_bias(provisional, &below, &[], FLOOR, CEILING), None);
    }

    #[test]
    fn overlap_is_half_open() {
        assert!(overlaps(&(0..0x2000), &(0x1000..0x3000)));
        assert!(!overlaps(&(0..0x1000), &(0x1000..0x2000)));
        assert!(!overlaps(&(0x2000..0x3000), &(0..0x2000)));
    }
}
