//! k42-rt — the user-level runtime every native K42 program links (DESIGN §2.4: "the runtime
//! linked into every process"), in safe Rust over `k42-sys` (the one user crate with `unsafe`).
//!
//! What a program gets:
//! - [`entry!`]: `k42_rt::entry!(main)` with `fn main(env: Env) -> u32`; the status `main`
//!   returns goes to `Process::exit`;
//! - [`Env`]: the first entry's handles and words, with clients for the kernel's objects
//!   ([`Env::process`], [`Env::memory`], [`boot`]);
//! - transports ([`ppc`]): [`KernelPpc`] for kernel objects, [`Ppc`] for servers (with the retry
//!   protocol, and up to `PPC_DATA_BYTES` each way in the dispatcher page's PPC data area:
//!   [`Ppc::call_with_data`]);
//! - a global allocator over a growing, demand-paged heap (`heap.rs`), so `alloc` works;
//! - [`log!`]: a formatted line into the kernel log under the process's name;
//! - a panic handler that logs the message and location and exits with [`PANIC_STATUS`];
//! - user-level threads ([`thread`]: spawn and join, park and unpark, yield, sleep) run by a
//!   scheduler per dispatcher (`sched.rs`), and the spin-then-block queue lock
//!   [`sync::FairBLock`];
//! - async messages from the dispatcher's ring ([`ring`]), waited for by blocking the thread;
//! - more dispatchers, one on each CPU ([`dispatchers`]), each with its own scheduler;
//! - the PPC server loop ([`server::serve`]), on every CPU, each call on a thread, with the
//!   call's data and the reply's ([`server::take_call_data`], [`server::set_reply_data`]),
//!   and fresh memory ([`memory`]);
//! - foreign program code on a thread ([`program`]): the Linux personality runs the Linux
//!   program as one of its threads and serves its reflected syscalls;
//! - [`fork`]: a copy-on-write copy of the process that starts in a function of the caller's;
//! - the kernel clock ([`clock`]) and the fault reporter ([`trap`]), which names a thread that
//!   overflowed its stack.
//!
//! Before `main` runs, [`start`] makes the running code the thread `main` of the first
//! dispatcher and installs its INTERRUPT and TRAP entries (on an upcall stack mapped for it):
//! from then on the dispatcher is the thread scheduler's. The address-space layout the runtime
//! reserves is in [`layout`].
#![no_std]

extern crate alloc;

pub mod clock;
pub mod dispatchers;
mod env;
pub mod fork;
mod heap;
pub mod layout;
pub mod log;
pub mod memory;
mod panic;
pub mod ppc;
pub mod process;
pub mod program;
pub mod ring;
mod sched;
pub mod server;
pub mod sync;
pub mod thread;
pub mod trap;
mod upcall_stack;

pub use env::{Env, boot};
pub use panic::PANIC_STATUS;
pub use ppc::{KernelPpc, Ppc, WithData};

/// The layers below, for programs that need their types (`sys::page::Page`, the interfaces).
pub use k42_kapi as kapi;
pub use k42_rights as rights;
pub use k42_sys as sys;

/// Declares the program's entry: `k42_rt::entry!(main)` with `fn main(env: k42_rt::Env) -> u32`.
///
/// Defines `__k42_user_main`, the symbol `k42-sys`'s `_start` calls with the first entry's
/// registers (the linkage attribute lives in this macro, so program crates need none).
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        extern "Rust" fn __k42_user_main(first: $crate::sys::entry::FirstEntry) -> ! {
            let main: fn($crate::Env) -> u32 = $main;
            $crate::start(first, main)
        }
    };
}

/// Runs the program: records the process's handle (for logs, panics and exit), starts the thread
/// runtime, calls `main` on the thread `main` and exits with its status (whatever other threads
/// are still running). Called only by the code [`entry!`] generates.
#[doc(hidden)]
pub fn start(first: k42_sys::entry::FirstEntry, main: fn(Env) -> u32) -> ! {
    process::set_own(first.process);
    if let Some(child) = fork::take_child() {
        if let Err(e) = sched::init_forked() {
            panic!("cannot start the thread runtime of a fork child: {e}");
        }
        let status = child(Env::from_first_entry(&first));
        process::exit(status)
    }
    if let Err(e) = sched::init() {
        panic!("cannot start the thread runtime: {e}");
    }
    let status = main(Env::from_first_entry(&first));
    process::exit(status)
}
