/*
 * filetest.h: what the file-call tests (files.c, files2.c) share: the directory each run
 * works in (`base`, which the test fills in) and the paths of names in it.
 */
#ifndef FILETEST_H
#define FILETEST_H

#include <limits.h>
#include <stdio.h>

/* An address no process has mapped: the kernel must refuse it, not crash. */
#define BAD_POINTER ((void *)1)

static char base[64];

/* base + "/" + name, in a static buffer per call site slot. */
static const char *at(const char *name) {
    static char bufs[4][PATH_MAX];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", base, name);
    return b;
}

#endif
