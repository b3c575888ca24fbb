/*
 * proc: process creation, lmbench's lat_proc: fork+exit (the child exits at once,
 * the parent waits) and fork+exec+exit (the child execs helpers/nop.c, a tiny
 * static program of ours that exits 0).
 *
 * Every child's exit status is checked. Harness: bench.h; K42_BENCH_DIR (from the
 * xtask) says where nop is installed.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define NOP_PATH K42_BENCH_DIR "/nop"
/* The status a child reports when exec failed (as a shell's "not found"). */
#define EXEC_FAILED_STATUS 127

static void reap(pid_t pid) {
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_fail("child %d did not exit 0 (status %#x)", (int)pid, status);
}

static double fork_exit(long n) {
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            bench_fail("fork: %s", strerror(errno));
        if (pid == 0)
            _exit(0);
        reap(pid);
    }
    return (double)n;
}

static double fork_exec_exit(long n) {
    static char *const argv[] = {NOP_PATH, NULL};
    static char *const envp[] = {NULL};
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            bench_fail("fork: %s", strerror(errno));
        if (pid == 0) {
            execve(NOP_PATH, argv, envp);
            _exit(EXEC_FAILED_STATUS);
        }
        reap(pid);
    }
    return (double)n;
}

static const struct bench table[] = {
    {"fork_exit", "ns", BENCH_TIME, 0, NULL, fork_exit, NULL},
    {"fork_exec_exit", "ns", BENCH_TIME, 0, NULL, fork_exec_exit, NULL},
};

int main(int argc, char **argv) {
    return bench_main(argc, argv, table, BENCH_COUNT(table));
}
