//! From the annotated trait to a checked model of the interface (`Interface`), which `generate/`
//! turns into code. All user errors are found here, reported together with `syn::Error::combine`,
//! so generation itself cannot fail.

mod method;
mod options;
mod rights;
#[cfg(test)]
mod tests;
mod types;

use std::collections::HashMap;

use proc_macro2::TokenStream;
use syn::{Ident, ItemTrait, TraitItem, Visibility};

pub(crate) use method::Method;
pub(crate) use rights::rights_expr;

/// A checked interface declaration.
pub(crate) struct Interface {
    /// The trait's name.
    pub(crate) name: Ident,
    /// The trait's visibility, given to every generated item.
    pub(crate) vis: Visibility,
    /// The interface id.
    pub(crate) id: u32,
    /// Methods in declaration order: a method's index is its position, so methods are appended,
    /// never reordered, once clients exist.
    pub(crate) methods: Vec<Method>,
    /// The trait with the `#[rights]` attributes taken off, emitted as is.
    pub(crate) item: ItemTrait,
}

/// Adds `e` to the errors found so far.
fn note(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}

impl Interface {
    /// Parses the macro's arguments and the trait it annotates.
    pub(crate) fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Self> {
        let mut errors = None;
        let id = parse_id_noting(args, &mut errors);
        let mut item: ItemTrait = syn::parse2(item)?;
        check_trait(&item).unwrap_or_else(|e| note(&mut errors, e));
        let mut methods = Vec::new();
        let mut seen: HashMap<String, Ident> = HashMap::new();
        for trait_item in &mut item.items {
            let TraitItem::Fn(f) = trait_item else {
                note(
                    &mut errors,
                    syn::Error::new_spanned(
                        &*trait_item,
                        "an interface declares methods only (no types, constants or macros)",
                    ),
                );
                continue;
            };
            match Method::parse(f) {
                Ok(m) => {
                    // Variants must differ too: `set_mode` and `setmode_` both make `SetMode`.
                    let keys = [m.name.to_string(), m.variant.to_string()];
                    if let Some((key, first)) = keys
                        .iter()
                        .find_map(|k| seen.get(k).map(|first| (k, first)))
                    {
                        let msg = format!("duplicate method `{key}` (first: `{first}`)");
                        note(&mut errors, syn::Error::new(m.span(), msg));
                    }
                    seen.entry(m.name.to_string()).or_insert(m.name.clone());
                    seen.entry(m.variant.to_string()).or_insert(m.name.clone());
                    methods.push(m);
                }
                Err(e) => note(&mut errors, e),
            }
        }
        if item.items.is_empty() {
            note(
                &mut errors,
                syn::Error::new_spanned(&item.ident, "an interface needs at least one method"),
            );
        }
        match errors {
            Some(e) => Err(e),
            None => Ok(Self {
                name: item.ident.clone(),
                vis: item.vis.clone(),
                id: id.unwrap_or_default(),
                methods,
                item,
            }),
        }
    }
}

/// The trait `item` with every `#[rights]` taken off, or `item` unchanged if it is not a trait:
/// what is emitted beside errors.
pub(crate) fn strip_rights(item: TokenStream) -> TokenStream {
    let Ok(mut item) = syn::parse2::<ItemTrait>(item.clone()) else {
        return item;
    };
    for trait_item in &mut item.items {
        if let TraitItem::Fn(f) = trait_item {
            f.attrs.retain(|a| !a.path().is_ident(rights::RIGHTS_ATTR));
        }
    }
    quote::quote!(#item)
}

/// [`options::parse_id`], noting a failure instead of stopping, so trait errors show too.
fn parse_id_noting(args: TokenStream, errors: &mut Option<syn::Error>) -> Option<u32> {
    options::parse_id(args).map_err(|e| note(errors, e)).ok()
}

/// Refuses trait features a generated dispatch cannot serve.
fn check_trait(item: &ItemTrait) -> syn::Result<()> {
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            "an interface trait cannot be generic",
        ));
    }
    if let Some(unsafety) = item.unsafety {
        return Err(syn::Error::new_spanned(
            unsafety,
            "an interface trait cannot be unsafe",
        ));
    }
    if let Some(auto) = item.auto_token {
        return Err(syn::Error::new_spanned(
            auto,
            "an interface trait cannot be auto",
        ));
    }
    Ok(())
}
