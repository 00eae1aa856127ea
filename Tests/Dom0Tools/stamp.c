/* stamp: copies standard input to standard output, each line prefixed with the milliseconds
 * since stamp started ("+1234 ms: "), so that a dom0 step can show where a command's time goes
 * without forking date(1) per line (a fork costs dom0 hundreds of ms under QEMU's TCG). */
#include <stdio.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(void) {
    char line[4096];
    double start = now_ms();
    int at_start = 1;
    while (fgets(line, sizeof line, stdin)) {
        if (at_start) printf("+%.0f ms: ", now_ms() - start);
        fputs(line, stdout);
        fflush(stdout);
        size_t n = 0;
        while (line[n]) n++;
        at_start = n > 0 && line[n - 1] == '\n';
    }
    return 0;
}
