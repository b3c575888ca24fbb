/*
 * meminfo: Linux's free memory right after boot, for the "boot and footprint"
 * table: MemFree and MemAvailable from /proc/meminfo, in KiB, as one result line
 * each (iterations 1; median = min = max). The xtask runs it first in the boot,
 * before any benchmark has touched memory; K42's counterpart is its banner line
 * "frames: N MiB free" (xtask/src/bench/footprint.rs).
 *
 * Takes no arguments. Output format: bench.h.
 */
#include "bench.h"

#define MEMINFO_PATH "/proc/meminfo"
#define LINE_MAX_BYTES 256

static const struct {
    const char *field; /* as /proc/meminfo spells it, with the colon */
    const char *name;  /* the result's name */
} fields[] = {
    {"MemFree:", "mem_free"},
    {"MemAvailable:", "mem_available"},
};
#define FIELD_COUNT (sizeof fields / sizeof fields[0])

int main(void) {
    bench_current = "meminfo";
    FILE *f = fopen(MEMINFO_PATH, "r");
    if (!f)
        bench_fail("open %s: %s", MEMINFO_PATH, strerror(errno));
    long kib[FIELD_COUNT];
    for (size_t i = 0; i < FIELD_COUNT; i++)
        kib[i] = -1;
    char line[LINE_MAX_BYTES];
    while (fgets(line, sizeof line, f))
        for (size_t i = 0; i < FIELD_COUNT; i++)
            if (strncmp(line, fields[i].field, strlen(fields[i].field)) == 0)
                kib[i] = strtol(line + strlen(fields[i].field), NULL, 10);
    fclose(f);
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (kib[i] < 0)
            bench_fail("%s has no %s line", MEMINFO_PATH, fields[i].field);
        bench_print(fields[i].name, "KiB", 1, (double)kib[i], (double)kib[i], (double)kib[i]);
    }
    return 0;
}
