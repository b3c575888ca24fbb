//! Cases on file images (`k42_kapi::Image`): an image made, filled and sealed by this process
//! maps privately with its bytes, a write to a mapping stays that mapping's own, `discard`
//! brings the image's bytes back, and the kernel refuses a map before the seal, a fill after
//! it, fills and maps past the image's end, bad tables, and callers without the right.

use alloc::vec::Vec;

use k42_kapi::{IMAGE_PAGE_SIZE, ImageClient, KError, MAX_FILL_PAGES, prot};
use k42_rights::wire::{CallError, meta};
use k42_rights::{Badge, Rights, XHandle};
use k42_rt::KernelPpc;
use k42_rt::layout::PROGRAM_BASE;

use crate::ctx::{Case, Ctx, Outcome, ensure, failed, lacks};

/// The cases of this file.
pub const CASES: &[Case] = &[
    Case {
        name: "image.map_private",
        run: map_private,
    },
    Case {
        name: "image.refusals",
        run: refusals,
    },
];

/// Bytes of a page.
const PAGE: u64 = IMAGE_PAGE_SIZE;
/// Pages of the test image: two filled, two left zero.
const IMAGE_PAGES: u64 = 4;
/// Where the source pages, the first mapping and the second go (the range programs may use).
const SOURCE_AT: u64 = PROGRAM_BASE;
const FIRST_AT: u64 = PROGRAM_BASE + 0x10_0000;
const SECOND_AT: u64 = PROGRAM_BASE + 0x20_0000;

/// The byte page `index` of the image is filled with.
fn fill_byte(index: usize) -> u8 {
    0xa0 + index as u8
}

/// A new image of `IMAGE_PAGES` pages with pages 0 and 1 filled; its client.
fn filled_image(ctx: &mut Ctx) -> Result<ImageClient<KernelPpc>, crate::ctx::NotPassed> {
    let handle = ctx
        .env
        .memory()
        .make_image(IMAGE_PAGES)
        .map_err(|e| failed("Memory::make_image", e))?;
    let mut image = ImageClient::new(KernelPpc, XHandle::from_word(handle));
    let source =
        k42_rt::memory::map_anon(SOURCE_AT, 2 * PAGE).map_err(|e| failed("Memory::map", e))?;
    for (i, page) in source.chunks_mut(PAGE as usize).enumerate() {
        page.fill(fill_byte(i));
    }
    // Page 2 from a 0 entry: zeros, as the image began.
    let table: [u64; 3] = [SOURCE_AT, SOURCE_AT + PAGE, 0];
    let filled = image.fill(0, table.as_ptr() as u64, table.len() as u64);
    k42_rt::memory::unmap(source).map_err(|e| failed("Memory::unmap", e))?;
    filled.map_err(|e| failed("Image::fill", e))?;
    let early = image.map_private(FIRST_AT, PAGE, 0, prot::READ);
    ensure!(
        early == Err(CallError::Method(KError::WrongState)),
        "a map of an image not sealed yet gave {early:?}"
    );
    image.seal().map_err(|e| failed("Image::seal", e))?;
    let late = image.fill(0, table.as_ptr() as u64, 1);
    ensure!(
        late == Err(CallError::Method(KError::WrongState)),
        "a fill of a sealed image gave {late:?}"
    );
    Ok(image)
}

/// Whether every byte of `page` is `byte`.
fn all(page: &[u8], byte: u8) -> bool {
    page.iter().all(|&b| b == byte)
}

/// Two private mappings of one image read its bytes; a write to one is its own.
fn map_private(ctx: &mut Ctx) -> Outcome {
    let mut image = filled_image(ctx)?;
    let pages = image.pages().map_err(|e| failed("Image::pages", e))?;
    ensure!(pages == IMAGE_PAGES, "Image::pages says {pages}");
    let handle = image.handle.to_word();
    let first = k42_rt::memory::map_image(handle, FIRST_AT, IMAGE_PAGES * PAGE, 0)
        .map_err(|e| failed("Image::map_private", e))?;
    let second = k42_rt::memory::map_image(handle, SECOND_AT, 2 * PAGE, 1)
        .map_err(|e| failed("Image::map_private (from page 1)", e))?;
    let expect = [fill_byte(0), fill_byte(1), 0, 0];
    for (i, page) in first.chunks(PAGE as usize).enumerate() {
        ensure!(
            all(page, expect[i]),
            "page {i} of the mapping does not hold {:#x} throughout",
            expect[i]
        );
    }
    ensure!(
        all(&second[..PAGE as usize], fill_byte(1)),
        "the mapping from page 1 does not start with page 1"
    );
    first[PAGE as usize + 7] = 0x5a;
    let first = core::hint::black_box(first);
    ensure!(
        first[PAGE as usize + 7] == 0x5a,
        "a write to the private mapping did not stick"
    );
    ensure!(
        all(&second[..PAGE as usize], fill_byte(1)),
        "a write to one private mapping showed in another"
    );
    ctx.env
        .memory()
        .discard(FIRST_AT + PAGE, PAGE)
        .map_err(|e| failed("Memory::discard", e))?;
    let first = core::hint::black_box(first);
    ensure!(
        all(&first[PAGE as usize..2 * PAGE as usize], fill_byte(1)),
        "after a discard the mapping does not read the image's bytes again"
    );
    let again = first_page_again(handle)?;
    ensure!(
        all(again, fill_byte(1)),
        "a write to a private mapping changed the image"
    );
    for region in [first, second, again] {
        k42_rt::memory::unmap(region).map_err(|e| failed("Memory::unmap", e))?;
    }
    meta::release(&mut KernelPpc, XHandle::from_word(handle))
        .map_err(|e| failed("release of the image", e))?;
    Ok(())
}

/// A third mapping of image page 1, made after the write.
fn first_page_again(handle: u64) -> Result<&'static mut [u8], crate::ctx::NotPassed> {
    let at = SECOND_AT + 0x10_0000;
    k42_rt::memory::map_image(handle, at, PAGE, 1)
        .map_err(|e| failed("Image::map_private (again)", e))
}

/// Fills and maps past the end, too many pages at once, an unreadable table, a map over a
/// mapping, and a fill through a handle given READ only are refused.
fn refusals(ctx: &mut Ctx) -> Outcome {
    let fresh = ctx
        .env
        .memory()
        .make_image(IMAGE_PAGES)
        .map_err(|e| failed("Memory::make_image", e))?;
    let mut unsealed = ImageClient::new(KernelPpc, XHandle::from_word(fresh));
    let table = [0u64; 2];
    let past = unsealed.fill(IMAGE_PAGES - 1, table.as_ptr() as u64, 2);
    ensure!(
        past == Err(CallError::Method(KError::BadArgument)),
        "a fill past the end gave {past:?}"
    );
    let big: Vec<u64> = alloc::vec![0; MAX_FILL_PAGES as usize + 1];
    let many = unsealed.fill(0, big.as_ptr() as u64, big.len() as u64);
    ensure!(
        many == Err(CallError::Method(KError::BadArgument)),
        "a fill of {} pages gave {many:?}",
        big.len()
    );
    let unreadable = unsealed.fill(0, 8, 1);
    ensure!(
        unreadable == Err(CallError::Method(KError::BadAddress)),
        "a fill from an unmapped table gave {unreadable:?}"
    );
    meta::release(&mut KernelPpc, unsealed.handle)
        .map_err(|e| failed("release of the unsealed image", e))?;
    let mut image = filled_image(ctx)?;
    let rw = prot::READ | prot::WRITE;
    let beyond = image.map_private(FIRST_AT, 2 * PAGE, IMAGE_PAGES - 1, rw);
    ensure!(
        beyond == Err(CallError::Method(KError::BadArgument)),
        "a map past the end gave {beyond:?}"
    );
    image
        .map_private(FIRST_AT, PAGE, 0, rw)
        .map_err(|e| failed("Image::map_private", e))?;
    let over = image.map_private(FIRST_AT, PAGE, 0, rw);
    ensure!(
        over == Err(CallError::Method(KError::Exists)),
        "a map over a mapping gave {over:?}"
    );
    ctx.env
        .memory()
        .unmap(FIRST_AT, PAGE)
        .map_err(|e| failed("Memory::unmap", e))?;
    let reader = meta::give_access(
        &mut KernelPpc,
        image.handle,
        Badge(ctx.env.pid()),
        Rights::READ,
    )
    .map_err(|e| failed("give-access on the image", e))?;
    let mut read_only = ImageClient::new(KernelPpc, reader);
    let fill = read_only.fill(0, table.as_ptr() as u64, 1);
    ensure!(
        lacks(&fill, Rights::WRITE),
        "a fill through a READ handle gave {fill:?}, not Lacking WRITE"
    );
    let pages = read_only.pages();
    ensure!(
        pages == Ok(IMAGE_PAGES),
        "Image::pages through a READ handle gave {pages:?}"
    );
    for handle in [reader, image.handle] {
        meta::release(&mut KernelPpc, handle).map_err(|e| failed("release of the image", e))?;
    }
    Ok(())
}
