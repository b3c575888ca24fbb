// Application-processor trampoline. An AP wakes from a STARTUP IPI in real mode
// at (vector << 12); `smp.rs` copies this blob to AP_TRAMPOLINE_PHYS and fills
// its parameter block before each start. The AP climbs to protected mode, then
// long mode on the AP boot tables (identity map of low memory plus the kernel's
// upper half), takes its stack and calls the entry with its CPU index.
// (AT&T syntax: the Intel parser takes no label differences in operands.)
// Addresses are written as AP_TRAMPOLINE_PHYS + (label - ap_trampoline_start):
// the blob runs at its copy, not where it is linked.

.set AP_TRAMPOLINE_PHYS, 0x8000
.set AP_CR0_PE, 1 << 0
.set AP_CR0_PG, 1 << 31
.set AP_CR4_PAE, 1 << 5
.set AP_MSR_EFER, 0xC0000080
.set AP_EFER_LME, 1 << 8
.set AP_EFER_NXE, 1 << 11
.set AP_CODE32, 0x08
.set AP_DATA, 0x10
.set AP_CODE64, 0x18
// Offsets in the parameter block (the order of ap_param_* below).
.set AP_PARAM_CR3, 0
.set AP_PARAM_STACK, 8
.set AP_PARAM_ENTRY, 16
.set AP_PARAM_CPU, 24

.section .rodata.ap_trampoline, "a"
.balign 16
.global ap_trampoline_start
ap_trampoline_start:
.code16
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movl $(AP_TRAMPOLINE_PHYS + (ap_gdt_ptr - ap_trampoline_start)), %ebx
    lgdtl (%ebx)
    movl %cr0, %eax
    orl $AP_CR0_PE, %eax
    movl %eax, %cr0
    // ljmp AP_CODE32:ap_protected, with a 32-bit offset
    .byte 0x66, 0xea
    .long AP_TRAMPOLINE_PHYS + (ap_protected - ap_trampoline_start)
    .word AP_CODE32

.code32
ap_protected:
    movw $AP_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $AP_CR4_PAE, %eax
    movl %eax, %cr4
    movl $(AP_TRAMPOLINE_PHYS + (ap_params - ap_trampoline_start)), %esi
    movl AP_PARAM_CR3(%esi), %eax
    movl %eax, %cr3
    movl $AP_MSR_EFER, %ecx
    rdmsr
    orl $(AP_EFER_LME | AP_EFER_NXE), %eax
    wrmsr
    movl %cr0, %eax
    orl $(AP_CR0_PG | AP_CR0_PE), %eax
    movl %eax, %cr0
    // ljmp AP_CODE64:ap_long
    .byte 0xea
    .long AP_TRAMPOLINE_PHYS + (ap_long - ap_trampoline_start)
    .word AP_CODE64

.code64
ap_long:
    movw $AP_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $(AP_TRAMPOLINE_PHYS + (ap_params - ap_trampoline_start)), %esi
    movq AP_PARAM_STACK(%rsi), %rsp
    movq AP_PARAM_CPU(%rsi), %rdi
    movq AP_PARAM_ENTRY(%rsi), %rax
    xorl %ebp, %ebp
    callq *%rax
1:  hlt
    jmp 1b

.balign 8
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff       // 32-bit code
    .quad 0x00cf92000000ffff       // data
    .quad 0x00af9a000000ffff       // 64-bit code
ap_gdt_end:
ap_gdt_ptr:
    .word ap_gdt_end - ap_gdt - 1
    .long AP_TRAMPOLINE_PHYS + (ap_gdt - ap_trampoline_start)

.balign 8
.global ap_param_cr3, ap_param_stack, ap_param_entry, ap_param_cpu
ap_params:
ap_param_cr3:   .quad 0
ap_param_stack: .quad 0
ap_param_entry: .quad 0
ap_param_cpu:   .quad 0
.global ap_trampoline_end
ap_trampoline_end:
