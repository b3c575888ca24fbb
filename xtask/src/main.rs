//! `cargo xtask`: builds the K42 kernel and the initramfs, boots K42 or Debian's
//! Linux under QEMU in one shared configuration, and runs every test tier.
//!
//! This file only dispatches; each step lives in its own module: `cli` (flags),
//! `prereq` (installing what is missing), `kernel` + `ksyms` (the kernel image),
//! `linux` (Debian's vmlinux), `cc` + `rootfs` (the initramfs and the init wrapper),
//! `native` (the native K42 programs in it),
//! `qemu` (booting and the verdict), `guest` (the C and shell guest tests), `compare`
//! (the same shell scripts under bash and busybox sh, K42 against Linux),
//! `test` (the tiers and the summary) and `bench` (the benchmarks beside Linux). The contract with the guests is in
//! `crates/abi/src/runner.rs`.

mod bench;
mod cc;
mod cli;
mod compare;
mod guest;
mod iso;
mod kernel;
mod ksyms;
mod linux;
mod native;
mod paths;
mod prereq;
mod qemu;
mod rootfs;
mod shared_libs;
mod test;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use cli::{Cli, Command, IsoArgs, Os, RunArgs};

/// Exit status of the runner when it could not set up the run (a build failed, a
/// tool is missing); the guest-related statuses are in `k42_abi::runner`.
const SETUP_FAILURE: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Test(args) => test::run(&args),
        Command::Build => build(),
        Command::Iso(args) => iso(&args),
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        // Statuses are 0..=255 by construction; anything else would be a bug here.
        Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(SETUP_FAILURE)),
        Err(why) => {
            eprintln!("xtask: error: {why}");
            ExitCode::from(SETUP_FAILURE)
        }
    }
}

/// `cargo xtask run`: boots, runs PROGRAM (or a shell), exits with its status.
fn run(args: &RunArgs) -> Result<i32, String> {
    let has_program = !args.program.is_empty();
    let interactive = !has_program && std::io::stdin().is_terminal();
    let tools = prereq::ensure(prereq::Needs {
        boot: true,
        linux: args.os == Os::Linux,
        glibc: false,
        kernel_target: args.os == Os::K42,
        lint_tools: false,
        iso: false,
    })?;
    let kernel = match args.os {
        Os::K42 => kernel::build()?,
        Os::Linux => linux::kernel_image(tools.vmlinuz.as_deref().ok_or("no Linux kernel")?),
    };
    let initrd = paths::work("run")?.join(format!("initramfs-{}.cpio", args.os.name()));
    let spec = rootfs::Spec {
        overlay: args.rootfs.clone(),
        extra: Vec::new(),
        argv: has_program.then(|| args.program.clone()),
        initrds: args.initrd.clone(),
        bash: tools.bash.clone(),
        shared_libs: true,
    };
    rootfs::build(&tools.busybox, &spec, &initrd)?;

    let machine = qemu::Machine {
        os: args.os,
        medium: qemu::Medium::Direct {
            kernel,
            initrd,
            cmdline: qemu::cmdline(args.os, &args.kernel.log, &args.kernel.append),
        },
        smp: args.smp,
        mem: args.mem.clone(),
        accel: qemu::resolve_accel(args.accel),
        gdb: args.gdb,
        qboot: tools.qboot.clone(),
        icount: args.icount.then_some(qemu::Icount::ONE_NS_PER_INSTRUCTION),
    };
    if machine.qboot.is_none() {
        eprintln!(
            "xtask: warning: {} missing; using SeaBIOS",
            prereq::QBOOT_ROM
        );
    }
    // Nobody waits at a terminal or a debugger otherwise: a hang must end.
    let timeout = args
        .timeout
        .or_else(|| (!interactive && !args.gdb).then_some(cli::DEFAULT_PROGRAM_TIMEOUT_SECS));
    let options = qemu::Options {
        console: if interactive {
            qemu::Console::Interactive
        } else {
            qemu::Console::Program {
                echo: Some(qemu::Echo::Stdout),
            }
        },
        echo_log: true,
        timeout: timeout.map(Duration::from_secs),
        show_command: true,
    };
    let outcome = qemu::run(&machine, &options)?;
    eprintln!("xtask: {}", outcome.timings());
    let status = outcome.runner_status();
    match outcome.problem() {
        Some(problem) => eprintln!("xtask: {problem}; exit status {status}"),
        None => eprintln!("xtask: program exit status {status}"),
    }
    Ok(status)
}

/// `cargo xtask build`: the kernel and the default root file system, no boot.
fn build() -> Result<i32, String> {
    let tools = prereq::ensure(prereq::Needs {
        boot: true,
        linux: false,
        glibc: false,
        kernel_target: true,
        lint_tools: false,
        iso: false,
    })?;
    let kernel = kernel::build()?;
    let out = paths::work("run")?.join("rootfs.cpio");
    rootfs::build(&tools.busybox, &rootfs::Spec::default(), &out)?;
    eprintln!("xtask: built {} and {}", kernel.display(), out.display());
    Ok(0)
}

/// `cargo xtask iso`: the kernel and root file system on a GRUB (multiboot2) ISO.
fn iso(args: &IsoArgs) -> Result<i32, String> {
    let tools = prereq::ensure(prereq::Needs {
        boot: true,
        kernel_target: true,
        iso: true,
        ..prereq::Needs::default()
    })?;
    let kernel = kernel::build()?;
    let dir = paths::work("iso")?;
    let initrd = dir.join("initramfs.cpio");
    let spec = rootfs::Spec {
        argv: (!args.program.is_empty()).then(|| args.program.clone()),
        ..rootfs::Spec::default()
    };
    rootfs::build(&tools.busybox, &spec, &initrd)?;
    let out = args.output.clone().unwrap_or_else(|| dir.join("k42.iso"));
    iso::build(
        &kernel,
        &initrd,
        &qemu::cmdline(Os::K42, &args.kernel.log, &args.kernel.append),
        &out,
    )?;
    eprintln!(
        "xtask: wrote {}; boot it with `qemu-system-x86_64 -cdrom {} -display none \
         -serial stdio -serial file:k42.log -device isa-debug-exit,iobase=0xf4,iosize=0x04` \
         (console on stdout, kernel log in k42.log)",
        out.display(),
        out.display()
    );
    Ok(0)
}
