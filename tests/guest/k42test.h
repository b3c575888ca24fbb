/*
 * k42test.h: how a C guest test reports its cases, in the one result line format
 * `cargo xtask test` parses (crates/abi/src/testfmt.rs):
 *
 *     test <name> ... ok
 *     test <name> ... FAILED: <why>
 *     test <name> ... skipped: <why>
 *
 * The xtask (xtask/src/cc.rs) passes the pieces of that format as -D defines taken
 * from k42_abi, so the format is written down once. A test program calls CHECK,
 * CHECK_ERR, PASS, FAIL or SKIP once per case and ends with `return k42_done();`,
 * which exits non-zero when any case failed. Case names have no spaces; the xtask
 * prefixes them with `guest.<os>.<program>.`.
 */
#ifndef K42TEST_H
#define K42TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(K42_CASE_PREFIX) || !defined(K42_SEPARATOR) || !defined(K42_OK) ||                \
    !defined(K42_FAILED) || !defined(K42_SKIPPED)
#error "build through `cargo xtask test`: it passes the k42_abi::testfmt strings as -D defines"
#endif

/* Longest reason printed; longer ones are cut (a result line is one line). */
#define K42_REASON_MAX 512

static int k42_failures;

/* Prints one result line; `why` is NULL for a pass. */
static inline void k42_emit(const char *name, const char *verdict, char *why) {
    if (why) {
        /* A reason must not break the line it sits on. */
        for (char *p = why; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = '|';
        printf("%s%s%s%s: %s\n", K42_CASE_PREFIX, name, K42_SEPARATOR, verdict, why);
    } else {
        printf("%s%s%s%s\n", K42_CASE_PREFIX, name, K42_SEPARATOR, verdict);
    }
    /* Each line leaves at once, so a crash later cannot swallow it. */
    fflush(stdout);
}

static inline void k42_pass(const char *name) {
    k42_emit(name, K42_OK, NULL);
}

static inline void __attribute__((format(printf, 2, 3))) k42_fail(const char *name, const char *fmt, ...) {
    char why[K42_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    k42_emit(name, K42_FAILED, why);
    k42_failures++;
}

static inline void __attribute__((format(printf, 2, 3))) k42_skip(const char *name, const char *fmt, ...) {
    char why[K42_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    k42_emit(name, K42_SKIPPED, why);
}

/* The program's exit status: 0 when every case passed. */
static inline int k42_done(void) {
    return k42_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* One case: passes when `cond` holds, else fails with the printf-style reason. */
#define CHECK(name, cond, ...)                                                                     \
    do {                                                                                           \
        if (cond)                                                                                  \
            k42_pass(name);                                                                        \
        else                                                                                       \
            k42_fail(name, __VA_ARGS__);                                                           \
    } while (0)

/* One case: `call` must fail with -1 and errno `err`. */
#define CHECK_ERR(name, call, err)                                                                 \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long k42_r_ = (long)(call);                                                                \
        int k42_e_ = errno;                                                                        \
        if (k42_r_ == -1 && k42_e_ == (err))                                                       \
            k42_pass(name);                                                                        \
        else                                                                                       \
            k42_fail(name, "%s returned %ld with errno %d (%s), expected -1 with %s", #call,       \
                     k42_r_, k42_e_, strerror(k42_e_), #err);                                      \
    } while (0)

#define PASS(name) k42_pass(name)
#define FAIL(name, ...) k42_fail(name, __VA_ARGS__)
#define SKIP(name, ...) k42_skip(name, __VA_ARGS__)

#endif
