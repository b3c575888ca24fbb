//! TLB shootdown: after a process's mappings shrink or lose rights, every other CPU that may
//! run one of its dispatchers flushes its TLB before the change is reported done.
//!
//! Each CPU has a request generation and a done generation ([`Generations`], in its
//! `cpu::Slot`, so the check every entry makes is two loads from the slot it has at hand). The
//! requester bumps the target's request, sends the wake-up IPI and waits for done to catch up —
//! servicing requests aimed at itself meanwhile, so two CPUs shooting at each other with
//! interrupts off cannot deadlock. A target services requests on its next entry from user mode,
//! in its idle loop and in the wake-up handler when the IPI finds it idle in ring 0.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use k42_kapi::counter;

use crate::cpu;

/// One CPU's shootdown state (nothing asked, nothing done by default).
#[derive(Default)]
pub struct Generations {
    /// Flushes asked of the CPU so far.
    requested: AtomicU64,
    /// Requests the CPU has flushed for.
    done: AtomicU64,
}

/// Flushes this CPU's TLB if another CPU asked for it.
pub fn service() {
    service_on(cpu::this());
}

/// `service` for a caller that has this CPU's slot at hand (every kernel entry).
pub fn service_on(this: &cpu::Slot) {
    let wanted = this.tlb.requested.load(Ordering::Acquire);
    if this.tlb.done.load(Ordering::Acquire) < wanted {
        k42_hal::paging::flush_user_tlb();
        this.count(counter::TLB_FLUSHES);
        this.tlb.done.store(wanted, Ordering::Release);
    }
}

/// Makes every CPU in `cpus` other than this one flush its TLB, and waits until they have.
pub fn shootdown(cpus: impl IntoIterator<Item = usize>) {
    let me = cpu::this().index;
    let mut waits: Vec<(&cpu::Slot, u64)> = Vec::new();
    for c in cpus {
        if c == me || waits.iter().any(|&(w, _)| w.index == c) {
            continue;
        }
        let Some(slot) = cpu::get(c) else {
            continue;
        };
        let generation = slot.tlb.requested.fetch_add(1, Ordering::AcqRel) + 1;
        cpu::this().count(counter::IPIS);
        k42_hal::apic::send_fixed(slot.apic_id, k42_hal::trap::WAKE_VECTOR);
        waits.push((slot, generation));
    }
    for (slot, generation) in waits {
        while slot.tlb.done.load(Ordering::Acquire) < generation {
            service();
            core::hint::spin_loop();
        }
    }
}

/// The CPUs that run dispatchers of `process`.
pub fn cpus_of(process: &crate::process::Process) -> Vec<usize> {
    process
        .dispatchers
        .lock()
        .iter()
        .filter_map(|&c| crate::dispatcher::lookup(c))
        .map(|s| s.cpu)
        .collect()
}
