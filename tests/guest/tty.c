/*
 * tty: the console as a terminal — its settings (tcgetattr/tcsetattr), window size
 * (TIOCGWINSZ/TIOCSWINSZ), and reads that must not wait: O_NONBLOCK (EAGAIN), raw mode
 * with VMIN = 0 (what is there: nothing), and VTIME (a timed wait that ends empty). No
 * input is typed during the guest tests, so every read finds none, and poll and select on
 * input time out. On K42 the console
 * server's line discipline answers (user/bin/console, crates/tty); on Linux the kernel's
 * N_TTY. The settings are restored at the end: the console is shared with the driver.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* VTIME in tenths of a second, and the least a timed read may take (timer ticks are coarse). */
#define VTIME_TENTHS 2
#define VTIME_MIN_NS 100000000L
/* A poll's timeout, and the least it may take. */
#define POLL_TIMEOUT_MS 100
#define POLL_MIN_NS 50000000L

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

int main(void) {
    CHECK("isatty", isatty(STDIN_FILENO) == 1, "isatty(0) is 0: %s", strerror(errno));

    struct termios saved;
    if (tcgetattr(STDIN_FILENO, &saved) != 0) {
        FAIL("tcgetattr", "%s", strerror(errno));
        return k42_done();
    }
    PASS("tcgetattr");
    CHECK("canonical_echo", (saved.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG),
          "c_lflag %#x", saved.c_lflag);
    CHECK("onlcr", (saved.c_oflag & (OPOST | ONLCR)) == (OPOST | ONLCR), "c_oflag %#x",
          saved.c_oflag);
    CHECK("control_chars",
          saved.c_cc[VINTR] == 3 && saved.c_cc[VEOF] == 4 && saved.c_cc[VERASE] == 0x7f &&
              saved.c_cc[VMIN] == 1,
          "VINTR %d VEOF %d VERASE %d VMIN %d", saved.c_cc[VINTR], saved.c_cc[VEOF],
          saved.c_cc[VERASE], saved.c_cc[VMIN]);

    struct termios quiet = saved;
    quiet.c_lflag &= ~ECHO;
    struct termios back;
    CHECK("tcsetattr_round_trip",
          tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0 &&
              tcgetattr(STDIN_FILENO, &back) == 0 && !(back.c_lflag & ECHO) &&
              back.c_lflag == quiet.c_lflag && back.c_cc[VEOF] == quiet.c_cc[VEOF],
          "c_lflag %#x after setting %#x", back.c_lflag, quiet.c_lflag);

    struct winsize ws;
    CHECK("tiocgwinsz", ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0, "%s", strerror(errno));
    struct winsize want = {.ws_row = 24, .ws_col = 80};
    struct winsize got = {0};
    CHECK("tiocswinsz_round_trip",
          ioctl(STDIN_FILENO, TIOCSWINSZ, &want) == 0 &&
              ioctl(STDIN_FILENO, TIOCGWINSZ, &got) == 0 && got.ws_row == 24 &&
              got.ws_col == 80,
          "%dx%d (%s)", got.ws_row, got.ws_col, strerror(errno));
    ioctl(STDIN_FILENO, TIOCSWINSZ, &ws);

    char c;
    int flags = fcntl(STDIN_FILENO, F_GETFL);
    fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK);
    CHECK_ERR("nonblocking_read_eagain", read(STDIN_FILENO, &c, 1), EAGAIN);
    fcntl(STDIN_FILENO, F_SETFL, flags);

    struct termios raw = saved;
    raw.c_lflag &= ~(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    long n = read(STDIN_FILENO, &c, 1);
    CHECK("raw_vmin0_returns_nothing", n == 0, "read returned %ld (%s)", n, strerror(errno));

    raw.c_cc[VTIME] = VTIME_TENTHS;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    long start = now_ns();
    n = read(STDIN_FILENO, &c, 1);
    long took = now_ns() - start;
    CHECK("raw_vtime_times_out", n == 0 && took >= VTIME_MIN_NS,
          "read returned %ld after %ld ms", n, took / 1000000);

    CHECK("restore", tcsetattr(STDIN_FILENO, TCSANOW, &saved) == 0, "%s", strerror(errno));

    /* Readiness: with no line typed, poll and select time out on input; output is ready. */
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    start = now_ns();
    int ready = poll(&pfd, 1, POLL_TIMEOUT_MS);
    took = now_ns() - start;
    CHECK("poll_input_times_out", ready == 0 && pfd.revents == 0 && took >= POLL_MIN_NS,
          "poll returned %d, revents %#x, after %ld ms", ready, pfd.revents, took / 1000000);
    pfd.events = POLLIN | POLLOUT;
    ready = poll(&pfd, 1, POLL_TIMEOUT_MS);
    CHECK("poll_output_ready", ready == 1 && pfd.revents == POLLOUT, "poll returned %d, revents %#x",
          ready, pfd.revents);
    fd_set in;
    FD_ZERO(&in);
    FD_SET(STDIN_FILENO, &in);
    struct timeval tv = {.tv_sec = 0, .tv_usec = POLL_TIMEOUT_MS * 1000};
    ready = select(STDIN_FILENO + 1, &in, NULL, NULL, &tv);
    CHECK("select_input_times_out", ready == 0 && !FD_ISSET(STDIN_FILENO, &in), "select returned %d",
          ready);
    /* Raw mode with VMIN 0: input is ready only when a byte is there (Linux's n_tty_poll). */
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    pfd.events = POLLIN;
    ready = poll(&pfd, 1, 0);
    CHECK("poll_raw_input_not_ready", ready == 0, "poll returned %d, revents %#x", ready,
          pfd.revents);
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return k42_done();
}
