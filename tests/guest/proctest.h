/*
 * proctest.h: what the /proc guest tests (procfs.c, procfs2.c) share: reading a whole
 * /proc file, which has no size to stat, by reading until the end, and looking for a name
 * in a directory's listing.
 */
#ifndef PROCTEST_H
#define PROCTEST_H

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
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

/* Whether directory `path` lists `name`. */
static inline int lists(const char *path, const char *name) {
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int found = 0;
    for (struct dirent *e; (e = readdir(d));)
        found |= strcmp(e->d_name, name) == 0;
    closedir(d);
    return found;
}

#endif
