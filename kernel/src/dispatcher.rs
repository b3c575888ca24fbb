//! Dispatchers: what the kernel schedules (DESIGN §2.4). A process has one or more; each lives
//! on one CPU, which alone runs it, and shares one page with the kernel (`k42_abi::kernel::
//! DispatcherPage`: disabled flag, soft-interrupt bits, save area, async ring).
//!
//! Two halves: [`Shared`] is what any CPU may touch (the page — through atomics and the ring
//! lock, and the PPC data area, copied frame to frame by the PPC path while both dispatchers
//! are off the CPU or in the kernel — and the names), found through the CommID registry; [`Dispatcher`] is the CPU-owned
//! rest (registers, run state, entry vector, PPC links), kept in that CPU's `cpu::Cpu`.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;
use core::sync::atomic::Ordering;

use k42_abi::kernel::{
    ASYNC_PAYLOAD_WORDS, ASYNC_RING_SLOTS, AsyncMessage, DispatcherPage, ENTRY_COUNT, Entry,
    SavedRegs, Status, TrapInfo, page_offset, soft,
};
use k42_hal::user::{
    FpuState, KeptAcrossCall, PageFrame, SpaceRoot, UserFrame, UserFsBase, UserGsBase,
};
use k42_sched::Class;
use spin::{Mutex, RwLock};

use crate::process::Process;

/// Bytes of one word in the page.
const WORD: usize = 8;

/// The part of a dispatcher every CPU may reach.
pub struct Shared {
    /// Its CommID.
    pub comm: u64,
    /// The CPU that runs it.
    pub cpu: usize,
    /// Its process.
    pub process: Arc<Process>,
    /// The page it shares with the kernel (mapped in its process where its `THIS` word says);
    /// `None` only while being dropped.
    page: Option<PageFrame>,
    /// Serializes producers of the async ring (senders on any CPU).
    ring: Mutex<()>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The page may be unmapped from the process already (it exited) or never was; either
        // way nothing maps it once the last reference goes.
        if let Some(page) = self.page.take() {
            crate::mm::with_frames(|f| page.free(f));
        }
    }
}

impl Shared {
    /// A dispatcher's shared half, with its page initialized.
    pub fn new(
        comm: u64,
        cpu: usize,
        process: Arc<Process>,
        page: PageFrame,
        page_addr: u64,
    ) -> Self {
        let s = Self {
            comm,
            cpu,
            process,
            page: Some(page),
            ring: Mutex::new(()),
        };
        s.store(page_offset::THIS, page_addr);
        s.store(core::mem::offset_of!(DispatcherPage, comm_id), comm);
        s.store(core::mem::offset_of!(DispatcherPage, cpu), cpu as u64);
        s.store(
            core::mem::offset_of!(DispatcherPage, tsc_per_ms),
            k42_hal::time::tsc_per_ms(),
        );
        s.store(
            core::mem::offset_of!(DispatcherPage, boot_tsc),
            k42_hal::time::boot_tsc(),
        );
        s.store(
            core::mem::offset_of!(DispatcherPage, boot_epoch_ns),
            crate::wall::boot_epoch_ns(),
        );
        s
    }

    /// The page frame (to map it).
    #[inline]
    pub fn page(&self) -> &PageFrame {
        self.page
            .as_ref()
            .expect("the page lives as long as the dispatcher")
    }

    /// The badge of calls from this dispatcher: its process id.
    #[inline]
    pub fn badge(&self) -> u64 {
        self.process.pid
    }

    #[inline]
    fn load(&self, offset: usize) -> u64 {
        self.page().atomic(offset).load(Ordering::Acquire)
    }

    #[inline]
    fn store(&self, offset: usize, value: u64) {
        self.page().atomic(offset).store(value, Ordering::Release);
    }

    /// Whether the dispatcher asked not to be entered at upcalls.
    #[inline]
    pub fn disabled(&self) -> bool {
        self.load(page_offset::DISABLED) != 0
    }

    /// Sets or clears the disabled flag.
    #[inline]
    pub fn set_disabled(&self, disabled: bool) {
        self.store(page_offset::DISABLED, u64::from(disabled));
    }

    /// Adds `ns` to the CPU time the page shows and marks the dispatcher as no longer running
    /// on its CPU's time (`switch::account`).
    pub fn charge(&self, ns: u64) {
        let ran = self.load(page_offset::RUN_NS).saturating_add(ns);
        self.store(page_offset::RUN_NS, ran);
        self.store(page_offset::RUN_SINCE, 0);
    }

    /// Marks the dispatcher as running on its CPU's time since `now` (kernel-clock ns, made
    /// nonzero: 0 means not running).
    pub fn charge_from(&self, now: u64) {
        self.store(page_offset::RUN_SINCE, now.max(1));
    }

    /// The pending soft-interrupt bits.
    #[inline]
    pub fn pending(&self) -> u64 {
        self.load(page_offset::PENDING)
    }

    /// Posts soft-interrupt `bits` (the caller then wakes the dispatcher on its CPU).
    pub fn post(&self, bits: u64) {
        self.page()
            .atomic(page_offset::PENDING)
            .fetch_or(bits, Ordering::AcqRel);
    }

    /// The stack pointer upcalls start with.
    #[inline]
    pub fn upcall_stack(&self) -> u64 {
        self.load(page_offset::UPCALL_STACK)
    }

    /// The stack pointer the IPC_CALL upcall starts with: the stack the runtime named for its
    /// next call's thread, or the upcall stack if it named none.
    #[inline]
    pub fn call_stack(&self) -> u64 {
        match self.load(page_offset::CALL_STACK) {
            0 => self.upcall_stack(),
            top => top,
        }
    }

    /// The stack pointer the upcall at `entry` starts with.
    #[inline]
    pub fn stack_for(&self, entry: Entry) -> u64 {
        match entry {
            Entry::IpcCall => self.call_stack(),
            _ => self.upcall_stack(),
        }
    }

    /// Puts `frame` in the save area (and marks it live), for an upcall that interrupts it.
    pub fn save_context(&self, frame: &UserFrame) {
        self.save(frame, true);
    }

    /// Puts a Linux program's registers at its `syscall` in the save area, not marked live: the
    /// SVC upcall returns to them with REFLECT_RETURN, nobody else takes them.
    pub fn save_syscall(&self, frame: &UserFrame) {
        self.save(frame, false);
    }

    fn save(&self, frame: &UserFrame, live: bool) {
        let area = self.page().atomics::<SAVED_WORDS>(page_offset::SAVED);
        for (slot, w) in area.iter().zip(saved_words(frame)) {
            slot.store(w, Ordering::Release);
        }
        self.store(page_offset::SAVED_LIVE, u64::from(live));
    }

    /// The registers in the save area, for RESUME (`make_safe` applies on the way out).
    pub fn saved_context(&self) -> UserFrame {
        let area = self.page().atomics::<SAVED_WORDS>(page_offset::SAVED);
        frame_of_saved(&area.each_ref().map(|w| w.load(Ordering::Acquire)))
    }

    /// Records what a TRAP upcall reports.
    pub fn set_trap(&self, info: TrapInfo) {
        let base = core::mem::offset_of!(DispatcherPage, trap);
        self.store(base, info.vector);
        self.store(base + WORD, info.error_code);
        self.store(base + 2 * WORD, info.address);
    }

    /// Copies the first `len` bytes (at most `PPC_DATA_BYTES`, which the PPC path checked) of
    /// this dispatcher's PPC data area into `to`'s, frame to frame through the direct map: a
    /// call's bytes into its server, a reply's into its caller. Nothing for 0 bytes.
    pub fn copy_ppc_data(&self, to: &Shared, len: usize) {
        if len != 0 {
            to.page()
                .copy_range_from(self.page(), page_offset::PPC_DATA, len);
        }
    }

    /// Appends `msg` to the async ring and posts ASYNC; `Full` leaves everything unchanged.
    pub fn push_async(&self, msg: &AsyncMessage) -> Result<(), Status> {
        let _producers = self.ring.lock();
        let tail = self.load(page_offset::RING_TAIL);
        let head = self.load(page_offset::RING_HEAD);
        // The head is the dispatcher's to write; a value it corrupted reads as a full ring.
        if tail.wrapping_sub(head) >= ASYNC_RING_SLOTS as u64 {
            return Err(Status::Full);
        }
        let slot = page_offset::RING
            + (tail as usize % ASYNC_RING_SLOTS) * core::mem::size_of::<AsyncMessage>();
        let mut words = [0u64; 3 + ASYNC_PAYLOAD_WORDS];
        words[0] = msg.badge;
        words[1] = msg.handle;
        words[2] = msg.method;
        words[3..].copy_from_slice(&msg.payload);
        for (i, w) in words.iter().enumerate() {
            self.store(slot + i * WORD, *w);
        }
        self.store(page_offset::RING_TAIL, tail.wrapping_add(1));
        drop(_producers);
        self.post(soft::ASYNC);
        Ok(())
    }
}

/// Words of `SavedRegs`.
const SAVED_WORDS: usize = core::mem::size_of::<SavedRegs>() / WORD;

fn saved_words(f: &UserFrame) -> [u64; SAVED_WORDS] {
    [
        f.rax, f.rbx, f.rcx, f.rdx, f.rsi, f.rdi, f.rbp, f.rsp, f.r8, f.r9, f.r10, f.r11, f.r12,
        f.r13, f.r14, f.r15, f.rip, f.rflags,
    ]
}

fn frame_of_saved(w: &[u64; SAVED_WORDS]) -> UserFrame {
    let mut f = UserFrame::new_user(w[16], w[7]);
    (f.rax, f.rbx, f.rcx, f.rdx, f.rsi, f.rdi, f.rbp) = (w[0], w[1], w[2], w[3], w[4], w[5], w[6]);
    (f.r8, f.r9, f.r10, f.r11, f.r12, f.r13, f.r14, f.r15) =
        (w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]);
    f.rflags = w[17];
    f
}

/// Whether a dispatcher can be given the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// Made, not started.
    Stopped,
    /// Runnable (the policy decides when).
    Runnable,
    /// Sleeping in YIELD(BLOCK) until a soft-interrupt bit is pending; its registers are kept.
    Blocked,
    /// Nothing to run, no registers kept: next entered at an upcall.
    Idle,
    /// Waiting for the reply to a PPC to a dispatcher on another CPU (blocked in the policy;
    /// soft interrupts do not wake it: the reply does).
    AwaitingReply,
    /// Waiting, after its `Process::stop` call, until every other CPU has stopped the process
    /// there (blocked in the policy; soft interrupts do not wake it: the last acknowledgement,
    /// by mail, does — `jobstop.rs`).
    AwaitingAcks,
}

/// The registers the kernel keeps for a dispatcher that is not on the CPU.
#[derive(Clone, Copy, Debug)]
pub enum Context {
    /// None (idle, or on the CPU now).
    None,
    /// Stopped in a kernel call of its own (or about to start): resume it exactly, the call's
    /// result already in its registers.
    Call(UserFrame),
    /// Interrupted (preempted by the kernel): resume it exactly, unless it is enabled and soft
    /// interrupts are pending, when it is entered at INTERRUPT with these in its save area.
    Preempted(UserFrame),
    /// In a same-CPU PPC the fast path made (`kcall/fast.rs`): only what the call keeps of its
    /// registers; the reply makes the rest. The general path sees it as [`Context::Call`]
    /// ([`Context::call_frame_mut`]).
    Ppc(KeptAcrossCall),
}

impl Context {
    /// Makes a fast-path caller's kept registers ([`Context::Ppc`]) the whole frame of a
    /// dispatcher stopped in a kernel call ([`Context::Call`]), for the general path, which
    /// reads and writes frames. Any other context stays as it is.
    pub fn unfold_ppc(&mut self) {
        if let Context::Ppc(kept) = self {
            *self = Context::Call(kept.to_frame());
        }
    }

    /// The registers of a dispatcher stopped in a kernel call, to change (a PPC's reply or
    /// error goes there), a fast-path caller's unfolded first ([`Context::unfold_ppc`]).
    pub fn call_frame_mut(&mut self) -> Option<&mut UserFrame> {
        self.unfold_ppc();
        match self {
            Context::Call(f) => Some(f),
            _ => None,
        }
    }
}

/// The call a dispatcher is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Serving {
    /// The caller's CommID (the reply token).
    pub caller: u64,
    /// The caller is on another CPU: the call came by mail, the server runs on its own time
    /// (runnable in this CPU's policy), and the reply goes back by mail.
    pub remote: bool,
}

/// The CPU-owned half of a dispatcher.
pub struct Dispatcher {
    /// The half every CPU may reach.
    pub shared: Arc<Shared>,
    /// Its priority class.
    pub class: Class,
    /// Whether it can run.
    pub run: Run,
    /// Its registers while off the CPU.
    pub context: Context,
    /// Its FPU/SSE registers while off the CPU.
    pub fpu: FpuState,
    /// Its FS base (user thread-local storage) while off the CPU.
    pub fs_base: UserFsBase,
    /// Its GS base: where its page is mapped in its process, checked canonical once.
    pub gs_base: UserGsBase,
    /// Its process's address space's PML4, taken when it was made (a process's space is set
    /// before its dispatchers are made, and outlives them): loaded with no lock taken
    /// (`switch::load_space`).
    pub root: SpaceRoot,
    /// Whether its process is a Linux process (`Process::linux`, which never changes), kept
    /// here for the PPC fast path's reflection test.
    pub linux: bool,
    /// Where each upcall enters it (0: not set).
    pub entries: [u64; ENTRY_COUNT],
    /// Where its SVC return stub lies (`k42_abi::kernel::svc_return`; empty: none): an
    /// interruption there while it is enabled is one of the program at its return point.
    pub svc_return_stub: Range<u64>,
    /// The dispatcher it waits on for a PPC reply.
    pub calling: Option<u64>,
    /// The caller whose PPC it is running.
    pub serving: Option<Serving>,
    /// Its one-shot timer (kernel-clock ns).
    pub timer: Option<u64>,
    /// Dispatchers that got `Retry` from it, to notify when it can take calls again.
    pub retry_waiters: Vec<u64>,
    /// Its process is stopped by job control (`Process::stop`, `jobstop.rs`): not the same as
    /// [`Run::Stopped`] (never started), which it leaves as it is. See [`Dispatcher::held`].
    pub job_stopped: bool,
    /// While [`Run::AwaitingAcks`]: the CPUs that have not yet said they stopped the process.
    pub acks: usize,
    /// While [`Run::AwaitingAcks`] or [`Run::AwaitingReply`]: the policy's dispatcher blocked
    /// meanwhile — itself, or the caller whose same-CPU PPC it serves (whose time it runs on).
    pub wait_head: u64,
}

impl Dispatcher {
    /// A stopped dispatcher that will start with `first` (its first-entry registers).
    /// Sets `rsi` of the registers a dispatcher that has not run yet starts with.
    pub fn set_first_rsi(&mut self, word: u64) {
        if let Context::Call(first) = &mut self.context {
            first.rsi = word;
        }
    }

    pub fn new(
        shared: Arc<Shared>,
        class: Class,
        first: UserFrame,
        root: SpaceRoot,
        gs_base: UserGsBase,
    ) -> Self {
        let linux = shared.process.linux;
        Self {
            shared,
            class,
            run: Run::Stopped,
            context: Context::Call(first),
            fpu: FpuState::default(),
            fs_base: UserFsBase::default(),
            gs_base,
            root,
            linux,
            entries: [0; ENTRY_COUNT],
            svc_return_stub: 0..0,
            calling: None,
            serving: None,
            timer: None,
            retry_waiters: Vec::new(),
            job_stopped: false,
            acks: 0,
            wait_head: 0,
        }
    }

    /// Sets the first argument register (`rcx`) of a dispatcher that has not started: how the
    /// kernel hands the bootstrap its Boot handle, made after the process.
    pub fn set_first_arg(&mut self, word: u64) {
        if let (Run::Stopped, Context::Call(f)) = (self.run, &mut self.context) {
            f.rcx = word;
        }
    }

    /// Its CommID.
    pub fn comm(&self) -> u64 {
        self.shared.comm
    }

    /// Whether it must be kept off the CPU: its process is stopped ([`Dispatcher::job_stopped`])
    /// and it is in no PPC. A stopped dispatcher still in one — serving a call, or the caller
    /// whose time a same-CPU server runs on — is left to finish it, and is held from the
    /// moment the call returns (`kcall/ppc.rs`). While held, the policy sees it blocked,
    /// whatever its [`Run`]; `Run` goes on saying what it will be once continued.
    pub fn held(&self) -> bool {
        self.job_stopped && self.serving.is_none() && self.calling.is_none()
    }
}

/// Every live dispatcher by CommID, for senders on any CPU. Readers far outnumber writers
/// (made and destroyed with processes).
static REGISTRY: RwLock<BTreeMap<u64, Arc<Shared>>> = RwLock::new(BTreeMap::new());

/// Registers a dispatcher's shared half.
pub fn register(shared: Arc<Shared>) {
    REGISTRY.write().insert(shared.comm, shared);
}

/// Removes a dispatcher from the registry.
pub fn unregister(comm: u64) -> Option<Arc<Shared>> {
    REGISTRY.write().remove(&comm)
}

/// The dispatcher with this CommID, if it lives.
pub fn lookup(comm: u64) -> Option<Arc<Shared>> {
    REGISTRY.read().get(&comm).cloned()
}
