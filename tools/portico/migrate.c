/*
 * migrate.c - `portico migrate --from DIR --to URL`: copy a whole LMDB
 * store into an empty PostgreSQL database, then compare the two.
 *
 * The copy is one PostgreSQL transaction reading one LMDB snapshot (the
 * records go in batches, one INSERT each, pt_txn_put_many): it either
 * lands whole or not at all, so a migration that fails half way
 * (network, disk, a full database) leaves the target empty and is simply
 * run again.  Every table is copied as raw records, so orgs, people,
 * sessions (refresh tokens keep working), audit, every portlet's data,
 * counters, sequences and the cursor secrets arrive byte for byte.  The
 * signing keys are files in the data directory, not records: porticod
 * keeps reading them from --data DIR beside --store URL.
 */
#include "base/common.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

#define MIGRATE_USAGE "usage: portico migrate --from DIR --to postgres://..."
/* Records per statement (pt_txn_put_many), and the bytes that flush a
 * batch early, so big values do not make one huge statement. */
#define MIGRATE_BATCH       1000
#define MIGRATE_BATCH_BYTES (8u << 20)

typedef struct migrate_ctx {
    pt_txn *src; /* the LMDB snapshot: its values stay valid until it ends */
    pt_txn *dst; /* the PostgreSQL write transaction */
    pt_table table;
    size_t count[PT_T__COUNT];
    pt_rec batch[MIGRATE_BATCH];
    size_t n, bytes;
} migrate_ctx;

static int flush_batch(migrate_ctx *x)
{
    int rc = pt_txn_put_many(x->dst, x->table, x->batch, x->n);
    if (rc == 0)
        x->count[x->table] += x->n;
    x->n = 0;
    x->bytes = 0;
    return rc;
}

static int found_record(const pt_val *key, const pt_val *val, void *arg)
{
    (void)key;
    (void)val;
    (void)arg;
    return PT_EEXISTS;
}

static int copy_record(const pt_val *key, const pt_val *val, void *arg)
{
    migrate_ctx *x = arg;
    x->batch[x->n++] = (pt_rec){key->data, key->len, val->data, val->len};
    x->bytes += key->len + val->len;
    if (x->n == MIGRATE_BATCH || x->bytes >= MIGRATE_BATCH_BYTES)
        return flush_batch(x);
    return 0;
}

/*
 * The write callback: refuse a target that holds any record (a porticod
 * that has served it has at least its admin account and cursor secret,
 * and merging two installations is not a migration), then copy every
 * table.  It may run again after a serialization failure, so the counts
 * start from zero each time.
 */
static int migrate_txn(pt_txn *dst, void *arg)
{
    migrate_ctx *x = arg;
    x->dst = dst;
    memset(x->count, 0, sizeof x->count);
    x->n = 0;
    x->bytes = 0;
    for (int t = 0; t < PT_T__COUNT; t++) {
        int rc = pt_txn_scan(dst, (pt_table)t, NULL, 0, NULL, 0, false, found_record, NULL);
        if (rc == PT_EEXISTS) {
            pt_error_set("the target database is not empty (table %s has records); migrate only "
                         "into a database no porticod has used",
                         pt_table_name((pt_table)t));
            return rc;
        }
        if (rc != 0)
            return rc;
    }
    for (int t = 0; t < PT_T__COUNT; t++) {
        x->table = (pt_table)t;
        int rc = pt_txn_scan(x->src, x->table, NULL, 0, NULL, 0, false, copy_record, x);
        if (rc == 0 && x->n > 0)
            rc = flush_batch(x);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cmd_migrate(cli *c, int argc, char **argv)
{
    opt opts[] = {{"from", false, NULL, false}, {"to", false, NULL, false}, {NULL, 0, 0, 0}};
    const char *pos[1];
    int npos, rc;
    if ((rc = cli_parse_args(argc, argv, opts, pos, 0, &npos)) != 0)
        return rc;
    const char *from = opts[0].value, *to = opts[1].value;
    if (!from || !to || !*from)
        return cli_usage_error(MIGRATE_USAGE);
    if (!pt_store_is_url(to))
        return cli_usage_error("migrate: --to must be a postgres:// or postgresql:// URL");
    if (pt_store_is_url(from) || !cli_store_exists(from))
        return cli_fail("migrate: --from must be a data directory holding a store (no store in "
                        "%s)",
                        from);

    pt_store *src = NULL, *dst = NULL;
    if ((rc = cli_open_at(&src, from, &c->cfg)) != 0)
        return rc;
    if ((rc = cli_open_at(&dst, to, &c->cfg)) != 0) {
        pt_store_close(src);
        return rc;
    }
    static migrate_ctx x; /* the batch is 40 KB: not on the stack */
    memset(&x, 0, sizeof x);
    if (pt_store_snapshot_begin(src, &x.src) < 0) {
        rc = cli_fail("migrate: cannot read %s: %s", from, cli_detail());
    } else {
        if (pt_store_write(dst, migrate_txn, &x) < 0)
            rc = cli_fail("migrate: %s; nothing was copied", cli_detail());
        pt_store_snapshot_end(x.src);
    }
    if (rc == 0) {
        size_t total = 0;
        printf("copied (one transaction):\n");
        for (int t = 0; t < PT_T__COUNT; t++) {
            printf("  %-13s %zu\n", pt_table_name((pt_table)t), x.count[t]);
            total += x.count[t];
        }
        printf("  %-13s %zu\n", "total", total);
        printf("compared:\n");
        int differ = cli_compare_stores(src, "lmdb", dst, "postgres");
        if (differ != 0)
            rc = differ < 0 ? 1 : cli_fail("migrate: %d table(s) differ after the copy", differ);
        else
            printf("ok: both stores hold the same records\n");
    }
    pt_store_close(dst);
    pt_store_close(src);
    return rc;
}
