//! The native test program: tests that run in ring 3 against the real kernel — kernel object
//! calls and their rights checks, memory, PPC to a user-level server (same CPU and across
//! CPUs, words and bulk data), the runtime's user-level threads, strict scheduling classes,
//! the file server's credentials by badge, and stopping and continuing processes through the
//! kernel (job control) — each printed on the
//! program console in the shared result format (`k42_abi::testfmt`: `test NAME ... ok` or
//! `... FAILED: why`), as the in-kernel tests (`kernel/src/ktest/`) print theirs, so the xtask's
//! one parser reads both. Exits 0 when every case that ran passed (and one did), 1 otherwise.
//!
//! Started by the bootstrap (`k42_ifaces::start`): `arg0` = the console server, `arg1` = the
//! bootstrap, whose start-up message brings the console handle and a `Boot` handle (for helper
//! processes). Words after argv\[0\] filter the cases by substring, like `ktest`'s.
#![no_std]
#![no_main]

extern crate alloc;

mod ctx;
mod data_cases;
mod fs_cases;
mod image_cases;
mod kernel_cases;
mod memory_cases;
mod pipes_cases;
mod ppc_cases;
mod sched_cases;
mod stop_cases;
mod thread_cases;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use k42_abi::testfmt::{CASE_PREFIX, FAILED, OK, SEPARATOR, SKIPPED};
use k42_ifaces::console::{ConsoleClient, Writer};
use k42_ifaces::start::StartHandles;
use k42_kapi::BootClient;
use k42_rt::{Env, KernelPpc, Ppc, log, ring};

use ctx::{Case, Ctx, NotPassed};

k42_rt::entry!(main);

/// Exit status when the start-up handles never came or the console is unusable.
const NO_CONSOLE: u32 = 2;
/// Bytes of the buffer argv is read into (filters are short).
const ARGV_BUFFER: usize = 1024;

/// Every case, in the order they run (the PPC and data cases share one echo server, ended by
/// `process.child_exit_reported`; the later cases spawn helpers of their own).
fn cases() -> impl Iterator<Item = &'static Case> {
    kernel_cases::CASES
        .iter()
        .chain(memory_cases::CASES)
        .chain(image_cases::CASES)
        .chain(data_cases::CASES)
        .chain(ppc_cases::CASES)
        .chain(thread_cases::CASES)
        .chain(sched_cases::CASES)
        .chain(fs_cases::CASES)
        .chain(pipes_cases::CASES)
        .chain(stop_cases::CASES)
}

fn main(env: Env) -> u32 {
    if let Err(e) = k42_rt::trap::report_traps() {
        log!("utest: no TRAP reporting ({e:?}); faults end the process unexplained");
    }
    let message = ring::wait_message_where(
        |msg| StartHandles::from_message(msg, env.arg1).is_some(),
        |msg| log!("utest: ignored a message before the start-up one: {msg:?}"),
    );
    let Some(handles) = StartHandles::from_message(&message, env.arg1) else {
        return NO_CONSOLE;
    };
    let mut out = Writer::new(ConsoleClient::new(Ppc::new(env.arg0), handles.console));
    let mut ctx = Ctx::new(env, handles.boot.map(|h| BootClient::new(KernelPpc, h)));
    let filters = filters(&mut ctx);

    let (mut passed, mut failed) = (0u32, 0u32);
    for case in cases() {
        if !filters.is_empty() && !filters.iter().any(|f| case.name.contains(f.as_str())) {
            continue;
        }
        let line = match (case.run)(&mut ctx) {
            Ok(()) => {
                passed += 1;
                alloc::format!("{CASE_PREFIX}{}{SEPARATOR}{OK}\n", case.name)
            }
            Err(NotPassed::Skipped(why)) => {
                alloc::format!("{CASE_PREFIX}{}{SEPARATOR}{SKIPPED}: {why}\n", case.name)
            }
            Err(NotPassed::Failed(why)) => {
                failed += 1;
                alloc::format!("{CASE_PREFIX}{}{SEPARATOR}{FAILED}: {why}\n", case.name)
            }
        };
        if out.write_str(&line).is_err() {
            log!(
                "utest: the console refused a result line: {}",
                line.trim_end()
            );
            return NO_CONSOLE;
        }
    }
    let _ = out.flush();
    log!("utest: {passed} passed, {failed} failed");
    u32::from(failed > 0 || passed == 0)
}

/// The words after argv\[0\] (none without a `Boot` handle to read argv through).
fn filters(ctx: &mut Ctx) -> Vec<String> {
    let Some(boot) = ctx.boot.as_mut() else {
        return Vec::new();
    };
    let mut buf = alloc::vec![0u8; ARGV_BUFFER];
    let Ok(full) = boot.argv(buf.as_mut_ptr() as u64, buf.len() as u64) else {
        return Vec::new();
    };
    buf.truncate(usize::try_from(full).unwrap_or(usize::MAX).min(ARGV_BUFFER));
    buf.split(|&b| b == 0)
        .skip(1)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect()
}
