//! The initramfs both OSes boot: one newc cpio image made of several archives
//! concatenated, so every boot exercises concatenation (later entries win, as
//! Linux does):
//!
//! 1. the base root file system: Debian's busybox-static with all its applet
//!    links, the `/dev` nodes, `/proc`, `/sys`, `/tmp`, `/root`, `/etc` with a root
//!    and an unprivileged user, the Linux init wrapper at `/k42/init`, and the
//!    native K42 programs at `/k42/bin/NAME` (`native.rs`; Linux never runs them);
//!    with Debian's bash-static at `/bin/bash` when the spec asks for it (`cargo xtask
//!    run` and the test boots do; the benchmarks' boots do not, so the footprint they
//!    measure stays the same); and with the dynamic linkers and shared libraries of glibc
//!    and musl (`shared_libs.rs`) when it asks for them (the same boots);
//! 2. the `--rootfs DIR` overlay and any archive another module adds (the guest
//!    tests, from `guest.rs`);
//! 3. the run's argv at `k42_abi::runner::ARGV_PATH` (when a program is named),
//!    gzip-compressed, so every boot also exercises a compressed member;
//! 4. each `--initrd FILE`, as given.
//!
//! Written with `k42_cpio::Writer`, the same crate whose parser the kernel uses.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use k42_abi::runner;
use k42_cpio::Writer;

use crate::cc::{self, Libc};
use crate::{native, paths, shared_libs};

/// Permission bits of an ordinary directory / executable / data file.
const DIR_MODE: u32 = 0o755;
const EXEC_MODE: u32 = 0o755;
const FILE_MODE: u32 = 0o644;
/// `/tmp`: world-writable and sticky.
const TMP_MODE: u32 = 0o1777;
/// `/root`: the superuser's home, private.
const ROOT_HOME_MODE: u32 = 0o700;
/// Device nodes anyone may use (null, zero, tty, ...).
const DEV_OPEN_MODE: u32 = 0o666;
/// The console and serial lines: root only, as Linux creates them.
const DEV_CONSOLE_MODE: u32 = 0o600;
/// Permission bits worth copying from an overlay file.
const PERMISSION_BITS: u32 = 0o7777;

/// Where busybox lives in the image; every applet link points here.
const BUSYBOX_PATH: &str = "/bin/busybox";
/// Where Debian's static bash goes in the image (busybox has no `bash` applet link to
/// collide with: checked in [`applet_links`]).
pub const BASH_PATH: &str = "/bin/bash";

/// Character devices of `/dev`: Linux's numbers (Documentation/admin-guide/devices.txt).
const CHAR_DEVICES: [(&str, u32, u32, u32); 9] = [
    ("/dev/console", DEV_CONSOLE_MODE, 5, 1),
    ("/dev/tty", DEV_OPEN_MODE, 5, 0),
    ("/dev/null", DEV_OPEN_MODE, 1, 3),
    ("/dev/zero", DEV_OPEN_MODE, 1, 5),
    ("/dev/full", DEV_OPEN_MODE, 1, 7),
    ("/dev/random", DEV_OPEN_MODE, 1, 8),
    ("/dev/urandom", DEV_OPEN_MODE, 1, 9),
    ("/dev/ttyS0", DEV_CONSOLE_MODE, 4, 64),
    ("/dev/ttyS1", DEV_CONSOLE_MODE, 4, 65),
];

/// Directories of the base image, with their modes (parents before children:
/// Linux's unpacker does not create missing parents).
const DIRS: [(&str, u32); 13] = [
    ("/bin", DIR_MODE),
    ("/sbin", DIR_MODE),
    ("/usr", DIR_MODE),
    ("/usr/bin", DIR_MODE),
    ("/usr/sbin", DIR_MODE),
    ("/dev", DIR_MODE),
    ("/proc", DIR_MODE),
    ("/sys", DIR_MODE),
    ("/tmp", TMP_MODE),
    ("/root", ROOT_HOME_MODE),
    ("/etc", DIR_MODE),
    ("/k42", DIR_MODE),
    (k42_abi::kernel::NATIVE_BIN_DIR, DIR_MODE),
];

/// Accounts: root, and one unprivileged user for permission tests.
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/tmp:/bin/sh\n";
const GROUP: &str = "root:x:0:\nuser:x:1000:\n";

/// The init wrapper's source, relative to the workspace root.
const INIT_SOURCE: &str = "tests/init/linux-init.c";

/// Everything that goes into one boot's initramfs.
#[derive(Debug, Default)]
pub struct Spec {
    /// `--rootfs DIR`: laid over the base image.
    pub overlay: Option<PathBuf>,
    /// Extra archives appended after the overlay (e.g. the guest tests).
    pub extra: Vec<Vec<u8>>,
    /// The program and its arguments (no argv file when `None`).
    pub argv: Option<Vec<String>>,
    /// `--initrd FILE`s, appended last, as given.
    pub initrds: Vec<PathBuf>,
    /// A static bash to install at [`BASH_PATH`] (part of the base image).
    pub bash: Option<PathBuf>,
    /// Whether to add the dynamic linkers and shared libraries (`shared_libs.rs`).
    pub shared_libs: bool,
}

/// Builds the initramfs of `spec` into `out`.
pub fn build(busybox: &Path, spec: &Spec, out: &Path) -> Result<(), String> {
    let mut image = base(busybox)?;
    if let Some(bash) = &spec.bash {
        let mut w = Writer::new();
        w.file(BASH_PATH, EXEC_MODE, &read(bash)?);
        image.extend(w.finish());
    }
    if spec.shared_libs {
        image.extend(shared_libs::archive()?);
    }
    if let Some(dir) = &spec.overlay {
        image.extend(overlay(dir)?);
    }
    for archive in &spec.extra {
        image.extend(archive);
    }
    if let Some(argv) = &spec.argv {
        image.extend(argv_archive(argv)?);
    }
    for file in &spec.initrds {
        let data = std::fs::read(file)
            .map_err(|e| format!("cannot read --initrd {}: {e}", file.display()))?;
        image.extend(data);
    }
    std::fs::write(out, image).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

/// The base root file system (part 1 above).
pub fn base(busybox: &Path) -> Result<Vec<u8>, String> {
    let init = init_wrapper()?;
    let init_data = read(&init)?;
    let busybox_data = read(busybox)?;
    let applets = applet_links(busybox)?;
    let natives = native::build()?;

    let mut w = Writer::new();
    for (dir, mode) in DIRS {
        w.dir(dir, mode);
    }
    w.file(BUSYBOX_PATH, EXEC_MODE, &busybox_data);
    for link in &applets {
        w.symlink(link, BUSYBOX_PATH);
    }
    for (path, mode, major, minor) in CHAR_DEVICES {
        w.char_dev(path, mode, major, minor);
    }
    w.file("/etc/passwd", FILE_MODE, PASSWD.as_bytes());
    w.file("/etc/group", FILE_MODE, GROUP.as_bytes());
    w.file(runner::LINUX_INIT_PATH, EXEC_MODE, &init_data);
    for (path, file) in &natives {
        w.file(path, EXEC_MODE, &read(file)?);
    }
    Ok(w.finish())
}

/// The gzip-compressed archive holding the run's argv: each word followed by a NUL.
pub fn argv_archive(argv: &[String]) -> Result<Vec<u8>, String> {
    if argv.iter().any(|word| word.contains('\0')) {
        return Err("a program argument holds a NUL byte".into());
    }
    let data: Vec<u8> = argv.iter().flat_map(|w| w.bytes().chain([0])).collect();
    let mut w = Writer::new();
    add_parents(&mut w, runner::ARGV_PATH);
    w.file(runner::ARGV_PATH, FILE_MODE, &data);
    Ok(k42_cpio::gzip(&w.finish()))
}

/// Adds a directory entry for each parent of `path` (Linux's unpacker does not
/// create missing parents; an entry for an existing directory is harmless).
pub fn add_parents(w: &mut Writer, path: &str) {
    let mut prefix = String::new();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        prefix.push('/');
        prefix.push_str(part);
        w.dir(&prefix, DIR_MODE);
    }
}

/// The applet links busybox lists, as absolute paths (its own path excluded).
fn applet_links(busybox: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(busybox)
        .arg("--list-full")
        .output()
        .map_err(|e| format!("cannot run {} --list-full: {e}", busybox.display()))?;
    if !out.status.success() {
        return Err(format!("{} --list-full failed", busybox.display()));
    }
    let links: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| format!("/{}", l.trim().trim_start_matches('/')))
        .filter(|l| l.len() > 1 && l != BUSYBOX_PATH)
        .collect();
    if links.iter().any(|l| l == BASH_PATH) {
        return Err(format!(
            "busybox has a {BASH_PATH} applet link, which would shadow or be shadowed by bash-static"
        ));
    }
    // The links must land in directories the base image creates.
    for link in &links {
        let parent = Path::new(link)
            .parent()
            .and_then(Path::to_str)
            .unwrap_or("/");
        if parent != "/" && !DIRS.iter().any(|(d, _)| *d == parent) {
            return Err(format!(
                "busybox applet {link} is in {parent}, which the image lacks"
            ));
        }
    }
    Ok(links)
}

/// Builds the Linux init wrapper (static, musl) if needed; returns its path.
fn init_wrapper() -> Result<PathBuf, String> {
    let source = paths::root().join(INIT_SOURCE);
    cc::compile(&cc::Build {
        source: &source,
        output: paths::work("init")?.join("linux-init"),
        libc: Libc::Musl,
        defines: Vec::new(),
        include_dirs: Vec::new(),
        extra_inputs: Vec::new(),
    })
}

/// The `--rootfs DIR` overlay: its directories, files and symlinks, with their
/// permission bits, at the same paths under `/`.
pub fn overlay(dir: &Path) -> Result<Vec<u8>, String> {
    if !dir.is_dir() {
        return Err(format!("--rootfs {}: not a directory", dir.display()));
    }
    let mut w = Writer::new();
    add_tree(&mut w, dir, "")?;
    Ok(w.finish())
}

fn add_tree(w: &mut Writer, dir: &Path, prefix: &str) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    // Sorted, so the image does not depend on directory order.
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let host = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|n| format!("{}: non-UTF-8 name {n:?}", dir.display()))?;
        let path = format!("{prefix}/{name}");
        let meta = std::fs::symlink_metadata(&host)
            .map_err(|e| format!("cannot stat {}: {e}", host.display()))?;
        let mode = meta.permissions().mode() & PERMISSION_BITS;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&host)
                .map_err(|e| format!("cannot read link {}: {e}", host.display()))?;
            let target = target
                .to_str()
                .ok_or_else(|| format!("{}: non-UTF-8 link target", host.display()))?;
            w.symlink(&path, target);
        } else if meta.is_dir() {
            w.dir(&path, mode);
            add_tree(w, &host, &path)?;
        } else if meta.is_file() {
            w.file(&path, mode, &read(&host)?);
        } else {
            eprintln!(
                "xtask: warning: --rootfs: skipping {} (not a file, directory or symlink)",
                host.display()
            );
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_words_end_in_nul_and_parents_come_first() {
        let archive = argv_archive(&["/bin/sh".into(), "-c".into(), "echo 'a b'".into()])
            .expect("plain words");
        let tree = k42_cpio::Tree::parse(&archive).expect("our own archive parses");
        let argv = tree.lookup(runner::ARGV_PATH).expect("argv file present");
        assert_eq!(argv.file_data(), Some(&b"/bin/sh\0-c\0echo 'a b'\0"[..]));
        assert!(argv_archive(&["a\0b".into()]).is_err());
    }
}
