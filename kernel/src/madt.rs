//! Counting the CPUs from ACPI's MADT ("APIC" table): enabled or
//! online-capable local APIC and x2APIC entries. SMP bring-up (issue #3) will
//! use the same entries to find the APs.

use crate::mm;

const MADT_SIGNATURE: &[u8; 4] = b"APIC";
/// Table header (36) plus local APIC address and flags (8).
const ENTRIES_OFFSET: usize = 44;
const TYPE_LOCAL_APIC: u8 = 0;
const TYPE_LOCAL_X2APIC: u8 = 9;
const LOCAL_APIC_FLAGS_OFFSET: usize = 4;
const X2APIC_FLAGS_OFFSET: usize = 8;
const FLAG_ENABLED: u32 = 1 << 0;
const FLAG_ONLINE_CAPABLE: u32 = 1 << 1;
const MIN_ENTRY_LEN: usize = 2;

/// CPUs listed in a MADT's bytes.
pub fn count_in(madt: &[u8]) -> usize {
    let mut rest = madt.get(ENTRIES_OFFSET..).unwrap_or(&[]);
    let mut cpus = 0;
    while let [kind, len, ..] = *rest {
        let len = usize::from(len);
        if len < MIN_ENTRY_LEN || len > rest.len() {
            break;
        }
        let entry = &rest[..len];
        let flags_at = match kind {
            TYPE_LOCAL_APIC => Some(LOCAL_APIC_FLAGS_OFFSET),
            TYPE_LOCAL_X2APIC => Some(X2APIC_FLAGS_OFFSET),
            _ => None,
        };
        let flags = flags_at
            .and_then(|o| entry.get(o..o + 4))
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if flags.is_some_and(|f| f & (FLAG_ENABLED | FLAG_ONLINE_CAPABLE) != 0) {
            cpus += 1;
        }
        rest = &rest[len..];
    }
    cpus
}

/// CPUs the firmware reports, or 1 when there is no usable MADT.
pub fn cpu_count(rsdp: Option<u64>) -> usize {
    let madt =
        rsdp.and_then(|r| mm::with_frames(|f| k42_hal::acpi::find_table(r, MADT_SIGNATURE, f)));
    match madt.map(count_in) {
        Some(n) if n > 0 => n,
        _ => {
            log::warn!("no usable ACPI MADT; assuming one CPU");
            1
        }
    }
}
