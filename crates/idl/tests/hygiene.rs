//! The generated code's locals cannot be captured by the user's names: constants named like the
//! dispatch's locals (a `let obj` would otherwise become a constant pattern and fail), and
//! parameters named like the stub's locals (`args`, `reply`), compile and behave.
#![allow(non_upper_case_globals)]

use core::convert::Infallible;

use k42_rights::wire::{Reply, Transport};
use k42_rights::{Badge, Rights, XHandle, XObjectTable};

// Names the generated dispatch and stubs use for their own locals.
const obj: u64 = 1;
const m: u64 = 2;
const value: u64 = 3;
const error: u64 = 4;
const badge: u64 = 5;
const arg0: u64 = 6;

/// An interface whose parameter names collide with generated locals.
#[k42_idl::interface(id = 3)]
pub trait Adder {
    /// `args + reply + table`.
    #[rights(READ)]
    fn add(&self, caller: Badge, args: u64, reply: u64, table: u64) -> Result<u64, Infallible>;
}

#[derive(Clone)]
struct Sum;

impl Adder for Sum {
    fn add(&self, _: Badge, args: u64, reply: u64, table: u64) -> Result<u64, Infallible> {
        Ok(args + reply + table)
    }
}

struct Direct(XObjectTable<Sum>);

impl Transport for Direct {
    fn call(&mut self, handle: XHandle, method: u64, words: &[u64; 6]) -> Reply {
        AdderServer::dispatch(&mut self.0, Badge(0), handle, method, words)
    }
}

#[test]
fn user_names_do_not_capture_generated_locals() {
    let mut table = XObjectTable::new();
    let h = table
        .insert(Sum, Badge(0), Rights::READ, Rights::empty())
        .unwrap();
    let mut adder = AdderClient::new(Direct(table), h);
    assert_eq!(adder.add(obj, m, value), Ok(obj + m + value));
    assert_eq!(error + badge + arg0, 15, "the constants stay in use");
}
