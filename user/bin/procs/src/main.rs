//! The process server (DESIGN §2.7, issue #4 item 4): the table of Linux processes — pid, parent,
//! process group, session, credentials, umask — and the system's name, served through the
//! `Procs` interface (`k42_ifaces::procs`). Every question is about the caller, found by the
//! badge the kernel stamped on the call, so a process can neither read nor change another's
//! entry by naming it. The spawner (the bootstrap) holds the table with CONTROL and registers
//! each Linux process before it starts; fork will register children the same way (issue #5).
//!
//! Start-up: `arg0` = the spawner's badge, `arg1` its CommID, whose start-up message brings a
//! `Boot` handle (READ: the memory figures); the table object is made for the spawner as
//! `SPAWNER_HANDLE`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec;

use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::procs::{self, Procs, ProcsServer, UTS_FIELD, UTS_FIELDS};
use k42_ifaces::start::StartHandles;
use k42_kapi::BootClient;
use k42_linux::Errno;
use k42_rights::{Badge, Rights, XHandle, XObjectTable};
use k42_rt::server::{set_reply_data, take_call_data};
use k42_rt::sync::FairBLock;
use k42_rt::{Env, KernelPpc, clock, log, ring, server};

k42_rt::entry!(main);

/// Exit status when the table object cannot be made as agreed.
const SETUP_FAILED: u32 = 1;
/// The pid of init, every first process's parent (the bootstrap plays init).
const INIT_PID: u64 = 1;
/// The umask a process starts with.
const DEFAULT_UMASK: u64 = 0o022;
/// The permission bits a umask holds.
const UMASK_BITS: u64 = 0o777;
/// The host name until `sethostname`: Linux's when nobody set one.
const DEFAULT_HOSTNAME: &[u8] = b"(none)";
/// `uname`'s fields other than the host name: sysname, release, version, machine, domain.
const SYSNAME: &[u8] = b"Linux";
/// A release new enough for every C library in Debian's archive to accept.
const RELEASE: &[u8] = b"6.1.0-k42";
const VERSION: &[u8] = b"#1 K42 in Rust";
const MACHINE: &[u8] = b"x86_64";
const DOMAIN: &[u8] = b"(none)";
const NS_PER_SEC: u64 = 1_000_000_000;

/// One Linux process.
#[derive(Clone, Debug)]
struct Proc {
    pid: u64,
    ppid: u64,
    pgid: u64,
    sid: u64,
    uid: u64,
    gid: u64,
    umask: u64,
}

/// The table.
struct Table {
    by_badge: BTreeMap<u64, Proc>,
    next_pid: u64,
    hostname: vec::Vec<u8>,
}

static TABLE: FairBLock<Table> = FairBLock::new(Table {
    by_badge: BTreeMap::new(),
    next_pid: INIT_PID + 1,
    hostname: vec::Vec::new(),
});

/// The object every handle names (the one table).
#[derive(Clone, Copy)]
struct Root;

/// Runs `f` on the caller's entry (`ESRCH` for a badge not registered).
fn with_caller<R>(
    caller: Badge,
    f: impl FnOnce(&mut Proc) -> Result<R, Errno>,
) -> Result<R, Errno> {
    let mut table = TABLE.lock();
    let entry = table.by_badge.get_mut(&caller.0).ok_or(Errno::ESRCH)?;
    f(entry)
}

impl Procs for Root {
    fn register(
        &mut self,
        _caller: Badge,
        badge: u64,
        parent: u64,
        uid: u64,
        gid: u64,
    ) -> Result<u64, Errno> {
        let mut table = TABLE.lock();
        if table.by_badge.contains_key(&badge) {
            return Err(Errno::EEXIST);
        }
        let pid = table.next_pid;
        table.next_pid += 1;
        table.by_badge.insert(
            badge,
            Proc {
                pid,
                ppid: parent,
                pgid: pid,
                sid: pid,
                uid,
                gid,
                umask: DEFAULT_UMASK,
            },
        );
        Ok(pid)
    }

    fn ids(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno> {
        with_caller(caller, |p| Ok((p.pid, p.ppid, p.pgid, p.sid)))
    }

    fn creds(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno> {
        with_caller(caller, |p| Ok((p.uid, p.uid, p.gid, p.gid)))
    }

    fn umask(&mut self, caller: Badge, new: u64, set: u64) -> Result<u64, Errno> {
        with_caller(caller, |p| {
            let old = p.umask;
            if set != 0 {
                p.umask = new & UMASK_BITS;
            }
            Ok(old)
        })
    }

    fn uname(&self, caller: Badge) -> Result<(), Errno> {
        with_caller(caller, |_| Ok(()))?;
        let hostname = {
            let table = TABLE.lock();
            match table.hostname.is_empty() {
                true => DEFAULT_HOSTNAME.to_vec(),
                false => table.hostname.clone(),
            }
        };
        let mut buf = vec![0u8; UTS_FIELD * UTS_FIELDS];
        let fields: [&[u8]; UTS_FIELDS] = [SYSNAME, &hostname, RELEASE, VERSION, MACHINE, DOMAIN];
        for (i, field) in fields.iter().enumerate() {
            let n = field.len().min(UTS_FIELD - 1);
            buf[i * UTS_FIELD..i * UTS_FIELD + n].copy_from_slice(&field[..n]);
        }
        set_reply_data(buf).map_err(|_| Errno::EIO)
    }

    fn sethostname(&mut self, caller: Badge) -> Result<(), Errno> {
        let uid = with_caller(caller, |p| Ok(p.uid))?;
        if uid != 0 {
            return Err(Errno::EPERM);
        }
        let name = take_call_data();
        if name.len() >= UTS_FIELD {
            return Err(Errno::EINVAL);
        }
        TABLE.lock().hostname = name;
        Ok(())
    }

    fn sysinfo(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno> {
        with_caller(caller, |_| Ok(()))?;
        let procs = TABLE.lock().by_badge.len() as u64 + 1;
        let (total, free) = match BOOT.get() {
            Some(&boot) => BootClient::new(KernelPpc, boot)
                .memory()
                .map_err(|_| Errno::EIO)?,
            None => (0, 0),
        };
        Ok((clock::now_ns() / NS_PER_SEC, procs, total, free))
    }
}

/// The `Boot` handle (READ) the spawner sent, for the memory figures of `sysinfo`.
static BOOT: spin::Once<XHandle> = spin::Once::new();

fn main(env: Env) -> u32 {
    let spawner = Badge(env.arg0);
    let message = ring::wait_message_where(
        |msg| StartHandles::from_message(msg, env.arg1).is_some(),
        |msg| log!("procs: ignored a message before the start-up one: {msg:?}"),
    );
    if let Some(boot) = StartHandles::from_message(&message, env.arg1).and_then(|h| h.boot) {
        BOOT.call_once(|| boot);
    }
    let mut table = XObjectTable::new();
    match table.insert(Root, spawner, procs::SPAWNER_RIGHTS, Rights::NONE) {
        Ok(handle) if handle == SPAWNER_HANDLE => {}
        other => {
            log!("procs: the spawner's table is {other:?}, not {SPAWNER_HANDLE}");
            return SETUP_FAILED;
        }
    }
    server::serve_table::<ProcsServer<Root>>(table)
}
