//! From the checked model (`parse/`) to code: the trait as declared (less `#[rights]`), the method
//! enum (`methods.rs`), the server dispatch (`server.rs`) and the client stub (`client.rs`). Every
//! path into the runtime is `::k42_rights::…`, so the output compiles in any crate that depends on
//! `k42-rights`, and none of it needs `unsafe`.

mod client;
mod methods;
mod server;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::parse::Interface;

/// A generated local: mixed-site hygiene keeps user variables from shadowing it, and the prefix
/// keeps user items (which hygiene does not separate: a constant called `obj` would turn `let obj`
/// into a constant pattern) from capturing it.
pub(crate) fn local(name: &str) -> syn::Ident {
    syn::Ident::new(&format!("__k42_{name}"), Span::mixed_site())
}

/// All generated items for `iface`.
pub(crate) fn generate(iface: &Interface) -> TokenStream {
    let item = &iface.item;
    let methods = methods::method_enum(iface);
    let server = server::server(iface);
    let client = client::client(iface);
    quote! {
        #item
        #methods
        #server
        #client
    }
}
