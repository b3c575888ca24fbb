/*
 * pipes_fork: pipes between processes — a reader blocked on an empty pipe woken by a writer
 * in a child, end of file when the child that held the last write end exits, a writer blocked
 * on a full pipe woken by a reader in a child, a parent/child ping-pong over two pipes, and a
 * child killed by SIGPIPE. The single-process cases are in pipes.c. Needs fork (issue #5);
 * passes on Linux.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* How long a child waits before it writes, so the parent is blocked in its read by then. */
#define DELAY_NS 50000000L
#define ROUNDS 100
/* More than a pipe holds, so the writer blocks until the reader takes some. */
#define FLOOD (3 * 65536 + 123)

static char buf[FLOOD];

static void nap(void) {
    struct timespec t = {0, DELAY_NS};
    nanosleep(&t, NULL);
}

/* The child's wait status, or -1. */
static int reap(pid_t pid) {
    int status;
    return waitpid(pid, &status, 0) == pid ? status : -1;
}

static void blocked_reader(void) {
    int fds[2];
    if (pipe(fds) != 0) {
        FAIL("blocked_reader", "pipe: %s", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        nap();
        _exit(write(fds[1], "ping", 4) == 4 ? 0 : 1);
    }
    close(fds[1]);
    char got[8] = {0};
    ssize_t r = read(fds[0], got, sizeof got);
    /* The child's exit closed the last write end. */
    ssize_t eof = read(fds[0], got + 4, sizeof got - 4);
    int status = reap(pid);
    CHECK("blocked_reader", r == 4 && memcmp(got, "ping", 4) == 0, "read %zd '%s'", r, got);
    CHECK("eof_at_child_exit", eof == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "read %zd, child status %#x", eof, status);
    close(fds[0]);
}

static void blocked_writer(void) {
    int fds[2];
    if (pipe(fds) != 0) {
        FAIL("blocked_writer", "pipe: %s", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[1]);
        nap();
        long total = 0;
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) > 0)
            total += n;
        _exit(total == FLOOD ? 0 : 1);
    }
    close(fds[0]);
    memset(buf, 'w', sizeof buf);
    ssize_t w = write(fds[1], buf, FLOOD);
    close(fds[1]);
    int status = reap(pid);
    CHECK("blocked_writer", w == FLOOD && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "wrote %zd, child status %#x", w, status);
}

static void ping_pong(void) {
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) {
        FAIL("ping_pong", "pipe: %s", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        unsigned char c;
        while (read(down[0], &c, 1) == 1) {
            c++;
            if (write(up[1], &c, 1) != 1)
                _exit(1);
        }
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    int rounds = 0;
    unsigned char c = 0;
    for (; rounds < ROUNDS; rounds++) {
        unsigned char sent = c;
        if (write(down[1], &c, 1) != 1 || read(up[0], &c, 1) != 1 || c != (unsigned char)(sent + 1))
            break;
    }
    close(down[1]);
    int status = reap(pid);
    close(up[0]);
    CHECK("ping_pong", rounds == ROUNDS && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "%d rounds, child status %#x", rounds, status);
}

static void sigpipe(void) {
    int fds[2];
    if (pipe(fds) != 0) {
        FAIL("sigpipe", "pipe: %s", strerror(errno));
        return;
    }
    close(fds[0]);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        write(fds[1], "x", 1);
        _exit(0);
    }
    close(fds[1]);
    int status = reap(pid);
    CHECK("sigpipe_kills", WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE, "child status %#x",
          status);
}

int main(void) {
    blocked_reader();
    blocked_writer();
    ping_pong();
    sigpipe();
    return k42_done();
}
