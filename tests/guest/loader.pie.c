/*
 * loader (static PIE): a glibc program linked with -static-pie, which the loader places at
 * a bias of its choosing and which relocates itself before main (IRELATIVE and RELATIVE
 * relocations, TLS set-up). Checks it runs where PIEs run, that its own pointers were
 * relocated, TLS, the heap, and the auxiliary vector's view of the load.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "k42test.h"

static __thread long tls_counter = 40;
/* A pointer in data, fixed up by a RELATIVE relocation at start. */
static const char *const greeting = "relocated";
static int marker;

int main(void) {
    uintptr_t entry = getauxval(AT_ENTRY);
    uintptr_t here = (uintptr_t)&main;
    CHECK("relocated_pointer", strcmp(greeting, "relocated") == 0, "greeting %p", (void *)greeting);
    uintptr_t apart = entry > here ? entry - here : here - entry;
    CHECK("entry_near_code", entry != 0 && apart < (64UL << 20), "AT_ENTRY %#lx main %#lx",
          (unsigned long)entry, (unsigned long)here);
    CHECK("not_at_zero", here > 0x10000 && (uintptr_t)&marker > 0x10000, "main at %#lx",
          (unsigned long)here);
    const ElfW(Phdr) *phdr = (const ElfW(Phdr) *)getauxval(AT_PHDR);
    unsigned long phnum = getauxval(AT_PHNUM);
    int has_dynamic = 0;
    for (unsigned long i = 0; phdr && i < phnum; i++)
        has_dynamic |= phdr[i].p_type == PT_DYNAMIC;
    CHECK("phdrs_visible", phdr != NULL && phnum > 0 && has_dynamic, "AT_PHDR %p, %lu headers",
          (const void *)phdr, phnum);
    tls_counter += 2;
    CHECK("tls", tls_counter == 42, "tls %ld", tls_counter);
    char *heap = malloc(1 << 20);
    if (heap)
        memset(heap, 7, 1 << 20);
    CHECK("heap", heap && heap[(1 << 20) - 1] == 7, "malloc failed");
    free(heap);
    return k42_done();
}
