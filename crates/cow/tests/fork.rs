//! Unit cases for fork-copy, read and write faults, copy-on-write isolation both ways, exit and
//! adoption (no new node when the parent has the forking leaf as its only child), errors and the
//! statistics.

mod common;

use common::{Frame, Store, own, read, reclaim, view, write};
use k42_cow::Frames as _;
use k42_cow::{Access, Commit, Cow, CowError, Fault, Kind, Plan, State, Step};

#[test]
fn a_read_of_a_fresh_object_zero_fills_into_the_leaf() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    assert_eq!(cow.depth(a), Ok(1));
    let Fault::Mapped { frame, writable } = cow.fault(a, 3, Access::Read, &mut store).unwrap()
    else {
        panic!("restart");
    };
    assert!(writable, "the leaf's own page");
    assert_eq!(store.value(frame), 0);
    assert_eq!(own(&cow, a, 3), Some(frame));
    assert_eq!(cow.frames_held(a), Ok(1));
    // A second read maps the same frame, allocating nothing.
    assert_eq!(read(&mut cow, &mut store, a, 3), 0);
    assert_eq!(store.allocs, 1);
}

#[test]
fn a_write_to_the_leafs_own_page_is_in_place() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    let first = write(&mut cow, &mut store, a, 0, 5);
    let again = write(&mut cow, &mut store, a, 0, 6);
    assert_eq!(first, again);
    assert_eq!(read(&mut cow, &mut store, a, 0), 6);
    assert_eq!(store.allocs, 1);
}

#[test]
fn fork_moves_the_frames_to_a_new_interior_parent() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    let f0 = write(&mut cow, &mut store, a, 0, 10);
    write(&mut cow, &mut store, a, 1, 11);
    let forked = cow.fork(a).unwrap();
    assert!(!forked.adopted);
    assert_eq!(forked.moved, 2);
    let p = forked.parent;
    let b = forked.child;
    assert_eq!(cow.kind(p), Ok(Kind::Interior));
    assert_eq!(cow.children(p).unwrap(), &[a, b]);
    assert_eq!(cow.parent(a), Ok(Some(p)));
    assert_eq!(cow.parent(b), Ok(Some(p)));
    assert_eq!(cow.frames_held(a), Ok(0));
    assert_eq!(cow.frames_held(p), Ok(2));
    assert_eq!((cow.depth(a), cow.depth(b)), (Ok(2), Ok(2)));
    // Both see the pages, read-only, in the parent's frame.
    for leaf in [a, b] {
        let Fault::Mapped { frame, writable } =
            cow.fault(leaf, 0, Access::Read, &mut store).unwrap()
        else {
            panic!("restart");
        };
        assert_eq!((frame, writable), (f0, false));
    }
    assert_eq!(view(&cow, &store, b, 3), [10, 11, 0]);
    assert_eq!(cow.total_frames(), 2);
    cow.check().unwrap();
}

#[test]
fn copy_on_write_isolates_both_ways() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    let shared = write(&mut cow, &mut store, a, 0, 1);
    write(&mut cow, &mut store, a, 1, 2);
    let b = cow.fork(a).unwrap().child;
    // The child writes: a copy in the child, the parent still sees the old value.
    let copy = write(&mut cow, &mut store, b, 0, 100);
    assert_ne!(copy, shared);
    assert_eq!(own(&cow, b, 0), Some(copy));
    assert_eq!(read(&mut cow, &mut store, a, 0), 1);
    assert_eq!(read(&mut cow, &mut store, b, 0), 100);
    // The parent writes: the child still sees the old value.
    write(&mut cow, &mut store, a, 1, 200);
    assert_eq!(read(&mut cow, &mut store, b, 1), 2);
    assert_eq!(read(&mut cow, &mut store, a, 1), 200);
    // A write copies the contents, not zeros.
    let mut s = cow.search(b, 1, Access::Write).unwrap();
    while !matches!(cow.step(&mut s), k42_cow::Step::Found(_)) {}
    assert!(matches!(
        cow.step(&mut s),
        k42_cow::Step::Found(k42_cow::Plan::Copy { .. })
    ));
    cow.abandon(s);
    write(&mut cow, &mut store, b, 2, 7);
    assert_eq!(view(&cow, &store, a, 3), [1, 200, 0]);
    assert_eq!(view(&cow, &store, b, 3), [100, 2, 7]);
    cow.check().unwrap();
}

#[test]
fn a_fork_of_a_leaf_with_a_sibling_nests_a_new_node() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    write(&mut cow, &mut store, a, 0, 1);
    let first = cow.fork(a).unwrap();
    write(&mut cow, &mut store, a, 0, 2);
    let second = cow.fork(a).unwrap();
    assert!(!second.adopted, "a's parent has two children");
    assert_eq!(cow.parent(second.parent), Ok(Some(first.parent)));
    assert_eq!(
        cow.children(first.parent).unwrap(),
        &[second.parent, first.child]
    );
    assert_eq!(cow.depth(a), Ok(3));
    assert_eq!(cow.depth(second.child), Ok(3));
    assert_eq!(cow.depth(first.child), Ok(2));
    assert_eq!(cow.longest_chain(), 3);
    assert_eq!(read(&mut cow, &mut store, first.child, 0), 1);
    assert_eq!(read(&mut cow, &mut store, second.child, 0), 2);
    assert_eq!(read(&mut cow, &mut store, a, 0), 2);
    cow.check().unwrap();
}

#[test]
fn a_parent_with_the_forking_leaf_as_only_child_adopts_the_new_leaf() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    write(&mut cow, &mut store, a, 0, 1);
    write(&mut cow, &mut store, a, 1, 2);
    let first = cow.fork(a).unwrap();
    let p = first.parent;
    // The child exits without a collapse: p is left with a as its only child.
    let released = cow.release(first.child).unwrap();
    assert_eq!(released.lone, Some(p));
    assert_eq!(cow.lone_nodes(), vec![p]);
    // a's own copy of page 1 and a new page 2.
    write(&mut cow, &mut store, a, 1, 20);
    write(&mut cow, &mut store, a, 2, 30);
    let nodes = cow.node_count();
    let second = cow.fork(a).unwrap();
    assert!(second.adopted);
    assert_eq!(second.parent, p);
    assert_eq!(second.moved, 2);
    assert_eq!(
        second.replaced, 1,
        "p's page 1 was shadowed by a's, and only a saw it"
    );
    assert_eq!(cow.node_count(), nodes + 1, "only the new leaf");
    assert_eq!(cow.children(p).unwrap(), &[a, second.child]);
    assert_eq!((cow.depth(a), cow.depth(second.child)), (Ok(2), Ok(2)));
    assert_eq!(view(&cow, &store, a, 4), [1, 20, 30, 0]);
    assert_eq!(view(&cow, &store, second.child, 4), [1, 20, 30, 0]);
    assert_eq!(cow.frames_held(a), Ok(0));
    assert_eq!(cow.frames_held(p), Ok(3));
    assert_eq!(cow.parked_frames(), 1);
    cow.check().unwrap();
}

#[test]
fn exit_frees_the_leafs_frames_and_everything_comes_back() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    for page in 0..4 {
        write(&mut cow, &mut store, a, page, page + 1);
    }
    let exited = cow.exit(a).unwrap();
    assert_eq!((exited.frames_freed, exited.nodes_freed), (4, 1));
    assert_eq!(cow.state(a), State::Deleted);
    assert_eq!(cow.node_count(), 0);
    assert_eq!(cow.total_frames(), 0);
    assert_eq!(cow.parked_frames(), 4);
    assert_eq!(reclaim(&mut cow, &mut store), 4);
    assert_eq!(store.live(), 0);
    assert_eq!(store.allocs, store.frees);
}

#[test]
fn exit_of_one_child_collapses_the_parent_down_into_the_other_leaf() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    write(&mut cow, &mut store, a, 0, 1);
    write(&mut cow, &mut store, a, 1, 2);
    let forked = cow.fork(a).unwrap();
    let b = forked.child;
    write(&mut cow, &mut store, a, 0, 10); // a's own copy shadows the parent's page 0
    write(&mut cow, &mut store, b, 2, 3); // b's, gone with b
    let exited = cow.exit(b).unwrap();
    assert_eq!(exited.collapses, 1);
    assert_eq!(
        exited.frames_freed, 2,
        "b's page 2 and the parent's shadowed page 0"
    );
    assert_eq!(exited.nodes_freed, 2);
    assert_eq!(cow.state(forked.parent), State::Deleted);
    assert_eq!(cow.parent(a), Ok(None));
    assert_eq!(cow.depth(a), Ok(1));
    assert_eq!(cow.frames_held(a), Ok(2));
    assert_eq!(view(&cow, &store, a, 3), [10, 2, 0]);
    // The page that moved down is a's own now: written in place.
    let before = own(&cow, a, 1).unwrap();
    assert_eq!(write(&mut cow, &mut store, a, 1, 22), before);
    assert!(cow.lone_nodes().is_empty());
    cow.check().unwrap();
}

#[test]
fn a_collapse_down_into_a_leaf_with_fewer_pages_keeps_what_the_leaf_wrote_and_discarded() {
    // The parent holds many pages and writes or discards a few after the fork: the collapse
    // merges the leaf's pages into the parent's map (`merge_down_at_once`), which must come
    // out as the step-wise merge would.
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    for page in 0..8 {
        write(&mut cow, &mut store, a, page, 100 + page);
    }
    let forked = cow.fork(a).unwrap();
    let b = forked.child;
    write(&mut cow, &mut store, a, 1, 11); // a's own copy shadows the parent's page 1
    cow.discard(a, 3..5, |f| store.free(f)).unwrap(); // a hides the parent's pages 3 and 4
    write(&mut cow, &mut store, b, 6, 66); // b's, gone with b
    let exited = cow.exit(b).unwrap();
    assert_eq!(exited.collapses, 1);
    assert_eq!(
        exited.frames_freed, 4,
        "b's page 6, the parent's shadowed page 1 and its hidden pages 3 and 4"
    );
    assert_eq!(cow.parent(a), Ok(None));
    assert_eq!(cow.frames_held(a), Ok(6));
    assert_eq!(
        view(&cow, &store, a, 9),
        [100, 11, 102, 0, 0, 105, 106, 107, 0]
    );
    assert_eq!(
        read(&mut cow, &mut store, a, 3),
        0,
        "a discarded page reads zero"
    );
    reclaim(&mut cow, &mut store);
    cow.check().unwrap();
    cow.exit(a).unwrap();
    reclaim(&mut cow, &mut store);
    assert_eq!(store.live(), 0, "every frame came back");
}

#[test]
fn exit_beside_an_interior_node_collapses_its_frames_up_and_the_parent_adopts_its_children() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    for page in 0..3 {
        write(&mut cow, &mut store, a, page, page + 1);
    }
    let first = cow.fork(a).unwrap(); // n1 {a, b}
    let (n1, b) = (first.parent, first.child);
    write(&mut cow, &mut store, b, 1, 20); // b's copy of page 1
    write(&mut cow, &mut store, b, 3, 40);
    let second = cow.fork(b).unwrap(); // n2 {b, c} under n1
    let (n2, c) = (second.parent, second.child);
    write(&mut cow, &mut store, c, 2, 300);
    assert_eq!(cow.depth(c), Ok(3));
    let exited = cow.exit(a).unwrap();
    assert_eq!(exited.collapses, 1);
    // n2's frames (pages 1 and 3) moved up into n1, replacing n1's page 1; n1 adopted b and c.
    assert_eq!(cow.state(n1), State::Live);
    assert_eq!(cow.state(n2), State::Deleted);
    assert_eq!(cow.children(n1).unwrap(), &[b, c]);
    assert_eq!(cow.parent(c), Ok(Some(n1)));
    assert_eq!((cow.depth(b), cow.depth(c)), (Ok(2), Ok(2)));
    assert_eq!(cow.frames_held(n1), Ok(4));
    assert_eq!(view(&cow, &store, b, 4), [1, 20, 3, 40]);
    assert_eq!(view(&cow, &store, c, 4), [1, 20, 300, 40]);
    cow.check().unwrap();
}

#[test]
fn the_collapse_never_moves_a_nodes_pages_up_past_a_parent_with_other_children() {
    // g {n, s}, n {a, d}: n's page 0 shadows g's. When d exits, n merges with a (down); moving
    // n's page up into g would change what s sees.
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    write(&mut cow, &mut store, a, 0, 1);
    let first = cow.fork(a).unwrap(); // g {a, s}
    let (g, s) = (first.parent, first.child);
    write(&mut cow, &mut store, a, 0, 2);
    write(&mut cow, &mut store, a, 1, 5);
    let second = cow.fork(a).unwrap(); // n {a, d} under g
    let (n, d) = (second.parent, second.child);
    let g_page = own(&cow, g, 0).unwrap();
    cow.exit(d).unwrap();
    assert_eq!(cow.state(n), State::Deleted);
    assert_eq!(cow.children(g).unwrap(), &[a, s]);
    assert_eq!(own(&cow, g, 0), Some(g_page), "g's page is untouched");
    assert_eq!(own(&cow, g, 1), None, "n's pages did not go up into g");
    assert_eq!(view(&cow, &store, s, 2), [1, 0]);
    assert_eq!(view(&cow, &store, a, 2), [2, 5]);
    cow.check().unwrap();
}

#[test]
fn an_interior_node_left_with_no_child_is_freed() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    write(&mut cow, &mut store, a, 0, 1);
    let forked = cow.fork(a).unwrap();
    let lone = cow.release(forked.child).unwrap().lone;
    assert_eq!(lone, Some(forked.parent));
    // The lone node's only child exits before the collapse ran: the node goes too.
    let released = cow.release(a).unwrap();
    assert_eq!(released.nodes_freed, 2);
    assert_eq!(released.frames_freed, 1);
    assert_eq!(released.lone, None);
    assert_eq!(cow.state(forked.parent), State::Deleted);
    assert_eq!(cow.node_count(), 0);
    reclaim(&mut cow, &mut store);
    assert_eq!(store.live(), 0);
}

#[test]
fn refused_operations_change_nothing() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    write(&mut cow, &mut store, a, 0, 1);
    let forked = cow.fork(a).unwrap();
    let p = forked.parent;
    assert_eq!(cow.fork(p), Err(CowError::NotLeaf));
    assert_eq!(cow.release(p), Err(CowError::NotLeaf));
    assert_eq!(cow.exit(p), Err(CowError::NotLeaf));
    assert_eq!(
        cow.search(p, 0, Access::Read).err(),
        Some(CowError::NotLeaf)
    );
    assert_eq!(cow.collapse(a).err(), Some(CowError::NotInterior));
    assert_eq!(cow.collapse(p).err(), Some(CowError::NotLone));
    cow.exit(forked.child).unwrap();
    assert_eq!(cow.state(forked.child), State::Deleted);
    assert_eq!(cow.fork(forked.child), Err(CowError::NoSuchNode));
    assert_eq!(cow.depth(forked.child), Err(CowError::NoSuchNode));
    assert_eq!(
        cow.fault(forked.child, 0, Access::Read, &mut store),
        Err(CowError::NoSuchNode)
    );
    // A new node in the freed slot does not answer to the old id.
    let fresh = cow.create();
    let fresh2 = cow.create();
    assert!(fresh != forked.child && fresh2 != forked.child);
    assert_eq!(cow.state(forked.child), State::Deleted);
    assert_eq!(read(&mut cow, &mut store, a, 0), 1);
    cow.check().unwrap();
}

#[test]
fn statistics_follow_the_tree() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    assert_eq!(cow.longest_chain(), 0);
    let a = cow.create();
    write(&mut cow, &mut store, a, 0, 1);
    let b = cow.fork(a).unwrap().child;
    let c = cow.fork(b).unwrap().child;
    write(&mut cow, &mut store, c, 1, 2);
    assert_eq!(cow.longest_chain(), 3);
    assert_eq!(cow.node_count(), 5);
    assert_eq!(cow.total_frames(), 2);
    assert_eq!(cow.frames_held(c), Ok(1));
    assert_eq!(cow.searches_in_flight(), 0);
    let s = cow.search(c, 0, Access::Read).unwrap();
    assert_eq!(cow.searches_in_flight(), 1);
    cow.abandon(s);
    assert_eq!(cow.searches_in_flight(), 0);
    assert!(
        cow.generation(a).unwrap() > 0,
        "the fork moved a's frame out"
    );
}

#[test]
fn a_discard_hands_back_the_leafs_own_frames_at_once_and_fails_its_search_in_flight() {
    // A discard's frames never wait for searches in flight: only the leaf's own search can
    // find them, and it fails its commit. (Parked, they could be freed by another operation
    // before the discarding process's TLB shootdown.)
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    let b = cow.create();
    write(&mut cow, &mut store, a, 0, 7);
    let other = cow.search(b, 0, Access::Read).unwrap();
    let mut own = cow.search(a, 0, Access::Read).unwrap();
    assert!(matches!(cow.step(&mut own), Step::Found(Plan::Map { .. })));
    let mut freed = Vec::new();
    let discarded = cow.discard(a, 0..1, |f| freed.push(f)).unwrap();
    assert_eq!(discarded.frames_freed, 1);
    assert_eq!(
        freed.len(),
        1,
        "the frame came back with another search in flight"
    );
    assert_eq!(cow.parked_frames(), 0);
    assert_eq!(cow.commit(own, None), Ok(Commit::Retry { unused: None }));
    cow.abandon(other);
    freed.into_iter().for_each(|f| store.free(f));
    assert_eq!(
        read(&mut cow, &mut store, a, 0),
        0,
        "a discarded page reads zero"
    );
    cow.exit(a).unwrap();
    cow.exit(b).unwrap();
    reclaim(&mut cow, &mut store);
    assert_eq!(store.live(), 0, "every frame came back");
}
