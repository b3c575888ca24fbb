//! The Linux personality (DESIGN §2.6, issue #4): a native K42 program the kernel maps into every
//! Linux process at `PERSONALITY_BASE` (`Boot::spawn_linux`). It loads the Linux program into its
//! own process (`exec.rs`), then runs it as one of its threads (`k42_rt::program`); every
//! `syscall` the program makes is reflected by the kernel to this code's SVC entry, served here
//! (`table.rs`, one file per family under `calls/`) in the program's own address space, and
//! answered with REFLECT_RETURN.
//!
//! Start-up, as the bootstrap arranges it for the run's program (`user/bin/bootstrap`):
//! `arg0` = the console server's CommID, `arg1` = the bootstrap's; the start-up message brings
//! the console handle and a `Boot` handle (READ), through which the program file and the run's
//! argv are read from the initramfs; a second message says where the file server is and gives
//! the root directory (`k42_ifaces::start::FsStart`, `files.rs`), a third where the process
//! server is (`ProcsStart`; `state.rs` fetches this process's ids from it), a fourth where the
//! pipe server is (`PipesStart`, `calls/pipe.rs`).
#![no_std]
#![no_main]

extern crate alloc;

mod calls;
mod exec;
mod fd;
mod file_bytes;
mod files;
mod inbox;
mod interp;
mod job;
mod kcounters;
mod layout;
mod mem;
mod procfs;
mod procs;
mod procself;
mod procsys;
mod signals;
mod state;
mod table;
mod thread_signals;
mod threads;
mod uaccess;
mod waiters;

use k42_abi::runner::STATUS_NOT_FOUND;
use k42_ifaces::start::{FsStart, PipesStart, ProcsStart, StartHandles};
use k42_rt::{Env, log, program, ring};

k42_rt::entry!(main);

/// How long to wait for each of the bootstrap's server messages after the handles (they are
/// sent at once; the bound only keeps a broken start from hanging).
const FS_MESSAGE_WAIT_NS: u64 = 5_000_000_000;

fn main(env: Env) -> u32 {
    let message = ring::wait_message_where(
        |msg| StartHandles::from_message(msg, env.arg1).is_some(),
        |msg| log!("linux: ignored a message before the start-up one: {msg:?}"),
    );
    let Some(handles) = StartHandles::from_message(&message, env.arg1) else {
        return u32::from(STATUS_NOT_FOUND);
    };
    let Some(boot) = handles.boot else {
        log!("linux: no Boot handle to read the program with");
        return u32::from(STATUS_NOT_FOUND);
    };
    let files = ring::wait_message_where_until(
        k42_rt::clock::now_ns().saturating_add(FS_MESSAGE_WAIT_NS),
        |msg| FsStart::from_message(msg, env.arg1).is_some(),
        |msg| log!("linux: ignored a message before the file server's: {msg:?}"),
    )
    .and_then(|msg| FsStart::from_message(&msg, env.arg1))
    .map(files::Files::new);
    if files.is_none() {
        log!("linux: no file server: only the console is open");
    }
    let procs = ring::wait_message_where_until(
        k42_rt::clock::now_ns().saturating_add(FS_MESSAGE_WAIT_NS),
        |msg| ProcsStart::from_message(msg, env.arg1).is_some(),
        |msg| log!("linux: ignored a message before the process server's: {msg:?}"),
    )
    .and_then(|msg| ProcsStart::from_message(&msg, env.arg1));
    let pipes = ring::wait_message_where_until(
        k42_rt::clock::now_ns().saturating_add(FS_MESSAGE_WAIT_NS),
        |msg| PipesStart::from_message(msg, env.arg1).is_some(),
        |msg| log!("linux: ignored a message before the pipe server's: {msg:?}"),
    )
    .and_then(|msg| PipesStart::from_message(&msg, env.arg1));
    match pipes {
        Some(pipes) => calls::pipe::started(pipes),
        None => log!("linux: no pipe server: pipe(2) fails"),
    }
    state::init(&env, handles.console, boot, files, procs);
    threads::only(state::get(), state::get().ids.pid, 0);
    // Children's ends wake this dispatcher (`procs.rs`), before the program can fork.
    crate::procs::started(k42_rt::sys::page::Page::current().comm_id());
    let linux = state::get();
    let argv = match exec::run_argv(linux) {
        Ok(argv) => argv,
        Err(why) => {
            log!("linux: cannot read the run's argv: {why}");
            return u32::from(STATUS_NOT_FOUND);
        }
    };
    let regs = match exec::exec(linux, &argv) {
        Ok(regs) => regs,
        Err(e) => {
            log!("linux: cannot start the program: {e}");
            return e.exit_status();
        }
    };
    if let Err(e) = program::install(table::serve, table::fast) {
        log!("linux: cannot install the SVC entry: {e:?}");
        return u32::from(STATUS_NOT_FOUND);
    }
    calls::fault::install();
    program::set_resume_hook(signals::on_resume);
    program::run(regs)
}
