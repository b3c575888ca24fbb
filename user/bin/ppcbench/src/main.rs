//! The K42-only benchmark figures of issue #3, measured in ring 3 against the real kernel: the
//! null PPC round trip to a user-level server (`Echo::whoami`, one result word), the null
//! object call on a kernel object (`Process::ids`), the null kernel call (TIMER cancel), an
//! upcall round trip (TIMER armed for a deadline already past: the kernel enters this
//! dispatcher at INTERRUPT on the way out of the call, and its user-level scheduler resumes the
//! calling thread) and a PPC round trip carrying a full PPC data area (2 KiB) each way
//! (`Echo::bounce`), each with the kernel counters it moved per call (kernel entries = ring
//! transitions in and out, address-space switches, upcalls, time in the kernel).
//!
//! Prints one JSON line per figure on the console, in the format of the Linux benchmark
//! programs (`bench/bench.h`: name, unit, iterations, median, min, max over batches), so
//! `cargo xtask run --icount -- ppcbench` reads in guest instructions (one ns each).
//! Started by the bootstrap (`k42_ifaces::start`) like utest, whose start-up it shares.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;

use k42_abi::kernel::PPC_DATA_BYTES;

use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::console::{ConsoleClient, Writer};
use k42_ifaces::echo::EchoClient;
use k42_ifaces::start::StartHandles;
use k42_kapi::{BootClient, ProcessClient, class, counter};
use k42_rights::XHandle;
use k42_rt::{Env, KernelPpc, Ppc, clock, log, ring};

k42_rt::entry!(main);

/// Calls per batch, batches per figure, and calls to warm up with.
const CALLS: u64 = 2000;
const BATCHES: usize = 5;
const WARMUP: u64 = 100;
/// Calls of the pass that times the kernel (`kernel_ticks`).
const TIMED_CALLS: u64 = 10_000;
/// Nanoseconds per millisecond (the dispatcher page gives the TSC rate per ms).
const NS_PER_MS: f64 = 1_000_000.0;
/// Exit status when the start-up handles or a helper are missing.
const NO_SETUP: u32 = 2;
/// The echo server's program name.
const ECHO: &str = "echo";
/// A TIMER deadline already past (ns of the kernel clock since boot): the kernel checks due
/// timers on every way out of the kernel, so the call that arms it fires it.
const PAST_DEADLINE_NS: u64 = 1;

/// Per-call figures of one measured loop.
struct Figure {
    ns: Vec<f64>,
    entries: f64,
    switches: f64,
    upcalls: f64,
    kernel_ns: f64,
}

fn counters(boot: &mut BootClient<KernelPpc>, cpu: u32) -> [u64; 3] {
    let mut read = |which| boot.counter(which, cpu).unwrap_or(0);
    [
        read(counter::KERNEL_ENTRIES),
        read(counter::SPACE_SWITCHES),
        read(counter::UPCALLS),
    ]
}

/// TSC ticks the kernel spends per `call`, over `TIMED_CALLS` calls with the kernel-time
/// counter on for them only (`Boot::time_kernel`: off, as at boot, while the loop is timed, so
/// its TSC reads are not in the figures above).
fn kernel_ticks(
    boot: &mut BootClient<KernelPpc>,
    cpu: u32,
    mut call: impl FnMut() -> bool,
) -> Option<f64> {
    boot.time_kernel(true).ok()?;
    let before = boot.counter(counter::KERNEL_TSC, cpu).ok()?;
    for _ in 0..TIMED_CALLS {
        call().then_some(())?;
    }
    let after = boot.counter(counter::KERNEL_TSC, cpu).ok()?;
    boot.time_kernel(false).ok()?;
    Some((after - before) as f64 / TIMED_CALLS as f64)
}

fn measure(
    boot: &mut BootClient<KernelPpc>,
    cpu: u32,
    mut call: impl FnMut() -> bool,
) -> Option<Figure> {
    for _ in 0..WARMUP {
        call().then_some(())?;
    }
    let mut ns = Vec::new();
    let before = counters(boot, cpu);
    for _ in 0..BATCHES {
        let start = clock::now_ns();
        for _ in 0..CALLS {
            call().then_some(())?;
        }
        ns.push((clock::now_ns() - start) as f64 / CALLS as f64);
    }
    let after = counters(boot, cpu);
    // Each counter read is itself one kernel call (one entry, no switch, no upcall): the
    // entries counted include the two reads after the first and the last read itself.
    let calls = CALLS * BATCHES as u64;
    let per = |i: usize, reads: u64| (after[i] - before[i] - reads) as f64 / calls as f64;
    // The kernel time of the counter reads around them is left in: two calls among thousands.
    let ticks = kernel_ticks(boot, cpu, call)?;
    ns.sort_by(f64::total_cmp);
    Some(Figure {
        ns,
        entries: per(0, 3),
        switches: per(1, 0),
        upcalls: per(2, 0),
        kernel_ns: ticks * NS_PER_MS / k42_sys::page::Page::current().tsc_per_ms() as f64,
    })
}

fn print(out: &mut Writer<Ppc>, name: &str, f: &Figure) {
    let line = |name: &str, unit: &str, median: f64, min: f64, max: f64| {
        format!(
            "{{\"name\":\"{name}\",\"unit\":\"{unit}\",\"iterations\":{CALLS},\"median\":{median:.2},\"min\":{min:.2},\"max\":{max:.2}}}\n"
        )
    };
    let (min, max, median) = (f.ns[0], f.ns[BATCHES - 1], f.ns[BATCHES / 2]);
    let _ = out.write_bytes(line(name, "ns", median, min, max).as_bytes());
    for (what, v) in [
        ("kernel_entries", f.entries),
        ("space_switches", f.switches),
        ("upcalls", f.upcalls),
        ("kernel_ns", f.kernel_ns),
    ] {
        let _ = out.write_bytes(line(&format!("{name}.{what}"), "per_call", v, v, v).as_bytes());
    }
}

fn main(env: Env) -> u32 {
    let message = ring::wait_message_where(
        |msg| StartHandles::from_message(msg, env.arg1).is_some(),
        |msg| log!("ppcbench: ignored {msg:?}"),
    );
    let Some(handles) = StartHandles::from_message(&message, env.arg1) else {
        return NO_SETUP;
    };
    let mut out = Writer::new(ConsoleClient::new(Ppc::new(env.arg0), handles.console));
    let Some(boot_handle) = handles.boot else {
        log!("ppcbench: no Boot handle");
        return NO_SETUP;
    };
    let mut boot = BootClient::new(KernelPpc, boot_handle);
    let spawned = boot.spawn(
        ECHO.as_ptr() as u64,
        ECHO.len() as u64,
        class::SYSTEM,
        env.pid(),
        0,
        k42_kapi::SAME_CPU,
    );
    let Ok((echo_comm, echo_handle)) = spawned else {
        log!("ppcbench: cannot spawn echo: {spawned:?}");
        return NO_SETUP;
    };
    let mut echo_process = ProcessClient::new(KernelPpc, XHandle::from_word(echo_handle));
    if echo_process.start().is_err() {
        return NO_SETUP;
    }
    let cpu = env.page.cpu() as u32;
    let mut echo = EchoClient::new(Ppc::new(echo_comm), SPAWNER_HANDLE);
    let pid = env.pid();
    let Some(ppc) = measure(&mut boot, cpu, || echo.whoami() == Ok(pid)) else {
        log!("ppcbench: the echo server's whoami failed");
        return 1;
    };
    print(&mut out, "ppc_null_roundtrip", &ppc);
    let mut own = env.process();
    let Some(kernel) = measure(&mut boot, cpu, || own.ids().is_ok()) else {
        return 1;
    };
    print(&mut out, "kernel_object_null_call", &kernel);
    // The cheapest kernel call there is (cancel a timer that is not set): the cost of a ring
    // transition and the kernel's entry path alone, K42's counterpart of Linux's getppid.
    let Some(null) = measure(&mut boot, cpu, || k42_sys::kcall::timer(0) == 0) else {
        return 1;
    };
    print(&mut out, "null_kernel_call", &null);
    // The same kernel call, ending in an upcall: a deadline already past fires on the way out
    // of the call, and the running dispatcher, enabled, is entered at INTERRUPT with this
    // thread's registers (the call's status in rax) in its save area. The runtime's INTERRUPT
    // handler takes them as the thread's context and its idle loop switches back to it, at
    // user level (`k42_rt::sched`); the timer is disarmed by firing. The runtime has no timer
    // of its own armed here (one thread, no sleepers); had it one, it re-arms it on the TIMER
    // bit. So: one kernel entry and one upcall per call; less `null_kernel_call`, the timer's
    // firing and the upcall.
    let Some(upcall) = measure(&mut boot, cpu, || {
        k42_sys::kcall::is_ok(k42_sys::kcall::timer(PAST_DEADLINE_NS))
    }) else {
        log!("ppcbench: TIMER for the upcall refused");
        return 1;
    };
    print(&mut out, "upcall_roundtrip", &upcall);
    // A full data area each way: the server takes the call's bytes and sends them back.
    let send: Vec<u8> = (0..PPC_DATA_BYTES).map(|i| i as u8).collect();
    let mut recv = alloc::vec![0u8; PPC_DATA_BYTES];
    let mut ppc = Ppc::new(echo_comm);
    let Some(data) = measure(&mut boot, cpu, || {
        let mut transport = ppc.with_data(&send, &mut recv);
        let sent = EchoClient::new(&mut transport, SPAWNER_HANDLE).bounce();
        sent == Ok(PPC_DATA_BYTES as u64) && transport.received() == PPC_DATA_BYTES
    }) else {
        log!("ppcbench: the echo server's bounce failed");
        return 1;
    };
    if recv != send {
        log!("ppcbench: the echo server's bounce changed the data");
        return 1;
    }
    print(&mut out, "ppc_data_roundtrip", &data);
    let _ = echo_process.exit(0);
    0
}
