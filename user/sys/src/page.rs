//! The dispatcher page (`k42_abi::kernel::DispatcherPage`): the one page the kernel and this
//! dispatcher's user-level scheduler share. The kernel writes it from any CPU at any time (soft
//! interrupt bits, async messages), so every word is read and written here as an atomic, never
//! through a `&DispatcherPage`; the layout comes from the ABI's `page_offset` and `offset_of!`.
//!
//! Who writes what is the ABI's rule: the kernel writes `this comm_id cpu tsc_per_ms boot_tsc
//! boot_epoch_ns trap saved(at upcalls) ring(slots) ring_tail` and sets bits in `pending`; the dispatcher
//! writes `disabled upcall_stack saved(before RESUME) saved_live ring_head` and clears bits in
//! `pending`; both write `ppc_data`, the PPC data area (the kernel at the IPC_CALL upcall and
//! into a caller waiting in PPC_CALL, the dispatcher before its PPC_CALL or PPC_RETURN). The
//! data area is the one exception to "every word is an atomic": it is copied in and out with
//! plain memory copies ([`Page::write_ppc_data`], [`Page::read_ppc_data`]), which is sound
//! because nothing uses it concurrently — the kernel copies it only while the dispatcher is
//! stopped, and only the dispatcher's own code (checked) uses it, one thread at a time. The
//! dispatcher's threads share it, so the runtime fills it, calls and reads the reply with
//! upcalls disabled. The async ring is single-producer (the kernel, serialized by its own lock) and
//! single-consumer (this dispatcher): the kernel writes slot `ring_tail % ASYNC_RING_SLOTS` and
//! then advances `ring_tail`; [`Page::pop_async`] reads slot `ring_head % ASYNC_RING_SLOTS` and
//! then advances `ring_head`, which frees the slot.
//!
//! While a dispatcher runs, its user GS base points at its page (the kernel loads it at every
//! switch), so `gs:[0]` — the `this` word — names the page: [`Page::current`].

use core::arch::asm;
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicU64, Ordering};

use k42_abi::kernel::{
    ASYNC_RING_SLOTS, AsyncMessage, DispatcherPage, PPC_DATA_BYTES, SavedRegs, TrapInfo,
    page_offset,
};

/// Bytes of one page word.
const WORD: usize = size_of::<u64>();

/// A dispatcher page: its user address. Copy it freely; it stays valid for as long as the
/// dispatcher exists, which for the pages this crate hands out is the process's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    base: usize,
}

impl Page {
    /// The page at `addr`.
    ///
    /// # Safety
    ///
    /// `addr` must be the address of this process's dispatcher page as the kernel gave it (first
    /// entry `r9`, or `rdi` for a later dispatcher): mapped read-write, 8-byte aligned, and
    /// mapped for the rest of the process's life.
    pub const unsafe fn from_addr(addr: u64) -> Self {
        Self {
            base: addr as usize,
        }
    }

    /// The page of the dispatcher running this code, read from `gs:[0]` (the page's `this`).
    ///
    /// ABI assumption: the kernel loads user GS base with the page address whenever it runs a
    /// dispatcher, including at upcalls, and `this` is the word at offset 0.
    ///
    /// The answer never changes under running code: the kernel writes `this` once, before the
    /// dispatcher first runs, and code never changes dispatcher (a thread lives and dies on its
    /// own, and each dispatcher has its own upcall stack). So the read is `pure, nomem`: the
    /// compiler may keep one read for all of a function's uses instead of one read per use.
    #[inline]
    pub fn current() -> Self {
        const _: () = assert!(page_offset::THIS == 0);
        let this: u64;
        // SAFETY: reads one word at gs:[0], which the kernel maps for every running dispatcher
        // (the ABI's contract above); the read has no other effect. `nomem` is sound because
        // the word is constant for the running code (above): no write it could observe exists.
        unsafe {
            asm!(
                "mov {this}, qword ptr gs:[0]",
                this = out(reg) this,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        // SAFETY: `this` is the page's own address as the kernel wrote it (ABI contract above),
        // which satisfies `from_addr`'s requirements.
        unsafe { Self::from_addr(this) }
    }

    /// The page's user address.
    #[inline]
    pub fn addr(self) -> u64 {
        self.base as u64
    }

    /// The word at byte `offset` of the page.
    #[inline]
    fn word(self, offset: usize) -> &'static AtomicU64 {
        assert!(offset + WORD <= size_of::<DispatcherPage>() && offset.is_multiple_of(WORD));
        // SAFETY: `base` is a mapped, aligned page that outlives every use (constructor
        // contract); `offset` is an aligned word inside `DispatcherPage` (checked above). The
        // kernel accesses these words atomically too (`kernel/src/dispatcher.rs`), so every
        // access to them is atomic.
        unsafe { &*((self.base + offset) as *const AtomicU64) }
    }

    #[inline]
    fn load(self, offset: usize) -> u64 {
        self.word(offset).load(Ordering::Acquire)
    }

    #[inline]
    fn store(self, offset: usize, value: u64) {
        self.word(offset).store(value, Ordering::Release);
    }

    /// Whether upcalls are disabled (the kernel sets this at every upcall).
    #[inline]
    pub fn disabled(self) -> bool {
        self.load(page_offset::DISABLED) != 0
    }

    /// Disables or enables upcalls. Enabling by a plain store may leave a soft interrupt that
    /// arrived meanwhile undelivered until the next kernel entry; RESUME, PPC_RETURN(WAIT) and
    /// YIELD(IDLE) enable atomically with respect to soft interrupts.
    #[inline]
    pub fn set_disabled(self, disabled: bool) {
        self.store(page_offset::DISABLED, u64::from(disabled));
    }

    /// The pending soft-interrupt bits (`k42_abi::kernel::soft`).
    #[inline]
    pub fn pending(self) -> u64 {
        self.load(page_offset::PENDING)
    }

    /// Clears the bits of `mask` in `pending` and returns those of them that were set.
    #[inline]
    pub fn take_pending(self, mask: u64) -> u64 {
        self.word(page_offset::PENDING)
            .fetch_and(!mask, Ordering::AcqRel)
            & mask
    }

    /// This dispatcher's CommID.
    #[inline]
    pub fn comm_id(self) -> u64 {
        self.load(offset_of!(DispatcherPage, comm_id))
    }

    /// The CPU this dispatcher runs on.
    #[inline]
    pub fn cpu(self) -> u64 {
        self.load(offset_of!(DispatcherPage, cpu))
    }

    /// The CPU time this dispatcher had up to when it last stopped running on its own time,
    /// and when it began running on it since (0: it is not), both in kernel-clock ns
    /// (`DispatcherPage::run_ns`, `run_since`). The kernel updates them when it switches the
    /// dispatcher out or in, which may fall between two reads: `k42_rt::clock::cpu_ns` reads
    /// them consistently.
    #[inline]
    pub fn run_time(self) -> (u64, u64) {
        (
            self.load(offset_of!(DispatcherPage, run_ns)),
            self.load(offset_of!(DispatcherPage, run_since)),
        )
    }

    /// TSC ticks per millisecond of the kernel clock.
    #[inline]
    pub fn tsc_per_ms(self) -> u64 {
        self.load(offset_of!(DispatcherPage, tsc_per_ms))
    }

    /// The TSC value the kernel clock counts from.
    #[inline]
    pub fn boot_tsc(self) -> u64 {
        self.load(offset_of!(DispatcherPage, boot_tsc))
    }

    /// The wall clock at `boot_tsc`, ns since the Unix epoch (0: unknown).
    #[inline]
    pub fn boot_epoch_ns(self) -> u64 {
        self.load(offset_of!(DispatcherPage, boot_epoch_ns))
    }

    /// The stack pointer every upcall starts with.
    #[inline]
    pub fn upcall_stack(self) -> u64 {
        self.load(page_offset::UPCALL_STACK)
    }

    /// Sets the upcall stack (before installing any entry vector).
    pub fn set_upcall_stack(self, top: u64) {
        self.store(page_offset::UPCALL_STACK, top);
    }

    /// The stack the next IPC_CALL upcall begins on (0: the upcall stack).
    #[inline]
    pub fn call_stack(self) -> u64 {
        self.load(page_offset::CALL_STACK)
    }

    /// Names the stack the next IPC_CALL upcall begins on (its top; 0: the upcall stack). Set
    /// it only with upcalls disabled, through `thread::rest_on_running_stack` and its ends
    /// (`thread` module, "Resting"), which keep it nonzero exactly while the dispatcher rests.
    #[inline]
    pub fn set_call_stack(self, top: u64) {
        self.store(page_offset::CALL_STACK, top);
    }

    /// What the last TRAP upcall reported.
    pub fn trap(self) -> TrapInfo {
        let base = offset_of!(DispatcherPage, trap);
        TrapInfo {
            vector: self.load(base + offset_of!(TrapInfo, vector)),
            error_code: self.load(base + offset_of!(TrapInfo, error_code)),
            address: self.load(base + offset_of!(TrapInfo, address)),
        }
    }

    /// One register of the save area, at its offset in [`SavedRegs`] (e.g.
    /// `offset_of!(SavedRegs, rax)`): the SVC fast path reads the number and the return address
    /// alone.
    #[inline]
    pub fn saved_word(self, field: usize) -> u64 {
        assert!(
            field.is_multiple_of(size_of::<u64>()) && field < size_of::<SavedRegs>(),
            "not a register of the save area"
        );
        self.load(page_offset::SAVED + field)
    }

    /// The save area: the registers an INTERRUPT, TRAP or PGFLT upcall interrupted (or that the
    /// kernel moved there from a blocked context; see [`Page::saved_live`]).
    pub fn saved(self) -> SavedRegs {
        let base = page_offset::SAVED;
        macro_rules! read {
            ($($reg:ident),*) => {
                SavedRegs { $($reg: self.load(base + offset_of!(SavedRegs, $reg)),)* }
            };
        }
        read!(
            rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8, r9, r10, r11, r12, r13, r14, r15, rip,
            rflags
        )
    }

    /// Writes the save area (for RESUME).
    pub fn set_saved(self, regs: &SavedRegs) {
        let base = page_offset::SAVED;
        macro_rules! write {
            ($($reg:ident),*) => {
                $(self.store(base + offset_of!(SavedRegs, $reg), regs.$reg);)*
            };
        }
        write!(
            rax,
            rbx,
            rcx, rdx, rsi, rdi, rbp, rsp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags
        );
    }

    /// Whether the save area holds a live context the kernel moved there at this upcall (the
    /// dispatcher was preempted, or blocked in YIELD, when the upcall came). The runtime must
    /// take it — resume it later, e.g. as a thread — and store 0.
    #[inline]
    pub fn saved_live(self) -> bool {
        self.load(page_offset::SAVED_LIVE) != 0
    }

    /// Sets or clears `saved_live`.
    #[inline]
    pub fn set_saved_live(self, live: bool) {
        self.store(page_offset::SAVED_LIVE, u64::from(live));
    }

    /// Takes the live context out of the save area, if there is one (and marks it taken).
    pub fn take_saved(self) -> Option<SavedRegs> {
        if !self.saved_live() {
            return None;
        }
        let regs = self.saved();
        self.set_saved_live(false);
        Some(regs)
    }

    /// Messages waiting in the async ring.
    #[inline]
    pub fn async_waiting(self) -> u64 {
        let tail = self.load(page_offset::RING_TAIL);
        tail.wrapping_sub(self.load(page_offset::RING_HEAD))
    }

    /// Takes the oldest message from the async ring, if any.
    pub fn pop_async(self) -> Option<AsyncMessage> {
        // Only this dispatcher writes the head; the tail's acquire orders the kernel's slot
        // writes before our reads of the slot.
        let head = self.load(page_offset::RING_HEAD);
        let tail = self.load(page_offset::RING_TAIL);
        if head == tail {
            return None;
        }
        // Lossless: the index is below ASYNC_RING_SLOTS.
        let index = (head % ASYNC_RING_SLOTS as u64) as usize;
        let slot = page_offset::RING + index * size_of::<AsyncMessage>();
        let payload = slot + offset_of!(AsyncMessage, payload);
        let msg = AsyncMessage {
            badge: self.load(slot + offset_of!(AsyncMessage, badge)),
            handle: self.load(slot + offset_of!(AsyncMessage, handle)),
            method: self.load(slot + offset_of!(AsyncMessage, method)),
            payload: core::array::from_fn(|i| self.load(payload + i * WORD)),
        };
        // Release: our reads of the slot happen before the kernel may reuse it.
        self.store(page_offset::RING_HEAD, head.wrapping_add(1));
        Some(msg)
    }

    /// The start of the PPC data area (`ppc_data`), after checking that this is the page of
    /// the dispatcher running this code (module comment: only it and the kernel use the area).
    #[inline]
    fn own_data_area(self) -> *mut u8 {
        assert!(
            self == Self::current(),
            "the PPC data area of another dispatcher's page"
        );
        (self.base + page_offset::PPC_DATA) as *mut u8
    }

    /// Copies `bytes` to the start of the PPC data area (`ppc_data`), for this dispatcher's
    /// next PPC_CALL (`kcall::ppc_call_data`) or PPC_RETURN to send.
    ///
    /// # Panics
    ///
    /// If `bytes` is longer than `PPC_DATA_BYTES`, or this is not the running dispatcher's
    /// page.
    pub fn write_ppc_data(self, bytes: &[u8]) {
        assert!(
            bytes.len() <= PPC_DATA_BYTES,
            "{} bytes do not fit the PPC data area",
            bytes.len()
        );
        let area = self.own_data_area();
        // SAFETY: `area..area + PPC_DATA_BYTES` lies in this mapped, writable page, which
        // outlives every use (constructor contract; layout asserted), and `bytes` fits. Nothing
        // else touches the area meanwhile: no Rust reference to it exists (this type makes
        // none, so `bytes` cannot overlap it), only this dispatcher's own code uses it (checked
        // above), one thread at a time on its one CPU, and the kernel copies it only while the
        // dispatcher is stopped (in its PPC_CALL or PPC_RETURN, or not yet entered at
        // IPC_CALL); the kernel call that sends the bytes is a compiler barrier after this.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), area, bytes.len()) };
    }

    /// Copies the first `buf.len()` bytes of the PPC data area into `buf`: the bytes a PPC
    /// brought (a call's at the IPC_CALL upcall, a reply's after `kcall::ppc_call_data`).
    ///
    /// # Panics
    ///
    /// If `buf` is longer than `PPC_DATA_BYTES`, or this is not the running dispatcher's page.
    pub fn read_ppc_data(self, buf: &mut [u8]) {
        assert!(
            buf.len() <= PPC_DATA_BYTES,
            "{} bytes are more than the PPC data area",
            buf.len()
        );
        let area = self.own_data_area();
        // SAFETY: as in `write_ppc_data`; the kernel wrote the bytes before it entered or
        // resumed this dispatcher (from another CPU, before the mail that made it do so), and
        // the kernel call or upcall that brought them is a compiler barrier before this.
        unsafe { core::ptr::copy_nonoverlapping(area, buf.as_mut_ptr(), buf.len()) };
    }

    /// Appends the first `len` bytes of this dispatcher's PPC data area to `out`, without
    /// first zeroing room for them (a reply of a few bytes costs a copy of a few bytes).
    pub fn append_ppc_data(self, len: usize, out: &mut alloc::vec::Vec<u8>) {
        assert!(
            len <= PPC_DATA_BYTES,
            "{len} bytes are more than the PPC data area"
        );
        out.reserve(len);
        let area = self.own_data_area();
        let at = out.len();
        // SAFETY: as in `read_ppc_data` for the source; `reserve` made room for `len` more
        // bytes after the vector's `at` initialized ones, which the copy initializes before
        // `set_len` counts them.
        unsafe {
            core::ptr::copy_nonoverlapping(area, out.as_mut_ptr().add(at), len);
            out.set_len(at + len);
        }
    }
}
