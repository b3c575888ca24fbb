//! What a boot loader hands the kernel, whichever protocol brought it (PVH from
//! QEMU `-kernel`, multiboot2 from GRUB): the memory map, the command line, the
//! initramfs and the ACPI RSDP. Each parser copies its loader's data into these
//! kernel-owned statics at once, because the loader's memory is not reserved
//! once the frame allocator runs.

use spin::Once;

use crate::layout;

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
    pub(super) fn from_e820(t: u32) -> Self {
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

pub(super) struct Handover {
    pub memory_map: &'static [MemRegion],
    pub cmdline: &'static str,
    pub initrd_phys: (u64, u64),
    pub rsdp: Option<u64>,
    /// Loader memory the kernel still reads after boot (multiboot2 keeps the
    /// RSDP copy inside its boot information), reserved from the allocator.
    pub keep: (u64, u64),
}

pub(super) struct Copies {
    regions: [MemRegion; MAX_REGIONS],
    region_count: usize,
    cmdline: [u8; MAX_CMDLINE],
    cmdline_len: usize,
}

impl Copies {
    pub(super) const fn new() -> Self {
        Self {
            regions: [MemRegion {
                start: 0,
                end: 0,
                kind: MemKind::Reserved,
            }; MAX_REGIONS],
            region_count: 0,
            cmdline: [0; MAX_CMDLINE],
            cmdline_len: 0,
        }
    }

    /// Adds a region (dropping empty, overflowing or surplus ones).
    pub(super) fn push_region(&mut self, start: u64, size: u64, kind: MemKind) {
        if let Some(end) = start.checked_add(size).filter(|_| size > 0)
            && self.region_count < MAX_REGIONS
        {
            self.regions[self.region_count] = MemRegion { start, end, kind };
            self.region_count += 1;
        }
    }

    /// Copies the NUL-terminated command line at physical `paddr`.
    pub(super) fn copy_cmdline(&mut self, paddr: u64) {
        while paddr != 0 && self.cmdline_len < MAX_CMDLINE {
            let b = read_u8(paddr + self.cmdline_len as u64);
            if b == 0 {
                break;
            }
            self.cmdline[self.cmdline_len] = b;
            self.cmdline_len += 1;
        }
    }

    /// Stores the copies for the kernel's lifetime and builds the handover.
    pub(super) fn finish(
        mut self,
        initrd_phys: (u64, u64),
        rsdp: Option<u64>,
        keep: (u64, u64),
    ) -> Handover {
        self.regions[..self.region_count].sort_unstable_by_key(|r| r.start);
        let copies = COPIES.call_once(|| self);
        let cmdline = core::str::from_utf8(&copies.cmdline[..copies.cmdline_len]).unwrap_or("");
        Handover {
            memory_map: &copies.regions[..copies.region_count],
            cmdline,
            initrd_phys,
            rsdp,
            keep,
        }
    }
}

static COPIES: Once<Copies> = Once::new();

/// Reads a byte of loader memory by physical address.
pub(super) fn read_u8(paddr: u64) -> u8 {
    // SAFETY: only called on loader structures, which lie in the low 4 GiB that
    // the boot tables' direct map covers; a read has no side effect.
    unsafe { core::ptr::read(layout::phys_to_virt(paddr) as *const u8) }
}

/// Reads a little-endian u32 of loader memory by physical address.
pub(super) fn read_u32(paddr: u64) -> u32 {
    // SAFETY: as in `read_u8`.
    unsafe { core::ptr::read_unaligned(layout::phys_to_virt(paddr) as *const u32) }
}

/// Reads a little-endian u64 of loader memory by physical address.
pub(super) fn read_u64(paddr: u64) -> u64 {
    u64::from(read_u32(paddr)) | (u64::from(read_u32(paddr + 4)) << 32)
}
