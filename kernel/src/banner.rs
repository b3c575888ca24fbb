//! The boot banner on the log port: what the machine gave us (memory map, CPUs,
//! command line) and how long boot took, so a person can see at a glance that
//! the kernel understood its machine.

use k42_hal::boot::{MemKind, MemRegion};

use crate::mm::Stats;

const MIB: u64 = 1024 * 1024;

/// Logs the banner.
pub fn print(
    map: &[MemRegion],
    cmdline: &str,
    cpus: usize,
    boot_us: u64,
    initrd: usize,
    mm: Stats,
    wall: Option<u64>,
) {
    log::info!(
        "K42 in Rust {} (x86_64), {cpus} CPU(s)",
        env!("CARGO_PKG_VERSION")
    );
    log::info!("command line: \"{cmdline}\"");
    if let Some(unix) = wall {
        log::info!("wall clock: {unix} s since the epoch (CMOS clock, UTC)");
    }
    for r in map {
        let kind = match r.kind {
            MemKind::Usable => "usable",
            MemKind::Reserved => "reserved",
            MemKind::AcpiReclaimable => "ACPI data",
            MemKind::AcpiNvs => "ACPI NVS",
            MemKind::Unusable => "unusable",
            MemKind::Other(_) => "other",
        };
        log::info!(
            "memory: [{:#014x}-{:#014x}) {:>8} KiB {kind}",
            r.start,
            r.end,
            (r.end - r.start) / 1024
        );
    }
    let page = k42_hal::layout::PAGE_SIZE;
    log::info!(
        "frames: {} MiB free of {} MiB managed; initramfs {} KiB",
        mm.free as u64 * page / MIB,
        mm.total as u64 * page / MIB,
        initrd / 1024
    );
    let (smep, smap) = k42_hal::user::smep_smap();
    let on = |b: bool| if b { "on" } else { "off" };
    log::info!(
        "user mode: FSGSBASE {} (wrfsbase for Linux TLS), SMEP {}, SMAP {}",
        on(k42_hal::user::fsgsbase()),
        on(smep),
        on(smap)
    );
    let (heap, _) = k42_hal::heap::usage();
    log::info!(
        "heap: {} MiB; boot to kernel main took {} us",
        heap as u64 / MIB,
        boot_us
    );
}
