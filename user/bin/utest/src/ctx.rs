//! What a case gets and returns: the program's environment, its `Boot` handle, and the echo
//! server the PPC cases share (spawned on first use); the verdict type and the `ensure!` and
//! `fail!` helpers, as in the in-kernel tests (`kernel/src/ktest/mod.rs`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Display;

use k42_abi::kernel::comm_pid;
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::echo::EchoClient;
use k42_kapi::{BootClient, ProcessClient, class};
use k42_rights::wire::{CallError, DispatchError};
use k42_rights::{Rights, RightsError, XHandle};
use k42_rt::{Env, KernelPpc, Ppc, clock, log, process, ring};

/// The echo server's program name under `/k42/bin`.
const ECHO_SERVER: &str = "echo";

/// Why a case did not pass.
#[derive(Debug)]
pub enum NotPassed {
    /// It failed, for this reason.
    Failed(String),
    /// It could not run here, for this reason.
    Skipped(String),
}

impl From<String> for NotPassed {
    fn from(why: String) -> Self {
        Self::Failed(why)
    }
}

/// A case's verdict.
pub type Outcome = Result<(), NotPassed>;

/// One named case.
pub struct Case {
    /// Name in the result line (no spaces).
    pub name: &'static str,
    /// The case.
    pub run: fn(&mut Ctx) -> Outcome,
}

/// A failure naming the call that failed.
pub fn failed(what: &str, e: impl Display) -> NotPassed {
    NotPassed::Failed(format!("{what}: {e}"))
}

/// Whether `result` is a refusal by the rights check for want of exactly `missing`, with the
/// caller's badge matched (our own handles are matched to us).
pub fn lacks<T, E>(result: &Result<T, CallError<E>>, missing: Rights) -> bool {
    matches!(
        result,
        Err(CallError::Failed(DispatchError::Rights(RightsError::Lacking {
            missing: m,
            badge_matched: true,
        }))) if *m == missing
    )
}

/// Fails the case with a formatted reason unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($why:tt)*) => {
        if !$cond {
            return Err($crate::ctx::NotPassed::Failed(alloc::format!($($why)*)));
        }
    };
}
pub(crate) use ensure;

/// The echo server the PPC cases call.
pub struct EchoChild {
    /// Its dispatcher.
    pub comm: u64,
    /// Our handle on its process (every right: we spawned it).
    pub process: ProcessClient<KernelPpc>,
}

impl EchoChild {
    /// A client of the echo object it made for us.
    pub fn client(&self) -> EchoClient<Ppc> {
        EchoClient::new(Ppc::new(self.comm), SPAWNER_HANDLE)
    }
}

/// Everything the cases share.
pub struct Ctx {
    /// The program's environment.
    pub env: Env,
    /// The bootstrap's `Boot` object, given to us (READ, CONTROL), if we got it.
    pub boot: Option<BootClient<KernelPpc>>,
    /// The echo server, once spawned (and until a case ends it).
    pub echo: Option<EchoChild>,
}

impl Ctx {
    /// The context before any case ran.
    pub fn new(env: Env, boot: Option<BootClient<KernelPpc>>) -> Self {
        Self {
            env,
            boot,
            echo: None,
        }
    }

    /// The `Boot` handle, or a skip when the bootstrap gave none.
    pub fn boot(&mut self) -> Result<&mut BootClient<KernelPpc>, NotPassed> {
        self.boot
            .as_mut()
            .ok_or_else(|| NotPassed::Skipped("no Boot handle from the bootstrap".into()))
    }

    /// Our CPU and the next one, for the cases that need a second CPU (skipped with one).
    pub fn here_and_next_cpu(&mut self) -> Result<(u32, u32), NotPassed> {
        let cpus = self.boot()?.cpus().map_err(|e| failed("Boot::cpus", e))?;
        if cpus < 2 {
            return Err(NotPassed::Skipped("one CPU".into()));
        }
        let here = u32::try_from(self.env.page.cpu()).map_err(|e| failed("our CPU", e))?;
        Ok((here, (here + 1) % cpus))
    }

    /// Spawns the native program `name` as a process of `class` on CPU `cpu` (or
    /// `k42_kapi::SAME_CPU`) with the two spawn words, and starts it; its CommID and our
    /// handle on it.
    pub fn spawn_helper(
        &mut self,
        name: &str,
        class: u8,
        cpu: u32,
        arg0: u64,
        arg1: u64,
    ) -> Result<(u64, ProcessClient<KernelPpc>), NotPassed> {
        let (comm, handle) = self
            .boot()?
            .spawn(
                name.as_ptr() as u64,
                name.len() as u64,
                class,
                arg0,
                arg1,
                cpu,
            )
            .map_err(|e| failed(&format!("Boot::spawn({name})"), e))?;
        let mut process = ProcessClient::new(KernelPpc, XHandle::from_word(handle));
        process
            .start()
            .map_err(|e| failed(&format!("Process::start({name})"), e))?;
        Ok((comm, process))
    }

    /// The echo server, spawned and started (with our badge in `arg0`) on first use.
    pub fn echo(&mut self) -> Result<&EchoChild, NotPassed> {
        if self.echo.is_none() {
            let pid = self.env.pid();
            let (comm, handle) = self
                .boot()?
                .spawn(
                    ECHO_SERVER.as_ptr() as u64,
                    ECHO_SERVER.len() as u64,
                    class::APPLICATION,
                    pid,
                    0,
                    k42_kapi::SAME_CPU,
                )
                .map_err(|e| failed("Boot::spawn(echo)", e))?;
            let mut process = ProcessClient::new(KernelPpc, XHandle::from_word(handle));
            process
                .start()
                .map_err(|e| failed("Process::start(echo)", e))?;
            self.echo = Some(EchoChild { comm, process });
        }
        self.echo
            .as_ref()
            .ok_or_else(|| NotPassed::Failed("echo server lost".into()))
    }
}

/// How long the kernel may take to report a helper's end (nanoseconds).
const HELPER_EXIT_NS: u64 = 2_000_000_000;

/// Ends a helper process a case spawned (`Ctx::spawn_helper`, CommID `comm`) with `status`,
/// through our handle on it, and waits for the kernel's EXITED message; then the case's
/// `outcome`, and that the helper, named `what` in messages, ended with `status`.
pub fn end_helper(
    mut process: ProcessClient<KernelPpc>,
    comm: u64,
    status: u32,
    what: &str,
    outcome: Outcome,
) -> Outcome {
    process
        .exit(status)
        .map_err(|e| failed(&format!("Process::exit on the {what}"), e))?;
    let statuses = wait_exits(&[comm_pid(comm)], HELPER_EXIT_NS)?;
    outcome?;
    ensure!(statuses == [status], "the {what} exited with {statuses:?}");
    Ok(())
}

/// Waits (this thread only) until the kernel's EXITED message of every process in `pids` came,
/// or `within_ns` passed; their statuses in the order of `pids`. Other messages are logged and
/// dropped.
pub fn wait_exits(pids: &[u64], within_ns: u64) -> Result<Vec<u32>, NotPassed> {
    let deadline = clock::now_ns().saturating_add(within_ns);
    let mut statuses: Vec<Option<u32>> = alloc::vec![None; pids.len()];
    while statuses.iter().any(Option::is_none) {
        let Some(msg) = ring::wait_message_until(deadline) else {
            let missing: Vec<u64> = pids
                .iter()
                .zip(&statuses)
                .filter(|(_, s)| s.is_none())
                .map(|(p, _)| *p)
                .collect();
            return Err(NotPassed::Failed(format!(
                "no EXITED message for pid(s) {missing:?} within {} ms",
                within_ns / 1_000_000
            )));
        };
        let found = pids
            .iter()
            .position(|&pid| process::exited(&msg, pid).is_some());
        match found {
            Some(i) => statuses[i] = process::exited(&msg, pids[i]),
            None => log!("utest: ignored a message while waiting for exits: {msg:?}"),
        }
    }
    Ok(statuses.into_iter().flatten().collect())
}
