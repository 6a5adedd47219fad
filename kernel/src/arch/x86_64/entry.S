/* The SYSCALL path and every other way in and out of user mode.
 *
 * This file is the whole of .entry.text: the only kernel code the user page
 * tables map (KPTI). It runs on the user CR3 until the CR3 switch, so until
 * then it touches nothing but itself and the per-CPU entry data (GS).
 * Step numbers follow docs/syscall-path.md and DESIGN.md, in the order of
 * Linux's entry_SYSCALL_64.
 *
 * Interpolated constants: PERCPU_* are offsets into struct PerCpu,
 * PTREGS_* offsets into PtRegs, USER_CS / USER_DS the user selectors,
 * ENOSYS_RET the value -ENOSYS, PROBES 1 in a kernel built with the
 * `probes` feature (phase stamps, docs/benchmarking.md), else 0.
 */

.section .entry.text, "ax"

/* --- Step 2: entry ------------------------------------------------------ */
.global syscall_entry
.balign 16
syscall_entry:
    /* RCX = user RIP, R11 = user RFLAGS (IF, TF, DF, AC, NT cleared by
     * FMASK), RSP = user stack, GS = user GS base. */
    swapgs                                      /* GS -> per-CPU data */
    mov gs:[{PERCPU_USER_RSP}], rsp               /* user RSP to scratch */
    /* KPTI: switch to the kernel half of the CR3 pair, which the last
     * switch to this thread stored (PerCpu.kernel_cr3: the user table bit
     * 12 and, with PCID, the user PCID bit 11 cleared, and bit 63 set to
     * keep the kernel PCID's TLB entries). RSP is the only free register:
     * it is already saved. */
    test qword ptr gs:[{PERCPU_KPTI}], 1
    jz 1f
    mov rsp, gs:[{PERCPU_KERNEL_CR3}]
    mov cr3, rsp
    inc qword ptr [rip + {COUNTERS} + {C_CR3_WRITES}]
    test rsp, rsp                               /* no-flush bit 63 set? */
    js 1f
    inc qword ptr [rip + {COUNTERS} + {C_TLB_FLUSHES}]
1:
    mov rsp, gs:[{PERCPU_KERNEL_STACK_TOP}]       /* this thread's stack */
    inc qword ptr [rip + {COUNTERS} + {C_ENTRIES}]
    inc qword ptr [rip + {COUNTERS} + {C_SYSCALLS}]

    /* --- Step 3: the PtRegs frame, Linux's order ------------------------ */
    push {USER_DS}                                /* ss */
    push qword ptr gs:[{PERCPU_USER_RSP}]         /* sp */
    push r11                                    /* flags */
    push {USER_CS}                                /* cs */
    push rcx                                    /* ip */
    push rax                                    /* orig_ax: the number */
    push rdi
    push rsi
    push rdx
    push rcx
    push {ENOSYS_RET}                             /* ax: -ENOSYS by default */
    push r8
    push r9
    push r10
    push r11
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
.if {PROBES}
    call probe_syscall_entry                    /* clobbers only saved registers */
.endif
    /* Speculation hygiene: no user value stays in a register the
     * dispatcher does not need. */
    xor esi, esi
    xor edx, edx
    xor ecx, ecx
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
    xor ebx, ebx
    xor ebp, ebp
    xor r12d, r12d
    xor r13d, r13d
    xor r14d, r14d
    xor r15d, r15d

    /* --- Steps 4-6: dispatch, forward, exit work (Rust) ----------------- */
    mov rdi, rsp                                /* &mut PtRegs */
    call syscall_dispatch
    mov rsp, rax                                /* the PtRegs to return from */
    /* fall through */

/* Loads the CR3 the next user thread runs on (PerCpu.user_cr3): always
 * with KPTI, else only if it is not loaded already (another address
 * space). Clobbers RDI only; runs on the entry stack. */
.macro SWITCH_TO_USER_CR3
    test qword ptr gs:[{PERCPU_KPTI}], 1
    jnz 1f
    mov rdi, cr3
    xor rdi, gs:[{PERCPU_USER_CR3}]
    shl rdi, 1                                  /* ignore bit 63 (no-flush) */
    jz 2f
1:  mov rdi, gs:[{PERCPU_USER_CR3}]
    mov cr3, rdi
    inc qword ptr [rip + {COUNTERS} + {C_CR3_WRITES}]
    bt rdi, 63                                  /* PCID kept its TLB entries? */
    jc 2f
    inc qword ptr [rip + {COUNTERS} + {C_TLB_FLUSHES}]
2:
.endm

/* --- Step 7: return to user mode --------------------------------------- */
/* RSP = the current thread's PtRegs; interrupts are off. Every return to
 * user mode, whatever the way in, comes here. */
.global return_to_user
return_to_user:
.if {PROBES}
    call probe_exit                             /* every register is reloaded below */
.endif
    /* SYSRET only when it restores exactly what IRET would. */
    mov rcx, [rsp + {PTREGS_RCX}]
    mov r11, [rsp + {PTREGS_RIP}]
    cmp rcx, r11                                /* SYSRET loads RIP from RCX */
    jne .Liret
    shl rcx, 16                                 /* RCX canonical (48 bits)? */
    sar rcx, 16
    cmp rcx, r11
    jne .Liret
    cmp qword ptr [rsp + {PTREGS_CS}], {USER_CS}    /* CS must match SYSRET's */
    jne .Liret
    mov r11, [rsp + {PTREGS_R11}]
    cmp r11, [rsp + {PTREGS_RFLAGS}]              /* SYSRET loads RFLAGS from R11 */
    jne .Liret
    test r11, 0x10100                           /* RF, TF: SYSRET can't honour */
    jnz .Liret
    cmp qword ptr [rsp + {PTREGS_SS}], {USER_DS}    /* SS must match SYSRET's */
    jne .Liret

    /* SYSRET path: RCX (= RIP) and R11 (= RFLAGS) are already loaded. */
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    add rsp, 8                                  /* r11: loaded above */
    pop r10
    pop r9
    pop r8
    pop rax
    add rsp, 8                                  /* rcx: loaded above */
    pop rdx
    pop rsi
    /* RSP -> saved RDI. Move to the entry stack, which the user table
     * maps, carrying the user RSP and RDI. */
    mov rdi, rsp
    mov rsp, gs:[{PERCPU_ENTRY_STACK_TOP}]
    push qword ptr [rdi + {PTREGS_RSP} - {PTREGS_RDI}]
    push qword ptr [rdi]
    SWITCH_TO_USER_CR3
    pop rdi
    pop rsp
    swapgs
    sysretq

.Liret:
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    pop r11
    pop r10
    pop r9
    pop r8
    pop rax
    pop rcx
    pop rdx
    pop rsi
    mov rdi, rsp                                /* -> saved RDI */
    mov rsp, gs:[{PERCPU_ENTRY_STACK_TOP}]
    push qword ptr [rdi + {PTREGS_SS} - {PTREGS_RDI}]
    push qword ptr [rdi + {PTREGS_RSP} - {PTREGS_RDI}]
    push qword ptr [rdi + {PTREGS_RFLAGS} - {PTREGS_RDI}]
    push qword ptr [rdi + {PTREGS_CS} - {PTREGS_RDI}]
    push qword ptr [rdi + {PTREGS_RIP} - {PTREGS_RDI}]
    push qword ptr [rdi]
    SWITCH_TO_USER_CR3
    pop rdi
    swapgs
    iretq

/* --- Interrupts and exceptions ------------------------------------------ */
/* One 16-byte stub per vector: push a zero where the CPU pushes no error
 * code, push the vector, and join the common path. */
.balign 16
.global isr_stubs
isr_stubs:
.set vec, 0
.rept 256
    .balign 16
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    push 0
    .endif
    push vec
    jmp interrupt_common
    .set vec, vec + 1
.endr

/* [rsp] = the vector, in RDI's slot of a PtRegs being built: swap it for
 * the user RDI and push the rest of the frame. Leaves the vector in RDI. */
.macro SAVE_REGS_AFTER_VECTOR
    xchg rdi, [rsp]
    push rsi
    push rdx
    push rcx
    push rax
    push r8
    push r9
    push r10
    push r11
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    cld
.endm

/* Stack: [vector] [error] [rip] [cs] [rflags] [rsp] [ss]. From user mode
 * this is the per-CPU entry stack (TSS.RSP0), still on the user CR3. */
interrupt_common:
    test qword ptr [rsp + 24], 3                /* CS: from user mode? */
    jz .Lfrom_kernel
    swapgs
    push rax                                    /* scratch */
    mov rax, cr3
    mov gs:[{PERCPU_ENTRY_CR3}], rax            /* for the KPTI audit */
    test qword ptr gs:[{PERCPU_KPTI}], 1
    jz 1f
    mov rax, gs:[{PERCPU_KERNEL_CR3}]             /* as in syscall_entry */
    mov cr3, rax
    inc qword ptr [rip + {COUNTERS} + {C_CR3_WRITES}]
    test rax, rax
    js 1f
    inc qword ptr [rip + {COUNTERS} + {C_TLB_FLUSHES}]
1:
    inc qword ptr [rip + {COUNTERS} + {C_ENTRIES}]
    /* Copy the hardware frame to the thread's kernel stack. */
    mov rax, rsp
    mov rsp, gs:[{PERCPU_KERNEL_STACK_TOP}]
    push qword ptr [rax + 56]                   /* ss */
    push qword ptr [rax + 48]                   /* sp */
    push qword ptr [rax + 40]                   /* flags */
    push qword ptr [rax + 32]                   /* cs */
    push qword ptr [rax + 24]                   /* ip */
    push qword ptr [rax + 16]                   /* orig_ax: error code */
    push qword ptr [rax + 8]                    /* vector, in RDI's slot */
    mov rax, [rax]                              /* user RAX back */
    SAVE_REGS_AFTER_VECTOR
    mov rsi, rdi                                /* vector */
    mov rdi, rsp                                /* &mut PtRegs */
    call interrupt_dispatch
    jmp return_to_user

.Lfrom_kernel:
    /* Same frame shape on the current kernel stack; no GS or CR3 change. */
    SAVE_REGS_AFTER_VECTOR
    mov rsi, rdi
    mov rdi, rsp
    mov rbp, rsp                                /* RBP is callee-saved */
    and rsp, -16                                /* the ABI's call alignment */
    call interrupt_dispatch
    mov rsp, rbp
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    pop r11
    pop r10
    pop r9
    pop r8
    pop rax
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    add rsp, 8                                  /* error code */
    iretq

/* --- Context switch ----------------------------------------------------- */
/* switch_stacks(prev: *mut u64, next: u64): saves the callee-saved
 * registers on this kernel stack, stores RSP in *prev, and resumes the
 * thread whose stack pointer is `next`. */
.global switch_stacks
switch_stacks:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

/* Where switch_stacks returns to a new user thread, or to one the IPC
 * fast path parked: RSP -> PtRegs. The exit work its syscall skipped
 * (a stop for its owner) comes first. */
.global thread_first_return
thread_first_return:
    call resume_exit_work
    jmp return_to_user
