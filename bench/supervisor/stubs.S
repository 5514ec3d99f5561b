/* stubs.S — ADV_NSITES distinct call sites of malloc for the supervisor's
 * adversarial targets (adv.c): stub i starts at adv_stubs + 16*i, takes the
 * size in %rdi like malloc and returns its block, so each stub's call is its
 * own acquire site (module + offset) without generating C code. x86-64. */
#ifndef ADV_NSITES
#define ADV_NSITES 100000
#endif
        .text
        .globl adv_stubs
        .type adv_stubs, @function
        .balign 16
adv_stubs:
        .rept ADV_NSITES
        .balign 16
        .cfi_startproc
        sub $8, %rsp
        .cfi_adjust_cfa_offset 8
        call malloc@PLT
        add $8, %rsp
        .cfi_adjust_cfa_offset -8
        ret
        .cfi_endproc
        .endr
        .size adv_stubs, . - adv_stubs
        .globl adv_nstubs
        .section .rodata
        .balign 8
adv_nstubs:
        .quad ADV_NSITES
        .section .note.GNU-stack,"",@progbits
