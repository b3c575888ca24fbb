//! Interrupt controllers and the tick: the legacy 8259 PICs are remapped out of
//! the exception vectors and masked; the local APIC is enabled, its timer and the
//! TSC are calibrated against PIT channel 2, and the timer ticks periodically at
//! `TICK_HZ` on `trap::TIMER_VECTOR`.

use core::sync::atomic::{AtomicU64, Ordering};

use k42_frames::FrameAllocator as Frames;
use x86_64::instructions::port::Port;
use x86_64::registers::model_specific::Msr;

use crate::paging::{self, MapError};
use crate::trap;

/// Timer interrupts per second.
pub const TICK_HZ: u64 = 100;

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_BASE_MASK: u64 = 0xffff_f000;
const APIC_GLOBAL_ENABLE: u64 = 1 << 11;
const APIC_MMIO_LEN: u64 = 0x1000;
const REG_ID: u64 = 0x20;
const REG_EOI: u64 = 0xb0;
const REG_SVR: u64 = 0xf0;
const REG_LVT_TIMER: u64 = 0x320;
const REG_TIMER_INITIAL: u64 = 0x380;
const REG_TIMER_CURRENT: u64 = 0x390;
const REG_TIMER_DIVIDE: u64 = 0x3e0;
const REG_ICR_LOW: u64 = 0x300;
const REG_ICR_HIGH: u64 = 0x310;
const ICR_DEST_SHIFT: u32 = 24;
const ICR_DELIVERY_PENDING: u32 = 1 << 12;
const ICR_LEVEL_ASSERT: u32 = 1 << 14;
const ICR_MODE_INIT: u32 = 0b101 << 8;
const ICR_MODE_STARTUP: u32 = 0b110 << 8;
/// Polls of the ICR's delivery status before an IPI is assumed sent.
const ICR_SPIN_LIMIT: u32 = 1_000_000;
const SVR_ENABLE: u32 = 1 << 8;
const LVT_MASKED: u32 = 1 << 16;
const LVT_PERIODIC: u32 = 1 << 17;
const DIVIDE_BY_16: u32 = 0x3;
const APIC_ID_SHIFT: u32 = 24;

const PIC1_CMD: u16 = 0x20;
const PIC1_DATA: u16 = 0x21;
const PIC2_CMD: u16 = 0xa0;
const PIC2_DATA: u16 = 0xa1;
const PIC_INIT: u8 = 0x11;
const PIC1_VECTOR_BASE: u8 = 0x20;
const PIC2_VECTOR_BASE: u8 = 0x28;
const PIC_CASCADE_IRQ: u8 = 4;
const PIC_CASCADE_ID: u8 = 2;
const PIC_8086_MODE: u8 = 0x01;
const PIC_MASK_ALL: u8 = 0xff;

const PIT_CH2_DATA: u16 = 0x42;
const PIT_CMD: u16 = 0x43;
const PIT_GATE_PORT: u16 = 0x61;
const PIT_GATE_ON: u8 = 0x01;
const PIT_SPEAKER_ON: u8 = 0x02;
const PIT_OUTPUT_HIGH: u8 = 0x20;
/// Channel 2, low then high byte, mode 0 (interrupt on terminal count), binary.
const PIT_CH2_ONESHOT: u8 = 0xb0;
const PIT_HZ: u64 = 1_193_182;
const CALIBRATION_MS: u64 = 10;
/// Polls of the PIT output before calibration is declared failed.
const CALIBRATION_SPIN_LIMIT: u64 = 1 << 32;

static APIC_VIRT: AtomicU64 = AtomicU64::new(0);
/// The boot CPU's calibration, reused by every AP (they share the bus clock).
static APIC_PER_MS: AtomicU64 = AtomicU64::new(0);

fn outb(port: u16, value: u8) {
    // SAFETY: the legacy PIC/PIT ports are owned by this module; port writes have
    // no memory effect.
    unsafe { Port::new(port).write(value) }
}

fn inb(port: u16) -> u8 {
    // SAFETY: as in `outb`.
    unsafe { Port::new(port).read() }
}

fn reg_ptr(reg: u64) -> Option<*mut u32> {
    let base = APIC_VIRT.load(Ordering::Acquire);
    (base != 0).then(|| (base + reg) as *mut u32)
}

fn write_reg(reg: u64, value: u32) {
    if let Some(p) = reg_ptr(reg) {
        // SAFETY: `p` is inside the uncached APIC page `init` mapped.
        unsafe { core::ptr::write_volatile(p, value) }
    }
}

fn read_reg(reg: u64) -> u32 {
    // SAFETY: as in `write_reg`.
    reg_ptr(reg).map_or(0, |p| unsafe { core::ptr::read_volatile(p) })
}

fn disable_pic() {
    outb(PIC1_CMD, PIC_INIT);
    outb(PIC2_CMD, PIC_INIT);
    outb(PIC1_DATA, PIC1_VECTOR_BASE);
    outb(PIC2_DATA, PIC2_VECTOR_BASE);
    outb(PIC1_DATA, PIC_CASCADE_IRQ);
    outb(PIC2_DATA, PIC_CASCADE_ID);
    outb(PIC1_DATA, PIC_8086_MODE);
    outb(PIC2_DATA, PIC_8086_MODE);
    outb(PIC1_DATA, PIC_MASK_ALL);
    outb(PIC2_DATA, PIC_MASK_ALL);
}

/// Counts APIC timer and TSC ticks across `CALIBRATION_MS` of PIT time.
fn calibrate() -> Option<(u64, u64)> {
    let count = PIT_HZ * CALIBRATION_MS / 1000;
    let gate = inb(PIT_GATE_PORT) & !(PIT_SPEAKER_ON | PIT_GATE_ON);
    outb(PIT_GATE_PORT, gate);
    outb(PIT_CMD, PIT_CH2_ONESHOT);
    outb(PIT_CH2_DATA, count as u8);
    outb(PIT_CH2_DATA, (count >> 8) as u8);
    write_reg(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    write_reg(REG_LVT_TIMER, LVT_MASKED);
    write_reg(REG_TIMER_INITIAL, u32::MAX);
    let tsc0 = crate::time::rdtsc();
    outb(PIT_GATE_PORT, gate | PIT_GATE_ON);
    let mut spins = 0u64;
    while inb(PIT_GATE_PORT) & PIT_OUTPUT_HIGH == 0 {
        spins += 1;
        if spins == CALIBRATION_SPIN_LIMIT {
            return None;
        }
    }
    let apic_ticks = u64::from(u32::MAX - read_reg(REG_TIMER_CURRENT));
    let tsc_ticks = crate::time::rdtsc() - tsc0;
    write_reg(REG_TIMER_INITIAL, 0);
    Some((apic_ticks / CALIBRATION_MS, tsc_ticks / CALIBRATION_MS))
}

/// What calibration found.
#[derive(Debug, Clone, Copy)]
pub struct TimerInfo {
    /// APIC timer ticks (after the divider) per millisecond.
    pub apic_per_ms: u64,
    /// TSC ticks per millisecond.
    pub tsc_per_ms: u64,
}

/// Why the timer could not be started.
#[derive(Debug, Clone, Copy)]
pub enum ApicError {
    /// Mapping the APIC registers failed.
    Map(MapError),
    /// The PIT never reached its terminal count.
    CalibrationTimedOut,
}

/// Masks the legacy PICs, enables this CPU's local APIC, calibrates and starts
/// the periodic timer. Interrupts stay disabled; the caller enables them.
pub fn init(frames: &mut Frames<'_>) -> Result<TimerInfo, ApicError> {
    disable_pic();
    let mut msr = Msr::new(IA32_APIC_BASE);
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU; setting the global
    // enable bit keeps the APIC at its current base.
    let base = unsafe {
        let v = msr.read();
        msr.write(v | APIC_GLOBAL_ENABLE);
        v & APIC_BASE_MASK
    };
    if APIC_VIRT.load(Ordering::Acquire) == 0 {
        let virt = paging::map_mmio(base, APIC_MMIO_LEN, frames).map_err(ApicError::Map)?;
        APIC_VIRT.store(virt, Ordering::Release);
    }
    write_reg(REG_SVR, SVR_ENABLE | u32::from(trap::SPURIOUS_VECTOR));
    let (apic_per_ms, tsc_per_ms) = calibrate().ok_or(ApicError::CalibrationTimedOut)?;
    crate::time::set_tsc_per_ms(tsc_per_ms);
    APIC_PER_MS.store(apic_per_ms, Ordering::Release);
    start_timer(apic_per_ms);
    Ok(TimerInfo {
        apic_per_ms,
        tsc_per_ms,
    })
}

fn start_timer(apic_per_ms: u64) {
    write_reg(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    write_reg(REG_LVT_TIMER, LVT_PERIODIC | u32::from(trap::TIMER_VECTOR));
    let period = (apic_per_ms * 1000 / TICK_HZ).clamp(1, u64::from(u32::MAX));
    write_reg(REG_TIMER_INITIAL, period as u32);
}

/// Enables an AP's local APIC and starts its tick with the boot CPU's
/// calibration. Interrupts stay disabled; the kernel enables them.
pub(crate) fn init_ap() {
    let mut msr = Msr::new(IA32_APIC_BASE);
    // SAFETY: as in `init`: the global enable bit keeps the APIC at its base,
    // which is the same on every CPU (already mapped by the boot CPU).
    unsafe {
        let v = msr.read();
        msr.write(v | APIC_GLOBAL_ENABLE);
    }
    write_reg(REG_SVR, SVR_ENABLE | u32::from(trap::SPURIOUS_VECTOR));
    let apic_per_ms = APIC_PER_MS.load(Ordering::Acquire);
    if apic_per_ms != 0 {
        start_timer(apic_per_ms);
    }
}

fn send_ipi(apic_id: u32, command: u32) {
    write_reg(REG_ICR_HIGH, apic_id << ICR_DEST_SHIFT);
    write_reg(REG_ICR_LOW, command);
    for _ in 0..ICR_SPIN_LIMIT {
        if read_reg(REG_ICR_LOW) & ICR_DELIVERY_PENDING == 0 {
            return;
        }
        core::hint::spin_loop();
    }
}

/// Sends an INIT IPI to the CPU with local APIC id `apic_id`.
pub(crate) fn send_init(apic_id: u32) {
    send_ipi(apic_id, ICR_MODE_INIT | ICR_LEVEL_ASSERT);
}

/// Sends a STARTUP IPI: the CPU starts in real mode at `vector << 12`.
pub(crate) fn send_startup(apic_id: u32, vector: u8) {
    send_ipi(
        apic_id,
        ICR_MODE_STARTUP | ICR_LEVEL_ASSERT | u32::from(vector),
    );
}

/// Sends a fixed interrupt with `vector` to the CPU with local APIC id `apic_id` (the kernel's
/// wake-up IPI: work was queued for that CPU).
pub fn send_fixed(apic_id: u32, vector: u8) {
    send_ipi(apic_id, ICR_LEVEL_ASSERT | u32::from(vector));
}

/// This CPU's local APIC id.
pub fn cpu_id() -> u32 {
    read_reg(REG_ID) >> APIC_ID_SHIFT
}

/// Signals the end of the current interrupt to the local APIC.
pub fn end_of_interrupt() {
    write_reg(REG_EOI, 0);
}
