/*
 * bench.h: the timing and output harness every benchmark program in bench/ shares
 * (lmbench-style, written here). A program names its benchmarks in a table; the
 * xtask (xtask/src/bench/) runs it as
 *
 *     PROGRAM REPS NAME=ITERATIONS [NAME=ITERATIONS ...]
 *
 * and each named benchmark runs one untimed warm-up batch, then REPS timed batches
 * of ITERATIONS operations (clock_gettime(CLOCK_MONOTONIC) around each batch), and
 * prints one JSON line:
 *
 *     {"name":"null_syscall","unit":"ns","iterations":100000,"median":359.10,"min":358.90,"max":360.20}
 *
 * median/min/max are over the REPS batches, per operation: nanoseconds per
 * operation for "ns", or a rate (MB/s, scripts/hour) for rate units. On K42 the line
 * also carries "counters":{"kernel_entries":2.0000,...}: the kernel's events per
 * operation over the timed batches (bench_counters_read below). The xtask owns
 * the names, units and iteration counts (xtask/src/bench/catalog.rs) and parses
 * these lines (xtask/src/bench/record.rs); the test tier checks them
 * (xtask/src/test/bench_tier.rs). Anything else a program prints is diagnostics.
 *
 * Built static with musl by the xtask, which passes K42_BENCH_DIR (where the
 * programs are installed in the initramfs) and the k42_abi defines.
 */
#ifndef K42_BENCH_H
#define K42_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef K42_BENCH_DIR
#error "build through the xtask: it passes K42_BENCH_DIR"
#endif

#define NS_PER_SEC 1000000000.0
/* The most timed batches one benchmark may ask for (the results are kept to sort). */
#define BENCH_MAX_REPS 1000
/* Exit statuses: a benchmark failed (its operation went wrong), or bad arguments. */
#define BENCH_EXIT_FAILED 1
#define BENCH_EXIT_USAGE 2

/* How a batch's work turns into the reported figure. */
enum bench_kind {
    /* nanoseconds per unit of work (lower is better) */
    BENCH_TIME,
    /* units of work times `rate_scale` per nanosecond (higher is better) */
    BENCH_RATE,
};

/* One benchmark of a program's table. `run` does one batch of `iterations` and
 * returns the units of work it did (usually `iterations`); `setup`/`teardown`, when
 * present, run once around all batches, outside the timing. */
struct bench {
    const char *name;
    const char *unit;
    enum bench_kind kind;
    double rate_scale;
    void (*setup)(void);
    double (*run)(long iterations);
    void (*teardown)(void);
};

/* The benchmark running now, for failure messages. */
static const char *bench_current = "?";

/* Reports a failed operation and ends the program: a benchmark whose operation
 * does not do what it should has no figure. */
static inline void __attribute__((noreturn, format(printf, 1, 2))) bench_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: %s: ", bench_current);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(BENCH_EXIT_FAILED);
}

static inline double bench_now_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        bench_fail("clock_gettime: %s", strerror(errno));
    return (double)ts.tv_sec * NS_PER_SEC + (double)ts.tv_nsec;
}

static inline int bench_compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* K42's kernel counters, read around a benchmark's timed batches so its result line says
 * what one operation cost in kernel events (ring transitions, address-space switches, TLB
 * flushes: what -icount timings hide). K42's Linux personality serves them as the target of
 * a /proc link, "NAME=VALUE NAME=VALUE ..." summed over the CPUs, one snapshot per readlink
 * (user/bin/linux/src/kcounters.rs); on Linux the path does not exist, so the same binary
 * prints no counters there. */
#define BENCH_COUNTERS_PATH "/proc/k42/counters"
#define BENCH_COUNTERS_MAX 16
#define BENCH_COUNTER_NAME_MAX 32
#define BENCH_COUNTERS_TEXT_MAX 1024

struct bench_counters {
    int count;
    char names[BENCH_COUNTERS_MAX][BENCH_COUNTER_NAME_MAX];
    double values[BENCH_COUNTERS_MAX];
};

/* Reads a snapshot into `c`; returns how many counters it has (0: none to be had). */
static inline int bench_counters_read(struct bench_counters *c) {
    char text[BENCH_COUNTERS_TEXT_MAX];
    ssize_t n = readlink(BENCH_COUNTERS_PATH, text, sizeof text - 1);
    c->count = 0;
    if (n <= 0)
        return 0;
    text[n] = '\0';
    char *save = NULL;
    for (char *word = strtok_r(text, " ", &save); word && c->count < BENCH_COUNTERS_MAX;
         word = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(word, '=');
        if (!eq || eq == word || eq - word >= BENCH_COUNTER_NAME_MAX)
            continue;
        memcpy(c->names[c->count], word, (size_t)(eq - word));
        c->names[c->count][eq - word] = '\0';
        c->values[c->count] = strtod(eq + 1, NULL);
        c->count++;
    }
    return c->count;
}

/* Prints the one JSON result line (names and units are plain identifiers: no escaping), with
 * `"counters":{NAME:per-operation,...}` when `before` and `after` hold snapshots around the
 * `operations` the timed batches did. */
static inline void bench_print_counted(const char *name, const char *unit, long iterations,
                                       double median, double min, double max,
                                       const struct bench_counters *before,
                                       const struct bench_counters *after, double operations) {
    printf("{\"name\":\"%s\",\"unit\":\"%s\",\"iterations\":%ld,\"median\":%.2f,\"min\":%.2f,"
           "\"max\":%.2f",
           name, unit, iterations, median, min, max);
    if (before && after && before->count > 0 && after->count == before->count && operations > 0) {
        printf(",\"counters\":{");
        for (int i = 0; i < before->count; i++)
            printf("%s\"%s\":%.4f", i ? "," : "", before->names[i],
                   (after->values[i] - before->values[i]) / operations);
        printf("}");
    }
    printf("}\n");
    fflush(stdout);
}

/* Prints the one JSON result line, without counters. */
static inline void bench_print(const char *name, const char *unit, long iterations, double median,
                        double min, double max) {
    bench_print_counted(name, unit, iterations, median, min, max, NULL, NULL, 0);
}

/* Times `reps` batches of `run(ctx, iterations)` (after one warm-up batch when
 * `warmup`) and prints the result line for `name`, with K42's counters per operation when
 * they can be read: per unit of work for a time (as the figure: ctxsw's per hop), per
 * iteration for a rate (pipe_bandwidth's per 64 KiB chunk, sdet's per round of its users). */
static inline void bench_measure(const char *name, const char *unit, enum bench_kind kind,
                          double rate_scale, long iterations, int reps, int warmup,
                          double (*run)(void *ctx, long iterations), void *ctx) {
    static double figures[BENCH_MAX_REPS];
    static struct bench_counters before, after;
    bench_current = name;
    if (warmup)
        run(ctx, iterations);
    /* Outside the timing: a snapshot costs a few kernel calls, which count in the next. */
    int counted = bench_counters_read(&before);
    double operations = 0;
    for (int r = 0; r < reps; r++) {
        double start = bench_now_ns();
        double work = run(ctx, iterations);
        double ns = bench_now_ns() - start;
        if (ns <= 0 || work <= 0)
            bench_fail("a batch took %.0f ns for %.0f units of work", ns, work);
        figures[r] = kind == BENCH_TIME ? ns / work : work * rate_scale / ns;
        operations += kind == BENCH_TIME ? work : (double)iterations;
    }
    if (counted)
        bench_counters_read(&after);
    qsort(figures, (size_t)reps, sizeof figures[0], bench_compare);
    /* The median of an even count is the mean of the middle two. */
    double median = reps % 2 ? figures[reps / 2]
                             : (figures[reps / 2 - 1] + figures[reps / 2]) / 2;
    bench_print_counted(name, unit, iterations, median, figures[0], figures[reps - 1],
                        counted ? &before : NULL, counted ? &after : NULL, operations);
}

/* Parses REPS, or ends the program with a usage message. */
static inline int bench_reps(int argc, char **argv) {
    long reps = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    if (reps < 1 || reps > BENCH_MAX_REPS) {
        fprintf(stderr, "usage: %s REPS NAME=ITERATIONS... (REPS 1..%d)\n", argv[0],
                BENCH_MAX_REPS);
        exit(BENCH_EXIT_USAGE);
    }
    return (int)reps;
}

/* Splits "NAME=ITERATIONS" into `name` (of `size` bytes) and a positive count, or
 * ends the program with a usage message. */
static inline long bench_split(const char *arg, char *name, size_t size) {
    const char *eq = strchr(arg, '=');
    char *end = NULL;
    long iterations = eq ? strtol(eq + 1, &end, 10) : 0;
    if (!eq || (size_t)(eq - arg) >= size || iterations < 1 || *end != '\0') {
        fprintf(stderr, "bench: bad argument [%s]: expected NAME=ITERATIONS\n", arg);
        exit(BENCH_EXIT_USAGE);
    }
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    return iterations;
}

/* Adapts a table entry's run() to bench_measure's. */
static inline double bench_run_entry(void *ctx, long iterations) {
    return ((const struct bench *)ctx)->run(iterations);
}

#define BENCH_NAME_MAX 64

/* The whole main() of a table-driven program: runs the benchmarks named on the
 * command line, in that order, from `table`. */
static inline int bench_main(int argc, char **argv, const struct bench *table, size_t count) {
    int reps = bench_reps(argc, argv);
    for (int a = 2; a < argc; a++) {
        char name[BENCH_NAME_MAX];
        long iterations = bench_split(argv[a], name, sizeof name);
        const struct bench *b = NULL;
        for (size_t i = 0; i < count; i++)
            if (strcmp(table[i].name, name) == 0)
                b = &table[i];
        if (!b) {
            fprintf(stderr, "bench: %s has no benchmark named %s\n", argv[0], name);
            return BENCH_EXIT_USAGE;
        }
        bench_current = b->name;
        if (b->setup)
            b->setup();
        bench_measure(b->name, b->unit, b->kind, b->rate_scale, iterations, reps, 1,
                      bench_run_entry, (void *)b);
        if (b->teardown)
            b->teardown();
    }
    return 0;
}

#define BENCH_COUNT(table) (sizeof(table) / sizeof((table)[0]))

#endif
