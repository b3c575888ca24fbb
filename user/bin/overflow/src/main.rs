//! A thread that overflows its stack, for the native test `threads.red_page` (`user/bin/utest`):
//! the thread "deep" recurses without end, each frame holding a buffer, until it touches the red
//! page below its stack. The runtime's TRAP handler must then log "thread deep overflowed its
//! stack (red page at …)" and end the process with `k42_rt::trap::STACK_OVERFLOW_STATUS`; the
//! test reads that status from the kernel's EXITED message. Anything else — the recursion
//! returning, the join coming back — exits with [`NOT_OVERFLOWED`].
#![no_std]
#![no_main]

use k42_rt::{Env, log, thread};

k42_rt::entry!(main);

/// Exit status if the thread somehow finished.
const NOT_OVERFLOWED: u32 = 1;
/// Bytes of each frame's buffer: the 256 KiB stack is gone in about 500 frames.
const FRAME_BYTES: usize = 512;

/// Recurses until the stack runs out (the condition is always true, but the compiler cannot
/// know, so this is neither a tail call nor a loop).
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; FRAME_BYTES];
    // Lossless enough: any byte will do.
    frame[depth as usize % FRAME_BYTES] = depth as u8;
    let frame = core::hint::black_box(frame);
    let below = if core::hint::black_box(true) {
        recurse(depth + 1)
    } else {
        depth
    };
    below.wrapping_add(u64::from(frame[0]))
}

fn main(_env: Env) -> u32 {
    let deep = thread::spawn("deep", || recurse(0));
    let got = deep.join();
    log!("overflow: the recursion returned {got}");
    NOT_OVERFLOWED
}
