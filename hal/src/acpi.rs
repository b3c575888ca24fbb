//! Finding ACPI tables: RSDP (handed over by the PVH loader) → XSDT or RSDT →
//! a table by signature, each checked (length, checksum) before it is trusted.
//! The tables' contents are interpreted by the kernel (e.g. the MADT for the CPU
//! list); this module only hands out their bytes.

use k42_frames::FrameAllocator as Frames;

use crate::{layout, paging, phys};

const RSDP_SIGNATURE: &[u8; 8] = b"RSD PTR ";
const RSDP_V1_LEN: usize = 20;
const RSDP_V2_LEN: usize = 36;
const RSDP_REVISION_OFFSET: usize = 15;
const RSDP_RSDT_OFFSET: usize = 16;
const RSDP_XSDT_OFFSET: usize = 24;
const HEADER_LEN: usize = 36;
const LENGTH_OFFSET: usize = 4;
/// Tables larger than this are treated as corrupt.
const MAX_TABLE_LEN: usize = 1 << 20;

/// Returns the bytes of the physical range, mapping it uncached if the direct
/// map does not cover it (firmware often keeps tables in "reserved" memory).
fn bytes_at(paddr: u64, len: usize, frames: &mut Frames<'_>) -> Option<&'static [u8]> {
    let last = paddr.checked_add(len as u64)?.checked_sub(1)?;
    let covered = (paddr..=last)
        .step_by(layout::PAGE_SIZE as usize)
        .chain(core::iter::once(last))
        .all(|p| paging::translate(layout::phys_to_virt(p)).is_some());
    if covered {
        // SAFETY: the range is in the direct map; ACPI tables are never written
        // by the kernel and their frames are not in the allocator (they are not
        // usable RAM in the firmware's map).
        return Some(unsafe { phys::static_bytes(paddr, len) });
    }
    let virt = paging::map_mmio(paddr, len as u64, frames).ok()?;
    // SAFETY: just mapped for exactly this range; never unmapped or written.
    Some(unsafe { core::slice::from_raw_parts(virt as *const u8, len) })
}

fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b)) == 0
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(off..off + 8)?.try_into().ok()?))
}

fn table_at(paddr: u64, frames: &mut Frames<'_>) -> Option<&'static [u8]> {
    let header = bytes_at(paddr, HEADER_LEN, frames)?;
    let len = u32_at(header, LENGTH_OFFSET)? as usize;
    if !(HEADER_LEN..=MAX_TABLE_LEN).contains(&len) {
        return None;
    }
    let table = bytes_at(paddr, len, frames)?;
    checksum_ok(table).then_some(table)
}

/// The ACPI table with `signature` (e.g. `b"APIC"` for the MADT), found from the
/// RSDP at `rsdp`.
pub fn find_table(
    rsdp: u64,
    signature: &[u8; 4],
    frames: &mut Frames<'_>,
) -> Option<&'static [u8]> {
    let v1 = bytes_at(rsdp, RSDP_V1_LEN, frames)?;
    if &v1[..8] != RSDP_SIGNATURE || !checksum_ok(v1) {
        return None;
    }
    let (root, entry_size) = if v1[RSDP_REVISION_OFFSET] >= 2 {
        let v2 = bytes_at(rsdp, RSDP_V2_LEN, frames)?;
        (u64_at(v2, RSDP_XSDT_OFFSET)?, 8)
    } else {
        (u64::from(u32_at(v1, RSDP_RSDT_OFFSET)?), 4)
    };
    let root = table_at(root, frames)?;
    let entries = &root[HEADER_LEN..];
    for i in 0..entries.len() / entry_size {
        let off = i * entry_size;
        let addr = if entry_size == 8 {
            u64_at(entries, off)?
        } else {
            u64::from(u32_at(entries, off)?)
        };
        let header = bytes_at(addr, HEADER_LEN, frames)?;
        if &header[..4] == signature {
            return table_at(addr, frames);
        }
    }
    None
}
