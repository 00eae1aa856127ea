/* diskbench DEVICE [MIB [SECONDS]]: a disk's figures in a Linux guest, measured as the Swift
 * kernel's `diskbench` measures its own (Sources/GuestKernel/SelfTests/DiskBench.swift), for
 * Benchmarks/blk-figures.sh: MIB (128) from the start written with O_DIRECT in 1 MiB writes, one
 * at a time (as `dd bs=1M oflag=direct`: the block layer splits each into blkfront requests in
 * flight together), fsync'd, read back the same way, then 4 KiB O_DIRECT reads at random
 * page-aligned offsets below MIB for SECONDS (5) with one outstanding (pread) and again with 32
 * (Linux AIO, io_submit/io_getevents through syscall(2): no libaio in a static build). One line a
 * figure, the Swift kernel's words without its `guest: `:
 *   diskbench: seq-write 128 MiB in N ms: X MB/s
 *   diskbench: rand-read-4k qd32: N reads in M ms: X IOPS
 * The device's contents are overwritten. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)
#define DEPTH 32

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void sequential(int fd, int write, uint64_t bytes, char *buffer) {
    uint64_t start = now_ns();
    for (uint64_t offset = 0; offset < bytes; offset += CHUNK) {
        ssize_t n = write ? pwrite(fd, buffer, CHUNK, offset) : pread(fd, buffer, CHUNK, offset);
        if (n != CHUNK) die(write ? "diskbench: pwrite" : "diskbench: pread");
    }
    if (write && fsync(fd) != 0) die("diskbench: fsync");
    uint64_t ns = now_ns() - start;
    uint64_t us = ns / 1000 ? ns / 1000 : 1;
    printf("diskbench: seq-%s %llu MiB in %llu ms: %llu.%llu MB/s\n", write ? "write" : "read",
           (unsigned long long)(bytes >> 20), (unsigned long long)(ns / 1000000),
           (unsigned long long)(bytes * 10 / us / 10), (unsigned long long)(bytes * 10 / us % 10));
    fflush(stdout);
}

static uint64_t state = 0x6469736b62656e63ull; /* "diskbenc", as the Swift side's */

static uint64_t next_block(uint64_t blocks) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17; /* xorshift64 */
    return state % blocks;
}

static void report_random(int depth, uint64_t reads, uint64_t ns) {
    printf("diskbench: rand-read-4k qd%d: %llu reads in %llu ms: %llu IOPS\n", depth, (unsigned long long)reads,
           (unsigned long long)(ns / 1000000), (unsigned long long)(reads * 1000000000ull / ns));
    fflush(stdout);
}

static void random_qd1(int fd, uint64_t bytes, uint64_t seconds, char *page) {
    uint64_t blocks = bytes >> 12, reads = 0;
    uint64_t start = now_ns(), end = start + seconds * 1000000000ull;
    do {
        if (pread(fd, page, 4096, next_block(blocks) << 12) != 4096) die("diskbench: random pread");
        reads++;
    } while (now_ns() < end);
    report_random(1, reads, now_ns() - start);
}

static void random_aio(int fd, uint64_t bytes, uint64_t seconds, char *pages) {
    aio_context_t ctx = 0;
    if (syscall(SYS_io_setup, DEPTH, &ctx) != 0) die("diskbench: io_setup");
    static struct iocb cbs[DEPTH];
    struct iocb *list[1];
    struct io_event events[DEPTH];
    uint64_t blocks = bytes >> 12, reads = 0;
    int outstanding = 0, submitting = 1;
    uint64_t start = now_ns(), end = start + seconds * 1000000000ull;
    for (int i = 0; i < DEPTH; i++) {
        memset(&cbs[i], 0, sizeof cbs[i]);
        cbs[i].aio_fildes = fd;
        cbs[i].aio_lio_opcode = IOCB_CMD_PREAD;
        cbs[i].aio_buf = (uint64_t)(uintptr_t)(pages + i * 4096);
        cbs[i].aio_nbytes = 4096;
        cbs[i].aio_data = i;
        cbs[i].aio_offset = next_block(blocks) << 12;
        list[0] = &cbs[i];
        if (syscall(SYS_io_submit, ctx, 1, list) != 1) die("diskbench: io_submit");
        outstanding++;
    }
    while (outstanding > 0) {
        long got = syscall(SYS_io_getevents, ctx, 1, DEPTH, events, NULL);
        if (got < 1) die("diskbench: io_getevents");
        for (long e = 0; e < got; e++) {
            if (events[e].res != 4096) { fprintf(stderr, "diskbench: random read returned %lld\n", (long long)events[e].res); exit(1); }
            reads++;
            outstanding--;
            if (submitting && now_ns() >= end) submitting = 0;
            if (!submitting) continue;
            struct iocb *cb = &cbs[events[e].data];
            cb->aio_offset = next_block(blocks) << 12;
            list[0] = cb;
            if (syscall(SYS_io_submit, ctx, 1, list) != 1) die("diskbench: io_submit");
            outstanding++;
        }
    }
    report_random(DEPTH, reads, now_ns() - start);
    syscall(SYS_io_destroy, ctx);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: diskbench DEVICE [MIB [SECONDS]]\n"); return 2; }
    uint64_t bytes = (argc > 2 ? strtoull(argv[2], NULL, 10) : 128) << 20;
    uint64_t seconds = argc > 3 ? strtoull(argv[3], NULL, 10) : 5;
    int fd = open(argv[1], O_RDWR | O_DIRECT);
    if (fd < 0) die("diskbench: open");
    char *buffer;
    if (posix_memalign((void **)&buffer, 4096, CHUNK + DEPTH * 4096) != 0) die("diskbench: posix_memalign");
    for (size_t i = 0; i < CHUNK / 8; i++) ((uint64_t *)buffer)[i] = i * 0x9E3779B97F4A7C15ull;
    sequential(fd, 1, bytes, buffer);
    sequential(fd, 0, bytes, buffer);
    random_qd1(fd, bytes, seconds, buffer + CHUNK);
    random_aio(fd, bytes, seconds, buffer + CHUNK);
    close(fd);
    return 0;
}
