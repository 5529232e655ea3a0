// fdatasync latency of the disk under the current folder: 200 times, write 64 KiB and
// call fdatasync, then print the median, 90th and 99th percentile and the maximum.
// Build and run: cc -O2 -o /tmp/fsync-floor Benchmarks/floors/fsync.c && /tmp/fsync-floor
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(void) {
    int fd = open("fsync-floor.bin", O_CREAT | O_WRONLY | O_TRUNC, 0600);
    char buf[65536] = {0};
    double times[200];
    for (int i = 0; i < 200; i++) {
        write(fd, buf, sizeof buf);
        double t0 = now(); fdatasync(fd); times[i] = now() - t0;
    }
    close(fd);
    unlink("fsync-floor.bin");
    for (int i = 0; i < 200; i++) for (int j = i + 1; j < 200; j++) if (times[j] < times[i]) { double x = times[i]; times[i] = times[j]; times[j] = x; }
    printf("fdatasync after 64 KiB write: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", times[100]*1e3, times[180]*1e3, times[198]*1e3, times[199]*1e3);
    return 0;
}
