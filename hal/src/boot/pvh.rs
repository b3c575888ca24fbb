//! The PVH boot protocol (QEMU `-kernel`, Xen): reading `hvm_start_info`.

use super::handover::{Copies, Handover, MAX_REGIONS, MemKind, read_u32 as rd32, read_u64 as rd64};

const START_INFO_MAGIC: u32 = 0x336e_c578;
const OFF_MAGIC: u64 = 0;
const OFF_VERSION: u64 = 4;
const OFF_NR_MODULES: u64 = 12;
const OFF_MODLIST: u64 = 16;
const OFF_CMDLINE: u64 = 24;
const OFF_RSDP: u64 = 32;
const OFF_MEMMAP: u64 = 40;
const OFF_MEMMAP_ENTRIES: u64 = 48;
const MEMMAP_ENTRY_SIZE: u64 = 24;
const MEMMAP_OFF_TYPE: u64 = 16;
const MODLIST_OFF_SIZE: u64 = 8;
/// Version 1 added the memory map.
const VERSION_WITH_MEMMAP: u32 = 1;

/// Errors in the start info.
#[derive(Debug)]
pub enum StartInfoError {
    /// The magic number is wrong: not booted through PVH.
    BadMagic(u32),
    /// Version 0 has no memory map.
    NoMemoryMap,
}

impl core::fmt::Display for StartInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadMagic(m) => write!(f, "bad hvm_start_info magic {m:#x} (not a PVH boot?)"),
            Self::NoMemoryMap => write!(f, "hvm_start_info version 0 has no memory map"),
        }
    }
}

pub(super) fn read(base: u64) -> Result<Handover, StartInfoError> {
    let magic = rd32(base + OFF_MAGIC);
    if magic != START_INFO_MAGIC {
        return Err(StartInfoError::BadMagic(magic));
    }
    if rd32(base + OFF_VERSION) < VERSION_WITH_MEMMAP {
        return Err(StartInfoError::NoMemoryMap);
    }
    let mut copies = Copies::new();
    let memmap = rd64(base + OFF_MEMMAP);
    for i in 0..u64::from(rd32(base + OFF_MEMMAP_ENTRIES)).min(MAX_REGIONS as u64) {
        let e = memmap + i * MEMMAP_ENTRY_SIZE;
        copies.push_region(
            rd64(e),
            rd64(e + 8),
            MemKind::from_e820(rd32(e + MEMMAP_OFF_TYPE)),
        );
    }
    copies.copy_cmdline(rd64(base + OFF_CMDLINE));
    let initrd_phys = if rd32(base + OFF_NR_MODULES) > 0 {
        let m = rd64(base + OFF_MODLIST);
        let (start, size) = (rd64(m), rd64(m + MODLIST_OFF_SIZE));
        (start, start.saturating_add(size))
    } else {
        (0, 0)
    };
    let rsdp = Some(rd64(base + OFF_RSDP)).filter(|&a| a != 0);
    Ok(copies.finish(initrd_phys, rsdp, (0, 0)))
}
