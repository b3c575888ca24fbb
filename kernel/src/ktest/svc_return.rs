//! The SVC return stub's window (`k42_abi::kernel::svc_return`): an interruption that caught a
//! dispatcher in its stub with upcalls enabled must be taken as one of the program at its
//! syscall return point — the save area's registers, the event's vector and error code — and
//! any other interruption as what it is. Checked on frames whose every register differs
//! (`frame::distinct`), so a register taken from the wrong side shows.

use k42_hal::user::UserFrame;

use super::frame::distinct;
use super::{Case, Context, Outcome};
use crate::ensure;
use crate::kcall::reflect::settled;

pub const CASES: &[Case] = &[
    Case {
        name: "svc_return.enabled_in_stub_is_the_program",
        run: enabled_in_stub_is_the_program,
    },
    Case {
        name: "svc_return.elsewhere_is_itself",
        run: elsewhere_is_itself,
    },
];

/// Where the test's stub lies, and how long it is.
const STUB: u64 = 0x7000_4000;
const STUB_BYTES: u64 = 0x80;
/// Register words of the program's context (the save area) and of the stub's half-loaded one.
const PROGRAM_BASE: u64 = 0x3000;
const STUB_BASE: u64 = 0x4000;
/// A timer interrupt's vector and an error code, which must survive the substitution.
const VECTOR: u64 = 32;
const ERROR_CODE: u64 = 5;

/// The frame an interrupt at `rip` gives: the stub's registers, the event's vector.
fn interrupted_at(rip: u64) -> UserFrame {
    let mut f = distinct(STUB_BASE);
    (f.rip, f.vector, f.error_code) = (rip, VECTOR, ERROR_CODE);
    f
}

/// At the stub's first and last byte, enabled: the save area's registers, the event's vector
/// and error code.
fn enabled_in_stub_is_the_program(_: &Context<'_>) -> Outcome {
    let program = distinct(PROGRAM_BASE);
    let stub = STUB..STUB + STUB_BYTES;
    for rip in [stub.start, stub.end - 1] {
        let frame = interrupted_at(rip);
        let got = settled(&frame, &stub, false, || program);
        let mut expected = program;
        (expected.vector, expected.error_code) = (VECTOR, ERROR_CODE);
        ensure!(
            got == Some(expected),
            "at {rip:#x}: {got:x?}, the program's context is {expected:x?}"
        );
    }
    Ok(())
}

/// Disabled in the stub (before it clears `disabled`, or after it set it again for
/// REFLECT_RETURN), just past it, before it, or with no stub: the frame as it is.
fn elsewhere_is_itself(_: &Context<'_>) -> Outcome {
    let program = distinct(PROGRAM_BASE);
    let stub = STUB..STUB + STUB_BYTES;
    let cases = [
        (stub.start, true, stub.clone()),
        (stub.end, false, stub.clone()),
        (stub.start - 1, false, stub.clone()),
        (0, false, 0..0),
    ];
    for (rip, disabled, range) in cases {
        let frame = interrupted_at(rip);
        let got = settled(&frame, &range, disabled, || program);
        ensure!(
            got.is_none(),
            "rip {rip:#x}, disabled {disabled}, stub {range:x?}: took {got:x?}"
        );
    }
    Ok(())
}
