// Boot entries. PVH: QEMU `-kernel` (and Xen) start the kernel at `pvh_start32`
// in 32-bit protected mode, paging off, with EBX holding the physical address of
// the hvm_start_info structure. Multiboot2: GRUB (e.g. from an ISO, for real
// hardware) starts it at `mb2_start32` in the same mode with EAX holding the
// multiboot2 magic and EBX the boot information. Both then share this
// trampoline, which builds throw-away page tables (identity, direct map and the
// higher-half kernel window over the first 4 GiB), enters long mode and calls
// `hal_boot_entry(start_info_paddr)` on the boot stack. Rust replaces the tables
// with the real ones (W^X, guard pages) before the kernel proper runs.

// The multiboot2 header (must lie in the image's first 32 KiB, 8-byte aligned):
// magic, architecture (i386 protected mode), length, checksum, then an entry
// address tag so GRUB enters at `mb2_start32` rather than the ELF entry.
.set MB2_HEADER_MAGIC, 0xe85250d6
.set MB2_BOOTLOADER_MAGIC, 0x36d76289
.set MB2_ARCH_I386, 0
.set MB2_TAG_ENTRY_ADDRESS, 3
.set MB2_TAG_END, 0
.set BOOT_PROTOCOL_PVH, 0
.set BOOT_PROTOCOL_MULTIBOOT2, 1
.section .multiboot2, "a"
.balign 8
mb2_header:
.long MB2_HEADER_MAGIC
.long MB2_ARCH_I386
.long mb2_header_end - mb2_header
.long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
.balign 8
.short MB2_TAG_ENTRY_ADDRESS
.short 0
.long 12
.long mb2_start32
.balign 8
.short MB2_TAG_END
.short 0
.long 8
mb2_header_end:

// The Xen ELF note that makes an ELF image PVH-bootable (XEN_ELFNOTE_PHYS32_ENTRY).
.section .note.Xen, "a"
.balign 4
.long 4                    // name size ("Xen\0")
.long 4                    // descriptor size (a 32-bit address)
.long 18                   // XEN_ELFNOTE_PHYS32_ENTRY
.asciz "Xen"
.balign 4
.long pvh_start32
.balign 4

.set CR0_PE, 1 << 0
.set CR0_PG, 1 << 31
.set CR4_PAE, 1 << 5
.set MSR_EFER, 0xC0000080
.set EFER_LME, 1 << 8
.set EFER_NXE, 1 << 11
.set PTE_PRESENT_WRITABLE, 0x3
.set PTE_HUGE_PRESENT_WRITABLE, 0x83
.set IDENTITY_GIB, 4               // how much of physical memory the boot tables cover
.set PD_ENTRIES, IDENTITY_GIB * 512
.set BOOT_CODE64, 0x08
.set BOOT_DATA64, 0x10

.section .boot.text, "ax"
.code32
.global mb2_start32
mb2_start32:
    cli
    cld
    cmp eax, MB2_BOOTLOADER_MAGIC
    jne 4f
    mov esi, ebx
    mov ebp, BOOT_PROTOCOL_MULTIBOOT2
    jmp boot_common32
4:  hlt
    jmp 4b

.global pvh_start32
pvh_start32:
    cli
    cld
    mov esi, ebx
    mov ebp, BOOT_PROTOCOL_PVH

boot_common32:
    mov esp, offset boot_stack32_top

    // PML4: [0] identity, [256] direct map at 0xffff800000000000, [511] kernel window.
    mov eax, offset boot_pdpt_low
    or eax, PTE_PRESENT_WRITABLE
    mov [boot_pml4], eax
    mov [boot_pml4 + 256 * 8], eax
    mov eax, offset boot_pdpt_high
    or eax, PTE_PRESENT_WRITABLE
    mov [boot_pml4 + 511 * 8], eax

    // The low PDPT points at IDENTITY_GIB page directories.
    xor ecx, ecx
1:  mov eax, ecx
    shl eax, 12
    add eax, offset boot_pd
    or eax, PTE_PRESENT_WRITABLE
    mov [boot_pdpt_low + ecx * 8], eax
    inc ecx
    cmp ecx, IDENTITY_GIB
    jne 1b

    // The kernel window 0xffffffff80000000 maps physical 0..2 GiB.
    mov eax, offset boot_pd
    or eax, PTE_PRESENT_WRITABLE
    mov [boot_pdpt_high + 510 * 8], eax
    add eax, 4096
    mov [boot_pdpt_high + 511 * 8], eax

    // 2 MiB pages covering the first IDENTITY_GIB of physical memory.
    xor ecx, ecx
2:  mov eax, ecx
    shl eax, 21
    or eax, PTE_HUGE_PRESENT_WRITABLE
    mov [boot_pd + ecx * 8], eax
    mov edx, ecx
    shr edx, 11
    mov [boot_pd + ecx * 8 + 4], edx
    inc ecx
    cmp ecx, PD_ENTRIES
    jne 2b

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, offset boot_pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_PE
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    mov eax, BOOT_CODE64
    push eax
    mov eax, offset boot_start64
    push eax
    retf

.code64
boot_start64:
    mov ax, BOOT_DATA64
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax

    // Zero .bss (it holds the boot stack) before anything uses it.
    movabs rdi, offset __bss_start
    movabs rcx, offset __bss_end
    sub rcx, rdi
    xor eax, eax
    rep stosb

    movabs rsp, offset boot_stack_top
    mov edi, esi
    mov esi, ebp
    xor ebp, ebp
    movabs rax, offset hal_boot_entry
    call rax
3:  hlt
    jmp 3b

.section .boot.data, "aw"
.balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff       // 64-bit code, DPL 0
    .quad 0x00cf92000000ffff       // data, DPL 0
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

.balign 16
boot_stack32:
    .fill 256, 1, 0
boot_stack32_top:

.balign 4096
boot_pml4:
    .fill 4096, 1, 0
boot_pdpt_low:
    .fill 4096, 1, 0
boot_pdpt_high:
    .fill 4096, 1, 0
boot_pd:
    .fill 4096 * IDENTITY_GIB, 1, 0

.section .bss.boot_stack, "aw", @nobits
.balign 4096
boot_stack:
    .skip 65536
.global boot_stack_top
boot_stack_top:
