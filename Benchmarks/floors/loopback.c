// CPU time per 1 KiB frame over loopback TCP: one thread writes 2,000,000 frames of 1 KiB, one
// write each, and another reads them with reads of the given size (default 65536).
// Build and run: cc -O2 -o /tmp/loopback-floor Benchmarks/floors/loopback.c -lpthread && /tmp/loopback-floor 1024
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static long N = 2000000; static int readSize = 65536;
static double tcpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double readerCpu;
static void *reader(void *arg) {
    int fd = *(int *)arg; char *buf = malloc(65536); long total = 0; double c0 = tcpu();
    while (total < N * 1024) { ssize_t r = read(fd, buf, readSize); if (r <= 0) break; total += r; }
    readerCpu = tcpu() - c0; return NULL;
}
int main(int argc, char **argv) {
    if (argc > 1) readSize = atoi(argv[1]);
    int ls = socket(AF_INET, SOCK_STREAM, 0); struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(ls, (void *)&a, sizeof a); socklen_t l = sizeof a; getsockname(ls, (void *)&a, &l); listen(ls, 1);
    int c = socket(AF_INET, SOCK_STREAM, 0); connect(c, (void *)&a, sizeof a); int s = accept(ls, NULL, NULL);
    int noDelay = 1; setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &noDelay, sizeof noDelay);
    pthread_t t; pthread_create(&t, NULL, reader, &s);
    char frame[1024]; memset(frame, 7, sizeof frame); double c0 = tcpu();
    struct timespec w0, w1; clock_gettime(CLOCK_MONOTONIC, &w0);
    for (long i = 0; i < N; i++) write(c, frame, sizeof frame);
    double writerCpu = tcpu() - c0; pthread_join(t, NULL); clock_gettime(CLOCK_MONOTONIC, &w1);
    double wall = (w1.tv_sec - w0.tv_sec) + (w1.tv_nsec - w0.tv_nsec) / 1e9;
    printf("read size %d: writer %.2f µs/frame, reader %.2f µs/frame, total %.2f µs CPU per 1 KiB frame, %.0f frames/s\n",
           readSize, writerCpu / N * 1e6, readerCpu / N * 1e6, (writerCpu + readerCpu) / N * 1e6, N / wall);
    return 0;
}
