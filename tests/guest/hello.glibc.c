/*
 * hello (glibc): a program linked statically against glibc rather than musl.
 * glibc's static start-up does more than musl's (IRELATIVE relocations for its
 * string functions, TLS set-up, stdio buffering rules, atexit), so it is the
 * harder test of the ELF loading and process start an OS provides.
 *
 * Checks stdio's buffering modes and exit-time flushing, atexit order, exit
 * statuses through fork/wait, formatted output, thread-local storage and a thread.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "k42test.h"

#define EXIT_STATUS_FLUSHED 42
#define EXIT_STATUS_DISCARDED 3
#define PIPE_BUFFER 256

/* Runs `child` in a forked process whose stdout is a pipe; returns what it wrote
 * and its wait status. */
static ssize_t capture(void (*child)(void), char *out, size_t len, int *status) {
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[1]);
        child();
        _exit(EXIT_FAILURE); /* not reached: child() exits */
    }
    close(fds[1]);
    ssize_t total = 0, n;
    while (total < (ssize_t)len - 1 && (n = read(fds[0], out + total, len - 1 - total)) > 0)
        total += n;
    out[total] = '\0';
    close(fds[0]);
    waitpid(pid, status, 0);
    return total;
}

static void exit_flushes(void) {
    /* No newline: the text stays in stdout's buffer until exit() flushes it. */
    printf("buffered");
    exit(EXIT_STATUS_FLUSHED);
}

static void underscore_exit_discards(void) {
    printf("lost");
    _exit(EXIT_STATUS_DISCARDED);
}

static void write_a(void) { fputs("A", stdout); }
static void write_b(void) { fputs("B", stdout); }

static void atexit_in_reverse(void) {
    atexit(write_a);
    atexit(write_b);
    exit(EXIT_SUCCESS);
}

static __thread int tls_value = 1;

static void *thread_main(void *arg) {
    tls_value = 2;
    *(int *)arg = tls_value;
    return NULL;
}

int main(void) {
    /* This very line goes through glibc's stdout to the console. */
    PASS("printf_reaches_console");

    char buf[PIPE_BUFFER];
    int status = 0;
    ssize_t n = capture(exit_flushes, buf, sizeof buf, &status);
    CHECK("exit_flushes_stdio",
          n == 8 && strcmp(buf, "buffered") == 0 && WIFEXITED(status) &&
              WEXITSTATUS(status) == EXIT_STATUS_FLUSHED,
          "read %zd [%s], status %#x", n, buf, status);

    n = capture(underscore_exit_discards, buf, sizeof buf, &status);
    CHECK("underscore_exit_discards_buffer",
          n == 0 && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_STATUS_DISCARDED,
          "read %zd [%s], status %#x", n, buf, status);

    n = capture(atexit_in_reverse, buf, sizeof buf, &status);
    CHECK("atexit_runs_in_reverse", n == 2 && strcmp(buf, "BA") == 0 && WIFEXITED(status),
          "read %zd [%s], status %#x", n, buf, status);

    /* Full buffering holds data until fflush. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/hello-%d", (int)getpid());
    FILE *f = fopen(path, "w");
    struct stat before = {0}, after = {0};
    if (f) {
        setvbuf(f, NULL, _IOFBF, BUFSIZ);
        fputs("abc", f);
        stat(path, &before);
        fflush(f);
        stat(path, &after);
        fclose(f);
        unlink(path);
    }
    CHECK("full_buffering_waits_for_fflush", f && before.st_size == 0 && after.st_size == 3,
          "fopen %s, size before fflush %lld, after %lld", f ? "ok" : strerror(errno),
          (long long)before.st_size, (long long)after.st_size);

    snprintf(buf, sizeof buf, "%5.2f|%x|%s|%-3d|%e", 3.14159, 255, "ok", 7, 1e10);
    CHECK("printf_formats", strcmp(buf, " 3.14|ff|ok|7  |1.000000e+10") == 0, "got [%s]", buf);

    pthread_t thread;
    int seen = 0;
    int created = pthread_create(&thread, NULL, thread_main, &seen) == 0;
    if (created)
        pthread_join(thread, NULL);
    CHECK("thread_local_storage", created && seen == 2 && tls_value == 1,
          "pthread_create %d, thread saw %d, main sees %d", created, seen, tls_value);

    return k42_done();
}
