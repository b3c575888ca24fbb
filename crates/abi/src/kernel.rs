//! The kernel interface's numbers and layouts: the kernel calls a `syscall` from native K42 code
//! names in `rax`, their registers and status codes, the entry vector a dispatcher is entered
//! at, its soft-interrupt bits, and the dispatcher page the kernel and the dispatcher's
//! user-level scheduler share (with its PPC data area, the bytes a PPC carries beside its
//! words). `docs/kernel-interface.md` explains each call; the kernel (`kernel/src/kcall/`) and
//! the user-level runtime (`user/sys`) both take them from here.
//!
//! Also the one rule of Linux processes: where the Linux personality lies
//! ([`PERSONALITY_BASE`]), which tells a reflected Linux `syscall` ([`Entry::Svc`]) from the
//! personality's own kernel calls.
//!
//! Everything else a program asks of the kernel — create a process, map memory, start it, grant
//! an I/O port — is an object call: a PPC to [`KERNEL_COMM_ID`] with a handle, checked against
//! the kernel's XObject tables exactly as a server checks its own (interfaces in `k42-kapi`).

/// Kernel call numbers (`rax` at `syscall`).
pub mod call {
    /// Synchronous protected procedure call. In: `rdi` target CommID, `rsi` handle word, `rdx`
    /// method word, `r10 r8 r9 r12 r13 r14` the six argument words, `r15` how many bytes of the
    /// caller's [`ppc_data`](super::DispatcherPage::ppc_data) go with the call (0 ..=
    /// [`PPC_DATA_BYTES`](super::PPC_DATA_BYTES); more is `BAD_ARGUMENT`). Out: `rax` a
    /// [`Status`](super::Status); on `OK`, `rdi rsi rdx r10 r8` the server's five reply words and
    /// `r15` how many bytes of reply data are now at the start of the caller's `ppc_data` (0 when
    /// the reply carries none, and on every other status, when `ppc_data` is unchanged). `rbx
    /// rbp rsp` are preserved; the other argument registers (`r9 r12 r13 r14`) are not (zero
    /// after a reply), as `rcx r11` are not (`sysret`): a same-CPU call keeps five words of its
    /// caller, not its frame.
    ///
    /// The kernel copies the bytes page to page: the first `r15` bytes of the caller's
    /// `ppc_data` into the server's before it enters the server at
    /// [`IpcCall`](super::Entry::IpcCall), and the reply's bytes from the server's `ppc_data`
    /// into the caller's at the server's [`PPC_RETURN`]. There is no kernel message buffer, and
    /// neither side ever reads the other's memory. A caller must not change its `ppc_data`
    /// while its call runs (its dispatcher is not running then; another dispatcher of its
    /// process could, and would only garble its own data).
    pub const PPC_CALL: u64 = 0;
    /// A server answers the call it was entered for. In: `rdi` the reply token it was entered
    /// with, `rsi rdx r10 r8 r9` the five reply words, `r12` [`ReturnFlags`](super::return_flags),
    /// `r13` how many bytes at the start of the server's
    /// [`ppc_data`](super::DispatcherPage::ppc_data) go back to the caller (0 ..=
    /// [`PPC_DATA_BYTES`](super::PPC_DATA_BYTES); more is `BAD_ARGUMENT`, and nothing is sent).
    /// The processor goes back to the caller at once; the server continues after this call later
    /// (`rax` = status), or, with `WAIT`, is idle until its next upcall.
    pub const PPC_RETURN: u64 = 1;
    /// Asynchronous message into the target dispatcher's ring. In: `rdi` CommID, `rsi` handle
    /// word, `rdx` method word, `r10 r8 r9` three payload words. Out: `rax` status (`FULL` when
    /// the ring is full: nothing is queued in the kernel).
    pub const ASYNC_SEND: u64 = 2;
    /// Gives up the processor. In: `rdi` [`yield_mode`](super::yield_mode). Returns when the
    /// dispatcher runs again (for `BLOCK`: when a soft-interrupt bit is pending).
    pub const YIELD: u64 = 3;
    /// Gives the rest of this quantum to another runnable dispatcher of the same class. In:
    /// `rdi` its CommID.
    pub const HANDOFF: u64 = 4;
    /// Sets the address the kernel enters this dispatcher at for one [`Entry`](super::Entry)
    /// vector. In: `rdi` vector, `rsi` user address. With `rdi` =
    /// [`SVC_RETURN_STUB`](super::SVC_RETURN_STUB), a pseudo-vector, it sets instead the range
    /// `[rsi, rdx)` of the dispatcher's SVC return stub ([`svc_return`](super::svc_return);
    /// `BAD_ARGUMENT` unless `rsi <= rdx` and both are user addresses).
    pub const SET_ENTRY: u64 = 5;
    /// Returns from an upcall: restores the registers in the dispatcher page's save area and
    /// clears `disabled`, atomically with respect to soft interrupts (one still pending is
    /// delivered at the INTERRUPT entry instead).
    pub const RESUME: u64 = 6;
    /// One-shot timer for this dispatcher. In: `rdi` deadline in ns of the kernel clock (the
    /// dispatcher page has the clock's TSC rate), 0 to cancel. The TIMER soft interrupt fires at
    /// or after it.
    pub const TIMER: u64 = 7;
    /// Returns to the program after a reflected syscall (see [`Entry::Svc`](super::Entry::Svc)):
    /// restores the save area's registers with `rax` replaced by `rdi` (the syscall's result)
    /// and clears `disabled`, atomically with respect to soft interrupts exactly like
    /// [`RESUME`] (a pending soft interrupt is delivered at INTERRUPT instead, with the
    /// program's registers — the result already in `rax` — in the save area and `saved_live` =
    /// 1, as for any interrupted context). Only a Linux process may use it (`NOT_PERMITTED`
    /// otherwise). The SVC return stub ([`svc_return`](super::svc_return)) does the same
    /// without the kernel when no soft interrupt is pending.
    pub const REFLECT_RETURN: u64 = 8;
    /// Number of kernel calls.
    pub const COUNT: u64 = 9;
}

/// What a kernel call reports in `rax`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Status {
    /// Done.
    Ok = 0,
    /// No kernel call has this number.
    NoSuchCall = 1,
    /// An argument is out of range (a vector, an address, flags).
    BadArgument = 2,
    /// No dispatcher has this CommID.
    NoSuchTarget = 3,
    /// The target dispatcher is disabled or busy: try again after the IPC_RETRY soft interrupt.
    Retry = 4,
    /// The target's async ring is full.
    Full = 5,
    /// A PPC return with a token that names no caller waiting on this dispatcher.
    NotWaiting = 6,
    /// The call is reserved and not available to this process.
    NotPermitted = 7,
    /// A handoff to a dispatcher that cannot run now (blocked, or of another class).
    NotRunnable = 8,
}

impl Status {
    /// The status a word carries, if it is one.
    pub const fn from_word(word: u64) -> Option<Self> {
        Some(match word {
            0 => Self::Ok,
            1 => Self::NoSuchCall,
            2 => Self::BadArgument,
            3 => Self::NoSuchTarget,
            4 => Self::Retry,
            5 => Self::Full,
            6 => Self::NotWaiting,
            7 => Self::NotPermitted,
            8 => Self::NotRunnable,
            _ => return None,
        })
    }
}

/// `rdi` of [`call::YIELD`].
pub mod yield_mode {
    /// Stay runnable; let others of the class run first.
    pub const YIELD: u64 = 0;
    /// Sleep until a soft-interrupt bit is pending (returns at once if one already is).
    pub const BLOCK: u64 = 1;
    /// Nothing left to run: drop this context and sleep; the dispatcher is next entered at an
    /// upcall (INTERRUPT when a soft-interrupt bit comes, IPC_CALL when a PPC does). Never
    /// returns.
    pub const IDLE: u64 = 2;
}

/// `r12` of [`call::PPC_RETURN`].
pub mod return_flags {
    /// The server has nothing else to run: it becomes idle (enabled, blocked) and is next
    /// entered at an upcall, instead of continuing after its return call.
    pub const WAIT: u64 = 1;
}

/// The kernel's own CommID: object calls on kernel objects go here.
pub const KERNEL_COMM_ID: u64 = 0;
/// Bits of a CommID below the process id: the dispatcher's index in its process.
pub const COMM_DISPATCHER_BITS: u32 = 8;

/// The CommID of dispatcher `index` of process `pid`.
pub const fn comm_id(pid: u64, index: u64) -> u64 {
    (pid << COMM_DISPATCHER_BITS) | index
}

/// The process id (the badge) a CommID belongs to.
pub const fn comm_pid(comm: u64) -> u64 {
    comm >> COMM_DISPATCHER_BITS
}

/// Where the kernel enters a dispatcher (K42's entry vector).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Entry {
    /// First start, and after a hard preemption: the user-level scheduler picks a thread.
    Run = 0,
    /// Soft interrupts are pending: `rdi` has the bits; the interrupted registers are in the
    /// save area.
    Interrupt = 1,
    /// A fault the dispatcher must handle (bad access, #UD, #GP, …): `trap` in the page says
    /// which; the faulting registers are in the save area.
    Trap = 2,
    /// A page fault the kernel is resolving without the dispatcher (out-of-core): run another
    /// thread; completion arrives as the PGFLT_DONE soft interrupt.
    PageFault = 3,
    /// A PPC arrives: `rdi` badge, `rsi` handle word, `rdx` method word, `r10 r8 r9 r12 r13 r14`
    /// the arguments, `r15` how many bytes the caller sent (they are at the start of this
    /// dispatcher's [`ppc_data`](DispatcherPage::ppc_data), 0 ..= [`PPC_DATA_BYTES`]), `rax` the
    /// reply token for [`call::PPC_RETURN`], `rsp` the page's
    /// [`call_stack`](DispatcherPage::call_stack) if nonzero, else its `upcall_stack`. Every
    /// other register is 0. The bytes are the
    /// server's to copy out before anything else uses its `ppc_data` (its own calls, its reply).
    IpcCall = 4,
    /// Reserved: an asynchronous PPC's reply.
    IpcReturn = 5,
    /// Reserved: a PPC that failed after the call was made.
    IpcFault = 6,
    /// A reflected Linux `syscall` (Linux processes only; see [`PERSONALITY_BASE`]): the kernel
    /// saves the program's registers in the page's `saved` — `rip` the address after the
    /// `syscall` instruction, `rflags`, `rax` the Linux syscall number, `rcx` and `r11` as the
    /// CPU left them (that is, `rip` and `rflags`), every other register as it was — sets
    /// `saved_live` = 0 and `disabled`, and enters here with `rsp` = `upcall_stack` and every
    /// other general register 0 (`rcx` and `r11` aside, which hold the entry's `rip` and
    /// `rflags` as at every upcall; the FPU/SSE registers and the FS base are left as the
    /// program had them). The personality runs the call and goes back with
    /// [`call::REFLECT_RETURN`], or without a kernel call through its return stub
    /// ([`svc_return`]). A Linux `syscall` while the dispatcher is disabled, or with no
    /// SVC entry or no upcall stack set, kills the process (status 128 + SIGSYS = 159).
    Svc = 7,
}

/// Number of entry vectors.
pub const ENTRY_COUNT: usize = 8;

/// [`call::SET_ENTRY`]'s pseudo-vector for the SVC return stub ([`svc_return`]): not a place
/// the kernel enters, but the stub's address range.
pub const SVC_RETURN_STUB: u64 = ENTRY_COUNT as u64;

/// Returning from a reflected syscall without a kernel call (K42's way): an alternative to
/// [`call::REFLECT_RETURN`] that a dispatcher may use once it told the kernel where its return
/// stub lies (SET_ENTRY with [`SVC_RETURN_STUB`]). The stub is entered with `disabled` set and
/// the save area holding the program's context, the result in `rax`; it touches its own stack
/// while still disabled, then clears `disabled`, and if `pending` is nonzero sets `disabled`
/// again and makes the REFLECT_RETURN call (the kernel delivers the soft interrupts); otherwise
/// it loads RFLAGS (as the kernel would resume them: [`USER_RFLAGS_MASK`], [`USER_RFLAGS_SET`]),
/// the general registers and `rsp` from the save area and jumps to its `rip`, never writing the
/// save area once `disabled` is clear.
///
/// The kernel's part: an interrupt or exception from user mode that finds the dispatcher
/// enabled with `rip` in the stub's range is taken as one of the program at its syscall return
/// point — the registers the kernel keeps, saves for an upcall or reports at TRAP are the save
/// area's, never the stub's half-loaded ones (the vector and error code stay the event's). So
/// everything the kernel does with an interrupted dispatcher sees the program, as if the stub
/// had finished. Outside that window (`disabled` set) the stub is ordinary code of the
/// dispatcher. The range is per dispatcher and reaches only the dispatcher's own registers.
pub mod svc_return {}

/// RFLAGS bits a user context may choose: the arithmetic flags, the direction flag and the
/// alignment-check flag. IOPL, NT, TF, VM and the rest are the kernel's: it keeps only these
/// of any context it resumes.
pub const USER_RFLAGS_MASK: u64 = 0x0000_0cd5 | (1 << 18);
/// RFLAGS bits every user context runs with: IF (interrupts on) and the always-one bit 1.
pub const USER_RFLAGS_SET: u64 = (1 << 9) | (1 << 1);

impl Entry {
    /// The vector a number names.
    pub const fn from_word(word: u64) -> Option<Self> {
        Some(match word {
            0 => Self::Run,
            1 => Self::Interrupt,
            2 => Self::Trap,
            3 => Self::PageFault,
            4 => Self::IpcCall,
            5 => Self::IpcReturn,
            6 => Self::IpcFault,
            7 => Self::Svc,
            _ => return None,
        })
    }
}

/// Soft-interrupt bits in the dispatcher page's `pending` word.
pub mod soft {
    /// The kernel wants the processor back: save the running thread and yield.
    pub const PREEMPT: u64 = 1 << 0;
    /// Messages wait in the async ring.
    pub const ASYNC: u64 = 1 << 1;
    /// An out-of-core page fault finished.
    pub const PAGE_FAULT_DONE: u64 = 1 << 2;
    /// The dispatcher's timer fired.
    pub const TIMER: u64 = 1 << 3;
    /// A dispatcher this one got `Retry` from may be called again.
    pub const IPC_RETRY: u64 = 1 << 4;
}

/// Registers of an interrupted context, as the kernel saves them in the dispatcher page.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct SavedRegs {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
}

/// What a TRAP upcall reports.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrapInfo {
    /// CPU exception vector (14 for a page fault).
    pub vector: u64,
    /// The exception's error code (0 where the CPU gives none).
    pub error_code: u64,
    /// The faulting address, for page faults.
    pub address: u64,
}

/// One async message.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AsyncMessage {
    /// The sender's badge, stamped by the kernel.
    pub badge: u64,
    /// Handle word the sender named.
    pub handle: u64,
    /// Method word.
    pub method: u64,
    /// Payload.
    pub payload: [u64; ASYNC_PAYLOAD_WORDS],
}

/// Payload words of an async message.
pub const ASYNC_PAYLOAD_WORDS: usize = 3;
/// Slots in a dispatcher's async ring (a power of two: indices wrap with a mask).
pub const ASYNC_RING_SLOTS: usize = 32;

/// The page a dispatcher shares with the kernel, mapped read-write at [`DISPATCHER_PAGE_BASE`] +
/// index × 4 KiB in its process; user GS base points at it while the dispatcher runs.
///
/// Written by the kernel: `this`, `comm_id`, `cpu`, `tsc_per_ms`, `trap`, `saved` (at upcalls),
/// `ring` slots and `ring_tail`, bits into `pending` (atomically), and `ppc_data` (a call's
/// bytes at the IPC_CALL upcall, a reply's into a caller waiting in PPC_CALL). Written by the
/// dispatcher: `disabled` (the kernel sets it at every upcall, the dispatcher clears it through
/// [`call::RESUME`], [`call::REFLECT_RETURN`] or by storing 0, as the [`svc_return`] stub
/// does), `pending` (clearing bits it handled), `upcall_stack`, `call_stack`, `saved` (before
/// RESUME), `ring_head`, `ppc_data` (before its PPC_CALL or PPC_RETURN). The kernel reads every
/// word it uses again each time and trusts none of them beyond their own dispatcher.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DispatcherPage {
    /// The page's own user address.
    pub this: u64,
    /// Nonzero: do not enter me at an upcall (a critical section of the user-level scheduler).
    pub disabled: u64,
    /// Soft-interrupt bits ([`soft`]).
    pub pending: u64,
    /// This dispatcher's CommID.
    pub comm_id: u64,
    /// The CPU it runs on.
    pub cpu: u64,
    /// The stack pointer every upcall starts with (IPC_CALL: unless `call_stack` is set): the
    /// kernel enters at an entry vector with `rsp` = this word (the runtime sets it before it
    /// enables upcalls).
    pub upcall_stack: u64,
    /// The stack pointer the IPC_CALL upcall starts with when nonzero (`upcall_stack` when 0):
    /// a server's runtime names here the stack of the thread that will serve its next call, so
    /// the call starts on it without a switch from the upcall stack. The kernel only reads it.
    pub call_stack: u64,
    /// TSC ticks per millisecond of the kernel clock.
    pub tsc_per_ms: u64,
    /// The TSC value the kernel clock counts from: now in ns = (rdtsc − boot_tsc) × 10⁶ /
    /// tsc_per_ms.
    pub boot_tsc: u64,
    /// The wall clock at `boot_tsc`, in ns since the Unix epoch (UTC), from the CMOS clock the
    /// kernel read at boot; 0 when it could not be read. Wall time now = this + the kernel
    /// clock.
    pub boot_epoch_ns: u64,
    /// The CPU time this dispatcher has had, in ns of the kernel clock, up to when it last
    /// stopped being the dispatcher its CPU's policy runs. A same-CPU PPC's server runs on its
    /// caller's time, so a call counts as the caller's (as a Linux system call counts as its
    /// caller's). The kernel writes it; the dispatcher reads it.
    pub run_ns: u64,
    /// The kernel clock (ns, never 0) when it last became the dispatcher its CPU's policy runs,
    /// or 0 while it is not: its CPU time now is `run_ns` plus the time since then.
    pub run_since: u64,
    /// The last TRAP's details.
    pub trap: TrapInfo,
    /// The interrupted registers at INTERRUPT, TRAP and PGFLT upcalls, and the Linux program's
    /// at SVC; RESUME (REFLECT_RETURN, after SVC) restores them.
    pub saved: SavedRegs,
    /// 1 when the kernel moved a live context (preempted, or blocked in YIELD) into `saved` at
    /// this upcall; the runtime takes it (to resume it later, e.g. as a thread) and stores 0.
    pub saved_live: u64,
    /// Next ring slot the dispatcher will read (it advances this).
    pub ring_head: u64,
    /// Next ring slot the kernel will write (it advances this).
    pub ring_tail: u64,
    /// The async ring.
    pub ring: [AsyncMessage; ASYNC_RING_SLOTS],
    /// The PPC data area: bytes a call or a reply carries beside its words (DESIGN §2.3's PPC
    /// page, one per dispatcher). [`call::PPC_CALL`]'s `r15` and [`call::PPC_RETURN`]'s `r13`
    /// say how many of its first bytes go; the kernel copies them into the other side's area.
    pub ppc_data: [u8; PPC_DATA_BYTES],
}

/// Bytes of a dispatcher page's PPC data area ([`DispatcherPage::ppc_data`]): the most one PPC
/// carries each way beside its words. The largest power of two the page has room for.
pub const PPC_DATA_BYTES: usize = 2048;

/// Argument words of a PPC ([`call::PPC_CALL`]'s `r10 r8 r9 r12 r13 r14`).
pub const PPC_ARG_WORDS: usize = 6;

/// A client transport that carries bytes in the PPC data area ([`DispatcherPage::ppc_data`])
/// beside a call's words: `k42_rt::Ppc` over the real kernel call, or a test's direct transport
/// on the host. Interface crates send and receive bytes through it around their generated,
/// word-only client stubs without depending on the runtime (e.g. the console's `Writer`).
///
/// `H` and `R` are the interface layer's handle and reply types (`k42_rights::XHandle` and
/// `k42_rights::wire::Reply`: this crate depends on neither).
pub trait PpcDataTransport<H, R> {
    /// One call of `method` on `handle` with `args`, `send` (at most [`PPC_DATA_BYTES`]) in the
    /// data area: the reply, and how many bytes of the reply's data were copied to the front of
    /// `recv` (bytes past `recv.len()` are dropped: pass [`PPC_DATA_BYTES`] for all of them).
    fn call_with_data(
        &mut self,
        handle: H,
        method: u64,
        args: &[u64; PPC_ARG_WORDS],
        send: &[u8],
        recv: &mut [u8],
    ) -> (R, usize);
}

/// Where dispatcher pages go in every process (dispatcher `i` at `+ i × 4 KiB`).
pub const DISPATCHER_PAGE_BASE: u64 = 0x0000_7f00_0000_0000;

/// Where the Linux personality (`/k42/bin/linux`, a native program) is linked in a Linux
/// process: its image lies in `[PERSONALITY_BASE, PERSONALITY_LIMIT)`, and the kernel refuses
/// to load one that does not. In a Linux process a `syscall` whose return RIP (the address
/// after the instruction) lies outside that range is program code's and is reflected to the
/// dispatcher's [`Entry::Svc`]; one from inside it is the personality's own kernel call.
///
/// Why just below 2 GiB: native code is built with the target's `kernel` code model and static
/// relocations (`.cargo/config.toml`), whose absolute references reach only addresses below
/// 2 GiB, so the personality must be linked there too; and Linux leaves this range to the
/// program only once its brk heap has grown past 1.75 GiB (non-PIE programs load at 4 MiB,
/// PIEs and mmap go high), as a vDSO-like mapping should.
pub const PERSONALITY_BASE: u64 = 0x7000_0000;
/// One past the end of the personality's range (see [`PERSONALITY_BASE`]).
pub const PERSONALITY_LIMIT: u64 = 0x8000_0000;

const _: () = assert!(PERSONALITY_BASE < PERSONALITY_LIMIT);
const _: () = assert!(PERSONALITY_LIMIT <= DISPATCHER_PAGE_BASE);
const _: () = assert!(PERSONALITY_LIMIT <= 1 << 31);
const _: () = assert!(NATIVE_LOAD_BASE < PERSONALITY_BASE);

/// The range the user-level runtime (`k42_rt::layout`) keeps for itself in every process: its
/// heap, upcall and thread stacks, and a native program's own fixed mappings. With the native
/// image (or the personality's), the dispatcher pages and the initial stack, it is all the
/// memory native Rust code refers to; in a Linux process everything else is the program's
/// (`k42_sys::foreign` copies only there).
pub const RUNTIME_BASE: u64 = 0x0000_1000_0000_0000;
/// One past the end of the runtime's range (see [`RUNTIME_BASE`]).
pub const RUNTIME_LIMIT: u64 = 0x0000_4000_0000_0000;

const _: () = assert!(PERSONALITY_LIMIT <= RUNTIME_BASE);
const _: () = assert!(RUNTIME_LIMIT <= DISPATCHER_PAGE_BASE);

/// Whether `rip` (a `syscall`'s return address) lies in the personality's range: in a Linux
/// process such a `syscall` is a kernel call, any other is a Linux one and is reflected.
pub const fn is_personality_rip(rip: u64) -> bool {
    PERSONALITY_BASE <= rip && rip < PERSONALITY_LIMIT
}

/// Byte offsets in [`DispatcherPage`], for assembly and for the kernel's atomic accesses.
pub mod page_offset {
    use super::DispatcherPage;
    use core::mem::offset_of;
    /// `this`.
    pub const THIS: usize = offset_of!(DispatcherPage, this);
    /// `disabled`.
    pub const DISABLED: usize = offset_of!(DispatcherPage, disabled);
    /// `pending`.
    pub const PENDING: usize = offset_of!(DispatcherPage, pending);
    /// `upcall_stack`.
    pub const UPCALL_STACK: usize = offset_of!(DispatcherPage, upcall_stack);
    /// `call_stack`.
    pub const CALL_STACK: usize = offset_of!(DispatcherPage, call_stack);
    /// `run_ns`.
    pub const RUN_NS: usize = offset_of!(DispatcherPage, run_ns);
    /// `run_since`.
    pub const RUN_SINCE: usize = offset_of!(DispatcherPage, run_since);
    /// `saved`.
    pub const SAVED: usize = offset_of!(DispatcherPage, saved);
    /// `saved_live`.
    pub const SAVED_LIVE: usize = offset_of!(DispatcherPage, saved_live);
    /// `ring_head`.
    pub const RING_HEAD: usize = offset_of!(DispatcherPage, ring_head);
    /// `ring_tail`.
    pub const RING_TAIL: usize = offset_of!(DispatcherPage, ring_tail);
    /// `ring`.
    pub const RING: usize = offset_of!(DispatcherPage, ring);
    /// `ppc_data`.
    pub const PPC_DATA: usize = offset_of!(DispatcherPage, ppc_data);
}

const _: () = assert!(core::mem::size_of::<DispatcherPage>() <= 4096);
// The data area is the largest power of two that fits: twice as much would not.
const _: () = assert!(PPC_DATA_BYTES.is_power_of_two());
const _: () = assert!(page_offset::PPC_DATA + 2 * PPC_DATA_BYTES > 4096);
// Word-aligned, so the kernel and the runtime may copy it in words.
const _: () = assert!(page_offset::PPC_DATA.is_multiple_of(8));
const _: () = assert!(ASYNC_RING_SLOTS.is_power_of_two());

/// The first entry of a process's first dispatcher, at the ELF entry point: the registers.
///
/// `rdi` the process's handle on itself (`k42_kapi::Process`, READ|WRITE|DESTROY), `rsi` its
/// handle on its memory (`k42_kapi::Memory`, WRITE), `rdx` its CommID, `rcx` and `r8` the two
/// words its spawner passed, `r9` its dispatcher page, `rsp` the top of an initial stack of
/// [`INITIAL_STACK_SIZE`] bytes the kernel mapped below [`INITIAL_STACK_TOP`] (with an unmapped
/// page below it), `rbx rbp r10–r15 rax` 0. A dispatcher added later enters at the `rip` and
/// `rsp` its adder chose with `rdi` = its dispatcher page and `rsi` = its CommID.
pub mod first_entry {}

/// Top of the initial stack of a process's first dispatcher.
pub const INITIAL_STACK_TOP: u64 = 0x0000_7ff0_0000_0000;
/// Size of that stack (demand-paged).
pub const INITIAL_STACK_SIZE: u64 = 256 * 1024;

/// Native K42 programs in the initramfs: `/k42/bin/NAME`.
pub const NATIVE_BIN_DIR: &str = "/k42/bin";
/// Where native programs are linked (the user linker script's base).
pub const NATIVE_LOAD_BASE: u64 = 0x40_0000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personality_range_boundaries() {
        assert!(!is_personality_rip(PERSONALITY_BASE - 1));
        assert!(is_personality_rip(PERSONALITY_BASE));
        assert!(is_personality_rip(PERSONALITY_LIMIT - 1));
        assert!(!is_personality_rip(PERSONALITY_LIMIT));
        assert!(!is_personality_rip(0));
        assert!(!is_personality_rip(NATIVE_LOAD_BASE));
        assert!(!is_personality_rip(DISPATCHER_PAGE_BASE));
        assert!(!is_personality_rip(u64::MAX));
    }

    #[test]
    fn svc_is_an_entry() {
        assert_eq!(Entry::from_word(Entry::Svc as u64), Some(Entry::Svc));
    }
}
