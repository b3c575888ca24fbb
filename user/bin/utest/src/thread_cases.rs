//! Cases on the runtime's user-level threads (`k42_rt::thread`, `k42_rt::sync`): spawn and join,
//! many threads at once, park and unpark in either order, waiting for a message while siblings
//! run, the FairBLock, timed sleeps, and a stack overflow caught by the red page.
//!
//! A case whose mechanism is broken may also hang (a lost wake-up never comes); the waits here
//! are bounded wherever the case itself can bound them, so it fails with a reason instead.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};

use k42_abi::kernel::comm_pid;
use k42_ifaces::ticker::{Plan, Report};
use k42_kapi::{SAME_CPU, class};
use k42_rt::sync::FairBLock;
use k42_rt::thread::{self, JoinHandle};
use k42_rt::trap::STACK_OVERFLOW_STATUS;
use k42_rt::{clock, log, memory, ring};

use crate::ctx::{Case, Ctx, NotPassed, Outcome, ensure, wait_exits};

/// The cases of this file.
pub const CASES: &[Case] = &[
    Case {
        name: "threads.spawn_join",
        run: spawn_join,
    },
    Case {
        name: "threads.thousand",
        run: thousand,
    },
    Case {
        name: "threads.block_unblock_either_order",
        run: block_unblock_either_order,
    },
    Case {
        name: "threads.async_wait_lets_siblings_run",
        run: async_wait_lets_siblings_run,
    },
    Case {
        name: "threads.fairblock",
        run: fairblock,
    },
    Case {
        name: "threads.sleep",
        run: sleep,
    },
    Case {
        name: "threads.red_page",
        run: red_page,
    },
];

/// Nanoseconds per millisecond.
const MS: u64 = 1_000_000;
/// How long a case waits for something that takes microseconds when it works.
const PATIENCE_NS: u64 = 1000 * MS;
/// How long a case waits for a helper process.
const HELPER_NS: u64 = 5000 * MS;

/// Waits (sleeping 1 ms at a time, so other threads run) until `cond` holds; false if it did
/// not within `within_ns`.
fn wait_until(within_ns: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = clock::now_ns() + within_ns;
    loop {
        if cond() {
            return true;
        }
        if clock::now_ns() >= deadline {
            return false;
        }
        thread::sleep(MS);
    }
}

/// Eight threads that compute, yield and return a value; their names; a thread that spawns and
/// joins its own; a stack slot reused after a join.
fn spawn_join(_: &mut Ctx) -> Outcome {
    const WORKERS: u64 = 8;
    let workers: Vec<JoinHandle<(bool, u64)>> = (0..WORKERS)
        .map(|i| {
            thread::spawn(&format!("worker-{i}"), move || {
                let named = thread::current().name() == format!("worker-{i}");
                let mut sum = 0u64;
                for k in 0..=100 * (i + 1) {
                    sum += k;
                    if k % 16 == 0 {
                        thread::yield_now();
                    }
                }
                (named, sum)
            })
        })
        .collect();
    for (i, worker) in (0u64..).zip(workers) {
        let (named, sum) = worker.join();
        let n = 100 * (i + 1);
        ensure!(named, "worker-{i} did not see its own name");
        ensure!(
            sum == n * (n + 1) / 2,
            "worker-{i} returned {sum}, want {}",
            n * (n + 1) / 2
        );
    }
    let outer = thread::spawn("outer", || thread::spawn("inner", || 41u64).join() + 1);
    let got = outer.join();
    ensure!(
        got == 42,
        "a thread joining its own child returned {got}, want 42"
    );
    let before = thread::stats();
    let again = thread::spawn("again", || thread::current().stack()).join();
    let after = thread::stats();
    ensure!(
        after.stack_slots == before.stack_slots && before.free_stacks > 0,
        "no stack was reused: {before:?} then {after:?} (thread on {again:x?})"
    );
    ensure!(
        after.threads == before.threads,
        "a joined thread is still counted: {before:?} then {after:?}"
    );
    Ok(())
}

/// A thousand threads alive at once: each starts, parks until released, and returns a value the
/// join checks. The heap and stack memory they took is logged.
fn thousand(_: &mut Ctx) -> Outcome {
    const THREADS: u64 = 1000;
    let heap_before = memory::heap_used();
    let started = Arc::new(AtomicU64::new(0));
    let deepest = Arc::new(AtomicU64::new(0));
    let go = Arc::new(AtomicBool::new(false));
    let handles: Vec<JoinHandle<u64>> = (0..THREADS)
        .map(|i| {
            let (started, deepest, go) = (started.clone(), deepest.clone(), go.clone());
            thread::spawn(&format!("t{i}"), move || {
                started.fetch_add(1, Ordering::AcqRel);
                let here = 0u8;
                let (_, top) = thread::current().stack();
                let depth = top - core::hint::black_box(&here as *const u8 as u64);
                deepest.fetch_max(depth, Ordering::AcqRel);
                while !go.load(Ordering::Acquire) {
                    thread::park();
                }
                i * 3
            })
        })
        .collect();
    let all_started = wait_until(PATIENCE_NS * 10, || {
        started.load(Ordering::Acquire) == THREADS
    });
    let alive = thread::stats();
    let heap_alive = memory::heap_used();
    go.store(true, Ordering::Release);
    for h in &handles {
        h.thread().unpark();
    }
    ensure!(
        all_started,
        "only {} of {THREADS} threads started",
        started.load(Ordering::Acquire)
    );
    ensure!(
        alive.threads as u64 > THREADS,
        "{} threads alive on the dispatcher with {THREADS} parked",
        alive.threads
    );
    let mut sum = 0;
    for h in handles {
        sum += h.join();
    }
    let want = 3 * THREADS * (THREADS - 1) / 2;
    ensure!(sum == want, "the joins returned {sum} in all, want {want}");
    // Each stack is touched from its top down to the deepest frame (pages of 4 KiB).
    let depth = deepest.load(Ordering::Acquire);
    let stack_pages = depth.div_ceil(4096);
    let heap_kib = heap_alive.saturating_sub(heap_before) as u64 / 1024;
    let stack_kib = THREADS * stack_pages * 4;
    log!(
        "utest: {THREADS} threads alive took {} KiB: heap {heap_kib} KiB, stacks {stack_kib} KiB \
         ({stack_pages} page(s) each, deepest {depth} bytes; slots mapped {}); page tables not counted",
        heap_kib + stack_kib,
        alive.stack_slots
    );
    Ok(())
}

/// Park and unpark in both orders: an unpark first leaves a permit the next park takes at
/// once; a park first waits until the unpark; permits do not pile up.
fn block_unblock_either_order(_: &mut Ctx) -> Outcome {
    // Unpark first.
    let armed = Arc::new(AtomicBool::new(false));
    let early = {
        let armed = armed.clone();
        thread::spawn("early-permit", move || {
            while !armed.load(Ordering::Acquire) {
                thread::yield_now();
            }
            thread::park();
        })
    };
    early.thread().unpark();
    armed.store(true, Ordering::Release);
    if !wait_until(PATIENCE_NS, || early.is_finished()) {
        early.thread().unpark();
        return Err(NotPassed::Failed(
            "a park after an earlier unpark did not return: the wake-up was lost".into(),
        ));
    }
    early.join();

    // Park first.
    let state = Arc::new(AtomicU8::new(0));
    let late = {
        let state = state.clone();
        thread::spawn("late-permit", move || {
            state.store(1, Ordering::Release);
            thread::park();
            state.store(2, Ordering::Release);
        })
    };
    ensure!(
        wait_until(PATIENCE_NS, || state.load(Ordering::Acquire) == 1),
        "the parking thread never ran"
    );
    thread::sleep(20 * MS);
    ensure!(
        state.load(Ordering::Acquire) == 1,
        "park returned without an unpark"
    );
    late.thread().unpark();
    if !wait_until(PATIENCE_NS, || late.is_finished()) {
        return Err(NotPassed::Failed(
            "an unpark did not wake the parked thread".into(),
        ));
    }
    late.join();
    ensure!(
        state.load(Ordering::Acquire) == 2,
        "the woken thread did not go on"
    );

    // Two unparks make one permit: the second park waits.
    let parks = Arc::new(AtomicU8::new(0));
    let twice = {
        let parks = parks.clone();
        thread::spawn("one-permit", move || {
            thread::park();
            parks.store(1, Ordering::Release);
            thread::park();
            parks.store(2, Ordering::Release);
        })
    };
    twice.thread().unpark();
    twice.thread().unpark();
    ensure!(
        wait_until(PATIENCE_NS, || parks.load(Ordering::Acquire) == 1),
        "the first park did not take the permit"
    );
    thread::sleep(20 * MS);
    ensure!(
        parks.load(Ordering::Acquire) == 1,
        "two unparks let two parks through: permits piled up"
    );
    twice.thread().unpark();
    ensure!(
        wait_until(PATIENCE_NS, || twice.is_finished()),
        "the second park was not woken"
    );
    twice.join();
    Ok(())
}

/// A thread waits for the ticker helper's async message (some 30 ms away) while a sibling counts
/// and yields: the sibling must have counted on while the waiter waited. (If waiting blocked
/// the dispatcher, the count would not move.)
fn async_wait_lets_siblings_run(ctx: &mut Ctx) -> Outcome {
    let counter = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sibling = {
        let (counter, stop) = (counter.clone(), stop.clone());
        thread::spawn("sibling", move || {
            while !stop.load(Ordering::Acquire) {
                counter.fetch_add(1, Ordering::AcqRel);
                thread::yield_now();
            }
        })
    };
    let ticker_pid = Arc::new(AtomicU64::new(u64::MAX));
    let waiter = {
        let (counter, ticker_pid) = (counter.clone(), ticker_pid.clone());
        thread::spawn("waiter", move || {
            let before = counter.load(Ordering::Acquire);
            let deadline = clock::now_ns() + HELPER_NS;
            let msg = ring::wait_message_where_until(
                deadline,
                |m| Report::from_message(m, ticker_pid.load(Ordering::Acquire)).is_some(),
                |m| log!("utest: ignored a message while waiting for the ticker: {m:?}"),
            );
            (msg.is_some(), before, counter.load(Ordering::Acquire))
        })
    };
    let plan = Plan {
        ticks: 3,
        spin_us: 0,
    };
    let spawned = ctx.spawn_helper(
        "ticker",
        class::APPLICATION,
        SAME_CPU,
        ctx.env.comm_id,
        plan.to_word(),
    );
    let pid = spawned.map(|(comm, _)| comm_pid(comm));
    if let Ok(pid) = pid {
        ticker_pid.store(pid, Ordering::Release);
    }
    let (got, before, after) = waiter.join();
    stop.store(true, Ordering::Release);
    sibling.join();
    let pid = pid?;
    ensure!(got, "no message from the ticker within 5 s");
    ensure!(
        after > before,
        "the sibling did not run while the waiter waited (count {before} → {after})"
    );
    let statuses = wait_exits(&[pid], HELPER_NS)?;
    ensure!(statuses == [0], "the ticker exited with {statuses:?}");
    Ok(())
}

/// Six threads add 100 each to a counter under a FairBLock, yielding inside the critical
/// section (so a broken lock loses updates), and others must queue meanwhile; then five
/// waiters queued in order get the lock in that order, and the releaser, locking again at once,
/// gets it after them (hand-off, no barging).
fn fairblock(_: &mut Ctx) -> Outcome {
    const ADDERS: u64 = 6;
    const ADDS: u64 = 100;
    let counter = Arc::new(FairBLock::new(0u64));
    let most_waiting = Arc::new(AtomicUsize::new(0));
    let adders: Vec<JoinHandle<()>> = (0..ADDERS)
        .map(|i| {
            let (counter, most_waiting) = (counter.clone(), most_waiting.clone());
            thread::spawn(&format!("adder-{i}"), move || {
                for _ in 0..ADDS {
                    let mut value = counter.lock();
                    let read = *value;
                    thread::yield_now();
                    most_waiting.fetch_max(counter.waiting(), Ordering::AcqRel);
                    *value = read + 1;
                }
            })
        })
        .collect();
    for adder in adders {
        adder.join();
    }
    let total = *counter.lock();
    ensure!(
        total == ADDERS * ADDS,
        "the counter is {total}, want {}: updates were lost",
        ADDERS * ADDS
    );
    let most = most_waiting.load(Ordering::Acquire);
    ensure!(
        most > 0,
        "no thread ever waited for the lock while a holder yielded"
    );

    const WAITERS: u32 = 5;
    let order = Arc::new(FairBLock::new(Vec::<u32>::new()));
    let held = order.lock();
    let mut waiters = Vec::new();
    for i in 1..=WAITERS {
        let mine = order.clone();
        waiters.push(thread::spawn(&format!("waiter-{i}"), move || {
            mine.lock().push(i);
        }));
        ensure!(
            wait_until(PATIENCE_NS, || order.waiting() == i as usize),
            "waiter-{i} did not queue ({} waiting)",
            order.waiting()
        );
    }
    drop(held);
    order.lock().push(0);
    for w in waiters {
        w.join();
    }
    let got = order.lock().clone();
    ensure!(
        got == [1, 2, 3, 4, 5, 0],
        "the lock went to {got:?}, want [1, 2, 3, 4, 5, 0] (FIFO hand-off, the releaser last)"
    );
    Ok(())
}

/// A 30 ms sleep lasts at least 30 ms by the kernel clock, alone (the dispatcher sleeps in the
/// kernel until its TIMER) and with a sibling that counts meanwhile; and two sleepers wake in
/// deadline order.
fn sleep(_: &mut Ctx) -> Outcome {
    const NAP: u64 = 30 * MS;
    let start = clock::now_ns();
    thread::sleep(NAP);
    let alone = clock::now_ns() - start;
    ensure!(alone >= NAP, "a 30 ms sleep took {alone} ns");
    ensure!(alone < 50 * NAP, "a 30 ms sleep took {} ms", alone / MS);

    let counter = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sibling = {
        let (counter, stop) = (counter.clone(), stop.clone());
        thread::spawn("sibling", move || {
            while !stop.load(Ordering::Acquire) {
                counter.fetch_add(1, Ordering::AcqRel);
                thread::yield_now();
            }
        })
    };
    let start = clock::now_ns();
    let before = counter.load(Ordering::Acquire);
    thread::sleep(NAP);
    let slept = clock::now_ns() - start;
    let after = counter.load(Ordering::Acquire);
    stop.store(true, Ordering::Release);
    sibling.join();
    ensure!(
        slept >= NAP,
        "a 30 ms sleep beside a busy sibling took {slept} ns"
    );
    ensure!(
        after > before,
        "the sibling did not run while main slept (count {before} → {after})"
    );

    let woke = Arc::new(FairBLock::new(Vec::<u32>::new()));
    let sleepers: Vec<JoinHandle<()>> = [(2u32, 40 * MS), (1, 20 * MS)]
        .into_iter()
        .map(|(id, nap)| {
            let woke = woke.clone();
            thread::spawn(&format!("sleeper-{id}"), move || {
                thread::sleep(nap);
                woke.lock().push(id);
            })
        })
        .collect();
    for s in sleepers {
        s.join();
    }
    let order = woke.lock().clone();
    ensure!(
        order == [1, 2],
        "sleepers of 20 and 40 ms woke as {order:?}"
    );
    Ok(())
}

/// The helper `/k42/bin/overflow` overflows a thread's stack: the kernel's EXITED message must
/// carry the runtime's stack-overflow status (a plain fault would be 139, a panic 101).
fn red_page(ctx: &mut Ctx) -> Outcome {
    let (comm, _process) = ctx.spawn_helper("overflow", class::APPLICATION, SAME_CPU, 0, 0)?;
    let statuses = wait_exits(&[comm_pid(comm)], HELPER_NS)?;
    ensure!(
        statuses == [STACK_OVERFLOW_STATUS],
        "overflow exited with {statuses:?}, want [{STACK_OVERFLOW_STATUS}] (the stack-overflow \
         status; 139 is an unrecognised fault, 101 a panic, 1 no overflow)"
    );
    Ok(())
}
