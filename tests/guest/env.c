/*
 * env: the run environment every program starts in, on both OSes
 * (crates/abi/src/runner.rs and issue #2): exactly the fixed environment, cwd "/",
 * root credentials, argv passed through intact, stdin/stdout/stderr on the console
 * as controlling tty, the /dev nodes of the initramfs behaving as Linux's do, a
 * writable sticky /tmp, and /proc.
 *
 * The expected arguments come from env.args (one per line), which the xtask both
 * passes on the command line and compiles in as K42_TEST_ARGS; the expected
 * environment is k42_abi::runner::ENVIRONMENT, compiled in as K42_ENVIRONMENT.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "k42test.h"

#ifndef K42_TEST_ARGS
#error "env.args must exist: the xtask turns it into K42_TEST_ARGS"
#endif

extern char **environ;

static const char *const expected_args[] = K42_TEST_ARGS;
static const char *const expected_env[] = K42_ENVIRONMENT;
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The device nodes the initramfs provides, with Linux's numbers. */
static const struct {
    const char *path;
    unsigned major, minor;
} devices[] = {
    {"/dev/console", 5, 1}, {"/dev/tty", 5, 0},    {"/dev/null", 1, 3},    {"/dev/zero", 1, 5},
    {"/dev/full", 1, 7},    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9},
};

#define PROBE_BYTES 64
#define STICKY_WORLD_WRITABLE (S_ISVTX | S_IRWXU | S_IRWXG | S_IRWXO)

static void check_environment(void) {
    size_t count = 0;
    while (environ[count])
        count++;
    if (count != COUNT(expected_env)) {
        char all[K42_REASON_MAX / 2] = "";
        for (size_t j = 0; j < count; j++)
            snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", j ? " " : "", environ[j]);
        FAIL("environment", "%zu variables, expected %zu: %s", count, COUNT(expected_env), all);
        return;
    }
    for (size_t i = 0; i < COUNT(expected_env); i++) {
        int found = 0;
        for (size_t j = 0; j < count; j++)
            found |= strcmp(environ[j], expected_env[i]) == 0;
        if (!found) {
            FAIL("environment", "%s missing", expected_env[i]);
            return;
        }
    }
    PASS("environment");
}

static void check_argv(int argc, char **argv) {
    if ((size_t)argc != COUNT(expected_args) + 1) {
        FAIL("argv", "argc %d, expected %zu", argc, COUNT(expected_args) + 1);
        return;
    }
    for (size_t i = 0; i < COUNT(expected_args); i++) {
        if (strcmp(argv[i + 1], expected_args[i]) != 0) {
            FAIL("argv", "argv[%zu] is [%s], expected [%s]", i + 1, argv[i + 1], expected_args[i]);
            return;
        }
    }
    PASS("argv");
}

static void check_stdio(void) {
    CHECK("stdio_are_ttys", isatty(0) && isatty(1) && isatty(2), "isatty: %d %d %d", isatty(0),
          isatty(1), isatty(2));
    struct stat st[3];
    int ok = fstat(0, &st[0]) == 0 && fstat(1, &st[1]) == 0 && fstat(2, &st[2]) == 0;
    CHECK("stdio_same_tty",
          ok && S_ISCHR(st[0].st_mode) && st[0].st_rdev == st[1].st_rdev &&
              st[1].st_rdev == st[2].st_rdev,
          "fstat ok=%d, rdev %#lx %#lx %#lx", ok, (unsigned long)st[0].st_rdev,
          (unsigned long)st[1].st_rdev, (unsigned long)st[2].st_rdev);

    /* /dev/tty opens only for a process with a controlling terminal. */
    int tty = open("/dev/tty", O_RDWR);
    CHECK("dev_tty_opens", tty >= 0 && isatty(tty), "open(/dev/tty): %s", strerror(errno));
    if (tty >= 0) {
        pid_t fg = tcgetpgrp(tty);
        CHECK("foreground_process_group", fg == getpgrp(), "tcgetpgrp %d, getpgrp %d", (int)fg,
              (int)getpgrp());
        close(tty);
    }
}

static void check_devices(void) {
    for (size_t i = 0; i < COUNT(devices); i++) {
        struct stat st;
        char name[64];
        snprintf(name, sizeof name, "dev_node%s", strrchr(devices[i].path, '/'));
        for (char *p = name; *p; p++)
            if (*p == '/')
                *p = '_';
        int ok = stat(devices[i].path, &st) == 0;
        CHECK(name,
              ok && S_ISCHR(st.st_mode) && major(st.st_rdev) == devices[i].major &&
                  minor(st.st_rdev) == devices[i].minor,
              "%s: stat ok=%d, mode %o, rdev %u:%u, expected char %u:%u", devices[i].path, ok,
              ok ? (unsigned)st.st_mode : 0u, ok ? major(st.st_rdev) : 0u,
              ok ? minor(st.st_rdev) : 0u, devices[i].major, devices[i].minor);
    }

    char buf[PROBE_BYTES];
    int fd = open("/dev/null", O_RDWR);
    CHECK("dev_null_reads_eof", fd >= 0 && read(fd, buf, sizeof buf) == 0, "open/read: %s",
          strerror(errno));
    CHECK("dev_null_swallows_writes", fd >= 0 && write(fd, "abc", 3) == 3, "write: %s",
          strerror(errno));
    close(fd);

    fd = open("/dev/zero", O_RDONLY);
    memset(buf, 0x5a, sizeof buf);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    int zeros = n == (ssize_t)sizeof buf;
    for (size_t i = 0; zeros && i < sizeof buf; i++)
        zeros = buf[i] == 0;
    CHECK("dev_zero_reads_zeros", zeros, "read returned %zd (%s)", n, strerror(errno));
    close(fd);

    fd = open("/dev/full", O_WRONLY);
    CHECK_ERR("dev_full_write_enospc", fd >= 0 ? write(fd, "x", 1) : -2, ENOSPC);
    close(fd);

    fd = open("/dev/urandom", O_RDONLY);
    memset(buf, 0, sizeof buf);
    n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    int nonzero = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        nonzero |= buf[i];
    /* 64 zero bytes from a working generator: probability 2^-512. */
    CHECK("dev_urandom_gives_bytes", n == (ssize_t)sizeof buf && nonzero,
          "read returned %zd (%s), nonzero=%d", n, strerror(errno), nonzero);
    close(fd);
}

static void check_tmp(void) {
    struct stat st;
    int ok = stat("/tmp", &st) == 0;
    CHECK("tmp_sticky_world_writable",
          ok && S_ISDIR(st.st_mode) && (st.st_mode & STICKY_WORLD_WRITABLE) == STICKY_WORLD_WRITABLE,
          "stat ok=%d mode %o", ok, ok ? (unsigned)st.st_mode : 0u);

    char path[64];
    snprintf(path, sizeof path, "/tmp/env-%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    char back[8] = "";
    int written = fd >= 0 && write(fd, "k42", 3) == 3;
    int reread = written && pread(fd, back, sizeof back, 0) == 3 && memcmp(back, "k42", 3) == 0;
    CHECK("tmp_writable", reread, "create/write/read %s: fd %d, %s", path, fd, strerror(errno));
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
}

static void check_proc(void) {
    char link[32] = "", expected[32];
    ssize_t n = readlink("/proc/self", link, sizeof link - 1);
    if (n >= 0)
        link[n] = '\0';
    snprintf(expected, sizeof expected, "%d", (int)getpid());
    CHECK("proc_self", n > 0 && strcmp(link, expected) == 0, "readlink(/proc/self) = [%s] (%s), pid %s",
          link, n < 0 ? strerror(errno) : "ok", expected);
}

int main(int argc, char **argv) {
    check_environment();
    check_argv(argc, argv);

    char cwd[PATH_MAX] = "";
    CHECK("cwd_is_root", getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0, "getcwd: [%s] %s", cwd,
          strerror(errno));
    CHECK("root_credentials", getuid() == 0 && geteuid() == 0 && getgid() == 0 && getegid() == 0,
          "uid %d euid %d gid %d egid %d", (int)getuid(), (int)geteuid(), (int)getgid(),
          (int)getegid());

    check_stdio();
    check_devices();
    check_tmp();
    check_proc();
    return k42_done();
}
