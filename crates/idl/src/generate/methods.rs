//! The `<Trait>Method` enum: method numbers, names and needed rights as constants, so the
//! dispatch, the client stub, logs and tests all read them from one place.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::parse::{Interface, rights_expr};

/// The method enum's name for trait `name`.
pub(crate) fn enum_name(iface: &Interface) -> syn::Ident {
    format_ident!("{}Method", iface.name)
}

/// The enum and its constant tables.
pub(crate) fn method_enum(iface: &Interface) -> TokenStream {
    let Interface {
        name,
        vis,
        id,
        methods,
        ..
    } = iface;
    let enum_name = enum_name(iface);
    let count = methods.len();
    let variants: Vec<_> = methods.iter().map(|m| &m.variant).collect();
    let indices = (0..).map(|i: u32| quote!(#i)).take(count);
    let indices2 = indices.clone();
    let names = methods.iter().map(|m| m.name.to_string());
    let rights = methods.iter().map(|m| rights_expr(&m.rights));
    let variant_defs = methods.iter().map(|m| {
        let (docs, variant) = (&m.docs, &m.variant);
        let fallback = format!("`{name}::{}`.", m.name);
        let docs = if docs.is_empty() {
            quote!(#[doc = #fallback])
        } else {
            quote!(#(#docs)*)
        };
        quote!(#docs #variant)
    });
    // Checked here, not only where arguments are packed or indexed: those sites are generic, so
    // nothing would fail until some server or client is instantiated.
    let arg_limits = methods.iter().map(|m| {
        let count = m.args.len();
        let msg = format!(
            "`{name}::{}` takes {count} argument words, more than `k42_rights::wire::ARG_WORDS`",
            m.name
        );
        quote_spanned! {m.span()=>
            const _: () = ::core::assert!(#count <= ::k42_rights::wire::ARG_WORDS, #msg);
        }
    });
    let enum_doc = format!("The methods of [`{name}`], numbered in declaration order.");
    let reserved = format!("interface `{name}`: id {id} is reserved for the generic calls");
    quote! {
        #[doc = #enum_doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #vis enum #enum_name {
            #(#variant_defs,)*
        }

        impl #enum_name {
            /// The interface id: the high half of every method word.
            pub const INTERFACE_ID: u32 = #id;
            /// Every method, in index order.
            pub const ALL: [Self; #count] = [#(Self::#variants),*];

            /// The method's index within the interface (its declaration position).
            pub const fn index(self) -> u32 {
                match self { #(Self::#variants => #indices,)* }
            }

            /// The method word a call carries.
            pub const fn number(self) -> u64 {
                ::k42_rights::wire::method_word(Self::INTERFACE_ID, self.index())
            }

            /// The method a method word names, if it names one of this interface.
            pub const fn from_number(number: u64) -> ::core::option::Option<Self> {
                match ::k42_rights::wire::split_method_word(number) {
                    #((Self::INTERFACE_ID, #indices2) => ::core::option::Option::Some(Self::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }

            /// The rights a call of this method needs: the dispatch checks them before the method
            /// runs.
            pub const fn rights(self) -> ::k42_rights::Rights {
                match self { #(Self::#variants => #rights,)* }
            }

            /// The method's name as declared.
            pub const fn name(self) -> &'static str {
                match self { #(Self::#variants => #names,)* }
            }
        }

        const _: () = ::core::assert!(
            #enum_name::INTERFACE_ID != ::k42_rights::wire::meta::META_INTERFACE,
            #reserved
        );
        #(#arg_limits)*
    }
}
