/* udpecho: the UDP peer the domU network tests and benchmarks run in dom0 (and, as the echo
 * service, in the Linux domU they are compared with). Static, no dependencies beyond libc.
 *   udpecho serve PORT                         echo every datagram back to its sender
 *   udpecho sizes HOST PORT [MAX]              every payload size 1..MAX (default 1472) sent and
 *                                              its echo compared byte for byte
 *   udpecho burst HOST PORT COUNT WINDOW       COUNT datagrams, at most WINDOW unanswered at once;
 *                                              prints sent, echoed, lost
 *   udpecho rate HOST PORT SIZE SECONDS WINDOW datagrams echoed per second at SIZE bytes
 * Exit status 0 only if nothing was lost or corrupted (serve runs until killed). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAYLOAD 65507

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int open_socket(const char *host, const char *port, struct sockaddr_in *peer) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); exit(2); }
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    memset(peer, 0, sizeof *peer);
    peer->sin_family = AF_INET;
    peer->sin_port = htons((uint16_t)atoi(port));
    if (host && inet_pton(AF_INET, host, &peer->sin_addr) != 1) { fprintf(stderr, "udpecho: bad address %s\n", host); exit(2); }
    return fd;
}

/* The payload of datagram `seq` of `size` bytes: the sequence number, then a pattern of both. */
static void fill(unsigned char *p, size_t size, uint32_t seq) {
    for (size_t i = 0; i < size; i++) p[i] = (unsigned char)(seq * 31u + i * 7u + (i >> 8));
    if (size >= 4) memcpy(p, &seq, 4);
}

static int wait_readable(int fd, int ms) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, ms) > 0;
}

static int serve(const char *port) {
    struct sockaddr_in me;
    int fd = open_socket(NULL, port, &me);
    me.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) { perror("bind"); return 2; }
    static unsigned char buf[MAX_PAYLOAD];
    for (;;) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n < 0) { if (errno == EINTR) continue; perror("recvfrom"); return 2; }
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
    }
}

static int sizes(const char *host, const char *port, int max) {
    struct sockaddr_in peer;
    int fd = open_socket(host, port, &peer);
    static unsigned char out[MAX_PAYLOAD], in[MAX_PAYLOAD];
    int ok = 0, bad = 0;
    for (int size = 1; size <= max; size++) {
        fill(out, (size_t)size, (uint32_t)size);
        int matched = 0;
        for (int attempt = 0; attempt < 3 && !matched; attempt++) {
            sendto(fd, out, (size_t)size, 0, (struct sockaddr *)&peer, sizeof peer);
            while (wait_readable(fd, 1000)) {
                ssize_t n = recv(fd, in, sizeof in, 0);
                if (n == size && memcmp(in, out, (size_t)size) == 0) { matched = 1; break; }
            }
        }
        if (matched) ok++; else { bad++; fprintf(stderr, "udpecho: size %d: no exact echo\n", size); }
    }
    printf("udpecho sizes 1-%d: %d echoed byte for byte, %d failed\n", max, ok, bad);
    return bad == 0 ? 0 : 1;
}

/* COUNT datagrams with at most WINDOW unanswered: sent = echoed + lost, exactly. */
static int burst(const char *host, const char *port, int count, int window, int size, double seconds, int report_rate) {
    struct sockaddr_in peer;
    int fd = open_socket(host, port, &peer);
    static unsigned char out[MAX_PAYLOAD], in[MAX_PAYLOAD];
    unsigned char *seen = calloc((size_t)(count > 0 ? count : 1 << 24), 1);
    long sent = 0, echoed = 0, duplicates = 0, corrupt = 0;
    double start = now(), deadline = seconds > 0 ? start + seconds : 0, last = start;
    int limit = count > 0 ? count : 1 << 24;
    while (1) {
        int more = sent < limit && (deadline == 0 || now() < deadline);
        if (more && sent - echoed - 0 < window) {
            fill(out, (size_t)size, (uint32_t)sent);
            if (sendto(fd, out, (size_t)size, 0, (struct sockaddr *)&peer, sizeof peer) == size) sent++;
            continue;
        }
        if (!wait_readable(fd, more ? 200 : 1000)) {
            if (!more) break;  /* nothing more to send, nothing more coming */
            /* 200 ms without an echo and the window full: the rest are lost */
            if (sent - echoed >= window) { fprintf(stderr, "udpecho: window stuck at %ld unanswered\n", sent - echoed); break; }
            continue;
        }
        ssize_t n = recv(fd, in, sizeof in, 0);
        if (n != size) { corrupt++; continue; }
        uint32_t seq;
        memcpy(&seq, in, 4);
        fill(out, (size_t)size, seq);
        if (seq >= (uint32_t)limit || memcmp(in, out, (size_t)size) != 0) { corrupt++; continue; }
        if (seen[seq]) { duplicates++; continue; }
        seen[seq] = 1;
        echoed++;
        last = now();
    }
    /* Up to the last echo: the wait for stragglers after it is not traffic. */
    double took = last - start;
    long lost = sent - echoed;
    if (report_rate)
        printf("udpecho rate %d bytes: %ld sent, %ld echoed in %.2f s: %.0f datagrams/s (window %d)\n", size, sent, echoed, took, echoed / took, window);
    else
        printf("udpecho burst: %ld sent, %ld echoed, %ld lost, %ld corrupt, %ld duplicated, window %d, %.2f s\n",
               sent, echoed, lost, corrupt, duplicates, window, took);
    return lost == 0 && corrupt == 0 && duplicates == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "serve") == 0) return serve(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "sizes") == 0) return sizes(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 1472);
    if (argc >= 6 && strcmp(argv[1], "burst") == 0) return burst(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), 64, 0, 0);
    if (argc >= 7 && strcmp(argv[1], "rate") == 0) return burst(argv[2], argv[3], 0, atoi(argv[6]), atoi(argv[4]), atof(argv[5]), 1);
    fprintf(stderr, "usage: udpecho serve PORT | sizes HOST PORT [MAX] | burst HOST PORT COUNT WINDOW | rate HOST PORT SIZE SECONDS WINDOW\n");
    return 2;
}
