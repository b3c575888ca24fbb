//! QEMU's command line: the kernel command line of each OS, the accelerator that
//! can actually be used, and the arguments of the one machine configuration both
//! OSes share.
//!
//! Built from a `machine.rs` [`Machine`]; `mod.rs` starts QEMU with it and prints
//! it with [`shell_words`] on request.

use std::path::Path;

use k42_abi::runner;

use super::machine::{Machine, Medium};
use crate::cli::{Accel, Os};

/// The PC machine: PCI for later virtio devices, and PVH boot of an ELF `-kernel`.
const MACHINE_TYPE: &str = "pc";
/// Every feature TCG can emulate; Debian's kernel boots with it (checked with 6.1).
const CPU_MODEL: &str = "max";
/// Under KVM, `max` is the host CPU; the nested hypervisor of these machines refuses
/// the IA32_ARCH_CAPABILITIES MSR QEMU then sets ("failed to set MSR 0x10a" and an
/// abort at start-up), so that one feature is left out.
const CPU_MODEL_KVM: &str = "max,-arch-capabilities";
const KVM_DEVICE: &str = "/dev/kvm";

/// The kernel command line of Linux: the console on COM1; `quiet loglevel=1` so no
/// kernel text reaches the program's console except emergencies (a panic still
/// prints: Linux raises the console level on panic only when it is nonzero, so not
/// `loglevel=0`); `panic=-1` reboots at once on a panic, which `-no-reboot` turns
/// into QEMU's end; and our init wrapper as init.
fn linux_cmdline() -> String {
    format!(
        "console=ttyS0 quiet loglevel=1 panic=-1 rdinit={}",
        runner::LINUX_INIT_PATH
    )
}

/// The kernel command line for `os`: K42's log level, or Linux's fixed options,
/// then the `--append` text.
pub fn cmdline(os: Os, log_level: &str, append: &[String]) -> String {
    let mut words = vec![match os {
        Os::K42 => format!("log={log_level}"),
        Os::Linux => linux_cmdline(),
    }];
    words.extend(append.iter().cloned());
    words.join(" ")
}

/// The accelerator to use for `requested`: KVM only when /dev/kvm opens.
pub fn resolve_accel(requested: Accel) -> Accel {
    match requested {
        Accel::Tcg => Accel::Tcg,
        Accel::Kvm => {
            let opens = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(KVM_DEVICE)
                .is_ok();
            if opens {
                eprintln!(
                    "xtask: warning: KVM requested. Under a nested, paging-based hypervisor \
                     (such as kvm_pvm on these machines) a ring-3 `syscall` does not reach ring 0 \
                     correctly and Debian's kernel does not boot; use --accel tcg there."
                );
                Accel::Kvm
            } else {
                eprintln!("xtask: warning: {KVM_DEVICE} does not open; using TCG");
                Accel::Tcg
            }
        }
    }
}

/// QEMU's arguments for `m`, with the log port on the Unix socket `log_socket`.
pub fn args(m: &Machine, log_socket: &Path, interactive: bool) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
    push(&["-M", MACHINE_TYPE]);
    if let (Some(qboot), Medium::Direct { .. }) = (&m.qboot, &m.medium) {
        push(&["-bios", &qboot.to_string_lossy()]);
    }
    let (accel, cpu) = match m.accel {
        Accel::Kvm => ("kvm", CPU_MODEL_KVM),
        Accel::Tcg => ("tcg", CPU_MODEL),
    };
    push(&["-cpu", cpu, "-m", &m.mem, "-smp", &m.smp.to_string()]);
    push(&["-accel", accel, "-display", "none", "-no-reboot"]);
    if let Some(icount) = m.icount {
        push(&["-icount", &format!("shift={},sleep=off", icount.shift)]);
    }
    let debug_exit = format!(
        "isa-debug-exit,iobase={:#x},iosize={:#04x}",
        runner::DEBUG_EXIT_PORT,
        runner::DEBUG_EXIT_IOSIZE
    );
    push(&["-device", &debug_exit]);
    // COM1: stdio without signals, so ^C reaches the guest's shell; interactively it
    // is multiplexed with QEMU's monitor (^A X quits, ^A C switches).
    if interactive {
        push(&["-chardev", "stdio,id=com1,signal=off,mux=on"]);
        push(&["-serial", "chardev:com1", "-mon", "chardev=com1"]);
    } else {
        push(&["-chardev", "stdio,id=com1,signal=off"]);
        push(&["-serial", "chardev:com1"]);
    }
    let log = format!("socket,id=com2,path={}", log_socket.display());
    push(&["-chardev", &log, "-serial", "chardev:com2"]);
    match &m.medium {
        Medium::Direct {
            kernel,
            initrd,
            cmdline,
        } => {
            push(&["-kernel", &kernel.to_string_lossy()]);
            push(&["-initrd", &initrd.to_string_lossy()]);
            push(&["-append", cmdline]);
        }
        Medium::Cdrom { iso, .. } => push(&["-cdrom", &iso.to_string_lossy()]),
    }
    if m.gdb {
        push(&["-s", "-S"]);
    }
    a
}

/// A shell-quoted rendering of a command, for messages.
pub fn shell_words(program: &str, args: &[String]) -> String {
    let quote = |s: &str| {
        if !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_oses_share_one_configuration() {
        let machine = |os, kernel: &str| Machine {
            os,
            medium: Medium::Direct {
                kernel: kernel.into(),
                initrd: "/i.cpio".into(),
                cmdline: "x".into(),
            },
            smp: 2,
            mem: "512M".into(),
            accel: Accel::Tcg,
            gdb: false,
            qboot: Some("/q.rom".into()),
            icount: None,
        };
        let k42 = args(&machine(Os::K42, "/k"), Path::new("/s"), false);
        let linux = args(&machine(Os::Linux, "/v"), Path::new("/s"), false);
        let strip = |a: &[String]| {
            a.iter()
                .filter(|s| !["/k", "/v"].contains(&s.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&k42), strip(&linux));
        assert!(
            k42.windows(2)
                .any(|w| w[0] == "-device" && w[1] == "isa-debug-exit,iobase=0xf4,iosize=0x04")
        );
        assert!(!k42.contains(&"-icount".to_string()));
        let counted = Machine {
            icount: Some(super::super::machine::Icount::ONE_NS_PER_INSTRUCTION),
            ..machine(Os::Linux, "/v")
        };
        let counted = args(&counted, Path::new("/s"), false);
        assert!(
            counted
                .windows(2)
                .any(|w| w[0] == "-icount" && w[1] == "shift=0,sleep=off")
        );
    }
}
