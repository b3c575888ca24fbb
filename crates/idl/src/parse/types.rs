//! Which Rust types may cross the register boundary in an interface, checked on the syntax so a
//! wrong type gets a clear error at its own span.
//!
//! The list mirrors the `Word` impls in `k42_rights::wire`: register-sized scalars, handles and
//! rights sets. No references, slices or strings (bulk data goes through shared memory), and no
//! `Badge`: only the kernel says who is calling.

use syn::{GenericArgument, PathArguments, ReturnType, Type};

/// Scalar types an argument or result may have, by their last path segment.
pub(crate) const SCALARS: &[&str] = &[
    "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize", "bool", "XHandle",
    "Rights",
];

/// The badge type's name: the one parameter every method has first, and no method may take again.
pub(crate) const BADGE: &str = "Badge";

/// The last path segment's name of a plain path type without generics, e.g. `u64` for
/// `core::primitive::u64`.
pub(crate) fn plain_name(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    matches!(last.arguments, PathArguments::None).then(|| last.ident.to_string())
}

/// Checks that `ty` may travel in one register word.
pub(crate) fn check_scalar(ty: &Type) -> syn::Result<()> {
    match plain_name(ty) {
        Some(name) if SCALARS.contains(&name.as_str()) => Ok(()),
        Some(name) if name == BADGE => Err(syn::Error::new_spanned(
            ty,
            "a Badge cannot be passed: the kernel stamps the caller's badge (the method's first \
             argument); name another process by a u64",
        )),
        _ => Err(syn::Error::new_spanned(
            ty,
            format!(
                "not a register scalar; interface arguments and results are one of: {}",
                SCALARS.join(", ")
            ),
        )),
    }
}

/// Checks a method's `Ok` type: `()`, one scalar, or a tuple of scalars.
fn check_results(ty: &Type) -> syn::Result<()> {
    match ty {
        Type::Tuple(tuple) => tuple.elems.iter().try_for_each(check_scalar),
        Type::Paren(inner) => check_results(&inner.elem),
        _ => check_scalar(ty),
    }
}

/// Splits `-> Result<R, E>` into `(R, E)`, checking `R`. `E` may be any type with a `Word` impl,
/// which the compiler checks on the generated code.
pub(crate) fn split_result(output: &ReturnType) -> syn::Result<(Type, Type)> {
    let refuse = |spanned: &dyn quote::ToTokens| {
        syn::Error::new_spanned(
            spanned,
            "an interface method returns Result<T, E>, written out in full: T is (), a scalar or a \
             tuple of scalars, E an error type that implements k42_rights::wire::Word",
        )
    };
    let ReturnType::Type(_, ty) = output else {
        return Err(refuse(output));
    };
    let Type::Path(path) = &**ty else {
        return Err(refuse(ty));
    };
    let Some(last) = path.path.segments.last().filter(|s| s.ident == "Result") else {
        return Err(refuse(ty));
    };
    let PathArguments::AngleBracketed(generics) = &last.arguments else {
        return Err(refuse(ty));
    };
    let types: Vec<&Type> = generics
        .args
        .iter()
        .filter_map(|arg| match arg {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    let [ok, err] = types[..] else {
        return Err(refuse(ty));
    };
    check_results(ok)?;
    Ok((ok.clone(), err.clone()))
}
