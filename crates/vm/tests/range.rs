//! Unit cases for the value types: `VRange` construction (alignment, zero length, overflow at the
//! top of the 64-bit space, bounds), `Bounds`, `Prot` (W^X, Linux bit values, display) and the
//! error messages.

mod common;

use common::{bounds, pg, r};
use k42_vm::{Bounds, PAGE_SIZE, Prot, VRange, VmError, is_page_aligned, page_ceil, page_floor};

/// The highest page-aligned address a `u64` holds.
const LAST_PAGE: u64 = u64::MAX - (PAGE_SIZE - 1);

#[test]
fn new_accepts_aligned_nonempty_ranges() {
    let range = VRange::new(pg(3), pg(2)).unwrap();
    assert_eq!(range.start(), pg(3));
    assert_eq!(range.end(), pg(5));
    assert_eq!(range.len(), pg(2));
    assert_eq!(range.pages(), 2);
    assert!(range.contains(pg(3)) && range.contains(pg(5) - 1));
    assert!(!range.contains(pg(5)) && !range.contains(pg(3) - 1));
    assert_eq!(range.to_string(), "[0x3000, 0x5000)");
}

#[test]
fn new_refuses_unaligned_start_then_zero_then_unaligned_length() {
    assert_eq!(VRange::new(1, 0), Err(VmError::UnalignedAddress(1)));
    assert_eq!(VRange::new(pg(1), 0), Err(VmError::ZeroLength));
    assert_eq!(
        VRange::new(pg(1), PAGE_SIZE + 1),
        Err(VmError::UnalignedLength(PAGE_SIZE + 1))
    );
}

#[test]
fn new_refuses_wrapping_past_the_top_of_the_address_space() {
    // Ending exactly at 2^64 cannot be represented either.
    assert_eq!(
        VRange::new(LAST_PAGE, PAGE_SIZE),
        Err(VmError::Overflow {
            start: LAST_PAGE,
            len: PAGE_SIZE
        })
    );
    assert_eq!(
        VRange::new(pg(1), LAST_PAGE),
        Err(VmError::Overflow {
            start: pg(1),
            len: LAST_PAGE
        })
    );
    // The highest representable range ends one page below 2^64.
    let top = VRange::new(LAST_PAGE - PAGE_SIZE, PAGE_SIZE).unwrap();
    assert_eq!(top.end(), LAST_PAGE);
}

#[test]
fn within_checks_both_ends_of_the_bounds() {
    let b = bounds();
    assert!(VRange::within(b.min, PAGE_SIZE, b).is_ok());
    assert!(VRange::within(b.top - PAGE_SIZE, PAGE_SIZE, b).is_ok());
    let below = VRange::new(b.min - PAGE_SIZE, PAGE_SIZE).unwrap();
    assert_eq!(
        VRange::within(below.start(), PAGE_SIZE, b),
        Err(VmError::OutOfBounds {
            range: below,
            bounds: b
        })
    );
    let across = VRange::new(b.top - PAGE_SIZE, pg(2)).unwrap();
    assert_eq!(
        VRange::within(across.start(), across.len(), b),
        Err(VmError::OutOfBounds {
            range: across,
            bounds: b
        })
    );
    // Construction errors come before the bounds check.
    assert_eq!(VRange::within(b.min, 0, b), Err(VmError::ZeroLength));
}

#[test]
fn overlaps_is_symmetric_and_excludes_touching() {
    assert!(r(1, 2).overlaps(r(2, 2)) && r(2, 2).overlaps(r(1, 2)));
    assert!(!r(1, 2).overlaps(r(3, 1)) && !r(3, 1).overlaps(r(1, 2)));
    assert!(r(1, 10).overlaps(r(4, 1)));
}

#[test]
fn page_rounding_helpers() {
    assert!(is_page_aligned(0) && is_page_aligned(PAGE_SIZE) && !is_page_aligned(1));
    assert_eq!(page_floor(PAGE_SIZE + 1), PAGE_SIZE);
    assert_eq!(page_ceil(PAGE_SIZE + 1), Some(pg(2)));
    assert_eq!(page_ceil(pg(2)), Some(pg(2)));
    assert_eq!(page_ceil(u64::MAX), None);
}

#[test]
fn bounds_contains_and_display() {
    let b = Bounds {
        min: pg(1),
        top: pg(4),
    };
    assert!(b.contains(r(1, 3)));
    assert!(!b.contains(r(0, 1)) && !b.contains(r(3, 2)));
    assert_eq!(b.to_string(), "[0x1000, 0x4000)");
}

#[test]
fn prot_bits_are_linux_prot_values() {
    // PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4 in <sys/mman.h>.
    assert_eq!(Prot::from_bits(1), Some(Prot::READ));
    assert_eq!(Prot::from_bits(2), Some(Prot::WRITE));
    assert_eq!(Prot::from_bits(4), Some(Prot::EXEC));
    assert_eq!(Prot::from_bits(0), Some(Prot::NONE));
    // PROT_GROWSDOWN (0x0100_0000) is not implemented, so it does not convert.
    assert_eq!(Prot::from_bits(0x0100_0000), None);
}

#[test]
fn prot_wx_and_display() {
    assert!((Prot::WRITE | Prot::EXEC).violates_wx());
    assert!(Prot::all().violates_wx());
    assert!(!Prot::RW.violates_wx() && !Prot::RX.violates_wx() && !Prot::NONE.violates_wx());
    assert_eq!(Prot::RX.to_string(), "r-x");
    assert_eq!(Prot::RW.to_string(), "rw-");
    assert_eq!(Prot::NONE.to_string(), "---");
    assert_eq!(Prot::all().to_string(), "rwx");
}

#[test]
fn error_messages_name_the_values_and_the_fix() {
    let cases = [
        (
            VmError::UnalignedAddress(0x1234),
            "0x1234 is not page-aligned",
        ),
        (VmError::UnalignedLength(0x10), "round it up"),
        (VmError::UnalignedOffset(0x10), "backing offset 0x10"),
        (VmError::ZeroLength, "at least one page"),
        (
            VmError::Overflow {
                start: LAST_PAGE,
                len: PAGE_SIZE,
            },
            "past the end of the 64-bit address space",
        ),
        (
            VmError::OutOfBounds {
                range: r(0, 1),
                bounds: bounds(),
            },
            "range [0x0, 0x1000) is outside",
        ),
        (
            VmError::OffsetOverflow {
                offset: LAST_PAGE,
                len: pg(2),
            },
            "does not fit in 64 bits",
        ),
        (
            VmError::Exists {
                range: r(1, 1),
                occupied: r(0, 2),
            },
            "unmap it first or map with Fixed",
        ),
        (VmError::NotMapped { addr: pg(7) }, "page 0x7000"),
        (
            VmError::NoSpace { len: pg(1) },
            "no free gap of 0x1000 bytes",
        ),
    ];
    for (error, needle) in cases {
        let text = error.to_string();
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
}
