//! Bringing up the other CPUs: each AP the MADT lists is started by the hardware
//! crate, one at a time, and arrives in `ap_main` with its own GDT, TSS, IDT,
//! guarded stacks and tick. There it runs the dispatchers placed on it (`switch::start_cpu`).

use crate::mm;

/// Starts every CPU in `apic_ids` except this one; returns how many run.
pub fn start_others(apic_ids: &[u32]) -> usize {
    let me = k42_hal::apic::cpu_id();
    for (index, &apic_id) in apic_ids.iter().enumerate().filter(|(_, id)| **id != me) {
        let cpu = index as u32;
        match mm::with_frames(|f| k42_hal::smp::start_ap(apic_id, cpu, f, ap_main)) {
            Ok(()) => log::debug!("cpu {cpu} (APIC {apic_id}) started"),
            Err(e) => log::error!("cpu {cpu} (APIC {apic_id}) did not start: {e}"),
        }
    }
    k42_hal::smp::online() as usize
}

/// Where each AP lands: it says so, then runs dispatchers as they are placed on it (idling,
/// with its tick, until then).
fn ap_main(cpu: u32) -> ! {
    log::info!("cpu {cpu} (APIC {}) online", k42_hal::apic::cpu_id());
    crate::switch::start_cpu()
}
