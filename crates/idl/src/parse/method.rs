//! One interface method: its signature checked against what a register call can carry, and its
//! `#[rights]` taken off (the rest of the trait is emitted unchanged).
//!
//! Shape: `fn name(&self | &mut self, caller: Badge, arg: Scalar, ...) -> Result<T, E>`, with
//! exactly one `#[rights(...)]`. Anything else is a `syn::Error` at the offending span.

use proc_macro2::Span;
use syn::{Attribute, FnArg, Ident, Pat, Path, TraitItemFn, Type};

use super::rights::{RIGHTS_ATTR, parse_rights};
use super::types::{BADGE, check_scalar, plain_name, split_result};

/// Client stub helper names a method may not take (the generated client has an inherent `new`).
const RESERVED_NAMES: &[&str] = &["new"];

/// A checked interface method.
pub(crate) struct Method {
    /// The method's name, as declared.
    pub(crate) name: Ident,
    /// Its enum variant: the name in UpperCamelCase.
    pub(crate) variant: Ident,
    /// Its doc comments, repeated on the generated variant and client method.
    pub(crate) docs: Vec<Attribute>,
    /// The rights a call needs, as named in `#[rights]`.
    pub(crate) rights: Vec<Path>,
    /// Whether the receiver is `&mut self` (else `&self`).
    pub(crate) mutable: bool,
    /// Arguments after the badge: name and scalar type.
    pub(crate) args: Vec<(Ident, Type)>,
    /// The `Ok` type.
    pub(crate) ok: Type,
    /// The `Err` type.
    pub(crate) err: Type,
}

/// `snake_case` → `UpperCamelCase` (`set_mode` → `SetMode`).
pub(crate) fn camel(ident: &Ident) -> Ident {
    let name = ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    let camel: String = name
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect();
    Ident::new(&camel, ident.span())
}

/// Takes the `#[rights]` attribute off `item`, returning what it names.
fn take_rights(item: &mut TraitItemFn) -> syn::Result<Vec<Path>> {
    let (rights, rest): (Vec<Attribute>, Vec<Attribute>) = item
        .attrs
        .drain(..)
        .partition(|attr| attr.path().is_ident(RIGHTS_ATTR));
    item.attrs = rest;
    match &rights[..] {
        [one] => parse_rights(one),
        [] => Err(syn::Error::new_spanned(
            &item.sig.ident,
            "every interface method names the rights it needs: add #[rights(...)] \
             (#[rights(NONE)] if any handle holder may call it)",
        )),
        [_, second, ..] => Err(syn::Error::new_spanned(second, "#[rights] given twice")),
    }
}

/// Refuses signature features a register call cannot carry.
fn check_plain(item: &TraitItemFn) -> syn::Result<()> {
    let sig = &item.sig;
    let refuse = |what: &str| -> syn::Result<()> {
        Err(syn::Error::new_spanned(
            &sig.ident,
            format!("interface methods cannot be {what}"),
        ))
    };
    if sig.constness.is_some() {
        return refuse("const");
    }
    if sig.asyncness.is_some() {
        return refuse("async: servers never block on a client's behalf");
    }
    if sig.unsafety.is_some() {
        return refuse("unsafe");
    }
    if sig.abi.is_some() {
        return refuse("extern");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return refuse("generic");
    }
    if sig.variadic.is_some() {
        return refuse("variadic");
    }
    if RESERVED_NAMES.contains(&sig.ident.to_string().as_str()) {
        return refuse("named `new`, which the generated client uses");
    }
    Ok(())
}

/// The receiver's mutability: `&self` or `&mut self` only.
fn receiver(item: &TraitItemFn) -> syn::Result<bool> {
    match item.sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.colon_token.is_none() => {
            Ok(r.mutability.is_some())
        }
        Some(other) => Err(syn::Error::new_spanned(
            other,
            "an interface method takes &self or &mut self first",
        )),
        None => Err(syn::Error::new_spanned(
            &item.sig,
            "an interface method takes &self or &mut self first",
        )),
    }
}

/// The typed parameter `arg`, as `(name, type)`.
fn typed(arg: &FnArg) -> syn::Result<(Ident, Type)> {
    let FnArg::Typed(typed) = arg else {
        return Err(syn::Error::new_spanned(arg, "unexpected receiver"));
    };
    let Pat::Ident(pat) = &*typed.pat else {
        return Err(syn::Error::new_spanned(
            &typed.pat,
            "interface arguments need plain names (the client stub reuses them)",
        ));
    };
    Ok((pat.ident.clone(), (*typed.ty).clone()))
}

impl Method {
    /// Checks `item` and takes its `#[rights]` off.
    pub(crate) fn parse(item: &mut TraitItemFn) -> syn::Result<Self> {
        let rights = take_rights(item)?;
        check_plain(item)?;
        let mutable = receiver(item)?;
        let mut params = item.sig.inputs.iter().skip(1);
        let badge_missing = || {
            syn::Error::new_spanned(
                &item.sig.ident,
                "the first argument after the receiver is the caller's Badge (`caller: Badge`), \
                 stamped by the kernel",
            )
        };
        let (_, badge_ty) = typed(params.next().ok_or_else(badge_missing)?)?;
        if plain_name(&badge_ty).as_deref() != Some(BADGE) {
            return Err(badge_missing());
        }
        let args = params
            .map(|arg| {
                let (name, ty) = typed(arg)?;
                check_scalar(&ty)?;
                Ok((name, ty))
            })
            .collect::<syn::Result<Vec<_>>>()?;
        let (ok, err) = split_result(&item.sig.output)?;
        let docs = item
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .cloned()
            .collect();
        Ok(Self {
            name: item.sig.ident.clone(),
            variant: camel(&item.sig.ident),
            docs,
            rights,
            mutable,
            args,
            ok,
            err,
        })
    }

    /// Where errors about the whole method point.
    pub(crate) fn span(&self) -> Span {
        self.name.span()
    }
}
