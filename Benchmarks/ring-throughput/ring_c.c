// The reference side of Benchmarks/ring-throughput.sh: one front end and one back end over one
// shared ring, 64-byte requests, with ring.h's macros as a C driver uses them (RING_COPY_REQUEST,
// RING_PUSH_*_AND_CHECK_NOTIFY, the overflow checks), compiled by gcc -O2. Both ends poll; the
// notify decisions are counted, as a driver would act on them.
//   ring_c REQUESTS PAGES THREADS
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define xen_mb()  __asm__ __volatile__("mfence" ::: "memory")
#define xen_rmb() __asm__ __volatile__("" ::: "memory")
#define xen_wmb() __asm__ __volatile__("" ::: "memory")
#include <xen/io/ring.h>

struct bench_request { uint64_t sequence; uint64_t words[7]; };
struct bench_response { uint64_t sequence; };
DEFINE_RING_TYPES(bench, struct bench_request, struct bench_response);

static uint64_t total;
static size_t ring_bytes;
static struct bench_sring *shared;
static uint64_t notifies_front, notifies_back;

static inline __attribute__((always_inline)) void fill(struct bench_request *r, uint64_t n) {
    uint64_t k = n * 0x9E3779B97F4A7C15ull;
    r->sequence = n;
    for (int i = 0; i < 7; i++) r->words[i] = k ^ i;
}

// The front end's turn: fill the free slots, publish, then take the responses. The consumers read
// the producer index, check it, copy out every entry up to it, and read it again until it stops
// moving: a batch that grew while it was consumed is taken in the same pass, as XenABI's take
// functions do.
static inline __attribute__((always_inline)) void front_turn(struct bench_front_ring *f, uint64_t *sent, uint64_t *answered, uint64_t *notifies) {
    int notify;
    while (*sent < total && !RING_FULL(f)) fill(RING_GET_REQUEST(f, f->req_prod_pvt++), (*sent)++);
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(f, notify);
    *notifies += notify;
    for (;;) {
        RING_IDX rp = f->sring->rsp_prod;
        xen_rmb();
        if (RING_RESPONSE_PROD_OVERFLOW(f, rp)) { fprintf(stderr, "response overflow\n"); exit(1); }
        if (f->rsp_cons == rp) break;
        while (f->rsp_cons != rp) {
            struct bench_response rsp;
            RING_COPY_RESPONSE(f, f->rsp_cons, &rsp);
            if (rsp.sequence != *answered) { fprintf(stderr, "response %lu when %lu was due\n", rsp.sequence, *answered); exit(1); }
            (*answered)++; f->rsp_cons++;
        }
    }
}

// The back end's turn: take every request, answer each, publish.
static inline __attribute__((always_inline)) void back_turn(struct bench_back_ring *b, uint64_t *expected, uint64_t *notifies) {
    int notify;
    for (;;) {
        RING_IDX rp = b->sring->req_prod;
        xen_rmb();
        if (RING_REQUEST_PROD_OVERFLOW(b, rp)) { fprintf(stderr, "request overflow\n"); exit(1); }
        if (b->req_cons == rp) break;
        while (b->req_cons != rp) {
            struct bench_request req;
            RING_COPY_REQUEST(b, b->req_cons, &req);
            b->req_cons++;
            if (req.sequence != *expected || req.words[6] != ((req.sequence * 0x9E3779B97F4A7C15ull) ^ 6)) { fprintf(stderr, "request %lu bad\n", req.sequence); exit(1); }
            RING_GET_RESPONSE(b, b->rsp_prod_pvt)->sequence = req.sequence;
            b->rsp_prod_pvt++;
            (*expected)++;
        }
    }
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(b, notify);
    *notifies += notify;
}

static void *front_end(void *unused) {
    (void)unused;
    struct bench_front_ring f;
    FRONT_RING_ATTACH(&f, shared, 0, ring_bytes);
    uint64_t sent = 0, answered = 0, notifies = 0;  // counted locally: no cache line shared with the other thread
    while (answered < total) front_turn(&f, &sent, &answered, &notifies);
    notifies_front = notifies;
    return NULL;
}

static void *back_end(void *unused) {
    (void)unused;
    struct bench_back_ring b;
    BACK_RING_ATTACH(&b, shared, 0, ring_bytes);
    uint64_t expected = 0, notifies = 0;
    while (expected < total) back_turn(&b, &expected, &notifies);
    notifies_back = notifies;
    return NULL;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
    total = argc > 1 ? strtoull(argv[1], NULL, 0) : 100000000ull;
    unsigned pages = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    ring_bytes = 4096u * pages;
    shared = aligned_alloc(4096, ring_bytes);
    SHARED_RING_INIT(shared);
    struct timespec t0;
    if (threads == 1) {
        // Both ends in one thread, taking turns: the protocol's own cost, no cache line crossing cores.
        struct bench_front_ring f;
        struct bench_back_ring b;
        FRONT_RING_ATTACH(&f, shared, 0, ring_bytes);
        BACK_RING_ATTACH(&b, shared, 0, ring_bytes);
        uint64_t sent = 0, answered = 0, expected = 0, nf = 0, nb = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (answered < total) { front_turn(&f, &sent, &answered, &nf); back_turn(&b, &expected, &nb); }
        double s = seconds_since(&t0);
        printf("C ring.h gcc -O2, one thread: %lu requests, %u entries, %.3f s, %.1f M requests/s\n",
               (unsigned long)total, (unsigned)__RING_SIZE(shared, ring_bytes), s, total / s / 1e6);
        return 0;
    }
    pthread_t a, b;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&b, NULL, back_end, NULL);
    pthread_create(&a, NULL, front_end, NULL);
    pthread_join(a, NULL); pthread_join(b, NULL);
    double s = seconds_since(&t0);
    printf("C ring.h gcc -O2: %lu requests, %u entries, %.3f s, %.1f M requests/s, notifies %lu/%lu\n",
           (unsigned long)total, (unsigned)__RING_SIZE(shared, ring_bytes), s, total / s / 1e6,
           (unsigned long)notifies_front, (unsigned long)notifies_back);
    return 0;
}
