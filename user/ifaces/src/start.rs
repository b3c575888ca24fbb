//! How a program started by the bootstrap (`user/bin/bootstrap`) finds its console and, for test
//! programs, the authority to start helpers:
//!
//! - `arg0` = the console server's CommID;
//! - `arg1` = the bootstrap's CommID (the spawner), to recognise its start-up message;
//! - right after starting the program, the bootstrap sends it one async message
//!   ([`HANDLES_METHOD`]) carrying [`StartHandles`]: its console handle (WRITE, matched to the
//!   program) and a handle on the kernel's `Boot` object (READ and CONTROL, matched to it).
//!
//! Why a message and not the spawn words: the handles are made by give-access *to the program's
//! pid*, which exists only once `Boot::spawn` returned — after the spawn words were fixed. The
//! message's badge is stamped by the kernel, so [`StartHandles::from_message`] accepts it only
//! from the spawner. Servers spawned for one client get that client's badge in `arg0` instead
//! (see [`crate::SPAWNER_HANDLE`]).

use k42_abi::kernel::{ASYNC_PAYLOAD_WORDS, AsyncMessage, comm_pid};
use k42_rights::XHandle;
use k42_rights::wire::method_word;

use crate::FIRST_SERVER_INTERFACE;

/// The method-word namespace of start-up messages (not an object interface: no server
/// dispatches it; it keeps the method word distinct from every interface's).
pub const START_INTERFACE: u32 = FIRST_SERVER_INTERFACE + 2;
/// Method word of the message that carries [`StartHandles`].
pub const HANDLES_METHOD: u64 = method_word(START_INTERFACE, 0);

/// Method word of the message that tells a Linux program's personality where the file server
/// is ([`FsStart`]), sent right after the handles message.
pub const FS_METHOD: u64 = method_word(START_INTERFACE, 1);

/// Where a Linux program's files are: the file server and its handle on the root (READ,
/// matched to the program).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsStart {
    /// The file server's CommID.
    pub comm: u64,
    /// The program's handle on the root directory.
    pub root: XHandle,
}

impl FsStart {
    /// The message payload.
    pub fn to_payload(self) -> [u64; ASYNC_PAYLOAD_WORDS] {
        [self.comm, self.root.to_word(), 0]
    }

    /// What `msg` carries, if it is the file-server message of the spawner `spawner_comm`.
    pub fn from_message(msg: &AsyncMessage, spawner_comm: u64) -> Option<Self> {
        if msg.method != FS_METHOD || msg.badge != comm_pid(spawner_comm) {
            return None;
        }
        Some(Self {
            comm: msg.payload[0],
            root: XHandle::from_word(msg.payload[1]),
        })
    }
}

/// Method word of the message that tells a Linux program's personality where the process
/// server is and gives its handle there ([`ProcsStart`]), sent after [`FS_METHOD`]'s.
pub const PROCS_METHOD: u64 = method_word(START_INTERFACE, 2);

/// Where a Linux program's process server is: its CommID and the program's handle (READ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcsStart {
    /// The process server's CommID.
    pub comm: u64,
    /// The program's handle on the process table.
    pub table: XHandle,
}

impl ProcsStart {
    /// The message payload.
    pub fn to_payload(self) -> [u64; ASYNC_PAYLOAD_WORDS] {
        [self.comm, self.table.to_word(), 0]
    }

    /// What `msg` carries, if it is the process-server message of the spawner `spawner_comm`.
    pub fn from_message(msg: &AsyncMessage, spawner_comm: u64) -> Option<Self> {
        if msg.method != PROCS_METHOD || msg.badge != comm_pid(spawner_comm) {
            return None;
        }
        Some(Self {
            comm: msg.payload[0],
            table: XHandle::from_word(msg.payload[1]),
        })
    }
}

/// Method word of the message that tells a Linux program's personality where the pipe server
/// is and gives its handle on the pipe factory ([`PipesStart`]), sent after [`PROCS_METHOD`]'s.
pub const PIPES_METHOD: u64 = method_word(START_INTERFACE, 3);

/// Where a Linux program's pipe server is: its CommID and the program's handle on the factory
/// (`k42_ifaces::pipes::PROCESS_RIGHTS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipesStart {
    /// The pipe server's CommID.
    pub comm: u64,
    /// The program's handle on the pipe factory.
    pub factory: XHandle,
}

impl PipesStart {
    /// The message payload.
    pub fn to_payload(self) -> [u64; ASYNC_PAYLOAD_WORDS] {
        [self.comm, self.factory.to_word(), 0]
    }

    /// What `msg` carries, if it is the pipe-server message of the spawner `spawner_comm`.
    pub fn from_message(msg: &AsyncMessage, spawner_comm: u64) -> Option<Self> {
        if msg.method != PIPES_METHOD || msg.badge != comm_pid(spawner_comm) {
            return None;
        }
        Some(Self {
            comm: msg.payload[0],
            factory: XHandle::from_word(msg.payload[1]),
        })
    }
}

/// Payload positions of the handles message.
const CONSOLE_WORD: usize = 0;
const BOOT_WORD: usize = 1;

/// The handles a program gets from the bootstrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartHandles {
    /// Its handle on the console object (in the console server at `arg0`).
    pub console: XHandle,
    /// Its handle on the kernel's `Boot` object, if it was given one.
    pub boot: Option<XHandle>,
}

impl StartHandles {
    /// The message payload.
    pub fn to_payload(self) -> [u64; ASYNC_PAYLOAD_WORDS] {
        let mut payload = [0; ASYNC_PAYLOAD_WORDS];
        payload[CONSOLE_WORD] = self.console.to_word();
        payload[BOOT_WORD] = self.boot.map_or(0, XHandle::to_word);
        payload
    }

    /// The handles `msg` carries, if it is the start-up message of the spawner `spawner_comm`.
    pub fn from_message(msg: &AsyncMessage, spawner_comm: u64) -> Option<Self> {
        if msg.method != HANDLES_METHOD || msg.badge != comm_pid(spawner_comm) {
            return None;
        }
        let boot = XHandle::from_word(msg.payload[BOOT_WORD]);
        Some(Self {
            console: XHandle::from_word(msg.payload[CONSOLE_WORD]),
            boot: (boot != XHandle::NULL).then_some(boot),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k42_abi::kernel::comm_id;

    #[test]
    fn handles_travel_only_from_the_spawner() {
        let handles = StartHandles {
            console: XHandle { index: 1, seq: 1 },
            boot: Some(XHandle { index: 7, seq: 3 }),
        };
        let spawner = comm_id(1, 0);
        let msg = AsyncMessage {
            badge: comm_pid(spawner),
            handle: 0,
            method: HANDLES_METHOD,
            payload: handles.to_payload(),
        };
        assert_eq!(StartHandles::from_message(&msg, spawner), Some(handles));
        let forged = AsyncMessage { badge: 9, ..msg };
        assert_eq!(StartHandles::from_message(&forged, spawner), None);
        let no_boot = StartHandles {
            boot: None,
            ..handles
        };
        let msg = AsyncMessage {
            payload: no_boot.to_payload(),
            ..msg
        };
        assert_eq!(StartHandles::from_message(&msg, spawner), Some(no_boot));
    }
}
