//! Makes sure the host has what a run or a test needs — QEMU and its qboot
//! firmware, Debian's busybox-static and bash-static, musl-gcc, gcc with static
//! glibc, the dynamic linkers of glibc and musl (`shared_libs.rs`), Debian's Linux kernel, xz, tmux (the guest tier's interactive sessions), and Rust's
//! `x86_64-unknown-none` target — and installs what is missing (as root, through apt-get) or
//! stops with the exact command to run.
//!
//! This is what lets a newcomer on a fresh Debian machine type `cargo xtask test`
//! and nothing else. The other modules then take paths from [`Tools`] instead of
//! looking for programs themselves.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{paths, shared_libs};

/// qboot: a minimal firmware that starts a PVH kernel in about 60 ms (SeaBIOS takes
/// 120-170 ms); shipped by qemu-system-data, a dependency of qemu-system-x86.
pub const QBOOT_ROM: &str = "/usr/share/qemu/qboot.rom";
/// Where Debian's busybox-static puts busybox (the first that exists wins).
const BUSYBOX_PATHS: [&str; 2] = ["/usr/bin/busybox", "/bin/busybox"];
/// Where Debian's bash-static puts its bash (`/bin/bash-static`; the same file through
/// `/usr/bin` on a merged-/usr system). Both OSes' test boots carry it as `/bin/bash`.
const BASH_STATIC_PATHS: [&str; 2] = ["/usr/bin/bash-static", "/bin/bash-static"];
/// Debian installs its kernels as `/boot/vmlinuz-<version>`.
const BOOT_DIR: &str = "/boot";
const VMLINUZ_PREFIX: &str = "vmlinuz-";
/// The rustup components the lint tier runs.
const LINT_COMPONENTS: [&str; 2] = ["rustfmt", "clippy"];
/// glibc's static archive, which `gcc -static` needs (package libc6-dev).
const GLIBC_STATIC: &str = "/usr/lib/x86_64-linux-gnu/libc.a";

/// Which tools a command needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// QEMU, its firmware, busybox, bash-static and musl-gcc (any boot: the initramfs is
    /// shared), and
    /// Rust's `x86_64-unknown-none` target, for the native K42 programs in that initramfs.
    pub boot: bool,
    /// Debian's Linux kernel and xz (a boot of `--os linux`).
    pub linux: bool,
    /// gcc with static glibc (the guest tier's `*.glibc.c` programs).
    pub glibc: bool,
    /// Rust's `x86_64-unknown-none` target (building the kernel).
    pub kernel_target: bool,
    /// rustfmt and clippy (the lint tier).
    pub lint_tools: bool,
    /// GRUB and xorriso (a multiboot2 ISO).
    pub iso: bool,
}

/// Paths of the tools found (or installed).
#[derive(Debug, Clone)]
pub struct Tools {
    /// A statically linked busybox.
    pub busybox: PathBuf,
    /// Debian's statically linked bash, when a boot is needed.
    pub bash: Option<PathBuf>,
    /// The qboot firmware, when present (else QEMU's default SeaBIOS).
    pub qboot: Option<PathBuf>,
    /// Debian's newest `/boot/vmlinuz-*`, when Linux is needed.
    pub vmlinuz: Option<PathBuf>,
    /// tmux, when found (installed by [`ensure_tmux`]).
    pub tmux: Option<PathBuf>,
}

/// One requirement: how to tell it is met, and the Debian package that meets it.
struct Requirement {
    what: &'static str,
    package: &'static str,
    met: fn() -> bool,
}

const BOOT_REQUIREMENTS: [Requirement; 7] = [
    Requirement {
        what: "qemu-system-x86_64",
        package: "qemu-system-x86",
        met: || paths::which("qemu-system-x86_64").is_some(),
    },
    Requirement {
        what: QBOOT_ROM,
        package: "qemu-system-data",
        met: || Path::new(QBOOT_ROM).is_file(),
    },
    Requirement {
        what: "a static busybox (busybox-static)",
        package: "busybox-static",
        met: || static_busybox().is_some(),
    },
    Requirement {
        what: "a static bash (bash-static)",
        package: "bash-static",
        met: || static_bash().is_some(),
    },
    Requirement {
        what: "musl-gcc",
        package: "musl-tools",
        met: || paths::which("musl-gcc").is_some(),
    },
    // The dynamic linkers and libraries every test and run boot carries (`shared_libs.rs`).
    Requirement {
        what: shared_libs::REQUIRED[0].0,
        package: shared_libs::REQUIRED[0].1,
        met: || Path::new(shared_libs::REQUIRED[0].0).exists(),
    },
    Requirement {
        what: shared_libs::REQUIRED[1].0,
        package: shared_libs::REQUIRED[1].1,
        met: || Path::new(shared_libs::REQUIRED[1].0).exists(),
    },
];

const LINUX_REQUIREMENTS: [Requirement; 2] = [
    Requirement {
        what: "Debian's Linux kernel (/boot/vmlinuz-*)",
        package: "linux-image-amd64",
        met: || newest_vmlinuz().is_some(),
    },
    Requirement {
        what: "xz",
        package: "xz-utils",
        met: || paths::which("xz").is_some(),
    },
];

const GLIBC_REQUIREMENTS: [Requirement; 2] = [
    Requirement {
        what: "gcc",
        package: "gcc",
        met: || paths::which("gcc").is_some(),
    },
    Requirement {
        what: GLIBC_STATIC,
        package: "libc6-dev",
        met: || Path::new(GLIBC_STATIC).is_file(),
    },
];

/// tmux, which types on the interactive shell's console in the guest tier
/// (`test/tmux_tier.rs`).
const TMUX_REQUIREMENT: Requirement = Requirement {
    what: "tmux",
    package: "tmux",
    met: || paths::which("tmux").is_some(),
};

/// GRUB's BIOS modules, which grub-mkrescue puts on the ISO (package grub-pc-bin).
const GRUB_BIOS_MODULES: &str = "/usr/lib/grub/i386-pc";

const ISO_REQUIREMENTS: [Requirement; 4] = [
    Requirement {
        what: "grub-mkrescue",
        package: "grub-common",
        met: || paths::which("grub-mkrescue").is_some(),
    },
    Requirement {
        what: GRUB_BIOS_MODULES,
        package: "grub-pc-bin",
        met: || Path::new(GRUB_BIOS_MODULES).is_dir(),
    },
    Requirement {
        what: "xorriso",
        package: "xorriso",
        met: || paths::which("xorriso").is_some(),
    },
    Requirement {
        what: "mformat (mtools)",
        package: "mtools",
        met: || paths::which("mformat").is_some(),
    },
];

/// Checks (and installs) what `needs` asks for.
pub fn ensure(needs: Needs) -> Result<Tools, String> {
    // Every boot's initramfs carries the native K42 programs, built for the kernel target.
    if needs.kernel_target || needs.boot {
        rustup(&["target", "add", paths::KERNEL_TARGET])?;
    }
    if needs.lint_tools {
        rustup(
            &["component", "add"]
                .iter()
                .copied()
                .chain(LINT_COMPONENTS)
                .collect::<Vec<_>>(),
        )?;
    }
    let mut wanted: Vec<&Requirement> = Vec::new();
    if needs.boot {
        wanted.extend(&BOOT_REQUIREMENTS);
    }
    if needs.linux {
        wanted.extend(&LINUX_REQUIREMENTS);
    }
    if needs.glibc {
        wanted.extend(&GLIBC_REQUIREMENTS);
    }
    if needs.iso {
        wanted.extend(&ISO_REQUIREMENTS);
    }
    let missing: Vec<&Requirement> = wanted.into_iter().filter(|r| !(r.met)()).collect();
    if !missing.is_empty() {
        install(&missing)?;
    }

    let busybox = if needs.boot {
        static_busybox().ok_or("no static busybox after installing busybox-static")?
    } else {
        static_busybox().unwrap_or_default()
    };
    let bash = if needs.boot {
        Some(static_bash().ok_or("no static bash after installing bash-static")?)
    } else {
        static_bash()
    };
    let qboot = Some(PathBuf::from(QBOOT_ROM)).filter(|p| p.is_file());
    let vmlinuz = if needs.linux {
        Some(newest_vmlinuz().ok_or("no /boot/vmlinuz-* after installing linux-image-amd64")?)
    } else {
        None
    };
    Ok(Tools {
        busybox,
        bash,
        qboot,
        vmlinuz,
        tmux: paths::which("tmux"),
    })
}

/// Checks (and installs) tmux, for the guest tier; sets `tools.tmux`.
pub fn ensure_tmux(tools: &mut Tools) -> Result<(), String> {
    if !(TMUX_REQUIREMENT.met)() {
        install(&[&TMUX_REQUIREMENT])?;
    }
    tools.tmux = Some(paths::which("tmux").ok_or("no tmux after installing tmux")?);
    Ok(())
}

/// Runs `rustup ARGS` in the workspace (so rust-toolchain.toml picks the toolchain).
/// These machines set RUSTUP_AUTO_INSTALL=0, so the toolchain file's `targets` and
/// `components` lines are not acted on by themselves; adding what is already there
/// is cheap.
fn rustup(args: &[&str]) -> Result<(), String> {
    let Some(rustup) = paths::which("rustup") else {
        eprintln!(
            "xtask: rustup not found; assuming the toolchain already has what `rustup {}` adds",
            args.join(" ")
        );
        return Ok(());
    };
    let out = Command::new(rustup)
        .args(args)
        .current_dir(paths::root())
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`rustup {}` failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Installs the packages of `missing` with apt-get when we are root, else stops
/// with the command to run.
fn install(missing: &[&Requirement]) -> Result<(), String> {
    let mut packages: Vec<&str> = missing.iter().map(|r| r.package).collect();
    packages.dedup();
    let list = packages.join(" ");
    let what: Vec<&str> = missing.iter().map(|r| r.what).collect();
    let command = format!("apt-get install -y --no-install-recommends {list}");
    if paths::which("apt-get").is_none() {
        return Err(format!(
            "missing: {}; this is not a Debian-like system, install the equivalent of: {list}",
            what.join(", ")
        ));
    }
    if !is_root() {
        return Err(format!(
            "missing: {}. Install with:\n    sudo apt-get update && sudo {command}",
            what.join(", ")
        ));
    }
    eprintln!(
        "xtask: missing {}; installing {list} with apt-get",
        what.join(", ")
    );
    apt_get(&["update"])?;
    let mut args = vec!["install", "-y", "--no-install-recommends"];
    args.extend(&packages);
    apt_get(&args)?;
    match missing.iter().find(|r| !(r.met)()) {
        Some(still) => Err(format!("{} is still missing after `{command}`", still.what)),
        None => Ok(()),
    }
}

fn apt_get(args: &[&str]) -> Result<(), String> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`apt-get {}` failed ({status})", args.join(" ")))
    }
}

/// Whether this process runs as root: /proc/self belongs to our effective uid.
fn is_root() -> bool {
    const ROOT_UID: u32 = 0;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == ROOT_UID)
}

/// The first busybox in [`BUSYBOX_PATHS`] that is statically linked.
fn static_busybox() -> Option<PathBuf> {
    BUSYBOX_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| is_static_elf(p))
}

/// The first bash in [`BASH_STATIC_PATHS`] that is statically linked.
fn static_bash() -> Option<PathBuf> {
    BASH_STATIC_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| is_static_elf(p))
}

/// Whether `path` is an ELF executable without a program interpreter (statically
/// linked): the initramfs has no dynamic loader or shared libraries.
pub fn is_static_elf(path: &Path) -> bool {
    use object::read::elf::{FileHeader, ProgramHeader};
    let Ok(data) = std::fs::read(path) else {
        return false;
    };
    let Ok(header) = object::elf::FileHeader64::<object::Endianness>::parse(&*data) else {
        return false;
    };
    let Ok(endian) = header.endian() else {
        return false;
    };
    header.program_headers(endian, &*data).is_ok_and(|phdrs| {
        phdrs
            .iter()
            .all(|ph| ph.p_type(endian) != object::elf::PT_INTERP)
    })
}

/// Debian's newest kernel image, by version order of the file names.
pub fn newest_vmlinuz() -> Option<PathBuf> {
    let mut images: Vec<(String, PathBuf)> = std::fs::read_dir(BOOT_DIR)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name.strip_prefix(VMLINUZ_PREFIX)?.to_string();
            Some((version, entry.path()))
        })
        .filter(|(_, path)| std::fs::File::open(path).is_ok())
        .collect();
    images.sort_by(|a, b| version_cmp(&a.0, &b.0));
    images.pop().map(|(_, path)| path)
}

/// Compares version strings the way `sort -V` does for kernel versions: runs of
/// digits numerically, everything else byte by byte.
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let key = |(digits, text): (bool, &str)| {
        (
            digits,
            if digits {
                text.parse::<u64>().unwrap_or(u64::MAX)
            } else {
                0
            },
            text.to_string(),
        )
    };
    chunks(a)
        .into_iter()
        .map(key)
        .cmp(chunks(b).into_iter().map(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn kernel_versions_sort_numerically() {
        assert_eq!(
            version_cmp("6.1.0-9-amd64", "6.1.0-56-amd64"),
            Ordering::Less
        );
        assert_eq!(
            version_cmp("6.10.0-1-amd64", "6.9.0-1-amd64"),
            Ordering::Greater
        );
        assert_eq!(
            version_cmp("6.1.0-56-amd64", "6.1.0-56-amd64"),
            Ordering::Equal
        );
    }

    #[test]
    fn tells_static_from_dynamic() {
        // The test binary itself is dynamically linked (Rust's default on the gnu target).
        let me = std::env::current_exe().expect("the test binary has a path");
        assert!(!is_static_elf(&me));
        assert!(!is_static_elf(Path::new("/nonexistent/busybox")));
        if let Some(busybox) = static_busybox() {
            assert!(is_static_elf(&busybox));
        }
        if let Some(bash) = static_bash() {
            assert!(is_static_elf(&bash));
        }
    }
}
