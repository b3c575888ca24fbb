/*
 * dyntest.h: what the guest tests of dynamic linking (dynamic.dyn.c with glibc,
 * dynamic.musl-dyn.c with musl) share: the checks of the auxiliary vector a dynamic
 * program starts with, and the making of copies of the test program whose PT_INTERP
 * names another interpreter, each executed in a child that reports execve's errno as
 * its exit status (so an execve that wrongly succeeded cannot take over the test).
 */
#ifndef DYNTEST_H
#define DYNTEST_H

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* argv[1] that makes the test program a child that only checks its start and exits. */
#define DYN_CHILD_FLAG "--dyn-child"
/* The child's status when its start was right. */
#define DYN_CHILD_OK 42
/* Its status when execve returned (the errno is added), far from any errno. */
#define DYN_EXEC_FAILED_BASE 100
/* Executable and data permissions of the files the tests write. */
#define DYN_EXEC_MODE 0755
#define DYN_DATA_MODE 0644
/* Most bytes of a file these tests read whole (the test program, a dynamic linker). */
#define DYN_FILE_MAX (4 << 20)

extern char **environ;
extern void _start(void);

/* Whether this process started as a dynamic program should: the dynamic linker's base
 * in AT_BASE (page aligned, not 0), the program's own entry in AT_ENTRY. */
static inline int dyn_start_is_right(void) {
    unsigned long base = getauxval(AT_BASE);
    return base != 0 && base % 4096 == 0 && getauxval(AT_ENTRY) == (unsigned long)&_start;
}

/* The program's load bias and its PT_INTERP path, from AT_PHDR (NULL if none). */
static inline const char *dyn_own_interp(uintptr_t *bias_out) {
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long n = getauxval(AT_PHNUM);
    uintptr_t bias = 0;
    const Elf64_Phdr *interp = NULL;
    for (unsigned long i = 0; ph && i < n; i++) {
        if (ph[i].p_type == PT_PHDR)
            bias = (uintptr_t)ph - ph[i].p_vaddr;
        if (ph[i].p_type == PT_INTERP)
            interp = &ph[i];
    }
    if (bias_out)
        *bias_out = bias;
    return interp ? (const char *)(bias + interp->p_vaddr) : NULL;
}

/* Reads the file at `path` whole into a new buffer; its length in *len. NULL on failure. */
static inline unsigned char *dyn_read_file(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    unsigned char *buf = malloc(DYN_FILE_MAX);
    size_t total = 0;
    ssize_t n;
    while (buf && total < DYN_FILE_MAX && (n = read(fd, buf + total, DYN_FILE_MAX - total)) > 0)
        total += (size_t)n;
    close(fd);
    *len = total;
    return buf;
}

/* Writes `len` bytes to a new file at `path` with `mode`; 0 on success. */
static inline int dyn_write_file(const char *path, const void *bytes, size_t len, mode_t mode) {
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, bytes, len);
    close(fd);
    /* The mode as asked, whatever the umask. */
    return n == (ssize_t)len && chmod(path, mode) == 0 ? 0 : -1;
}

/* Writes a copy of the program file `self` at `path` whose PT_INTERP names `interp`
 * (which must fit in the original's bytes); 0 on success. */
static inline int dyn_write_with_interp(const char *self, const char *path, const char *interp) {
    size_t len;
    unsigned char *bytes = dyn_read_file(self, &len);
    if (!bytes || len < sizeof(Elf64_Ehdr))
        return free(bytes), -1;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)bytes;
    int done = -1;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        size_t at = eh->e_phoff + (size_t)i * sizeof(Elf64_Phdr);
        if (at + sizeof(Elf64_Phdr) > len)
            break;
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(bytes + at);
        if (ph->p_type != PT_INTERP || strlen(interp) + 1 > ph->p_filesz ||
            ph->p_offset + ph->p_filesz > len)
            continue;
        memset(bytes + ph->p_offset, 0, ph->p_filesz);
        memcpy(bytes + ph->p_offset, interp, strlen(interp));
        done = dyn_write_file(path, bytes, len, DYN_EXEC_MODE);
    }
    free(bytes);
    return done;
}

/* Forks a child that executes `path` as a test child (argv[1] DYN_CHILD_FLAG); returns its
 * wait status, or -1 if it could not be started. */
static inline int dyn_run_child(const char *path) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *argv[] = {(char *)path, DYN_CHILD_FLAG, NULL};
        execve(path, argv, environ);
        _exit(DYN_EXEC_FAILED_BASE + errno);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

/* A wait status as text, for a failure's reason. */
static inline const char *dyn_status_text(int status, char *buf, size_t len) {
    if (status == -1)
        snprintf(buf, len, "no child");
    else if (WIFEXITED(status) && WEXITSTATUS(status) >= DYN_EXEC_FAILED_BASE)
        snprintf(buf, len, "execve failed with errno %d (%s)",
                 WEXITSTATUS(status) - DYN_EXEC_FAILED_BASE,
                 strerror(WEXITSTATUS(status) - DYN_EXEC_FAILED_BASE));
    else if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, len, "wait status %#x", status);
    return buf;
}

/* One case: the program `self`, its PT_INTERP changed to `interp`, run in a child, must
 * fail execve with `err`. */
static inline void dyn_check_interp_errno(const char *name, const char *self, const char *interp,
                                          int err) {
    char copy[64], text[128];
    snprintf(copy, sizeof copy, "/tmp/dyn-prog-%d", err);
    if (dyn_write_with_interp(self, copy, interp) != 0) {
        k42_fail(name, "cannot write %s naming %s: %s", copy, interp, strerror(errno));
        return;
    }
    int status = dyn_run_child(copy);
    if (WIFEXITED(status) && WEXITSTATUS(status) == DYN_EXEC_FAILED_BASE + err)
        k42_pass(name);
    else
        k42_fail(name, "with interpreter %s: %s, expected execve to fail with %s", interp,
                 dyn_status_text(status, text, sizeof text), strerror(err));
    unlink(copy);
}

/* Whether the program got exactly the arguments `expected` (`n` of them) after its name. */
static inline int dyn_args_right(int argc, char **argv, const char *const *expected, int n) {
    if (argc - 1 != n)
        return 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], expected[i - 1]) != 0)
            return 0;
    return 1;
}

#endif
