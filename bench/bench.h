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
 * operation for "ns", or a rate (MB/s, scripts/hour) for rate units. The line also
 * carries "counters":{...}: the kernel's events per operation over the timed batches
 * (bench_counters_read below), K42's ("kernel_entries":2.0000,...) on K42 and
 * Linux's ("context_switches":0.0001,"page_faults":...) on Linux. The xtask owns
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
#include <fcntl.h>
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

/* The kernel's event counters, read around a benchmark's timed batches so its result line
 * says what one operation cost in kernel events (what -icount timings hide). A snapshot is
 * K42's when K42's Linux personality serves them, else Linux's (bench_linux_counters_read);
 * the names say which, and the xtask shows them side by side (xtask/src/bench/catalog.rs,
 * EVENT_COLUMNS).
 *
 * K42's: ring transitions, address-space switches, TLB flushes ... as the target of a /proc
 * link, "NAME=VALUE NAME=VALUE ..." summed over the CPUs, one snapshot per readlink
 * (user/bin/linux/src/kcounters.rs); on Linux the path does not exist. */
#define BENCH_COUNTERS_PATH "/proc/k42/counters"
#define BENCH_COUNTERS_MAX 16
#define BENCH_COUNTER_NAME_MAX 32
#define BENCH_COUNTERS_TEXT_MAX 1024

struct bench_counters {
    int count;
    char names[BENCH_COUNTERS_MAX][BENCH_COUNTER_NAME_MAX];
    double values[BENCH_COUNTERS_MAX];
};

/* Adds NAME=VALUE to `c` (ignored when full or the name is too long). */
static inline void bench_counters_add(struct bench_counters *c, const char *name, double value) {
    if (c->count >= BENCH_COUNTERS_MAX || strlen(name) >= BENCH_COUNTER_NAME_MAX)
        return;
    strcpy(c->names[c->count], name);
    c->values[c->count] = value;
    c->count++;
}

/* K42's snapshot into `c`; returns how many counters it has (0: not on K42). */
static inline int bench_k42_counters_read(struct bench_counters *c) {
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
        *eq = '\0';
        bench_counters_add(c, word, strtod(eq + 1, NULL));
    }
    return c->count;
}

/* Linux's: what Linux tells any process without perf, system-wide (every CPU, every task,
 * kernel threads and the idle task included, as K42's count every process of the boot):
 *   context_switches   /proc/stat "ctxt": scheduler context switches
 *   interrupts         /proc/stat "intr", its first number: every interrupt, the local
 *                      timer's and the IPIs' included
 *   page_faults        /proc/vmstat "pgfault": page faults, minor and major
 *   major_page_faults  /proc/vmstat "pgmajfault": those that waited for I/O
 *   ipis_received      /proc/interrupts "RES" + "CAL": rescheduling and function-call IPIs
 *                      taken, summed over the CPUs (a TLB shootdown comes as a function call)
 *   tlb_shootdowns     /proc/interrupts "TLB": remote TLB flushes taken, over the CPUs
 * A counter whose line is missing is left out. The files are read with plain read(2) into a
 * static buffer touched before the first snapshot, so a snapshot takes no page fault of its
 * own (its few system calls are left in, as K42's snapshot's kernel calls are). */
#define BENCH_PROC_STAT "/proc/stat"
#define BENCH_PROC_VMSTAT "/proc/vmstat"
#define BENCH_PROC_INTERRUPTS "/proc/interrupts"
/* Room for the largest of them, with a wide margin: on Debian's 6.1 at 2 vCPUs /proc/stat
 * was 1087 bytes, /proc/vmstat 3386 and /proc/interrupts 1329 (wc -c in the guest); the
 * first and last grow with the CPUs and IRQs. A file that does not fit is not used. */
#define BENCH_PROC_TEXT_MAX (64 * 1024)

static char bench_proc_text[BENCH_PROC_TEXT_MAX];

/* Reads the whole of `path` into bench_proc_text, NUL-terminated; returns 0 when it
 * cannot (or it does not fit). */
static inline int bench_proc_slurp(const char *path) {
    static int touched;
    if (!touched) {
        memset(bench_proc_text, 0, sizeof bench_proc_text);
        touched = 1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, bench_proc_text + got, sizeof bench_proc_text - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof bench_proc_text - 1)
            break;
    }
    close(fd);
    bench_proc_text[got] = '\0';
    return got > 0 && got < sizeof bench_proc_text - 1;
}

/* The text after `key` at the start of a line of bench_proc_text (after any blanks: the
 * names of /proc/interrupts are right-aligned), or NULL. */
static inline const char *bench_proc_field(const char *key) {
    size_t len = strlen(key);
    for (const char *line = bench_proc_text; line && *line;) {
        while (*line == ' ')
            line++;
        if (strncmp(line, key, len) == 0)
            return line + len;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NULL;
}

/* The sum of the numbers after `key` on its line of bench_proc_text (a /proc/interrupts
 * line: one count per CPU, then words), or -1 when there is no such line. */
static inline double bench_proc_row_sum(const char *key) {
    const char *p = bench_proc_field(key);
    if (!p)
        return -1;
    double sum = 0;
    for (;;) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p)
            return sum;
        sum += (double)v;
        p = end;
    }
}

/* Linux's snapshot into `c`; returns how many counters it has. */
static inline int bench_linux_counters_read(struct bench_counters *c) {
    c->count = 0;
    if (bench_proc_slurp(BENCH_PROC_STAT)) {
        const char *v;
        if ((v = bench_proc_field("ctxt ")))
            bench_counters_add(c, "context_switches", strtod(v, NULL));
        if ((v = bench_proc_field("intr ")))
            bench_counters_add(c, "interrupts", strtod(v, NULL));
    }
    if (bench_proc_slurp(BENCH_PROC_VMSTAT)) {
        const char *v;
        if ((v = bench_proc_field("pgfault ")))
            bench_counters_add(c, "page_faults", strtod(v, NULL));
        if ((v = bench_proc_field("pgmajfault ")))
            bench_counters_add(c, "major_page_faults", strtod(v, NULL));
    }
    if (bench_proc_slurp(BENCH_PROC_INTERRUPTS)) {
        /* The lines are right-aligned under the CPU columns: "RES:", "CAL:" after spaces. */
        double res = bench_proc_row_sum("RES:"), cal = bench_proc_row_sum("CAL:");
        double tlb = bench_proc_row_sum("TLB:");
        if (res >= 0 && cal >= 0)
            bench_counters_add(c, "ipis_received", res + cal);
        if (tlb >= 0)
            bench_counters_add(c, "tlb_shootdowns", tlb);
    }
    return c->count;
}

/* Reads a snapshot into `c`, K42's or else Linux's; returns how many counters it has (0:
 * none to be had). */
static inline int bench_counters_read(struct bench_counters *c) {
    if (bench_k42_counters_read(c) > 0)
        return c->count;
    return bench_linux_counters_read(c);
}

/* Prints the one JSON result line (names and units are plain identifiers: no escaping), with
 * `"counters":{NAME:per-operation,...}` when `before` and `after` hold snapshots of the same
 * counters around the `operations` the timed batches did. */
static inline void bench_print_counted(const char *name, const char *unit, long iterations,
                                       double median, double min, double max,
                                       const struct bench_counters *before,
                                       const struct bench_counters *after, double operations) {
    printf("{\"name\":\"%s\",\"unit\":\"%s\",\"iterations\":%ld,\"median\":%.2f,\"min\":%.2f,"
           "\"max\":%.2f",
           name, unit, iterations, median, min, max);
    int same = before && after && before->count > 0 && after->count == before->count;
    for (int i = 0; same && i < before->count; i++)
        same = strcmp(before->names[i], after->names[i]) == 0;
    if (same && operations > 0) {
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
 * `warmup`) and prints the result line for `name`, with the kernel's counters per operation
 * when they can be read: per unit of work for a time (as the figure: ctxsw's per hop), per
 * iteration for a rate (pipe_bandwidth's per 64 KiB chunk, sdet's per round of its users). */
static inline void bench_measure(const char *name, const char *unit, enum bench_kind kind,
                          double rate_scale, long iterations, int reps, int warmup,
                          double (*run)(void *ctx, long iterations), void *ctx) {
    static double figures[BENCH_MAX_REPS];
    static struct bench_counters before, after;
    bench_current = name;
    if (warmup)
        run(ctx, iterations);
    /* Touch what the batches and the second snapshot write, so their first writes take no
     * page fault between the snapshots. */
    memset(figures, 0, sizeof figures);
    memset(&after, 0, sizeof after);
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
