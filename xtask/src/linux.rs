//! Debian's Linux kernel as the runner boots it: the uncompressed `vmlinux` ELF
//! taken out of `/boot/vmlinuz-*`, so QEMU starts it through PVH like our kernel,
//! skipping the bzImage's real-mode setup and self-decompression (about 3x faster
//! to init under TCG, see MACHINE-NOTES).
//!
//! The bzImage carries vmlinux as an xz stream with the x86 BCJ filter, which the
//! pure-Rust lzma crates do not implement, so the `xz` tool unpacks it. The result
//! is cached under `target/k42/linux/`. If anything fails, the runner boots the
//! bzImage itself (slower, same behaviour). `qemu/` takes the path from here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::paths;

/// Start of an xz stream: the magic bytes and the first byte of the flags field.
const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];
/// Start of an ELF file.
const ELF_MAGIC: [u8; 4] = [0x7f, b'E', b'L', b'F'];
/// Where the extracted kernels are cached, under `target/k42/`.
const CACHE_SUBDIR: &str = "linux";

/// The image to pass as `-kernel` for `vmlinuz`: its extracted vmlinux when that
/// works, else `vmlinuz` itself (with a warning on stderr).
pub fn kernel_image(vmlinuz: &Path) -> PathBuf {
    match extract_cached(vmlinuz) {
        Ok(vmlinux) => vmlinux,
        Err(why) => {
            eprintln!(
                "xtask: warning: cannot extract vmlinux from {} ({why}); booting the bzImage \
                 (slower)",
                vmlinuz.display()
            );
            vmlinuz.to_path_buf()
        }
    }
}

/// The cached vmlinux for `vmlinuz`, extracted if missing or older than it.
fn extract_cached(vmlinuz: &Path) -> Result<PathBuf, String> {
    let name = vmlinuz
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("odd file name")?
        .replacen("vmlinuz", "vmlinux", 1);
    let cached = paths::work(CACHE_SUBDIR)?.join(name);
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    if let (Some(built), Some(source)) = (modified(&cached), modified(vmlinuz))
        && built >= source
        && starts_with(&cached, &ELF_MAGIC)
    {
        return Ok(cached);
    }

    let data = std::fs::read(vmlinuz).map_err(|e| format!("cannot read it: {e}"))?;
    let mut last_error = String::from("no xz stream in it");
    // The magic can occur by chance before the real payload: try each occurrence.
    for start in find_all(&data, &XZ_MAGIC) {
        match unxz(&data[start..]) {
            Ok(elf) if elf.starts_with(&ELF_MAGIC) => {
                let partial = cached.with_extension("partial");
                std::fs::write(&partial, &elf)
                    .and_then(|()| std::fs::rename(&partial, &cached))
                    .map_err(|e| format!("cannot write {}: {e}", cached.display()))?;
                eprintln!(
                    "xtask: extracted {} ({} MB) from {}",
                    cached.display(),
                    elf.len() >> 20,
                    vmlinuz.display()
                );
                return Ok(cached);
            }
            Ok(_) => last_error = format!("the xz stream at offset {start} is not an ELF file"),
            Err(why) => last_error = why,
        }
    }
    Err(last_error)
}

/// Decompresses the one xz stream at the start of `stream` (trailing bytes are the
/// rest of the bzImage, which `--single-stream` ignores).
fn unxz(stream: &[u8]) -> Result<Vec<u8>, String> {
    let mut child = Command::new("xz")
        .args(["--decompress", "--stdout", "--single-stream"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run xz: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("xz has no stdin")?;
    let out = std::thread::scope(|scope| {
        // Feed stdin from another thread: xz writes while it reads, and both pipes
        // are bounded.
        scope.spawn(move || {
            // xz stops reading after the stream; the broken pipe that follows is expected.
            let _ = stdin.write_all(stream);
        });
        child.wait_with_output()
    })
    .map_err(|e| format!("xz failed: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "xz failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn find_all<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(move |(_, w)| *w == needle)
        .map(|(i, _)| i)
}

fn starts_with(path: &Path, magic: &[u8]) -> bool {
    use std::io::Read;
    let mut head = vec![0; magic.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == magic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_occurrence() {
        let data = [
            1, 0xfd, b'7', b'z', b'X', b'Z', 0, 9, 0xfd, b'7', b'z', b'X', b'Z', 0,
        ];
        assert_eq!(find_all(&data, &XZ_MAGIC).collect::<Vec<_>>(), vec![1, 8]);
    }
}
