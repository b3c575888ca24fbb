//! The bootstrap: the first native task. The kernel starts it as `/k42/bin/bootstrap` (class
//! SYSTEM) with `arg0` = its handle on the kernel's `Boot` object (`k42_kapi::Boot`), the one
//! authority to start programs and end the run. It
//!
//! 1. reads the run's argv (`Boot::argv`; the runner wrote it, `k42_abi::runner::ARGV_PATH`;
//!    when it names no program the kernel answers `k42_abi::runner::INTERACTIVE_SHELL`);
//! 2. spawns the console server `/k42/bin/console` (SYSTEM) with its own badge in `arg0`, grants
//!    it the COM1 ports and starts it; the server makes the console object for it as
//!    `k42_ifaces::SPAWNER_HANDLE`;
//! 3. spawns the program argv\[0\] names as an APPLICATION with `arg0` = the console server's
//!    CommID and `arg1` = its own CommID, gives the program access to the console (READ and
//!    WRITE: the terminal's input, settings and output) and to its `Boot` object, starts it
//!    and sends it those handles in the start-up message (`k42_ifaces::start`). Which
//!    program: argv\[0\] is looked up as a shell would, along `PATH`
//!    (`k42_abi::runner::ENVIRONMENT`), with the native directory `/k42/bin` searched last
//!    ([`classify`]). A native program gets READ and CONTROL on `Boot` (test programs
//!    spawn helpers); anything else is a Linux program, run by the Linux personality
//!    (`Boot::spawn_linux`, `user/bin/linux`), which gets READ — it reads the program and argv
//!    through it. For a Linux program it also starts the file server `/k42/bin/fs` (SYSTEM,
//!    with READ on `Boot` to read the initramfs), sets the program's credentials there (root,
//!    as on the Linux runner), gives it the root directory and tells it so in a second
//!    start-up message (`k42_ifaces::start::FsStart`); and it starts the process server
//!    `/k42/bin/procs`, registers the program there (init's child, root) and tells it in a
//!    third (`ProcsStart`), and lets the console server send the terminal's signals through
//!    it (`Console::attach_procs`, with `TERMINAL` on the table), and lets the process server
//!    pass credentials changes on to the file server (`Procs::attach_fs`, with
//!    `SET_CREDENTIALS` on the file server's root); and it starts the pipe server `/k42/bin/pipes`, gives the program
//!    the pipe factory and tells it in a fourth (`PipesStart`), and gives the file server the
//!    factory with `NAMED` for FIFOs' pipes (`Fs::attach_pipes`);
//! 4. waits for the program's EXITED message and ends the run with its status
//!    (`Boot::shutdown`). If anything before fails, the run ends with
//!    `k42_abi::runner::STATUS_NOT_FOUND`, as a shell reports a program it cannot start.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use k42_abi::kernel::NATIVE_BIN_DIR;
use k42_abi::kernel::comm_pid;
use k42_abi::runner::{CONSOLE_UART_PORT, ENVIRONMENT, STATUS_NOT_FOUND};
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::console::ConsoleClient;
use k42_ifaces::fs::{self, FsClient};
use k42_ifaces::pipes::{self, PipesClient};
use k42_ifaces::procs::{self, ProcsClient};
use k42_ifaces::start::{
    FS_METHOD, FsStart, HANDLES_METHOD, PIPES_METHOD, PROCS_METHOD, PipesStart, ProcsStart,
    StartHandles,
};
use k42_kapi::{BootClient, ProcessClient, class};
use k42_rights::wire::meta;
use k42_rights::{Badge, Rights, XHandle};
use k42_rt::process::exited;
use k42_rt::sys::kcall;
use k42_rt::{Env, KernelPpc, Ppc, log, ring};

k42_rt::entry!(main);

/// The process server's program name under `/k42/bin`.
const PROCS_SERVER: &str = "procs";
/// The pipe server's program name under `/k42/bin`.
const PIPES_SERVER: &str = "pipes";
/// The pid of init, the parent of the run's program (the bootstrap plays it).
const INIT_PID: u64 = 1;
/// The file server's program name under `/k42/bin`.
const FS_SERVER: &str = "fs";
/// The run's program's user and group: root, as on the Linux runner.
const ROOT_ID: u64 = 0;
/// The console server's program name under `/k42/bin`.
const CONSOLE_SERVER: &str = "console";
/// I/O ports of a 16550 UART from its base: the console server's grant.
const UART_PORTS: u16 = 8;
/// First size of the argv buffer; a longer argv is read again at its full length.
const ARGV_BUFFER: usize = 4096;
/// The program's rights on the console: its input and settings (READ), output and settings
/// (WRITE), and giving it on to the processes it forks (CONTROL).
const PROGRAM_CONSOLE_RIGHTS: Rights = Rights::READ.union(Rights::WRITE).union(Rights::CONTROL);
/// A native program's rights on the `Boot` object: read argv and counters, spawn helpers.
const PROGRAM_BOOT_RIGHTS: Rights = Rights::READ.union(Rights::CONTROL);
/// The Linux personality's rights on the `Boot` object: read argv and the initramfs.
const PERSONALITY_BOOT_RIGHTS: Rights = Rights::READ;
/// `PATH` when the run's environment has none.
const DEFAULT_PATH: &str = "/bin:/usr/bin";

/// What argv\[0\] names.
#[derive(Debug, PartialEq, Eq)]
enum Program<'a> {
    /// The native program of this name under `/k42/bin`.
    Native(&'a str),
    /// A Linux program (the personality finds it, or reports it missing).
    Linux,
}

/// Why the run cannot go on, for the log.
type Failure = String;

fn main(env: Env) -> u32 {
    let status = run(&env).unwrap_or_else(|why| {
        log!("bootstrap: {why}");
        u32::from(STATUS_NOT_FOUND)
    });
    if let Err(e) = k42_rt::boot(env.arg0).shutdown(status) {
        log!("bootstrap: Boot::shutdown({status}) failed: {e}");
    }
    status
}

/// Steps 1–4 of the module comment; the program's exit status.
fn run(env: &Env) -> Result<u32, Failure> {
    let mut boot = k42_rt::boot(env.arg0);
    let argv = read_argv(&mut boot)?;
    let first = first_arg(&argv)?;
    let kind = classify(&mut boot, first);
    let console = start_console(&mut boot, env.pid())?;
    // Linux programs have files and a process table: their servers run beside them.
    let (fs, procs) = match kind {
        Program::Linux => (
            Some(start_server(&mut boot, env, FS_SERVER, "file server")?),
            Some(start_server(
                &mut boot,
                env,
                PROCS_SERVER,
                "process server",
            )?),
        ),
        Program::Native(_) => (None, None),
    };
    let pipes = match kind {
        Program::Linux => Some(start_server(&mut boot, env, PIPES_SERVER, "pipe server")?),
        Program::Native(_) => None,
    };

    let (program, boot_rights) = match kind {
        Program::Native(name) => (name, PROGRAM_BOOT_RIGHTS),
        Program::Linux => (first, PERSONALITY_BOOT_RIGHTS),
    };
    let spawned = match kind {
        Program::Native(name) => boot.spawn(
            name.as_ptr() as u64,
            name.len() as u64,
            class::APPLICATION,
            console,
            env.comm_id,
            k42_kapi::SAME_CPU,
        ),
        Program::Linux => boot.spawn_linux(console, env.comm_id, k42_kapi::SAME_CPU),
    };
    let (comm, handle) = spawned.map_err(|e| format!("cannot spawn {program}: {e}"))?;
    let pid = comm_pid(comm);
    let handles = StartHandles {
        console: meta::give_access(
            &mut Ppc::new(console),
            SPAWNER_HANDLE,
            Badge(pid),
            PROGRAM_CONSOLE_RIGHTS,
        )
        .map_err(|e| format!("cannot give {program} the console: {e}"))?,
        boot: Some(
            meta::give_access(&mut boot.transport, boot.handle, Badge(pid), boot_rights)
                .map_err(|e| format!("cannot give {program} the Boot object: {e}"))?,
        ),
    };
    let fs_start = match fs {
        Some(fs) => Some(equip_for_files(fs, pid).map_err(|e| format!("{program}: {e}"))?),
        None => None,
    };
    let procs_start = match procs {
        Some(procs) => Some(
            register(procs, pid, XHandle::from_word(handle))
                .map_err(|e| format!("{program}: {e}"))?,
        ),
        None => None,
    };
    if let Some(procs) = procs {
        attach_terminal(console, procs)?;
    }
    if let (Some(fs), Some(procs)) = (fs, procs) {
        attach_files(fs, procs)?;
    }
    let pipes_start = match pipes {
        Some(pipes) => Some(equip_for_pipes(pipes, pid).map_err(|e| format!("{program}: {e}"))?),
        None => None,
    };
    if let (Some(fs), Some(pipes)) = (fs, pipes) {
        attach_pipes(fs, pipes)?;
    }
    let mut process = ProcessClient::new(KernelPpc, XHandle::from_word(handle));
    process
        .start()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    // After the start: the program waits for this message, and a stopped process's ring is
    // not a place to leave it (see the report on waking stopped dispatchers).
    let sent = kcall::async_send(comm, 0, HANDLES_METHOD, &handles.to_payload());
    if !kcall::is_ok(sent) {
        return Err(format!("cannot send {program} its handles: status {sent}"));
    }
    if let Some(fs_start) = fs_start {
        let sent = kcall::async_send(comm, 0, FS_METHOD, &fs_start.to_payload());
        if !kcall::is_ok(sent) {
            return Err(format!("cannot tell {program} its files: status {sent}"));
        }
    }
    if let Some(procs_start) = procs_start {
        let sent = kcall::async_send(comm, 0, PROCS_METHOD, &procs_start.to_payload());
        if !kcall::is_ok(sent) {
            return Err(format!(
                "cannot tell {program} its process server: status {sent}"
            ));
        }
    }
    if let Some(pipes_start) = pipes_start {
        let sent = kcall::async_send(comm, 0, PIPES_METHOD, &pipes_start.to_payload());
        if !kcall::is_ok(sent) {
            return Err(format!(
                "cannot tell {program} its pipe server: status {sent}"
            ));
        }
    }
    log!("bootstrap: started {program} (pid {pid})");

    let servers = Servers { fs, pipes, procs };
    let message = ring::wait_message_where(
        |msg| exited(msg, pid).is_some(),
        |msg| match exited(&msg, comm_pid(console)) {
            Some(status) => log!("bootstrap: the console server exited with status {status}"),
            None => match fs.and_then(|fs| exited(&msg, comm_pid(fs))) {
                Some(status) => log!("bootstrap: the file server exited with status {status}"),
                None => match ended_process(&msg) {
                    Some(ended) => servers.forget(ended),
                    None => log!("bootstrap: unexpected message {msg:?}"),
                },
            },
        },
    );
    Ok(exited(&message, pid).unwrap_or(u32::from(STATUS_NOT_FOUND)))
}

/// The servers that keep state per process, by CommID (absent for a native program).
struct Servers {
    fs: Option<u64>,
    pipes: Option<u64>,
    procs: Option<u64>,
}

impl Servers {
    /// The kernel said process `pid` ended (a fork child of the program: they inherit the
    /// bootstrap as the one told): the servers release what it still held — its open files,
    /// its pipe ends — as its own closes would have, had it ended without closing them (a
    /// fault, a kill), and the process server records an end it did not report (its parent's
    /// wait then returns). For a process that closed everything and reported its end this
    /// finds nothing.
    fn forget(&self, pid: u64) {
        if let Some(procs) = self.procs
            && let Err(e) = ProcsClient::new(Ppc::new(procs), SPAWNER_HANDLE).reap(pid)
        {
            log!("bootstrap: the process server did not reap process {pid}: {e}");
        }
        if let Some(fs) = self.fs
            && let Err(e) = FsClient::new(Ppc::new(fs), SPAWNER_HANDLE).forget(pid)
        {
            log!("bootstrap: the file server did not forget process {pid}: {e}");
        }
        if let Some(pipes) = self.pipes
            && let Err(e) = PipesClient::new(Ppc::new(pipes), SPAWNER_HANDLE).forget(pid)
        {
            log!("bootstrap: the pipe server did not forget process {pid}: {e}");
        }
    }
}

/// The pid of the process `msg` reports ended, if it is the kernel's EXITED message.
fn ended_process(msg: &k42_abi::kernel::AsyncMessage) -> Option<u64> {
    // EXITED's payload: [status, pid, 0] (`k42_rt::process::exited`).
    let pid = msg.payload[1];
    exited(msg, pid).map(|_| pid)
}

/// The run's argv as the kernel has it: words each followed by a NUL.
fn read_argv(boot: &mut BootClient<KernelPpc>) -> Result<Vec<u8>, Failure> {
    let mut buf = vec![0u8; ARGV_BUFFER];
    loop {
        let full = boot
            .argv(buf.as_mut_ptr() as u64, buf.len() as u64)
            .map_err(|e| format!("cannot read argv: {e}"))?;
        let full = usize::try_from(full).map_err(|_| "argv length out of range")?;
        if full <= buf.len() {
            buf.truncate(full);
            return Ok(buf);
        }
        buf = vec![0u8; full];
    }
}

/// argv\[0\].
fn first_arg(argv: &[u8]) -> Result<&str, Failure> {
    let first = argv.split(|&b| b == 0).next().unwrap_or_default();
    let first = core::str::from_utf8(first).map_err(|_| "argv[0] is not UTF-8")?;
    if first.is_empty() {
        return Err(String::from("argv[0] is empty"));
    }
    Ok(first)
}

/// Whether a file (of any kind) is at `path` in the initramfs.
fn exists(boot: &mut BootClient<KernelPpc>, path: &str) -> bool {
    boot.read_file(path.as_ptr() as u64, path.len() as u64, 0, 0, 0)
        .is_ok()
}

/// What argv\[0\] names, as a shell would find it with `/k42/bin` at the end of `PATH`: a
/// path under `/k42/bin/` is native; any other path is Linux; a bare name is Linux if `PATH`
/// finds it, else native if `/k42/bin` has it, else Linux (whose personality reports it
/// missing, with the shell's status).
fn classify<'a>(boot: &mut BootClient<KernelPpc>, first: &'a str) -> Program<'a> {
    if let Some(name) = first
        .strip_prefix(NATIVE_BIN_DIR)
        .and_then(|r| r.strip_prefix('/'))
    {
        return Program::Native(name);
    }
    if first.contains('/') {
        return Program::Linux;
    }
    let path_var = ENVIRONMENT
        .iter()
        .find_map(|v| v.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let on_path = path_var
        .split(':')
        .filter(|dir| !dir.is_empty())
        .any(|dir| exists(boot, &format!("{dir}/{first}")));
    if !on_path && exists(boot, &format!("{NATIVE_BIN_DIR}/{first}")) {
        Program::Native(first)
    } else {
        Program::Linux
    }
}

/// Spawns and starts the server `program` (SYSTEM: `what` names it in errors) with this task's
/// badge in `arg0` and CommID in `arg1`, and sends it a `Boot` handle with READ in the start-up
/// message: the file server reads the initramfs through it, the process server its memory
/// figures. Each makes its root object for us as `SPAWNER_HANDLE`. Returns its CommID.
fn start_server(
    boot: &mut BootClient<KernelPpc>,
    env: &Env,
    program: &str,
    what: &str,
) -> Result<u64, Failure> {
    let (comm, handle) = boot
        .spawn(
            program.as_ptr() as u64,
            program.len() as u64,
            class::SYSTEM,
            env.pid(),
            env.comm_id,
            k42_kapi::SAME_CPU,
        )
        .map_err(|e| format!("cannot spawn the {what}: {e}"))?;
    let handles = StartHandles {
        console: XHandle::NULL,
        boot: Some(
            meta::give_access(
                &mut boot.transport,
                boot.handle,
                Badge(comm_pid(comm)),
                Rights::READ,
            )
            .map_err(|e| format!("cannot give the {what} the Boot object: {e}"))?,
        ),
    };
    ProcessClient::new(KernelPpc, XHandle::from_word(handle))
        .start()
        .map_err(|e| format!("cannot start the {what}: {e}"))?;
    let sent = kcall::async_send(comm, 0, HANDLES_METHOD, &handles.to_payload());
    if !kcall::is_ok(sent) {
        return Err(format!("cannot send the {what} its handles: status {sent}"));
    }
    Ok(comm)
}

/// Registers the Linux program `pid` with the process server (init's child, root), letting the
/// server end it through the kernel (READ and DESTROY on `process`, the program's kernel
/// `Process`: how SIGKILL is carried out), and gives it the table; returns what the program is
/// told.
fn register(procs: u64, pid: u64, process: XHandle) -> Result<ProcsStart, Failure> {
    let kill = meta::give_access(
        &mut KernelPpc,
        process,
        Badge(comm_pid(procs)),
        Rights::READ.union(Rights::DESTROY),
    )
    .map_err(|e| format!("cannot let the process server end it: {e}"))?;
    let mut table = ProcsClient::new(Ppc::new(procs), SPAWNER_HANDLE);
    let linux_pid = table
        .register(pid, INIT_PID, ROOT_ID, ROOT_ID, kill.to_word())
        .map_err(|e| format!("the process server refused it: {e}"))?;
    let handle = meta::give_access(
        &mut table.transport,
        SPAWNER_HANDLE,
        Badge(pid),
        procs::PROCESS_RIGHTS,
    )
    .map_err(|e| format!("cannot give it the process table: {e}"))?;
    log!("bootstrap: process {pid} is Linux pid {linux_pid}");
    Ok(ProcsStart {
        comm: procs,
        table: handle,
    })
}

/// Lets the console server raise the terminal's signals in the process server (its
/// foreground group: job control) and tells it so.
fn attach_terminal(console: u64, procs: u64) -> Result<(), Failure> {
    let handle = meta::give_access(
        &mut Ppc::new(procs),
        SPAWNER_HANDLE,
        Badge(comm_pid(console)),
        procs::TERMINAL,
    )
    .map_err(|e| format!("cannot give the console server the terminal's signals: {e}"))?;
    ConsoleClient::new(Ppc::new(console), SPAWNER_HANDLE)
        .attach_procs(procs, handle.to_word())
        .map_err(|e| format!("cannot attach the process server to the console: {e}"))
}

/// Lets the process server pass each change of a process's credentials on to the file server
/// (`SET_CREDENTIALS` on its root: `Fs::set_credentials`) and tells it so.
fn attach_files(fs: u64, procs: u64) -> Result<(), Failure> {
    let handle = meta::give_access(
        &mut Ppc::new(fs),
        SPAWNER_HANDLE,
        Badge(comm_pid(procs)),
        fs::SET_CREDENTIALS,
    )
    .map_err(|e| format!("cannot give the process server the file server's credentials: {e}"))?;
    ProcsClient::new(Ppc::new(procs), SPAWNER_HANDLE)
        .attach_fs(fs, handle.to_word())
        .map_err(|e| format!("cannot attach the file server to the process server: {e}"))
}

/// Lets the file server get FIFOs' pipes from the pipe server (`NAMED` on the factory: it
/// asks for the pipe of a FIFO once it has checked the open) and tells it so.
fn attach_pipes(fs: u64, pipes: u64) -> Result<(), Failure> {
    let handle = meta::give_access(
        &mut Ppc::new(pipes),
        SPAWNER_HANDLE,
        Badge(comm_pid(fs)),
        pipes::FILE_SERVER_RIGHTS,
    )
    .map_err(|e| format!("cannot give the file server the pipe factory: {e}"))?;
    FsClient::new(Ppc::new(fs), SPAWNER_HANDLE)
        .attach_pipes(pipes, handle.to_word())
        .map_err(|e| format!("cannot attach the pipe server to the file server: {e}"))
}

/// Gives the Linux program `pid` the pipe factory; returns what the program is told.
fn equip_for_pipes(pipes: u64, pid: u64) -> Result<PipesStart, Failure> {
    let factory = meta::give_access(
        &mut Ppc::new(pipes),
        SPAWNER_HANDLE,
        Badge(pid),
        pipes::PROCESS_RIGHTS,
    )
    .map_err(|e| format!("cannot give it the pipe factory: {e}"))?;
    Ok(PipesStart {
        comm: pipes,
        factory,
    })
}

/// Tells the file server the Linux program `pid`'s credentials (root: the run's program is
/// root on both OSes) and gives it the root directory; returns what the program is told.
fn equip_for_files(fs: u64, pid: u64) -> Result<FsStart, Failure> {
    let mut root = FsClient::new(Ppc::new(fs), SPAWNER_HANDLE);
    root.set_credentials(pid, ROOT_ID, ROOT_ID, ROOT_ID, ROOT_ID)
        .map_err(|e| format!("the file server refused its credentials: {e}"))?;
    let handle = meta::give_access(
        &mut root.transport,
        SPAWNER_HANDLE,
        Badge(pid),
        fs::PROGRAM_ROOT_RIGHTS,
    )
    .map_err(|e| format!("cannot give it the root directory: {e}"))?;
    Ok(FsStart {
        comm: fs,
        root: handle,
    })
}

/// Spawns, equips and starts the console server; returns its CommID.
fn start_console(boot: &mut BootClient<KernelPpc>, own_pid: u64) -> Result<u64, Failure> {
    let (comm, handle) = boot
        .spawn(
            CONSOLE_SERVER.as_ptr() as u64,
            CONSOLE_SERVER.len() as u64,
            class::SYSTEM,
            own_pid,
            0,
            k42_kapi::SAME_CPU,
        )
        .map_err(|e| format!("cannot spawn the console server: {e}"))?;
    let mut server = ProcessClient::new(KernelPpc, XHandle::from_word(handle));
    server
        .grant_io_ports(CONSOLE_UART_PORT, UART_PORTS)
        .map_err(|e| format!("cannot grant the console server COM1: {e}"))?;
    server
        .start()
        .map_err(|e| format!("cannot start the console server: {e}"))?;
    Ok(comm)
}
