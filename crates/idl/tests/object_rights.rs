//! Interface features beyond the console sample: object-defined rights named by path, a method any
//! handle holder may call (`NONE`), `&self`-only methods, handles and rights as arguments, an
//! infallible error type — and two interfaces on one server whose method numbers never cross.

use core::convert::Infallible;

use k42_rights::wire::{CallError, DispatchError, Reply, Transport};
use k42_rights::{Badge, Rights, RightsError, XHandle, XObjectTable};

/// Object-defined right of the timer: set the alarm.
pub const ARM: Rights = Rights::object(0);

/// A timer, with an object-defined right.
#[k42_idl::interface(id = 11)]
pub trait Timer {
    /// Any handle holder may read the clock.
    #[rights(NONE)]
    fn now(&self, caller: Badge) -> Result<u64, Infallible>;
    /// Arms the alarm: needs the timer's own right and WRITE together.
    #[rights(self::ARM | WRITE)]
    fn arm(&self, caller: Badge, at: u64, repeat: bool) -> Result<(), Infallible>;
    /// Echoes a handle and a rights set, to show they travel as words.
    #[rights(READ)]
    fn echo(
        &self,
        caller: Badge,
        h: XHandle,
        r: Rights,
        n: i32,
    ) -> Result<(XHandle, Rights, i32), Infallible>;
}

/// A second interface whose only method has the same index as `Timer::now`.
#[k42_idl::interface(id = 12)]
pub trait Other {
    /// Always 0.
    #[rights(NONE)]
    fn now(&self, caller: Badge) -> Result<u64, Infallible>;
}

/// Clock value the sample timer reports.
const NOW: u64 = 1234;

#[derive(Clone)]
struct Clock;

impl Timer for Clock {
    fn now(&self, _: Badge) -> Result<u64, Infallible> {
        Ok(NOW)
    }
    fn arm(&self, _: Badge, _: u64, _: bool) -> Result<(), Infallible> {
        Ok(())
    }
    fn echo(
        &self,
        _: Badge,
        h: XHandle,
        r: Rights,
        n: i32,
    ) -> Result<(XHandle, Rights, i32), Infallible> {
        Ok((h, r, n))
    }
}

impl Other for Clock {
    fn now(&self, _: Badge) -> Result<u64, Infallible> {
        Ok(0)
    }
}

/// A direct transport into the timer's dispatch (no register round trip: `console.rs` has one).
struct Direct<'t> {
    table: &'t mut XObjectTable<Clock>,
    badge: Badge,
}

impl Transport for Direct<'_> {
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; 6]) -> Reply {
        TimerServer::dispatch(self.table, self.badge, handle, method, args)
    }
}

const OWNER: Badge = Badge(1);
const STRANGER: Badge = Badge(2);

#[test]
fn none_needs_no_rights_but_a_live_handle() {
    let mut table = XObjectTable::new();
    let h = table
        .insert(Clock, OWNER, Rights::empty(), Rights::empty())
        .unwrap();
    let mut timer = TimerClient::new(
        Direct {
            table: &mut table,
            badge: STRANGER,
        },
        h,
    );
    assert_eq!(TimerMethod::Now.rights(), Rights::NONE);
    assert_eq!(timer.now(), Ok(NOW));
    let forged = XHandle { seq: 9, ..h };
    timer.handle = forged;
    assert_eq!(
        timer.now(),
        Err(CallError::Failed(DispatchError::Rights(
            RightsError::NoSuchHandle(forged)
        )))
    );
}

#[test]
fn object_defined_rights_are_checked_with_the_generic_ones() {
    assert_eq!(TimerMethod::Arm.rights(), ARM | Rights::WRITE);
    let mut table = XObjectTable::new();
    let write_only = table
        .insert(Clock, OWNER, Rights::WRITE, Rights::empty())
        .unwrap();
    let armed = table
        .insert(Clock, OWNER, ARM | Rights::WRITE, Rights::empty())
        .unwrap();
    let mut direct = Direct {
        table: &mut table,
        badge: OWNER,
    };
    assert_eq!(
        TimerClient::new(&mut direct, write_only).arm(5, true),
        Err(CallError::Failed(DispatchError::Rights(
            RightsError::Lacking {
                missing: ARM,
                badge_matched: true
            }
        )))
    );
    assert_eq!(TimerClient::new(&mut direct, armed).arm(5, true), Ok(()));
}

#[test]
fn handles_rights_and_signed_values_travel_as_words() {
    let mut table = XObjectTable::new();
    let h = table
        .insert(Clock, OWNER, Rights::READ, Rights::empty())
        .unwrap();
    let mut timer = TimerClient::new(
        Direct {
            table: &mut table,
            badge: OWNER,
        },
        h,
    );
    let r = Rights::object(31) | Rights::DESTROY;
    assert_eq!(timer.echo(h, r, -7), Ok((h, r, -7)));
}

#[test]
fn one_interfaces_method_numbers_are_unknown_to_another() {
    assert_eq!(TimerMethod::Now.index(), OtherMethod::Now.index());
    assert_ne!(TimerMethod::Now.number(), OtherMethod::Now.number());
    let mut table = XObjectTable::new();
    let h = table
        .insert(Clock, OWNER, Rights::all(), Rights::all())
        .unwrap();
    let method = TimerMethod::Now.number();
    assert_eq!(
        OtherServer::dispatch(&mut table, OWNER, h, method, &[0; 6]),
        Err(DispatchError::UnknownMethod { method })
    );
    assert_eq!(
        OtherServer::dispatch(&mut table, OWNER, h, OtherMethod::Now.number(), &[0; 6]),
        Ok([0; 4])
    );
}
