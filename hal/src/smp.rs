//! Starting the application processors (APs): the INIT–STARTUP IPI sequence,
//! the real-mode trampoline (`smp.S`) copied to low memory, the temporary
//! tables an AP enables paging on, and the per-CPU set-up each AP runs before
//! it calls the kernel's AP entry. APs start one at a time, so one trampoline
//! page and one hand-over slot serve them all.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use k42_frames::FrameAllocator as Frames;
use spin::{Mutex, Once};
use x86_64::PhysAddr;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;

use crate::cpu::TrapStacks;
use crate::layout::{self, PAGE_SIZE};
use crate::paging::{self, MapError};

core::arch::global_asm!(include_str!("smp.S"), options(att_syntax));

unsafe extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_end: u8;
    static ap_param_cr3: u8;
    static ap_param_stack: u8;
    static ap_param_entry: u8;
    static ap_param_cpu: u8;
}

/// Where the trampoline runs (AP_TRAMPOLINE_PHYS in smp.S): page aligned, below
/// 1 MiB (a STARTUP IPI names a real-mode page) and in the low memory the frame
/// allocator never hands out.
const AP_TRAMPOLINE_PHYS: u64 = 0x8000;
const STARTUP_VECTOR: u8 = (AP_TRAMPOLINE_PHYS / PAGE_SIZE) as u8;
/// The AP enables paging in 32-bit mode, so its first tables must lie below 4 GiB.
const LOW_4GIB: u64 = 1 << 32;
const PTE_PRESENT_WRITABLE: u64 = 0x3;
const PTE_HUGE: u64 = 0x80;
const PML4_ENTRIES: usize = 512;
const FIRST_UPPER_HALF_ENTRY: usize = 256;
const ENTRY_SIZE: u64 = 8;
/// Intel's INIT → STARTUP → STARTUP timing (SDM "MP initialization").
const INIT_SETTLE_US: u64 = 10_000;
const STARTUP_SETTLE_US: u64 = 200;
/// How long an AP may take to report in before it is given up.
const AP_REPORT_TIMEOUT_US: u64 = 1_000_000;

/// CPUs running kernel code (the boot CPU counts from the start).
static ONLINE: AtomicU32 = AtomicU32::new(1);
/// The kernel's entry for each AP, with its CPU index.
static AP_MAIN: Once<fn(u32) -> !> = Once::new();
/// The trap stacks of the AP being started, taken by that AP.
static HANDOVER: Mutex<Option<TrapStacks>> = Mutex::new(None);
/// Physical address of the AP boot PML4 (0 until built).
static AP_PML4: AtomicU64 = AtomicU64::new(0);

/// Why an AP did not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmpError {
    /// Mapping its stacks failed.
    Map(MapError),
    /// No frame below 4 GiB was left for the AP boot tables.
    NoLowFrame,
    /// The timer was never calibrated, so the IPI delays cannot be timed.
    NoClock,
    /// The AP did not report in within the timeout.
    NoResponse {
        /// Its local APIC id.
        apic_id: u32,
    },
}

impl core::fmt::Display for SmpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Map(e) => write!(f, "mapping its stacks: {e}"),
            Self::NoLowFrame => write!(f, "no frame below 4 GiB for the AP boot tables"),
            Self::NoClock => write!(f, "the TSC is not calibrated"),
            Self::NoResponse { apic_id } => {
                write!(
                    f,
                    "APIC {apic_id} did not report in within {AP_REPORT_TIMEOUT_US} us"
                )
            }
        }
    }
}

/// CPUs running kernel code now.
pub fn online() -> u32 {
    ONLINE.load(Ordering::Acquire)
}

fn addr_of(sym: &u8) -> u64 {
    sym as *const u8 as u64
}

fn low_zeroed_frame(frames: &mut Frames<'_>) -> Result<u64, SmpError> {
    let frame = frames.alloc().ok_or(SmpError::NoLowFrame)?;
    if frame + PAGE_SIZE > LOW_4GIB {
        // Not handed back: an allocator that gives high frames now has no low ones.
        return Err(SmpError::NoLowFrame);
    }
    crate::phys::zero_frame(frame);
    Ok(frame)
}

/// Tables an AP can enable paging on: the first 2 MiB identity-mapped (where
/// the trampoline runs) and the kernel's upper half shared with the real tables.
fn ap_boot_tables(frames: &mut Frames<'_>) -> Result<u64, SmpError> {
    let existing = AP_PML4.load(Ordering::Acquire);
    if existing != 0 {
        return Ok(existing);
    }
    let (pml4, pdpt, pd) = (
        low_zeroed_frame(frames)?,
        low_zeroed_frame(frames)?,
        low_zeroed_frame(frames)?,
    );
    let kernel = paging::kernel_root();
    for i in FIRST_UPPER_HALF_ENTRY..PML4_ENTRIES {
        let entry = crate::phys::read_u64(kernel + i as u64 * ENTRY_SIZE).unwrap_or(0);
        crate::phys::write_owned_u64(pml4 + i as u64 * ENTRY_SIZE, entry);
    }
    crate::phys::write_owned_u64(pd, PTE_PRESENT_WRITABLE | PTE_HUGE);
    crate::phys::write_owned_u64(pdpt, pd | PTE_PRESENT_WRITABLE);
    crate::phys::write_owned_u64(pml4, pdpt | PTE_PRESENT_WRITABLE);
    AP_PML4.store(pml4, Ordering::Release);
    Ok(pml4)
}

/// Copies the trampoline to its page and fills its parameters.
fn load_trampoline(cr3: u64, stack_top: u64, cpu: u32) {
    // SAFETY: the symbols are defined in smp.S.
    let (start, end, params) = unsafe {
        (
            addr_of(&ap_trampoline_start),
            addr_of(&ap_trampoline_end),
            [
                (addr_of(&ap_param_cr3), cr3),
                (addr_of(&ap_param_stack), stack_top),
                (addr_of(&ap_param_entry), hal_ap_entry as *const () as u64),
                (addr_of(&ap_param_cpu), u64::from(cpu)),
            ],
        )
    };
    let len = (end - start) as usize;
    assert!(len as u64 <= PAGE_SIZE, "AP trampoline larger than a page");
    // SAFETY: the trampoline page is low memory the frame allocator never hands
    // out and nothing else uses after boot; the blob fits in it (asserted above);
    // APs start one at a time, so no AP is executing it now.
    unsafe {
        core::ptr::copy_nonoverlapping(
            start as *const u8,
            layout::phys_to_virt(AP_TRAMPOLINE_PHYS) as *mut u8,
            len,
        );
    }
    for (symbol, value) in params {
        crate::phys::write_owned_u64(AP_TRAMPOLINE_PHYS + (symbol - start), value);
    }
}

/// Starts the AP with local APIC id `apic_id` as CPU `cpu`, waits until it runs
/// kernel code, and returns. `main` is the kernel's entry for every AP.
pub fn start_ap(
    apic_id: u32,
    cpu: u32,
    frames: &mut Frames<'_>,
    main: fn(u32) -> !,
) -> Result<(), SmpError> {
    if crate::time::tsc_per_ms() == 0 {
        return Err(SmpError::NoClock);
    }
    AP_MAIN.call_once(|| main);
    let cr3 = ap_boot_tables(frames)?;
    let mut stack = || paging::alloc_kernel_stack(frames).map_err(SmpError::Map);
    let kernel_stack = stack()?;
    let trap_stacks = TrapStacks {
        double_fault: stack()?,
        nmi: stack()?,
        machine_check: stack()?,
        entry: stack()?,
    };
    *HANDOVER.lock() = Some(trap_stacks);
    load_trampoline(cr3, kernel_stack.top, cpu);

    let before = online();
    crate::apic::send_init(apic_id);
    crate::time::delay_us(INIT_SETTLE_US);
    for _ in 0..2 {
        crate::apic::send_startup(apic_id, STARTUP_VECTOR);
        crate::time::delay_us(STARTUP_SETTLE_US);
        if online() > before {
            break;
        }
    }
    let deadline = crate::time::uptime_us() + AP_REPORT_TIMEOUT_US;
    while online() == before {
        if crate::time::uptime_us() > deadline {
            HANDOVER.lock().take();
            return Err(SmpError::NoResponse { apic_id });
        }
        core::hint::spin_loop();
    }
    Ok(())
}

/// Where an AP arrives from the trampoline, on its own kernel stack.
extern "C" fn hal_ap_entry(cpu: u64) -> ! {
    let root = paging::kernel_root();
    // SAFETY: the kernel tables map everything the AP runs from now on (kernel
    // text, its stack, the direct map) at the same addresses as its boot tables.
    unsafe {
        Cr3::write(
            PhysFrame::containing_address(PhysAddr::new(root)),
            Cr3Flags::empty(),
        )
    };
    // An AP that reports in after the boot CPU gave up on it finds no stacks:
    // it parks rather than take down a machine that already runs without it.
    let Some(stacks) = HANDOVER.lock().take() else {
        crate::exit::halt_forever()
    };
    crate::cpu::init_cpu(&stacks);
    crate::apic::init_ap();
    ONLINE.fetch_add(1, Ordering::AcqRel);
    let main = AP_MAIN.get().expect("start_ap set the AP entry");
    main(cpu as u32)
}
