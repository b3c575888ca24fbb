/*
 * dynamic (glibc, dynamically linked, not position independent): an ET_EXEC
 * program with PT_INTERP, which execve maps where it is linked (0x400000) and
 * starts at glibc's dynamic linker, loaded at a base of the OS's choosing.
 *
 * Checks argv, the auxiliary vector (AT_BASE the linker's, AT_ENTRY the program's
 * _start at its link-time address), errno, dlopen of libm.so.6 and a call through
 * dlsym, and fork and execve of the program.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>

#include "k42test.h"
#include "dyntest.h"

#ifndef K42_TEST_ARGS
#error "dynamic.nopie-dyn.args must exist: the xtask turns it into K42_TEST_ARGS"
#endif

static const char *const expected_args[] = K42_TEST_ARGS;
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* Where ld links an x86_64 ET_EXEC, and how far its text may reach above that. */
#define EXEC_BASE 0x400000ul
#define EXEC_REACH 0x1000000ul

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], DYN_CHILD_FLAG) == 0)
        return dyn_start_is_right() ? DYN_CHILD_OK : EXIT_FAILURE;

    CHECK("argv", dyn_args_right(argc, argv, expected_args, (int)COUNT(expected_args)),
          "%d arguments, expected %zu", argc - 1, COUNT(expected_args));

    uintptr_t bias = 1;
    const char *interp = dyn_own_interp(&bias);
    unsigned long entry = getauxval(AT_ENTRY);
    CHECK("linked_address", bias == 0 && entry >= EXEC_BASE && entry < EXEC_BASE + EXEC_REACH,
          "load bias %#lx, AT_ENTRY %#lx", (unsigned long)bias, entry);
    CHECK("start", dyn_start_is_right() && interp != NULL, "AT_BASE %#lx, AT_ENTRY %#lx, _start %p",
          getauxval(AT_BASE), entry, (void *)&_start);

    CHECK_ERR("errno", open("/nonexistent/file", O_RDONLY), ENOENT);
    void *libm = dlopen("libm.so.6", RTLD_NOW);
    double (*root)(double) = libm ? (double (*)(double))dlsym(libm, "sqrt") : NULL;
    CHECK("dlopen_libm", root && fabs(root(2.0) - M_SQRT2) < 1e-12, "dlopen: %s",
          libm ? "sqrt not found" : dlerror());

    char text[128];
    int status = dyn_run_child(argv[0]);
    CHECK("fork_exec_dynamic", WIFEXITED(status) && WEXITSTATUS(status) == DYN_CHILD_OK, "%s",
          dyn_status_text(status, text, sizeof text));
    return k42_done();
}
