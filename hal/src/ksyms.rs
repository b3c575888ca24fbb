//! The kernel's symbol table, reserved here as a fixed-size section (`.ksyms`)
//! that the xtask fills after linking (see `k42_ksyms`), so exception reports can
//! name functions without a second link.

use k42_ksyms::{CAPACITY, Table};

#[unsafe(link_section = ".ksyms")]
#[used]
static KSYMS: [u8; CAPACITY] = k42_ksyms::empty_table();

/// The symbol table in this image (empty if the xtask did not patch it).
pub fn table() -> Option<Table<'static>> {
    // The compiler would fold reads of the unpatched constant; `black_box` makes
    // it read the bytes the xtask wrote into the image.
    Table::parse(core::hint::black_box(&KSYMS))
}
