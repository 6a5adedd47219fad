/* PVH entry: QEMU `-kernel` finds the XEN_ELFNOTE_PHYS32_ENTRY note and
 * starts us here in 32-bit protected mode, paging off, EBX = physical
 * address of struct hvm_start_info.
 *
 * Steps: build nothing at run time — the boot page tables below are
 * static — enable PAE, load CR3, set EFER.LME and EFER.NXE, enable paging
 * (long mode becomes active), far-jump to 64-bit code, move to the
 * higher-half stack and call kernel_main(start_info_phys).
 *
 * Boot mapping (replaced by mm::init as soon as Rust runs):
 *   0 .. 1 GiB                      identity (this stub runs there)
 *   0xffff800000000000 + 0 .. 1 GiB direct map (for hvm_start_info)
 *   0xffffffff80000000 + 0 .. 1 GiB the kernel image
 */

.section .note.Xen, "a"
.balign 4
    .long 4                 /* name size: "Xen\0" */
    .long 8                 /* descriptor size: a 64-bit address */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .quad pvh_start32
    .balign 4

.section .boot.text, "ax"
.code32
.global pvh_start32
pvh_start32:
    cli
    cld
    mov edi, ebx                        /* keep start_info for kernel_main */
    lea esp, [boot32_stack_top]         /* PVH leaves ESP undefined */
    mov eax, cr4
    or eax, 1 << 5                      /* CR4.PAE */
    mov cr4, eax
    lea eax, [boot_pml4]
    mov cr3, eax
    mov ecx, 0xc0000080                 /* IA32_EFER */
    rdmsr
    or eax, (1 << 8) | (1 << 11)        /* LME, NXE */
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16) | 1   /* PG, WP, PE */
    mov cr0, eax
    lgdt [boot_gdt_ptr]
    /* far jump to the 64-bit code segment (selector 0x10, as in the
     * kernel's own GDT) */
    push 0x10
    lea eax, [long_mode]
    push eax
    retf

.code64
long_mode:
    mov ax, 0x18
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    /* zero .bss (QEMU's loader does not promise it) */
    movabs rdx, offset __bss_start
    movabs rcx, offset __bss_end
    sub rcx, rdx
    mov r8, rdi
    mov rdi, rdx
    xor eax, eax
    rep stosb
    mov rdi, r8
    movabs rsp, offset boot_stack_top
    xor ebp, ebp
    movabs rax, offset kernel_main
    call rax
1:  hlt
    jmp 1b

.section .boot.data, "aw"
.balign 8
boot_gdt:
    .quad 0
    .quad 0
    .quad 0x00af9a000000ffff            /* 0x10: 64-bit code */
    .quad 0x00cf92000000ffff            /* 0x18: data */
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt
/* A few words of stack for the far return into long mode. */
.balign 16
    .skip 64
boot32_stack_top:

.balign 4096
boot_pml4:
    .quad boot_pdpt_low + 3
    .fill 255, 8, 0
    .quad boot_pdpt_low + 3             /* 256: direct map */
    .fill 254, 8, 0
    .quad boot_pdpt_high + 3            /* 511: kernel image */
boot_pdpt_low:
    .quad boot_pd + 3
    .fill 511, 8, 0
boot_pdpt_high:
    .fill 510, 8, 0
    .quad boot_pd + 3                   /* 510: -2 GiB */
    .quad 0
boot_pd:
    .set i, 0
    .rept 512
    .quad (i << 21) | 0x83              /* present, writable, 2 MiB */
    .set i, i + 1
    .endr

.section .bss
.balign 16
boot_stack:
    .skip 65536
boot_stack_top:
