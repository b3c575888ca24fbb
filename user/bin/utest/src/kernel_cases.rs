//! Cases on the kernel's own objects (`k42_kapi`) from ring 3: the ids and badge the kernel
//! gave us, its rights check refusing what our handles lack, and a released handle going stale.

use k42_abi::kernel::comm_pid;
use k42_kapi::BootClient;
use k42_rights::wire::{CallError, DispatchError, meta};
use k42_rights::{Badge, Rights, RightsError};
use k42_rt::KernelPpc;

use crate::ctx::{Case, Ctx, Outcome, ensure, failed, lacks};

/// The cases of this file.
pub const CASES: &[Case] = &[
    Case {
        name: "kernel.badge_is_stamped",
        run: badge_is_stamped,
    },
    Case {
        name: "kernel.rights_refused",
        run: rights_refused,
    },
    Case {
        name: "kernel.stale_handle",
        run: stale_handle,
    },
];

/// `Process::ids` names the CommID the first entry gave, and the page agrees.
fn badge_is_stamped(ctx: &mut Ctx) -> Outcome {
    let (pid, comm) = ctx
        .env
        .process()
        .ids()
        .map_err(|e| failed("Process::ids", e))?;
    let first = ctx.env.comm_id;
    ensure!(
        comm == first,
        "Process::ids says CommID {comm:#x}, the first entry said {first:#x}"
    );
    ensure!(
        pid == comm_pid(first),
        "Process::ids says pid {pid}, CommID {first:#x} belongs to pid {}",
        comm_pid(first)
    );
    let page = ctx.env.page.comm_id();
    ensure!(
        page == first,
        "the dispatcher page says CommID {page:#x}, the first entry said {first:#x}"
    );
    Ok(())
}

/// Our handle on ourselves lacks CONTROL: starting ourselves and giving access are refused.
fn rights_refused(ctx: &mut Ctx) -> Outcome {
    let start = ctx.env.process().start();
    ensure!(
        lacks(&start, Rights::CONTROL),
        "Process::start on ourselves gave {start:?}, not Lacking CONTROL"
    );
    let give = meta::give_access(
        &mut KernelPpc,
        ctx.env.memory,
        Badge(ctx.env.pid()),
        Rights::WRITE,
    );
    ensure!(
        lacks(&give, Rights::CONTROL),
        "give-access on our memory handle gave {give:?}, not Lacking CONTROL"
    );
    Ok(())
}

/// A handle given to ourselves works until released, then fails as stale; the original stays.
fn stale_handle(ctx: &mut Ctx) -> Outcome {
    let pid = Badge(ctx.env.pid());
    let boot = ctx.boot()?;
    let original = boot.handle;
    let given = meta::give_access(&mut KernelPpc, original, pid, Rights::READ)
        .map_err(|e| failed("give-access on the Boot handle", e))?;
    ensure!(
        given != original,
        "give-access returned the original handle {given}"
    );
    let mut copy = BootClient::new(KernelPpc, given);
    copy.cpus()
        .map_err(|e| failed("Boot::cpus through the given handle", e))?;
    meta::release(&mut KernelPpc, given).map_err(|e| failed("release", e))?;
    let after = copy.cpus();
    ensure!(
        matches!(
            after,
            Err(CallError::Failed(DispatchError::Rights(
                RightsError::Stale(_)
            )))
        ),
        "Boot::cpus through the released handle gave {after:?}, not Stale"
    );
    boot.cpus().map_err(|e| {
        failed(
            "Boot::cpus through the original handle after the release",
            e,
        )
    })?;
    Ok(())
}
