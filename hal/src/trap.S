// Trap entry stubs: each vector pushes a uniform frame (a zero for vectors
// without a CPU error code, then the vector number), saves the general
// registers and calls `hal_trap_entry(&mut TrapFrame)`. The layout must match
// `trap::TrapFrame`.

.macro TRAP_NOERR n
.balign 16
trap_stub_\n:
    push 0
    push \n
    jmp trap_common
.endm

.macro TRAP_ERR n
.balign 16
trap_stub_\n:
    push \n
    jmp trap_common
.endm

.section .text.trap, "ax"
TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR   8
TRAP_NOERR 9
TRAP_ERR   10
TRAP_ERR   11
TRAP_ERR   12
TRAP_ERR   13
TRAP_ERR   14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR   17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR   21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR   29
TRAP_ERR   30
TRAP_NOERR 31
TRAP_NOERR 32
TRAP_NOERR 33
TRAP_NOERR 255

trap_common:
    // From ring 3 (the saved CS's RPL): the user entry path (user/entry.S).
    test qword ptr [rsp + 24], 3
    jnz hal_user_trap
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    cld
    call hal_trap_entry
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq

.section .rodata.trap, "a"
.balign 8
.global trap_stub_table
trap_stub_table:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,255
    .quad trap_stub_\n
.endr
