//! The per-method `#[rights(...)]` attribute: which rights a call needs.
//!
//! Rights are `|`-separated. A bare name (`READ`, `NONE`) is a constant of `k42_rights::Rights`; a
//! path (`self::FLUSH`, `crate::console::BAUD`) is any constant expression of type `Rights`, which is
//! how object-defined rights (`Rights::object(n)`) are named. An empty list is refused: a method any
//! handle holder may call says so with `#[rights(NONE)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Path, Token};

/// The attribute's name.
pub(crate) const RIGHTS_ATTR: &str = "rights";

/// Parses one `#[rights(...)]` attribute into the names it lists.
pub(crate) fn parse_rights(attr: &Attribute) -> syn::Result<Vec<Path>> {
    let list = match &attr.meta {
        Meta::List(list) if !list.tokens.is_empty() => list,
        _ => {
            return Err(syn::Error::new_spanned(
                attr,
                "name the rights a call needs, e.g. #[rights(READ | WRITE)], or #[rights(NONE)]",
            ));
        }
    };
    let names = list.parse_args_with(Punctuated::<Path, Token![|]>::parse_separated_nonempty)?;
    Ok(names.into_iter().collect())
}

/// The `Rights` constant expression for `names`.
pub(crate) fn rights_expr(names: &[Path]) -> TokenStream {
    let terms = names.iter().map(|name| match name.get_ident() {
        Some(ident) => quote!(::k42_rights::Rights::#ident),
        None => quote!(#name),
    });
    // `union` is a const fn, so the whole set is a constant the dispatch matches on.
    quote!(::k42_rights::Rights::empty() #(.union(#terms))*)
}
