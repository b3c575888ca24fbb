//! Every branch of the rights check (`src/object.rs`): matched pass, matched rights with the wrong
//! badge, unmatched pass, both failing, empty need — and that the two paths are never united.

use k42_rights::{Badge, Rights, RightsError, XObjectTable, check};

const OWNER: Badge = Badge(10);
const OTHER: Badge = Badge(20);
const RW: Rights = Rights::READ.union(Rights::WRITE);

#[test]
fn matched_badge_with_matched_rights_passes() {
    assert_eq!(
        check(OWNER, OWNER, RW, Rights::empty(), Rights::WRITE),
        Ok(())
    );
}

#[test]
fn matched_rights_do_not_serve_another_badge() {
    assert_eq!(
        check(OTHER, OWNER, RW, Rights::empty(), Rights::READ),
        Err(RightsError::Lacking {
            missing: Rights::READ,
            badge_matched: false
        })
    );
}

#[test]
fn unmatched_rights_serve_any_badge() {
    assert_eq!(
        check(OTHER, OWNER, Rights::empty(), RW, Rights::READ),
        Ok(())
    );
    assert_eq!(
        check(OWNER, OWNER, Rights::empty(), RW, Rights::READ),
        Ok(())
    );
}

#[test]
fn both_paths_failing_reports_the_missing_rights() {
    let need = RW | Rights::CONTROL;
    assert_eq!(
        check(OWNER, OWNER, RW, Rights::READ, need),
        Err(RightsError::Lacking {
            missing: Rights::CONTROL,
            badge_matched: true
        })
    );
    // When unmatched is the closer path, its shortfall is reported.
    assert_eq!(
        check(OWNER, OWNER, Rights::empty(), RW, need),
        Err(RightsError::Lacking {
            missing: Rights::CONTROL,
            badge_matched: true
        })
    );
}

#[test]
fn empty_need_always_passes_even_for_a_stranger() {
    let empty = Rights::empty();
    assert_eq!(check(OTHER, OWNER, empty, empty, Rights::NONE), Ok(()));
}

#[test]
fn matched_and_unmatched_are_never_united() {
    // READ only as the owner, WRITE for anyone: READ|WRITE needs one path to hold both.
    let result = check(OWNER, OWNER, Rights::READ, Rights::WRITE, RW);
    assert!(matches!(result, Err(RightsError::Lacking { .. })));
}

#[test]
fn object_defined_rights_are_checked_like_generic_ones() {
    let flush = Rights::object(0);
    let baud = Rights::object(31);
    assert_eq!(check(OWNER, OWNER, flush, Rights::empty(), flush), Ok(()));
    assert_eq!(
        check(OWNER, OWNER, flush, Rights::empty(), baud),
        Err(RightsError::Lacking {
            missing: baud,
            badge_matched: true
        })
    );
}

#[test]
fn table_lookup_applies_the_check() {
    let mut table = XObjectTable::new();
    let h = table.insert('x', OWNER, RW, Rights::READ).unwrap();
    assert_eq!(table.lookup(h, OWNER, Rights::WRITE).unwrap().target, 'x');
    assert_eq!(table.lookup(h, OTHER, Rights::READ).unwrap().target, 'x');
    assert_eq!(
        table.lookup(h, OTHER, Rights::WRITE).unwrap_err(),
        RightsError::Lacking {
            missing: Rights::WRITE,
            badge_matched: false
        }
    );
    table.lookup_mut(h, OWNER, Rights::WRITE).unwrap().target = 'y';
    assert_eq!(table.get(h).unwrap().target, 'y');
}

#[test]
fn rights_layout_keeps_generic_and_object_halves_apart() {
    assert_eq!(Rights::GENERIC_MASK.bits(), 0x0000_0000_ffff_ffff);
    assert_eq!(Rights::OBJECT_MASK.bits(), 0xffff_ffff_0000_0000);
    assert!(Rights::GENERIC_MASK.contains(Rights::READ | Rights::WRITE | Rights::CONTROL));
    assert!(Rights::GENERIC_MASK.contains(Rights::DESTROY));
    assert!(Rights::OBJECT_MASK.contains(Rights::object(0) | Rights::object(31)));
    assert_eq!(Rights::all().bits(), u64::MAX);
    // Unnamed bits survive the complement: every bit is a right.
    assert_eq!((!Rights::READ).bits(), !1);
}

#[test]
#[should_panic(expected = "object-defined rights are numbered 0..32")]
fn object_right_numbers_are_bounded() {
    let n = std::hint::black_box(32);
    let _ = Rights::object(n);
}
