//! The pipe server's interface (issue #5): Linux pipes, served by `user/bin/pipes` over the
//! pure logic of `crates/pipe` to the Linux personalities (`user/bin/linux/src/calls/pipe.rs`).
//!
//! **Objects.** The *factory*: the bootstrap holds it with [`SPAWNER_RIGHTS`] and gives each
//! Linux process access with [`PROCESS_RIGHTS`]; [`Pipes::create`] on it makes a pipe and
//! two new objects for the caller, its *ends*: the read end with [`READ_END_RIGHTS`], the
//! write end with [`WRITE_END_RIGHTS`]. Every right set includes CONTROL, so a process can
//! give any of them to another (fork gives a child each handle its parent holds, with
//! `k42_rights::wire::meta::give_access`). Each entry on an end — made by `create` or by
//! giving access — counts as one holder of that end; the generic release of an entry drops
//! one. The last write handle released is end of file for the readers; the last read handle
//! released makes writes fail with `EPIPE`.
//!
//! **Named pipes (FIFOs).** A process never names a FIFO here: it opens the FIFO's path at the
//! file server, which checks that it may (by the credentials it holds for the caller's badge)
//! and then, holding the factory with [`NAMED`] (which the bootstrap gives it, and nobody
//! else), asks [`Pipes::open_named`] for the pipe of that inode *for the caller's badge*. The
//! end it makes is an ordinary end (read, write, or both for `O_RDWR`, with
//! [`RDWR_END_RIGHTS`]), matched to the caller, so a pipe end is only ever had by opening the
//! FIFO (or by being given one, as a fork child is). Opening may have to wait for the other
//! side (Linux's `fifo_open`): the answer says so ([`Rendezvous`]), and the opener waits in its
//! own process, arming [`Pipes::partner`] on its new end.
//!
//! **Never waiting.** Reads and writes answer `EAGAIN` where Linux would block (a server does
//! not wait for a client). A client that wants to wait arms a one-shot notification with
//! [`Pipes::notify`], naming its own dispatcher, then waits in its own process for a
//! [`NOTIFY_METHOD`] message and tries again.
//!
//! **Data.** [`Pipes::read`]'s bytes come back in the reply's PPC data area, [`Pipes::write`]'s
//! go in the call's: at most [`DATA_BYTES`] per call. Because that is less than `PIPE_BUF`, an
//! atomic write of more may take two calls; the first names the whole size (`atomic`), see
//! [`Pipes::write`] and `crates/pipe`.
//!
//! Errors are Linux's errno values. Readiness words are Linux's `poll` bits (`POLLIN`,
//! `POLLOUT`, `POLLHUP`, `POLLERR` and their `RDNORM`/`WRNORM` twins).

use k42_abi::kernel::{ASYNC_PAYLOAD_WORDS, AsyncMessage, PPC_DATA_BYTES, comm_pid};
use k42_linux::Errno;
use k42_rights::wire::method_word;
use k42_rights::{Badge, Rights};

use crate::FIRST_SERVER_INTERFACE;

/// Interface id of [`Pipes`].
pub const PIPES_INTERFACE: u32 = FIRST_SERVER_INTERFACE + 6;

/// The factory's own right: make pipes.
pub const CREATE: Rights = Rights::object(0);
/// An end's right to its readiness and notifications (both ends have it).
pub const POLL: Rights = Rights::object(1);
/// The right to release a dead process's handles ([`Pipes::forget`]): the spawner's alone.
pub const REAP: Rights = Rights::object(2);

/// The right to make ends of named pipes for any process ([`Pipes::open_named`]): the file
/// server's, which checks every open of a FIFO first. The spawner holds it to give it.
pub const NAMED: Rights = Rights::object(3);

/// Rights the spawner gets on the factory: make pipes, give access, forget processes, and give
/// the file server [`NAMED`].
pub const SPAWNER_RIGHTS: Rights = CREATE.union(Rights::CONTROL).union(REAP).union(NAMED);
/// Rights the file server gets on the factory: named pipes only.
pub const FILE_SERVER_RIGHTS: Rights = NAMED;
/// Rights a Linux process gets on the factory: the same, so it can give it to a child.
pub const PROCESS_RIGHTS: Rights = CREATE.union(Rights::CONTROL);
/// Rights on a new read end, for its maker.
pub const READ_END_RIGHTS: Rights = Rights::READ.union(POLL).union(Rights::CONTROL);
/// Rights on a new write end, for its maker.
pub const WRITE_END_RIGHTS: Rights = Rights::WRITE.union(POLL).union(Rights::CONTROL);
/// Rights on both ends in one handle (a FIFO opened `O_RDWR`).
pub const RDWR_END_RIGHTS: Rights = READ_END_RIGHTS.union(WRITE_END_RIGHTS);

/// Bytes one read or write carries at most: the PPC data area.
pub const DATA_BYTES: usize = PPC_DATA_BYTES;

/// The pipe server.
#[k42_idl::interface(id = 22)]
pub trait Pipes {
    /// On the factory: a new empty pipe. Returns the handle words of its read end and its
    /// write end (matched to the caller, with [`READ_END_RIGHTS`] and [`WRITE_END_RIGHTS`]),
    /// and the pipe's number (its inode number for `fstat`).
    #[rights(crate::pipes::CREATE)]
    fn create(&mut self, caller: Badge) -> Result<(u64, u64, u64), Errno>;
    /// On a read end: up to `max` bytes (at most [`DATA_BYTES`]) as the reply data; returns
    /// their count. 0 with `max` > 0 is end of file: the pipe is empty and no write handle is
    /// left. `EAGAIN` when it is empty and a writer is left.
    #[rights(READ)]
    fn read(&mut self, caller: Badge, max: u64) -> Result<u64, Errno>;
    /// On a write end: writes the `len` bytes of the call data (`EINVAL` if that is not what
    /// arrived); returns how many went in. `atomic` 0: as many as fit (`EAGAIN` when none
    /// does). `atomic` n (at most `PIPE_BUF`, at least `len`): the first piece of an n-byte
    /// atomic write — taken only if n bytes are free, else `EAGAIN` and nothing written; the
    /// rest follows in calls with `atomic` 0 from the same handle, and no other writer's bytes
    /// come between. `EPIPE` when no read handle is left.
    #[rights(WRITE)]
    fn write(&mut self, caller: Badge, len: u64, atomic: u64) -> Result<u64, Errno>;
    /// On an end: its readiness now (poll bits), the pipe's number, the bytes waiting in it
    /// and its capacity.
    #[rights(crate::pipes::POLL)]
    fn status(&mut self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno>;
    /// On an end: its readiness now (poll bits); when none of `events` (nor `POLLHUP` or
    /// `POLLERR`) is true, also arms one [`NOTIFY_METHOD`] message to the dispatcher `comm` —
    /// one of the caller's own (`EPERM` otherwise) — at the first change that makes one true.
    #[rights(crate::pipes::POLL)]
    fn notify(&mut self, caller: Badge, comm: u64, events: u64) -> Result<u64, Errno>;
    /// On the factory, with [`REAP`]: the process `badge` has ended; every handle it still
    /// held is released as if it had closed it (its ends' readers see end of file, its
    /// writers `EPIPE`). The bootstrap says so when the kernel tells it a process ended.
    #[rights(crate::pipes::REAP)]
    fn forget(&mut self, caller: Badge, badge: u64) -> Result<(), Errno>;
    /// On the factory, with [`NAMED`]: opens the named pipe `name` (the FIFO's inode number at
    /// the file server) for the process `badge`, with the access mode and `O_NONBLOCK` of
    /// `flags` (Linux's open flags; an access mode of 3 is `EINVAL`). The pipe is made empty
    /// at the first open and shared by every open until all its ends are closed. Returns the
    /// handle word of the new end — matched to `badge`, with [`READ_END_RIGHTS`],
    /// [`WRITE_END_RIGHTS`] or [`RDWR_END_RIGHTS`] — the pipe's number and a
    /// [`Rendezvous`] word. `ENXIO` for `O_WRONLY|O_NONBLOCK` while no reader has it open.
    #[rights(crate::pipes::NAMED)]
    fn open_named(
        &mut self,
        caller: Badge,
        name: u64,
        badge: u64,
        flags: u64,
    ) -> Result<(u64, u64, u64), Errno>;
    /// On an end of a named pipe whose open answered [`Rendezvous::Wait`]`{ seen }`: 1 when an
    /// opener of the other side has come since (the open is complete); else 0, having armed
    /// one [`NOTIFY_METHOD`] message to the dispatcher `comm` — one of the caller's own
    /// (`EPERM` otherwise) — for when one comes.
    #[rights(crate::pipes::POLL)]
    fn partner(&mut self, caller: Badge, comm: u64, seen: u64) -> Result<u64, Errno>;
}

/// What [`Pipes::open_named`] says about the other side: whether the opener must wait for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendezvous {
    /// The open is complete.
    Ready,
    /// No opener of the other side yet: wait with [`Pipes::partner`] until one came, the
    /// other side's open count no longer being `seen`.
    Wait {
        /// The other side's open count the open saw (below 2⁶³).
        seen: u64,
    },
}

/// The bit of a [`Rendezvous`] word that says "wait"; the bits below are `seen`.
const WAIT_BIT: u64 = 1 << 63;

impl Rendezvous {
    /// The reply word.
    pub fn to_word(self) -> u64 {
        match self {
            Rendezvous::Ready => 0,
            Rendezvous::Wait { seen } => WAIT_BIT | (seen & !WAIT_BIT),
        }
    }

    /// The rendezvous a reply word says.
    pub fn from_word(word: u64) -> Self {
        if word & WAIT_BIT == 0 {
            Rendezvous::Ready
        } else {
            Rendezvous::Wait {
                seen: word & !WAIT_BIT,
            }
        }
    }
}

const _: () = assert!(PipesMethod::INTERFACE_ID == PIPES_INTERFACE);

/// The pipe server's notification messages: this interface with a method index no method has
/// (async messages are not dispatched; the word only has to be unmistakable).
const NOTIFY_INDEX: u32 = u32::MAX;
/// Method word of the message an armed [`Pipes::notify`] sends; its payload is a [`Notice`].
pub const NOTIFY_METHOD: u64 = method_word(PIPES_INTERFACE, NOTIFY_INDEX);

/// What a pipe notification says: pipe `pipe` changed so that an armed watch became ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The pipe's number.
    pub pipe: u64,
}

impl Notice {
    /// The message payload.
    pub fn to_payload(self) -> [u64; ASYNC_PAYLOAD_WORDS] {
        let mut payload = [0; ASYNC_PAYLOAD_WORDS];
        payload[0] = self.pipe;
        payload
    }

    /// The notice `msg` carries, if it is a notification of the pipe server `pipes_comm`.
    pub fn from_message(msg: &AsyncMessage, pipes_comm: u64) -> Option<Self> {
        if msg.method != NOTIFY_METHOD || msg.badge != comm_pid(pipes_comm) {
            return None;
        }
        Some(Self {
            pipe: msg.payload[0],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k42_abi::kernel::comm_id;

    #[test]
    fn notices_come_only_from_the_pipe_server() {
        let server = comm_id(4, 0);
        let msg = AsyncMessage {
            badge: comm_pid(server),
            handle: 0,
            method: NOTIFY_METHOD,
            payload: Notice { pipe: 9 }.to_payload(),
        };
        assert_eq!(Notice::from_message(&msg, server), Some(Notice { pipe: 9 }));
        let forged = AsyncMessage { badge: 3, ..msg };
        assert_eq!(Notice::from_message(&forged, server), None);
        assert_ne!(NOTIFY_METHOD, PipesMethod::Notify.number());
    }

    #[test]
    fn each_object_s_rights_open_only_its_own_methods() {
        let methods = [
            PipesMethod::Create,
            PipesMethod::Read,
            PipesMethod::Write,
            PipesMethod::Status,
            PipesMethod::Notify,
            PipesMethod::OpenNamed,
            PipesMethod::Partner,
        ];
        let allowed = |rights: Rights| {
            methods
                .iter()
                .filter(|m| rights.contains(m.rights()))
                .copied()
                .collect::<std::vec::Vec<_>>()
        };
        assert_eq!(allowed(PROCESS_RIGHTS), [PipesMethod::Create]);
        assert_eq!(allowed(FILE_SERVER_RIGHTS), [PipesMethod::OpenNamed]);
        assert!(
            SPAWNER_RIGHTS.contains(FILE_SERVER_RIGHTS),
            "the spawner gives it"
        );
        let poll = [
            PipesMethod::Status,
            PipesMethod::Notify,
            PipesMethod::Partner,
        ];
        let read: std::vec::Vec<_> = [PipesMethod::Read].into_iter().chain(poll).collect();
        let write: std::vec::Vec<_> = [PipesMethod::Write].into_iter().chain(poll).collect();
        assert_eq!(allowed(READ_END_RIGHTS), read);
        assert_eq!(allowed(WRITE_END_RIGHTS), write);
        let both: std::vec::Vec<_> = [PipesMethod::Read, PipesMethod::Write]
            .into_iter()
            .chain(poll)
            .collect();
        assert_eq!(allowed(RDWR_END_RIGHTS), both);
        for rights in [
            SPAWNER_RIGHTS,
            PROCESS_RIGHTS,
            READ_END_RIGHTS,
            WRITE_END_RIGHTS,
            RDWR_END_RIGHTS,
        ] {
            assert!(rights.contains(Rights::CONTROL), "fork gives every handle");
        }
        assert!(
            !FILE_SERVER_RIGHTS.contains(Rights::CONTROL),
            "it gives it to nobody"
        );
    }

    #[test]
    fn rendezvous_words_round_trip() {
        for r in [
            Rendezvous::Ready,
            Rendezvous::Wait { seen: 0 },
            Rendezvous::Wait { seen: 7 },
            Rendezvous::Wait { seen: WAIT_BIT - 1 },
        ] {
            assert_eq!(Rendezvous::from_word(r.to_word()), r);
        }
    }
}
