/* The C call sites Benchmarks/hypercall-zero-cost.sh compares the Swift wrappers with: the same
 * hypercall-page primitive, called the way a C kernel would, compiled by gcc -O2. */
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include "xen_hypercall_page.h"

int c_evtchn_send(uint32_t port) {
    struct evtchn_send send = { .port = port };
    long rc = xen_hypercall_page_call2(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send);
    return rc < 0 ? (int)-rc : 0;
}

int c_sched_yield(void) {
    long rc = xen_hypercall_page_call2(__HYPERVISOR_sched_op, SCHEDOP_yield, 0);
    return rc < 0 ? (int)-rc : 0;
}

int c_mmu_update_one(uint64_t ptr, uint64_t val) {
    struct mmu_update req = { .ptr = ptr, .val = val };
    unsigned int done = 0;
    long rc = xen_hypercall_page_call4(__HYPERVISOR_mmu_update, (unsigned long)&req, 1, (unsigned long)&done, DOMID_SELF);
    return rc < 0 ? (int)rc : (int)done;
}
