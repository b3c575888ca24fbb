//! The boots of the kernel and guest tiers: an initramfs built for the case, the
//! machine in the one test configuration (TCG, the default size, a time limit), and
//! both output streams kept under `target/k42/logs/` for a post-mortem. The console
//! gets no input unless a case scripts it ([`boot_typed`]).
//!
//! `kernel_tier.rs` and `guest_tier.rs` boot through here; `../qemu/` runs the
//! machine and `../rootfs.rs` builds the archive.

use std::path::PathBuf;
use std::time::Duration;

use super::Context;
use crate::cli::{self, Os};
use crate::{paths, qemu, rootfs};

/// Builds the initramfs for a boot with `argv` and the `extra` archives.
pub(super) fn initramfs(
    ctx: &Context<'_>,
    argv: Vec<String>,
    extra: Vec<Vec<u8>>,
    label: &str,
) -> Result<PathBuf, String> {
    initramfs_with(ctx, Some(argv), extra, label)
}

/// [`initramfs`] with `argv` optional: without it, the boot names no program and runs the
/// interactive shell (`k42_abi::runner::INTERACTIVE_SHELL`) on both OSes.
pub(super) fn initramfs_with(
    ctx: &Context<'_>,
    argv: Option<Vec<String>>,
    extra: Vec<Vec<u8>>,
    label: &str,
) -> Result<PathBuf, String> {
    let initrd = paths::work("test")?.join(format!("{label}.cpio"));
    let spec = rootfs::Spec {
        overlay: None,
        extra,
        argv,
        initrds: Vec::new(),
        bash: ctx.tools.bash.clone(),
        shared_libs: true,
    };
    rootfs::build(&ctx.tools.busybox, &spec, &initrd)?;
    Ok(initrd)
}

/// Builds the initramfs for a boot and boots it directly (`-kernel`, PVH) with
/// the default number of CPUs.
pub(super) fn boot(
    ctx: &Context<'_>,
    os: Os,
    kernel: &std::path::Path,
    argv: Vec<String>,
    extra: Vec<Vec<u8>>,
    label: &str,
) -> Result<qemu::Outcome, String> {
    boot_smp(ctx, os, kernel, argv, extra, label, cli::DEFAULT_SMP)
}

/// [`boot`] with `smp` CPUs.
pub(super) fn boot_smp(
    ctx: &Context<'_>,
    os: Os,
    kernel: &std::path::Path,
    argv: Vec<String>,
    extra: Vec<Vec<u8>>,
    label: &str,
    smp: u32,
) -> Result<qemu::Outcome, String> {
    let medium = qemu::Medium::Direct {
        kernel: kernel.to_path_buf(),
        initrd: initramfs(ctx, argv, extra, label)?,
        cmdline: qemu::cmdline(os, cli::DEFAULT_LOG, &[]),
    };
    boot_medium(ctx, os, medium, label, smp)
}

/// Boots `argv` (or, with `None`, no program: the interactive shell) with `input`
/// typed on the console once the guest's init starts, with the default number of CPUs.
pub(super) fn boot_typed(
    ctx: &Context<'_>,
    os: Os,
    kernel: &std::path::Path,
    argv: Option<Vec<String>>,
    input: &'static [u8],
    label: &str,
) -> Result<qemu::Outcome, String> {
    let medium = qemu::Medium::Direct {
        kernel: kernel.to_path_buf(),
        initrd: initramfs_with(ctx, argv, Vec::new(), label)?,
        cmdline: qemu::cmdline(os, cli::DEFAULT_LOG, &[]),
    };
    boot_medium_typed(ctx, os, medium, label, cli::DEFAULT_SMP, input)
}

/// Boots `medium` in the test configuration with `smp` CPUs and keeps its
/// console and log.
pub(super) fn boot_medium(
    ctx: &Context<'_>,
    os: Os,
    medium: qemu::Medium,
    label: &str,
    smp: u32,
) -> Result<qemu::Outcome, String> {
    boot_medium_typed(ctx, os, medium, label, smp, b"")
}

/// [`boot_medium`] with `input` typed on the console (none if empty).
fn boot_medium_typed(
    ctx: &Context<'_>,
    os: Os,
    medium: qemu::Medium,
    label: &str,
    smp: u32,
    input: &'static [u8],
) -> Result<qemu::Outcome, String> {
    let machine = qemu::Machine::standard(os, medium, smp, ctx.tools.qboot.clone());
    let options = qemu::Options {
        console: qemu::Console::Scripted {
            echo: ctx.args.verbose.then_some(qemu::Echo::Stderr),
            input,
        },
        echo_log: ctx.args.verbose,
        timeout: Some(Duration::from_secs(ctx.args.timeout)),
        show_command: ctx.args.verbose,
    };
    qemu::run_kept(&machine, &options, label)
}
