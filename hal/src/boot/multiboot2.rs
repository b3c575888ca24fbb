//! The multiboot2 boot protocol (GRUB, e.g. from `cargo xtask iso`, for real
//! hardware): reading the boot information's tags.

use super::handover::{Copies, Handover, MAX_REGIONS, MemKind, read_u32, read_u64};

const TAG_END: u32 = 0;
const TAG_CMDLINE: u32 = 1;
const TAG_MODULE: u32 = 3;
const TAG_MMAP: u32 = 6;
const TAG_ACPI_OLD: u32 = 14;
const TAG_ACPI_NEW: u32 = 15;
const TAG_HEADER_LEN: u64 = 8;
const TAG_ALIGN: u64 = 8;
const INFO_HEADER_LEN: u64 = 8;
const MMAP_OFF_ENTRY_SIZE: u64 = 8;
const MMAP_ENTRIES_OFFSET: u64 = 16;
const MMAP_ENTRY_OFF_TYPE: u64 = 16;
const MODULE_OFF_END: u64 = 12;
/// Boot information larger than this is treated as corrupt.
const MAX_INFO_LEN: u64 = 1 << 20;

/// Errors in the boot information.
#[derive(Debug)]
pub enum Multiboot2Error {
    /// The total size is absurd.
    BadSize(u32),
    /// There was no memory map tag.
    NoMemoryMap,
}

impl core::fmt::Display for Multiboot2Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadSize(s) => write!(f, "multiboot2 boot information of {s} bytes"),
            Self::NoMemoryMap => write!(f, "multiboot2 boot information has no memory map"),
        }
    }
}

pub(super) fn read(base: u64) -> Result<Handover, Multiboot2Error> {
    let total = read_u32(base);
    if !(INFO_HEADER_LEN..=MAX_INFO_LEN).contains(&u64::from(total)) {
        return Err(Multiboot2Error::BadSize(total));
    }
    let end = base + u64::from(total);
    let mut copies = Copies::new();
    let (mut initrd, mut rsdp, mut saw_mmap) = ((0, 0), None, false);
    let mut tag = base + INFO_HEADER_LEN;
    while tag + TAG_HEADER_LEN <= end {
        let (kind, size) = (read_u32(tag), u64::from(read_u32(tag + 4)));
        if kind == TAG_END || size < TAG_HEADER_LEN || tag + size > end {
            break;
        }
        match kind {
            TAG_CMDLINE => copies.copy_cmdline(tag + TAG_HEADER_LEN),
            TAG_MODULE if initrd == (0, 0) => {
                initrd = (
                    u64::from(read_u32(tag + TAG_HEADER_LEN)),
                    u64::from(read_u32(tag + MODULE_OFF_END)),
                );
            }
            TAG_MMAP => {
                saw_mmap = true;
                let entry_size = u64::from(read_u32(tag + MMAP_OFF_ENTRY_SIZE));
                let mut e = tag + MMAP_ENTRIES_OFFSET;
                let mut n = 0;
                while entry_size > 0 && e + entry_size <= tag + size && n < MAX_REGIONS {
                    let kind = MemKind::from_e820(read_u32(e + MMAP_ENTRY_OFF_TYPE));
                    copies.push_region(read_u64(e), read_u64(e + 8), kind);
                    e += entry_size;
                    n += 1;
                }
            }
            // The tags hold a copy of the RSDP; the new (ACPI 2) one wins.
            TAG_ACPI_OLD if rsdp.is_none() => rsdp = Some(tag + TAG_HEADER_LEN),
            TAG_ACPI_NEW => rsdp = Some(tag + TAG_HEADER_LEN),
            _ => {}
        }
        tag += size.next_multiple_of(TAG_ALIGN);
    }
    if !saw_mmap {
        return Err(Multiboot2Error::NoMemoryMap);
    }
    let initrd = if initrd.1 > initrd.0 { initrd } else { (0, 0) };
    Ok(copies.finish(initrd, rsdp, (base, end)))
}
