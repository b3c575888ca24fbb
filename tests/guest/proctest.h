/*
 * proctest.h: what the /proc guest tests (procfs.c, procfs2.c) share: reading a whole
 * /proc file, which has no size to stat, by reading until the end.
 */
#ifndef PROCTEST_H
#define PROCTEST_H

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

/* The whole of a file (NUL-terminated after its bytes, at most cap - 1 of them): its
 * length, or -1 if it cannot be opened. */
static inline ssize_t slurp(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

#endif
