//! The client side: `<Trait>Client<T>`, one method per interface method that marshals the
//! arguments into words, makes the call through a `k42_rights::wire::Transport` and types the
//! reply. The client never supplies a badge; the transport (the kernel) does.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::local;
use super::methods::enum_name;
use crate::parse::{Interface, Method};

/// One client stub method.
fn stub(iface: &Interface, m: &Method) -> TokenStream {
    let enum_name = enum_name(iface);
    let (name, variant, docs, ok, err) = (&m.name, &m.variant, &m.docs, &m.ok, &m.err);
    let params = m.args.iter().map(|(n, ty)| quote!(#n: #ty));
    let words = m
        .args
        .iter()
        .map(|(n, _)| quote!(::k42_rights::wire::Word::to_word(#n)));
    let fallback = format!("Calls `{}::{name}` on the server.", iface.name);
    let docs = if docs.is_empty() {
        quote!(#[doc = #fallback])
    } else {
        quote!(#(#docs)*)
    };
    // Not the user's parameter named `reply`, nor an item of that name.
    let reply = local("reply");
    quote! {
        #docs
        pub fn #name(&mut self #(, #params)*)
            -> ::core::result::Result<#ok, ::k42_rights::wire::CallError<#err>>
        {
            let #reply = ::k42_rights::wire::Transport::call(
                &mut self.transport,
                self.handle,
                #enum_name::#variant.number(),
                &::k42_rights::wire::pack_args([#(#words),*]),
            );
            ::k42_rights::wire::finish(#reply)
        }
    }
}

/// The client type and its stubs.
pub(crate) fn client(iface: &Interface) -> TokenStream {
    let Interface { name, vis, .. } = iface;
    let client = format_ident!("{}Client", name);
    let stubs = iface.methods.iter().map(|m| stub(iface, m));
    let doc = format!(
        "Client stub of [`{name}`]: calls a `{name}` object through a transport. Generic calls \
         (give access, release) go through `k42_rights::wire::meta` with the same fields."
    );
    quote! {
        #[doc = #doc]
        #vis struct #client<T> {
            /// How calls reach the server.
            pub transport: T,
            /// The object's handle in the server's table.
            pub handle: ::k42_rights::XHandle,
        }

        impl<T> #client<T> {
            /// A stub calling the object `handle` through `transport`.
            pub const fn new(transport: T, handle: ::k42_rights::XHandle) -> Self {
                Self { transport, handle }
            }
        }

        impl<T: ::k42_rights::wire::Transport> #client<T> {
            #(#stubs)*
        }
    }
}
