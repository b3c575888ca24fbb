//! Page arithmetic: the unit in which segments are mapped and in which the ELF file and memory
//! images must agree (a segment's `p_vaddr` and `p_offset` are congruent modulo the page size, so
//! each file page lands on exactly one memory page).

/// Size of an x86_64 base page: the granularity of every mapping a plan asks for.
pub const PAGE_SIZE: u64 = 4096;

/// Low bits that are clear in a page-aligned value.
const PAGE_MASK: u64 = PAGE_SIZE - 1;

/// Whether `value` is a multiple of [`PAGE_SIZE`].
pub(crate) const fn is_page_aligned(value: u64) -> bool {
    value & PAGE_MASK == 0
}

/// The offset of `value` inside its page.
pub(crate) const fn page_offset(value: u64) -> u64 {
    value & PAGE_MASK
}

/// `value` rounded down to a page boundary.
pub(crate) const fn page_floor(value: u64) -> u64 {
    value & !PAGE_MASK
}

/// `value` rounded up to a page boundary, or `None` past the end of the 64-bit space.
pub(crate) const fn page_ceil(value: u64) -> Option<u64> {
    match value.checked_add(PAGE_MASK) {
        Some(v) => Some(page_floor(v)),
        None => None,
    }
}
