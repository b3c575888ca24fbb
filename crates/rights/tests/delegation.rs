//! Giving access (`XObjectTable::give_access`): never more than the giver has, only with CONTROL,
//! matched to the receiver only; and who may release a given entry.

use k42_rights::{Badge, Rights, RightsError, XObjectTable, check};

const OWNER: Badge = Badge(1);
const FRIEND: Badge = Badge(2);
const STRANGER: Badge = Badge(3);
const RW: Rights = Rights::READ.union(Rights::WRITE);
const RWC: Rights = RW.union(Rights::CONTROL);
/// The generic rights with names: enough bits to enumerate every subset.
const NAMED_BITS: u32 = 4;

fn subsets() -> impl Iterator<Item = Rights> + Clone {
    (0..1u64 << NAMED_BITS).map(Rights::from_bits_retain)
}

#[test]
fn giving_requires_control() {
    let mut table = XObjectTable::new();
    let h = table.insert((), OWNER, RW, Rights::empty()).unwrap();
    assert_eq!(
        table.give_access(h, OWNER, FRIEND, Rights::READ),
        Err(RightsError::Lacking {
            missing: Rights::CONTROL,
            badge_matched: true
        })
    );
    assert_eq!(table.len(), 1);
}

#[test]
fn the_receiver_gets_the_intersection_and_nothing_more() {
    let mut table = XObjectTable::new();
    let h = table.insert("file", OWNER, RWC, Rights::empty()).unwrap();
    let given = table
        .give_access(h, OWNER, FRIEND, Rights::READ | Rights::DESTROY)
        .unwrap();
    let entry = table.get(given).unwrap();
    assert_eq!(entry.target, "file");
    assert_eq!(entry.match_pid(), FRIEND);
    assert_eq!(entry.matched(), Rights::READ);
    assert_eq!(entry.unmatched(), Rights::empty());
    assert_eq!(entry.given_by(), Some(OWNER));
    assert_eq!(entry.client_data, 0);
    assert!(table.lookup(given, FRIEND, Rights::READ).is_ok());
    assert!(table.lookup(given, FRIEND, Rights::DESTROY).is_err());
    assert!(table.lookup(given, FRIEND, Rights::WRITE).is_err());
}

#[test]
fn a_given_entry_is_matched_to_the_receiver_only() {
    let mut table = XObjectTable::new();
    let h = table.insert((), OWNER, RWC, Rights::empty()).unwrap();
    let given = table.give_access(h, OWNER, FRIEND, RW).unwrap();
    for stranger in [OWNER, STRANGER] {
        assert_eq!(
            table.lookup(given, stranger, Rights::READ).unwrap_err(),
            RightsError::Lacking {
                missing: Rights::READ,
                badge_matched: false
            }
        );
    }
}

#[test]
fn unmatched_rights_are_not_widened() {
    let mut table = XObjectTable::new();
    let h = table.insert((), OWNER, RWC, Rights::READ).unwrap();
    let given = table.give_access(h, OWNER, FRIEND, RWC).unwrap();
    assert_eq!(table.get(given).unwrap().unmatched(), Rights::READ);
}

#[test]
fn a_giver_with_only_unmatched_control_passes_on_only_unmatched_rights() {
    let mut table = XObjectTable::new();
    // The stranger may control through the unmatched path, but the owner's matched WRITE is not
    // the stranger's to give.
    let h = table
        .insert((), OWNER, Rights::WRITE, Rights::READ | Rights::CONTROL)
        .unwrap();
    let given = table.give_access(h, STRANGER, FRIEND, RWC).unwrap();
    let entry = table.get(given).unwrap();
    assert_eq!(entry.matched(), Rights::empty());
    assert_eq!(entry.unmatched(), Rights::READ | Rights::CONTROL);
    assert!(table.lookup(given, FRIEND, Rights::WRITE).is_err());
}

#[test]
fn delegation_never_adds_power_for_any_rights_combination() {
    // Exhaustively over the named bits: whatever the entry, the giver and the rights asked for,
    // every need the receiver's new entry allows was allowed to the giver on the original.
    for (matched, unmatched, asked) in subsets()
        .flat_map(|m| subsets().map(move |u| (m, u)))
        .flat_map(|(m, u)| subsets().map(move |a| (m, u, a)))
    {
        for giver in [OWNER, STRANGER] {
            let mut table = XObjectTable::new();
            let h = table.insert((), OWNER, matched, unmatched).unwrap();
            let Ok(given) = table.give_access(h, giver, FRIEND, asked) else {
                assert!(check(giver, OWNER, matched, unmatched, Rights::CONTROL).is_err());
                continue;
            };
            for need in subsets() {
                if table.lookup(given, FRIEND, need).is_ok() {
                    assert!(asked.contains(need));
                    assert_eq!(
                        check(giver, OWNER, matched, unmatched, need),
                        Ok(()),
                        "receiver gained {need:?} from {matched:?}/{unmatched:?} asking {asked:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_given_entry_can_be_given_on_only_with_control_given_too() {
    let mut table = XObjectTable::new();
    let h = table.insert((), OWNER, RWC, Rights::empty()).unwrap();
    let no_control = table.give_access(h, OWNER, FRIEND, RW).unwrap();
    assert!(
        table
            .give_access(no_control, FRIEND, STRANGER, Rights::READ)
            .is_err()
    );
    let with_control = table.give_access(h, OWNER, FRIEND, RWC).unwrap();
    let onward = table
        .give_access(with_control, FRIEND, STRANGER, Rights::READ)
        .unwrap();
    assert!(table.lookup(onward, STRANGER, Rights::READ).is_ok());
}

#[test]
fn the_holder_or_the_giver_may_release_a_given_entry_but_no_one_else() {
    let mut table = XObjectTable::new();
    let h = table.insert((), OWNER, RWC, Rights::empty()).unwrap();
    let given = table.give_access(h, OWNER, FRIEND, RW).unwrap();
    assert_eq!(table.release(given, STRANGER), Err(RightsError::NotHolder));
    table.release(given, OWNER).unwrap();
    assert_eq!(table.get(given).unwrap_err(), RightsError::Stale(given));

    let again = table.give_access(h, OWNER, FRIEND, RW).unwrap();
    table.release(again, FRIEND).unwrap();
    assert!(table.get(again).is_err());
    // The original entry is untouched by releasing what it gave.
    assert!(table.lookup(h, OWNER, RWC).is_ok());
}

#[test]
fn releasing_the_giver_does_not_cascade() {
    let mut table = XObjectTable::new();
    let h = table.insert((), OWNER, RWC, Rights::empty()).unwrap();
    let given = table.give_access(h, OWNER, FRIEND, RW).unwrap();
    table.release(h, OWNER).unwrap();
    assert!(table.lookup(given, FRIEND, RW).is_ok());
}
