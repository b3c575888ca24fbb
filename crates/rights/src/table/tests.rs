//! Unit tests of the sequence-number wrap policy (`slot.rs`), which need the `force_seq` hook to
//! reach the end of the sequence space; the rest of the table is tested from `tests/`.

use super::*;

const OWNER: Badge = Badge(1);

fn table_with_one() -> (XObjectTable<&'static str>, XHandle) {
    let mut table = XObjectTable::new();
    let h = table
        .insert("obj", OWNER, Rights::all(), Rights::empty())
        .unwrap();
    (table, h)
}

#[test]
fn last_sequence_number_retires_the_slot_instead_of_wrapping() {
    let (mut table, h) = table_with_one();
    let last = table.force_seq(h, u32::MAX);
    table.release(last, OWNER).unwrap();
    assert_eq!(table.get(last).unwrap_err(), RightsError::Stale(last));
    // The retired slot is not reused: the next entry gets a fresh slot, so no (index, seq) pair
    // (in particular index 0 with FIRST_SEQ, issued long ago) is ever issued twice.
    let next = table
        .insert("new", OWNER, Rights::all(), Rights::empty())
        .unwrap();
    assert_ne!(next.index, last.index);
    assert_eq!(next.seq, FIRST_SEQ);
    let wrapped = XHandle {
        index: last.index,
        seq: FIRST_SEQ,
    };
    assert_eq!(table.get(wrapped).unwrap_err(), RightsError::Stale(wrapped));
}

#[test]
fn one_before_the_last_sequence_number_still_reuses_the_slot() {
    let (mut table, h) = table_with_one();
    let penultimate = table.force_seq(h, u32::MAX - 1);
    table.release(penultimate, OWNER).unwrap();
    let next = table
        .insert("new", OWNER, Rights::all(), Rights::empty())
        .unwrap();
    assert_eq!(
        next,
        XHandle {
            index: h.index,
            seq: u32::MAX
        }
    );
    assert_eq!(
        table.get(penultimate).unwrap_err(),
        RightsError::Stale(penultimate)
    );
}

#[test]
fn a_retired_slot_never_answers_any_sequence_number_but_zero_as_issued() {
    let (mut table, h) = table_with_one();
    let last = table.force_seq(h, u32::MAX);
    table.release(last, OWNER).unwrap();
    let zero = XHandle { seq: 0, ..h };
    assert_eq!(
        table.get(zero).unwrap_err(),
        RightsError::NoSuchHandle(zero)
    );
    let mid = XHandle { seq: 12345, ..h };
    assert_eq!(table.get(mid).unwrap_err(), RightsError::Stale(mid));
}
