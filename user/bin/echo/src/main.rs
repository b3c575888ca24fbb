//! The echo server: the far end of the native PPC tests (`user/bin/utest`). Spawned by a test
//! with the test's badge in `arg0` (and `echo::ON_EVERY_CPU` in `arg1` to serve on every CPU,
//! not only the one it was spawned on), it makes one `Echo` object for it (`SPAWNER_HANDLE`, with
//! `echo::SPAWNER_RIGHTS`) and serves it: `echo` returns the digest of its six arguments,
//! `whoami` the badge the kernel stamped on the call, `cpu` the CPU it runs on, `hold` blocks
//! the call on a lock another server thread holds for a while, `privileged` needs a right
//! the spawner was not given, `echo_data` answers bytes in the PPC data area with their count,
//! digest and a predictable reply of data (through `k42_rt::server`'s data accessors),
//! `bounce` sends them straight back, and `busy` keeps the server busy after its reply, so calls meanwhile get `Retry`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::convert::Infallible;

use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::echo::{self, Echo, EchoServer};
use k42_rights::{Badge, Rights, XObjectTable};
use k42_rt::sync::FairBLock;
use k42_rt::sys::page::Page;
use k42_rt::{Env, clock, log, server, thread};

k42_rt::entry!(main);

/// Exit status when the echo object cannot be made as agreed.
const SETUP_FAILED: u32 = 1;
/// Nanoseconds per millisecond and per microsecond.
const NS_PER_MS: u64 = 1_000_000;
const NS_PER_US: u64 = 1000;

/// The lock `hold` makes its call wait for (it counts the holders that let go of it).
static HELD: FairBLock<u64> = FairBLock::new(0);

/// The echo object (stateless).
#[derive(Clone, Copy)]
struct Echoer;

impl Echo for Echoer {
    fn echo(
        &self,
        _caller: Badge,
        a: u64,
        b: u64,
        c: u64,
        d: u64,
        e: u64,
        f: u64,
    ) -> Result<(u64, u64, u64, u64), Infallible> {
        Ok(echo::digest([a, b, c, d, e, f]))
    }

    fn whoami(&self, caller: Badge) -> Result<u64, Infallible> {
        Ok(caller.0)
    }

    fn privileged(&mut self, caller: Badge) -> Result<(), Infallible> {
        log!("echo: privileged call by {caller}: the rights check let it through");
        Ok(())
    }

    fn cpu(&self, _caller: Badge) -> Result<u64, Infallible> {
        Ok(Page::current().cpu())
    }

    fn hold(&self, _caller: Badge, ms: u64) -> Result<u64, Infallible> {
        let ms = ms.min(echo::MAX_HOLD_MS);
        // Detached: it finishes after the reply, on the server's own time.
        let _holder = thread::spawn("holder", move || {
            {
                let mut held = HELD.lock();
                thread::sleep(ms * NS_PER_MS);
                *held += 1;
            }
            // Still busy after letting go: the reply then goes without WAIT.
            thread::yield_now();
            thread::yield_now();
        });
        while !HELD.is_locked() {
            thread::yield_now();
        }
        let start = clock::now_ns();
        drop(HELD.lock());
        Ok((clock::now_ns() - start) / NS_PER_US)
    }

    fn echo_data(&self, _caller: Badge, reply_len: u64) -> Result<(u64, u64), Infallible> {
        let received = server::take_call_data();
        let reply: Vec<u8> = (0..echo::reply_len(reply_len))
            .map(|i| echo::reply_byte(&received, i))
            .collect();
        if let Err(e) = server::set_reply_data(reply) {
            log!("echo: reply data refused: {e:?}");
        }
        Ok((received.len() as u64, echo::data_digest(&received)))
    }

    fn bounce(&self, _caller: Badge) -> Result<u64, Infallible> {
        let data = server::take_call_data();
        let len = data.len() as u64;
        if let Err(e) = server::set_reply_data(data) {
            log!("echo: reply data refused: {e:?}");
        }
        Ok(len)
    }

    fn busy(&self, _caller: Badge, ms: u64) -> Result<(), Infallible> {
        let until = clock::now_ns() + ms.min(echo::MAX_HOLD_MS) * NS_PER_MS;
        // Detached, and always ready: the reply goes without WAIT, and the dispatcher stays
        // runnable (so not idle, refusing calls) until the thread ends.
        let _busy = thread::spawn("busy", move || {
            while clock::now_ns() < until {
                thread::yield_now();
            }
        });
        Ok(())
    }
}

fn main(env: Env) -> u32 {
    let spawner = Badge(env.arg0);
    let mut table = XObjectTable::new();
    match table.insert(Echoer, spawner, echo::SPAWNER_RIGHTS, Rights::NONE) {
        Ok(handle) if handle == SPAWNER_HANDLE => {}
        other => {
            log!("echo: the spawner's object is {other:?}, not {SPAWNER_HANDLE}");
            return SETUP_FAILED;
        }
    }
    let cpus = match env.arg1 {
        echo::ON_EVERY_CPU => server::Cpus::Every,
        _ => server::Cpus::This,
    };
    server::serve_table_on::<EchoServer<Echoer>>(cpus, table)
}
