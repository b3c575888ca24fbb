//! The interface macro: K42's stub compiler (and Hubris' idol) as a Rust attribute. An object
//! interface is declared once, as a trait; method numbers, the rights each method needs, the
//! server's demarshalling dispatch and the client stub are generated from it — never a hand-written
//! switch per message, so no method can forget its rights check.
//!
//! The generated code calls only `::k42_rights` (`crates/rights`: the XObject table, the check,
//! and the `wire` types); this crate is the compile-time half. `parse/` checks the declaration and
//! reports every mistake as a `syn::Error` at its span; `generate/` writes the code.
//!
//! # Example
//!
//! ```
//! use k42_rights::{Badge, XObjectTable, Rights, wire::Word};
//!
//! #[derive(Debug, PartialEq)]
//! pub struct Busy;
//! impl Word for Busy {
//!     fn to_word(self) -> u64 { 1 }
//!     fn from_word(w: u64) -> Option<Self> { (w == 1).then_some(Busy) }
//! }
//!
//! #[k42_idl::interface(id = 7)]
//! pub trait Console {
//!     /// Writes `len` bytes at `bytes` (in shared memory); returns how many were written.
//!     #[rights(WRITE)]
//!     fn write(&mut self, caller: Badge, bytes: u64, len: u64) -> Result<u64, Busy>;
//!     #[rights(CONTROL)]
//!     fn set_mode(&mut self, caller: Badge, mode: u8) -> Result<(), Busy>;
//! }
//!
//! assert_eq!(ConsoleMethod::SetMode.number(), 7 << 32 | 1);
//! assert_eq!(ConsoleMethod::Write.rights(), Rights::WRITE);
//! // Server: `ConsoleServer::<MyConsole>::dispatch(&mut table, badge, handle, method, &args)`.
//! // Client: `ConsoleClient::new(transport, handle).write(addr, len)`.
//! ```
//!
//! # What is generated
//!
//! For `trait Console` with `#[interface(id = N)]`, beside the trait itself (less `#[rights]`):
//! - `enum ConsoleMethod { Write, SetMode }` with `INTERFACE_ID`, `ALL`, `index()`, `number()` (the
//!   method word: `N << 32 | index`), `from_number()`, `rights()`, `name()`;
//! - `struct ConsoleServer<S>` with `dispatch(table, badge, handle, method, &args) -> Reply`, which
//!   looks the handle up with the method's rights (the body never runs without them), demarshals
//!   each argument strictly, calls `<S as Console>::method`, and marshals the result; it also
//!   implements `k42_rights::wire::Interface`;
//! - `struct ConsoleClient<T> { transport, handle }` with one method per interface method, taking
//!   the arguments after the badge and returning `Result<T, CallError<E>>`.
//!
//! # Rules
//!
//! Methods take `&self` or `&mut self`, then `caller: Badge`, then scalar arguments (`u8`…`u64`,
//! `usize`, `i8`…`i64`, `isize`, `bool`, `XHandle`, `Rights`; at most `wire::ARG_WORDS`), and return
//! `Result<T, E>` with `T` one of those, `()` or a tuple of them, and `E: Word`. Each has exactly one
//! `#[rights(A | B)]` (`#[rights(NONE)]` for none). Method indices are declaration order: append,
//! never reorder, once clients exist.

mod generate;
mod parse;

use proc_macro::TokenStream;

/// Declares an object interface; see the crate documentation.
#[proc_macro_attribute]
pub fn interface(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into()).into()
}

/// The macro on `proc_macro2` tokens, testable outside a compiler invocation: the generated code,
/// or the declaration's errors as `compile_error!`s beside the trait as declared (so the user sees
/// those errors, not a cascade of "trait not found").
fn expand(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    match parse::Interface::parse(args, item.clone()) {
        Ok(iface) => generate::generate(&iface),
        Err(e) => {
            let errors = e.to_compile_error();
            let item = parse::strip_rights(item);
            quote::quote!(#errors #item)
        }
    }
}

#[cfg(test)]
mod tests;
