/*
 * dynamic (musl, dynamically linked): a program that musl's dynamic linker,
 * /lib/ld-musl-x86_64.so.1 (musl's libc.so itself), loads and starts.
 *
 * Checks argv, the auxiliary vector (AT_BASE is the linker's load address, where
 * its ELF header lies; AT_ENTRY the program's entry), errno and thread-local
 * storage, a thread, fork and execve of a dynamic program, and a missing
 * interpreter (ENOENT).
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "k42test.h"
#include "dyntest.h"

#ifndef K42_TEST_ARGS
#error "dynamic.musl-dyn.args must exist: the xtask turns it into K42_TEST_ARGS"
#endif

static const char *const expected_args[] = K42_TEST_ARGS;
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* What the TLS counter starts at (the program's PT_TLS image). */
#define TLS_INITIAL 5

static __thread int tls_counter = TLS_INITIAL;

static void *thread_main(void *arg) {
    (void)arg;
    tls_counter++;
    errno = 0;
    close(-1);
    return (void *)(long)(tls_counter * 1000 + errno);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], DYN_CHILD_FLAG) == 0)
        return dyn_start_is_right() ? DYN_CHILD_OK : EXIT_FAILURE;

    CHECK("argv", dyn_args_right(argc, argv, expected_args, (int)COUNT(expected_args)),
          "%d arguments, expected %zu", argc - 1, COUNT(expected_args));

    const unsigned char *base = (const unsigned char *)getauxval(AT_BASE);
    CHECK("at_base", base != NULL && memcmp(base, ELFMAG, SELFMAG) == 0,
          "AT_BASE is %p, which does not hold the linker's ELF header", (void *)base);
    CHECK("at_entry", getauxval(AT_ENTRY) == (unsigned long)&_start,
          "AT_ENTRY is %#lx, _start is %p", getauxval(AT_ENTRY), (void *)&_start);
    const char *interp = dyn_own_interp(NULL);
    CHECK("at_phdr", interp != NULL && strstr(interp, "ld-musl") != NULL, "PT_INTERP is %s",
          interp ? interp : "(none)");

    CHECK_ERR("errno", open("/nonexistent/file", O_RDONLY), ENOENT);
    pthread_t t;
    void *r = NULL;
    int made = pthread_create(&t, NULL, thread_main, NULL) == 0;
    if (made)
        pthread_join(t, &r);
    CHECK("pthreads_tls", made && (long)r == (TLS_INITIAL + 1) * 1000 + EBADF &&
                              tls_counter == TLS_INITIAL,
          "thread made %d, result %ld, main's counter %d", made, (long)r, tls_counter);

    char text[128];
    int status = dyn_run_child(argv[0]);
    CHECK("fork_exec_dynamic", WIFEXITED(status) && WEXITSTATUS(status) == DYN_CHILD_OK, "%s",
          dyn_status_text(status, text, sizeof text));
    dyn_check_interp_errno("interp_missing_is_enoent", argv[0], "/nonexistent/ld.so", ENOENT);
    return k42_done();
}
