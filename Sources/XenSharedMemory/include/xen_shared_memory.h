// The hand-written primitives for memory a peer domain can write: barriers and single accesses.
// Every ring in XenABI reaches shared memory through these and nothing else.
#ifndef XEN_SHARED_MEMORY_H
#define XEN_SHARED_MEMORY_H

// No libc headers: the kernel build is freestanding (x86_64-unknown-none-elf). unsigned int is 32 bits here.

#if !defined(__x86_64__)
#error "xen_shared_memory.h: only x86_64 barriers are written so far"
#endif

// x86_64 is TSO: loads are not reordered with loads, nor stores with stores, so ring.h's read and
// write barriers need only stop the compiler. A store followed by a load of another location *can*
// be reordered by the CPU (the store buffer), and that is exactly the push-then-check-event and
// set-event-then-recheck patterns: xen_mb must be a real fence. Xen's own x86 definition is mfence.
static inline __attribute__((always_inline)) void xen_shared_mb(void) { __asm__ __volatile__("mfence" ::: "memory"); }
static inline __attribute__((always_inline)) void xen_shared_rmb(void) { __asm__ __volatile__("" ::: "memory"); }
static inline __attribute__((always_inline)) void xen_shared_wmb(void) { __asm__ __volatile__("" ::: "memory"); }

// A compiler barrier after copying an entry out of the ring: the copy cannot be replaced by
// loads from the shared page later on (the double fetch of XSA-155).
static inline __attribute__((always_inline)) void xen_shared_compiler_barrier(void) { __asm__ __volatile__("" ::: "memory"); }

// Exactly one load or store of an index the peer can write: volatile, so the compiler can neither
// repeat nor tear it (a 32-bit aligned access is single-copy atomic on x86_64).
static inline __attribute__((always_inline)) unsigned int xen_shared_read_u32(const void *p) { return *(const volatile unsigned int *)p; }
static inline __attribute__((always_inline)) void xen_shared_write_u32(void *p, unsigned int v) { *(volatile unsigned int *)p = v; }

#endif
