// The one hand-written way into Xen: a call into the hypercall page Xen fills in at boot.
#ifndef XEN_HYPERCALL_PAGE_H
#define XEN_HYPERCALL_PAGE_H

// The page the kernel's boot stub reserves and names in its XEN_ELFNOTE_HYPERCALL_PAGE note.
// Weak, so host builds (tests, tools) link without one; they never make a real hypercall.
extern char hypercall_page[4096] __attribute__((weak));

// x86_64 PV hypercall: `call hypercall_page + nr * 32` with the arguments in rdi, rsi, rdx, r10,
// r8 and the result in rax. Xen's stub uses `syscall`, which overwrites rcx and r11, and the
// hypervisor may read and write any guest memory the arguments point at: hence the clobbers.
static inline __attribute__((always_inline)) long xen_hypercall_page_call(unsigned long nr,
        unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;
    long result;
    __asm__ volatile("call *%[entry]"
        : "=a"(result), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
        : [entry] "r"(hypercall_page + nr * 32)
        : "rcx", "r11", "memory");
    return result;
}

#endif
