//! The user frame's helpers that the PPC fast path relies on to give the same registers as
//! the general path: checked here on frames whose every register differs, so a register
//! forgotten or swapped shows.

use k42_hal::user::{REPLY_REGISTERS, UserFrame};

use super::{Case, Context, Outcome};
use crate::ensure;

pub const CASES: &[Case] = &[Case {
    name: "frame.reply_resume_matches_copy",
    run: reply_resume_matches_copy,
}];

/// Words the test frames' registers start from: the kept frame's and the server's differ.
const KEPT_BASE: u64 = 0x1000;
const SERVER_BASE: u64 = 0x2000;
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

/// `UserFrame::resume_with_reply` over a server's frame gives what copying the whole kept
/// frame and writing the reply over it gives (the general path's way).
fn reply_resume_matches_copy(_: &Context<'_>) -> Outcome {
    let mut kept = distinct(KEPT_BASE);
    kept.rflags |= CARRY_FLAG;
    let mut frame = distinct(SERVER_BASE);
    let words: [u64; REPLY_REGISTERS] = [frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9];
    let mut expected = kept;
    expected.rax = STATUS;
    (
        expected.rdi,
        expected.rsi,
        expected.rdx,
        expected.r10,
        expected.r8,
    ) = (words[0], words[1], words[2], words[3], words[4]);
    expected.r15 = DATA_LEN;
    expected.clobber_for_sysret();
    frame.resume_with_reply(&kept, STATUS, &words, DATA_LEN);
    ensure!(
        frame == expected,
        "resumed {frame:x?}, the copy gives {expected:x?}"
    );
    Ok(())
}
