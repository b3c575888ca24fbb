//! Handles after release: stale, never reaching the slot's next tenant; forged handles; process
//! death; the table's limit and iteration. (The end of the sequence space is tested in
//! `src/table/tests.rs`, which can fast-forward a slot.)

use k42_rights::{Badge, FIRST_SEQ, Rights, RightsError, XHandle, XObjectTable};

const A: Badge = Badge(1);
const B: Badge = Badge(2);
const ALL: Rights = Rights::all();
const NONE: Rights = Rights::NONE;

#[test]
fn a_released_handle_is_stale() {
    let mut table = XObjectTable::new();
    let h = table.insert(7, A, ALL, NONE).unwrap();
    assert_eq!(table.release(h, A).unwrap().target, 7);
    assert_eq!(table.lookup(h, A, NONE).unwrap_err(), RightsError::Stale(h));
    assert_eq!(table.release(h, A).unwrap_err(), RightsError::Stale(h));
    assert!(table.is_empty());
}

#[test]
fn a_reused_slot_does_not_answer_the_old_handle() {
    let mut table = XObjectTable::new();
    let old = table.insert("old", A, ALL, NONE).unwrap();
    table.release(old, A).unwrap();
    let new = table.insert("new", B, ALL, ALL).unwrap();
    assert_eq!(new.index, old.index, "the freed slot is reused");
    assert_eq!(new.seq, old.seq + 1);
    // Even with every right unmatched, the old handle reaches nothing.
    assert_eq!(
        table.lookup(old, A, NONE).unwrap_err(),
        RightsError::Stale(old)
    );
    assert_eq!(table.lookup(new, A, NONE).unwrap().target, "new");
}

#[test]
fn freed_slots_are_reused_most_recent_first() {
    let mut table = XObjectTable::new();
    let handles: Vec<_> = (0..3)
        .map(|i| table.insert(i, A, ALL, NONE).unwrap())
        .collect();
    table.release(handles[0], A).unwrap();
    table.release(handles[2], A).unwrap();
    assert_eq!(
        table.insert(9, A, ALL, NONE).unwrap().index,
        handles[2].index
    );
    assert_eq!(
        table.insert(9, A, ALL, NONE).unwrap().index,
        handles[0].index
    );
    assert_eq!(table.insert(9, A, ALL, NONE).unwrap().index, 3);
}

#[test]
fn forged_handles_name_nothing() {
    let mut table = XObjectTable::new();
    let h = table.insert((), A, ALL, ALL).unwrap();
    assert_eq!(h.seq, FIRST_SEQ);
    let beyond = XHandle { index: 99, seq: 1 };
    let future = XHandle { seq: 5, ..h };
    for forged in [XHandle::NULL, beyond, future] {
        assert_eq!(
            table.lookup(forged, A, NONE).unwrap_err(),
            RightsError::NoSuchHandle(forged)
        );
    }
}

#[test]
fn the_handle_word_round_trips_and_zero_is_null() {
    let h = XHandle {
        index: 0xdead,
        seq: 0xbeef,
    };
    assert_eq!(h.to_word(), 0x0000_beef_0000_dead);
    assert_eq!(XHandle::from_word(h.to_word()), h);
    assert_eq!(XHandle::from_word(0), XHandle::NULL);
}

#[test]
fn process_death_releases_its_matched_entries_only() {
    let mut table = XObjectTable::new();
    let a1 = table.insert(1, A, ALL, NONE).unwrap();
    let b1 = table.insert(2, B, ALL, NONE).unwrap();
    let a2 = table.insert(3, A, ALL, NONE).unwrap();
    let given_by_a = table.give_access(a1, A, B, Rights::READ).unwrap();
    assert_eq!(table.release_all_for(A), 2);
    assert_eq!(table.get(a1).unwrap_err(), RightsError::Stale(a1));
    assert_eq!(table.get(a2).unwrap_err(), RightsError::Stale(a2));
    assert!(table.lookup(b1, B, ALL).is_ok());
    assert!(table.lookup(given_by_a, B, Rights::READ).is_ok());
    assert_eq!(table.release_all_for(A), 0);
    assert_eq!(table.len(), 2);
}

#[test]
fn revoke_needs_no_badge_but_still_refuses_stale_handles() {
    let mut table = XObjectTable::new();
    let h = table.insert((), A, ALL, NONE).unwrap();
    assert!(table.revoke(h).is_ok());
    assert_eq!(table.revoke(h).unwrap_err(), RightsError::Stale(h));
}

#[test]
fn the_limit_bounds_slots_not_live_entries() {
    const LIMIT: u32 = 2;
    let mut table = XObjectTable::with_limit(LIMIT);
    let h = table.insert((), A, ALL, NONE).unwrap();
    table.insert((), A, ALL, NONE).unwrap();
    assert_eq!(table.insert((), A, ALL, NONE), Err(RightsError::TableFull));
    assert_eq!(table.give_access(h, A, B, ALL), Err(RightsError::TableFull));
    table.release(h, A).unwrap();
    assert!(table.insert((), A, ALL, NONE).is_ok());
}

#[test]
fn iteration_lists_live_entries_with_their_handles() {
    let mut table = XObjectTable::new();
    let handles: Vec<_> = (0..4)
        .map(|i| table.insert(i, A, ALL, NONE).unwrap())
        .collect();
    table.release(handles[1], A).unwrap();
    let listed: Vec<_> = table.iter().map(|(h, obj)| (h, obj.target)).collect();
    assert_eq!(
        listed,
        vec![(handles[0], 0), (handles[2], 2), (handles[3], 3)]
    );
}

#[test]
fn retain_revokes_what_it_rejects() {
    let mut table = XObjectTable::new();
    let handles: Vec<_> = (0..4)
        .map(|i| table.insert(i, A, ALL, NONE).unwrap())
        .collect();
    table.retain(|_, obj| obj.target % 2 == 0);
    assert_eq!(table.len(), 2);
    assert_eq!(
        table.get(handles[1]).unwrap_err(),
        RightsError::Stale(handles[1])
    );
    assert!(table.get(handles[2]).is_ok());
}

#[test]
fn take_all_for_hands_back_the_dead_holders_targets() {
    let mut table = XObjectTable::new();
    let a1 = table.insert(1, A, ALL, NONE).unwrap();
    table.insert(2, B, ALL, NONE).unwrap();
    let a3 = table.insert(3, A, ALL, NONE).unwrap();
    let given_by_a = table.give_access(a1, A, B, Rights::READ).unwrap();
    let taken: Vec<i32> = table
        .take_all_for(A)
        .into_iter()
        .map(|o| o.target)
        .collect();
    assert_eq!(taken, [1, 3]);
    assert_eq!(table.get(a3).unwrap_err(), RightsError::Stale(a3));
    assert_eq!(table.lookup(given_by_a, B, Rights::READ).unwrap().target, 1);
    assert!(table.take_all_for(A).is_empty());
}
