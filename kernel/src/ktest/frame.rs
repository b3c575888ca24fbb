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

/// A PPC_CALL's reply gives the caller the same registers whichever path gives it: the fast
/// path's `UserFrame::resume_kept` over the server's frame, the general path's
/// `UserFrame::set_call_reply` over the caller's whole kept frame, or over the frame it
/// unfolds from the fast path's kept registers (`KeptAcrossCall::to_frame`). That is the
/// interface's outcome: `rbx rbp rsp`, RIP and RFLAGS as the caller had them, the reply in `rax
/// rdi rsi rdx r10 r8 r15`, `r9 r12 r13 r14` zero, `rcx r11` for `sysret`, and none of the
/// server's registers but the reply's words.
fn reply_resume_matches_general(_: &Context<'_>) -> Outcome {
    let mut caller = distinct(KEPT_BASE);
    caller.rflags |= CARRY_FLAG;
    let kept = caller.kept_across_call();
    let mut frame = distinct(SERVER_BASE);
    let words: [u64; REPLY_REGISTERS] = [frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9];
    let mut expected = caller;
    expected.rax = STATUS;
    (
        expected.rdi,
        expected.rsi,
        expected.rdx,
        expected.r10,
        expected.r8,
    ) = (words[0], words[1], words[2], words[3], words[4]);
    expected.r15 = DATA_LEN;
    (expected.r9, expected.r12, expected.r13, expected.r14) = (0, 0, 0, 0);
    (expected.rcx, expected.r11) = (expected.rip, expected.rflags);
    frame.resume_kept(&kept, STATUS, &words, DATA_LEN);
    let mut whole = caller;
    whole.set_call_reply(STATUS, &words, DATA_LEN);
    let mut unfolded = kept.to_frame();
    unfolded.set_call_reply(STATUS, &words, DATA_LEN);
    // The exit restores neither `vector` nor `error_code`: only the registers are compared.
    for f in [&mut frame, &mut unfolded] {
        (f.vector, f.error_code) = (expected.vector, expected.error_code);
    }
    for (path, got) in [("fast", frame), ("general", whole), ("unfolded", unfolded)] {
        ensure!(
            got == expected,
            "the {path} path resumes {got:x?}, the interface says {expected:x?}"
        );
    }
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
