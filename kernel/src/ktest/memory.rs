//! Tests of physical and virtual memory: the frame allocator over the real
//! memory map, the kernel page tables (map, unmap, W^X, guard pages, no low
//! identity map) and the heap.

use alloc::boxed::Box;
use alloc::vec::Vec;

use k42_hal::layout::{self, PAGE_SIZE, VMALLOC_BASE};
use k42_hal::paging::{self, MapError, PageFlags};

use super::{Case, Context, Outcome};
use crate::{ensure, mm};

pub const CASES: &[Case] = &[
    Case {
        name: "frames.alloc_free",
        run: frames_alloc_free,
    },
    Case {
        name: "frames.double_free_detected",
        run: frames_double_free,
    },
    Case {
        name: "frames.contiguous",
        run: frames_contiguous,
    },
    Case {
        name: "paging.map_unmap",
        run: paging_map_unmap,
    },
    Case {
        name: "paging.refuses_outside_vmalloc",
        run: paging_refuses,
    },
    Case {
        name: "paging.image_is_w_xor_x",
        run: paging_w_xor_x,
    },
    Case {
        name: "paging.no_low_identity_map",
        run: paging_no_identity,
    },
    Case {
        name: "paging.stack_guard_unmapped",
        run: paging_stack_guard,
    },
    Case {
        name: "heap.alloc_free",
        run: heap_alloc_free,
    },
];

const SAMPLE_FRAMES: usize = 64;

fn frames_alloc_free(_: &Context<'_>) -> Outcome {
    let before = mm::with_frames(|f| f.free_frames());
    let got: Vec<u64> = mm::with_frames(|f| (0..SAMPLE_FRAMES).filter_map(|_| f.alloc()).collect());
    ensure!(
        got.len() == SAMPLE_FRAMES,
        "allocated {} of {SAMPLE_FRAMES} frames",
        got.len()
    );
    ensure!(
        got.iter().all(|a| a % PAGE_SIZE == 0),
        "unaligned frame in {got:x?}"
    );
    let mut sorted = got.clone();
    sorted.sort_unstable();
    sorted.dedup();
    ensure!(sorted.len() == got.len(), "a frame was handed out twice");
    let during = mm::with_frames(|f| f.free_frames());
    ensure!(
        during == before - SAMPLE_FRAMES,
        "free count {during}, expected {}",
        before - SAMPLE_FRAMES
    );
    for a in got {
        mm::with_frames(|f| f.free(a)).map_err(|e| alloc::format!("free({a:#x}): {e:?}"))?;
    }
    let after = mm::with_frames(|f| f.free_frames());
    ensure!(
        after == before,
        "free count {after} after freeing, expected {before}"
    );
    Ok(())
}

fn frames_double_free(_: &Context<'_>) -> Outcome {
    let a = mm::with_frames(|f| f.alloc()).ok_or("out of frames")?;
    mm::with_frames(|f| f.free(a)).map_err(|e| alloc::format!("first free: {e:?}"))?;
    let second = mm::with_frames(|f| f.free(a));
    ensure!(second.is_err(), "a second free of {a:#x} was accepted");
    let outside = !(PAGE_SIZE - 1);
    ensure!(
        mm::with_frames(|f| f.free(outside)).is_err(),
        "freeing {outside:#x} was accepted"
    );
    ensure!(
        mm::with_frames(|f| f.free(a + 1)).is_err(),
        "freeing an unaligned address was accepted"
    );
    Ok(())
}

fn frames_contiguous(_: &Context<'_>) -> Outcome {
    const COUNT: usize = 16;
    const ALIGN: usize = 16;
    let base = mm::with_frames(|f| f.alloc_contiguous(COUNT, ALIGN)).ok_or("no contiguous run")?;
    ensure!(
        base % (ALIGN as u64 * PAGE_SIZE) == 0,
        "run at {base:#x} is not aligned"
    );
    for i in 0..COUNT as u64 {
        mm::with_frames(|f| f.free(base + i * PAGE_SIZE)).map_err(|e| alloc::format!("{e:?}"))?;
    }
    Ok(())
}

fn paging_map_unmap(_: &Context<'_>) -> Outcome {
    const PATTERN: u64 = 0x4b42_5f72_7573_7421;
    let virt = VMALLOC_BASE + 7 * PAGE_SIZE;
    let frame = mm::with_frames(|f| f.alloc()).ok_or("out of frames")?;
    ensure!(
        paging::translate(virt).is_none(),
        "{virt:#x} mapped before the test"
    );
    mm::with_frames(|f| paging::map_page(virt, frame, PageFlags::DATA, f))
        .map_err(|e| alloc::format!("map: {e}"))?;
    ensure!(
        paging::translate(virt + 8) == Some(frame + 8),
        "translate gave {:x?}",
        paging::translate(virt + 8)
    );
    let again = mm::with_frames(|f| paging::map_page(virt, frame, PageFlags::DATA, f));
    ensure!(
        again == Err(MapError::AlreadyMapped(virt)),
        "double map gave {again:?}"
    );
    paging::write_u64(virt + 8, PATTERN).map_err(|e| alloc::format!("write: {e}"))?;
    let seen = k42_hal::phys::read_u64(frame + 8);
    ensure!(
        seen == Some(PATTERN),
        "direct map shows {seen:x?}, wrote {PATTERN:#x}"
    );
    let unmapped = paging::unmap_page(virt).map_err(|e| alloc::format!("unmap: {e}"))?;
    ensure!(
        unmapped == frame,
        "unmap returned {unmapped:#x}, mapped {frame:#x}"
    );
    ensure!(
        paging::translate(virt).is_none(),
        "still mapped after unmap"
    );
    ensure!(
        paging::read_u64(virt) == Err(MapError::NotMapped(virt)),
        "read after unmap allowed"
    );
    ensure!(
        paging::unmap_page(virt) == Err(MapError::NotMapped(virt)),
        "second unmap allowed"
    );
    mm::with_frames(|f| f.free(frame)).map_err(|e| alloc::format!("{e:?}"))?;
    Ok(())
}

fn paging_refuses(_: &Context<'_>) -> Outcome {
    let text = paging_refuses as *const () as usize as u64 & !(PAGE_SIZE - 1);
    let frame = mm::with_frames(|f| f.alloc()).ok_or("out of frames")?;
    for virt in [
        text,
        layout::HEAP_BASE,
        layout::phys_to_virt(frame),
        layout::NEVER_MAPPED,
    ] {
        let r = mm::with_frames(|f| paging::map_page(virt, frame, PageFlags::DATA, f));
        ensure!(
            r == Err(MapError::NotAllowed(virt)),
            "map at {virt:#x} gave {r:?}"
        );
    }
    let r = mm::with_frames(|f| paging::map_page(VMALLOC_BASE + 1, frame, PageFlags::DATA, f));
    ensure!(
        r == Err(MapError::Unaligned(VMALLOC_BASE + 1)),
        "unaligned map gave {r:?}"
    );
    mm::with_frames(|f| f.free(frame)).map_err(|e| alloc::format!("{e:?}"))?;
    Ok(())
}

static RODATA_SAMPLE: [u8; 16] = *b"read-only sample";
static DATA_SAMPLE: spin::Mutex<u64> = spin::Mutex::new(0);

fn paging_w_xor_x(ctx: &Context<'_>) -> Outcome {
    let text = paging_w_xor_x as *const () as usize as u64;
    let rodata = RODATA_SAMPLE.as_ptr() as u64;
    let data = &*DATA_SAMPLE.lock() as *const u64 as u64;
    let heap = Box::new(0u64);
    let heap_addr = &*heap as *const u64 as u64;
    let direct = layout::phys_to_virt(ctx.kernel_phys.0);
    let expect = [
        (
            "text",
            text,
            PageFlags {
                writable: false,
                executable: true,
            },
        ),
        ("rodata", rodata, PageFlags::READ_ONLY),
        ("data", data, PageFlags::DATA),
        ("heap", heap_addr, PageFlags::DATA),
        ("direct map", direct, PageFlags::DATA),
    ];
    for (what, addr, want) in expect {
        let got = paging::flags(addr);
        ensure!(
            got == Some(want),
            "{what} at {addr:#x} mapped {got:?}, want {want:?}"
        );
    }
    ensure!(
        k42_hal::cpu::write_protect_enabled(),
        "CR0.WP is clear: the kernel could write its own read-only pages"
    );
    Ok(())
}

/// The boot tables identity-mapped low memory; the kernel's own must not, so a
/// stray low pointer (a null dereference, a physical address used as virtual)
/// faults instead of reaching memory.
fn paging_no_identity(ctx: &Context<'_>) -> Outcome {
    let (image_start, image_end) = ctx.kernel_phys;
    for low in [0, PAGE_SIZE, image_start, image_end - PAGE_SIZE] {
        ensure!(
            paging::translate(low).is_none(),
            "low address {low:#x} is still mapped"
        );
    }
    Ok(())
}

fn paging_stack_guard(_: &Context<'_>) -> Outcome {
    let (rsp, _) = k42_hal::cpu::frame_registers();
    let stack = paging::KernelStack::slot_of(rsp).ok_or("not running on a guarded kernel stack")?;
    ensure!(
        stack.contains(rsp),
        "rsp {rsp:#x} outside its stack {stack:x?}"
    );
    ensure!(
        paging::translate(stack.bottom).is_some(),
        "stack bottom unmapped"
    );
    let guard = stack.bottom - PAGE_SIZE;
    ensure!(
        paging::translate(guard).is_none(),
        "guard page {guard:#x} is mapped"
    );
    ensure!(
        paging::KernelStack::is_guard_page(guard),
        "guard page not recognised"
    );
    Ok(())
}

fn heap_alloc_free(_: &Context<'_>) -> Outcome {
    const BIG: usize = 1 << 20;
    const SMALL: usize = 10_000;
    let (_, used_before) = k42_hal::heap::usage();
    {
        let big = alloc::vec![0xa5u8; BIG];
        ensure!(
            big.iter().all(|&b| b == 0xa5),
            "big allocation lost its contents"
        );
        let small: Vec<Box<usize>> = (0..SMALL).map(Box::new).collect();
        ensure!(
            small.iter().enumerate().all(|(i, b)| **b == i),
            "small boxes corrupted"
        );
        let (_, used) = k42_hal::heap::usage();
        ensure!(
            used >= used_before + BIG,
            "heap usage {used} did not grow by {BIG}"
        );
    }
    let (_, used_after) = k42_hal::heap::usage();
    ensure!(
        used_after == used_before,
        "heap usage {used_after} after freeing, was {used_before}"
    );
    Ok(())
}
