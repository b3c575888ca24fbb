/*
 * The init wrapper that runs the runner's PROGRAM on Debian's Linux kernel, so the
 * same initramfs gives the same run on Linux as on K42 (the K42 kernel does this
 * job itself).
 *
 * Linux starts it as pid 1 (`rdinit=/k42/init`). It sets up the run environment of
 * the contract in crates/abi/src/runner.rs (cwd "/", /proc, /tmp, the fixed
 * environment, stdin/stdout/stderr on the console as controlling tty), runs the
 * program named in the argv file as its child, reaps every process until that child
 * ends, and reports the child's status on the log port (COM2) before ending QEMU
 * through isa-debug-exit. The status travels on the log port because an
 * isa-debug-exit code has room for only 7 bits.
 *
 * Built static with musl-gcc by the xtask (xtask/src/rootfs.rs), which passes every
 * value shared with the runner as -D defines taken from k42_abi: nothing here
 * repeats a port, a path or a marker string.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#if !defined(K42_LOG_UART_PORT) || !defined(K42_DEBUG_EXIT_PORT) ||            \
    !defined(K42_DEBUG_EXIT_IOSIZE) || !defined(K42_DEBUG_EXIT_DONE) ||          \
    !defined(K42_INIT_START_MARKER) || !defined(K42_STATUS_LINE_PREFIX) ||     \
    !defined(K42_ARGV_PATH) || !defined(K42_ENVIRONMENT) ||                    \
    !defined(K42_STATUS_NOT_FOUND) || !defined(K42_INTERACTIVE_SHELL)
#error "build through the xtask: it passes the k42_abi values as -D defines"
#endif

/* 16550 UART registers (offsets from the base port) and bits. */
#define UART_THR 0        /* transmit holding register */
#define UART_LSR 5        /* line status register */
#define UART_LSR_THRE 0x20 /* transmit holding register empty */
#define UART_PORTS 8      /* the UART's register window, for ioperm */

/* The console device: Linux's /dev/console, a node in our initramfs. */
#define CONSOLE_PATH "/dev/console"
#define PROC_PATH "/proc"
#define TMP_PATH "/tmp"
#define TMP_MODE 01777 /* world-writable and sticky, as on every Linux */
#define ROOT_DIR "/"
/* Exit status for a program killed by a signal, as shells report it. */
#define SIGNAL_STATUS_BASE 128
/* The largest argv file we accept: far more than any command line needs. */
#define ARGV_MAX_BYTES (1 << 20)
#define ARGV_MAX_WORDS 4096
#define PATH_VAR "PATH="

static char *const environment[] = K42_ENVIRONMENT;
#define ENVIRONMENT_LEN (sizeof(environment) / sizeof(environment[0]))

/* Whether ioperm() granted the log port; without it we can only complain on the console. */
static int log_port_ok;

static void log_byte(unsigned char byte) {
    while (!(inb(K42_LOG_UART_PORT + UART_LSR) & UART_LSR_THRE))
        ;
    outb(byte, K42_LOG_UART_PORT + UART_THR);
}

/* Writes one line on the log port (COM2), where the runner looks for markers. */
static void log_line(const char *text) {
    if (!log_port_ok) {
        fprintf(stderr, "k42-init: (log port unavailable) %s\n", text);
        return;
    }
    for (const char *p = text; *p; p++)
        log_byte((unsigned char)*p);
    log_byte('\n');
}

/* Ends QEMU with "the run ended as planned"; the status line already said how. */
static void __attribute__((noreturn)) end_run(void) {
    if (ioperm(K42_DEBUG_EXIT_PORT, K42_DEBUG_EXIT_IOSIZE, 1) == 0)
        outl(K42_DEBUG_EXIT_DONE, K42_DEBUG_EXIT_PORT);
    /* No isa-debug-exit device (a run outside the runner): power off instead. */
    sync();
    reboot(RB_POWER_OFF);
    /* pid 1 must never return: Linux panics when init exits. */
    for (;;)
        pause();
}

/* Reads the NUL-separated words of the argv file; NULL when the file is absent. */
static char **read_argv(void) {
    int fd = open(K42_ARGV_PATH, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            fprintf(stderr, "k42-init: cannot open %s: %s\n", K42_ARGV_PATH, strerror(errno));
        return NULL;
    }
    static char data[ARGV_MAX_BYTES + 1];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, data + len, ARGV_MAX_BYTES - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == ARGV_MAX_BYTES) {
            fprintf(stderr, "k42-init: %s is over %d bytes; truncated\n", K42_ARGV_PATH,
                    ARGV_MAX_BYTES);
            break;
        }
    }
    close(fd);
    data[len] = '\0';

    static char *words[ARGV_MAX_WORDS + 1];
    size_t count = 0;
    for (size_t at = 0; at < len && count < ARGV_MAX_WORDS;) {
        words[count++] = data + at;
        at += strlen(data + at) + 1;
    }
    words[count] = NULL;
    return words;
}

/* The PATH value of the fixed environment (not init's own, which Linux sets). */
static const char *search_path(void) {
    for (size_t i = 0; i < ENVIRONMENT_LEN; i++)
        if (strncmp(environment[i], PATH_VAR, strlen(PATH_VAR)) == 0)
            return environment[i] + strlen(PATH_VAR);
    return "";
}

/* execve with a PATH search for a name without a slash, as execvp does, but with the
 * fixed environment. Returns only on failure, with errno set. */
static void exec_program(char **argv) {
    const char *name = argv[0];
    if (strchr(name, '/')) {
        execve(name, argv, environment);
        return;
    }
    int saved = ENOENT;
    const char *dirs = search_path();
    while (*dirs) {
        const char *end = strchrnul(dirs, ':');
        char candidate[PATH_MAX];
        int n = snprintf(candidate, sizeof candidate, "%.*s/%s", (int)(end - dirs), dirs, name);
        if (n > 0 && (size_t)n < sizeof candidate) {
            execve(candidate, argv, environment);
            /* Keep the most telling error, as execvp does: "exists but cannot run". */
            if (errno != ENOENT && errno != ENOTDIR)
                saved = errno;
        }
        dirs = *end ? end + 1 : end;
    }
    errno = saved;
}

/* Waits for every child (pid 1 inherits orphans) until `main_child` ends; its status. */
static int reap_until(pid_t main_child) {
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "k42-init: waitpid: %s\n", strerror(errno));
            return K42_STATUS_NOT_FOUND;
        }
        if (pid != main_child)
            continue;
        if (WIFEXITED(status))
            return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
            return SIGNAL_STATUS_BASE + WTERMSIG(status);
    }
}

/* The program, in a process group of its own made the console's foreground group
 * (SIGTTOU is blocked around tcsetpgrp, which a background group may not call). */
static void __attribute__((noreturn)) run_program(char **argv) {
    sigset_t ttou, old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    setpgid(0, 0);
    sigprocmask(SIG_BLOCK, &ttou, &old);
    tcsetpgrp(STDIN_FILENO, getpid());
    sigprocmask(SIG_SETMASK, &old, NULL);
    exec_program(argv);
    fprintf(stderr, "k42-init: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(K42_STATUS_NOT_FOUND);
}

/* The child: a session of its own with the console as controlling tty (so /dev/tty
 * works and the shell gets job control). It runs the program as its own child and
 * outlives it: when a session leader exits, Linux hangs its tty up and discards
 * output not yet sent, so the leader drains the console first and then exits with
 * the program's status. It drains with SIGTTOU blocked: it is not in the console's
 * foreground group (the program's, which stays the foreground after the program
 * ends), and its own group is orphaned (init is in another session), so Linux's
 * tty_check_change would fail tcdrain with EIO at once, draining nothing, unless
 * SIGTTOU is ignored or blocked. */
static void __attribute__((noreturn)) run_child(char **argv) {
    setsid();
    int fd = open(CONSOLE_PATH, O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "k42-init: cannot open %s: %s\n", CONSOLE_PATH, strerror(errno));
        _exit(K42_STATUS_NOT_FOUND);
    }
    if (ioctl(fd, TIOCSCTTY, 0) < 0)
        fprintf(stderr, "k42-init: cannot make %s the controlling tty: %s\n", CONSOLE_PATH,
                strerror(errno));
    for (int std = STDIN_FILENO; std <= STDERR_FILENO; std++)
        if (fd != std)
            dup2(fd, std);
    if (fd > STDERR_FILENO)
        close(fd);
    pid_t program = fork();
    if (program < 0) {
        fprintf(stderr, "k42-init: fork: %s\n", strerror(errno));
        _exit(K42_STATUS_NOT_FOUND);
    }
    if (program == 0)
        run_program(argv);
    int status = reap_until(program);
    sigset_t ttou;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, NULL);
    if (tcdrain(STDOUT_FILENO) < 0)
        fprintf(stderr, "k42-init: tcdrain: %s\n", strerror(errno));
    _exit(status);
}

int main(void) {
    log_port_ok = ioperm(K42_LOG_UART_PORT, UART_PORTS, 1) == 0;
    if (!log_port_ok)
        fprintf(stderr, "k42-init: ioperm(log port): %s\n", strerror(errno));

    if (mount("proc", PROC_PATH, "proc", 0, NULL) < 0)
        fprintf(stderr, "k42-init: cannot mount %s: %s\n", PROC_PATH, strerror(errno));
    if (mkdir(TMP_PATH, TMP_MODE) < 0 && errno != EEXIST)
        fprintf(stderr, "k42-init: cannot create %s: %s\n", TMP_PATH, strerror(errno));
    if (chdir(ROOT_DIR) < 0)
        fprintf(stderr, "k42-init: chdir(%s): %s\n", ROOT_DIR, strerror(errno));

    static char *shell[] = {K42_INTERACTIVE_SHELL, NULL};
    char **argv = read_argv();
    if (!argv)
        argv = shell;

    int status = K42_STATUS_NOT_FOUND;
    if (!argv[0]) {
        fprintf(stderr, "k42-init: %s holds no program name\n", K42_ARGV_PATH);
        log_line(K42_INIT_START_MARKER);
    } else {
        log_line(K42_INIT_START_MARKER);
        pid_t child = fork();
        if (child < 0)
            fprintf(stderr, "k42-init: fork: %s\n", strerror(errno));
        else if (child == 0)
            run_child(argv);
        else
            status = reap_until(child);
    }

    /* Everything the program wrote must reach the UART before QEMU ends. */
    int console = open(CONSOLE_PATH, O_RDWR | O_NOCTTY);
    if (console >= 0) {
        tcdrain(console);
        close(console);
    }

    char line[sizeof K42_STATUS_LINE_PREFIX + sizeof "4294967295"];
    snprintf(line, sizeof line, "%s%d", K42_STATUS_LINE_PREFIX, status);
    log_line(line);
    end_run();
}
