/*
 * ctxsw: context switches among N processes (N = 2, 8, 32) passing a one-byte
 * token around a ring of pipes, as lmbench's lat_ctx does with a zero-size working
 * set. ITERATIONS counts laps of the ring; the figure is per hop (one pass of the
 * token to the next process: one context switch plus a pipe write and read, which
 * are not subtracted).
 *
 * The ring is built once per benchmark, outside the timing. Harness: bench.h.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define RING_MAX 32

/* ring[i] carries the token from process i to process i+1 (mod N); the parent is
 * process 0, children are 1..N-1. */
static int ring[RING_MAX][2];
static pid_t members[RING_MAX];
static int ring_size;

static void pass_token(int in, int out) {
    char token;
    for (;;) {
        ssize_t n = read(in, &token, 1);
        if (n == 0)
            _exit(0);
        if (n != 1 || write(out, &token, 1) != 1)
            _exit(BENCH_EXIT_FAILED);
    }
}

static void build_ring(int n) {
    ring_size = n;
    for (int i = 0; i < n; i++)
        if (pipe(ring[i]) != 0)
            bench_fail("pipe: %s", strerror(errno));
    for (int p = 1; p < n; p++) {
        members[p] = fork();
        if (members[p] < 0)
            bench_fail("fork: %s", strerror(errno));
        if (members[p] == 0) {
            int in = ring[p - 1][0], out = ring[p][1];
            /* Keep only this member's two ends, so end of file travels the ring. */
            for (int i = 0; i < n; i++) {
                if (ring[i][0] != in)
                    close(ring[i][0]);
                if (ring[i][1] != out)
                    close(ring[i][1]);
            }
            pass_token(in, out);
        }
    }
    for (int i = 0; i < n; i++) {
        if (i != n - 1)
            close(ring[i][0]);
        if (i != 0)
            close(ring[i][1]);
    }
}

/* Closing the parent's write end ends member 1, whose exit ends member 2, ... */
static void tear_down_ring(void) {
    close(ring[0][1]);
    for (int p = 1; p < ring_size; p++) {
        int status;
        if (waitpid(members[p], &status, 0) != members[p] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            bench_fail("ring member %d did not end cleanly (status %#x)", p, status);
    }
    close(ring[ring_size - 1][0]);
}

static double laps(long n) {
    char token = 'k';
    for (long i = 0; i < n; i++)
        if (write(ring[0][1], &token, 1) != 1 || read(ring[ring_size - 1][0], &token, 1) != 1)
            bench_fail("the token was lost: %s", strerror(errno));
    return (double)n * ring_size;
}

static void ring_2(void) { build_ring(2); }
static void ring_8(void) { build_ring(8); }
static void ring_32(void) { build_ring(RING_MAX); }

static const struct bench table[] = {
    {"ctxsw_2", "ns", BENCH_TIME, 0, ring_2, laps, tear_down_ring},
    {"ctxsw_8", "ns", BENCH_TIME, 0, ring_8, laps, tear_down_ring},
    {"ctxsw_32", "ns", BENCH_TIME, 0, ring_32, laps, tear_down_ring},
};

int main(int argc, char **argv) {
    return bench_main(argc, argv, table, BENCH_COUNT(table));
}
