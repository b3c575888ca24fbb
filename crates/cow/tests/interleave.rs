//! Fault searches interleaved with the steps of a collapse (and with forks and exits): each
//! search either restarts or commits the right frame, never a stale or freed one, and a frame a
//! search may still hold is not reused until the search ends.

mod common;

use common::{Frame, Store, own, reclaim, view, view_during, write};
use k42_cow::{
    Access, Collapse, CollapseStep, Commit, Cow, CowError, Direction, Fault, Frames, Mapping,
    NodeId, Plan, Search, State, Step,
};

/// Steps a search until it has a plan; panics on a restart.
fn plan(cow: &mut Cow<Frame>, s: &mut Search<Frame>) -> Plan<Frame> {
    loop {
        match cow.step(s) {
            Step::Continue => {}
            Step::Found(plan) => return plan,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Allocates what a plan asks for and commits.
fn commit(
    cow: &mut Cow<Frame>,
    store: &mut Store,
    s: Search<Frame>,
    plan: Plan<Frame>,
) -> Commit<Frame> {
    let new = match plan {
        Plan::Map { .. } => None,
        Plan::Copy { from } => store.copy_of(from),
        Plan::ZeroFill => store.zeroed(),
    };
    let result = cow.commit(s, new).unwrap();
    match result {
        Commit::Mapped(Mapping {
            unused: Some(f), ..
        })
        | Commit::Retry { unused: Some(f) } => store.free(f),
        _ => {}
    }
    result
}

/// a wrote pages 0..5 = 10..14, forked b; a rewrote page 1 = 21; b wrote page 2 = 32; b released
/// without a collapse. Returns (a, the lone node).
fn down_setup(cow: &mut Cow<Frame>, store: &mut Store) -> (NodeId, NodeId) {
    let a = cow.create();
    for page in 0..5 {
        write(cow, store, a, page, 10 + page);
    }
    let forked = cow.fork(a).unwrap();
    write(cow, store, a, 1, 21);
    write(cow, store, forked.child, 2, 32);
    let lone = cow.release(forked.child).unwrap().lone.unwrap();
    assert_eq!(lone, forked.parent);
    (a, lone)
}

#[test]
fn searches_during_a_down_collapse_restart_or_get_the_right_frame() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let (a, n) = down_setup(&mut cow, &mut store);
    let expected = [10, 21, 12, 13, 14];
    assert_eq!(view(&cow, &store, a, 5), expected);
    reclaim(&mut cow, &mut store); // b's page

    // s1 (read page 3) has looked at a and is about to look at n.
    let mut s1 = cow.search(a, 3, Access::Read).unwrap();
    assert_eq!(cow.step(&mut s1), Step::Continue);
    assert_eq!(s1.at(), n);
    // s2 (write page 4) found n's page and is copying it.
    let mut s2 = cow.search(a, 4, Access::Write).unwrap();
    let p2 = plan(&mut cow, &mut s2);
    let n_page4 = own(&cow, n, 4).unwrap();
    assert_eq!(p2, Plan::Copy { from: n_page4 });

    let mut col: Collapse<Frame> = cow.collapse_begin(n).unwrap();
    assert_eq!(col.direction(), Direction::Down);
    assert_eq!((col.vanishing(), col.survivor()), (n, a));
    assert_eq!(cow.state(n), State::Collapsing);

    // s1 meets the collapsing node and goes back to its leaf.
    assert_eq!(cow.step(&mut s1), Step::Restarted);
    assert_eq!(s1.at(), a);
    // s2's answer was n's page at n's old generation: retry.
    assert!(matches!(
        commit(&mut cow, &mut store, s2, p2),
        Commit::Retry { .. }
    ));
    // A whole fault now restarts too: page 4 is still in n.
    assert_eq!(
        cow.fault(a, 4, Access::Write, &mut store),
        Ok(Fault::Restart)
    );

    // Page 0 moves down: the same frame, now a's own (writable). Taken out of n, it is in
    // neither node for a moment; a search gets past a without it and restarts at n.
    let n_page0 = own(&cow, n, 0).unwrap();
    assert_eq!(
        cow.collapse_step(&mut col),
        Ok(CollapseStep::Taken { page: 0 })
    );
    assert_eq!(col.in_transit(), Some(0));
    assert_eq!(own(&cow, a, 0), None);
    assert_eq!(view_during(&cow, &store, a, 5, Some(&col)), expected);
    let mut gap = cow.search(a, 0, Access::Read).unwrap();
    assert_eq!(cow.step(&mut gap), Step::Continue);
    assert_eq!(cow.step(&mut gap), Step::Restarted);
    cow.abandon(gap);
    assert_eq!(
        cow.collapse_step(&mut col),
        Ok(CollapseStep::Moved { page: 0 })
    );
    assert_eq!(own(&cow, a, 0), Some(n_page0));
    let mut s3 = cow.search(a, 0, Access::Read).unwrap();
    let p3 = plan(&mut cow, &mut s3);
    assert_eq!(
        p3,
        Plan::Map {
            frame: n_page0,
            writable: true
        }
    );
    assert!(matches!(
        commit(&mut cow, &mut store, s3, p3),
        Commit::Mapped(Mapping { frame, writable: true, .. }) if frame == n_page0
    ));

    // Page 1: a's own copy wins; n's copy leaves the tree but s1 (in flight) keeps it parked.
    let n_page1 = own(&cow, n, 1).unwrap();
    assert_eq!(
        cow.collapse_step(&mut col),
        Ok(CollapseStep::Taken { page: 1 })
    );
    assert_eq!(
        cow.collapse_step(&mut col),
        Ok(CollapseStep::Shadowed {
            page: 1,
            frame: n_page1
        })
    );
    assert_eq!(cow.parked_frames(), 1);
    assert_eq!(
        reclaim(&mut cow, &mut store),
        0,
        "s1 started before page 1 left"
    );
    assert!(store.is_live(n_page1));
    // Every step keeps a's view.
    assert_eq!(view(&cow, &store, a, 5), expected);

    // s1 tries again: a still lacks page 3, n is still collapsing.
    assert_eq!(cow.step(&mut s1), Step::Continue);
    assert_eq!(cow.step(&mut s1), Step::Restarted);
    assert_eq!(s1.restarts(), 2);

    // Exits and forks touching the collapse wait for it.
    assert_eq!(cow.fork(a), Err(CowError::Busy));
    assert_eq!(cow.release(a), Err(CowError::Busy));
    assert_eq!(cow.collapse_begin(n).err(), Some(CowError::Busy));

    let done = cow.collapse_finish(col).unwrap();
    assert_eq!((done.survivor, done.removed), (a, n));
    assert_eq!((done.moved, done.frames_freed), (4, 1));
    assert_eq!(cow.state(n), State::Deleted);
    assert_eq!(cow.parent(a), Ok(None));
    assert_eq!(view(&cow, &store, a, 5), expected);

    // s1 now finds page 3 in a.
    let p1 = plan(&mut cow, &mut s1);
    let a_page3 = own(&cow, a, 3).unwrap();
    assert_eq!(
        p1,
        Plan::Map {
            frame: a_page3,
            writable: true
        }
    );
    assert!(
        matches!(commit(&mut cow, &mut store, s1, p1), Commit::Mapped(m) if m.frame == a_page3)
    );
    assert_eq!(store.value(a_page3), 13);
    // With no search in flight the shadowed frame is reused.
    assert_eq!(reclaim(&mut cow, &mut store), 1);
    assert!(!store.is_live(n_page1));
    assert_eq!(
        write(&mut cow, &mut store, a, 4, 44),
        n_page4,
        "n's page is a's now"
    );
    cow.check().unwrap();
}

#[test]
fn searches_during_an_up_collapse_restart_or_get_the_right_frame() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    for page in 0..4 {
        write(&mut cow, &mut store, a, page, page + 1);
    }
    let first = cow.fork(a).unwrap(); // n1 {a, b}
    let (n1, b) = (first.parent, first.child);
    write(&mut cow, &mut store, b, 1, 20);
    let second = cow.fork(b).unwrap(); // n2 {b, c} under n1
    let (n2, c) = (second.parent, second.child);
    assert_eq!(cow.release(a).unwrap().lone, Some(n1));
    let expected = [1, 20, 3, 4];

    // sb (read page 0) has passed b and n2 and is about to look at n1.
    let mut sb = cow.search(b, 0, Access::Read).unwrap();
    assert_eq!(cow.step(&mut sb), Step::Continue);
    assert_eq!(cow.step(&mut sb), Step::Continue);
    assert_eq!(sb.at(), n1);
    // sw (write page 2) found n1's page before the collapse.
    let mut sw = cow.search(c, 2, Access::Write).unwrap();
    let pw = plan(&mut cow, &mut sw);
    // sc (read page 1) is about to look at n2.
    let mut sc = cow.search(c, 1, Access::Read).unwrap();
    assert_eq!(cow.step(&mut sc), Step::Continue);
    assert_eq!(sc.at(), n2);

    let mut col = cow.collapse_begin(n1).unwrap();
    assert_eq!(col.direction(), Direction::Up);
    assert_eq!((col.vanishing(), col.survivor()), (n2, n1));
    assert_eq!(
        (cow.state(n1), cow.state(n2)),
        (State::Live, State::Collapsing)
    );

    // sb looks at n1, which stays live: it gets n1's frame, and the commit stands.
    let pb = plan(&mut cow, &mut sb);
    let n1_page0 = own(&cow, n1, 0).unwrap();
    assert_eq!(
        pb,
        Plan::Map {
            frame: n1_page0,
            writable: false
        }
    );
    assert!(matches!(
        commit(&mut cow, &mut store, sb, pb),
        Commit::Mapped(Mapping { frame, writable: false, .. }) if frame == n1_page0
    ));
    // sc meets n2, collapsing.
    assert_eq!(cow.step(&mut sc), Step::Restarted);

    // n2's page 1 moves up and replaces n1's (which only n2's subtree saw, shadowed).
    let n1_page1 = own(&cow, n1, 1).unwrap();
    let n2_page1 = own(&cow, n2, 1).unwrap();
    assert_eq!(
        cow.collapse_step(&mut col),
        Ok(CollapseStep::Taken { page: 1 })
    );
    // In transit, n1 still has its old page 1, which c must not see: c's search restarts at n2.
    for leaf in [b, c] {
        assert_eq!(view_during(&cow, &store, leaf, 4, Some(&col)), expected);
    }
    assert_eq!(cow.step(&mut sc), Step::Continue);
    assert_eq!(cow.step(&mut sc), Step::Restarted);
    assert_eq!(
        cow.collapse_step(&mut col),
        Ok(CollapseStep::Shadowed {
            page: 1,
            frame: n1_page1
        })
    );
    assert_eq!(own(&cow, n1, 1), Some(n2_page1));
    // n1's generation moved: sw's answer (found in n1 before) is retried, conservatively.
    assert!(matches!(
        commit(&mut cow, &mut store, sw, pw),
        Commit::Retry { .. }
    ));
    assert_eq!(
        reclaim(&mut cow, &mut store),
        0,
        "sc may still hold n1's old page 1"
    );
    for leaf in [b, c] {
        assert_eq!(view(&cow, &store, leaf, 4), expected);
    }
    assert_eq!(cow.collapse_step(&mut col), Ok(CollapseStep::Done));
    let done = cow.collapse_finish(col).unwrap();
    assert_eq!((done.survivor, done.removed, done.lone), (n1, n2, None));
    assert_eq!(cow.children(n1).unwrap(), &[b, c]);
    assert_eq!(cow.depth(c), Ok(2));

    // sc starts over and finds page 1 in n1 now: n2's frame, b's old copy.
    assert_eq!(cow.step(&mut sc), Step::Continue);
    let pc = plan(&mut cow, &mut sc);
    assert_eq!(
        pc,
        Plan::Map {
            frame: n2_page1,
            writable: false
        }
    );
    assert!(
        matches!(commit(&mut cow, &mut store, sc, pc), Commit::Mapped(m) if m.frame == n2_page1)
    );
    assert_eq!(reclaim(&mut cow, &mut store), 1);
    assert_eq!(write(&mut cow, &mut store, c, 2, 30), store.allocs - 1);
    assert_eq!(view(&cow, &store, b, 4), expected);
    assert_eq!(view(&cow, &store, c, 4), [1, 20, 30, 4]);
    cow.check().unwrap();
}

#[test]
fn a_fork_under_a_search_of_the_leaf_makes_its_commit_retry() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    let f = write(&mut cow, &mut store, a, 0, 1);
    let mut s = cow.search(a, 0, Access::Write).unwrap();
    assert_eq!(
        plan(&mut cow, &mut s),
        Plan::Map {
            frame: f,
            writable: true
        }
    );
    // The frame moves to the new interior node: mapping it writable would leak writes to the child.
    let b = cow.fork(a).unwrap().child;
    assert!(matches!(
        commit(
            &mut cow,
            &mut store,
            s,
            Plan::Map {
                frame: f,
                writable: true
            }
        ),
        Commit::Retry { .. }
    ));
    let copy = write(&mut cow, &mut store, a, 0, 2);
    assert_ne!(copy, f);
    assert_eq!(view(&cow, &store, b, 1), [1]);
}

#[test]
fn a_commit_after_another_fault_of_the_same_leaf_takes_the_leafs_page() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    write(&mut cow, &mut store, a, 0, 1);
    let b = cow.fork(a).unwrap().child;
    // Two threads of b fault on page 0: a read and a write. The write commits first.
    let mut r = cow.search(b, 0, Access::Read).unwrap();
    let pr = plan(&mut cow, &mut r);
    assert!(matches!(
        pr,
        Plan::Map {
            writable: false,
            ..
        }
    ));
    let mut w = cow.search(b, 0, Access::Write).unwrap();
    let pw = plan(&mut cow, &mut w);
    let Commit::Mapped(mw) = commit(&mut cow, &mut store, w, pw) else {
        panic!("retry")
    };
    store.write(mw.frame, 9);
    // The read maps b's own page, not the stale shared one.
    let Commit::Mapped(mr) = commit(&mut cow, &mut store, r, pr) else {
        panic!("retry")
    };
    assert_eq!((mr.frame, mr.writable), (mw.frame, true));
    // A second zero-fill race: the loser's frame comes back unused.
    let mut z1 = cow.search(b, 5, Access::Read).unwrap();
    let mut z2 = cow.search(b, 5, Access::Write).unwrap();
    assert_eq!(plan(&mut cow, &mut z1), Plan::ZeroFill);
    assert_eq!(plan(&mut cow, &mut z2), Plan::ZeroFill);
    let (f1, f2) = (store.zeroed().unwrap(), store.zeroed().unwrap());
    let Ok(Commit::Mapped(m1)) = cow.commit(z1, Some(f1)) else {
        panic!()
    };
    let Ok(Commit::Mapped(m2)) = cow.commit(z2, Some(f2)) else {
        panic!()
    };
    assert_eq!((m1.frame, m1.unused), (f1, None));
    assert_eq!((m2.frame, m2.unused), (f1, Some(f2)));
    store.free(f2);
    assert_eq!(view(&cow, &store, a, 1), [1]);
    cow.check().unwrap();
}

#[test]
fn an_exit_under_a_search_of_the_leaf_ends_it() {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let a = cow.create();
    write(&mut cow, &mut store, a, 0, 1);
    let b = cow.fork(a).unwrap().child;
    let mut s = cow.search(b, 0, Access::Write).unwrap();
    let p = plan(&mut cow, &mut s);
    let mut t = cow.search(b, 1, Access::Read).unwrap();
    cow.exit(b).unwrap();
    assert_eq!(cow.step(&mut t), Step::Gone);
    cow.abandon(t);
    // The commit of s: a's parent collapsed into a (generation moved) and b is gone.
    assert!(matches!(
        commit(&mut cow, &mut store, s, p),
        Commit::Retry { .. }
    ));
    assert_eq!(
        cow.search(b, 0, Access::Read).err(),
        Some(CowError::NoSuchNode)
    );
    reclaim(&mut cow, &mut store);
    cow.exit(a).unwrap();
    reclaim(&mut cow, &mut store);
    assert_eq!(store.live(), 0);
}

/// Runs one search against one collapse in every interleaving the step APIs allow: the search
/// takes `before` steps, the collapse begins, takes `mid` page steps, the search takes `during`
/// steps, the collapse finishes, and the search completes. The committed frame must be the one
/// the leaf sees at the commit, with the leaf's value; a restart is always allowed.
fn every_interleaving(build: fn(&mut Cow<Frame>, &mut Store) -> (Vec<NodeId>, NodeId), pages: u64) {
    let mut cases = 0;
    let mut restarts = 0;
    for leaf_index in 0..3 {
        for page in 0..pages {
            for access in [Access::Read, Access::Write] {
                for before in 0..4 {
                    for mid in 0..=2 * pages as usize {
                        for during in 0..4 {
                            for early in [false, true] {
                                let mut cow = Cow::<Frame>::new();
                                let mut store = Store::new();
                                let (leaves, lone) = build(&mut cow, &mut store);
                                let Some(&leaf) = leaves.get(leaf_index) else {
                                    continue;
                                };
                                let model: Vec<Vec<u64>> = leaves
                                    .iter()
                                    .map(|l| view(&cow, &store, *l, pages))
                                    .collect();
                                cases += 1;
                                let mut s = cow.search(leaf, page, access).unwrap();
                                let mut step = |cow: &mut Cow<Frame>, s: &mut Search<Frame>| {
                                    if cow.step(s) == Step::Restarted {
                                        restarts += 1;
                                    }
                                };
                                for _ in 0..before {
                                    step(&mut cow, &mut s);
                                }
                                let mut col = cow.collapse_begin(lone).unwrap();
                                for _ in 0..mid {
                                    cow.collapse_step(&mut col).unwrap();
                                    reclaim(&mut cow, &mut store);
                                    for (l, m) in leaves.iter().zip(&model) {
                                        assert_eq!(
                                            &view_during(&cow, &store, *l, pages, Some(&col)),
                                            m
                                        );
                                    }
                                }
                                for _ in 0..during {
                                    step(&mut cow, &mut s);
                                }
                                // A search that has its plan commits here, mid-collapse, or after.
                                let mut col = Some(col);
                                if !early {
                                    cow.collapse_finish(col.take().unwrap()).unwrap();
                                }
                                let plan = loop {
                                    match cow.step(&mut s) {
                                        Step::Found(plan) => break Some(plan),
                                        Step::Continue => {}
                                        Step::Restarted => break None,
                                        Step::Gone => unreachable!(),
                                    }
                                };
                                let mapped = match plan {
                                    None => {
                                        restarts += 1;
                                        cow.abandon(s);
                                        None
                                    }
                                    Some(plan) => {
                                        if let Plan::Copy { from } = plan {
                                            assert!(store.is_live(from), "copy from a freed frame");
                                        }
                                        match commit(&mut cow, &mut store, s, plan) {
                                            Commit::Mapped(m) => Some(m),
                                            Commit::Retry { .. } => None,
                                        }
                                    }
                                };
                                if let Some(m) = mapped {
                                    let seen = cow
                                        .peek_during(leaf, page, col.as_ref())
                                        .unwrap()
                                        .expect("mapped a page");
                                    assert_eq!(m.frame, seen.frame, "the frame the leaf sees");
                                    assert!(store.is_live(m.frame));
                                    assert_eq!(
                                        store.value(m.frame),
                                        model[leaf_index][page as usize]
                                    );
                                    if access == Access::Write {
                                        assert!(m.writable);
                                        assert_eq!(
                                            seen.level, 0,
                                            "a write maps the leaf's own page"
                                        );
                                    }
                                }
                                if let Some(col) = col {
                                    cow.collapse_finish(col).unwrap();
                                }
                                for (l, m) in leaves.iter().zip(&model) {
                                    assert_eq!(&view(&cow, &store, *l, pages), m);
                                }
                                cow.check().unwrap();
                                for l in leaves {
                                    cow.exit(l).unwrap();
                                }
                                reclaim(&mut cow, &mut store);
                                assert_eq!(store.live(), 0, "every frame came back");
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(
        cases > 100 && restarts > 0,
        "{cases} cases, {restarts} restarts"
    );
}

#[test]
fn every_interleaving_of_a_search_with_a_down_collapse() {
    every_interleaving(
        |cow, store| {
            let (a, n) = down_setup(cow, store);
            (vec![a], n)
        },
        5,
    );
}

#[test]
fn every_interleaving_of_a_search_with_an_up_collapse() {
    every_interleaving(
        |cow, store| {
            let a = cow.create();
            for page in 0..4 {
                write(cow, store, a, page, page + 1);
            }
            let first = cow.fork(a).unwrap();
            let b = first.child;
            write(cow, store, b, 1, 20);
            write(cow, store, b, 4, 50);
            let c = cow.fork(b).unwrap().child;
            write(cow, store, c, 2, 300);
            let lone = cow.release(a).unwrap().lone.unwrap();
            (vec![b, c], lone)
        },
        5,
    );
}
