// The C reference for the ring tests: every ring instance of the installed headers driven by
// ring.h's own macros, compiled by the C compiler. This header names no Xen type, so Swift code
// can import it beside XenABI.
#ifndef RING_REFERENCE_H
#define RING_REFERENCE_H

#include <stddef.h>

// The private part of `name_front_ring` / `name_back_ring`, which DEFINE_RING_TYPES lays out the
// same way for every instance (ring_reference.c checks it).
struct ring_reference_end {
    unsigned int producer_private; // req_prod_pvt (front) or rsp_prod_pvt (back)
    unsigned int consumer;         // rsp_cons (front) or req_cons (back)
    unsigned int nr_ents;
    void *sring;
};

enum ring_reference_op {
    RING_REF_INIT,           // XEN_FRONT_RING_INIT, BACK_RING_INIT
    RING_REF_ATTACH,         // both ends attached at `arg` (the page's indexes already there)
    RING_REF_FRONT_ENQUEUE,  // *RING_GET_REQUEST(req_prod_pvt++) = io; -1 when RING_FULL
    RING_REF_FRONT_PUSH,     // RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: the notify decision
    RING_REF_BACK_TAKE,      // RING_COPY_REQUEST into io: 1, 0 when none, -2 on RING_REQUEST_PROD_OVERFLOW
    RING_REF_BACK_ENQUEUE,   // *RING_GET_RESPONSE(rsp_prod_pvt++) = io; -1 when nothing to answer
    RING_REF_BACK_PUSH,      // RING_PUSH_RESPONSES_AND_CHECK_NOTIFY
    RING_REF_FRONT_TAKE,     // RING_COPY_RESPONSE into io: 1, 0, or -2 on RING_RESPONSE_PROD_OVERFLOW
    RING_REF_BACK_FINAL,     // RING_FINAL_CHECK_FOR_REQUESTS: work to do
    RING_REF_FRONT_FINAL,    // RING_FINAL_CHECK_FOR_RESPONSES
    RING_REF_FRONT_FREE,     // RING_FREE_REQUESTS
    RING_REF_FRONT_FULL,     // RING_FULL
    RING_REF_BACK_UNCONSUMED,  // RING_HAS_UNCONSUMED_REQUESTS
    RING_REF_FRONT_UNCONSUMED, // RING_HAS_UNCONSUMED_RESPONSES
    RING_REF_SIZE,           // RING_SIZE
    RING_REF_CONST_PAGE_SIZE // __CONST_RING_SIZE(name, 4096)
};

struct ring_reference {
    const char *name;
    size_t request_size, response_size;
    long (*step)(enum ring_reference_op op, struct ring_reference_end *front, struct ring_reference_end *back,
                 void *page, size_t bytes, unsigned int arg, void *io);
};

/// The instance of that name, or NULL.
const struct ring_reference *ring_reference_find(const char *name);
/// How many instances the reference was built with.
int ring_reference_count(void);

// DEFINE_XEN_FLEX_RING's functions for one instance, unchanged.
struct flex_ring_reference {
    const char *name;
    unsigned int (*mask)(unsigned int idx, unsigned int ring_size);
    void (*read_packet)(void *opaque, const unsigned char *buf, size_t size, unsigned int masked_prod,
                        unsigned int *masked_cons, unsigned int ring_size);
    void (*write_packet)(unsigned char *buf, const void *opaque, size_t size, unsigned int *masked_prod,
                         unsigned int masked_cons, unsigned int ring_size);
    unsigned int (*queued)(unsigned int prod, unsigned int cons, unsigned int ring_size);
    size_t in_cons, in_prod, out_cons, out_prod, ring_order; // offsetof in name_data_intf
};

const struct flex_ring_reference *flex_ring_reference_find(const char *name);
int flex_ring_reference_count(void);

/// XEN_FLEX_RING_SIZE(order).
unsigned long flex_ring_reference_size(unsigned int order);

// The console and xenstore byte rings with io/console.h's MASK_XENCONS_IDX: `write` copies up to
// n bytes of io into the `out` ring as a producer would, `read` copies up to n bytes out of the
// `in` ring; both return the count. (The console page is used for both directions.)
unsigned int console_reference_write(void *intf, const void *io, unsigned int n);
unsigned int console_reference_read(void *intf, void *io, unsigned int n);

#endif
