//! The runtime's share of a native program's address space, so nothing it maps collides with the
//! kernel's fixed placements (`k42_abi::kernel`) or with each other:
//!
//! | range start               | what                                                     |
//! |---------------------------|----------------------------------------------------------|
//! | `0x0000_0000_0040_0000`   | the image (`NATIVE_LOAD_BASE`, `user/link.ld`)           |
//! | [`HEAP_BASE`]             | the heap, grown [`HEAP_STEP`] at a time up to [`HEAP_LIMIT`] |
//! | [`UPCALL_STACKS_BASE`]    | one upcall stack per dispatcher, [`UPCALL_STACK_STRIDE`] apart |
//! | [`THREAD_STACKS_BASE`]    | thread stacks: slots of [`THREAD_STACK_SLOT`] bytes, the lowest page of each its red page |
//! | [`PROGRAM_BASE`]          | free for the program's own fixed mappings                |
//! | `0x0000_7f00_0000_0000`   | dispatcher pages (`DISPATCHER_PAGE_BASE`)                |
//! | `0x0000_7ff0_0000_0000`   | top of the initial stack (`INITIAL_STACK_TOP`)           |
//!
//! Every region is demand-paged anonymous memory from `Memory::map`, which refuses to map over
//! anything, so an overlap would show up as a failed map, never as shared memory.

/// Start of the heap's reserved range.
pub const HEAP_BASE: u64 = 0x0000_1000_0000_0000;
/// Most bytes the heap may grow to.
pub const HEAP_LIMIT: u64 = 4 << 30;
/// Bytes mapped per growth step (more for a larger request): pages are touched on demand, so a
/// generous step costs only page-table entries.
pub const HEAP_STEP: u64 = 1 << 20;

/// Start of the upcall stacks: dispatcher `i`'s stack ends at `UPCALL_STACKS_BASE + (i + 1) ×
/// UPCALL_STACK_STRIDE`.
pub const UPCALL_STACKS_BASE: u64 = 0x0000_2000_0000_0000;
/// Bytes of one upcall stack.
pub const UPCALL_STACK_SIZE: u64 = 64 * 1024;
/// Distance between two dispatchers' upcall stacks; the unmapped space below each stack is its
/// guard (an overflow faults instead of running into the next one).
pub const UPCALL_STACK_STRIDE: u64 = 1 << 20;

/// Start of the thread stacks: slot `n` spans `THREAD_STACKS_BASE + n × THREAD_STACK_SLOT` up
/// [`THREAD_STACK_SLOT`] bytes, its lowest page unmapped (the red page), the rest demand-paged.
/// Slots are handed out in order and recycled after a thread ends.
pub const THREAD_STACKS_BASE: u64 = 0x0000_2100_0000_0000;
/// Bytes of one thread's stack slot: 256 KiB of stack and the red page below it.
pub const THREAD_STACK_SLOT: u64 = 256 * 1024 + 4096;
/// Most bytes of address space the thread stacks may take (over a million slots).
pub const THREAD_STACKS_LIMIT: u64 = 1 << 38;

/// Start of the range left to programs for mappings at fixed addresses (tests, shared memory).
pub const PROGRAM_BASE: u64 = 0x0000_3000_0000_0000;

const _: () = assert!(HEAP_BASE + HEAP_LIMIT <= UPCALL_STACKS_BASE);
const _: () = assert!(UPCALL_STACK_SIZE < UPCALL_STACK_STRIDE);
const _: () = assert!(
    UPCALL_STACKS_BASE + (1 << k42_abi::kernel::COMM_DISPATCHER_BITS) * UPCALL_STACK_STRIDE
        <= PROGRAM_BASE
);
const _: () = assert!(
    UPCALL_STACKS_BASE + (1 << k42_abi::kernel::COMM_DISPATCHER_BITS) * UPCALL_STACK_STRIDE
        <= THREAD_STACKS_BASE
);
const _: () = assert!(THREAD_STACKS_BASE + THREAD_STACKS_LIMIT <= PROGRAM_BASE);
const _: () = assert!(THREAD_STACK_SLOT.is_multiple_of(4096));
const _: () = assert!(PROGRAM_BASE < k42_abi::kernel::DISPATCHER_PAGE_BASE);
// Everything above lies in the range the ABI reserves for the runtime.
const _: () = assert!(HEAP_BASE >= k42_abi::kernel::RUNTIME_BASE);
const _: () = assert!(PROGRAM_BASE < k42_abi::kernel::RUNTIME_LIMIT);
