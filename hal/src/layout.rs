//! The kernel's virtual address layout (the upper half; the lower half is left for
//! user address spaces). Each dynamic region has its own PML4 slot so that the
//! regions can never run into one another.

/// Start of the direct map: physical address `p` is visible at `PHYS_OFFSET + p`.
pub const PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;
/// Start of the kernel heap region.
pub const HEAP_BASE: u64 = 0xffff_c000_0000_0000;
/// Largest heap the region can hold.
pub const HEAP_MAX: u64 = 1 << 39;
/// Start of the region of guarded kernel stacks.
pub const KSTACK_BASE: u64 = 0xffff_c080_0000_0000;
/// Start of the region for device MMIO mappings (uncached).
pub const MMIO_BASE: u64 = 0xffff_c100_0000_0000;
/// Start of the general-purpose region where the kernel maps frames it owns
/// (`paging::map_page` accepts addresses only here).
pub const VMALLOC_BASE: u64 = 0xffff_c180_0000_0000;
/// End (exclusive) of the general-purpose region.
pub const VMALLOC_END: u64 = 0xffff_c200_0000_0000;
/// A page in kernel space that is never mapped: touching it always faults.
pub const NEVER_MAPPED: u64 = 0xffff_c200_0000_0000 - PAGE_SIZE;
/// Where the image is linked: virtual = `KERNEL_VIRT_BASE` + physical.
pub const KERNEL_VIRT_BASE: u64 = 0xffff_ffff_8000_0000;
/// The size of a base page.
pub const PAGE_SIZE: u64 = 4096;
/// Usable bytes of each kernel stack (the guard page comes on top).
pub const KSTACK_SIZE: u64 = 64 * 1024;
/// Unmapped bytes below each kernel stack: an overflow faults instead of
/// corrupting the stack below.
pub const KSTACK_GUARD: u64 = PAGE_SIZE;

/// The direct-map address of physical address `paddr`.
pub const fn phys_to_virt(paddr: u64) -> u64 {
    PHYS_OFFSET + paddr
}

/// Whether `virt` lies in the general-purpose mapping region.
pub const fn in_vmalloc(virt: u64) -> bool {
    virt >= VMALLOC_BASE && virt < VMALLOC_END && virt != NEVER_MAPPED
}
