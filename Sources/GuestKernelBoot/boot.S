/* The PV kernel's entry from Xen: ELF notes, the boot stack, the hypercall page, and _start.
 * Every Xen number here comes from the generated include (XENABI_*), none is copied by hand. */
#include "xen_boot_constants.h"

/* 256 KB: a netfront is some 20 KB of fixed storage (257 buffer entries a ring), built and
 * moved on the stack; 64 KB overflowed into .bss with two vifs. */
#define BOOT_STACK_SIZE (256 * 1024)

/* One note of owner "Xen": type, then the descriptor `desc`. */
#define XEN_NOTE(type, desc...)              \
    .p2align 2;                              \
    .long 2f - 1f;                           \
    .long 4f - 3f;                           \
    .long type;                              \
1:  .asciz "Xen";                            \
2:  .p2align 2;                              \
3:  desc;                                    \
4:  .p2align 2

    .section .note.Xen, "a", @note
    XEN_NOTE(XENABI_XEN_ELFNOTE_GUEST_OS,       .asciz "SwiftPV")
    XEN_NOTE(XENABI_XEN_ELFNOTE_GUEST_VERSION,  .asciz "0.1")
    /* Xen refuses an image without XEN_VERSION "xen-3.0" and LOADER "generic". */
    XEN_NOTE(XENABI_XEN_ELFNOTE_XEN_VERSION,    .asciz "xen-3.0")
    XEN_NOTE(XENABI_XEN_ELFNOTE_LOADER,         .asciz "generic")
    XEN_NOTE(XENABI_XEN_ELFNOTE_VIRT_BASE,      .quad __xen_virt_base)
    XEN_NOTE(XENABI_XEN_ELFNOTE_PADDR_OFFSET,   .quad __xen_virt_base)
    XEN_NOTE(XENABI_XEN_ELFNOTE_ENTRY,          .quad _start)
    XEN_NOTE(XENABI_XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page)
    /* Page tables stay read-only to the guest; updates go through mmu_update. */
    XEN_NOTE(XENABI_XEN_ELFNOTE_FEATURES,       .asciz "!writable_page_tables")

    .section .text.boot, "ax", @progbits
    .globl _start
    .type _start, @function
/* Xen enters with %rsi = start_info, on a stack of its own inside the boot mapping. */
_start:
    cld
    leaq    boot_stack_top(%rip), %rsp
    movq    %rsi, boot_start_info(%rip)
    xorl    %edi, %edi
    xorl    %esi, %esi
    call    GuestKernel_main
    /* main returned without shutting down: power off (SCHEDOP_shutdown, SHUTDOWN_poweroff). */
    subq    $16, %rsp
    movl    $XENABI_SHUTDOWN_poweroff, (%rsp)
    movl    $XENABI_SCHEDOP_shutdown, %edi
    movq    %rsp, %rsi
    call    hypercall_page + XENABI_HYPERVISOR_sched_op * 32
1:  hlt
    jmp     1b
    .size _start, . - _start

/* Event upcall. Xen enters here (events masked) on the kernel stack with rcx and r11 pushed
 * above the frame rip, cs, rflags, rsp, ss. Save what the Swift handler may clobber, call it,
 * then return through HYPERVISOR_iret: its entry in the hypercall page pushes rcx, r11 and rax
 * itself, so the frame it is jumped to with is a flags word above rip, cs, rflags, rsp, ss,
 * with rax, rcx and r11 holding the values to restore. */
    .text
    .globl hypervisor_callback
    .type hypervisor_callback, @function
hypervisor_callback:
    pushq   %rax
    pushq   %rdi
    pushq   %rsi
    pushq   %rdx
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %rbp
    movq    %rsp, %rbp
    andq    $-16, %rsp
    call    guest_event_upcall
    movq    %rbp, %rsp
    popq    %rbp
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rdx
    popq    %rsi
    popq    %rdi
    popq    %rax
    popq    %rcx
    popq    %r11
    pushq   $0                      /* flags: not returning to a syscall */
    jmp     hypercall_page + XENABI_HYPERVISOR_iret * 32
    .size hypervisor_callback, . - hypervisor_callback

/* Failsafe callback: Xen could not load the segments of a frame it was returning to. Nothing
 * here can recover from that: say so and crash. */
    .globl failsafe_callback
    .type failsafe_callback, @function
failsafe_callback:
    andq    $-16, %rsp
    call    guest_failsafe
1:  hlt
    jmp     1b
    .size failsafe_callback, . - failsafe_callback

/* Exceptions, through the trap table. Xen bounces them like the upcall: rcx and r11 on top,
 * then the error code for the vectors that have one, then rip, cs, rflags, rsp, ss. Each entry
 * restores rcx and r11, drops them, makes the error code uniform and pushes its vector; the
 * common path saves every register and hands the frame to Swift, which may change rip. */
#define TRAP_NOERR(n)                    \
    .globl trap_entry_##n;               \
trap_entry_##n:                          \
    movq    (%rsp), %rcx;                \
    movq    8(%rsp), %r11;               \
    addq    $16, %rsp;                   \
    pushq   $0;                          \
    pushq   $n;                          \
    jmp     trap_common

#define TRAP_ERR(n)                      \
    .globl trap_entry_##n;               \
trap_entry_##n:                          \
    movq    (%rsp), %rcx;                \
    movq    8(%rsp), %r11;               \
    addq    $16, %rsp;                   \
    pushq   $n;                          \
    jmp     trap_common

    .text
    TRAP_NOERR(0)
    TRAP_NOERR(1)
    TRAP_NOERR(2)
    TRAP_NOERR(3)
    TRAP_NOERR(4)
    TRAP_NOERR(5)
    TRAP_NOERR(6)
    TRAP_NOERR(7)
    TRAP_ERR(8)
    TRAP_NOERR(9)
    TRAP_ERR(10)
    TRAP_ERR(11)
    TRAP_ERR(12)
    TRAP_ERR(13)
    TRAP_ERR(14)
    TRAP_NOERR(15)
    TRAP_NOERR(16)
    TRAP_ERR(17)
    TRAP_NOERR(18)
    TRAP_NOERR(19)

trap_common:
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %rbp
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    movq    %rsp, %rdi
    movq    %rsp, %rbx
    andq    $-16, %rsp
    call    guest_trap
    movq    %rbx, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rbp
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
    addq    $16, %rsp               /* vector and error code */
    pushq   $0
    jmp     hypercall_page + XENABI_HYPERVISOR_iret * 32

    /* Xen writes its hypercall stubs into this page (XEN_ELFNOTE_HYPERCALL_PAGE) before the
     * kernel runs, so the image need not carry it: it is zero-filled like .bss. (Xen maps a PV
     * dom0's bootstrap region executable whatever the segment flags say.) */
    .section .bss.hypercall_page, "awx", @nobits
    .p2align 12
    .globl hypercall_page
    .type hypercall_page, @function
hypercall_page:
    .skip 4096
    .size hypercall_page, 4096

    .section .bss.boot, "aw", @nobits
    .p2align 4
    .globl boot_start_info
boot_start_info:
    .quad 0
    .globl console_line
console_line:                       /* the console's line buffer: usable before any heap */
    .skip 160
    /* The page below the stack, unmapped at boot (main.swift): an overflow faults on it, and
     * Xen, unable to push the fault's frame there, crashes the domain with "domain_crash_sync
     * called from entry.S" instead of the stack running on into .bss. */
    .p2align 12
    .globl boot_stack_guard
boot_stack_guard:
    .skip 4096
boot_stack:
    .skip BOOT_STACK_SIZE
boot_stack_top:
