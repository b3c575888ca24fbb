/*
 * mmap: lmbench's lat_pagefault flavour for anonymous memory: mmap 1 MiB, write
 * one byte in every page (one page fault each), munmap. The figure is per whole
 * cycle, so it is dominated by the 256 faults (4 KiB pages) and the unmap.
 *
 * Harness: bench.h.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define REGION_BYTES (1024 * 1024)

static double mmap_touch_1m(long n) {
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        bench_fail("sysconf(_SC_PAGESIZE): %s", strerror(errno));
    for (long i = 0; i < n; i++) {
        volatile char *p = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            bench_fail("mmap: %s", strerror(errno));
        for (long at = 0; at < REGION_BYTES; at += page)
            p[at] = 1;
        if (munmap((void *)p, REGION_BYTES) != 0)
            bench_fail("munmap: %s", strerror(errno));
    }
    return (double)n;
}

static const struct bench table[] = {
    {"mmap_touch_1m", "ns", BENCH_TIME, 0, NULL, mmap_touch_1m, NULL},
};

int main(int argc, char **argv) {
    return bench_main(argc, argv, table, BENCH_COUNT(table));
}
