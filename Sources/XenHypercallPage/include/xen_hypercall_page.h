// The one hand-written way into Xen: a call into the hypercall page Xen fills in at boot.
#ifndef XEN_HYPERCALL_PAGE_H
#define XEN_HYPERCALL_PAGE_H

// The page the kernel's boot stub reserves and names in its XEN_ELFNOTE_HYPERCALL_PAGE note.
// Weak, so host builds (tests, tools) link without one; they never make a real hypercall.
extern char hypercall_page[4096] __attribute__((weak));

// x86_64 PV hypercall: `call hypercall_page + nr * 32` with the arguments in rdi, rsi, rdx, r10,
// r8 and the result in rax. Xen's stub uses `syscall`, which overwrites rcx and r11, and the
// hypervisor may read and write any guest memory the arguments point at: hence the clobbers.
// One function per argument count, so a call site loads only the registers it uses.
#define XEN_HYPERCALL_ENTRY(nr) (hypercall_page + (nr) * 32)
#define XEN_HYPERCALL_CLOBBERS "rcx", "r11", "memory"

static inline __attribute__((always_inline)) long xen_hypercall_page_call0(unsigned long nr) {
    long result;
    __asm__ volatile("call *%[entry]" : "=a"(result) : [entry] "r"(XEN_HYPERCALL_ENTRY(nr)) : XEN_HYPERCALL_CLOBBERS);
    return result;
}

static inline __attribute__((always_inline)) long xen_hypercall_page_call1(unsigned long nr, unsigned long a1) {
    long result;
    __asm__ volatile("call *%[entry]" : "=a"(result), "+D"(a1) : [entry] "r"(XEN_HYPERCALL_ENTRY(nr)) : XEN_HYPERCALL_CLOBBERS);
    return result;
}

static inline __attribute__((always_inline)) long xen_hypercall_page_call2(unsigned long nr, unsigned long a1, unsigned long a2) {
    long result;
    __asm__ volatile("call *%[entry]" : "=a"(result), "+D"(a1), "+S"(a2) : [entry] "r"(XEN_HYPERCALL_ENTRY(nr)) : XEN_HYPERCALL_CLOBBERS);
    return result;
}

static inline __attribute__((always_inline)) long xen_hypercall_page_call3(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3) {
    long result;
    __asm__ volatile("call *%[entry]" : "=a"(result), "+D"(a1), "+S"(a2), "+d"(a3) : [entry] "r"(XEN_HYPERCALL_ENTRY(nr)) : XEN_HYPERCALL_CLOBBERS);
    return result;
}

static inline __attribute__((always_inline)) long xen_hypercall_page_call4(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4) {
    register unsigned long r10 __asm__("r10") = a4;
    long result;
    __asm__ volatile("call *%[entry]" : "=a"(result), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10) : [entry] "r"(XEN_HYPERCALL_ENTRY(nr)) : XEN_HYPERCALL_CLOBBERS);
    return result;
}

static inline __attribute__((always_inline)) long xen_hypercall_page_call5(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;
    long result;
    __asm__ volatile("call *%[entry]" : "=a"(result), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8) : [entry] "r"(XEN_HYPERCALL_ENTRY(nr)) : XEN_HYPERCALL_CLOBBERS);
    return result;
}

#endif
