//! The native program entry point `_start` (the ELF entry `user/link.ld` names) and the first
//! entry's registers, as `k42_abi::kernel::first_entry` documents them:
//!
//! | register | value                                                     |
//! |----------|-----------------------------------------------------------|
//! | `rdi`    | the process's handle on itself (`k42_kapi::Process`)      |
//! | `rsi`    | its handle on its memory (`k42_kapi::Memory`)             |
//! | `rdx`    | its CommID                                                |
//! | `rcx`    | the spawner's first word (`arg0`)                         |
//! | `r8`     | the spawner's second word (`arg1`)                        |
//! | `r9`     | its dispatcher page                                       |
//! | `rsp`    | the top of the initial stack (`INITIAL_STACK_TOP`)        |
//! | others   | 0                                                         |
//!
//! Those six happen to be exactly the SysV integer argument registers in order, so `_start` only
//! clears `rbp` (the end of the frame-pointer chain), aligns the stack and calls
//! `first_entry` with them untouched. That builds a [`FirstEntry`] and calls the program's
//! Rust entry, the symbol `__k42_user_main` that `k42_rt::entry!` defines in the program crate
//! (as `k42_hal::entry!` does for the kernel's `kmain`), so no program needs a linkage attribute
//! of its own.

use core::arch::global_asm;

use crate::page::Page;

/// What the kernel passes a process's first dispatcher at its first entry.
#[derive(Clone, Copy, Debug)]
pub struct FirstEntry {
    /// The process's handle word on itself (READ, WRITE, DESTROY).
    pub process: u64,
    /// The process's handle word on its memory (WRITE).
    pub memory: u64,
    /// The first dispatcher's CommID.
    pub comm_id: u64,
    /// The spawner's first word.
    pub arg0: u64,
    /// The spawner's second word.
    pub arg1: u64,
    /// The first dispatcher's page.
    pub page: Page,
}

unsafe extern "C" {
    /// The ELF entry below; never called from Rust, only its address is taken.
    fn _start() -> !;
}

/// The address of `_start`, where a forked child's first dispatcher enters like a spawned
/// process's (`k42_rt::fork`).
pub fn entry_point() -> u64 {
    _start as *const () as usize as u64
}

unsafe extern "Rust" {
    /// The program's Rust entry: defined by `k42_rt::entry!` in the program crate.
    fn __k42_user_main(first: FirstEntry) -> !;
}

// `_start`: the ELF entry. The kernel enters with rsp = INITIAL_STACK_TOP, which the ABI makes
// 16-byte aligned; `and` keeps the SysV rule (rsp ≡ 0 mod 16 at a `call`) even if it were not.
// `ud2` marks the impossible return.
global_asm!(
    ".pushsection .text._start, \"ax\", @progbits",
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "    xor ebp, ebp",
    "    and rsp, -16",
    "    call {first_entry}",
    "    ud2",
    ".size _start, . - _start",
    ".popsection",
    first_entry = sym first_entry,
);

/// The first entry in Rust: the registers `_start` passed on, in SysV argument order.
extern "C" fn first_entry(
    process: u64,
    memory: u64,
    comm_id: u64,
    arg0: u64,
    arg1: u64,
    page: u64,
) -> ! {
    // SAFETY: `page` is the kernel's `r9` at the first entry: this dispatcher's page, mapped
    // read-write for the life of the process (`k42_abi::kernel::first_entry`).
    let page = unsafe { Page::from_addr(page) };
    crate::vm::set_own_memory(memory);
    // The kernel's initial stack is the first thread's (`thread`).
    crate::thread::adopt_initial_stack();
    let first = FirstEntry {
        process,
        memory,
        comm_id,
        arg0,
        arg1,
        page,
    };
    // SAFETY: `__k42_user_main` is defined only by `k42_rt::entry!`, with exactly this
    // signature (it names this `FirstEntry` type); a program without it fails to link.
    unsafe { __k42_user_main(first) }
}

/// What a dispatcher added to a running process (`Process::add_dispatcher`) runs at its first
/// entry: its page and the top of the stack it was given.
pub type DispatcherMain = fn(Page, u64) -> !;

/// The runtime's [`DispatcherMain`], set once before it adds a dispatcher.
static DISPATCHER_MAIN: spin::Once<DispatcherMain> = spin::Once::new();

/// Sets what added dispatchers run (the first setting stays).
pub fn set_dispatcher_main(main: DispatcherMain) {
    DISPATCHER_MAIN.call_once(|| main);
}

unsafe extern "C" {
    /// The entry of an added dispatcher below; never called from Rust, only its address is
    /// taken.
    fn _start_dispatcher() -> !;
}

/// Where an added dispatcher enters (`Process::add_dispatcher`'s `rip`).
pub fn dispatcher_entry_point() -> u64 {
    _start_dispatcher as *const () as usize as u64
}

// `_start_dispatcher`: an added dispatcher's first entry, with `rdi` = its page, `rsi` = its
// CommID and `rsp` = the stack top its adder chose, which goes on as the third argument so the
// runtime can tell which of the stacks it prepared this is.
global_asm!(
    ".pushsection .text._start_dispatcher, \"ax\", @progbits",
    ".globl _start_dispatcher",
    ".type _start_dispatcher, @function",
    "_start_dispatcher:",
    "    xor ebp, ebp",
    "    mov rdx, rsp",
    "    and rsp, -16",
    "    call {dispatcher_entry}",
    "    ud2",
    ".size _start_dispatcher, . - _start_dispatcher",
    ".popsection",
    dispatcher_entry = sym dispatcher_entry,
);

/// An added dispatcher's first entry in Rust: runs the runtime's [`DispatcherMain`]. Without
/// one (nothing in this process adds dispatchers through the runtime) it has nothing to run and
/// blocks for good.
extern "C" fn dispatcher_entry(page: u64, _comm_id: u64, stack_top: u64) -> ! {
    // SAFETY: `page` is the kernel's `rdi` at an added dispatcher's first entry: its page,
    // mapped read-write for the life of the process (`Process::add_dispatcher`).
    let page = unsafe { Page::from_addr(page) };
    match DISPATCHER_MAIN.get() {
        Some(main) => main(page, stack_top),
        None => crate::kcall::block_for_good(page),
    }
}
