//! Repeated fork-then-exit (each child forks and its parent exits) for 1,000 generations: the
//! chain stays bounded, every process sees the memory it should, and once the last process exits
//! every frame ever allocated has come back. Run with the collapse at every exit, and with no
//! collapse at all (adoption alone keeps the chain bounded then).

mod common;

use std::collections::BTreeMap;

use common::{Frame, Store, read, reclaim, view, write};
use k42_cow::Cow;

const GENERATIONS: u64 = 1_000;
const PAGES: u64 = 8;
/// A chain never longer than this: the leaf and one interior node.
const BOUND: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exit {
    /// `Cow::exit`: release and collapse at once.
    Collapse,
    /// `Cow::release` only; the lone node waits for the next fork to adopt.
    NoCollapse,
}

/// Runs the generations; returns the longest chain seen.
fn generations(exit: Exit) -> usize {
    let mut cow = Cow::<Frame>::new();
    let mut store = Store::new();
    let mut mem: BTreeMap<u64, u64> = BTreeMap::new();
    let mut current = cow.create();
    for page in 0..PAGES {
        write(&mut cow, &mut store, current, page, 1000 + page);
        mem.insert(page, 1000 + page);
    }
    let mut longest = cow.depth(current).unwrap();
    let mut most_nodes = cow.node_count();
    let mut most_frames = 0;
    for generation in 0..GENERATIONS {
        // The process touches its memory: one write, one read.
        let page = generation % PAGES;
        write(&mut cow, &mut store, current, page, generation);
        mem.insert(page, generation);
        let other = (generation * 5 + 3) % PAGES;
        assert_eq!(read(&mut cow, &mut store, current, other), mem[&other]);
        // It forks; the child writes a page of its own; the parent exits.
        let forked = cow.fork(current).unwrap();
        let child = forked.child;
        longest = longest.max(cow.longest_chain());
        write(
            &mut cow,
            &mut store,
            child,
            (page + 3) % PAGES,
            7 * generation,
        );
        mem.insert((page + 3) % PAGES, 7 * generation);
        match exit {
            Exit::Collapse => {
                let exited = cow.exit(current).unwrap();
                assert_eq!(exited.pending, None);
            }
            Exit::NoCollapse => {
                cow.release(current).unwrap();
            }
        }
        current = child;
        let depth = cow.depth(current).unwrap();
        longest = longest.max(depth);
        assert!(depth <= BOUND, "generation {generation}: chain {depth}");
        most_nodes = most_nodes.max(cow.node_count());
        most_frames = most_frames.max(cow.total_frames());
        reclaim(&mut cow, &mut store);
        assert_eq!(store.live(), cow.total_frames() + cow.parked_frames());
        let expected: Vec<u64> = (0..PAGES).map(|p| mem[&p]).collect();
        assert_eq!(view(&cow, &store, current, PAGES), expected);
        cow.check().unwrap();
    }
    assert!(
        most_nodes <= 3,
        "at most the leaf, its sibling and their parent: {most_nodes}"
    );
    assert!(
        most_frames <= 2 * PAGES as usize,
        "frames held: {most_frames}"
    );
    cow.exit(current).unwrap();
    assert_eq!(cow.node_count(), 0);
    reclaim(&mut cow, &mut store);
    assert_eq!(store.live(), 0, "frames leaked");
    assert_eq!(store.allocs, store.frees);
    println!(
        "{exit:?}: {GENERATIONS} generations, longest chain seen {longest}, \
         {} frames allocated and all {} freed",
        store.allocs, store.frees
    );
    longest
}

#[test]
fn fork_then_exit_for_a_thousand_generations_with_collapse() {
    let longest = generations(Exit::Collapse);
    assert!(longest <= BOUND);
}

#[test]
fn fork_then_exit_for_a_thousand_generations_without_collapse() {
    let longest = generations(Exit::NoCollapse);
    assert!(longest <= BOUND);
}

#[test]
fn a_parent_forking_children_that_exit_keeps_its_chain_short() {
    // The other common shape: a shell forks a child per command, the child exits.
    for exit in [Exit::Collapse, Exit::NoCollapse] {
        let mut cow = Cow::<Frame>::new();
        let mut store = Store::new();
        let shell = cow.create();
        write(&mut cow, &mut store, shell, 0, 1);
        let mut longest = 0;
        for generation in 0..GENERATIONS {
            let child = cow.fork(shell).unwrap().child;
            write(&mut cow, &mut store, child, 1, generation);
            write(&mut cow, &mut store, shell, 2, generation);
            longest = longest.max(cow.longest_chain());
            match exit {
                Exit::Collapse => drop(cow.exit(child).unwrap()),
                Exit::NoCollapse => drop(cow.release(child).unwrap()),
            }
            reclaim(&mut cow, &mut store);
            assert_eq!(view(&cow, &store, shell, 3), [1, 0, generation]);
        }
        assert!(longest <= BOUND, "{exit:?}: {longest}");
        cow.exit(shell).unwrap();
        reclaim(&mut cow, &mut store);
        assert_eq!(store.live(), 0);
        println!("{exit:?}: shell with {GENERATIONS} children, longest chain seen {longest}");
    }
}
