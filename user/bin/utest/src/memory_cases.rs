//! Cases on this process's memory (`k42_kapi::Memory` through `k42_rt::memory`): fresh anonymous
//! memory is zero, holds what is written to every page, and cannot be mapped over.

use k42_kapi::prot;
use k42_rt::layout::PROGRAM_BASE;

use crate::ctx::{Case, Ctx, Outcome, ensure, failed};

/// The cases of this file.
pub const CASES: &[Case] = &[Case {
    name: "memory.map_touch",
    run: map_touch,
}];

/// Bytes of the test mapping.
const MAP_BYTES: u64 = 64 * 1024;
/// Bytes of a page.
const PAGE: usize = 4096;
/// Where the test mapping goes (the range programs may use for their own mappings).
const MAP_AT: u64 = PROGRAM_BASE;

/// The byte page `index` starts with (and whose complement it ends with).
fn mark(index: usize) -> u8 {
    // Wraps for more than 256 pages, which is fine: neighbours still differ.
    (index as u8).wrapping_mul(37).wrapping_add(1)
}

/// Map 64 KiB read-write, check it reads zero, write and read back every page, check that a
/// second map over it is refused, unmap it.
fn map_touch(ctx: &mut Ctx) -> Outcome {
    let region =
        k42_rt::memory::map_anon(MAP_AT, MAP_BYTES).map_err(|e| failed("Memory::map", e))?;
    ensure!(
        region.iter().all(|&b| b == 0),
        "fresh anonymous memory is not zero"
    );
    for (i, page) in region.chunks_mut(PAGE).enumerate() {
        page[0] = mark(i);
        page[PAGE - 1] = !mark(i);
    }
    // Keep the compiler from folding the reads below into the writes above.
    let region = core::hint::black_box(region);
    for (i, page) in region.chunks(PAGE).enumerate() {
        let (first, last) = (page[0], page[PAGE - 1]);
        ensure!(
            first == mark(i) && last == !mark(i),
            "page {i} holds {first:#x}..{last:#x}, wrote {:#x}..{:#x}",
            mark(i),
            !mark(i)
        );
    }
    let again = ctx
        .env
        .memory()
        .map(MAP_AT, PAGE as u64, prot::READ | prot::WRITE);
    ensure!(
        again.is_err(),
        "mapping over a mapped page was accepted (maps must never replace)"
    );
    k42_rt::memory::unmap(region).map_err(|e| failed("Memory::unmap", e))?;
    Ok(())
}
