/*
 * exec: execve(2) and execveat(2) without fork (issue #5). The program replaces itself
 * several times, each image a "stage" named by argv[1], and every stage checks what the
 * previous one set up:
 *
 *   stage 0 (as started): the failures — ENOENT, ENOTDIR, EACCES (no execute bit, a
 *     directory), ENOEXEC (garbage marked executable), EFAULT (argv, a string in envp),
 *     E2BIG (one string of MAX_ARG_STRLEN bytes), ELOOP (execveat with
 *     AT_SYMLINK_NOFOLLOW), EINVAL (unknown execveat flag) — each followed by the process
 *     carrying on; then an fd kept and one close-on-exec, a caught and an ignored signal
 *     and a blocked one, and execve("/proc/self/exe") with a chosen argv and envp;
 *   stage 1: argv, envp, AT_EXECFN, /proc/self/exe, the pid, the fds, the signals; then
 *     execve(argv[0]) — its own path;
 *   stage 2: argv and envp again; then a "#!" script whose interpreter is this program;
 *   stage 3 (as the interpreter): the argv Linux builds for a script; too deep a chain of
 *     scripts (ELOOP), then the deepest chain Linux allows;
 *   stage 4: the argv of that chain; cleans up and ends with the verdict.
 *
 * Every stage prints its own result lines on the same console; the failure count travels
 * to the next image in the environment (K42_EXEC_FAILS), and the last stage's exit status
 * says whether any case failed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "k42test.h"

extern char **environ;

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* Linux's MAX_ARG_STRLEN (include/uapi/linux/binfmts.h): 32 pages, with the NUL. */
#define MAX_ARG_STRLEN (32 * 4096)
/* Scripts one execve may go through before the binary (Linux's exec_binprm loop). */
#define MAX_SCRIPT_DEPTH 5
/* The descriptors stage 0 leaves open for stage 1: one kept, one close-on-exec. */
#define KEPT_FD 10
#define CLOEXEC_FD 11
#define FAILS_VAR "K42_EXEC_FAILS="
#define SCRIPT "/tmp/exec-script"
#define CHAIN "/tmp/exec-chain-"
#define NOEXEC_FILE "/tmp/exec-noexec"
#define GARBAGE_FILE "/tmp/exec-garbage"
#define LINK_FILE "/tmp/exec-link"
#define KEPT_FILE "/tmp/exec-kept"

static char self[PATH_MAX];

/* The failures of earlier stages, from the environment. */
static int inherited_failures(void) {
    const char *v = getenv("K42_EXEC_FAILS");
    return v ? atoi(v) : 0;
}

/* The environment every exec'd stage gets: the failure count so far, an empty value and
 * one with spaces. */
static char fails_entry[64];
static char *const *next_env(void) {
    static char *env[4];
    snprintf(fails_entry, sizeof fails_entry, "%s%d", FAILS_VAR,
             inherited_failures() + k42_failures);
    env[0] = fails_entry;
    env[1] = "K42_EXEC_EMPTY=";
    env[2] = "K42_EXEC_SPACES=a b  c";
    env[3] = NULL;
    return env;
}

/* Ends the run: the verdict over every stage. */
static int finish(void) {
    return inherited_failures() + k42_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

static void check_args(const char *name, int argc, char **argv, const char *const *want,
                       size_t n) {
    if ((size_t)argc != n) {
        FAIL(name, "argc %d, expected %zu (argv[1] %s)", argc, n, argc > 1 ? argv[1] : "-");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[i], want[i]) != 0) {
            FAIL(name, "argv[%zu] is [%s], expected [%s]", i, argv[i], want[i]);
            return;
        }
    }
    CHECK(name, argv[n] == NULL, "argv[%zu] is not NULL", n);
}

/* The environment is exactly what next_env gave (the count itself aside). */
static void check_env(const char *name) {
    size_t n = 0;
    while (environ[n])
        n++;
    int ok = n == 3 && strncmp(environ[0], FAILS_VAR, strlen(FAILS_VAR)) == 0 &&
             strcmp(environ[1], "K42_EXEC_EMPTY=") == 0 &&
             strcmp(environ[2], "K42_EXEC_SPACES=a b  c") == 0;
    CHECK(name, ok, "%zu variables: [%s] [%s] [%s]", n, n > 0 ? environ[0] : "",
          n > 1 ? environ[1] : "", n > 2 ? environ[2] : "");
}

static void check_execfn(const char *name, const char *want) {
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    CHECK(name, execfn && strcmp(execfn, want) == 0, "AT_EXECFN [%s], expected [%s]",
          execfn ? execfn : "(null)", want);
}

static void check_proc_exe(const char *name) {
    char link[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
    if (n >= 0)
        link[n] = '\0';
    CHECK(name, n > 0 && strcmp(link, self) == 0, "readlink(/proc/self/exe) [%s] (%s), expected [%s]",
          link, n < 0 ? strerror(errno) : "ok", self);
}

static int write_file(const char *path, const char *text, size_t len, mode_t mode) {
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    return ok && chmod(path, mode) == 0 ? 0 : -1;
}

static void do_exec(const char *name, const char *path, char *const argv[]) {
    execve(path, argv, next_env());
    FAIL(name, "execve(%s): %s", path, strerror(errno));
}

static void handler(int sig) {
    (void)sig;
}

static void stage0(char **argv) {
    char *const env[] = {"A=1", NULL};
    char *const args[] = {argv[0], "never", NULL};

    CHECK_ERR("enoent", execve("/no/such/program", args, env), ENOENT);
    char notdir[PATH_MAX + 8];
    snprintf(notdir, sizeof notdir, "%s/x", self);
    CHECK_ERR("enotdir", execve(notdir, args, env), ENOTDIR);
    CHECK_ERR("eacces_directory", execve("/tmp", args, env), EACCES);

    static const char script_text[] = "#!/bin/sh\nexit 0\n";
    if (write_file(NOEXEC_FILE, script_text, strlen(script_text), 0644) == 0)
        CHECK_ERR("eacces_not_executable", execve(NOEXEC_FILE, args, env), EACCES);
    else
        FAIL("eacces_not_executable", "cannot write %s: %s", NOEXEC_FILE, strerror(errno));

    static const char garbage[] = "\x01\x02\x03 this is no program\n";
    if (write_file(GARBAGE_FILE, garbage, sizeof garbage - 1, 0755) == 0)
        CHECK_ERR("enoexec", execve(GARBAGE_FILE, args, env), ENOEXEC);
    else
        FAIL("enoexec", "cannot write %s: %s", GARBAGE_FILE, strerror(errno));

    /* Through syscall(): the compiler rightly refuses to pass execve a bad array. */
    CHECK_ERR("efault_argv", syscall(SYS_execve, self, (char *const *)8, env), EFAULT);
    char *const bad_env[] = {"A=1", (char *)8, NULL};
    CHECK_ERR("efault_envp_string", execve(self, args, bad_env), EFAULT);

    char *big = malloc(MAX_ARG_STRLEN + 1);
    if (big) {
        memset(big, 'x', MAX_ARG_STRLEN);
        big[MAX_ARG_STRLEN] = '\0';
        char *const big_args[] = {argv[0], big, NULL};
        CHECK_ERR("e2big_one_string", execve(self, big_args, env), E2BIG);
        free(big);
    }

    unlink(LINK_FILE);
    if (symlink(self, LINK_FILE) == 0) {
        CHECK_ERR("eloop_nofollow",
                  syscall(SYS_execveat, AT_FDCWD, LINK_FILE, args, env, AT_SYMLINK_NOFOLLOW),
                  ELOOP);
        unlink(LINK_FILE);
    } else {
        FAIL("eloop_nofollow", "symlink: %s", strerror(errno));
    }
    CHECK_ERR("einval_flags", syscall(SYS_execveat, AT_FDCWD, self, args, env, 0x1), EINVAL);
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    CHECK_ERR("eacces_empty_path_directory",
              syscall(SYS_execveat, dir, "", args, env, AT_EMPTY_PATH), EACCES);
    close(dir);
    PASS("continues_after_failures");

    /* What stage 1 checks. */
    int kept = open(KEPT_FILE, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int ok = kept >= 0 && dup2(kept, KEPT_FD) == KEPT_FD && dup2(kept, CLOEXEC_FD) == CLOEXEC_FD &&
             fcntl(CLOEXEC_FD, F_SETFD, FD_CLOEXEC) == 0 && write(KEPT_FD, "kept", 4) == 4;
    if (kept >= 0)
        close(kept);
    CHECK("fd_setup", ok, "open/dup2/fcntl: %s", strerror(errno));

    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    ok = sigaction(SIGUSR1, &sa, NULL) == 0;
    sa.sa_handler = SIG_IGN;
    ok = ok && sigaction(SIGUSR2, &sa, NULL) == 0;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    ok = ok && sigprocmask(SIG_BLOCK, &block, NULL) == 0;
    CHECK("signal_setup", ok, "sigaction/sigprocmask: %s", strerror(errno));

    char pid[32];
    snprintf(pid, sizeof pid, "pid=%d", (int)getpid());
    char *const next[] = {argv[0], "stage1", pid, "two words", "", NULL};
    do_exec("exec_proc_self_exe", "/proc/self/exe", next);
}

static void stage1(int argc, char **argv) {
    char pid[32];
    snprintf(pid, sizeof pid, "pid=%d", (int)getpid());
    const char *const want[] = {self, "stage1", pid, "two words", ""};
    PASS("exec_proc_self_exe");
    check_args("proc_self_exe_argv", argc, argv, want, COUNT(want));
    check_env("proc_self_exe_envp");
    check_execfn("proc_self_exe_execfn", "/proc/self/exe");
    check_proc_exe("proc_self_exe_link");

    errno = 0;
    int flags = fcntl(KEPT_FD, F_GETFD);
    char back[8] = "";
    CHECK("fd_kept", flags == 0 && pread(KEPT_FD, back, 4, 0) == 4 && memcmp(back, "kept", 4) == 0,
          "F_GETFD %d (%s), read [%s]", flags, strerror(errno), back);
    CHECK_ERR("fd_cloexec_closed", fcntl(CLOEXEC_FD, F_GETFD), EBADF);
    close(KEPT_FD);
    unlink(KEPT_FILE);

    struct sigaction sa;
    int ok = sigaction(SIGUSR1, NULL, &sa) == 0;
    CHECK("signal_caught_reset", ok && sa.sa_handler == SIG_DFL, "SIGUSR1 handler %p",
          ok ? (void *)sa.sa_handler : NULL);
    ok = sigaction(SIGUSR2, NULL, &sa) == 0;
    CHECK("signal_ignored_kept", ok && sa.sa_handler == SIG_IGN, "SIGUSR2 handler %p",
          ok ? (void *)sa.sa_handler : NULL);
    sigset_t mask;
    ok = sigprocmask(SIG_BLOCK, NULL, &mask) == 0;
    CHECK("signal_mask_kept", ok && sigismember(&mask, SIGTERM) == 1, "SIGTERM blocked: %d",
          ok ? sigismember(&mask, SIGTERM) : -1);

    char *const next[] = {self, "stage2", NULL};
    do_exec("exec_own_path", argv[0], next);
}

static void stage2(int argc, char **argv) {
    const char *const want[] = {self, "stage2"};
    PASS("exec_own_path");
    check_args("own_path_argv", argc, argv, want, COUNT(want));
    check_env("own_path_envp");
    check_execfn("own_path_execfn", self);

    char text[PATH_MAX + 32];
    int len = snprintf(text, sizeof text, "#!%s stage3\n", self);
    if (write_file(SCRIPT, text, (size_t)len, 0755) != 0) {
        FAIL("exec_script", "cannot write %s: %s", SCRIPT, strerror(errno));
        return;
    }
    char *const next[] = {"script-argv0", "x", "two words", NULL};
    do_exec("exec_script", SCRIPT, next);
}

/* The chain's file i (1-based): each runs the next; the last one runs this program. */
static void chain_name(char *buf, size_t len, int i) {
    snprintf(buf, len, "%s%d", CHAIN, i);
}

static void stage3(int argc, char **argv) {
    const char *const want[] = {self, "stage3", SCRIPT, "x", "two words"};
    PASS("exec_script");
    check_args("script_argv", argc, argv, want, COUNT(want));
    check_env("script_envp");
    check_execfn("script_execfn", SCRIPT);
    check_proc_exe("script_proc_exe_is_interpreter");
    unlink(SCRIPT);

    /* Files 1 .. MAX_SCRIPT_DEPTH + 1: file i runs file i + 1, the last runs stage 4. */
    int ok = 1;
    for (int i = 1; i <= MAX_SCRIPT_DEPTH + 1; i++) {
        char name[64], next[64], text[PATH_MAX + 32];
        chain_name(name, sizeof name, i);
        chain_name(next, sizeof next, i + 1);
        int len = i == MAX_SCRIPT_DEPTH + 1 ? snprintf(text, sizeof text, "#!%s stage4\n", self)
                                            : snprintf(text, sizeof text, "#!%s\n", next);
        ok = ok && write_file(name, text, (size_t)len, 0755) == 0;
    }
    if (!ok) {
        FAIL("script_chain", "cannot write the chain: %s", strerror(errno));
        return;
    }
    char first[64], second[64];
    chain_name(first, sizeof first, 1);
    chain_name(second, sizeof second, 2);
    char *const too_deep[] = {first, NULL};
    CHECK_ERR("script_chain_too_deep_eloop", execve(first, too_deep, next_env()), ELOOP);
    char *const deepest[] = {second, "end", NULL};
    do_exec("script_chain_deepest", second, deepest);
}

static void stage4(int argc, char **argv) {
    /* Each interpreter got the previous one's name as its script: self, "stage4", then the
     * chain from its last file back to the first one run, then that one's argv[1..]. */
    char names[MAX_SCRIPT_DEPTH][64];
    const char *want[MAX_SCRIPT_DEPTH + 3];
    size_t n = 0;
    want[n++] = self;
    want[n++] = "stage4";
    for (int i = MAX_SCRIPT_DEPTH + 1; i >= 2; i--) {
        chain_name(names[i - 2], sizeof names[i - 2], i);
        want[n++] = names[i - 2];
    }
    want[n++] = "end";
    PASS("script_chain_deepest");
    check_args("script_chain_argv", argc, argv, want, n);
    check_env("script_chain_envp");
    for (int i = 1; i <= MAX_SCRIPT_DEPTH + 1; i++) {
        char name[64];
        chain_name(name, sizeof name, i);
        unlink(name);
    }
    unlink(NOEXEC_FILE);
    unlink(GARBAGE_FILE);
}

int main(int argc, char **argv) {
    /* This program's own file: argv[0] in every stage but the script ones, where the
     * interpreter's name (the same path) is argv[0] too. */
    snprintf(self, sizeof self, "%s", argv[0]);
    if (self[0] != '/') {
        FAIL("setup", "argv[0] [%s] is not an absolute path", self);
        return k42_done();
    }
    const char *stage = argc > 1 ? argv[1] : "";
    if (strcmp(stage, "stage1") == 0)
        stage1(argc, argv);
    else if (strcmp(stage, "stage2") == 0)
        stage2(argc, argv);
    else if (strcmp(stage, "stage3") == 0)
        stage3(argc, argv);
    else if (strcmp(stage, "stage4") == 0)
        stage4(argc, argv);
    else
        stage0(argv);
    /* Only the last stage, or one whose exec failed, gets here. */
    return finish();
}
