//! Per-CPU kernel state: each CPU's scheduler policy, the dispatchers it runs (it alone runs
//! them, so their kernel-side state is this CPU's), which one holds the CPU now, its mailbox for
//! work other CPUs hand it, and its counters.
//!
//! No global lock (DESIGN §2.8): a CPU's state is locked by that CPU on every entry from user
//! mode, and by nobody else; other CPUs only push into its mailbox (a separate short lock) and
//! send the wake-up IPI. The kernel runs with interrupts off, so the lock is never contended by
//! this CPU itself, and it is dropped while the CPU idles.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use k42_abi::kernel::{comm_id, comm_pid};
use k42_kapi::counter;
use k42_sched::{Class, Config, Scheduler};
use spin::{Mutex, Once};

use crate::dispatcher::Dispatcher;

/// Most dispatchers one CPU holds (the policy scans its table on every event, so this stays
/// small).
pub const MAX_DISPATCHERS: usize = 64;

/// What another CPU (or this one, from outside its entry path) asks of a CPU.
pub enum Mail {
    /// A new dispatcher for this CPU, blocked until woken.
    Add(Box<Dispatcher>),
    /// Soft-interrupt bits were set in this dispatcher's page: wake it if it sleeps.
    Wake(u64),
    /// Its process was started: let this stopped dispatcher run.
    Start(u64),
    /// Remove every dispatcher of this process (it exited).
    Kill(u64),
    /// Stop every dispatcher of this process here (`jobstop.rs`); then, if `ack` names a
    /// dispatcher, tell it this CPU has (`StopAck`).
    Stop {
        /// The process.
        pid: u64,
        /// The dispatcher waiting in its `Process::stop` call for every CPU's word.
        ack: Option<u64>,
    },
    /// This CPU has stopped the process this dispatcher (here) asked to stop.
    StopAck(u64),
    /// Continue every dispatcher of this process here (`jobstop.rs`).
    Continue(u64),
    /// A PPC from a dispatcher on another CPU (the slow path, `kcall/ppc.rs`).
    Call(crate::kcall::ppc::RemoteCall),
    /// The reply to a PPC one of this CPU's dispatchers made to another CPU.
    Reply(crate::kcall::ppc::RemoteReply),
    /// Run this kernel function here, as the mail is read (Linux's `smp_call_function`; the
    /// in-kernel tests use it to race two CPUs). It runs with this CPU's state locked, so it
    /// must not touch its own CPU's dispatchers or wait for mail to this CPU.
    Run(Box<dyn FnOnce() + Send>),
}

/// One CPU's kernel state, locked only by that CPU.
pub struct Cpu {
    /// Index of this CPU (order of the MADT).
    pub index: usize,
    /// The scheduling policy (`k42-sched`), by dispatcher CommID.
    pub sched: Scheduler<MAX_DISPATCHERS>,
    /// The dispatchers this CPU runs, by CommID.
    pub dispatchers: Dispatchers,
    /// The dispatcher whose registers the CPU holds (in the entry frame) right now.
    pub running: Option<u64>,
    /// I/O port ranges open in this CPU's TSS bitmap (the running process's grants).
    pub io_open: Vec<(u16, u16)>,
    /// No dispatcher timer here is due before this (kernel-clock ns): entries skip the timer
    /// scan until then. Lowered when a timer is set, recomputed by the scan.
    pub next_timer: u64,
    /// The dispatcher whose CPU time runs now, and since when (kernel-clock ns):
    /// `switch::account` keeps it in step with the policy.
    pub accounted: Option<(u64, u64)>,
}

impl Cpu {
    /// Puts dispatcher `d` (CommID `comm`) on this CPU, counting an application's for
    /// [`least_loaded`].
    pub fn add_dispatcher(&mut self, comm: u64, mut d: Dispatcher) {
        // Added to a process stopped by job control, it is stopped too (`jobstop.rs`).
        d.job_stopped = d.shared.process.job_stopped.load(Ordering::Acquire);
        if d.class == Class::Application
            && let Some(slot) = get(self.index)
        {
            slot.apps.fetch_add(1, Ordering::Relaxed);
        }
        self.dispatchers.insert(comm, d);
    }

    /// Takes dispatcher `comm` off this CPU.
    pub fn remove_dispatcher(&mut self, comm: u64) -> Option<Dispatcher> {
        let d = self.dispatchers.remove(&comm)?;
        if d.class == Class::Application
            && let Some(slot) = get(self.index)
        {
            slot.apps.fetch_sub(1, Ordering::Relaxed);
        }
        Some(d)
    }
}

/// The kernel command-line flag that keeps fork children on their parent's CPU instead of
/// placing them on the least loaded one ([`least_loaded`]), which is the default: every server
/// serves on every CPU (a dispatcher on each), so a process anywhere calls them on its own CPU
/// (docs/architecture.md, "Where processes run").
pub const FORKS_BESIDE_PARENT: &str = "forks_beside_parent";

/// Whether fork children are spread (no [`FORKS_BESIDE_PARENT`]).
static SPREAD: AtomicBool = AtomicBool::new(true);

/// Turns spreading fork children on or off (at boot, from the command line).
pub fn set_spread_forks(on: bool) {
    SPREAD.store(on, Ordering::Relaxed);
}

/// The CPU a fork child of a dispatcher on CPU `parent` goes to: [`least_loaded`], or the
/// parent's with [`FORKS_BESIDE_PARENT`].
pub fn fork_child_cpu(parent: usize) -> usize {
    if SPREAD.load(Ordering::Relaxed) {
        least_loaded(parent)
    } else {
        parent
    }
}

/// The CPU a new application dispatcher goes to: the one running the fewest, `prefer` (the
/// caller's) when it is among them — so a forked child starts beside its parent until another
/// CPU has less to do, and a multi-process workload spreads over every CPU. A snapshot: two
/// forks at once may pick the same CPU, which only makes the spread less even.
pub fn least_loaded(prefer: usize) -> usize {
    let load = |slot: &Slot| slot.apps.load(Ordering::Relaxed);
    let mut best = prefer;
    let mut least = get(prefer).map_or(usize::MAX, load);
    for slot in all() {
        if load(slot) < least {
            least = load(slot);
            best = slot.index;
        }
    }
    best
}

/// The dispatchers of one CPU by CommID, iterated in CommID order like a map. Looked up several
/// times on every kernel entry, and few (at most `MAX_DISPATCHERS`), so kept as a sorted array
/// of CommIDs beside their dispatchers: a lookup is a binary search of one short array, or
/// less when it is for one of the two dispatchers found last (an entry looks the running one up
/// repeatedly, and a PPC its caller and its server in turn).
#[derive(Default)]
pub struct Dispatchers {
    comms: Vec<u64>,
    dispatchers: Vec<Dispatcher>,
    /// Where the last two lookups found their dispatchers, newest first: hints, checked against
    /// `comms` before use (so one made stale by an insertion or removal costs only the search).
    last: [Cell<usize>; 2],
}

impl Dispatchers {
    #[inline]
    fn index(&self, comm: u64) -> Option<usize> {
        let [newest, older] = &self.last;
        let (a, b) = (newest.get(), older.get());
        if self.comms.get(a) == Some(&comm) {
            return Some(a);
        }
        if self.comms.get(b) == Some(&comm) {
            newest.set(b);
            older.set(a);
            return Some(b);
        }
        let i = self.comms.binary_search(&comm).ok()?;
        newest.set(i);
        older.set(a);
        Some(i)
    }

    /// Dispatcher `comm`, if it is here.
    #[inline]
    pub fn get(&self, comm: &u64) -> Option<&Dispatcher> {
        self.index(*comm).and_then(|i| self.dispatchers.get(i))
    }

    /// Dispatcher `comm`, if it is here, to change.
    #[inline]
    pub fn get_mut(&mut self, comm: &u64) -> Option<&mut Dispatcher> {
        self.index(*comm).and_then(|i| self.dispatchers.get_mut(i))
    }

    /// Dispatchers `a` and `b` (two different ones), both to change: a PPC's caller and
    /// server, found with one lookup each.
    #[inline(always)]
    pub fn pair_mut(&mut self, a: u64, b: u64) -> Option<(&mut Dispatcher, &mut Dispatcher)> {
        let (i, j) = (self.index(a)?, self.index(b)?);
        self.pair_at_mut(i, j)
    }

    /// [`Self::pair_mut`] where a `b` that is not here is replaced by what `elsewhere` picks
    /// here for it (a PPC's target by its process's dispatcher here); the `b` used, too.
    #[inline(always)]
    pub fn pair_mut_or(
        &mut self,
        a: u64,
        b: u64,
        elsewhere: impl FnOnce(&Self) -> Option<u64>,
    ) -> Option<(u64, &mut Dispatcher, &mut Dispatcher)> {
        let i = self.index(a)?;
        let (b, j) = match self.index(b) {
            Some(j) => (b, j),
            None => {
                let b = elsewhere(self)?;
                (b, self.index(b)?)
            }
        };
        let (x, y) = self.pair_at_mut(i, j)?;
        Some((b, x, y))
    }

    /// The dispatchers at places `i` and `j` (two different ones), both to change.
    #[inline(always)]
    fn pair_at_mut(&mut self, i: usize, j: usize) -> Option<(&mut Dispatcher, &mut Dispatcher)> {
        if i < j {
            let (low, high) = self.dispatchers.split_at_mut(j);
            Some((low.get_mut(i)?, high.first_mut()?))
        } else if j < i {
            let (low, high) = self.dispatchers.split_at_mut(i);
            Some((high.first_mut()?, low.get_mut(j)?))
        } else {
            None
        }
    }

    /// The dispatcher here of the process `comm` names, if it has one (a process has at most
    /// one per CPU). CommIDs sort by process id first, so it is the first at or after the
    /// process's index 0.
    pub fn of_process(&self, comm: u64) -> Option<u64> {
        let pid = comm_pid(comm);
        let first = self.comms.partition_point(|&c| c < comm_id(pid, 0));
        self.comms
            .get(first)
            .copied()
            .filter(|&c| comm_pid(c) == pid)
    }

    /// Whether dispatcher `comm` is here.
    #[inline]
    pub fn contains_key(&self, comm: &u64) -> bool {
        self.index(*comm).is_some()
    }

    /// Adds `d` as `comm`, returning the one it replaces.
    pub fn insert(&mut self, comm: u64, d: Dispatcher) -> Option<Dispatcher> {
        match self.comms.binary_search(&comm) {
            Ok(i) => Some(core::mem::replace(&mut self.dispatchers[i], d)),
            Err(i) => {
                self.comms.insert(i, comm);
                self.dispatchers.insert(i, d);
                None
            }
        }
    }

    /// Removes dispatcher `comm`.
    pub fn remove(&mut self, comm: &u64) -> Option<Dispatcher> {
        let i = self.index(*comm)?;
        self.comms.remove(i);
        Some(self.dispatchers.remove(i))
    }

    /// CommIDs and dispatchers, in CommID order.
    pub fn iter(&self) -> impl Iterator<Item = (&u64, &Dispatcher)> {
        self.comms.iter().zip(&self.dispatchers)
    }

    /// The dispatchers, in CommID order.
    pub fn values(&self) -> impl Iterator<Item = &Dispatcher> {
        self.dispatchers.iter()
    }
}

/// A CPU: its state, its mailbox and its counters.
pub struct Slot {
    /// Its index (order of the MADT).
    pub index: usize,
    /// Its local APIC id.
    pub apic_id: u32,
    /// Its kernel state.
    pub state: Mutex<Cpu>,
    /// Work other CPUs handed it ([`Slot::post`], [`Slot::take_mail`]).
    mailbox: Mutex<Vec<Mail>>,
    /// Whether `mailbox` holds any (changed under its lock): every entry looks, and most find
    /// none, so they look without taking the lock. Mail posted just after a look is seen at
    /// the next entry, which its wake-up interrupt makes.
    has_mail: AtomicBool,
    /// The kernel object call in progress on this CPU (`kobj`).
    pub call: Mutex<crate::kobj::CallCx>,
    counters: [AtomicU64; counter::COUNT as usize],
    /// Application dispatchers here: what [`least_loaded`] places a fork child by. Read by
    /// any CPU without this CPU's lock, so an atomic beside `dispatchers`.
    apps: AtomicUsize,
    /// TLB shootdowns asked of this CPU and done (`crate::tlb`).
    pub tlb: crate::tlb::Generations,
}

static CPUS: Once<Vec<Slot>> = Once::new();

/// Creates the state of every CPU the MADT listed (before any starts running dispatchers).
pub fn init(apic_ids: &[u32]) {
    CPUS.call_once(|| {
        apic_ids
            .iter()
            .enumerate()
            .map(|(index, &apic_id)| Slot {
                index,
                apic_id,
                state: Mutex::new(Cpu {
                    index,
                    sched: Scheduler::new(Config::default()),
                    dispatchers: Dispatchers::default(),
                    running: None,
                    io_open: Vec::new(),
                    next_timer: u64::MAX,
                    accounted: None,
                }),
                mailbox: Mutex::new(Vec::new()),
                has_mail: AtomicBool::new(false),
                call: Mutex::new(crate::kobj::CallCx {
                    comm: 0,
                    effects: Vec::new(),
                }),
                counters: [const { AtomicU64::new(0) }; counter::COUNT as usize],
                apps: AtomicUsize::new(0),
                tlb: crate::tlb::Generations::default(),
            })
            .collect()
    });
}

fn all() -> &'static [Slot] {
    CPUS.get().expect("cpu::init ran at boot")
}

/// How many CPUs there are.
pub fn count() -> usize {
    all().len()
}

/// CPU `index`, if it exists.
pub fn get(index: usize) -> Option<&'static Slot> {
    all().get(index)
}

/// The CPU this code runs on: its index is cached in the hardware crate's per-CPU block, found
/// once by APIC id (a device read and a search) on the CPU's first call. Inline: every kernel
/// entry asks several times.
#[inline]
pub fn this() -> &'static Slot {
    let cached = k42_hal::user::cpu_index();
    match all().get(cached as usize) {
        Some(slot) => slot,
        None => find_this(),
    }
}

/// [`this`] on a CPU's first call.
#[cold]
#[inline(never)]
fn find_this() -> &'static Slot {
    let apic_id = k42_hal::apic::cpu_id();
    let slot = all()
        .iter()
        .find(|s| s.apic_id == apic_id)
        .expect("every running CPU is listed in the MADT");
    k42_hal::user::set_cpu_index(slot.index as u64);
    slot
}

impl Slot {
    /// Adds one to counter `which` (`k42_kapi::counter`).
    pub fn count(&self, which: u32) {
        self.counters[which as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` to counter `which`.
    pub fn add(&self, which: u32, n: u64) {
        self.counters[which as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Whether other CPUs have handed this one work it has not taken.
    #[inline]
    pub fn has_mail(&self) -> bool {
        self.has_mail.load(Ordering::Acquire)
    }

    /// The work other CPUs handed this one, in the order they posted it (empty if none).
    pub fn take_mail(&self) -> Vec<Mail> {
        if !self.has_mail() {
            return Vec::new();
        }
        let mut mailbox = self.mailbox.lock();
        self.has_mail.store(false, Ordering::Release);
        core::mem::take(&mut *mailbox)
    }

    /// Counter `which`, if it exists.
    pub fn counter(&self, which: u32) -> Option<u64> {
        self.counters
            .get(which as usize)
            .map(|c| c.load(Ordering::Relaxed))
    }

    /// Hands `mail` to this CPU and, if it is another CPU, interrupts it so it looks.
    pub fn post(&self, mail: Mail) {
        {
            let mut mailbox = self.mailbox.lock();
            mailbox.push(mail);
            self.has_mail.store(true, Ordering::Release);
        }
        if self.apic_id != k42_hal::apic::cpu_id() {
            // `has_mail` must be visible before the interrupt can arrive: the receiver reads
            // it without the lock (`Slot::has_mail`).
            core::sync::atomic::fence(Ordering::SeqCst);
            this().count(counter::IPIS);
            k42_hal::apic::send_fixed(self.apic_id, k42_hal::trap::WAKE_VECTOR);
        }
    }
}

/// Nanoseconds since boot on the kernel clock.
pub fn now() -> u64 {
    k42_hal::time::uptime_ns()
}
