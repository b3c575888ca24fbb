//! Tests of the whole expansion on token streams: what the generated code may and may not contain,
//! and what is emitted beside errors. `print_expansion` shows the code for a small interface
//! (`cargo test -p k42-idl print_expansion -- --nocapture`).

use proc_macro2::TokenStream;
use quote::quote;

use super::expand;

fn sample() -> TokenStream {
    quote! {
        pub trait Console {
            /// Writes `len` bytes at `bytes`.
            #[rights(WRITE)]
            fn write(&mut self, caller: Badge, bytes: u64, len: u64) -> Result<u64, Error>;
            #[rights(READ)]
            fn read(&self, caller: Badge, len: u32) -> Result<(u64, bool), Error>;
            #[rights(CONTROL)]
            fn set_mode(&mut self, caller: Badge, mode: u8) -> Result<(), Error>;
        }
    }
}

#[test]
fn print_expansion() {
    let out = expand(quote!(id = 7), sample());
    println!("{out}");
    assert!(!out.to_string().contains("compile_error"));
}

#[test]
fn the_expansion_needs_no_unsafe_and_reaches_the_runtime_by_absolute_paths() {
    let out = expand(quote!(id = 7), sample()).to_string();
    assert!(!out.contains("unsafe"), "{out}");
    for item in [
        "ConsoleMethod",
        "ConsoleServer",
        "ConsoleClient",
        "trait Console",
    ] {
        assert!(out.contains(item), "{item} missing");
    }
    // Every mention of the runtime crate is absolute, so the code works from any crate (and no
    // `use` can redirect it); the rest are in doc text, quoted.
    let mentions = out.matches("k42_rights").count();
    let absolute = out.matches(":: k42_rights").count();
    let in_docs = out.matches("`k42_rights").count();
    assert!(
        absolute > 0 && mentions == absolute + in_docs,
        "{mentions} vs {absolute}"
    );
}

#[test]
fn the_rights_check_precedes_every_method_call() {
    let out = expand(quote!(id = 7), sample()).to_string();
    let lookup = out.find("lookup_mut").expect("lookup");
    for call in [
        "< S as Console > :: write",
        "< S as Console > :: read",
        "< S as Console > :: set_mode",
    ] {
        let at = out.find(call).unwrap_or_else(|| panic!("{call} missing"));
        assert!(lookup < at, "{call} before the lookup");
    }
}

#[test]
fn errors_come_with_the_trait_minus_rights() {
    let out = expand(
        quote!(id = 7),
        quote!(
            pub trait T {
                #[rights(READ)]
                fn f(&self) -> Result<(), E>;
            }
        ),
    )
    .to_string();
    assert!(out.contains("compile_error"));
    assert!(out.contains("pub trait T"));
    assert!(!out.contains("rights"), "{out}");
}
