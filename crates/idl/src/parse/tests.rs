//! The declaration checks on token streams: each mistake gets its own error at its own span, and
//! valid declarations parse to the expected model. (Usage of the generated code is tested in
//! `tests/`.)

use proc_macro2::TokenStream;
use quote::quote;

use super::Interface;
use super::method::camel;
use super::rights_expr;

/// The error messages `Interface::parse` gives for a trait body under `id = 1`.
fn errors(body: TokenStream) -> Vec<String> {
    errors_with(quote!(id = 1), body)
}

fn errors_with(args: TokenStream, body: TokenStream) -> Vec<String> {
    match Interface::parse(args, quote!(pub trait T { #body })) {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

/// Asserts exactly one error, containing `needle`.
fn assert_error(body: TokenStream, needle: &str) {
    let found = errors(body);
    assert!(
        found.len() == 1 && found[0].contains(needle),
        "expected one error containing {needle:?}, got {found:?}"
    );
}

#[test]
fn a_valid_declaration_parses_to_its_model() {
    let iface = Interface::parse(
        quote!(id = 7),
        quote! {
            pub trait Console {
                /// Writes.
                #[rights(WRITE)]
                fn write(&mut self, caller: Badge, bytes: u64, len: u32) -> Result<u64, E>;
                #[rights(READ | self::PEEK)]
                fn peek(&self, caller: k42_rights::Badge) -> Result<(u8, bool), E>;
            }
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(iface.id, 7);
    assert_eq!(iface.name, "Console");
    let [write, peek] = &iface.methods[..] else {
        panic!("two methods")
    };
    assert_eq!(write.variant, "Write");
    assert!(write.mutable && !peek.mutable);
    assert_eq!(write.docs.len(), 1);
    let args: Vec<_> = write.args.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(args, ["bytes", "len"]);
    assert!(peek.args.is_empty());
    // The emitted trait keeps the docs but not #[rights].
    let emitted = {
        let item = &iface.item;
        quote!(#item).to_string()
    };
    assert!(!emitted.contains("# [rights"), "{emitted}");
    assert!(emitted.contains("Writes."));
}

#[test]
fn rights_names_become_constants_of_rights_and_paths_stay_paths() {
    let Ok(iface) = Interface::parse(
        quote!(id = 1),
        quote!(
            trait T {
                #[rights(READ | self::PEEK)]
                fn f(&self, c: Badge) -> Result<(), E>;
            }
        ),
    ) else {
        panic!("valid")
    };
    let expr = rights_expr(&iface.methods[0].rights).to_string();
    assert_eq!(
        expr,
        quote!(
            ::k42_rights::Rights::empty()
                .union(::k42_rights::Rights::READ)
                .union(self::PEEK)
        )
        .to_string()
    );
}

#[test]
fn method_names_become_upper_camel_variants() {
    for (snake, upper) in [
        ("write", "Write"),
        ("set_mode", "SetMode"),
        ("r#type", "Type"),
    ] {
        let ident: syn::Ident = syn::parse_str(snake).unwrap();
        assert_eq!(camel(&ident), upper);
    }
}

#[test]
fn missing_rights_is_an_error() {
    assert_error(
        quote!(
            fn f(&self, c: Badge) -> Result<(), E>;
        ),
        "names the rights it needs",
    );
}

#[test]
fn empty_or_bare_rights_is_an_error() {
    for attr in [quote!(#[rights]), quote!(#[rights()])] {
        assert_error(
            quote!(#attr fn f(&self, c: Badge) -> Result<(), E>;),
            "#[rights(NONE)]",
        );
    }
}

#[test]
fn rights_twice_is_an_error() {
    assert_error(
        quote!(
            #[rights(READ)]
            #[rights(WRITE)]
            fn f(&self, c: Badge) -> Result<(), E>;
        ),
        "given twice",
    );
}

#[test]
fn malformed_rights_are_an_error() {
    assert_error(
        quote!(
            #[rights(READ WRITE)]
            fn f(&self, c: Badge) -> Result<(), E>;
        ),
        "expected",
    );
}

#[test]
fn non_scalar_arguments_are_errors() {
    for ty in [
        quote!(&[u8]),
        quote!(String),
        quote!(Vec<u64>),
        quote!(f64),
        quote!([u64; 2]),
    ] {
        assert_error(
            quote!(#[rights(READ)] fn f(&self, c: Badge, x: #ty) -> Result<(), E>;),
            "not a register scalar",
        );
    }
}

#[test]
fn a_badge_argument_is_an_error() {
    assert_error(
        quote!(
            #[rights(READ)]
            fn f(&self, c: Badge, other: Badge) -> Result<(), E>;
        ),
        "kernel stamps",
    );
}

#[test]
fn the_badge_must_come_first() {
    for params in [
        quote!(&self),
        quote!(&self, x: u64),
        quote!(&self, x: u64, c: Badge),
    ] {
        assert_error(
            quote!(#[rights(READ)] fn f(#params) -> Result<(), E>;),
            "caller's Badge",
        );
    }
}

#[test]
fn receivers_other_than_references_are_errors() {
    for params in [
        quote!(self, c: Badge),
        quote!(c: Badge),
        quote!(self: Box<Self>, c: Badge),
    ] {
        assert_error(
            quote!(#[rights(READ)] fn f(#params) -> Result<(), E>;),
            "&self or &mut self",
        );
    }
}

#[test]
fn returns_must_be_a_full_result_of_scalars() {
    for ret in [
        quote!(),
        quote!(-> u64),
        quote!(-> Result<u64>),
        quote!(-> Option<u64>),
    ] {
        assert_error(
            quote!(#[rights(READ)] fn f(&self, c: Badge) #ret;),
            "returns Result<T, E>",
        );
    }
    assert_error(
        quote!(
            #[rights(READ)]
            fn f(&self, c: Badge) -> Result<(u64, String), E>;
        ),
        "not a register scalar",
    );
}

#[test]
fn duplicate_methods_are_errors() {
    let sig = quote!((&self, c: Badge) -> Result<(), E>);
    assert_error(
        quote!(#[rights(READ)] fn f #sig; #[rights(READ)] fn f #sig;),
        "duplicate method `f`",
    );
    assert_error(
        quote!(#[rights(READ)] fn set_mode #sig; #[rights(READ)] fn set_mode_ #sig;),
        "duplicate method `SetMode` (first: `set_mode`)",
    );
}

#[test]
fn unsupported_signatures_are_errors() {
    let cases = [
        (
            quote!(
                async fn f(&self, c: Badge) -> Result<(), E>;
            ),
            "async",
        ),
        (
            quote!(
                unsafe fn f(&self, c: Badge) -> Result<(), E>;
            ),
            "unsafe",
        ),
        (
            quote!(
                fn f<X>(&self, c: Badge) -> Result<(), E>;
            ),
            "generic",
        ),
        (
            quote!(
                fn new(&self, c: Badge) -> Result<(), E>;
            ),
            "named `new`",
        ),
        (
            quote!(
                fn f(&self, c: Badge, (a, b): (u64, u64)) -> Result<(), E>;
            ),
            "plain names",
        ),
    ];
    for (f, needle) in cases {
        assert_error(quote!(#[rights(READ)] #f), needle);
    }
}

#[test]
fn non_method_items_and_empty_interfaces_are_errors() {
    assert_error(
        quote!(
            type X;
        ),
        "methods only",
    );
    assert_error(quote!(), "at least one method");
    let generic = Interface::parse(
        quote!(id = 1),
        quote!(
            trait T<X> {
                #[rights(READ)]
                fn f(&self, c: Badge) -> Result<(), E>;
            }
        ),
    );
    assert!(generic.is_err_and(|e| e.to_string().contains("cannot be generic")));
}

#[test]
fn interface_options_are_checked() {
    let ok_body = quote!(
        #[rights(READ)]
        fn f(&self, c: Badge) -> Result<(), E>;
    );
    let cases = [
        (quote!(), "needs an id"),
        (quote!(id = 1, id = 2), "given twice"),
        (quote!(name = 1), "unknown interface option"),
        (quote!(id = 4294967296), "number too large"),
        (quote!(id = "7"), "expected integer literal"),
    ];
    for (args, needle) in cases {
        let found = errors_with(args, ok_body.clone());
        assert!(
            found.len() == 1 && found[0].contains(needle),
            "{needle:?}: {found:?}"
        );
    }
}

#[test]
fn every_mistake_is_reported_at_once() {
    let found = errors_with(
        quote!(),
        quote! {
            fn a(&self, c: Badge) -> Result<(), E>;
            #[rights(READ)] fn b(&self, c: Badge, s: String) -> Result<(), E>;
        },
    );
    assert_eq!(found.len(), 3, "{found:?}");
}
