//! The pipe server (issue #5): Linux pipes for the Linux personalities, served through the
//! `Pipes` interface (`k42_ifaces::pipes`) over the pure logic of `crates/pipe`, beside the
//! file server (`user/bin/fs`) and the process server (`user/bin/procs`).
//!
//! Start-up: `arg0` = the spawner's badge, `arg1` its CommID, whose start-up message is
//! awaited (its `Boot` handle is not needed); the factory object is made for the spawner as
//! `SPAWNER_HANDLE`, and the spawner gives each Linux process access to it.
//!
//! **Objects and counting.** A handle names the factory or one pipe end ([`Obj`]). Each entry
//! on an end is one holder of it: `create` makes one entry per end, giving access to an end
//! (fork: the child's copy) makes one more, and releasing an entry (a close's last reference,
//! in the personality) drops one. The serve loop around the generated dispatch does this
//! bookkeeping, because the dispatch hands a method its target alone: it inserts the two ends
//! `create` made, counts a given entry, and closes an end whose entry was released. Each end
//! entry carries its own handle word as its [`Key`], so an atomic write in progress belongs
//! to one holder.
//!
//! **Named pipes.** The file server, once it has checked an open of a FIFO, calls
//! `Pipes::open_named` on its factory handle (right `NAMED`, which only it has) for the
//! caller's badge: the loop inserts the end the method counted (`k42_pipe::Pipes::open_named`)
//! as an entry matched to *that* badge, like `create`'s ends, and the rest is an anonymous
//! pipe's life. An opener that must wait for the other side arms `Pipes::partner` on that end.
//!
//! **Never waiting.** A read of an empty pipe or a write to a full one answers `EAGAIN`; a
//! client that wants to wait arms a notification (`Pipes::notify`) and waits in its own
//! process. After each call the loop sends the notifications the call's change made due
//! ([`k42_pipe::Pipes::take_wakes`]), with the state's lock let go. One call runs at a time
//! (the runtime serves a dispatcher's calls in turn), so the lock is never contended.
#![no_std]
#![no_main]

extern crate alloc;

use k42_abi::kernel::{Status, comm_pid};
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::pipes::{self, DATA_BYTES, NOTIFY_METHOD, Notice, Pipes, PipesMethod, PipesServer};
use k42_ifaces::start::StartHandles;
use k42_linux::Errno;
use k42_linux::raw::general as g;
use k42_pipe::{CAPACITY, End, Key, NamedOpen, PipeId, Rendezvous, Side};
use k42_rights::wire::{ARG_WORDS, DispatchError, Reply, Results, Word, meta, split_method_word};
use k42_rights::{Badge, Rights, XHandle, XObjectTable};
use k42_rt::server::{set_reply_data, take_call_data};
use k42_rt::sync::FairBLock;
use k42_rt::sys::kcall;
use k42_rt::{Env, log, ring, server};

k42_rt::entry!(main);

/// Exit status when the factory cannot be made as agreed.
const SETUP_FAILED: u32 = 1;
/// Argument positions of the generic give-access (`k42_rights::wire::meta`).
const GIVE_TO: usize = 0;
const GIVE_RIGHTS: usize = 1;

/// What a handle names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Obj {
    /// The factory: makes pipes.
    Factory,
    /// One end of a pipe (or both, a FIFO opened `O_RDWR`), as one holder has it: `key` is
    /// the entry's own handle word.
    End {
        /// The pipe.
        pipe: PipeId,
        /// Which end, as this holder sees it.
        end: End,
        /// The holder.
        key: Key,
    },
}

/// The pipes, and what the running `create` or `open_named` made for the loop to insert.
struct State {
    pipes: k42_pipe::Pipes,
    created: Option<PipeId>,
    /// `open_named`'s end, and the badge it is for.
    named: Option<(NamedOpen, Badge)>,
}

static STATE: FairBLock<State> = FairBLock::new(State {
    pipes: k42_pipe::Pipes::new(),
    created: None,
    named: None,
});

impl Obj {
    /// The end this names, if it reads (`Side::Read`) or writes (`Side::Write`) (`EBADF` for
    /// the factory or the other end: the rights already keep those out; this is the second
    /// line).
    fn end(self, side: Side) -> Result<(PipeId, Key), Errno> {
        match self {
            Obj::End { pipe, end, key } if side == Side::Read && end.side.reads() => {
                Ok((pipe, key))
            }
            Obj::End { pipe, end, key } if side == Side::Write && end.side.writes() => {
                Ok((pipe, key))
            }
            _ => Err(Errno::EBADF),
        }
    }

    fn any_end(self) -> Result<(PipeId, End), Errno> {
        match self {
            Obj::End { pipe, end, .. } => Ok((pipe, end)),
            Obj::Factory => Err(Errno::EBADF),
        }
    }
}

/// The end a named open with Linux's open `flags` holds (`EINVAL` for access mode 3, as
/// Linux's `fifo_open` answers it).
fn side_of(flags: u64) -> Result<Side, Errno> {
    match flags as u32 & g::O_ACCMODE {
        g::O_RDONLY => Ok(Side::Read),
        g::O_WRONLY => Ok(Side::Write),
        g::O_RDWR => Ok(Side::Both),
        _ => Err(Errno::EINVAL),
    }
}

/// The rights on a new end for its holder.
fn rights_of(side: Side) -> Rights {
    match side {
        Side::Read => pipes::READ_END_RIGHTS,
        Side::Write => pipes::WRITE_END_RIGHTS,
        Side::Both => pipes::RDWR_END_RIGHTS,
    }
}

impl Pipes for Obj {
    fn create(&mut self, _caller: Badge) -> Result<(u64, u64, u64), Errno> {
        if *self != Obj::Factory {
            return Err(Errno::EBADF);
        }
        let mut state = STATE.lock();
        let pipe = state.pipes.create();
        state.created = Some(pipe);
        // The loop puts the ends' handles in the first two words.
        Ok((0, 0, pipe))
    }

    fn read(&mut self, _caller: Badge, max: u64) -> Result<u64, Errno> {
        let (pipe, _) = self.end(Side::Read)?;
        let max = usize::try_from(max).unwrap_or(usize::MAX).min(DATA_BYTES);
        let bytes = STATE.lock().pipes.read(pipe, max)?;
        let n = bytes.len() as u64;
        set_reply_data(bytes).map_err(|_| Errno::EIO)?;
        Ok(n)
    }

    fn write(&mut self, _caller: Badge, len: u64, atomic: u64) -> Result<u64, Errno> {
        let (pipe, key) = self.end(Side::Write)?;
        let data = take_call_data();
        if data.len() as u64 != len {
            return Err(Errno::EINVAL);
        }
        let atomic = usize::try_from(atomic).map_err(|_| Errno::EINVAL)?;
        let n = STATE.lock().pipes.write(pipe, key, &data, atomic)?;
        Ok(n as u64)
    }

    fn status(&mut self, _caller: Badge) -> Result<(u64, u64, u64, u64), Errno> {
        let (pipe, end) = self.any_end()?;
        let state = STATE.lock();
        let revents = state.pipes.revents(pipe, end)?;
        let buffered = state.pipes.buffered(pipe)?;
        Ok((u64::from(revents), pipe, buffered as u64, CAPACITY as u64))
    }

    fn forget(&mut self, _caller: Badge, _badge: u64) -> Result<(), Errno> {
        // The loop releases the entries (`forget` there): the table is its.
        if *self != Obj::Factory {
            return Err(Errno::EBADF);
        }
        Ok(())
    }

    fn notify(&mut self, caller: Badge, comm: u64, events: u64) -> Result<u64, Errno> {
        let (pipe, end) = self.any_end()?;
        if comm_pid(comm) != caller.0 {
            return Err(Errno::EPERM);
        }
        // Poll bits are 16 wide; anything above asks for nothing.
        let events = events as u16;
        let revents = STATE.lock().pipes.arm(pipe, end, comm, events)?;
        Ok(u64::from(revents))
    }

    fn open_named(
        &mut self,
        _caller: Badge,
        name: u64,
        badge: u64,
        flags: u64,
    ) -> Result<(u64, u64, u64), Errno> {
        if *self != Obj::Factory {
            return Err(Errno::EBADF);
        }
        let side = side_of(flags)?;
        let nonblock = flags as u32 & g::O_NONBLOCK != 0;
        let mut state = STATE.lock();
        let opened = state.pipes.open_named(name, side, nonblock)?;
        state.named = Some((opened, Badge(badge)));
        let rendezvous = match opened.rendezvous {
            Rendezvous::Ready => pipes::Rendezvous::Ready,
            Rendezvous::Wait { seen } => pipes::Rendezvous::Wait { seen },
        };
        // The loop puts the end's handle in the first word.
        Ok((0, opened.pipe, rendezvous.to_word()))
    }

    fn partner(&mut self, caller: Badge, comm: u64, seen: u64) -> Result<u64, Errno> {
        let (pipe, end) = self.any_end()?;
        if comm_pid(comm) != caller.0 {
            return Err(Errno::EPERM);
        }
        let arrived = STATE.lock().pipes.arm_partner(pipe, end.side, comm, seen)?;
        Ok(u64::from(arrived))
    }
}

fn main(env: Env) -> u32 {
    let spawner = Badge(env.arg0);
    ring::wait_message_where(
        |msg| StartHandles::from_message(msg, env.arg1).is_some(),
        |msg| log!("pipes: ignored a message before the start-up one: {msg:?}"),
    );
    let mut table = XObjectTable::new();
    match table.insert(Obj::Factory, spawner, pipes::SPAWNER_RIGHTS, Rights::NONE) {
        Ok(handle) if handle == SPAWNER_HANDLE => {}
        other => {
            log!("pipes: the spawner's factory is {other:?}, not {SPAWNER_HANDLE}");
            return SETUP_FAILED;
        }
    }
    server::serve(move |badge, handle, method, args| {
        let reply = call(&mut table, badge, handle, method, args);
        send_wakes();
        reply
    })
}

/// One call (module comment).
fn call(
    table: &mut XObjectTable<Obj>,
    badge: Badge,
    handle: XHandle,
    method: u64,
    args: &[u64; ARG_WORDS],
) -> Reply {
    match split_method_word(method) {
        (meta::META_INTERFACE, meta::RELEASE) => {
            let obj = table
                .release(handle, badge)
                .map_err(DispatchError::Rights)?;
            closed(obj.target);
            Ok(().into_words())
        }
        (meta::META_INTERFACE, meta::GIVE_ACCESS) => {
            let to = Badge(args[GIVE_TO]);
            let rights = Rights::from_bits_retain(args[GIVE_RIGHTS]);
            let new = table
                .give_access(handle, badge, to, rights)
                .map_err(DispatchError::Rights)?;
            // The new entry is one more holder of its end, with its own key.
            if let Ok(obj) = table.get_mut(new)
                && let Obj::End { pipe, end, key } = &mut obj.target
            {
                *key = new.to_word();
                if let Err(e) = STATE.lock().pipes.open(*pipe, end.side) {
                    let _ = table.revoke(new);
                    return Err(DispatchError::Method(e.to_word()));
                }
            }
            Ok(new.into_words())
        }
        (meta::META_INTERFACE, _) => meta::dispatch(table, badge, handle, method, args),
        _ if method == PipesMethod::Create.number() => create(table, badge, handle, args),
        _ if method == PipesMethod::OpenNamed.number() => open_named(table, badge, handle, args),
        _ if method == PipesMethod::Forget.number() => {
            let reply = PipesServer::<Obj>::dispatch(table, badge, handle, method, args)?;
            forget(table, Badge(args[0]));
            Ok(reply)
        }
        _ => PipesServer::<Obj>::dispatch(table, badge, handle, method, args),
    }
}

/// What a released entry's object stops holding: an end's count at its pipe.
fn closed(target: Obj) {
    if let Obj::End { pipe, end, key } = target
        && let Err(e) = STATE.lock().pipes.close(pipe, end.side, key)
    {
        log!("pipes: closing an end of pipe {pipe} failed: {e}");
    }
}

/// Releases every entry the ended process `dead` held (`Pipes::forget`, its rights checked by
/// the dispatch), as its own releases would have.
fn forget(table: &mut XObjectTable<Obj>, dead: Badge) {
    for obj in table.take_all_for(dead) {
        closed(obj.target);
    }
}

/// `Pipes::create` through the dispatch (rights checked there), then the two ends inserted
/// for the caller.
fn create(
    table: &mut XObjectTable<Obj>,
    badge: Badge,
    handle: XHandle,
    args: &[u64; ARG_WORDS],
) -> Reply {
    let method = PipesMethod::Create.number();
    let reply = PipesServer::<Obj>::dispatch(table, badge, handle, method, args);
    let Some(pipe) = STATE.lock().created.take() else {
        return reply;
    };
    let mut words = reply?;
    let mut made = [XHandle::NULL; 2];
    let ends = [
        (Side::Read, pipes::READ_END_RIGHTS),
        (Side::Write, pipes::WRITE_END_RIGHTS),
    ];
    for (slot, (side, rights)) in made.iter_mut().zip(ends) {
        match insert_end(table, pipe, End::from(side), badge, rights) {
            Ok(new) => *slot = new,
            Err(e) => {
                // Undo: the entries made so far go, then the pipe with its two counts.
                for made in made.iter().filter(|h| **h != XHandle::NULL) {
                    let _ = table.revoke(*made);
                }
                let mut state = STATE.lock();
                let _ = state.pipes.close(pipe, Side::Read, 0);
                let _ = state.pipes.close(pipe, Side::Write, 0);
                return Err(DispatchError::Rights(e));
            }
        }
    }
    words[0] = made[0].to_word();
    words[1] = made[1].to_word();
    Ok(words)
}

/// Inserts an entry on `end` of `pipe` for `badge`, with its own handle word as its key.
fn insert_end(
    table: &mut XObjectTable<Obj>,
    pipe: PipeId,
    end: End,
    badge: Badge,
    rights: Rights,
) -> Result<XHandle, k42_rights::RightsError> {
    let new = table.insert(Obj::End { pipe, end, key: 0 }, badge, rights, Rights::NONE)?;
    if let Ok(obj) = table.get_mut(new) {
        obj.target = Obj::End {
            pipe,
            end,
            key: new.to_word(),
        };
    }
    Ok(new)
}

/// `Pipes::open_named` through the dispatch (rights checked there: `NAMED`), then the end it
/// counted inserted for the badge it names.
fn open_named(
    table: &mut XObjectTable<Obj>,
    badge: Badge,
    handle: XHandle,
    args: &[u64; ARG_WORDS],
) -> Reply {
    let method = PipesMethod::OpenNamed.number();
    let reply = PipesServer::<Obj>::dispatch(table, badge, handle, method, args);
    let Some((opened, holder)) = STATE.lock().named.take() else {
        return reply;
    };
    let mut words = reply?;
    let rights = rights_of(opened.end.side);
    match insert_end(table, opened.pipe, opened.end, holder, rights) {
        Ok(new) => {
            words[0] = new.to_word();
            Ok(words)
        }
        Err(e) => {
            // Undo the count (and the pipe, if this was its one holder).
            let _ = STATE.lock().pipes.close(opened.pipe, opened.end.side, 0);
            Err(DispatchError::Rights(e))
        }
    }
}

/// Sends the notifications the last call made due. A dispatcher that no longer exists is
/// skipped; a full ring loses its wake-up, which is logged (a personality takes its messages
/// as they come, so its ring fills only if it stopped reading them).
fn send_wakes() {
    let wakes = STATE.lock().pipes.take_wakes();
    for (comm, pipe) in wakes {
        let status = kcall::async_send(comm, 0, NOTIFY_METHOD, &Notice { pipe }.to_payload());
        if !kcall::is_ok(status) && status != Status::NoSuchTarget as u64 {
            log!("pipes: cannot notify {comm:#x} about pipe {pipe}: status {status}");
        }
    }
}
