//! Reading Xen's `hvm_start_info` (the PVH boot protocol, as QEMU fills it):
//! the memory map, the command line, the first module (the initramfs) and the
//! ACPI RSDP. Everything is copied into kernel-owned statics at once, because
//! the loader's memory is not reserved once the frame allocator runs.

use spin::Once;

use crate::layout;

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
const E820_RAM: u32 = 1;
const E820_RESERVED: u32 = 2;
const E820_ACPI: u32 = 3;
const E820_NVS: u32 = 4;
const E820_UNUSABLE: u32 = 5;
/// Most memory-map entries kept.
pub const MAX_REGIONS: usize = 128;
/// Longest command line kept (Linux's x86 COMMAND_LINE_SIZE).
pub const MAX_CMDLINE: usize = 2048;

/// What a memory-map region holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemKind {
    /// RAM the kernel may use.
    Usable,
    /// Reserved by firmware.
    Reserved,
    /// ACPI tables, reclaimable after reading.
    AcpiReclaimable,
    /// ACPI non-volatile storage.
    AcpiNvs,
    /// Defective RAM.
    Unusable,
    /// A type this kernel does not know.
    Other(u32),
}

impl MemKind {
    fn from_e820(t: u32) -> Self {
        match t {
            E820_RAM => Self::Usable,
            E820_RESERVED => Self::Reserved,
            E820_ACPI => Self::AcpiReclaimable,
            E820_NVS => Self::AcpiNvs,
            E820_UNUSABLE => Self::Unusable,
            other => Self::Other(other),
        }
    }
}

/// One region of the firmware's memory map, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemRegion {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// What it holds.
    pub kind: MemKind,
}

pub(super) struct StartInfo {
    pub memory_map: &'static [MemRegion],
    pub cmdline: &'static str,
    pub initrd_phys: (u64, u64),
    pub rsdp: Option<u64>,
}

struct Copies {
    regions: [MemRegion; MAX_REGIONS],
    region_count: usize,
    cmdline: [u8; MAX_CMDLINE],
    cmdline_len: usize,
}

static COPIES: Once<Copies> = Once::new();

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

fn rd32(paddr: u64) -> u32 {
    // SAFETY: only called on the loader's structures, which lie in the low 4 GiB
    // that the boot tables' direct map covers; a read has no side effect.
    unsafe { core::ptr::read_unaligned(layout::phys_to_virt(paddr) as *const u32) }
}

fn rd64(paddr: u64) -> u64 {
    u64::from(rd32(paddr)) | (u64::from(rd32(paddr + 4)) << 32)
}

pub(super) fn read(base: u64) -> Result<StartInfo, StartInfoError> {
    let magic = rd32(base + OFF_MAGIC);
    if magic != START_INFO_MAGIC {
        return Err(StartInfoError::BadMagic(magic));
    }
    if rd32(base + OFF_VERSION) < VERSION_WITH_MEMMAP {
        return Err(StartInfoError::NoMemoryMap);
    }
    let mut copies = Copies {
        regions: [MemRegion {
            start: 0,
            end: 0,
            kind: MemKind::Reserved,
        }; MAX_REGIONS],
        region_count: 0,
        cmdline: [0; MAX_CMDLINE],
        cmdline_len: 0,
    };
    let memmap = rd64(base + OFF_MEMMAP);
    let entries = (rd32(base + OFF_MEMMAP_ENTRIES) as usize).min(MAX_REGIONS);
    for i in 0..entries {
        let e = memmap + i as u64 * MEMMAP_ENTRY_SIZE;
        let (start, size) = (rd64(e), rd64(e + 8));
        let kind = MemKind::from_e820(rd32(e + MEMMAP_OFF_TYPE));
        if let Some(end) = start.checked_add(size).filter(|_| size > 0) {
            copies.regions[copies.region_count] = MemRegion { start, end, kind };
            copies.region_count += 1;
        }
    }
    copies.regions[..copies.region_count].sort_unstable_by_key(|r| r.start);
    let cmdline = rd64(base + OFF_CMDLINE);
    if cmdline != 0 {
        while copies.cmdline_len < MAX_CMDLINE {
            // SAFETY: see `rd32`; the command line is NUL-terminated low memory.
            let b = unsafe {
                core::ptr::read(
                    layout::phys_to_virt(cmdline + copies.cmdline_len as u64) as *const u8
                )
            };
            if b == 0 {
                break;
            }
            copies.cmdline[copies.cmdline_len] = b;
            copies.cmdline_len += 1;
        }
    }
    let initrd_phys = if rd32(base + OFF_NR_MODULES) > 0 {
        let m = rd64(base + OFF_MODLIST);
        let (start, size) = (rd64(m), rd64(m + MODLIST_OFF_SIZE));
        (start, start.saturating_add(size))
    } else {
        (0, 0)
    };
    let rsdp = Some(rd64(base + OFF_RSDP)).filter(|&a| a != 0);
    let copies = COPIES.call_once(|| copies);
    let cmdline = core::str::from_utf8(&copies.cmdline[..copies.cmdline_len]).unwrap_or("");
    Ok(StartInfo {
        memory_map: &copies.regions[..copies.region_count],
        cmdline,
        initrd_phys,
        rsdp,
    })
}
