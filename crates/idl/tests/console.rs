//! The generated code end to end: a sample `Console` interface, served from an `XObjectTable` by
//! its generated dispatch, called through its generated client stub over a mock PPC transport that
//! stamps the caller's badge and carries the reply through registers (`wire::encode_reply`).
//! Proves: the right rights reach the method with the caller's badge; a method whose rights are
//! lacking fails while the handle's other methods work; stale handles and unknown methods fail;
//! given access grants no more than the giver had.

use std::cell::RefCell;
use std::rc::Rc;

use k42_rights::wire::{
    self, ARG_WORDS, CallError, DispatchError, Interface, Reply, Transport, Word, meta,
};
use k42_rights::{Badge, Rights, RightsError, XHandle, XObjectTable};

/// The console's own errors, one word each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleError {
    /// No such mode.
    BadMode = 1,
}

impl Word for ConsoleError {
    fn to_word(self) -> u64 {
        self as u64
    }
    fn from_word(word: u64) -> Option<Self> {
        (word == ConsoleError::BadMode as u64).then_some(ConsoleError::BadMode)
    }
}

/// Interface id of the sample console.
const CONSOLE_ID: u32 = 7;

/// The sample console interface.
#[k42_idl::interface(id = 7)]
pub trait Console {
    /// Writes `len` bytes at `bytes`; returns how many were written.
    #[rights(WRITE)]
    fn write(&mut self, caller: Badge, bytes: u64, len: u64) -> Result<u64, ConsoleError>;
    /// Reads up to `len` bytes; returns how many, and whether more are waiting.
    #[rights(READ)]
    fn read(&self, caller: Badge, len: u32) -> Result<(u64, bool), ConsoleError>;
    /// Sets the line mode.
    #[rights(CONTROL)]
    fn set_mode(&mut self, caller: Badge, mode: u8) -> Result<(), ConsoleError>;
}

/// Modes the console knows.
const MODES: u8 = 4;
/// Bytes "waiting" to be read in the sample.
const WAITING: u64 = 10;

/// What the console saw: each method that ran, with the badge it ran for.
#[derive(Default)]
struct State {
    calls: Vec<(Badge, &'static str)>,
    mode: u8,
}

/// The server's object: shared, so every entry given access reaches the same console.
#[derive(Clone, Default)]
struct Port(Rc<RefCell<State>>);

impl Console for Port {
    fn write(&mut self, caller: Badge, _bytes: u64, len: u64) -> Result<u64, ConsoleError> {
        self.0.borrow_mut().calls.push((caller, "write"));
        Ok(len)
    }
    fn read(&self, caller: Badge, len: u32) -> Result<(u64, bool), ConsoleError> {
        self.0.borrow_mut().calls.push((caller, "read"));
        let n = u64::from(len).min(WAITING);
        Ok((n, n < WAITING))
    }
    fn set_mode(&mut self, caller: Badge, mode: u8) -> Result<(), ConsoleError> {
        self.0.borrow_mut().calls.push((caller, "set_mode"));
        if mode >= MODES {
            return Err(ConsoleError::BadMode);
        }
        self.0.borrow_mut().mode = mode;
        Ok(())
    }
}

type Server = ConsoleServer<Port>;

/// A mock PPC: one process's path to the console server. The badge is fixed when the "kernel"
/// makes the transport; nothing the client passes can change it.
struct Ppc {
    table: Rc<RefCell<XObjectTable<Port>>>,
    badge: Badge,
}

impl Transport for Ppc {
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
        let mut table = self.table.borrow_mut();
        let reply =
            meta::dispatch_with_meta::<Server>(&mut table, self.badge, handle, method, args);
        wire::decode_reply(wire::encode_reply(&reply)).expect("a valid reply")
    }
}

const OWNER: Badge = Badge(100);
const FRIEND: Badge = Badge(200);
const STRANGER: Badge = Badge(300);

/// A console server with one port, owned by `OWNER` with `matched` rights; and the port.
struct World {
    table: Rc<RefCell<XObjectTable<Port>>>,
    port: Port,
}

impl World {
    fn new() -> Self {
        Self {
            table: Rc::default(),
            port: Port::default(),
        }
    }
    fn insert(&self, owner: Badge, matched: Rights, unmatched: Rights) -> XHandle {
        self.table
            .borrow_mut()
            .insert(self.port.clone(), owner, matched, unmatched)
            .unwrap()
    }
    fn ppc(&self, badge: Badge) -> Ppc {
        Ppc {
            table: self.table.clone(),
            badge,
        }
    }
    fn client(&self, badge: Badge, handle: XHandle) -> ConsoleClient<Ppc> {
        ConsoleClient::new(self.ppc(badge), handle)
    }
    fn calls(&self) -> Vec<(Badge, &'static str)> {
        self.port.0.borrow().calls.clone()
    }
}

fn lacking(missing: Rights, badge_matched: bool) -> CallError<ConsoleError> {
    CallError::Failed(DispatchError::Rights(RightsError::Lacking {
        missing,
        badge_matched,
    }))
}

#[test]
fn method_constants_follow_the_declaration() {
    assert_eq!(ConsoleMethod::INTERFACE_ID, CONSOLE_ID);
    assert_eq!(
        ConsoleMethod::ALL,
        [
            ConsoleMethod::Write,
            ConsoleMethod::Read,
            ConsoleMethod::SetMode
        ]
    );
    assert_eq!(ConsoleMethod::SetMode.index(), 2);
    assert_eq!(
        ConsoleMethod::SetMode.number(),
        wire::method_word(CONSOLE_ID, 2)
    );
    assert_eq!(ConsoleMethod::Read.rights(), Rights::READ);
    assert_eq!(ConsoleMethod::SetMode.rights(), Rights::CONTROL);
    assert_eq!(ConsoleMethod::SetMode.name(), "set_mode");
    for m in ConsoleMethod::ALL {
        assert_eq!(ConsoleMethod::from_number(m.number()), Some(m));
    }
    assert_eq!(<Server as Interface>::ID, CONSOLE_ID);
    assert_eq!(<Server as Interface>::NAME, "Console");
}

#[test]
fn a_call_with_the_rights_reaches_the_method_with_the_callers_badge() {
    let world = World::new();
    let h = world.insert(OWNER, Rights::all(), Rights::empty());
    let mut console = world.client(OWNER, h);
    assert_eq!(console.write(0x1000, 5), Ok(5));
    assert_eq!(console.read(4), Ok((4, true)));
    assert_eq!(console.read(64), Ok((WAITING, false)));
    assert_eq!(console.set_mode(2), Ok(()));
    assert_eq!(world.port.0.borrow().mode, 2);
    assert_eq!(
        world.calls(),
        [
            (OWNER, "write"),
            (OWNER, "read"),
            (OWNER, "read"),
            (OWNER, "set_mode")
        ]
    );
}

#[test]
fn a_method_whose_rights_are_lacking_fails_while_the_others_work() {
    let world = World::new();
    let h = world.insert(OWNER, Rights::READ | Rights::WRITE, Rights::empty());
    let mut console = world.client(OWNER, h);
    assert_eq!(console.set_mode(1), Err(lacking(Rights::CONTROL, true)));
    assert_eq!(console.write(0, 3), Ok(3));
    assert_eq!(console.read(1), Ok((1, true)));
    // The refused method never ran.
    assert_eq!(world.calls(), [(OWNER, "write"), (OWNER, "read")]);
    assert_eq!(world.port.0.borrow().mode, 0);
}

#[test]
fn matched_rights_do_not_follow_the_handle_to_another_process() {
    let world = World::new();
    let h = world.insert(OWNER, Rights::all(), Rights::READ);
    // The stranger knows the handle; the kernel still stamps its own badge.
    let mut console = world.client(STRANGER, h);
    assert_eq!(console.read(1), Ok((1, true)));
    assert_eq!(console.write(0, 1), Err(lacking(Rights::WRITE, false)));
    assert_eq!(world.calls(), [(STRANGER, "read")]);
}

#[test]
fn a_stale_handle_fails_even_after_its_slot_is_reused() {
    let world = World::new();
    let old = world.insert(OWNER, Rights::all(), Rights::empty());
    let mut console = world.client(OWNER, old);
    meta::release(&mut console.transport, old).unwrap();
    let stale = CallError::Failed(DispatchError::Rights(RightsError::Stale(old)));
    assert_eq!(console.write(0, 1), Err(stale));
    // The slot goes to a new entry open to anyone; the old handle still reaches nothing.
    let new = world.insert(STRANGER, Rights::empty(), Rights::all());
    assert_eq!(new.index, old.index);
    assert_eq!(console.read(1), Err(stale));
    assert!(world.calls().is_empty());
}

#[test]
fn an_unknown_method_number_fails() {
    let world = World::new();
    let h = world.insert(OWNER, Rights::all(), Rights::all());
    let mut ppc = world.ppc(OWNER);
    let past_the_end = wire::method_word(CONSOLE_ID, ConsoleMethod::ALL.len() as u32);
    let other_interface = wire::method_word(CONSOLE_ID + 1, 0);
    for method in [past_the_end, other_interface, u64::MAX] {
        assert_eq!(
            ppc.call(h, method, &[0; ARG_WORDS]),
            Err(DispatchError::UnknownMethod { method })
        );
    }
    assert!(world.calls().is_empty());
}

#[test]
fn an_argument_out_of_its_types_range_fails_before_the_method() {
    let world = World::new();
    let h = world.insert(OWNER, Rights::all(), Rights::empty());
    let mut ppc = world.ppc(OWNER);
    let mode_word = u64::from(u8::MAX) + 1;
    assert_eq!(
        ppc.call(
            h,
            ConsoleMethod::SetMode.number(),
            &wire::pack_args([mode_word])
        ),
        Err(DispatchError::BadArgument { index: 0 })
    );
    assert!(world.calls().is_empty());
}

#[test]
fn the_methods_own_error_comes_back_typed() {
    let world = World::new();
    let h = world.insert(OWNER, Rights::all(), Rights::empty());
    let mut console = world.client(OWNER, h);
    assert_eq!(
        console.set_mode(MODES),
        Err(CallError::Method(ConsoleError::BadMode))
    );
}

#[test]
fn given_access_grants_no_more_than_the_giver_had() {
    let world = World::new();
    // The owner may read and give access, but not write.
    let h = world.insert(OWNER, Rights::READ | Rights::CONTROL, Rights::empty());
    let mut owner = world.client(OWNER, h);
    let asked = Rights::READ | Rights::WRITE;
    let given = meta::give_access(&mut owner.transport, h, FRIEND, asked).unwrap();

    let mut friend = world.client(FRIEND, given);
    assert_eq!(friend.read(1), Ok((1, true)));
    assert_eq!(friend.write(0, 1), Err(lacking(Rights::WRITE, true)));
    assert_eq!(friend.set_mode(1), Err(lacking(Rights::CONTROL, true)));
    // Without CONTROL the friend cannot pass access on.
    assert_eq!(
        meta::give_access(&mut friend.transport, given, STRANGER, Rights::READ),
        Err(CallError::Failed(DispatchError::Rights(
            RightsError::Lacking {
                missing: Rights::CONTROL,
                badge_matched: true
            }
        )))
    );
    // The given entry is the friend's alone.
    let mut thief = world.client(STRANGER, given);
    assert_eq!(thief.read(1), Err(lacking(Rights::READ, false)));
    assert_eq!(world.calls(), [(FRIEND, "read")]);

    // The giver revokes it.
    meta::release(&mut owner.transport, given).unwrap();
    assert_eq!(
        friend.read(1),
        Err(CallError::Failed(DispatchError::Rights(
            RightsError::Stale(given)
        )))
    );
}

#[test]
fn a_server_loop_can_be_generic_over_interfaces() {
    /// What a runtime's PPC server loop does with each incoming call.
    fn serve<I: Interface>(
        table: &mut XObjectTable<I::Target>,
        badge: Badge,
        words: [u64; 2 + ARG_WORDS],
    ) -> [u64; wire::REPLY_WORDS] {
        let (head, rest) = words.split_at(2);
        let args: &[u64; ARG_WORDS] = rest.try_into().unwrap();
        let reply = I::dispatch(table, badge, XHandle::from_word(head[0]), head[1], args);
        wire::encode_reply(&reply)
    }
    let mut table = XObjectTable::new();
    let h = table
        .insert(Port::default(), OWNER, Rights::WRITE, Rights::empty())
        .unwrap();
    let mut words = [0; 2 + ARG_WORDS];
    words[0] = h.to_word();
    words[1] = ConsoleMethod::Write.number();
    words[3] = 9;
    let reply = serve::<Server>(&mut table, OWNER, words);
    assert_eq!(wire::decode_reply(reply), Some(Ok([9, 0, 0, 0])));
}
