//! Loading a Linux program into this process (DESIGN §2.5: "the personality loads the new
//! ELF"), for the run's first program (`main.rs`) and for every `execve` (`calls/exec.rs`),
//! through one loader: find the file (symlinks followed — busybox's applets are links; the
//! first program along `PATH`), read it, follow its `#!` lines to the binary that runs
//! (`k42_linux::script`), plan its segments with `k42-elf` (every hostile header refused there)
//! and build its stack with argv, envp and the auxiliary vector (`k42_linux::stack`) —
//! [`prepare`], which changes nothing — then map the segments through the process's `Memory`
//! object, copy the file bytes in, set each page's final protection, map the stack and copy it
//! in, and hand back the registers the program starts with ([`load`]). `execve` tears the old
//! image down between the two (`mem::unmap_all`): that is its point of no return.
//!
//! The file comes from the file server, which checks the process may execute it (a process
//! started without one reads the initramfs through `Boot::read_file`). A dynamically linked
//! program (`PT_INTERP`) gets its interpreter loaded beside it and starts there
//! (`interp.rs`, which sits next to this).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use k42_abi::kernel::SavedRegs;
use k42_abi::runner::{ENVIRONMENT, STATUS_NOT_FOUND};
use k42_elf::{ElfError, LoadPlan, Options, PAGE_SIZE};
use k42_kapi::{BootClient, ImageClient, MemoryClient, file_kind};
use k42_linux::stack::{self, InitialStack, LoadAuxv};
use k42_linux::{Errno, path, script};
use k42_rights::XHandle;
use k42_rt::KernelPpc;

use k42_abi::kernel::PPC_DATA_BYTES;
use k42_linux::raw::general as g;

use crate::file_bytes::{FileBytes, FileImage, Mapped};
use crate::files::{self, Files, Node};
use crate::interp::{self, Interp};
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
    /// Its interpreter cannot be used, found so before the point of no return (`interp.rs`).
    Interp {
        /// The program.
        program: String,
        /// The interpreter's path, as `PT_INTERP` gives it.
        interp: String,
        /// What `execve` answers.
        errno: Errno,
        /// Why, for the log.
        why: String,
    },
    /// Its interpreter cannot be loaded, which Linux finds past the point of no return (the
    /// load fails with this; the process dies).
    BadInterp(String, String),
    /// Its arguments and environment do not fit (`E2BIG`) or are malformed.
    Args(String, Errno),
    /// Setting up its memory failed.
    Memory(String, Errno),
}

impl ExecError {
    /// The run's exit status for a program that could not start (the runner's contract).
    pub fn exit_status(&self) -> u32 {
        u32::from(STATUS_NOT_FOUND)
    }

    /// The errno `execve` returns for it. A missing interpreter is `ENOENT`, as on Linux —
    /// and so a shell says "not found" rather than running the binary as a shell script, as
    /// it would on `ENOEXEC`.
    pub fn errno(&self) -> Errno {
        match self {
            Self::File(_, e) | Self::Args(_, e) | Self::Memory(_, e) => *e,
            Self::Interp { errno, .. } => *errno,
            Self::NotExecutable(..) => Errno::ENOEXEC,
            Self::BadInterp(..) => Errno::ELIBBAD,
        }
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p, e) => write!(f, "{p}: {e}"),
            Self::NotExecutable(p, e) => write!(f, "{p}: not an executable this system runs: {e}"),
            Self::Interp {
                program,
                interp,
                errno,
                why,
            } => write!(f, "{program}: its interpreter {interp}: {why} ({errno})"),
            Self::BadInterp(p, why) => write!(f, "{p}: {why}"),
            Self::Args(p, e) => write!(f, "{p}: its arguments and environment: {e}"),
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

/// The symlink target at `path` in the initramfs, if it is one (for `k42_linux::path::follow`).
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

/// The whole regular file at `path` in the initramfs (symlinks already resolved).
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

/// A program file found and read (or mapped), nothing of the process changed yet.
pub struct ProgramFile {
    /// Its absolute path with every symlink resolved (what `/proc/self/exe` will name).
    pub real: String,
    /// Its bytes.
    pub bytes: FileBytes,
    /// Its node at the file server (none from the initramfs): the loaded image's segments hold
    /// it as a mapping of the file does (`mem::Mem::origins`), so a file system that holds a
    /// running program is busy, as on Linux.
    pub node: Option<Arc<Node>>,
}

/// The magic link to the running program's file, and the directories above it: the
/// personality answers them itself until a proc server exists (as `readlink` does,
/// `calls/file.rs`), so `execve("/proc/self/exe")` — busybox re-running itself — finds the
/// program's file.
const PROC_SELF_EXE: &str = "/proc/self/exe";
const PROC_DIRS: [&str; 2] = ["/proc", "/proc/self"];

/// The symlink target at the absolute, symlink-free `p` as the file server answers it (with
/// the `/proc` links above answered here): `None` when `p` is no symlink.
fn server_link(root: &Node, exe: &str, p: &str) -> Result<Option<String>, Errno> {
    if p == PROC_SELF_EXE {
        return Ok(Some(String::from(exe)));
    }
    if PROC_DIRS.contains(&p) {
        return Ok(None);
    }
    match files::call(root, p.as_bytes(), |c| c.readlink()) {
        Ok((len, target)) => {
            let target = &target[..usize::try_from(len).unwrap_or(usize::MAX).min(target.len())];
            Ok(Some(String::from_utf8_lossy(target).into_owned()))
        }
        Err(Errno::EINVAL) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads the program at the absolute path `joined` through the file server, with this
/// process's credentials, as Linux's `do_open_execat` opens it: symlinks followed (the last
/// one too, unless `nofollow`: then a final symlink is `ELOOP`), `EACCES` unless it is a
/// regular file the process may execute (the server decides). The file is opened for reading,
/// so a file with execute but no read permission is refused to a process other than root's
/// (Linux would run it): the personality, not the kernel, reads the image.
fn from_file_server(
    linux: &Linux,
    files: &Files,
    joined: &str,
    nofollow: bool,
) -> Result<ProgramFile, Errno> {
    let root = &files.root;
    let exe = linux.exe.lock().clone();
    let link = |p: &str| server_link(root, &exe, p);
    let real = if nofollow {
        path::follow_parents(joined, link, path::MAXSYMLINKS)?
    } else {
        path::follow(joined, link, path::MAXSYMLINKS)?
    };
    if nofollow && real == PROC_SELF_EXE {
        return Err(Errno::ELOOP);
    }
    let flags = g::O_RDONLY | if nofollow { g::O_NOFOLLOW } else { 0 };
    let ((handle, mode, _, size), _) =
        files::call(root, real.as_bytes(), |c| c.open(u64::from(flags), 0, 0))?;
    let node = Arc::new(Node {
        comm: root.comm,
        handle: k42_rights::XHandle::from_word(handle),
    });
    // Only a regular file runs: a directory, device, FIFO or socket is EACCES (may_open).
    if mode as u32 & g::S_IFMT != g::S_IFREG {
        return Err(Errno::EACCES);
    }
    let at = if nofollow { g::AT_SYMLINK_NOFOLLOW } else { 0 };
    files::call(root, real.as_bytes(), |c| {
        c.access(u64::from(g::X_OK), u64::from(at))
    })?;
    // Mapped from the file's image if the server gives one (an empty file has none).
    if let Some(mapped) = FileImage::of(&node).and_then(Mapped::new) {
        return Ok(ProgramFile {
            real,
            bytes: FileBytes::Mapped(mapped),
            node: Some(node),
        });
    }
    let size = usize::try_from(size).map_err(|_| Errno::EFBIG)?;
    let mut bytes = Vec::with_capacity(size);
    while bytes.len() < size {
        let want = (size - bytes.len()).min(PPC_DATA_BYTES) as u64;
        let offset = bytes.len() as u64;
        let (n, data) = files::call(&node, &[], |c| c.read(offset, want))?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&data[..usize::try_from(n).unwrap_or(0).min(data.len())]);
    }
    Ok(ProgramFile {
        real,
        bytes: FileBytes::Read(bytes),
        node: Some(node),
    })
}

/// The same from the initramfs (`Boot::read_file`), for a process started without a file
/// server: no permission is checked there.
fn from_initramfs(linux: &Linux, joined: &str) -> Result<ProgramFile, Errno> {
    let real = path::follow(joined, |p| read_link(linux, p), path::MAXSYMLINKS)?;
    let bytes = FileBytes::Read(read_whole(linux, &real)?);
    Ok(ProgramFile {
        real,
        bytes,
        node: None,
    })
}

/// Reads the program `path` names, relative to the absolute, symlink-free directory `base`
/// when it is relative.
pub fn read_program(
    linux: &Linux,
    base: &str,
    path: &str,
    nofollow: bool,
) -> Result<ProgramFile, Errno> {
    let joined = path::join(base, path)?;
    match linux.files.as_ref() {
        Some(files) => from_file_server(linux, files, &joined, nofollow),
        None => from_initramfs(linux, &joined),
    }
}

/// The working directory's path (`/` without a file server).
pub fn cwd_path(linux: &Linux) -> String {
    linux
        .files
        .as_ref()
        .map_or_else(|| String::from("/"), |f| f.cwd.lock().1.clone())
}

/// Follows `#!` lines from `file` (read from `filename`, which the program is to see as
/// `argv`) to the binary that runs: its file and the argv it gets. Each interpreter is opened
/// relative to the working directory, as Linux's `open_exec` does; past
/// [`script::MAX_REWRITES`] rewrites, `ELOOP`.
pub fn follow_scripts(
    linux: &Linux,
    mut file: ProgramFile,
    filename: &[u8],
    mut argv: Vec<Vec<u8>>,
) -> Result<(ProgramFile, Vec<Vec<u8>>), ExecError> {
    let shown = |name: &[u8]| String::from_utf8_lossy(name).into_owned();
    // What the next interpreter gets as its script's path: `execve`'s path first, then each
    // interpreter's name (Linux's `bprm->interp`).
    let mut name = filename.to_vec();
    for _ in 0..=script::MAX_REWRITES {
        if !script::is_script(&file.bytes) {
            return Ok((file, argv));
        }
        let shebang = script::parse(&file.bytes).map_err(|e| ExecError::File(shown(&name), e))?;
        argv = script::argv(&shebang, &name, &argv);
        let interp = shown(&shebang.interp);
        file = read_program(linux, &cwd_path(linux), &interp, false)
            .map_err(|e| ExecError::File(interp.clone(), e))?;
        name = shebang.interp;
    }
    Err(ExecError::File(shown(&name), Errno::ELOOP))
}

/// The value of `PATH` in the run's environment.
fn path_var() -> &'static str {
    ENVIRONMENT
        .iter()
        .find_map(|v| v.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH)
}

/// Whether `p` names something, for the run's `PATH` search.
fn exists(linux: &Linux, p: &str) -> bool {
    match linux.files.as_ref() {
        Some(files) => files::call(&files.root, p.as_bytes(), |c| {
            c.access(u64::from(g::F_OK), 0)
        })
        .is_ok(),
        None => read_file(linux, p, 0, &mut []).is_ok(),
    }
}

/// A program ready to load: its file read and planned, its stack built — everything that can
/// fail short of the kernel refusing memory checked, and nothing of the process changed yet
/// (`execve`'s point of no return comes after this).
pub struct Prepared {
    /// The name it was started by, for log lines.
    name: String,
    /// Its real path (`/proc/self/exe`).
    exe: String,
    /// Its command, for `/proc`.
    command: Command,
    image: FileBytes,
    /// Its file's node (`ProgramFile::node`).
    node: Option<Arc<Node>>,
    plan: LoadPlan,
    /// The dynamic linker, for a dynamically linked program.
    interp: Option<Interp>,
    stack: InitialStack,
}

/// Plans `file`'s image and builds its initial stack with `argv`, `envp` and `execfn`
/// (`AT_EXECFN`: the path `execve` was given).
pub fn prepare(
    linux: &Linux,
    name: &str,
    file: ProgramFile,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
) -> Result<Prepared, ExecError> {
    let opts = Options {
        user_top: MMAP_CEILING,
        ..Options::default()
    };
    let plan = interp::plan_program(&file.bytes, &opts)
        .map_err(|e| ExecError::NotExecutable(String::from(name), e))?;
    for seg in plan.segments() {
        let range = seg.map_range();
        if !mem::program_may_use(range.start, range.end) {
            return Err(ExecError::Memory(String::from(name), Errno::ENOMEM));
        }
        if seg.file_bytes(&file.bytes).is_none() {
            return Err(ExecError::File(String::from(name), Errno::ENOEXEC));
        }
    }
    let interp = interp::prepare(linux, name, &plan, &file.bytes)?;
    // The ids as they are now: an exec changes none of them (K42 honours no set-id bits).
    let ids = linux.creds.get();
    let auxv = stack::auxv_for_load(&LoadAuxv {
        phdr: plan.phdr.unwrap_or(0),
        phent: u64::from(plan.phent),
        phnum: u64::from(plan.phnum),
        base: interp.as_ref().map_or(0, Interp::base),
        entry: plan.entry,
        uid: ids.uid.into(),
        euid: ids.euid.into(),
        gid: ids.gid.into(),
        egid: ids.egid.into(),
        // Linux's secure exec (`cap_bprm_creds_from_file`): the new program runs with an
        // effective id other than the real one, as a set-id program would.
        secure: ids.uid != ids.euid || ids.gid != ids.egid,
        hwcap: 0,
        hwcap2: 0,
        clktck: USER_HZ,
        minsigstksz: 0,
        sysinfo_ehdr: None,
    });
    let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let env: Vec<&[u8]> = envp.iter().map(Vec::as_slice).collect();
    let stack = stack::build(
        STACK_TOP,
        &args,
        &env,
        &auxv,
        random16(linux),
        stack::PLATFORM,
        execfn,
    )
    .map_err(|e| ExecError::Args(String::from(name), e))?;
    Ok(Prepared {
        name: String::from(name),
        command: Command::new(execfn, argv),
        exe: file.real,
        image: file.bytes,
        node: file.node,
        plan,
        interp,
        stack,
    })
}

/// A program's command as `/proc` shows it (`/proc/PID/comm`, `/proc/PID/cmdline`), which the
/// process server keeps (`crate::procs::set_command`).
#[derive(Default)]
pub struct Command {
    /// The base name of the path it was executed by (Linux's `kbasename(bprm->filename)`:
    /// `AT_EXECFN`'s, so a script's own name, and `N` for `/dev/fd/N`).
    comm: Vec<u8>,
    /// Its argv, each argument with its NUL.
    cmdline: Vec<u8>,
}

impl Command {
    /// The command of a program executed as `execfn` with `argv`.
    fn new(execfn: &[u8], argv: &[Vec<u8>]) -> Self {
        let base = execfn.rsplit(|&b| b == b'/').next().unwrap_or(execfn);
        let mut cmdline = Vec::new();
        for arg in argv {
            cmdline.extend_from_slice(arg);
            cmdline.push(0);
        }
        Self {
            comm: base.to_vec(),
            cmdline,
        }
    }

    /// Tells the process server (no lock may be held: it is a call).
    pub fn tell(&self, linux: &Linux) {
        crate::procs::set_command(linux, &self.comm, &self.cmdline);
    }
}

impl Prepared {
    /// Its command, to tell the process server once it is loaded ([`Command::tell`]).
    pub fn take_command(&mut self) -> Command {
        core::mem::take(&mut self.command)
    }
}

/// Loads a prepared program into the (empty) program memory `mem`: its segments, its
/// interpreter's, the brk heap after the program, the stack with argv, envp and auxv; records
/// its file as `/proc/self/exe`. Returns the registers it starts with: all zero but `rip` (the
/// interpreter's entry, if it has one), `rsp` and `rflags`, as Linux's `start_thread` leaves
/// them. Only the kernel refusing memory, or an interpreter Linux too would fail to load here
/// ([`Interp::Doomed`]), can fail.
pub fn load(linux: &Linux, mem: &mut Mem, p: &Prepared) -> Result<SavedRegs, ExecError> {
    let fail = |e| ExecError::Memory(p.name.clone(), e);
    load_segments(linux, mem, &p.plan, &p.image, p.node.as_ref()).map_err(fail)?;
    let entry = match &p.interp {
        None => p.plan.entry,
        Some(Interp::Ready { image, plan, node }) => {
            load_segments(linux, mem, plan, image, node.as_ref()).map_err(fail)?;
            plan.entry
        }
        Some(Interp::Doomed(why)) => return Err(ExecError::BadInterp(p.name.clone(), why.clone())),
    };
    mem.start_brk(p.plan.brk_start);
    let stack_bottom = STACK_TOP - STACK_SIZE;
    map(linux, mem, stack_bottom, STACK_SIZE, PROT_RW, Kind::Stack).map_err(fail)?;
    crate::uaccess::write_locked(mem, p.stack.rsp, &p.stack.bytes).map_err(fail)?;
    *linux.exe.lock() = p.exe.clone();
    Ok(SavedRegs {
        rip: entry,
        rsp: p.stack.rsp,
        rflags: INITIAL_RFLAGS,
        ..SavedRegs::default()
    })
}

/// Loads the run's first program, `argv[0]` found along the run's `PATH`, with `argv` and the
/// run's environment; returns its first registers.
pub fn exec(linux: &Linux, argv: &[Vec<u8>]) -> Result<SavedRegs, ExecError> {
    let name = argv
        .first()
        .map(|a| String::from_utf8_lossy(a).to_string())
        .unwrap_or_default();
    let found = path::search_path(&name, path_var(), |p| exists(linux, p))
        .ok_or_else(|| ExecError::File(name.clone(), Errno::ENOENT))?;
    let file =
        read_program(linux, "/", &found, false).map_err(|e| ExecError::File(found.clone(), e))?;
    let (file, argv) = follow_scripts(linux, file, found.as_bytes(), argv.to_vec())?;
    let env: Vec<Vec<u8>> = ENVIRONMENT.iter().map(|v| v.as_bytes().to_vec()).collect();
    let mut prepared = prepare(linux, &found, file, &argv, &env, found.as_bytes())?;
    let command = prepared.take_command();
    // `prepared` outlives the map's lock: dropping its files' nodes is a file server call.
    let regs = load(linux, &mut linux.mem.lock(), &prepared)?;
    command.tell(linux);
    Ok(regs)
}

/// The 16 `AT_RANDOM` bytes: the C library's stack-protector canary and pointer guard, the
/// process's random bytes (`calls::info::random_bytes`).
fn random16(linux: &Linux) -> [u8; 16] {
    let mut out = [0u8; 16];
    crate::calls::info::random_bytes(linux, &mut out);
    out
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

/// Loads `plan`'s segments from `file`: mapped from the file's image where its segments allow
/// ([`mappable`]), else copied. Each segment's file pages record `node` as their origin.
fn load_segments(
    linux: &Linux,
    mem: &mut Mem,
    plan: &k42_elf::LoadPlan,
    file: &FileBytes,
    node: Option<&Arc<Node>>,
) -> Result<(), Errno> {
    match file {
        FileBytes::Mapped(m) if mappable(plan) => map_segments(linux, mem, plan, m.image.handle())?,
        _ => copy_segments(linux, mem, plan, file)?,
    }
    if let Some(node) = node {
        for seg in plan.segments() {
            let range = seg.map_range();
            if seg.file_size() == 0 {
                continue; // all bss
            }
            let file_pages_end = (seg.vaddr() + seg.file_size())
                .next_multiple_of(PAGE_SIZE)
                .min(range.end);
            // The file offset of the segment's first page (exact for a segment mapped from
            // the image, whose address and offset agree within a page).
            let offset = seg.file_offset() / PAGE_SIZE * PAGE_SIZE;
            mem.origins
                .add(range.start, file_pages_end, Arc::clone(node), offset);
        }
    }
    Ok(())
}

/// Whether `plan`'s segments can be mapped from the file's image page for page, as Linux's
/// `elf_map` maps them: each one's address and file offset agree within a page, and no page
/// holds two of them.
fn mappable(plan: &k42_elf::LoadPlan) -> bool {
    let mut end = 0;
    for seg in plan.segments() {
        let range = seg.map_range();
        if seg.vaddr() % PAGE_SIZE != seg.file_offset() % PAGE_SIZE || range.start < end {
            return false;
        }
        end = range.end;
    }
    true
}

/// Maps each segment as Linux's `load_elf_binary` does: its file pages privately from the
/// file's `image` (`k42_kapi::Image::map_private`: shared until written, then the process's
/// own), the rest of its last file page zeroed when a writable segment goes on past its file
/// bytes (`padzero`), and anonymous zero pages for the rest (the bss).
fn map_segments(
    linux: &Linux,
    mem: &mut Mem,
    plan: &k42_elf::LoadPlan,
    image: XHandle,
) -> Result<(), Errno> {
    let mut client = ImageClient::new(KernelPpc, image);
    for seg in plan.segments() {
        let prot = mem::elf_prot(seg.prot());
        let range = seg.map_range();
        let file_end = seg.vaddr() + seg.file_size();
        let file_pages_end = if seg.file_size() == 0 {
            range.start
        } else {
            file_end.next_multiple_of(PAGE_SIZE).min(range.end)
        };
        if file_pages_end > range.start {
            let len = file_pages_end - range.start;
            if !mem::program_may_use(range.start, file_pages_end) {
                return Err(Errno::ENOMEM);
            }
            // The rest of the last file page is zeroed when the segment goes on past its file
            // bytes — for a writable segment only: Linux's `padzero` cannot write a read-only
            // one and goes on without (6.1 ignores the failure, later kernels skip it).
            let tail = (seg.prot().contains(k42_elf::Prot::WRITE)
                && file_end < file_pages_end
                && seg.mem_size() > seg.file_size())
            .then(|| file_pages_end - file_end);
            let first_page = seg.file_offset() / PAGE_SIZE;
            client
                .map_private(range.start, len, first_page, mem::kernel_prot(prot))
                .map_err(|_| Errno::ENOMEM)?;
            mem.record(range.start, len, prot, Kind::Image);
            if let Some(tail) = tail {
                let zeros = vec![0u8; usize::try_from(tail).map_err(|_| Errno::ENOMEM)?];
                crate::uaccess::write_locked(mem, file_end, &zeros)?;
            }
        }
        if range.end > file_pages_end {
            map(
                linux,
                mem,
                file_pages_end,
                range.end - file_pages_end,
                prot,
                Kind::Image,
            )?;
        }
    }
    Ok(())
}

/// Maps the image's pages (a page two segments share gets both protections, as Linux's
/// mappings of the same file page would allow), copies the file bytes in, then gives every page
/// its final protection.
fn copy_segments(
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
