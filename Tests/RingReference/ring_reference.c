// Every ring instance of the installed headers, driven by ring.h's macros exactly as a C driver
// would use them. The instance list is generated (Generated/xen-4.17/check/ring_reference_instances.h);
// everything else here is ring.h's.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// ring.h leaves the barriers to its user from interface 0x00030208 on; these are Xen's x86 ones.
#define xen_mb()  __asm__ __volatile__("mfence" ::: "memory")
#define xen_rmb() __asm__ __volatile__("" ::: "memory")
#define xen_wmb() __asm__ __volatile__("" ::: "memory")

#include <xen/xen.h>
#include <xen/io/ring.h>
#include <xen/io/console.h>
#include "../../Generated/xen-4.17/check/ring_reference_instances.h"
#include "ring_reference.h"

#define RING_REFERENCE_STEP(name)                                                                  \
_Static_assert(sizeof(struct name##_front_ring) == sizeof(struct ring_reference_end), #name);      \
_Static_assert(sizeof(struct name##_back_ring) == sizeof(struct ring_reference_end), #name);       \
_Static_assert(offsetof(struct name##_front_ring, sring) == offsetof(struct ring_reference_end, sring), #name); \
typedef __typeof__(((union name##_sring_entry *)0)->req) name##_ref_req_t;                          \
typedef __typeof__(((union name##_sring_entry *)0)->rsp) name##_ref_rsp_t;                          \
static long name##_step(enum ring_reference_op op, struct ring_reference_end *fe, struct ring_reference_end *be, \
                        void *page, size_t bytes, unsigned int arg, void *io) {                     \
    struct name##_front_ring *f = (struct name##_front_ring *)fe;                                   \
    struct name##_back_ring *b = (struct name##_back_ring *)be;                                     \
    struct name##_sring *s = page;                                                                  \
    int notify; RING_IDX rp; unsigned int work;                                                     \
    switch (op) {                                                                                   \
    case RING_REF_INIT: XEN_FRONT_RING_INIT(f, s, bytes); BACK_RING_INIT(b, s, bytes); return 0;   \
    case RING_REF_ATTACH: FRONT_RING_ATTACH(f, s, arg, bytes); BACK_RING_ATTACH(b, s, arg, bytes); return 0; \
    case RING_REF_FRONT_ENQUEUE:                                                                    \
        if (RING_FULL(f)) return -1;                                                                \
        memcpy(RING_GET_REQUEST(f, f->req_prod_pvt), io, sizeof(name##_ref_req_t));                 \
        f->req_prod_pvt++; return 0;                                                                \
    case RING_REF_FRONT_PUSH: RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(f, notify); return notify;       \
    case RING_REF_BACK_TAKE:                                                                        \
        rp = s->req_prod; xen_rmb();                                                                \
        if (RING_REQUEST_PROD_OVERFLOW(b, rp)) return -2;                                           \
        if (b->req_cons == rp || RING_REQUEST_CONS_OVERFLOW(b, b->req_cons)) return 0;             \
        RING_COPY_REQUEST(b, b->req_cons, (name##_ref_req_t *)io); b->req_cons++; return 1;         \
    case RING_REF_BACK_ENQUEUE:                                                                     \
        if (b->rsp_prod_pvt == b->req_cons) return -1;                                              \
        memcpy(RING_GET_RESPONSE(b, b->rsp_prod_pvt), io, sizeof(name##_ref_rsp_t));                \
        b->rsp_prod_pvt++; return 0;                                                                \
    case RING_REF_BACK_PUSH: RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(b, notify); return notify;       \
    case RING_REF_FRONT_TAKE:                                                                       \
        rp = s->rsp_prod; xen_rmb();                                                                \
        if (RING_RESPONSE_PROD_OVERFLOW(f, rp)) return -2;                                          \
        if (f->rsp_cons == rp) return 0;                                                            \
        RING_COPY_RESPONSE(f, f->rsp_cons, (name##_ref_rsp_t *)io); f->rsp_cons++; return 1;        \
    case RING_REF_BACK_FINAL: RING_FINAL_CHECK_FOR_REQUESTS(b, work); return work != 0;            \
    case RING_REF_FRONT_FINAL: RING_FINAL_CHECK_FOR_RESPONSES(f, work); return work != 0;          \
    case RING_REF_FRONT_FREE: return RING_FREE_REQUESTS(f);                                        \
    case RING_REF_FRONT_FULL: return RING_FULL(f);                                                 \
    case RING_REF_BACK_UNCONSUMED: return RING_HAS_UNCONSUMED_REQUESTS(b);                         \
    case RING_REF_FRONT_UNCONSUMED: return RING_HAS_UNCONSUMED_RESPONSES(f);                       \
    case RING_REF_SIZE: return RING_SIZE(f);                                                       \
    case RING_REF_CONST_PAGE_SIZE: return __CONST_RING_SIZE(name, 4096);                           \
    }                                                                                               \
    return -100;                                                                                    \
}
RING_REFERENCE_INSTANCES(RING_REFERENCE_STEP)

#define RING_REFERENCE_ENTRY(name) { #name, sizeof(name##_ref_req_t), sizeof(name##_ref_rsp_t), name##_step },
static const struct ring_reference references[] = { RING_REFERENCE_INSTANCES(RING_REFERENCE_ENTRY) };

const struct ring_reference *ring_reference_find(const char *name) {
    for (size_t i = 0; i < sizeof references / sizeof references[0]; i++)
        if (!strcmp(references[i].name, name)) return &references[i];
    return NULL;
}
int ring_reference_count(void) { return (int)(sizeof references / sizeof references[0]); }

#define FLEX_RING_REFERENCE_ENTRY(name)                                                            \
    { #name, name##_mask, name##_read_packet, name##_write_packet, name##_queued,                  \
      offsetof(struct name##_data_intf, in_cons), offsetof(struct name##_data_intf, in_prod),      \
      offsetof(struct name##_data_intf, out_cons), offsetof(struct name##_data_intf, out_prod),    \
      offsetof(struct name##_data_intf, ring_order) },
static const struct flex_ring_reference flex_references[] = { FLEX_RING_REFERENCE_INSTANCES(FLEX_RING_REFERENCE_ENTRY) };

const struct flex_ring_reference *flex_ring_reference_find(const char *name) {
    for (size_t i = 0; i < sizeof flex_references / sizeof flex_references[0]; i++)
        if (!strcmp(flex_references[i].name, name)) return &flex_references[i];
    return NULL;
}
int flex_ring_reference_count(void) { return (int)(sizeof flex_references / sizeof flex_references[0]); }
unsigned long flex_ring_reference_size(unsigned int order) { return XEN_FLEX_RING_SIZE(order); }

// The console the way a C front end writes it with MASK_XENCONS_IDX (as Mini-OS and Linux's
// hvc_xen do): read the peer's index, barrier, copy byte by byte, barrier, publish.
unsigned int console_reference_write(void *p, const void *io, unsigned int n) {
    struct xencons_interface *intf = p;
    XENCONS_RING_IDX cons = intf->out_cons, prod = intf->out_prod;
    xen_mb();
    unsigned int sent = 0;
    while (sent < n && (XENCONS_RING_IDX)(prod - cons) < sizeof(intf->out))
        intf->out[MASK_XENCONS_IDX(prod++, intf->out)] = ((const char *)io)[sent++];
    xen_wmb();
    intf->out_prod = prod;
    return sent;
}

unsigned int console_reference_read(void *p, void *io, unsigned int n) {
    struct xencons_interface *intf = p;
    XENCONS_RING_IDX cons = intf->in_cons, prod = intf->in_prod;
    xen_rmb();
    unsigned int got = 0;
    while (got < n && cons != prod)
        ((char *)io)[got++] = intf->in[MASK_XENCONS_IDX(cons++, intf->in)];
    xen_mb();
    intf->in_cons = cons;
    return got;
}
