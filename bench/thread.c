/*
 * thread: creating a POSIX thread that returns at once, and joining it (musl's
 * pthreads, static). The figure is one create+join; each thread's return value is
 * checked.
 *
 * Harness: bench.h.
 */
#include <pthread.h>

#include "bench.h"

/* What every thread returns, so the join can check it ran. */
static int ran_marker;

static void *body(void *arg) {
    return arg;
}

static double thread_create_join(long n) {
    for (long i = 0; i < n; i++) {
        pthread_t t;
        void *ret = NULL;
        int err = pthread_create(&t, NULL, body, &ran_marker);
        if (err != 0)
            bench_fail("pthread_create: %s", strerror(err));
        err = pthread_join(t, &ret);
        if (err != 0 || ret != &ran_marker)
            bench_fail("pthread_join: %s", err ? strerror(err) : "wrong return value");
    }
    return (double)n;
}

static const struct bench table[] = {
    {"thread_create_join", "ns", BENCH_TIME, 0, NULL, thread_create_join, NULL},
};

int main(int argc, char **argv) {
    return bench_main(argc, argv, table, BENCH_COUNT(table));
}
