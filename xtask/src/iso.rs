//! A GRUB rescue ISO of K42 (`cargo xtask iso`): the same kernel ELF and
//! initramfs the runner boots through PVH, booted instead by GRUB through the
//! image's multiboot2 header — the way K42 starts on real hardware (write the ISO
//! to a USB stick) and a second, independent check of the boot path in the
//! kernel tier (`kernel.grub_iso_ktest`).

use std::path::Path;
use std::process::Command;

/// Where the kernel and initramfs go inside the ISO.
const ISO_KERNEL: &str = "boot/k42-kernel";
const ISO_INITRD: &str = "boot/initramfs.cpio";
const ISO_GRUB_CFG: &str = "boot/grub/grub.cfg";
const GRUB_MKRESCUE: &str = "grub-mkrescue";

/// The GRUB configuration: no menu delay, the kernel by multiboot2 with the
/// command line, the initramfs as its first module. GRUB's own output stays on the
/// screen, so serial COM1 carries only the program's console, as with PVH.
fn grub_cfg(cmdline: &str) -> String {
    let words: Vec<String> = cmdline
        .split_whitespace()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect();
    format!(
        "set timeout=0\nset default=0\nmenuentry \"K42\" {{\n    multiboot2 /{ISO_KERNEL} {}\n    module2 /{ISO_INITRD}\n    boot\n}}\n",
        words.join(" ")
    )
}

/// Writes `contents` at `rel` under `stage`, creating directories.
fn stage_file(stage: &Path, rel: &str, contents: &[u8]) -> Result<(), String> {
    let to = stage.join(rel);
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&to, contents).map_err(|e| format!("cannot write {}: {e}", to.display()))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Builds a bootable ISO at `out` holding `kernel`, `initrd` and a GRUB
/// configuration passing `cmdline`.
pub fn build(kernel: &Path, initrd: &Path, cmdline: &str, out: &Path) -> Result<(), String> {
    let stage = out.with_extension("root");
    let _ = std::fs::remove_dir_all(&stage);
    stage_file(&stage, ISO_KERNEL, &read(kernel)?)?;
    stage_file(&stage, ISO_INITRD, &read(initrd)?)?;
    stage_file(&stage, ISO_GRUB_CFG, grub_cfg(cmdline).as_bytes())?;
    let output = Command::new(GRUB_MKRESCUE)
        .arg("-o")
        .arg(out)
        .arg(&stage)
        .output()
        .map_err(|e| format!("cannot run {GRUB_MKRESCUE}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{GRUB_MKRESCUE} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grub_cfg_quotes_each_word() {
        let cfg = grub_cfg("log=debug x='y'");
        assert!(cfg.contains("multiboot2 /boot/k42-kernel 'log=debug' 'x='\\''y'\\'''\n"));
        assert!(cfg.contains("module2 /boot/initramfs.cpio\n"));
        assert!(cfg.contains("set timeout=0\n"));
    }
}
