//! Tests of copy-on-write spaces (`space.rs` over `cow.rs` and `k42-cow`): a fork's two sides
//! see the same memory and then each its own writes; the child starts with the parent's
//! present pages mapped (read-only where copy-on-write, shared ones as they are); unmapping
//! in a child hides what its parent still sees; shared memory stays shared across the fork;
//! and 1,000 generations of fork-then-exit keep the chain at two nodes and end holding no
//! frame. They drive `Space` directly, as `Memory`'s methods and the fault path do, without
//! running user code.

use alloc::format;

use k42_vm::Prot;

use super::{Case, Context, Outcome};
use crate::ensure;
use crate::space::{Access, Space};

pub const CASES: &[Case] = &[
    Case {
        name: "cow.fork_isolates_both_sides",
        run: fork_isolates_both_sides,
    },
    Case {
        name: "cow.unmap_in_child_hides_the_parents_pages",
        run: unmap_in_child_hides_the_parents_pages,
    },
    Case {
        name: "cow.shared_memory_stays_shared",
        run: shared_memory_stays_shared,
    },
    Case {
        name: "cow.fork_maps_the_parents_pages_in_the_child",
        run: fork_maps_the_parents_pages_in_the_child,
    },
    Case {
        name: "cow.fork_exit_1000_generations",
        run: fork_exit_1000_generations,
    },
];

/// Where the tests map their memory (`cow_race.rs` too), and its pages' size.
pub(super) const BASE: u64 = 0x4000_0000;
pub(super) const PAGE: u64 = k42_hal::layout::PAGE_SIZE;
const PAGES: u64 = 8;

fn read(space: &mut Space, addr: u64) -> Result<u64, alloc::string::String> {
    let mut word = [0u8; 8];
    space
        .copy_in(addr, &mut word)
        .map_err(|e| format!("read at {addr:#x}: {e:?}"))?;
    Ok(u64::from_ne_bytes(word))
}

fn write(space: &mut Space, addr: u64, value: u64) -> Result<(), alloc::string::String> {
    space
        .copy_out(addr, &value.to_ne_bytes())
        .map_err(|e| format!("write at {addr:#x}: {e:?}"))
}

fn mapped_space() -> Result<Space, alloc::string::String> {
    let mut space = Space::new().map_err(|e| format!("Space::new: {e:?}"))?;
    space
        .map_anon(BASE, PAGES * PAGE, Prot::RW)
        .map_err(|e| format!("map_anon: {e:?}"))?;
    Ok(space)
}

fn fork_isolates_both_sides(_: &Context<'_>) -> Outcome {
    let mut parent = mapped_space()?;
    write(&mut parent, BASE, 11)?;
    write(&mut parent, BASE + PAGE, 12)?;
    let mut child = parent.fork().map_err(|e| format!("fork: {e:?}"))?;
    ensure!(
        read(&mut child, BASE)? == 11,
        "the child does not see the parent's page"
    );
    write(&mut child, BASE, 21)?;
    write(&mut parent, BASE + PAGE, 32)?;
    ensure!(
        read(&mut parent, BASE)? == 11,
        "the child's write reached the parent"
    );
    ensure!(
        read(&mut child, BASE + PAGE)? == 12,
        "the parent's write reached the child"
    );
    ensure!(
        read(&mut child, BASE)? == 21,
        "the child lost its own write"
    );
    ensure!(
        read(&mut parent, BASE + PAGE)? == 32,
        "the parent lost its own write"
    );
    // A page nobody wrote is zero on both sides.
    ensure!(
        read(&mut child, BASE + 2 * PAGE)? == 0,
        "an untouched page is not zero"
    );
    ensure!(
        parent.fault(BASE + 3 * PAGE, Access::Write),
        "a write fault was refused"
    );
    let family = parent.family();
    child.destroy();
    parent.destroy();
    let held = family.frames_held();
    ensure!(held == 0, "{held} frames still held after both ended");
    Ok(())
}

fn unmap_in_child_hides_the_parents_pages(_: &Context<'_>) -> Outcome {
    let mut parent = mapped_space()?;
    for i in 0..PAGES {
        write(&mut parent, BASE + i * PAGE, 100 + i)?;
    }
    let mut child = parent.fork().map_err(|e| format!("fork: {e:?}"))?;
    // exec's overlay: the child drops everything and maps fresh memory at the same place.
    let freed = child
        .unmap(BASE, PAGES * PAGE)
        .map_err(|e| format!("unmap: {e:?}"))?;
    let count = freed.frames();
    freed.free();
    ensure!(
        count == 0,
        "unmap freed {count} frames the parent still sees"
    );
    child
        .map_anon(BASE, PAGES * PAGE, Prot::RW)
        .map_err(|e| format!("map_anon again: {e:?}"))?;
    for i in 0..PAGES {
        let got = read(&mut child, BASE + i * PAGE)?;
        ensure!(
            got == 0,
            "page {i} reads {got} after unmap and map, not zero"
        );
        let kept = read(&mut parent, BASE + i * PAGE)?;
        ensure!(kept == 100 + i, "the parent's page {i} reads {kept}");
    }
    let family = parent.family();
    child.destroy();
    parent.destroy();
    let held = family.frames_held();
    ensure!(held == 0, "{held} frames still held after both ended");
    Ok(())
}

fn fork_maps_the_parents_pages_in_the_child(_: &Context<'_>) -> Outcome {
    let mut parent = mapped_space()?;
    let shared_at = BASE + PAGES * PAGE;
    parent
        .map_shared(shared_at, PAGE, Prot::RW)
        .map_err(|e| format!("map_shared: {e:?}"))?;
    write(&mut parent, shared_at, 5)?;
    // Pages 0..PAGES-1 written, the last one never touched.
    for i in 0..PAGES - 1 {
        write(&mut parent, BASE + i * PAGE, 100 + i)?;
    }
    let mut child = parent.fork().map_err(|e| format!("fork: {e:?}"))?;
    for i in 0..PAGES - 1 {
        let at = BASE + i * PAGE;
        let (mine, theirs) = (parent.mapping(at), child.mapping(at));
        ensure!(
            mine.is_some_and(|(_, writable)| !writable),
            "the parent's page {i} is {mine:?} after the fork, not read-only"
        );
        ensure!(
            theirs == mine,
            "the child maps page {i} as {theirs:?}, the parent as {mine:?}"
        );
    }
    let last = BASE + (PAGES - 1) * PAGE;
    ensure!(
        child.mapping(last).is_none(),
        "the child maps a page the parent never touched"
    );
    ensure!(
        child.mapping(shared_at) == parent.mapping(shared_at)
            && child
                .mapping(shared_at)
                .is_some_and(|(_, writable)| writable),
        "the shared page is {:?} in the child, {:?} in the parent",
        child.mapping(shared_at),
        parent.mapping(shared_at)
    );
    write(&mut child, BASE, 7)?;
    let (copy, writable) = child
        .mapping(BASE)
        .ok_or("the child's written page is gone")?;
    ensure!(
        writable && Some(copy) != parent.mapping(BASE).map(|(frame, _)| frame),
        "the child's write did not get a page of its own"
    );
    ensure!(
        read(&mut parent, BASE)? == 100,
        "the child's write reached the parent"
    );
    let family = parent.family();
    child.destroy();
    parent.destroy();
    let held = family.frames_held();
    ensure!(held == 0, "{held} frames still held after both ended");
    Ok(())
}

fn shared_memory_stays_shared(_: &Context<'_>) -> Outcome {
    let mut parent = Space::new().map_err(|e| format!("Space::new: {e:?}"))?;
    parent
        .map_shared(BASE, PAGES * PAGE, Prot::RW)
        .map_err(|e| format!("map_shared: {e:?}"))?;
    write(&mut parent, BASE, 1)?;
    let mut child = parent.fork().map_err(|e| format!("fork: {e:?}"))?;
    ensure!(
        read(&mut child, BASE)? == 1,
        "the child does not see the shared page"
    );
    write(&mut child, BASE, 2)?;
    write(&mut parent, BASE + PAGE, 3)?;
    ensure!(
        read(&mut parent, BASE)? == 2,
        "the child's write did not reach the parent"
    );
    ensure!(
        read(&mut child, BASE + PAGE)? == 3,
        "the parent's write did not reach the child"
    );
    // Unmapped in one, the object lives on in the other.
    child
        .unmap(BASE, PAGES * PAGE)
        .map_err(|e| format!("unmap: {e:?}"))?
        .free();
    write(&mut parent, BASE, 4)?;
    ensure!(
        read(&mut parent, BASE)? == 4,
        "the shared page went with the child's unmap"
    );
    child.destroy();
    parent.destroy();
    Ok(())
}

const GENERATIONS: u64 = 1000;
/// A chain's nodes: the leaf and the interior node adoption keeps reusing.
const CHAIN_BOUND: usize = 2;

fn fork_exit_1000_generations(_: &Context<'_>) -> Outcome {
    let mut current = mapped_space()?;
    for i in 0..PAGES {
        write(&mut current, BASE + i * PAGE, i)?;
    }
    let family = current.family();
    let mut longest = 0;
    let mut most_frames = 0;
    for generation in 1..=GENERATIONS {
        let mut child = current
            .fork()
            .map_err(|e| format!("fork {generation}: {e:?}"))?;
        let page = generation % PAGES;
        write(&mut child, BASE + page * PAGE, generation * 1000 + page)?;
        // The chain is longest while both generations live, shortest once the parent ended.
        for (chain, frames) in [child.cow_stats(), {
            current.destroy();
            child.cow_stats()
        }] {
            longest = longest.max(chain);
            most_frames = most_frames.max(frames);
        }
        current = child;
    }
    ensure!(
        longest <= CHAIN_BOUND,
        "the chain grew to {longest} nodes over {GENERATIONS} generations"
    );
    ensure!(
        most_frames <= 2 * PAGES as usize,
        "the family held up to {most_frames} frames for {PAGES} pages of memory"
    );
    for page in 0..PAGES {
        let last = (1..=GENERATIONS).rev().find(|g| g % PAGES == page);
        let expected = last.map_or(page, |g| g * 1000 + page);
        let got = read(&mut current, BASE + page * PAGE)?;
        ensure!(
            got == expected,
            "page {page} reads {got}, expected {expected}"
        );
    }
    current.destroy();
    let held = family.frames_held();
    ensure!(
        held == 0,
        "{held} frames leaked after the last generation ended"
    );
    crate::cprintln!(
        "ktest: cow: {GENERATIONS} fork-then-exit generations: longest chain {longest}, most frames held {most_frames}"
    );
    Ok(())
}
