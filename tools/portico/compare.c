/*
 * compare.c - whether two stores hold the same records: per table, the
 * number of records and a SHA-256 over every (key, value) in key order.
 *
 * Both backends return scans in the same order (memcmp of the key bytes,
 * shorter first), so equal stores give equal digests whatever their
 * backend.  Each store is read in one snapshot, so a store being written
 * meanwhile still gives a consistent answer (then, of course, a
 * difference).
 */
#include "base/common.h"
#include "cli.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

typedef struct table_sum {
    size_t count;
    unsigned char digest[crypto_hash_sha256_BYTES];
} table_sum;

typedef struct sum_ctx {
    crypto_hash_sha256_state h;
    table_sum sums[PT_T__COUNT];
    pt_table table;
} sum_ctx;

/* Lengths go in before the bytes so that ("ab","c") and ("a","bc") differ. */
static void hash_part(crypto_hash_sha256_state *h, const pt_val *v)
{
    unsigned char be[8];
    uint64_t n = v->len;
    for (int i = 7; i >= 0; i--, n >>= 8)
        be[i] = (unsigned char)(n & 0xff);
    crypto_hash_sha256_update(h, be, sizeof be);
    if (v->len)
        crypto_hash_sha256_update(h, v->data, v->len);
}

static int sum_record(const pt_val *key, const pt_val *val, void *arg)
{
    sum_ctx *x = arg;
    x->sums[x->table].count++;
    hash_part(&x->h, key);
    hash_part(&x->h, val);
    return 0;
}

static int sum_txn(pt_txn *txn, void *arg)
{
    sum_ctx *x = arg;
    memset(x->sums, 0, sizeof x->sums);
    for (int t = 0; t < PT_T__COUNT; t++) {
        x->table = (pt_table)t;
        crypto_hash_sha256_init(&x->h);
        int rc = pt_txn_scan(txn, x->table, NULL, 0, NULL, 0, false, sum_record, x);
        if (rc != 0)
            return rc;
        crypto_hash_sha256_final(&x->h, x->sums[t].digest);
    }
    return 0;
}

/*
 * Prints one line per table (name, count on each side, the first bytes
 * of the digests, same/DIFFERENT) and returns how many tables differ, or
 * -1 when a store cannot be read (message printed).
 */
int cli_compare_stores(pt_store *a, const char *a_name, pt_store *b, const char *b_name)
{
    static sum_ctx sa, sb; /* two SHA-256 states and sums: keep off the stack */
    if (pt_store_read(a, sum_txn, &sa) < 0) {
        cli_fail("compare: cannot read %s: %s", a_name, cli_detail());
        return -1;
    }
    if (pt_store_read(b, sum_txn, &sb) < 0) {
        cli_fail("compare: cannot read %s: %s", b_name, cli_detail());
        return -1;
    }
    int differ = 0;
    printf("%-13s %10s %10s  %-16s %-16s\n", "table", a_name, b_name, "sha256", "sha256");
    for (int t = 0; t < PT_T__COUNT; t++) {
        char ha[17], hb[17];
        sodium_bin2hex(ha, sizeof ha, sa.sums[t].digest, 8);
        sodium_bin2hex(hb, sizeof hb, sb.sums[t].digest, 8);
        bool same = sa.sums[t].count == sb.sums[t].count &&
                    memcmp(sa.sums[t].digest, sb.sums[t].digest, sizeof sa.sums[t].digest) == 0;
        printf("%-13s %10zu %10zu  %-16s %-16s %s\n", pt_table_name((pt_table)t), sa.sums[t].count,
               sb.sums[t].count, ha, hb, same ? "same" : "DIFFERENT");
        differ += !same;
    }
    return differ;
}
