//! Tests of what boot set up: the tick, the unpacked initramfs and the runner's
//! argv in it, the command line, the CPU count, the symbol table and the
//! backtrace walk the exception report relies on.

use alloc::string::String;
use alloc::vec::Vec;

use k42_cpio::NodeKind;

use super::{Case, Context, Outcome, skip};
use crate::{ensure, madt, report, tick};

pub const CASES: &[Case] = &[
    Case {
        name: "timer.ticks_advance",
        run: timer_ticks,
    },
    Case {
        name: "initramfs.argv",
        run: initramfs_argv,
    },
    Case {
        name: "initramfs.tree",
        run: initramfs_tree,
    },
    Case {
        name: "cmdline.log_level",
        run: cmdline_log_level,
    },
    Case {
        name: "acpi.cpu_count",
        run: acpi_cpus,
    },
    Case {
        name: "ksyms.names_this_function",
        run: ksyms_lookup,
    },
    Case {
        name: "backtrace.walks_callers",
        run: backtrace_walk,
    },
];

/// Ticks to wait for; a bound on the wait in TSC milliseconds keeps a dead timer
/// from hanging the run (the runner's timeout would be the only way out).
const TICKS_TO_SEE: u64 = 3;
const TICK_WAIT_LIMIT_MS: u64 = 10_000;

fn timer_ticks(_: &Context<'_>) -> Outcome {
    let start = tick::ticks();
    let t0 = k42_hal::time::uptime_us();
    while tick::ticks() < start + TICKS_TO_SEE {
        k42_hal::cpu::wait_for_interrupt();
        ensure!(
            k42_hal::time::uptime_us() - t0 < TICK_WAIT_LIMIT_MS * 1000,
            "no {TICKS_TO_SEE} ticks within {TICK_WAIT_LIMIT_MS} ms (saw {})",
            tick::ticks() - start
        );
    }
    ensure!(
        k42_hal::time::uptime_us() > t0,
        "uptime did not advance across ticks"
    );
    Ok(())
}

/// The argv file arrives in a gzip member appended to the plain base archive, so
/// this also proves compressed and concatenated archives unpack at boot.
fn initramfs_argv(ctx: &Context<'_>) -> Outcome {
    let tree = ctx.tree.ok_or("no initramfs")?;
    let argv = crate::initramfs::argv(tree).ok_or("no argv file in the initramfs")?;
    ensure!(
        argv.first() == Some(&crate::run::KTEST),
        "argv[0] is {:?}",
        argv.first()
    );
    Ok(())
}

fn initramfs_tree(ctx: &Context<'_>) -> Outcome {
    const ELF_MAGIC: &[u8] = b"\x7fELF";
    let tree = ctx.tree.ok_or("no initramfs")?;
    let Some(busybox) = tree.lookup("/bin/busybox") else {
        return skip("no /bin/busybox in this initramfs");
    };
    let data = busybox.file_data().ok_or("/bin/busybox is not a file")?;
    ensure!(
        data.starts_with(ELF_MAGIC),
        "/bin/busybox is not an ELF file"
    );
    let console = tree.lookup("/dev/console").ok_or("no /dev/console")?;
    ensure!(
        matches!(console.kind, NodeKind::CharDev { major: 5, minor: 1 }),
        "/dev/console is not char device 5:1"
    );
    ensure!(
        tree.lookup("/tmp").is_some_and(|n| n.is_dir()),
        "no /tmp directory"
    );
    Ok(())
}

fn cmdline_log_level(ctx: &Context<'_>) -> Outcome {
    let level = ctx.cmdline.log_level().map_err(|e| alloc::format!("{e}"))?;
    let want = if log::max_level() >= log::LevelFilter::Debug {
        "debug or trace"
    } else {
        "info or quieter"
    };
    let debug = level >= k42_cmdline::LogLevel::Debug;
    ensure!(
        debug == (log::max_level() >= log::LevelFilter::Debug),
        "command line says {level:?}, logger is {want}"
    );
    Ok(())
}

fn acpi_cpus(ctx: &Context<'_>) -> Outcome {
    if ctx.rsdp.is_none() {
        return skip("the loader gave no ACPI RSDP");
    }
    let ids = madt::apic_ids(ctx.rsdp);
    ensure!(!ids.is_empty(), "MADT lists no CPU");
    ensure!(
        ids == ctx.apic_ids,
        "MADT lists {ids:?} now, {:?} at boot",
        ctx.apic_ids
    );
    ensure!(
        ids.contains(&k42_hal::apic::cpu_id()),
        "the boot CPU's APIC id {} is not in {ids:?}",
        k42_hal::apic::cpu_id()
    );
    // A hand-made MADT: local APIC 0 enabled, local APIC 1 disabled, x2APIC 2 enabled.
    let mut table = alloc::vec![0u8; 44];
    table.extend_from_slice(&[0, 8, 0, 0, 1, 0, 0, 0]);
    table.extend_from_slice(&[0, 8, 1, 1, 0, 0, 0, 0]);
    table.extend_from_slice(&[9, 16, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    let sample = madt::apic_ids_in(&table);
    ensure!(sample == [0, 2], "read {sample:?} from the sample MADT");
    table.extend_from_slice(&[0, 200]);
    ensure!(
        madt::apic_ids_in(&table) == [0, 2],
        "a truncated entry changed the result"
    );
    Ok(())
}

#[inline(never)]
fn ksyms_lookup(_: &Context<'_>) -> Outcome {
    let here = ksyms_lookup as *const () as usize as u64;
    let (name, off) =
        report::symbolize(here + 1).ok_or("no symbol for this function (is .ksyms patched?)")?;
    ensure!(name.ends_with("ksyms_lookup"), "symbol is {name}");
    ensure!(off == 1, "offset {off}, expected 1");
    Ok(())
}

#[inline(never)]
fn backtrace_walk(_: &Context<'_>) -> Outcome {
    let text = nested_backtrace(3);
    let names: Vec<&str> = text.lines().collect();
    ensure!(
        names
            .iter()
            .filter(|l| l.contains("nested_backtrace"))
            .count()
            >= 3,
        "backtrace lacks the nested frames:\n{text}"
    );
    ensure!(
        names.iter().any(|l| l.contains("backtrace_walk")),
        "backtrace lacks the test function:\n{text}"
    );
    Ok(())
}

#[inline(never)]
fn nested_backtrace(depth: u32) -> String {
    if depth == 0 {
        let mut out = String::new();
        let (rsp, rbp) = k42_hal::cpu::frame_registers();
        report::backtrace(&mut out, 0, rsp, rbp);
        return out;
    }
    let s = nested_backtrace(depth - 1);
    core::hint::black_box(s)
}
