/* The toolstack's floor: the smallest PV domU that prints one line on its console ring and
 * powers off. `Benchmarks/domu-figures.sh` times `xl create` to this line beside the Swift
 * kernel's first line: what no guest can beat on this toolstack. Built against the installed
 * Xen headers (libxen-dev), freestanding, with its own ELF notes and hypercall page. */
#include <stdint.h>
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/event_channel.h>
#include <xen/io/console.h>
#include <xen/elfnote.h>

#define VIRT_BASE 0x400000UL

/* One note of owner "Xen". */
#define NOTE(type, desc) \
    ".p2align 2\n.long 4\n.long 2f-1f\n.long " #type "\n.asciz \"Xen\"\n.p2align 2\n1: " desc "\n2: .p2align 2\n"
/* Each section pushed and popped: the compiler's own code must not land in the stub's sections. */
__asm__(".pushsection .note.Xen,\"a\",@note\n"
        NOTE(6, ".asciz \"floor\"")                  /* XEN_ELFNOTE_GUEST_OS */
        NOTE(5, ".asciz \"xen-3.0\"")                /* XEN_ELFNOTE_XEN_VERSION */
        NOTE(8, ".asciz \"generic\"")                /* XEN_ELFNOTE_LOADER */
        NOTE(3, ".quad 0x400000")                    /* XEN_ELFNOTE_VIRT_BASE */
        NOTE(4, ".quad 0x400000")                    /* XEN_ELFNOTE_PADDR_OFFSET */
        NOTE(1, ".quad _start")                      /* XEN_ELFNOTE_ENTRY */
        NOTE(2, ".quad hypercall_page")              /* XEN_ELFNOTE_HYPERCALL_PAGE */
        NOTE(10, ".asciz \"!writable_page_tables\"") /* XEN_ELFNOTE_FEATURES */
        ".popsection\n"
        ".pushsection .text\n.globl _start\n_start:\n  leaq stack_top(%rip), %rsp\n  movq %rsi, %rdi\n  call floor_main\n1: hlt\n  jmp 1b\n.popsection\n"
        ".pushsection .bss.page,\"aw\",@nobits\n.p2align 12\n.globl hypercall_page\nhypercall_page: .skip 4096\n.popsection\n"
        ".pushsection .bss\n.p2align 4\n.skip 16384\nstack_top:\n.popsection\n");

/* The note numbers above are Xen's: checked against the headers at compile time. */
_Static_assert(XEN_ELFNOTE_GUEST_OS == 6 && XEN_ELFNOTE_XEN_VERSION == 5 && XEN_ELFNOTE_LOADER == 8 &&
               XEN_ELFNOTE_VIRT_BASE == 3 && XEN_ELFNOTE_PADDR_OFFSET == 4 && XEN_ELFNOTE_ENTRY == 1 &&
               XEN_ELFNOTE_HYPERCALL_PAGE == 2 && XEN_ELFNOTE_FEATURES == 10, "ELF note numbers");

extern char hypercall_page[];

static long hypercall2(unsigned nr, unsigned long a, unsigned long b) {
    long rc;
    register unsigned long rdi __asm__("rdi") = a, rsi __asm__("rsi") = b;
    __asm__ volatile("call *%[entry]" : "=a"(rc), "+r"(rdi), "+r"(rsi)
                     : [entry] "r"(hypercall_page + nr * 32) : "rcx", "r11", "rdx", "r8", "r9", "r10", "memory");
    return rc;
}

void floor_main(start_info_t *si) {
    /* The ring's frame lies in our memory: its pseudo-physical page through the M2P table. */
    uint64_t pfn = ((const uint64_t *)MACH2PHYS_VIRT_START)[si->console.domU.mfn];
    volatile struct xencons_interface *ring = (void *)(VIRT_BASE + (pfn << 12));
    static const char line[] = "floor: up\n";
    XENCONS_RING_IDX prod = ring->out_prod;
    for (unsigned i = 0; i < sizeof line - 1; i++) ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = line[i];
    __asm__ volatile("sfence" ::: "memory");
    ring->out_prod = prod;
    struct evtchn_send send = { .port = si->console.domU.evtchn };
    hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send);
    /* Power off only once xenconsoled has taken the line (or after a bounded wait). */
    for (unsigned spins = 0; ring->out_cons != prod && spins < 100000; spins++)
        hypercall2(__HYPERVISOR_sched_op, SCHEDOP_yield, 0);
    struct sched_shutdown down = { .reason = SHUTDOWN_poweroff };
    hypercall2(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (unsigned long)&down);
    for (;;) {}
}
