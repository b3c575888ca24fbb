//! A race of two CPUs over one fork family (`cow.rs`, issue #5): faults, forks and exits on one
//! CPU while the other ends the process whose end collapses nodes on their path. `cow.rs` holds
//! the family's tree lock for one step at a time, so a search here meets collapses in progress
//! there and starts over, and forks and exits next to a collapse wait for it: every process
//! must still see exactly its memory, chains must stay short, and every frame must come back.
//! `ktest/cow.rs` tests the same operations on one CPU.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_vm::Prot;
use spin::Mutex;

use super::cow::{BASE, PAGE};
use super::{Case, Context, Outcome, skip};
use crate::cpu::{self, Mail};
use crate::ensure;
use crate::space::Space;

pub const CASES: &[Case] = &[Case {
    name: "cow.faults_race_collapses_on_another_cpu",
    run: faults_race_collapses,
}];

/// Pages of the family's memory: enough that a collapse takes many steps.
const PAGES: usize = 32;
/// Generations: each forks, races its parent's end, and becomes the next parent.
const ROUNDS: u64 = 100;
/// Grandchildren each generation forks, reads through and ends, at least (more while its
/// parent ends), and at most (the parent's end is overdue then).
const GRANDCHILDREN: u64 = 4;
const MAX_GRANDCHILDREN: u64 = 100_000;
/// The longest chain allowed: a parent, its live child's and grandchild's nodes, and a
/// collapse not yet run next to one in progress.
const CHAIN_BOUND: usize = 5;
/// How long a generation may take on the other CPU before the test gives up on it.
const ROUND_LIMIT_US: u64 = 20_000_000;

/// What each page of a process holds.
type View = [u64; PAGES];
/// How a generation on the other CPU ended: the child's view after its writes, or why not.
type RoundOutcome = Result<View, String>;

/// A generation handed to the other CPU and back.
struct Generation {
    space: Mutex<Option<Space>>,
    /// Set once the other CPU is about to fork (so the parent's end races its faults).
    started: AtomicBool,
    /// Set once the parent has ended (the other CPU goes on faulting until then).
    parent_gone: AtomicBool,
    /// How it ended, once it has.
    outcome: Mutex<Option<RoundOutcome>>,
}

fn read(space: &mut Space, page: usize) -> Result<u64, String> {
    let mut word = [0u8; 8];
    let addr = BASE + page as u64 * PAGE;
    space
        .copy_in(addr, &mut word)
        .map_err(|e| format!("read at {addr:#x}: {e:?}"))?;
    Ok(u64::from_ne_bytes(word))
}

fn write(space: &mut Space, page: usize, value: u64) -> Result<(), String> {
    let addr = BASE + page as u64 * PAGE;
    space
        .copy_out(addr, &value.to_ne_bytes())
        .map_err(|e| format!("write at {addr:#x}: {e:?}"))
}

fn check(space: &mut Space, view: &View, who: &str) -> Result<(), String> {
    for (page, &expected) in view.iter().enumerate() {
        let got = read(space, page)?;
        if got != expected {
            return Err(format!(
                "{who}: page {page} reads {got}, expected {expected}"
            ));
        }
    }
    Ok(())
}

/// The other CPU's part of generation `round`: the child writes most of its pages, then forks
/// grandchildren that read everything through the tree, write one page and end (each end a
/// collapse of its own next to the parent's), at least [`GRANDCHILDREN`] of them and until the
/// parent has ended. A fork moves the child's pages into a node between it and the node it
/// shares with the parent, so the parent's end collapses those pages up, one step each, while
/// a grandchild's reads search through them (even rounds); odd rounds start the parent's end
/// before the first fork, which then waits for the collapse into the child.
fn child_round(child: &mut Space, round: u64, mut view: View, race: &Generation) -> RoundOutcome {
    for page in (0..PAGES).filter(|p| p % 4 != 0) {
        view[page] = round * 1_000 + page as u64;
        write(child, page, view[page])?;
    }
    if round % 2 == 1 {
        race.started.store(true, Ordering::Release);
    }
    for g in 0..MAX_GRANDCHILDREN {
        let mut grandchild = child.fork().map_err(|e| format!("fork: {e:?}"))?;
        race.started.store(true, Ordering::Release);
        check(&mut grandchild, &view, "a grandchild")?;
        write(&mut grandchild, (round + g) as usize % PAGES, u64::MAX)?;
        grandchild.destroy();
        check(child, &view, "the child after a grandchild's write")?;
        if g + 1 >= GRANDCHILDREN && race.parent_gone.load(Ordering::Acquire) {
            return Ok(view);
        }
    }
    Err(format!(
        "the parent did not end within {MAX_GRANDCHILDREN} grandchildren"
    ))
}

fn faults_race_collapses(_: &Context<'_>) -> Outcome {
    let Some(other) = cpu::get(1) else {
        return skip("one CPU (run with --smp 2 or more)");
    };
    let mut parent = Space::new().map_err(|e| format!("Space::new: {e:?}"))?;
    parent
        .map_anon(BASE, PAGES as u64 * PAGE, Prot::RW)
        .map_err(|e| format!("map_anon: {e:?}"))?;
    let mut view: View = core::array::from_fn(|page| page as u64 + 1);
    for (page, &value) in view.iter().enumerate() {
        write(&mut parent, page, value)?;
    }
    let family = parent.family();
    let mut longest = 0;
    for round in 1..=ROUNDS {
        let child = parent.fork().map_err(|e| format!("fork {round}: {e:?}"))?;
        let generation = Arc::new(Generation {
            space: Mutex::new(Some(child)),
            started: AtomicBool::new(false),
            parent_gone: AtomicBool::new(false),
            outcome: Mutex::new(None),
        });
        // The parent's own copies, which the collapse will find shadowed by the child's.
        let mut mine = view;
        for page in (0..PAGES).step_by(4) {
            mine[page] = u64::MAX - page as u64;
            write(&mut parent, page, mine[page])?;
        }
        check(&mut parent, &mine, "the parent")?;
        longest = longest.max(family.longest_chain());
        let theirs = generation.clone();
        let start_view = view;
        other.post(Mail::Run(Box::new(move || {
            let outcome = match theirs.space.lock().as_mut() {
                Some(child) => child_round(child, round, start_view, &theirs),
                None => Err("no child to run".into()),
            };
            *theirs.outcome.lock() = Some(outcome);
        })));
        let t0 = k42_hal::time::uptime_us();
        while !generation.started.load(Ordering::Acquire) {
            ensure!(
                k42_hal::time::uptime_us() - t0 < ROUND_LIMIT_US,
                "round {round}: the other CPU never started"
            );
            core::hint::spin_loop();
        }
        // The parent's end releases the node it shares with the child, collapsing it into
        // the child while the child faults through it.
        parent.destroy();
        generation.parent_gone.store(true, Ordering::Release);
        let outcome = loop {
            if let Some(outcome) = generation.outcome.lock().take() {
                break outcome;
            }
            ensure!(
                k42_hal::time::uptime_us() - t0 < ROUND_LIMIT_US,
                "round {round}: the other CPU did not finish"
            );
            core::hint::spin_loop();
        };
        view = outcome.map_err(|why| format!("round {round}: {why}"))?;
        parent = generation
            .space
            .lock()
            .take()
            .ok_or("the child did not come back")?;
        check(&mut parent, &view, "the child, back here")?;
        longest = longest.max(family.longest_chain());
    }
    ensure!(
        longest <= CHAIN_BOUND,
        "the chain grew to {longest} nodes over {ROUNDS} racing generations"
    );
    parent.destroy();
    let held = family.frames_held();
    ensure!(
        held == 0,
        "{held} frames leaked after the last generation ended"
    );
    let met = family.contention();
    crate::cprintln!(
        "ktest: cow: {ROUNDS} racing generations: longest chain {longest}, {} searches restarted at a collapse, {} commits retried, {} waits for a collapse",
        met.restarts,
        met.retries,
        met.busy_waits
    );
    Ok(())
}
