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
//! argv are read from the initramfs until the file server exists.
#![no_std]
#![no_main]

extern crate alloc;

mod calls;
mod exec;
mod fd;
mod layout;
mod mem;
mod state;
mod table;
mod uaccess;

use k42_abi::runner::STATUS_NOT_FOUND;
use k42_ifaces::start::StartHandles;
use k42_rt::{Env, log, program, ring};

k42_rt::entry!(main);

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
    state::init(&env, handles.console, boot);
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
    if let Err(e) = program::install(table::serve) {
        log!("linux: cannot install the SVC entry: {e:?}");
        return u32::from(STATUS_NOT_FOUND);
    }
    calls::fault::install();
    program::run(regs)
}
