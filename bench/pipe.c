/*
 * pipe: lmbench's lat_pipe and bw_pipe. pipe_latency is one round trip of a byte
 * between two processes over a pair of pipes (two writes, two reads, two context
 * switches); pipe_bandwidth streams 64 KiB chunks to a child that reads them all
 * and acknowledges each batch, reported in MB/s (10^6 bytes).
 *
 * The child is forked once per benchmark, outside the timing. Harness: bench.h.
 */
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* The chunk pipe_bandwidth writes (lmbench's default), and the rate unit. */
#define CHUNK_BYTES (64 * 1024)
#define NS_PER_MB_PER_S 1e3 /* bytes/ns x 1e3 = MB/s (10^6 bytes per second) */

static int to_child[2], from_child[2];
static pid_t child = -1;
static char chunk[CHUNK_BYTES];

/* Reads exactly `len` bytes, or fails; returns 0 at a clean end of file. */
static int read_full(int fd, void *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n == 0 && got == 0)
            return 0;
        if (n <= 0)
            bench_fail("read: %s", n == 0 ? "early end of file" : strerror(errno));
        got += (size_t)n;
    }
    return 1;
}

static void write_full(int fd, const void *buf, size_t len) {
    size_t put = 0;
    while (put < len) {
        ssize_t n = write(fd, (const char *)buf + put, len - put);
        if (n <= 0)
            bench_fail("write: %s", strerror(errno));
        put += (size_t)n;
    }
}

/* Forks the child running `serve` on the far ends of the two pipes. */
static void start_child(void (*serve)(int in, int out)) {
    if (pipe(to_child) != 0 || pipe(from_child) != 0)
        bench_fail("pipe: %s", strerror(errno));
    child = fork();
    if (child < 0)
        bench_fail("fork: %s", strerror(errno));
    if (child == 0) {
        close(to_child[1]);
        close(from_child[0]);
        serve(to_child[0], from_child[1]);
        _exit(0);
    }
    close(to_child[0]);
    close(from_child[1]);
}

static void stop_child(void) {
    close(to_child[1]);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_fail("the child did not end cleanly (status %#x)", status);
    close(from_child[0]);
}

/* The echo child: each byte straight back, until end of file. */
static void echo(int in, int out) {
    char c;
    while (read_full(in, &c, 1))
        write_full(out, &c, 1);
}

static void start_echo(void) {
    start_child(echo);
}

static double pipe_latency(long n) {
    char c = 'k';
    for (long i = 0; i < n; i++) {
        write_full(to_child[1], &c, 1);
        if (!read_full(from_child[0], &c, 1))
            bench_fail("the echo child went away");
    }
    return (double)n;
}

/* The sink child: a byte count, then that many bytes, then one acknowledging byte. */
static void sink(int in, int out) {
    uint64_t total;
    while (read_full(in, &total, sizeof total)) {
        for (uint64_t got = 0; got < total;) {
            ssize_t n = read(in, chunk, sizeof chunk);
            if (n <= 0)
                bench_fail("sink read: %s", n == 0 ? "early end of file" : strerror(errno));
            got += (uint64_t)n;
        }
        write_full(out, "k", 1);
    }
}

static void start_sink(void) {
    memset(chunk, 'k', sizeof chunk);
    start_child(sink);
}

static double pipe_bandwidth(long n) {
    uint64_t total = (uint64_t)n * CHUNK_BYTES;
    write_full(to_child[1], &total, sizeof total);
    for (long i = 0; i < n; i++)
        write_full(to_child[1], chunk, sizeof chunk);
    char ack;
    if (!read_full(from_child[0], &ack, 1))
        bench_fail("the sink child went away");
    return (double)total;
}

static const struct bench table[] = {
    {"pipe_latency", "ns", BENCH_TIME, 0, start_echo, pipe_latency, stop_child},
    {"pipe_bandwidth", "MB/s", BENCH_RATE, NS_PER_MB_PER_S, start_sink, pipe_bandwidth,
     stop_child},
};

int main(int argc, char **argv) {
    return bench_main(argc, argv, table, BENCH_COUNT(table));
}
