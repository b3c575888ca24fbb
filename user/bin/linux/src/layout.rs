//! Where the personality puts the Linux program's memory, beside the ranges the runtime and the
//! kernel already use (`k42_rt::layout`, `k42_abi::kernel`):
//!
//! | range                                   | what                                          |
//! |-----------------------------------------|-----------------------------------------------|
//! | `0x40_0000` …                           | a non-PIE program's image (where it is linked), its brk heap after it |
//! | `0x7000_0000` – `0x8000_0000`            | the personality's image (`PERSONALITY_BASE`)  |
//! | `0x1000_0000_0000` – `0x3000_0000_0000` | the runtime's heap, upcall and thread stacks  |
//! | [`EXEC_SCRATCH_BASE`] …                 | files `execve` maps to load them (8 × 1 GiB)  |
//! | [`MMAP_FLOOR`] – [`MMAP_CEILING`]       | the program's mmap area, filled top-down as Linux does |
//! | `0x5555_5555_4000`                      | a PIE program's image (`k42_elf::DEFAULT_PIE_BIAS`), inside the mmap area (placed first) |
//! | `0x7f00_0000_0000`                      | dispatcher pages                              |
//! | `0x7ff0_0000_0000`                      | top of the personality's own first stack      |
//! | [`STACK_TOP`] − [`STACK_SIZE`] – [`STACK_TOP`] | the program's stack                    |

/// Where `execve` maps the files it loads, for itself (`crate::file_bytes`): in the range the
/// runtime leaves to programs, which the Linux program may not use (`mem::program_may_use`).
pub const EXEC_SCRATCH_BASE: u64 = k42_rt::layout::PROGRAM_BASE;
/// Files mapped there at once, each in a slot as large as the largest file image.
pub const EXEC_SCRATCH_SLOTS: u32 = 8;

/// Lowest address mmap hands out (above everything the runtime reserves).
pub const MMAP_FLOOR: u64 = 0x0000_4000_0000_0000;
/// mmap hands out addresses below this, top-down (below the dispatcher pages).
pub const MMAP_CEILING: u64 = 0x0000_7e00_0000_0000;
/// Top of the program's initial stack.
pub const STACK_TOP: u64 = 0x0000_7ffe_0000_0000;
/// Bytes of stack mapped for it (Linux's default `RLIMIT_STACK`), demand-paged.
pub const STACK_SIZE: u64 = 8 << 20;
/// Most the brk heap may grow (it also stops at the next mapping, as on Linux).
pub const BRK_MAX: u64 = 1 << 30;

const _: () = assert!(MMAP_FLOOR >= k42_rt::layout::PROGRAM_BASE);
const _: () = assert!(
    EXEC_SCRATCH_BASE
        + EXEC_SCRATCH_SLOTS as u64 * k42_kapi::MAX_IMAGE_PAGES * k42_kapi::IMAGE_PAGE_SIZE
        <= MMAP_FLOOR
);
const _: () = assert!(MMAP_CEILING <= k42_abi::kernel::DISPATCHER_PAGE_BASE);
const _: () = assert!(STACK_TOP - STACK_SIZE > k42_abi::kernel::INITIAL_STACK_TOP);
/// User space ends at 128 TiB (4-level paging).
const _: () = assert!(STACK_TOP < 1 << 47);
