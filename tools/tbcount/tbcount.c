/*
 * tbcount: a QEMU TCG plugin (plugin API v1, as Debian's QEMU 7.2 has it) that counts how often
 * each translation block runs and writes, at exit, one line per block that ran:
 * `VADDR INSNS COUNT BYTES` (hex address, instructions in the block, executions, and the
 * block's first bytes in hex, which tell apart two programs' code at one virtual address).
 * Output: $TBCOUNT_OUT, or /tmp/prof/tb.txt. See README.md here.
 *
 * The plugin API's declarations are written out below (QEMU installs no header on Debian);
 * they are the v1 functions used, unchanged since.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*vcpu_udata_cb)(unsigned int vcpu_index, void *userdata);
typedef void (*udata_cb)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, vcpu_udata_cb cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn;
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb cb, void *userdata);
__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct rec { uint64_t vaddr, n, count; unsigned char bytes[16]; size_t nbytes; struct rec *next; };
static struct rec *all;

static void on_exec(unsigned int vcpu, void *ud) { ((struct rec *)ud)->count++; }
static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    struct rec *r = calloc(1, sizeof *r);
    r->vaddr = qemu_plugin_tb_vaddr(tb);
    r->n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < r->n && r->nbytes < sizeof r->bytes; i++) {
        struct qemu_plugin_insn *in = qemu_plugin_tb_get_insn(tb, i);
        const unsigned char *d = qemu_plugin_insn_data(in);
        size_t sz = qemu_plugin_insn_size(in);
        for (size_t j = 0; j < sz && r->nbytes < sizeof r->bytes; j++)
            r->bytes[r->nbytes++] = d[j];
    }
    r->next = all;
    all = r;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, r);
}
static void dump_at_exit(qemu_plugin_id_t id, void *ud) {
    const char *path = getenv("TBCOUNT_OUT") ? getenv("TBCOUNT_OUT") : "tb.txt";
    FILE *f = fopen(path, "w");
    for (struct rec *r = all; r; r = r->next)
        if (r->count)
        {
            fprintf(f, "%llx %llu %llu ", (unsigned long long)r->vaddr, (unsigned long long)r->n,
                    (unsigned long long)r->count);
            for (size_t j = 0; j < r->nbytes; j++) fprintf(f, "%02x", r->bytes[j]);
            fprintf(f, "\n");
        }
    fclose(f);
}
__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const void *info,
                                                               int argc, char **argv) {
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
    qemu_plugin_register_atexit_cb(id, dump_at_exit, NULL);
    return 0;
}
