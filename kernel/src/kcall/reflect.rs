//! Reflection (DESIGN §2.6): in a Linux process, a `syscall` from the program's code is not a
//! K42 kernel call but a Linux system call, and the kernel hands it to the process's own Linux
//! personality at the dispatcher's SVC entry, with the program's registers in the save area.
//! The personality runs the call and goes back with REFLECT_RETURN, the result in `rdi` — or,
//! without entering the kernel again, through its SVC return stub (`k42_abi::kernel::
//! svc_return`), which loads the save area itself. An interrupt or exception that catches the
//! stub after it enabled upcalls is taken as one of the program at its return point
//! ([`settle_svc_return`], at every such entry before anything looks at the registers).
//!
//! Program code is told from personality code by the return RIP alone: a `syscall` whose next
//! instruction lies in `[PERSONALITY_BASE, PERSONALITY_LIMIT)` is the personality's kernel
//! call (`k42_abi::kernel::is_personality_rip`). Program code that jumps there, or maps code
//! there, gains nothing it did not have: the kernel calls act on handles the process holds and
//! badges it cannot forge, and the badge is the process's whichever code runs.

use core::ops::Range;

use k42_abi::kernel::{Entry, Status, is_personality_rip};
use k42_hal::user::UserFrame;
use k42_kapi::counter;

use super::{Next, me};
use crate::cpu::{self, Cpu};
use crate::entry::{SYSCALL_KILL_STATUS, exit_process};
use crate::switch;

/// If the running dispatcher is a Linux process's and the `syscall` came from program code,
/// reflects it (or, when it cannot be, kills the process) and returns `true`; the frame then
/// holds what runs next. `false`: an ordinary kernel call.
pub fn reflected(cpu: &mut Cpu, frame: &mut UserFrame) -> bool {
    let Some(comm) = cpu.running else {
        return false;
    };
    let Some(d) = cpu.dispatchers.get(&comm) else {
        return false;
    };
    // After `syscall`, the frame's rip is the address after the instruction.
    if !d.shared.process.linux || is_personality_rip(frame.rip) {
        return false;
    }
    cpu::this().count(counter::REFLECTIONS);
    let why = if d.shared.disabled() {
        Some("while disabled")
    } else if d.entries[Entry::Svc as usize] == 0 {
        Some("with no SVC entry")
    } else if d.shared.upcall_stack() == 0 {
        Some("with no upcall stack")
    } else {
        None
    };
    if let Some(why) = why {
        let process = d.shared.process.clone();
        log::error!(
            "Linux process {} (pid {}) killed: syscall {} at rip {:#x} cannot be reflected {why}",
            process.name,
            process.pid,
            frame.rax,
            frame.rip
        );
        exit_process(cpu, &process, SYSCALL_KILL_STATUS, frame);
        return true;
    }
    // rcx and r11 are the CPU's copies of rip and rflags: saved as they are, so REFLECT_RETURN
    // gives the program back every register but rax bit for bit.
    d.shared.save_syscall(frame);
    switch::upcall_into(d, Entry::Svc, frame, |_| {});
    true
}

/// The kernel call: back to the program with the result (`rdi`) in `rax`.
pub fn reflect_return(cpu: &mut Cpu, frame: &mut UserFrame) -> Result<Next, Status> {
    let me = me(cpu)?;
    let d = cpu
        .dispatchers
        .get(&me)
        .filter(|d| d.shared.process.linux)
        .ok_or(Status::NotPermitted)?;
    let result = frame.rdi;
    super::upcall::resume_into(d, frame, |f| f.rax = result)
}

/// An interrupt or exception from user mode (not a `syscall`) that caught the running
/// dispatcher in its SVC return stub with upcalls enabled: makes the frame the program's
/// registers at its syscall return point, the save area's, which the stub was loading and no
/// longer changes. Everything after — a soft interrupt's upcall, a preemption that keeps the
/// registers, a job-control stop, a TRAP — then sees the program, as if the stub had finished.
pub fn settle_svc_return(cpu: &Cpu, frame: &mut UserFrame) {
    let Some(d) = cpu.running.and_then(|c| cpu.dispatchers.get(&c)) else {
        return;
    };
    if let Some(program) = settled(frame, &d.svc_return_stub, d.shared.disabled(), || {
        d.shared.saved_context()
    }) {
        *frame = program;
    }
}

/// What [`settle_svc_return`] puts in `frame`, if anything: `saved()` (the save area's
/// registers) with the frame's vector and error code, when `frame.rip` lies in `stub` and the
/// dispatcher is enabled (`disabled` false); `None` when the frame is what was interrupted.
pub fn settled(
    frame: &UserFrame,
    stub: &Range<u64>,
    disabled: bool,
    saved: impl FnOnce() -> UserFrame,
) -> Option<UserFrame> {
    if disabled || !stub.contains(&frame.rip) {
        return None;
    }
    let mut program = saved();
    (program.vector, program.error_code) = (frame.vector, frame.error_code);
    Some(program)
}
