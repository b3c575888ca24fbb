//! Loading the Linux program into this process (DESIGN §2.5: "the personality loads the new
//! ELF"): find the file (`PATH` search, symlinks followed — busybox's applets are links), read
//! it, plan its segments with `k42-elf` (every hostile header refused there), map them through
//! the process's `Memory` object, copy the file bytes in, set each page's final protection, map
//! the stack and build argv, envp and the auxiliary vector on it (`k42_linux::stack`), and hand
//! back the registers the program starts with.
//!
//! The file comes from the file server, which checks the process may execute it (a process
//! started without one reads the initramfs through `Boot::read_file`); only static programs
//! run (a `PT_INTERP` program needs the dynamic linker: later).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use k42_abi::kernel::SavedRegs;
use k42_abi::runner::{ENVIRONMENT, STATUS_NOT_FOUND};
use k42_elf::{ElfError, Options, PAGE_SIZE};
use k42_kapi::{BootClient, MemoryClient, file_kind};
use k42_linux::stack::{self, LoadAuxv};
use k42_linux::{Errno, path};
use k42_rt::{KernelPpc, clock};

use k42_abi::kernel::PPC_DATA_BYTES;
use k42_linux::raw::general as g;

use crate::files::{self, Files, Node};
use crate::layout::{MMAP_CEILING, STACK_SIZE, STACK_TOP};
use crate::mem::{self, Kind, Mem, PROT_RW};
use crate::state::Linux;

/// First size of the argv buffer; a longer argv is read again at its full length.
const ARGV_BUFFER: usize = 4096;
/// Bytes of a symlink target read at once (Linux's `PATH_MAX`).
const LINK_MAX: usize = 4096;
/// `PATH` when the environment has none.
const DEFAULT_PATH: &str = "/bin:/usr/bin";
/// RFLAGS a program starts with: only the always-one bit and IF.
const INITIAL_RFLAGS: u64 = 0x202;
/// `AT_CLKTCK`: Linux's `USER_HZ`.
const USER_HZ: u64 = 100;

/// Why an exec failed.
#[derive(Debug)]
pub enum ExecError {
    /// The file could not be found or read.
    File(String, Errno),
    /// The file is not a program this personality can run.
    NotExecutable(String, ElfError),
    /// It needs something not built yet.
    Unsupported(String, &'static str),
    /// Setting up its memory failed.
    Memory(String, Errno),
}

impl ExecError {
    /// The run's exit status for a program that could not start (the runner's contract).
    pub fn exit_status(&self) -> u32 {
        u32::from(STATUS_NOT_FOUND)
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p, e) => write!(f, "{p}: {e}"),
            Self::NotExecutable(p, e) => write!(f, "{p}: not an executable this system runs: {e}"),
            Self::Unsupported(p, what) => write!(f, "{p}: {what}"),
            Self::Memory(p, e) => write!(f, "{p}: cannot map its memory: {e}"),
        }
    }
}

fn boot(linux: &Linux) -> BootClient<KernelPpc> {
    BootClient::new(KernelPpc, linux.boot)
}

/// The run's argv (`Boot::argv`), one byte string per argument.
pub fn run_argv(linux: &Linux) -> Result<Vec<Vec<u8>>, String> {
    let mut buf = vec![0u8; ARGV_BUFFER];
    loop {
        let full = boot(linux)
            .argv(buf.as_mut_ptr() as u64, buf.len() as u64)
            .map_err(|e| format!("{e}"))?;
        let full = usize::try_from(full).map_err(|_| "argv length out of range")?;
        if full <= buf.len() {
            buf.truncate(full);
            break;
        }
        buf = vec![0u8; full];
    }
    let mut args: Vec<Vec<u8>> = buf.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
    // Every argument ends with a NUL, so the split leaves one empty piece at the end.
    args.pop();
    Ok(args)
}

/// What `Boot::read_file` says of `path`: its kind and size, and up to `buf.len()` bytes from
/// `offset`.
fn read_file(linux: &Linux, path: &str, offset: u64, buf: &mut [u8]) -> Result<(u64, u64), Errno> {
    boot(linux)
        .read_file(
            path.as_ptr() as u64,
            path.len() as u64,
            offset,
            buf.as_mut_ptr() as u64,
            buf.len() as u64,
        )
        .map_err(|_| Errno::ENOENT)
}

/// The symlink target at `path`, if it is one (for `k42_linux::path::follow`).
fn read_link(linux: &Linux, path: &str) -> Result<Option<String>, Errno> {
    let mut buf = vec![0u8; LINK_MAX];
    let (kind, size) = read_file(linux, path, 0, &mut buf)?;
    if kind != file_kind::SYMLINK {
        return Ok(None);
    }
    buf.truncate(
        usize::try_from(size)
            .map_err(|_| Errno::ENAMETOOLONG)?
            .min(LINK_MAX),
    );
    String::from_utf8(buf).map(Some).map_err(|_| Errno::ENOENT)
}

/// The whole regular file at `path` (symlinks already resolved).
fn read_whole(linux: &Linux, path: &str) -> Result<Vec<u8>, Errno> {
    let (kind, size) = read_file(linux, path, 0, &mut [])?;
    match kind {
        file_kind::REGULAR => {}
        file_kind::DIRECTORY => return Err(Errno::EACCES),
        _ => return Err(Errno::ENOENT),
    }
    let mut bytes = vec![0u8; usize::try_from(size).map_err(|_| Errno::EFBIG)?];
    read_file(linux, path, 0, &mut bytes)?;
    Ok(bytes)
}

/// The program `name` names, read through the file server with this process's credentials:
/// found along `PATH`, symlinks followed, `EACCES` unless it is a regular file the process may
/// execute (the server decides). Returns the path found, the real path and the bytes.
fn from_file_server(files: &Files, name: &str) -> Result<(String, String, Vec<u8>), ExecError> {
    let root = &files.root;
    let on_path =
        |p: &str| files::call(root, p.as_bytes(), |c| c.access(u64::from(g::F_OK), 0)).is_ok();
    let found = path::search_path(name, path_var(), on_path)
        .ok_or_else(|| ExecError::File(String::from(name), Errno::ENOENT))?;
    let fail = |e| ExecError::File(found.clone(), e);
    let absolute = path::join("/", &found).map_err(fail)?;
    let link = |p: &str| match files::call(root, p.as_bytes(), |c| c.readlink()) {
        Ok((len, target)) => {
            let target = &target[..(len as usize).min(target.len())];
            Ok(Some(String::from_utf8_lossy(target).into_owned()))
        }
        Err(Errno::EINVAL) => Ok(None),
        Err(e) => Err(e),
    };
    let real = path::follow(&absolute, link, path::MAXSYMLINKS).map_err(fail)?;
    files::call(root, real.as_bytes(), |c| c.access(u64::from(g::X_OK), 0)).map_err(fail)?;
    let ((handle, mode, _, size), _) = files::call(root, real.as_bytes(), |c| {
        c.open(u64::from(g::O_RDONLY), 0, 0)
    })
    .map_err(fail)?;
    let node = Node {
        comm: root.comm,
        handle: k42_rights::XHandle::from_word(handle),
    };
    if mode as u32 & g::S_IFMT != g::S_IFREG {
        return Err(fail(Errno::EACCES));
    }
    let size = usize::try_from(size).map_err(|_| fail(Errno::EFBIG))?;
    let mut image = Vec::with_capacity(size);
    while image.len() < size {
        let want = (size - image.len()).min(PPC_DATA_BYTES) as u64;
        let offset = image.len() as u64;
        let (n, bytes) = files::call(&node, &[], |c| c.read(offset, want)).map_err(fail)?;
        if n == 0 {
            break;
        }
        image.extend_from_slice(&bytes[..(n as usize).min(bytes.len())]);
    }
    Ok((found, real, image))
}

/// The same from the initramfs (`Boot::read_file`), for a process started without a file
/// server: no permission is checked there.
fn from_initramfs(linux: &Linux, name: &str) -> Result<(String, String, Vec<u8>), ExecError> {
    let exists = |p: &str| read_file(linux, p, 0, &mut []).is_ok();
    let found = path::search_path(name, path_var(), exists)
        .ok_or_else(|| ExecError::File(String::from(name), Errno::ENOENT))?;
    let absolute = path::join("/", &found).map_err(|e| ExecError::File(found.clone(), e))?;
    let real = path::follow(&absolute, |p| read_link(linux, p), path::MAXSYMLINKS)
        .map_err(|e| ExecError::File(found.clone(), e))?;
    let image = read_whole(linux, &real).map_err(|e| ExecError::File(found.clone(), e))?;
    Ok((found, real, image))
}

/// The value of `PATH` in the run's environment.
fn path_var() -> &'static str {
    ENVIRONMENT
        .iter()
        .find_map(|v| v.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH)
}

/// Loads the program `argv[0]` names with `argv` and the run's environment; returns its first
/// registers.
pub fn exec(linux: &Linux, argv: &[Vec<u8>]) -> Result<SavedRegs, ExecError> {
    let name = argv
        .first()
        .map(|a| String::from_utf8_lossy(a).to_string())
        .unwrap_or_default();
    let (found, real, image) = match linux.files.as_ref() {
        Some(files) => from_file_server(files, &name)?,
        None => from_initramfs(linux, &name)?,
    };
    *linux.exe.lock() = real;

    let opts = Options {
        user_top: MMAP_CEILING,
        ..Options::default()
    };
    let plan =
        k42_elf::plan(&image, &opts).map_err(|e| ExecError::NotExecutable(found.clone(), e))?;
    if plan.interp.is_some() {
        return Err(ExecError::Unsupported(
            found,
            "a dynamically linked program (it needs the dynamic linker, not supported yet)",
        ));
    }
    let mut mem = linux.mem.lock();
    load_segments(linux, &mut mem, &plan, &image)
        .map_err(|e| ExecError::Memory(found.clone(), e))?;
    mem.start_brk(plan.brk_start);

    let stack_bottom = STACK_TOP - STACK_SIZE;
    map(
        linux,
        &mut mem,
        stack_bottom,
        STACK_SIZE,
        PROT_RW,
        Kind::Stack,
    )
    .map_err(|e| ExecError::Memory(found.clone(), e))?;
    drop(mem);

    let auxv = stack::auxv_for_load(&LoadAuxv {
        phdr: plan.phdr.unwrap_or(0),
        phent: u64::from(plan.phent),
        phnum: u64::from(plan.phnum),
        base: 0,
        entry: plan.entry,
        uid: linux.ids.uid,
        euid: linux.ids.euid,
        gid: linux.ids.gid,
        egid: linux.ids.egid,
        secure: false,
        hwcap: 0,
        hwcap2: 0,
        clktck: USER_HZ,
        minsigstksz: 0,
        sysinfo_ehdr: None,
    });
    let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let env: Vec<&[u8]> = ENVIRONMENT.iter().map(|v| v.as_bytes()).collect();
    let built = stack::build(
        STACK_TOP,
        &args,
        &env,
        &auxv,
        random16(),
        stack::PLATFORM,
        found.as_bytes(),
    )
    .map_err(|e| ExecError::Memory(found.clone(), e))?;
    crate::uaccess::write(linux, built.rsp, &built.bytes)
        .map_err(|e| ExecError::Memory(found.clone(), e))?;

    Ok(SavedRegs {
        rip: plan.entry,
        rsp: built.rsp,
        rflags: INITIAL_RFLAGS,
        ..SavedRegs::default()
    })
}

/// The 16 `AT_RANDOM` bytes: the C library's stack-protector canary and pointer guard. Mixed
/// from the TSC until a random-number server exists — unpredictable enough to catch stray
/// writes, not a secret.
fn random16() -> [u8; 16] {
    let mut x = clock::now_ns() ^ k42_rt::sys::cpu::rdtsc().rotate_left(29);
    let mut out = [0u8; 16];
    for chunk in out.chunks_mut(8) {
        x = splitmix(x);
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    out
}

/// One step of SplitMix64.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Maps `[addr, addr + len)` for the program with `prot` (Linux's bits), fresh and
/// zero-filled, and records it.
fn map(
    linux: &Linux,
    mem: &mut Mem,
    addr: u64,
    len: u64,
    prot: u8,
    kind: Kind,
) -> Result<(), Errno> {
    if !mem::program_may_use(addr, addr.checked_add(len).ok_or(Errno::ENOMEM)?) {
        return Err(Errno::ENOMEM);
    }
    MemoryClient::new(KernelPpc, linux.memory)
        .map(addr, len, mem::kernel_prot(prot))
        .map_err(|_| Errno::ENOMEM)?;
    mem.record(addr, len, prot, kind);
    Ok(())
}

/// Maps the image's pages (a page two segments share gets both protections, as Linux's
/// mappings of the same file page would allow), copies the file bytes in, then gives every page
/// its final protection.
fn load_segments(
    linux: &Linux,
    mem: &mut Mem,
    plan: &k42_elf::LoadPlan,
    image: &[u8],
) -> Result<(), Errno> {
    let mut pages: BTreeMap<u64, u8> = BTreeMap::new();
    for seg in plan.segments() {
        let range = seg.map_range();
        let mut page = range.start;
        while page < range.end {
            *pages.entry(page).or_default() |= mem::elf_prot(seg.prot());
            page += PAGE_SIZE;
        }
    }
    let runs = runs(&pages);
    let memory = || MemoryClient::new(KernelPpc, linux.memory);
    for &(start, len, _) in &runs {
        map(linux, mem, start, len, PROT_RW, Kind::Image)?;
    }
    for seg in plan.segments() {
        let bytes = seg.file_bytes(image).ok_or(Errno::ENOEXEC)?;
        crate::uaccess::write_locked(mem, seg.vaddr(), bytes)?;
    }
    for &(start, len, prot) in &runs {
        memory()
            .protect(start, len, mem::kernel_prot(prot))
            .map_err(|_| Errno::ENOMEM)?;
        mem.record(start, len, prot, Kind::Image);
    }
    Ok(())
}

/// Runs of consecutive pages with one protection: (start, length, protection).
fn runs(pages: &BTreeMap<u64, u8>) -> Vec<(u64, u64, u8)> {
    let mut out: Vec<(u64, u64, u8)> = Vec::new();
    for (&page, &p) in pages {
        match out.last_mut() {
            Some((start, len, q)) if *start + *len == page && *q == p => *len += PAGE_SIZE,
            _ => out.push((page, PAGE_SIZE, p)),
        }
    }
    out
}
