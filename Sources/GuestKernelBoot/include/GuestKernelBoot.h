// What the boot stub leaves for the Swift kernel, and the few CPU instructions Swift cannot spell.
#ifndef GUEST_KERNEL_BOOT_H
#define GUEST_KERNEL_BOOT_H

// %rsi at entry: Xen's start_info page (XenABI.start_info).
extern void *boot_start_info;

// The console's line buffer, in the stub's .bss (output starts before there is a heap).
extern char console_line[160];
static inline char *console_line_buffer(void) { return console_line; }

// The page under the boot stack, unmapped once the kernel runs: an overflow faults there.
extern char boot_stack_guard[4096];
static inline const void *boot_stack_guard_address(void) { return boot_stack_guard; }

// The linker script's marks (Swift cannot import incomplete arrays, hence the accessors).
extern char _text[], _end[];
static inline const void *_text_address(void) { return _text; }
static inline const void *_end_address(void) { return _end; }

// The upcall and failsafe entries in boot.S, for set_callbacks.
void hypervisor_callback(void);
void failsafe_callback(void);
static inline unsigned long hypervisor_callback_address(void) { return (unsigned long)hypervisor_callback; }
static inline unsigned long failsafe_callback_address(void) { return (unsigned long)failsafe_callback; }

// The exception entries in boot.S, for set_trap_table.
#define TRAP_ENTRY(n) void trap_entry_##n(void);
TRAP_ENTRY(0) TRAP_ENTRY(1) TRAP_ENTRY(2) TRAP_ENTRY(3) TRAP_ENTRY(4) TRAP_ENTRY(5) TRAP_ENTRY(6)
TRAP_ENTRY(7) TRAP_ENTRY(8) TRAP_ENTRY(9) TRAP_ENTRY(10) TRAP_ENTRY(11) TRAP_ENTRY(12) TRAP_ENTRY(13)
TRAP_ENTRY(14) TRAP_ENTRY(15) TRAP_ENTRY(16) TRAP_ENTRY(17) TRAP_ENTRY(18) TRAP_ENTRY(19)
static inline unsigned long trap_entry_address(unsigned int vector) {
    static void (*const entries[20])(void) = {
        trap_entry_0, trap_entry_1, trap_entry_2, trap_entry_3, trap_entry_4, trap_entry_5, trap_entry_6,
        trap_entry_7, trap_entry_8, trap_entry_9, trap_entry_10, trap_entry_11, trap_entry_12, trap_entry_13,
        trap_entry_14, trap_entry_15, trap_entry_16, trap_entry_17, trap_entry_18, trap_entry_19 };
    return vector < 20 ? (unsigned long)entries[vector] : 0;
}

// The registers trap_common saved, in the order it left them on the stack.
struct trap_frame {
    unsigned long r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    unsigned long vector, error_code, rip, cs, rflags, rsp, ss;
};

// Deliberate exceptions for the self-tests: #UD (a fault, rip at the instruction) and #BP (a
// trap, rip after it).
static inline __attribute__((always_inline)) void cpu_ud2(void) { __asm__ volatile("ud2" ::: "memory"); }
static inline __attribute__((always_inline)) void cpu_int3(void) { __asm__ volatile("int3" ::: "memory"); }

// One byte read from p by an instruction of known length (`mov (%rdi), %al`: 2 bytes), for a
// self-test that expects the read to fault and resumes past it.
#define CPU_PROBE_READ_LENGTH 2
static inline __attribute__((always_inline)) unsigned char cpu_probe_read(const volatile void *p) {
    unsigned char v;
    __asm__ volatile("movb (%%rdi), %%al" : "=a"(v) : "D"(p) : "memory");
    return v;
}

// Makes the compiler keep the memory p points to as it is (the asm may read it).
static inline __attribute__((always_inline)) void cpu_use(const void *p) { __asm__ volatile("" :: "r"(p) : "memory"); }

static inline __attribute__((always_inline)) unsigned long long cpu_rdtsc(void) {
    unsigned int lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long long)hi << 32) | lo;
}

// Compiler barrier: keeps the compiler from moving memory accesses across it (x86 keeps the
// order of ordinary loads and stores with respect to each other, but not a store before a load).
static inline __attribute__((always_inline)) void cpu_barrier(void) { __asm__ volatile("" ::: "memory"); }

// A full fence: a store followed by a load of another location needs it on x86.
static inline __attribute__((always_inline)) void cpu_mb(void) { __asm__ volatile("mfence" ::: "memory"); }

static inline __attribute__((always_inline)) unsigned long atomic_xchg_ulong(volatile unsigned long *p, unsigned long v) {
    return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}

// Atomically clears bit `bit` of the word at p; returns whether it was set (lock btr).
static inline __attribute__((always_inline)) int atomic_test_and_clear_bit(volatile unsigned long *p, unsigned int bit) {
    unsigned long mask = 1UL << bit;
    return (__atomic_fetch_and(p, ~mask, __ATOMIC_SEQ_CST) & mask) != 0;
}

static inline __attribute__((always_inline)) void atomic_set_bit(volatile unsigned long *p, unsigned int bit) {
    __atomic_fetch_or(p, 1UL << bit, __ATOMIC_SEQ_CST);
}

static inline __attribute__((always_inline)) unsigned short atomic_cmpxchg_u16(volatile unsigned short *p, unsigned short old, unsigned short new_) {
    __atomic_compare_exchange_n(p, &old, new_, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return old;
}

#endif
