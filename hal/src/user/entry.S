// Entry from and exit to user mode (ring 3). Every entry — `syscall`, and any
// interrupt or exception taken in ring 3 (trap.S sends those here) — builds one
// `UserFrame` (same layout as `TrapFrame`) at the top of this CPU's entry stack,
// calls `hal_syscall_handler(&mut UserFrame)` (a `syscall`) or `hal_user_entry`
// (a trap, screened first) and leaves through `user_exit`, which
// restores whatever the kernel left in the frame: the kernel is event-driven,
// with no kernel threads and nothing kept on this stack between entries.
//
// Interrupts stay disabled from entry to exit (SFMASK clears IF on `syscall`;
// interrupt gates clear it on the rest).

// Offsets in the per-CPU block `user::percpu::CpuLocal`, reached through GS in ring 0.
.set CPU_ENTRY_TOP, 8
.set CPU_USER_RSP, 16
// Selectors `cpu::init_cpu` places in every GDT (checked by `user::check_selectors`).
.set USER_SS_SEL, 0x1b
.set USER_CS_SEL, 0x23
// The vector number a `syscall` entry records (above every hardware vector).
.set SYSCALL_VECTOR_NUMBER, 0x100

.macro SAVE_GPRS
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
.endm

.section .text.user_entry, "ax"
.global hal_syscall_entry
.balign 16
hal_syscall_entry:
    swapgs
    mov gs:[CPU_USER_RSP], rsp
    mov rsp, gs:[CPU_ENTRY_TOP]
    push USER_SS_SEL
    push qword ptr gs:[CPU_USER_RSP]
    push r11
    push USER_CS_SEL
    push rcx
    push 0
    push SYSCALL_VECTOR_NUMBER
    SAVE_GPRS
    mov rdi, rsp
    // No `cld`: SFMASK clears DF on `syscall` (`percpu::init_cpu`).
    call hal_syscall_handler
    jmp hal_user_exit

// trap.S jumps here with the vector and error code pushed, for traps from ring 3.
.global hal_user_trap
hal_user_trap:
    swapgs
    SAVE_GPRS
    mov rdi, rsp
    cld
    call hal_user_entry
    // fall through

// rsp points at a UserFrame. First it is made safe by `UserFrame::make_safe`'s
// rules (`mod.rs` passes the numbers): a user-mode RFLAGS, a RIP in user space —
// one at or above USER_TOP becomes 0, so the context faults in ring 3, where the
// kernel sees a user fault, instead of `sysret`/`iret` faulting in ring 0 — and
// user selectors (written only for `iretq`: `sysretq` takes them from STAR).
// Whatever the kernel left in the frame, nothing else leaves. Then `sysretq`
// when it restores the frame exactly (rcx == rip and r11 == rflags, as after any
// `syscall`, which clobbers both), `iretq` otherwise (a preempted context needs
// rcx and r11).
.global hal_user_exit
hal_user_exit:
    and qword ptr [rsp + {FRAME_RFLAGS}], {RFLAGS_MASK}
    or qword ptr [rsp + {FRAME_RFLAGS}], {RFLAGS_SET}
    mov rax, {USER_TOP}
    cmp [rsp + {FRAME_RIP}], rax
    jb 2f
    mov qword ptr [rsp + {FRAME_RIP}], 0
2:
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
    cmp rcx, [rsp]
    jne 1f
    cmp r11, [rsp + 16]
    jne 1f
    mov rsp, [rsp + 24]
    swapgs
    sysretq
1:
    mov qword ptr [rsp + {FRAME_CS} - {FRAME_RIP}], {USER_CS_SEL}
    mov qword ptr [rsp + {FRAME_SS} - {FRAME_RIP}], {USER_SS_SEL}
    swapgs
    iretq

// user::enter: rdi = a UserFrame already placed on this CPU's entry stack.
.global hal_user_enter_frame
hal_user_enter_frame:
    mov rsp, rdi
    jmp hal_user_exit
