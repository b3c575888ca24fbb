/*
 * signal: lmbench's lat_sig catch: a process sends itself SIGUSR1 with kill() and
 * a handler runs before kill returns; the figure is one send, delivery and return
 * from the handler. The handler count is checked against the sends.
 *
 * Harness: bench.h.
 */
#include <signal.h>
#include <unistd.h>

#include "bench.h"

static volatile sig_atomic_t caught;

static void on_signal(int sig) {
    (void)sig;
    caught++;
}

static void install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        bench_fail("sigaction: %s", strerror(errno));
}

static double signal_roundtrip(long n) {
    pid_t self = getpid();
    caught = 0;
    for (long i = 0; i < n; i++)
        if (kill(self, SIGUSR1) != 0)
            bench_fail("kill: %s", strerror(errno));
    if (caught != n)
        bench_fail("%ld signals sent, %ld caught", n, (long)caught);
    return (double)n;
}

static const struct bench table[] = {
    {"signal_roundtrip", "ns", BENCH_TIME, 0, install, signal_roundtrip, NULL},
};

int main(int argc, char **argv) {
    return bench_main(argc, argv, table, BENCH_COUNT(table));
}
