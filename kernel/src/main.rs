//! The K42 kernel: ring 0, small, and free of `unsafe`.
//!
//! The hardware crate (`k42_hal`) brings the machine up and calls `kmain` with
//! paging, traps, the heap and the tick ready. From here the kernel logs its boot
//! banner, starts the other CPUs, unpacks the initramfs and starts the program the
//! runner asked for (`run`): a built-in entry, or a native program through the
//! bootstrap task, after which the kernel only answers entries from user mode
//! (`entry`). Linux programs wait for the personality (issue #4).
#![no_std]
#![no_main]

extern crate alloc;

mod banner;
mod clustered;
mod console;
mod cow;
mod cpu;
mod dispatcher;
mod entry;
mod fork;
mod image;
mod initramfs;
mod jobstop;
mod kcall;
mod klog;
mod kobj;
mod ktest;
mod loader;
mod madt;
mod mm;
mod process;
mod report;
mod run;
mod shared;
mod smp;
mod space;
mod switch;
mod tick;
mod tlb;
mod wall;

use k42_hal::BootInfo;

k42_hal::entry!(kmain);

fn kmain(info: BootInfo) -> ! {
    let cmdline = k42_cmdline::Cmdline::new(info.cmdline);
    klog::init(&cmdline);
    k42_hal::trap::set_exception_handler(report::exception);
    tick::start(&info);
    let wall = wall::init();
    let mm = mm::init(info.frames);
    let apic_ids = madt::apic_ids(info.rsdp);
    banner::print(
        info.memory_map,
        info.cmdline,
        apic_ids.len(),
        info.boot_us,
        info.initrd.len(),
        mm,
        wall,
    );
    cpu::init(&apic_ids);
    cpu::set_spread_forks(!cmdline.has(cpu::FORKS_BESIDE_PARENT));
    entry::init();
    k42_hal::trap::set_wake_handler(|_| tlb::service());
    let online = smp::start_others(&apic_ids);
    log::info!("{online} of {} CPUs online", apic_ids.len());
    let tree = initramfs::init(info.initrd);
    run::start(&ktest::Context {
        cmdline: &cmdline,
        tree,
        rsdp: info.rsdp,
        apic_ids: &apic_ids,
        kernel_phys: info.kernel_phys,
    })
}

#[panic_handler]
fn panic(panic: &core::panic::PanicInfo<'_>) -> ! {
    report::panic(panic)
}
