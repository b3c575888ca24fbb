//! The macro's own arguments: `#[interface(id = N)]`.
//!
//! The id becomes the high half of every method word (`k42_rights::wire::method_word`), so a handle
//! of one interface called with another interface's method numbers is refused, not misdispatched.

use proc_macro2::TokenStream;
use syn::LitInt;
use syn::parse::Parser;

/// Parses the attribute's arguments into the interface id.
pub(crate) fn parse_id(args: TokenStream) -> syn::Result<u32> {
    let mut id = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("id") {
            if id.is_some() {
                return Err(meta.error("`id` given twice"));
            }
            let lit: LitInt = meta.value()?.parse()?;
            id = Some(lit.base10_parse::<u32>()?);
            Ok(())
        } else {
            Err(meta.error("unknown interface option; expected `id = N`"))
        }
    });
    parser.parse2(args)?;
    id.ok_or_else(|| {
        syn::Error::new(
            proc_macro2::Span::call_site(),
            "an interface needs an id: #[interface(id = N)], N a u32 unique among interfaces",
        )
    })
}
