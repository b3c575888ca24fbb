/*
 * syscalls: the cheapest system calls, lmbench's lat_syscall family: the null call
 * (getppid), a 1-byte read and write of /dev/null, open+close, stat and fstat of a
 * file in /tmp, and a 4 KiB read of that (page-cached) file.
 *
 * Each operation is checked (right return value), so a broken call fails the
 * benchmark instead of timing an error path. Harness and output: bench.h.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define DEV_NULL "/dev/null"
/* The cached file: in /tmp (a RAM file system on both OSes), written once. */
#define DATA_FILE "/tmp/bench-syscalls.dat"
#define DATA_MODE 0644
/* The read size of read_4k_cached, and the file's size (a few such blocks). */
#define BLOCK_BYTES 4096
#define DATA_BLOCKS 4

static int null_fd = -1;
static int data_fd = -1;
static char block[BLOCK_BYTES];

static void open_null(void) {
    null_fd = open(DEV_NULL, O_RDWR);
    if (null_fd < 0)
        bench_fail("open %s: %s", DEV_NULL, strerror(errno));
}

static void close_null(void) {
    close(null_fd);
}

static void make_data(void) {
    memset(block, 'k', sizeof block);
    data_fd = open(DATA_FILE, O_RDWR | O_CREAT | O_TRUNC, DATA_MODE);
    if (data_fd < 0)
        bench_fail("create %s: %s", DATA_FILE, strerror(errno));
    for (int i = 0; i < DATA_BLOCKS; i++)
        if (write(data_fd, block, sizeof block) != (ssize_t)sizeof block)
            bench_fail("write %s: %s", DATA_FILE, strerror(errno));
}

static void remove_data(void) {
    close(data_fd);
    unlink(DATA_FILE);
}

static double null_syscall(long n) {
    for (long i = 0; i < n; i++)
        if (getppid() < 0)
            bench_fail("getppid failed");
    return (double)n;
}

static double read_devnull(long n) {
    for (long i = 0; i < n; i++)
        if (read(null_fd, block, 1) != 0)
            bench_fail("read %s did not return 0 (end of file)", DEV_NULL);
    return (double)n;
}

static double write_devnull(long n) {
    for (long i = 0; i < n; i++)
        if (write(null_fd, block, 1) != 1)
            bench_fail("write %s: %s", DEV_NULL, strerror(errno));
    return (double)n;
}

static double open_close(long n) {
    for (long i = 0; i < n; i++) {
        int fd = open(DATA_FILE, O_RDONLY);
        if (fd < 0 || close(fd) != 0)
            bench_fail("open+close %s: %s", DATA_FILE, strerror(errno));
    }
    return (double)n;
}

static double stat_file(long n) {
    struct stat st;
    for (long i = 0; i < n; i++)
        if (stat(DATA_FILE, &st) != 0 || st.st_size != BLOCK_BYTES * DATA_BLOCKS)
            bench_fail("stat %s: %s", DATA_FILE, strerror(errno));
    return (double)n;
}

static double fstat_file(long n) {
    struct stat st;
    for (long i = 0; i < n; i++)
        if (fstat(data_fd, &st) != 0 || st.st_size != BLOCK_BYTES * DATA_BLOCKS)
            bench_fail("fstat: %s", strerror(errno));
    return (double)n;
}

static double read_4k_cached(long n) {
    for (long i = 0; i < n; i++)
        if (pread(data_fd, block, sizeof block, 0) != (ssize_t)sizeof block)
            bench_fail("pread %s: %s", DATA_FILE, strerror(errno));
    return (double)n;
}

static const struct bench table[] = {
    {"null_syscall", "ns", BENCH_TIME, 0, NULL, null_syscall, NULL},
    {"read_devnull", "ns", BENCH_TIME, 0, open_null, read_devnull, close_null},
    {"write_devnull", "ns", BENCH_TIME, 0, open_null, write_devnull, close_null},
    {"open_close", "ns", BENCH_TIME, 0, make_data, open_close, remove_data},
    {"stat", "ns", BENCH_TIME, 0, make_data, stat_file, remove_data},
    {"fstat", "ns", BENCH_TIME, 0, make_data, fstat_file, remove_data},
    {"read_4k_cached", "ns", BENCH_TIME, 0, make_data, read_4k_cached, remove_data},
};

int main(int argc, char **argv) {
    return bench_main(argc, argv, table, BENCH_COUNT(table));
}
