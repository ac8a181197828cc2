/*
 * fuzz_csv_import.c - the people CSV import on arbitrary bytes, against a
 * temporary store holding org "alpha" with one person (mary), so that
 * managers, existing people and existing accounts are all reachable.
 *
 * Beyond "never crash": the import is all or nothing, so a success must
 * add exactly the number of people it reports and a failure must add none.
 * After a success the store is put back to its first state, so every input
 * runs against the same data and crashes reproduce.
 */
#include "admin/people.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/crypto.h"
#include "store/model.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pt_store *store;
static pt_config cfg;
static char dir[] = "/dev/shm/pt_fuzz_csv_XXXXXX";

static int seed_txn(pt_txn *txn, void *ctx)
{
    (void)ctx;
    json_t *org = json_pack("{s:s, s:s, s:{s:i}}", "id", "alpha", "name", "Alpha", "settings",
                            "leaver_access_days", 90);
    json_t *mary =
        json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "username", "mary", "display_name", "Mary",
                  "email", "mary@x.org", "status", "employee", "roles", "hr_admin");
    int err = pt_org_put(txn, org);
    if (err == 0)
        err = pt_people_insert(txn, "alpha", mary, NULL, NULL);
    json_decref(org);
    json_decref(mary);
    return err;
}

/* Keys are collected first and deleted after the scan. */
static int collect_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    (void)val;
    json_array_append_new(ctx, json_stringn_nocheck(key->data, key->len));
    return 0;
}

static int reset_txn(pt_txn *txn, void *ctx)
{
    (void)ctx;
    static const pt_table tables[] = {PT_T_ACCOUNTS, PT_T_PEOPLE, PT_T_AUDIT};
    int err = 0;
    for (size_t t = 0; t < PT_ARRAY_LEN(tables) && !err; t++) {
        json_t *keys = json_array();
        size_t i;
        json_t *k;
        err = pt_txn_scan(txn, tables[t], "", 0, NULL, 0, false, collect_cb, keys);
        json_array_foreach(keys, i, k)
        {
            if (!err)
                err = pt_txn_del(txn, tables[t], json_string_value(k), json_string_length(k));
        }
        json_decref(keys);
    }
    return err ? err : seed_txn(txn, NULL);
}

static int count_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    (void)key;
    (void)val;
    (*(size_t *)ctx)++;
    return 0;
}

static int count_txn(pt_txn *txn, void *ctx)
{
    pt_key k;
    *(size_t *)ctx = 0;
    if (pt_key_build(&k, "alpha", NULL) < 0 || pt_key_as_prefix(&k) < 0)
        return PT_ERR;
    return pt_txn_scan(txn, PT_T_PEOPLE, k.buf, k.len, NULL, 0, false, count_cb, ctx);
}

static size_t people(void)
{
    size_t n = 0;
    if (pt_store_read(store, count_txn, &n) != 0)
        abort();
    return n;
}

static void cleanup(void)
{
    char cmd[128];
    pt_store_close(store);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pt_store_options opts = PT_STORE_OPTIONS_INIT;
    pt_config_defaults(&cfg);
    cfg.pwhash_ops = crypto_pwhash_OPSLIMIT_MIN;
    cfg.pwhash_mem = crypto_pwhash_MEMLIMIT_MIN;
    pt_clock_set_fixed_ms(1767225600000); /* 2026-01-01 */
    if (pt_crypto_init() < 0 || !mkdtemp(dir) || pt_store_open(&store, dir, &opts) != 0 ||
        pt_store_write(store, seed_txn, NULL) != 0) {
        fprintf(stderr, "fuzz_csv_import: setup failed: %s\n", pt_error_last());
        abort();
    }
    atexit(cleanup);
    return 0;
}

static void progress(void *ctx, size_t done, size_t total)
{
    size_t *last = ctx;
    if (done > total || done <= *last)
        abort();
    *last = done;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t imported = 12345, before = people(), last = 0;
    json_t *errors = NULL;
    int err = pt_people_import_csv(&imported, &errors, store, &cfg, "alpha", "fuzzer",
                                   (const char *)data, size, 0, progress, &last);
    size_t after = people();
    if (err == 0) {
        if (errors || after - before != imported || after < before) {
            fprintf(stderr, "import said %zu, people went %zu -> %zu\n", imported, before, after);
            abort();
        }
        if (imported && pt_store_write(store, reset_txn, NULL) != 0)
            abort();
    } else {
        if (err != PT_EINVAL || imported != 0 || after != before) {
            fprintf(stderr, "failed import (%d) changed people %zu -> %zu or said %zu\n", err,
                    before, after, imported);
            abort();
        }
        size_t i;
        json_t *e;
        json_array_foreach(errors, i, e)
        {
            if (!json_is_integer(json_object_get(e, "row")) ||
                !json_is_string(json_object_get(e, "pointer")) ||
                !json_is_string(json_object_get(e, "message")))
                abort();
        }
        if (errors && json_array_size(errors) == 0)
            abort();
    }
    json_decref(errors);
    return 0;
}
