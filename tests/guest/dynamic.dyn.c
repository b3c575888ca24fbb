/*
 * dynamic (glibc, dynamically linked): a program that glibc's dynamic linker,
 * /lib64/ld-linux-x86-64.so.2, loads and starts — the exec of a PT_INTERP program
 * as Linux's binfmt_elf does it, and everything ld.so and libc.so.6 ask of the OS
 * on the way (file mappings over a reservation, mprotect of them, pread64, the
 * absent /etc/ld.so.cache).
 *
 * Checks argv and envp, the auxiliary vector (AT_BASE is the dynamic linker's load
 * address, AT_ENTRY and AT_PHDR the program's), errno and thread-local storage,
 * dlopen of libm.so.6 and a call through dlsym, threads, fork and execve of a
 * dynamic program, and the interpreters execve must refuse: missing (ENOENT), a
 * directory or not executable (EACCES), too short for an ELF header (EIO), not ELF
 * or cut inside its program headers (ELIBBAD), and one Linux only finds bad past
 * the point of no return (an object file: the process dies by SIGSEGV). A copy of
 * the real linker at another path runs the program, so the patching is sound.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <math.h>
#include <pthread.h>

#include "k42test.h"
#include "dyntest.h"

#ifndef K42_TEST_ARGS
#error "dynamic.dyn.args must exist: the xtask turns it into K42_TEST_ARGS"
#endif

static const char *const expected_args[] = K42_TEST_ARGS;
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* glibc's dynamic linker's file name, as dl_iterate_phdr names it. */
#define LD_SO_NAME "ld-linux-x86-64.so.2"
/* Where e_type lies in an ELF header. */
#define E_TYPE_OFFSET 16
/* Bytes of the linker a truncated copy keeps: its header, not its program headers. */
#define TRUNCATED_LEN 200
/* A file shorter than an ELF header. */
#define SHORT_LEN 10
#define THREADS 2
/* What a thread's TLS counter starts at (the program's PT_TLS image). */
#define TLS_INITIAL 7
#define TLS_SCALE 1000

static __thread int tls_counter = TLS_INITIAL;

static void *thread_main(void *arg) {
    tls_counter += (int)(long)arg;
    errno = 0;
    close(-1);
    return (void *)(long)(tls_counter * TLS_SCALE + errno);
}

struct objects {
    uintptr_t program, ld_so;
    int ld_so_found;
};

static int each_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct objects *o = data;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (name[0] == '\0' && o->program == 0)
        o->program = info->dlpi_addr;
    size_t n = strlen(name), m = strlen(LD_SO_NAME);
    if (n >= m && strcmp(name + n - m, LD_SO_NAME) == 0) {
        o->ld_so = info->dlpi_addr;
        o->ld_so_found = 1;
    }
    return 0;
}

static void check_auxv(void) {
    unsigned long base = getauxval(AT_BASE);
    CHECK("at_base", base != 0 && base % 4096 == 0, "AT_BASE is %#lx", base);
    CHECK("at_entry", getauxval(AT_ENTRY) == (unsigned long)&_start,
          "AT_ENTRY is %#lx, _start is %p", getauxval(AT_ENTRY), (void *)&_start);
    struct objects o = {0, 0, 0};
    dl_iterate_phdr(each_object, &o);
    CHECK("at_base_is_the_linker", o.ld_so_found && o.ld_so == base,
          "AT_BASE %#lx, %s loaded at %#lx (%s)", base, LD_SO_NAME, (unsigned long)o.ld_so,
          o.ld_so_found ? "found" : "not found");
    uintptr_t bias = 0;
    const char *interp = dyn_own_interp(&bias);
    CHECK("at_phdr", getauxval(AT_PHENT) == sizeof(Elf64_Phdr) && interp != NULL &&
                         bias == o.program && strstr(interp, LD_SO_NAME) != NULL,
          "AT_PHENT %lu, PT_INTERP %s, bias from AT_PHDR %#lx, program at %#lx",
          getauxval(AT_PHENT), interp ? interp : "(none)", (unsigned long)bias,
          (unsigned long)o.program);
}

static void check_libraries(void) {
    CHECK_ERR("errno", open("/nonexistent/file", O_RDONLY), ENOENT);
    void *libm = dlopen("libm.so.6", RTLD_NOW);
    if (!libm) {
        FAIL("dlopen_libm", "dlopen(libm.so.6): %s", dlerror());
        return;
    }
    double (*cosine)(double) = (double (*)(double))dlsym(libm, "cos");
    Dl_info info = {0};
    int found = cosine && dladdr((void *)cosine, &info) && info.dli_fname &&
                strstr(info.dli_fname, "libm.so.6");
    CHECK("dlopen_libm", found && cosine(0.0) == 1.0 && cosine(M_PI) < -0.999999,
          "cos at %p in %s", (void *)cosine, info.dli_fname ? info.dli_fname : "(nothing)");
    dlclose(libm);
}

static void check_threads(void) {
    pthread_t t[THREADS];
    int made = 0, right = 1;
    for (long i = 0; i < THREADS; i++)
        made += pthread_create(&t[i], NULL, thread_main, (void *)(i + 1)) == 0;
    for (long i = 0; i < made; i++) {
        void *r = NULL;
        pthread_join(t[i], &r);
        right &= (long)r == (TLS_INITIAL + i + 1) * TLS_SCALE + EBADF;
    }
    CHECK("tls", tls_counter == TLS_INITIAL, "the main thread's counter is %d", tls_counter);
    CHECK("pthreads", made == THREADS && right && tls_counter == TLS_INITIAL,
          "%d threads made, results %s", made, right ? "right" : "wrong");
}

static void check_exec(const char *self) {
    char text[128];
    int status = dyn_run_child(self);
    CHECK("fork_exec_dynamic", WIFEXITED(status) && WEXITSTATUS(status) == DYN_CHILD_OK, "%s",
          dyn_status_text(status, text, sizeof text));

    const char *interp = dyn_own_interp(NULL);
    size_t len = 0;
    unsigned char *ld = interp ? dyn_read_file(interp, &len) : NULL;
    if (!ld || len < TRUNCATED_LEN) {
        FAIL("interp_copy_runs", "cannot read the dynamic linker %s", interp ? interp : "(none)");
        free(ld);
        return;
    }
    const char *copy = "/tmp/dyn-ld-copy.so", *prog = "/tmp/dyn-prog-copy";
    int written = dyn_write_file(copy, ld, len, DYN_EXEC_MODE) == 0 &&
                  dyn_write_with_interp(self, prog, copy) == 0;
    status = written ? dyn_run_child(prog) : -1;
    CHECK("interp_copy_runs", WIFEXITED(status) && WEXITSTATUS(status) == DYN_CHILD_OK, "%s",
          dyn_status_text(status, text, sizeof text));
    unlink(prog);

    dyn_check_interp_errno("interp_missing_is_enoent", self, "/nonexistent/ld.so", ENOENT);
    dyn_check_interp_errno("interp_directory_is_eacces", self, "/tmp", EACCES);
    chmod(copy, DYN_DATA_MODE);
    dyn_check_interp_errno("interp_not_executable_is_eacces", self, copy, EACCES);

    const char *bad = "/tmp/dyn-ld-bad";
    static const char script[] = "#!/bin/sh\necho this is no dynamic linker, but it is long "
                                 "enough to hold an ELF header\n";
    dyn_write_file(bad, script, sizeof script - 1, DYN_EXEC_MODE);
    dyn_check_interp_errno("interp_not_elf_is_elibbad", self, bad, ELIBBAD);
    dyn_write_file(bad, ld, SHORT_LEN, DYN_EXEC_MODE);
    dyn_check_interp_errno("interp_short_is_eio", self, bad, EIO);
    dyn_write_file(bad, ld, TRUNCATED_LEN, DYN_EXEC_MODE);
    dyn_check_interp_errno("interp_truncated_is_elibbad", self, bad, ELIBBAD);

    /* An object file: Linux's load_elf_interp refuses it past the point of no return. */
    uint16_t rel = ET_REL;
    memcpy(ld + E_TYPE_OFFSET, &rel, sizeof rel);
    written = dyn_write_file(bad, ld, len, DYN_EXEC_MODE) == 0 &&
              dyn_write_with_interp(self, prog, bad) == 0;
    status = written ? dyn_run_child(prog) : -1;
    CHECK("interp_object_file_kills", WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
          "%s, expected death by SIGSEGV", dyn_status_text(status, text, sizeof text));
    unlink(prog);
    unlink(bad);
    unlink(copy);
    free(ld);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], DYN_CHILD_FLAG) == 0)
        return dyn_start_is_right() ? DYN_CHILD_OK : EXIT_FAILURE;

    CHECK("argv", dyn_args_right(argc, argv, expected_args, (int)COUNT(expected_args)),
          "%d arguments, expected %zu", argc - 1, COUNT(expected_args));
    int path_set = 0;
    for (char **e = environ; e && *e; e++)
        path_set |= strncmp(*e, "PATH=", 5) == 0;
    CHECK("envp", path_set, "no PATH in the environment");

    check_auxv();
    check_libraries();
    check_threads();
    check_exec(argv[0]);
    return k42_done();
}
