//! The server side: `<Trait>Server<S>`, whose `dispatch` turns one incoming call into a checked
//! method call. The order is fixed and is the security argument: method word → rights the method
//! needs → table lookup with the kernel's badge (stale handle or missing rights end the call here)
//! → demarshal each argument strictly → call → marshal the result or the method's error.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::local;
use super::methods::enum_name;
use crate::parse::{Interface, Method};

/// The dispatch arm of one method.
fn arm(iface: &Interface, m: &Method) -> TokenStream {
    let (trait_name, enum_name) = (&iface.name, enum_name(iface));
    let (obj, badge, args) = (local("obj"), local("badge"), local("args"));
    let (variant, method) = (&m.variant, &m.name);
    let names: Vec<_> = (0..m.args.len())
        .map(|i| local(&format!("arg{i}")))
        .collect();
    let demarshal = m
        .args
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, ((_, ty), name))| {
            quote! {
                let #name = <#ty as ::k42_rights::wire::Word>::from_word(#args[#i]).ok_or(
                    ::k42_rights::wire::DispatchError::BadArgument { index: #i },
                )?;
            }
        });
    let target = if m.mutable {
        quote!(&mut #obj.target)
    } else {
        quote!(&#obj.target)
    };
    let (ok, err, value, error) = (&m.ok, &m.err, local("value"), local("error"));
    let into_words = quote_spanned!(ok.span()=> <#ok as ::k42_rights::wire::Results>::into_words);
    let to_word = quote_spanned!(err.span()=> <#err as ::k42_rights::wire::Word>::to_word);
    quote! {
        #enum_name::#variant => {
            #(#demarshal)*
            match <S as #trait_name>::#method(#target, #badge #(, #names)*) {
                ::core::result::Result::Ok(#value) => ::core::result::Result::Ok(
                    #into_words(#value),
                ),
                ::core::result::Result::Err(#error) => ::core::result::Result::Err(
                    ::k42_rights::wire::DispatchError::Method(
                        #to_word(#error),
                    ),
                ),
            }
        }
    }
}

/// The server type, its dispatch and its `Interface` impl.
pub(crate) fn server(iface: &Interface) -> TokenStream {
    let Interface { name, vis, .. } = iface;
    let server = format_ident!("{}Server", name);
    let enum_name = enum_name(iface);
    let (table, badge, handle, method, args, obj, m) = (
        local("table"),
        local("badge"),
        local("handle"),
        local("method"),
        local("args"),
        local("obj"),
        local("m"),
    );
    let arms = iface.methods.iter().map(|m| arm(iface, m));
    let name_str = name.to_string();
    let doc = format!(
        "Server side of [`{name}`]: dispatches calls on a table of `S: {name}` objects. Never \
         constructed; a namespace for [`{server}::dispatch`] and the `Interface` impl."
    );
    let sig = quote! {
        #table: &mut ::k42_rights::XObjectTable<S>,
        #badge: ::k42_rights::Badge,
        #handle: ::k42_rights::XHandle,
        #method: u64,
        #args: &[u64; ::k42_rights::wire::ARG_WORDS],
    };
    quote! {
        #[doc = #doc]
        #vis struct #server<S>(::core::marker::PhantomData<fn() -> S>);

        impl<S: #name> #server<S> {
            /// Serves one call: `badge` is the caller's, as the kernel stamped it; `handle`,
            /// `method` and `args` are the client's words. The method runs only if the handle is
            /// live and the badge has the method's rights on it.
            pub fn dispatch(#sig) -> ::k42_rights::wire::Reply {
                // Read only by methods that take arguments.
                let _ = &#args;
                let ::core::option::Option::Some(#m) = #enum_name::from_number(#method) else {
                    return ::core::result::Result::Err(
                        ::k42_rights::wire::DispatchError::UnknownMethod { method: #method },
                    );
                };
                let #obj = #table
                    .lookup_mut(#handle, #badge, #m.rights())
                    .map_err(::k42_rights::wire::DispatchError::Rights)?;
                match #m { #(#arms)* }
            }
        }

        impl<S: #name> ::k42_rights::wire::Interface for #server<S> {
            const ID: u32 = #enum_name::INTERFACE_ID;
            const NAME: &'static str = #name_str;
            type Target = S;
            fn dispatch(#sig) -> ::k42_rights::wire::Reply {
                Self::dispatch(#table, #badge, #handle, #method, #args)
            }
        }
    }
}
