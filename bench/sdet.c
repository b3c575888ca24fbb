/*
 * sdet: an SDET-like throughput benchmark (the multi-user script mix K42's papers
 * measured against Linux). Each "user" is busybox sh running sdet/user.sh, a fixed
 * mix of ls, cat, grep, sort, wc, cp, rm, mkdir, sed, awk and a small compile-like
 * pipeline, over its own /tmp directory; the script checks its own results.
 *
 *     sdet REPS sdet_N=LOOPS ...
 *
 * runs N users at once, each doing LOOPS rounds of the mix, REPS times, and prints
 * scripts per hour (N x 3600 s / the batch's time) in bench.h's format, the
 * iteration count being LOOPS. The xtask picks N = vCPUs and 2 x vCPUs.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* Installed with the data files (xtask/src/bench/programs.rs). */
#define USER_SCRIPT K42_BENCH_DIR "/data/sdet/user.sh"
#define NAME_PREFIX "sdet_"
#define USERS_MAX 256
#define NS_PER_HOUR (3600.0 * NS_PER_SEC)
#define ARG_BYTES 32

struct mix {
    int users;
};

/* One batch: `users` scripts at once, each `loops` rounds; returns the scripts run. */
static double run_users(void *ctx, long loops) {
    const struct mix *m = ctx;
    pid_t pids[USERS_MAX];
    char loops_arg[ARG_BYTES];
    snprintf(loops_arg, sizeof loops_arg, "%ld", loops);
    for (int u = 0; u < m->users; u++) {
        char dir[ARG_BYTES];
        snprintf(dir, sizeof dir, "/tmp/sdet-%d", u);
        pids[u] = fork();
        if (pids[u] < 0)
            bench_fail("fork: %s", strerror(errno));
        if (pids[u] == 0) {
            execl(K42_INTERACTIVE_SHELL, "sh", USER_SCRIPT, dir, loops_arg, (char *)NULL);
            _exit(BENCH_EXIT_FAILED);
        }
    }
    for (int u = 0; u < m->users; u++) {
        int status;
        if (waitpid(pids[u], &status, 0) != pids[u] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            bench_fail("user script %d failed (status %#x)", u, status);
    }
    return (double)m->users;
}

int main(int argc, char **argv) {
    int reps = bench_reps(argc, argv);
    for (int a = 2; a < argc; a++) {
        char name[BENCH_NAME_MAX];
        long loops = bench_split(argv[a], name, sizeof name);
        struct mix m = {0};
        if (strncmp(name, NAME_PREFIX, strlen(NAME_PREFIX)) == 0)
            m.users = atoi(name + strlen(NAME_PREFIX));
        if (m.users < 1 || m.users > USERS_MAX) {
            fprintf(stderr, "sdet: bad name %s: expected %sUSERS, USERS 1..%d\n", name,
                    NAME_PREFIX, USERS_MAX);
            return BENCH_EXIT_USAGE;
        }
        /* No warm-up: the batch is long, and the first one is as real as any. */
        bench_measure(name, "scripts/hour", BENCH_RATE, NS_PER_HOUR, loops, reps, 0, run_users,
                      &m);
    }
    return 0;
}
