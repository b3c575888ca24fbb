//! The user frame's helpers that the PPC fast path relies on to give the same registers as
//! the general path: checked here on frames whose every register differs, so a register
//! forgotten or swapped shows.

use k42_hal::user::{REPLY_REGISTERS, UserFrame};

use super::{Case, Context, Outcome};
use crate::ensure;

pub const CASES: &[Case] = &[Case {
    name: "frame.reply_resume_matches_general",
    run: reply_resume_matches_general,
}];

/// Words the test frames' registers start from: the kept frame's and the server's differ.
const KEPT_BASE: u64 = 0x1000;
const SERVER_BASE: u64 = 0x2000;
/// More than the registers `distinct` numbers: every word it gives is below base + this.
const DISTINCT_SPAN: u64 = 0x100;
/// A status and a data length to resume with.
const STATUS: u64 = 7;
const DATA_LEN: u64 = 99;
/// RFLAGS' carry flag, a user-chosen bit: set in the kept frame only, so RFLAGS differ too.
const CARRY_FLAG: u64 = 1;
/// A user RIP and stack for the test frames.
const RIP: u64 = 0x40_1000;
const RSP: u64 = 0x7fff_f000;

/// A frame with a different word in every general register, counting from `base`.
pub(super) fn distinct(base: u64) -> UserFrame {
    let mut f = UserFrame::new_user(RIP + base, RSP - base);
    let regs = [
        &mut f.r15,
        &mut f.r14,
        &mut f.r13,
        &mut f.r12,
        &mut f.r11,
        &mut f.r10,
        &mut f.r9,
        &mut f.r8,
        &mut f.rbp,
        &mut f.rdi,
        &mut f.rsi,
        &mut f.rdx,
        &mut f.rcx,
        &mut f.rbx,
        &mut f.rax,
        &mut f.vector,
        &mut f.error_code,
    ];
    for (i, r) in (0u64..).zip(regs) {
        *r = base + i;
    }
    f
}

/// `UserFrame::resume_kept` over a server's frame (the fast path's reply) gives what the
/// general path gives a caller whose kept registers it unfolded (`KeptAcrossCall::to_frame`,
/// then the reply written over it): every register the interface keeps across PPC_CALL as the
/// caller had it, and none of the server's but the reply's words.
fn reply_resume_matches_general(_: &Context<'_>) -> Outcome {
    let mut caller = distinct(KEPT_BASE);
    caller.rflags |= CARRY_FLAG;
    let kept = caller.kept_across_call();
    let mut frame = distinct(SERVER_BASE);
    let words: [u64; REPLY_REGISTERS] = [frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9];
    let mut general = kept.to_frame();
    general.rax = STATUS;
    (
        general.rdi,
        general.rsi,
        general.rdx,
        general.r10,
        general.r8,
    ) = (words[0], words[1], words[2], words[3], words[4]);
    general.r15 = DATA_LEN;
    general.clobber_for_sysret();
    frame.resume_kept(&kept, STATUS, &words, DATA_LEN);
    // The exit restores neither: the fast path leaves the server's (a `syscall` entry's too).
    (frame.vector, frame.error_code) = (general.vector, general.error_code);
    ensure!(
        frame == general,
        "the fast path resumes {frame:x?}, the general path {general:x?}"
    );
    let preserved = [
        (frame.rbx, caller.rbx),
        (frame.rbp, caller.rbp),
        (frame.r12, caller.r12),
        (frame.r13, caller.r13),
        (frame.r14, caller.r14),
        (frame.rsp, caller.rsp),
        (frame.rip, caller.rip),
        (frame.rflags, caller.rflags),
    ];
    ensure!(
        preserved.iter().all(|(now, was)| now == was),
        "kept registers changed: {preserved:x?}"
    );
    let server = distinct(SERVER_BASE);
    let registers = [
        frame.r15, frame.r14, frame.r13, frame.r12, frame.r11, frame.r10, frame.r9, frame.r8,
        frame.rbp, frame.rdi, frame.rsi, frame.rdx, frame.rcx, frame.rbx, frame.rax,
    ];
    let leaked = registers
        .into_iter()
        .find(|&r| (SERVER_BASE..SERVER_BASE + DISTINCT_SPAN).contains(&r) && !words.contains(&r));
    ensure!(
        leaked.is_none() && frame.rsp != server.rsp && frame.rip != server.rip,
        "a server register reached the caller: {leaked:x?} in {frame:x?}"
    );
    Ok(())
}
