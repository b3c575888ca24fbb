//! The CPUs from ACPI's MADT ("APIC" table): enabled or online-capable local
//! APIC and x2APIC entries, by local APIC id. `smp` starts the ones that are not
//! the boot CPU.

use alloc::vec::Vec;

use crate::mm;

const MADT_SIGNATURE: &[u8; 4] = b"APIC";
/// Table header (36) plus local APIC address and flags (8).
const ENTRIES_OFFSET: usize = 44;
const TYPE_LOCAL_APIC: u8 = 0;
const TYPE_LOCAL_X2APIC: u8 = 9;
/// Where each entry type keeps its APIC id (a byte for local APICs, a u32 for
/// x2APICs) and its flags.
const LOCAL_APIC_ID_OFFSET: usize = 3;
const LOCAL_APIC_FLAGS_OFFSET: usize = 4;
const X2APIC_ID_OFFSET: usize = 4;
const X2APIC_FLAGS_OFFSET: usize = 8;
const FLAG_ENABLED: u32 = 1 << 0;
const FLAG_ONLINE_CAPABLE: u32 = 1 << 1;
const MIN_ENTRY_LEN: usize = 2;

fn u32_at(entry: &[u8], offset: usize) -> Option<u32> {
    let b = entry.get(offset..offset + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The APIC ids of the usable CPUs listed in a MADT's bytes, in table order.
pub fn apic_ids_in(madt: &[u8]) -> Vec<u32> {
    let mut rest = madt.get(ENTRIES_OFFSET..).unwrap_or(&[]);
    let mut ids = Vec::new();
    while let [kind, len, ..] = *rest {
        let len = usize::from(len);
        if len < MIN_ENTRY_LEN || len > rest.len() {
            break;
        }
        let entry = &rest[..len];
        let cpu = match kind {
            TYPE_LOCAL_APIC => entry
                .get(LOCAL_APIC_ID_OFFSET)
                .map(|&id| u32::from(id))
                .zip(u32_at(entry, LOCAL_APIC_FLAGS_OFFSET)),
            TYPE_LOCAL_X2APIC => {
                u32_at(entry, X2APIC_ID_OFFSET).zip(u32_at(entry, X2APIC_FLAGS_OFFSET))
            }
            _ => None,
        };
        if let Some((id, flags)) = cpu
            && flags & (FLAG_ENABLED | FLAG_ONLINE_CAPABLE) != 0
        {
            ids.push(id);
        }
        rest = &rest[len..];
    }
    ids
}

/// The APIC ids of the CPUs the firmware reports; just the boot CPU's when there
/// is no usable MADT.
pub fn apic_ids(rsdp: Option<u64>) -> Vec<u32> {
    let madt =
        rsdp.and_then(|r| mm::with_frames(|f| k42_hal::acpi::find_table(r, MADT_SIGNATURE, f)));
    match madt.map(apic_ids_in) {
        Some(ids) if !ids.is_empty() => ids,
        _ => {
            log::warn!("no usable ACPI MADT; assuming one CPU");
            alloc::vec![k42_hal::apic::cpu_id()]
        }
    }
}
