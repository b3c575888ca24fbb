//! A busy loop that never yields, for the native test `sched.server_not_starved`
//! (`user/bin/utest`): spawned as an APPLICATION on the same CPU as a SYSTEM-class helper, it
//! must not keep that helper off the CPU (strict classes), and it ends only when the test ends
//! it through its `Process` handle. Its program code makes no kernel call; only its runtime
//! gives the processor back when the kernel asks (PREEMPT), or the kernel takes it.
#![no_std]
#![no_main]

use k42_rt::{Env, log};

k42_rt::entry!(main);

fn main(_env: Env) -> u32 {
    log!("spinner: spinning until ended");
    let mut turns: u64 = 0;
    loop {
        turns = core::hint::black_box(turns.wrapping_add(1));
    }
}
