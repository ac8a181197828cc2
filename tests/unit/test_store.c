/*
 * test_store.c - the store: persistence, CRUD, prefix scans and
 * pagination, counters, aborts, map growth (alone and under concurrent
 * readers) and online backup.
 *
 * With PORTICO_TEST_STORE set to a postgres:// URL (tests/integration/
 * run_on_postgres.py does), the backend-neutral tests run again on fresh
 * PostgreSQL databases created there, plus writers on two store handles
 * (two nodes) racing on one counter.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check.h"
#include "store/store.h"

#include <ftw.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_root[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", g_root, name);
}

static pt_store *open_store(const char *dir, size_t map_size)
{
    pt_store_options o = PT_STORE_OPTIONS_INIT;
    o.map_size = map_size;
    pt_store *s = NULL;
    int rc = pt_store_open(&s, dir, &o);
    if (rc != 0) {
        fprintf(stderr, "open %s failed: %d %s\n", dir, rc, pt_error_last());
        failures++;
        return NULL;
    }
    return s;
}

/* ---- simple operations ------------------------------------------------ */

struct kv {
    pt_table t;
    const char *key;
    size_t klen;
    const char *val;
    int rc; /* result of the operation */
    char got[256];
    size_t got_len;
};

static int put_cb(pt_txn *txn, void *ctx)
{
    struct kv *kv = ctx;
    kv->rc = pt_txn_put(txn, kv->t, kv->key, kv->klen, kv->val, strlen(kv->val));
    return kv->rc;
}

static int insert_cb(pt_txn *txn, void *ctx)
{
    struct kv *kv = ctx;
    kv->rc = pt_txn_insert(txn, kv->t, kv->key, kv->klen, kv->val, strlen(kv->val));
    return kv->rc;
}

static int del_cb(pt_txn *txn, void *ctx)
{
    struct kv *kv = ctx;
    kv->rc = pt_txn_del(txn, kv->t, kv->key, kv->klen);
    return kv->rc;
}

static int get_cb(pt_txn *txn, void *ctx)
{
    struct kv *kv = ctx;
    pt_val v;
    kv->got_len = 0;
    kv->rc = pt_txn_get(txn, kv->t, kv->key, kv->klen, &v);
    if (kv->rc == 0) {
        kv->got_len = v.len < sizeof(kv->got) - 1 ? v.len : sizeof(kv->got) - 1;
        memcpy(kv->got, v.data, kv->got_len);
        kv->got[kv->got_len] = '\0';
    }
    return 0;
}

static int do_put(pt_store *s, pt_table t, const char *key, const char *val)
{
    struct kv kv = {.t = t, .key = key, .klen = strlen(key), .val = val};
    return pt_store_write(s, put_cb, &kv);
}

/* Returns the value (static buffer) or NULL if not found. */
static const char *do_get(pt_store *s, pt_table t, const char *key, size_t klen)
{
    static struct kv kv;
    memset(&kv, 0, sizeof(kv));
    kv.t = t;
    kv.key = key;
    kv.klen = klen;
    if (pt_store_read(s, get_cb, &kv) != 0 || kv.rc != 0)
        return NULL;
    return kv.got;
}

static void test_persistence(void)
{
    char dir[300];
    tmp_path(dir, sizeof(dir), "persist/nested");
    pt_store *s = open_store(dir, 0);
    if (!s)
        return;
    CHECK(do_put(s, PT_T_ORGS, "trust-a", "{\"name\":\"A\"}") == 0);
    CHECK(do_put(s, PT_T_ACCOUNTS, "trust-a", "account") == 0);
    pt_store_close(s);

    struct stat st;
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);

    s = open_store(dir, 0);
    if (!s)
        return;
    const char *v = do_get(s, PT_T_ORGS, "trust-a", 7);
    CHECK(v && strcmp(v, "{\"name\":\"A\"}") == 0);
    v = do_get(s, PT_T_ACCOUNTS, "trust-a", 7);
    CHECK(v && strcmp(v, "account") == 0); /* tables are separate */
    CHECK(do_get(s, PT_T_PEOPLE, "trust-a", 7) == NULL);
    pt_store_close(s);
}

static void test_crud(pt_store *s)
{
    struct kv kv = {.t = PT_T_ACCOUNTS, .key = "alice", .klen = 5, .val = "v1"};
    CHECK(pt_store_write(s, insert_cb, &kv) == 0);
    kv.val = "v2";
    CHECK(pt_store_write(s, insert_cb, &kv) == PT_EEXISTS);
    const char *v = do_get(s, PT_T_ACCOUNTS, "alice", 5);
    CHECK(v && strcmp(v, "v1") == 0);
    CHECK(pt_store_write(s, put_cb, &kv) == 0);
    v = do_get(s, PT_T_ACCOUNTS, "alice", 5);
    CHECK(v && strcmp(v, "v2") == 0);

    CHECK(do_get(s, PT_T_ACCOUNTS, "alic", 4) == NULL);
    CHECK(do_get(s, PT_T_ACCOUNTS, "alice2", 6) == NULL);
    CHECK(pt_store_read(s, get_cb, &(struct kv){.t = PT_T_ACCOUNTS, .key = "x", .klen = 1}) == 0);

    CHECK(pt_store_write(s, del_cb, &kv) == 0);
    CHECK(do_get(s, PT_T_ACCOUNTS, "alice", 5) == NULL);
    CHECK(pt_store_write(s, del_cb, &kv) == PT_ENOTFOUND);

    /* Keys with embedded NULs are byte strings, not C strings. */
    struct kv bin = {.t = PT_T_PEOPLE, .key = "a\0b", .klen = 3, .val = "bin"};
    CHECK(pt_store_write(s, put_cb, &bin) == 0);
    CHECK(do_get(s, PT_T_PEOPLE, "a\0b", 3) != NULL);
    CHECK(do_get(s, PT_T_PEOPLE, "a", 1) == NULL);

    /* Bad input is an error, not a crash. */
    struct kv empty = {.t = PT_T_PEOPLE, .key = "", .klen = 0, .val = "x"};
    CHECK(pt_store_write(s, put_cb, &empty) == PT_EINVAL);
    struct kv badt = {.t = (pt_table)99, .key = "k", .klen = 1, .val = "x"};
    CHECK(pt_store_write(s, put_cb, &badt) == PT_EINVAL);
    char big[600];
    memset(big, 'k', sizeof(big));
    struct kv bigk = {.t = PT_T_PEOPLE, .key = big, .klen = sizeof(big), .val = "x"};
    CHECK(pt_store_write(s, put_cb, &bigk) < 0);
    /* A put inside a read transaction is refused. */
    struct kv ro = {.t = PT_T_PEOPLE, .key = "ro", .klen = 2, .val = "x"};
    CHECK(pt_store_read(s, put_cb, &ro) == PT_EINVAL);
}

/* ---- a transaction reads its own writes -------------------------------- */

static bool val_is(const pt_val *v, const char *want)
{
    return v->len == strlen(want) && memcmp(v->data, want, v->len) == 0;
}

/*
 * Reads, writes and deletes of one key inside one write transaction: each
 * get answers what the transaction last did to the key (PostgreSQL
 * remembers the gets of a transaction, so a put or delete must make it
 * forget them).
 */
static int own_writes_cb(pt_txn *txn, void *ctx)
{
    int *ok = ctx;
    pt_val v;
    *ok = 0;
    if (pt_txn_get(txn, PT_T_SESSIONS, "own", 3, &v) != PT_ENOTFOUND)
        return 0;
    if (pt_txn_put(txn, PT_T_SESSIONS, "own", 3, "v1", 2) != 0 ||
        pt_txn_get(txn, PT_T_SESSIONS, "own", 3, &v) != 0 || !val_is(&v, "v1"))
        return 0;
    if (pt_txn_put(txn, PT_T_SESSIONS, "own", 3, "v2", 2) != 0 ||
        pt_txn_get(txn, PT_T_SESSIONS, "own", 3, &v) != 0 || !val_is(&v, "v2"))
        return 0;
    if (pt_txn_del(txn, PT_T_SESSIONS, "own", 3) != 0 ||
        pt_txn_get(txn, PT_T_SESSIONS, "own", 3, &v) != PT_ENOTFOUND)
        return 0;
    if (pt_txn_insert(txn, PT_T_SESSIONS, "own", 3, "v3", 2) != 0 ||
        pt_txn_get(txn, PT_T_SESSIONS, "own", 3, &v) != 0 || !val_is(&v, "v3"))
        return 0;
    /* More distinct keys than a transaction remembers, each read twice. */
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 80; i++) {
            char k[16], want[16];
            snprintf(k, sizeof(k), "own%02d", i);
            snprintf(want, sizeof(want), "w%d", i);
            if (round == 0 && pt_txn_put(txn, PT_T_SESSIONS, k, strlen(k), want, strlen(want)) != 0)
                return 0;
            if (pt_txn_get(txn, PT_T_SESSIONS, k, strlen(k), &v) != 0 || !val_is(&v, want))
                return 0;
        }
    *ok = 1;
    return 0;
}

static int read_twice_cb(pt_txn *txn, void *ctx)
{
    int *ok = ctx;
    pt_val a, b;
    *ok = pt_txn_get(txn, PT_T_SESSIONS, "own", 3, &a) == 0 &&
          pt_txn_get(txn, PT_T_SESSIONS, "own", 3, &b) == 0 && val_is(&a, "v3") &&
          val_is(&b, "v3") && pt_txn_get(txn, PT_T_SESSIONS, "nope", 4, &a) == PT_ENOTFOUND &&
          pt_txn_get(txn, PT_T_SESSIONS, "nope", 4, &a) == PT_ENOTFOUND;
    return 0;
}

static void test_own_writes(pt_store *s)
{
    int ok = 0;
    CHECK(pt_store_write(s, own_writes_cb, &ok) == 0 && ok);
    CHECK(pt_store_read(s, read_twice_cb, &ok) == 0 && ok);
    const char *v = do_get(s, PT_T_SESSIONS, "own", 3);
    CHECK(v && strcmp(v, "v3") == 0);
}

/* ---- many puts at once -------------------------------------------------- */

/*
 * pt_txn_put_many writes exactly the bytes n puts would (binary keys with
 * NUL and 0xff, an empty value, quotes and backslashes), overwrites, is
 * seen by a later get of the same transaction, and refuses a bad key.
 */
static int put_many_cb(pt_txn *txn, void *ctx)
{
    int *ok = ctx;
    pt_val v;
    *ok = 0;
    if (pt_txn_put(txn, PT_T_PORTLET_DATA, "m\0a", 3, "old", 3) != 0 ||
        pt_txn_get(txn, PT_T_PORTLET_DATA, "m\0a", 3, &v) != 0)
        return 0;
    pt_rec recs[] = {
        {"m\0a", 3, "new", 3},
        {"m\0\xff\x01", 4, "", 0},
        {"m\0q", 3, "\"{\\}\",\0x", 8},
    };
    if (pt_txn_put_many(txn, PT_T_PORTLET_DATA, recs, 3) != 0)
        return 0;
    if (pt_txn_get(txn, PT_T_PORTLET_DATA, "m\0a", 3, &v) != 0 || !val_is(&v, "new"))
        return 0;
    if (pt_txn_get(txn, PT_T_PORTLET_DATA, "m\0\xff\x01", 4, &v) != 0 || v.len != 0)
        return 0;
    if (pt_txn_get(txn, PT_T_PORTLET_DATA, "m\0q", 3, &v) != 0 || v.len != 8 ||
        memcmp(v.data, "\"{\\}\",\0x", 8) != 0)
        return 0;
    *ok = 1;
    return 0;
}

static int put_many_bad_cb(pt_txn *txn, void *ctx)
{
    (void)ctx;
    pt_rec recs[] = {{"ok", 2, "v", 1}, {"", 0, "v", 1}};
    return pt_txn_put_many(txn, PT_T_PORTLET_DATA, recs, 2);
}

static int put_many_clean_cb(pt_txn *txn, void *ctx)
{
    (void)ctx;
    int rc = pt_txn_del(txn, PT_T_PORTLET_DATA, "m\0a", 3);
    if (rc == 0)
        rc = pt_txn_del(txn, PT_T_PORTLET_DATA, "m\0\xff\x01", 4);
    return rc == 0 ? pt_txn_del(txn, PT_T_PORTLET_DATA, "m\0q", 3) : rc;
}

static void test_put_many(pt_store *s)
{
    int ok = 0;
    CHECK(pt_store_write(s, put_many_cb, &ok) == 0 && ok);
    const char *v = do_get(s, PT_T_PORTLET_DATA, "m\0q", 3);
    CHECK(v && memcmp(v, "\"{\\}\",\0x", 8) == 0);
    CHECK(pt_store_write(s, put_many_bad_cb, NULL) == PT_EINVAL);
    CHECK(do_get(s, PT_T_PORTLET_DATA, "ok", 2) == NULL);   /* all or nothing */
    CHECK(pt_store_write(s, put_many_clean_cb, NULL) == 0); /* later scans count the table */
}

/* ---- aborts and nesting ----------------------------------------------- */

static int put_then_fail_cb(pt_txn *txn, void *ctx)
{
    (void)ctx;
    int rc = pt_txn_put(txn, PT_T_ORGS, "ghost", 5, "boo", 3);
    if (rc != 0)
        return rc;
    uint64_t seq;
    pt_txn_next_seq(txn, "ghost", &seq);
    return PT_EINVAL;
}

static int nested_write_cb(pt_txn *txn, void *ctx)
{
    pt_store *s = ctx;
    int rc = pt_txn_put(txn, PT_T_ORGS, "outer", 5, "1", 1);
    if (rc != 0)
        return rc;
    /* A read inside a write sees committed data only; it must not deadlock. */
    if (do_get(s, PT_T_ORGS, "outer", 5) != NULL)
        return PT_ERR;
    struct kv kv = {.t = PT_T_ORGS, .key = "inner", .klen = 5, .val = "2"};
    rc = pt_store_write(s, put_cb, &kv);
    return rc == PT_ECONFLICT ? 0 : PT_ERR;
}

static int write_in_read_cb(pt_txn *txn, void *ctx)
{
    (void)txn;
    struct kv kv = {.t = PT_T_ORGS, .key = "from-read", .klen = 9, .val = "x"};
    return pt_store_write(ctx, put_cb, &kv);
}

static void test_abort(pt_store *s)
{
    CHECK(pt_store_read(s, write_in_read_cb, s) == PT_ECONFLICT);
    CHECK(do_get(s, PT_T_ORGS, "from-read", 9) == NULL);
    CHECK(do_put(s, PT_T_ORGS, "from-read", "y") == 0); /* and nothing is left locked */

    CHECK(pt_store_write(s, put_then_fail_cb, NULL) == PT_EINVAL);
    CHECK(do_get(s, PT_T_ORGS, "ghost", 5) == NULL);
    CHECK(do_get(s, PT_T_META, "seq\0ghost", 9) == NULL);

    CHECK(pt_store_write(s, nested_write_cb, s) == 0);
    CHECK(do_get(s, PT_T_ORGS, "outer", 5) != NULL);
    CHECK(do_get(s, PT_T_ORGS, "inner", 5) == NULL);
}

/* ---- transaction-local reads and writes ------------------------------- */

/* The value of (t, org\0name) in txn as a string in buf ("" if absent). */
static const char *txn_get_str(pt_txn *txn, pt_table t, const char *org, const char *name,
                               char *buf, size_t n)
{
    pt_key k;
    pt_val v;
    buf[0] = '\0';
    if (pt_key_build(&k, org, name, NULL) != 0 || pt_txn_get(txn, t, k.buf, k.len, &v) != 0)
        return buf;
    snprintf(buf, n, "%.*s", (int)v.len, (const char *)v.data);
    return buf;
}

static int txn_put_str(pt_txn *txn, const char *org, const char *name, const char *val)
{
    pt_key k;
    int rc = pt_key_build(&k, org, name, NULL);
    return rc ? rc : pt_txn_put(txn, PT_T_PORTLET_CONF, k.buf, k.len, val, strlen(val));
}

static int prefetch_org(pt_txn *txn, const char *org)
{
    pt_key k;
    int rc = pt_key_build(&k, org, NULL);
    if (rc == 0)
        rc = pt_key_as_prefix(&k);
    return rc ? rc : pt_txn_prefetch(txn, PT_T_PORTLET_CONF, k.buf, k.len);
}

static int seed_confs_cb(pt_txn *txn, void *ctx)
{
    (void)ctx;
    int rc = txn_put_str(txn, "o1", "a", "1");
    if (rc == 0)
        rc = txn_put_str(txn, "o1", "b", "2");
    if (rc == 0)
        rc = txn_put_str(txn, "o2", "a", "x");
    for (int i = 0; rc == 0 && i < 300; i++) {
        char name[16];
        snprintf(name, sizeof(name), "k%03d", i);
        rc = txn_put_str(txn, "o3", name, name);
    }
    return rc;
}

/* After a prefetch, present keys, absent keys of the range and keys of
 * other ranges all read as without it; a range too big to prefetch whole
 * still answers its last key. */
static int prefetch_read_cb(pt_txn *txn, void *ctx)
{
    (void)ctx;
    char b[64];
    CHECK(prefetch_org(txn, "o1") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "a", b, sizeof(b)), "1") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "b", b, sizeof(b)), "2") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "c", b, sizeof(b)), "") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o2", "a", b, sizeof(b)), "x") == 0);
    CHECK(prefetch_org(txn, "o3") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o3", "k299", b, sizeof(b)), "k299") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o3", "k000", b, sizeof(b)), "k000") == 0);
    return 0;
}

/* A write transaction reads its own writes, before and after a prefetch
 * of the same range, and an insert of a key known absent succeeds. */
static int prefetch_write_cb(pt_txn *txn, void *ctx)
{
    (void)ctx;
    char b[64];
    pt_key a, d;
    pt_key_build(&a, "o1", "a", NULL);
    pt_key_build(&d, "o1", "d", NULL);
    int rc = txn_put_str(txn, "o1", "c", "3");
    if (rc == 0)
        rc = pt_txn_del(txn, PT_T_PORTLET_CONF, a.buf, a.len);
    if (rc == 0)
        rc = prefetch_org(txn, "o1");
    if (rc != 0)
        return rc;
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "a", b, sizeof(b)), "") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "c", b, sizeof(b)), "3") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "b", b, sizeof(b)), "2") == 0);
    CHECK(pt_txn_del(txn, PT_T_PORTLET_CONF, a.buf, a.len) == PT_ENOTFOUND);
    return pt_txn_insert(txn, PT_T_PORTLET_CONF, d.buf, d.len, "4", 1);
}

/* Keys asked for together read as they would one by one: present, absent,
 * outside any table or empty (skipped), and in a write transaction its own
 * unsent write rather than the server's row. */
static int prefetch_keys_cb(pt_txn *txn, void *ctx)
{
    (void)ctx;
    char b[64];
    pt_key present, absent, mine;
    pt_key_build(&present, "o1", "b", NULL);
    pt_key_build(&absent, "o1", "zz", NULL);
    pt_key_build(&mine, "o1", "b2", NULL);
    if (pt_txn_is_write(txn)) {
        int rc = txn_put_str(txn, "o1", "b2", "mine");
        if (rc == 0)
            rc = txn_put_str(txn, "o1", "b", "overwritten");
        if (rc != 0)
            return rc;
    }
    pt_keyref keys[] = {
        {PT_T_PORTLET_CONF, present.buf, present.len},
        {PT_T_PORTLET_CONF, absent.buf, absent.len},
        {PT_T_PORTLET_CONF, mine.buf, mine.len},
        {PT_T_ORGS, "no-such-org", 11},
        {(pt_table)99, "x", 1},
        {PT_T_ORGS, "", 0},
    };
    CHECK(pt_txn_prefetch_keys(txn, keys, sizeof(keys) / sizeof(keys[0])) == 0);
    bool w = pt_txn_is_write(txn);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "b", b, sizeof(b)),
                 w ? "overwritten" : "2") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "zz", b, sizeof(b)), "") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "b2", b, sizeof(b)), w ? "mine" : "") ==
          0);
    pt_val v;
    CHECK(pt_txn_get(txn, PT_T_ORGS, "no-such-org", 11, &v) == PT_ENOTFOUND);
    return PT_ECONFLICT; /* roll the write back */
}

static int count_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    (void)key;
    (void)val;
    (*(int *)ctx)++;
    return 0;
}

/* More writes than one flush sends, a value written twice, then a scan
 * and gets in the same transaction: the scan sees every write once and a
 * get sees the last value. */
static int many_writes_cb(pt_txn *txn, void *ctx)
{
    (void)ctx;
    char b[64];
    int rc = 0;
    for (int i = 0; rc == 0 && i < 1500; i++) {
        char name[16];
        snprintf(name, sizeof(name), "m%04d", i);
        rc = txn_put_str(txn, "o4", name, "first");
        if (rc == 0)
            rc = txn_put_str(txn, "o4", name, name);
    }
    if (rc != 0)
        return rc;
    pt_key pre;
    pt_key_build(&pre, "o4", NULL);
    pt_key_as_prefix(&pre);
    int n = 0;
    CHECK(pt_txn_scan(txn, PT_T_PORTLET_CONF, pre.buf, pre.len, NULL, 0, false, count_cb, &n) == 0);
    CHECK(n == 1500);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o4", "m1499", b, sizeof(b)), "m1499") == 0);
    return 0;
}

static int after_writes_cb(pt_txn *txn, void *ctx)
{
    (void)ctx;
    char b[64];
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "a", b, sizeof(b)), "") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "c", b, sizeof(b)), "3") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o1", "d", b, sizeof(b)), "4") == 0);
    CHECK(strcmp(txn_get_str(txn, PT_T_PORTLET_CONF, "o4", "m0000", b, sizeof(b)), "m0000") == 0);
    return 0;
}

static void test_txn_local(pt_store *s)
{
    CHECK(pt_store_write(s, seed_confs_cb, NULL) == 0);
    CHECK(pt_store_read(s, prefetch_read_cb, NULL) == 0);
    CHECK(pt_store_write(s, prefetch_write_cb, NULL) == 0);
    CHECK(pt_store_read(s, prefetch_keys_cb, NULL) == PT_ECONFLICT);
    CHECK(pt_store_write(s, prefetch_keys_cb, NULL) == PT_ECONFLICT);
    CHECK(pt_store_write(s, many_writes_cb, NULL) == 0);
    CHECK(pt_store_read(s, after_writes_cb, NULL) == 0);
}

/* ---- scans ------------------------------------------------------------ */

struct scan_ctx {
    pt_table t;
    const void *prefix;
    size_t plen;
    const void *after;
    size_t alen;
    bool reverse;
    int limit; /* stop after this many (0: no limit) */
    int count;
    char keys[64][64];
    size_t klens[64];
    int rc;
};

static int collect_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    (void)val;
    struct scan_ctx *sc = ctx;
    if (sc->count >= 64 || key->len > 64)
        return PT_ERR;
    memcpy(sc->keys[sc->count], key->data, key->len);
    sc->klens[sc->count] = key->len;
    sc->count++;
    if (sc->limit && sc->count >= sc->limit)
        return PT_ESTOP;
    return 0;
}

static int scan_txn_cb(pt_txn *txn, void *ctx)
{
    struct scan_ctx *sc = ctx;
    sc->count = 0;
    return pt_txn_scan(txn, sc->t, sc->prefix, sc->plen, sc->after, sc->alen, sc->reverse,
                       collect_cb, sc);
}

static int do_scan(pt_store *s, struct scan_ctx *sc)
{
    return pt_store_read(s, scan_txn_cb, sc);
}

static int put_key_cb(pt_txn *txn, void *ctx)
{
    const pt_key *k = ctx;
    return pt_txn_put(txn, PT_T_PEOPLE, k->buf, k->len, "p", 1);
}

static void put_person(pt_store *s, const char *org, const char *user)
{
    pt_key k;
    CHECK(pt_key_build(&k, org, user, NULL) == 0);
    CHECK(pt_store_write(s, put_key_cb, &k) == 0);
}

static bool key_is(const struct scan_ctx *sc, int i, const char *org, const char *user)
{
    pt_key k;
    pt_key_build(&k, org, user, NULL);
    return i < sc->count && sc->klens[i] == k.len && memcmp(sc->keys[i], k.buf, k.len) == 0;
}

static void test_scan_isolation(pt_store *s)
{
    put_person(s, "org", "alice");
    put_person(s, "org", "bob");
    put_person(s, "org-a", "carol");
    put_person(s, "org-a", "dave");
    put_person(s, "orf", "eve");
    put_person(s, "orh", "frank");
    put_person(s, "or", "gina");

    pt_key p;
    CHECK(pt_key_build(&p, "org", NULL) == 0);
    CHECK(pt_key_as_prefix(&p) == 0);
    CHECK(p.len == 4 && memcmp(p.buf, "org\0", 4) == 0);

    struct scan_ctx sc = {.t = PT_T_PEOPLE, .prefix = p.buf, .plen = p.len};
    CHECK(do_scan(s, &sc) == 0);
    CHECK(sc.count == 2);
    CHECK(key_is(&sc, 0, "org", "alice"));
    CHECK(key_is(&sc, 1, "org", "bob"));

    sc.reverse = true;
    CHECK(do_scan(s, &sc) == 0);
    CHECK(sc.count == 2);
    CHECK(key_is(&sc, 0, "org", "bob"));
    CHECK(key_is(&sc, 1, "org", "alice"));

    /* The other org sees only its own. */
    pt_key p2;
    pt_key_build(&p2, "org-a", NULL);
    pt_key_as_prefix(&p2);
    struct scan_ctx sc2 = {.t = PT_T_PEOPLE, .prefix = p2.buf, .plen = p2.len};
    CHECK(do_scan(s, &sc2) == 0);
    CHECK(sc2.count == 2 && key_is(&sc2, 0, "org-a", "carol") && key_is(&sc2, 1, "org-a", "dave"));

    /* Without the separator the raw prefix "org" would also match "org-a":
     * that is exactly why keys are built with pt_key_as_prefix. */
    struct scan_ctx raw = {.t = PT_T_PEOPLE, .prefix = "org", .plen = 3};
    CHECK(do_scan(s, &raw) == 0);
    CHECK(raw.count == 4);

    /* A prefix with no keys, and another table, return nothing. */
    struct scan_ctx none = {.t = PT_T_PEOPLE, .prefix = "nobody\0", .plen = 7};
    CHECK(do_scan(s, &none) == 0 && none.count == 0);
    none.reverse = true;
    CHECK(do_scan(s, &none) == 0 && none.count == 0);
    struct scan_ctx other = {.t = PT_T_AUDIT, .prefix = p.buf, .plen = p.len};
    CHECK(do_scan(s, &other) == 0 && other.count == 0);
}

static void test_scan_pagination(pt_store *s)
{
    char user[16];
    for (int i = 0; i < 25; i++) {
        snprintf(user, sizeof(user), "u%02d", i);
        put_person(s, "page", user);
    }
    put_person(s, "pagf", "z"); /* right after the prefix range */
    put_person(s, "pag", "z");  /* right before it */
    pt_key p;
    pt_key_build(&p, "page", NULL);
    pt_key_as_prefix(&p);

    for (int rev = 0; rev < 2; rev++) {
        char last[64];
        size_t last_len = 0;
        int seen = 0, pages = 0;
        for (;;) {
            struct scan_ctx sc = {.t = PT_T_PEOPLE,
                                  .prefix = p.buf,
                                  .plen = p.len,
                                  .after = last_len ? last : NULL,
                                  .alen = last_len,
                                  .reverse = rev,
                                  .limit = 10};
            CHECK(do_scan(s, &sc) == 0);
            for (int i = 0; i < sc.count; i++) {
                int want = rev ? 24 - (seen + i) : seen + i;
                snprintf(user, sizeof(user), "u%02d", want);
                if (!key_is(&sc, i, "page", user)) {
                    fprintf(stderr, "pagination rev=%d: item %d is not %s\n", rev, seen + i, user);
                    failures++;
                }
            }
            seen += sc.count;
            pages++;
            if (sc.count < 10 || pages > 5)
                break;
            memcpy(last, sc.keys[sc.count - 1], sc.klens[sc.count - 1]);
            last_len = sc.klens[sc.count - 1];
        }
        CHECK(seen == 25);
        CHECK(pages == 3);
    }

    /* `after` outside the prefix range. */
    struct scan_ctx lo = {
        .t = PT_T_PEOPLE, .prefix = p.buf, .plen = p.len, .after = "a", .alen = 1};
    CHECK(do_scan(s, &lo) == 0 && lo.count == 25);
    lo.reverse = true;
    CHECK(do_scan(s, &lo) == 0 && lo.count == 0);
    struct scan_ctx hi = {
        .t = PT_T_PEOPLE, .prefix = p.buf, .plen = p.len, .after = "z", .alen = 1};
    CHECK(do_scan(s, &hi) == 0 && hi.count == 0);
    hi.reverse = true;
    CHECK(do_scan(s, &hi) == 0 && hi.count == 25);
    CHECK(key_is(&hi, 0, "page", "u24"));

    /* An `after` that is not itself a key still splits correctly. */
    pt_key mid;
    pt_key_build(&mid, "page", "u10x", NULL);
    struct scan_ctx m = {
        .t = PT_T_PEOPLE, .prefix = p.buf, .plen = p.len, .after = mid.buf, .alen = mid.len};
    CHECK(do_scan(s, &m) == 0 && m.count == 14 && key_is(&m, 0, "page", "u11"));
    m.reverse = true;
    CHECK(do_scan(s, &m) == 0 && m.count == 11 && key_is(&m, 0, "page", "u10"));
}

static int put_raw_cb(pt_txn *txn, void *ctx)
{
    const char *const *keys = ctx;
    for (int i = 0; keys[i]; i++) {
        int rc = pt_txn_put(txn, PT_T_PORTLET_DATA, keys[i], 3, "v", 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int fail_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    (void)key;
    (void)val;
    (void)ctx;
    return PT_EIO;
}

static int scan_fail_txn(pt_txn *txn, void *ctx)
{
    (void)ctx;
    return pt_txn_scan(txn, PT_T_PORTLET_DATA, NULL, 0, NULL, 0, false, fail_cb, NULL);
}

/* Prefixes ending in 0xff have no simple successor; reverse scans must cope. */
static void test_scan_ff(pt_store *s)
{
    const char *keys[] = {"\x01\xff\x01", "\x01\xff\xff", "\x02\x00\x00",
                          "\xff\xff\x01", "\xff\xff\xff", NULL};
    CHECK(pt_store_write(s, put_raw_cb, keys) == 0);
    struct scan_ctx sc = {.t = PT_T_PORTLET_DATA, .prefix = "\x01\xff", .plen = 2, .reverse = true};
    CHECK(do_scan(s, &sc) == 0 && sc.count == 2 && memcmp(sc.keys[0], "\x01\xff\xff", 3) == 0);
    struct scan_ctx sc2 = {
        .t = PT_T_PORTLET_DATA, .prefix = "\xff\xff", .plen = 2, .reverse = true};
    CHECK(do_scan(s, &sc2) == 0 && sc2.count == 2 && memcmp(sc2.keys[0], "\xff\xff\xff", 3) == 0);
    struct scan_ctx all = {.t = PT_T_PORTLET_DATA};
    CHECK(do_scan(s, &all) == 0 && all.count == 5);
    all.reverse = true;
    CHECK(do_scan(s, &all) == 0 && all.count == 5 && memcmp(all.keys[4], "\x01\xff\x01", 3) == 0);
    /* A callback error comes back from the scan. */
    CHECK(pt_store_read(s, scan_fail_txn, NULL) == PT_EIO);
}

/* ---- counters, JSON, keys --------------------------------------------- */

struct seq_ctx {
    const char *name;
    uint64_t v;
};

static int seq_cb(pt_txn *txn, void *ctx)
{
    struct seq_ctx *sc = ctx;
    return pt_txn_next_seq(txn, sc->name, &sc->v);
}

static void test_seq(pt_store *s, const char *dir)
{
    struct seq_ctx a = {"audit:org", 0}, b = {"audit:org-a", 0};
    for (uint64_t i = 1; i <= 3; i++) {
        CHECK(pt_store_write(s, seq_cb, &a) == 0 && a.v == i);
    }
    CHECK(pt_store_write(s, seq_cb, &b) == 0 && b.v == 1);
    const char *raw = do_get(s, PT_T_META, "seq\0audit:org", 13);
    CHECK(raw != NULL && memcmp(raw, "\0\0\0\0\0\0\0\3", 8) == 0);
    (void)dir;
}

struct json_ctx {
    json_t *in;
    json_t *out;
};

static int json_put_cb(pt_txn *txn, void *ctx)
{
    struct json_ctx *jc = ctx;
    return pt_txn_put_json(txn, PT_T_ORGS, "j", 1, jc->in);
}

static int json_get_cb(pt_txn *txn, void *ctx)
{
    struct json_ctx *jc = ctx;
    return pt_txn_get_json(txn, PT_T_ORGS, "j", 1, &jc->out);
}

static void test_json(pt_store *s)
{
    struct json_ctx jc = {0};
    jc.in = json_pack("{s:s, s:i, s:[s,s], s:n}", "name", "Trust \xc3\xa9", "n", 42, "l", "a", "b",
                      "x");
    CHECK(pt_store_write(s, json_put_cb, &jc) == 0);
    const char *raw = do_get(s, PT_T_ORGS, "j", 1);
    CHECK(raw && strchr(raw, ' ') == strstr(raw, "Trust ") + 5); /* compact */
    CHECK(pt_store_read(s, json_get_cb, &jc) == 0);
    CHECK(jc.out && json_equal(jc.in, jc.out));
    json_decref(jc.in);
    json_decref(jc.out);

    jc.out = NULL;
    CHECK(do_put(s, PT_T_ORGS, "j", "not json{") == 0);
    CHECK(pt_store_read(s, json_get_cb, &jc) == PT_EIO && jc.out == NULL);
}

/* ---- decoded records shared within a read snapshot ---------------------- */

typedef struct cache_ctx {
    json_int_t v;    /* write: the value to store */
    json_t *out;     /* read: the record (a new reference) */
    json_t *again;   /* read: the same record read a second time */
    bool mutate;     /* read: change the record (what a buggy reader does) */
    size_t bad;      /* read: pt_store_cache_verify's count */
    pt_store *store; /* the store a writer thread writes */
} cache_ctx;

static int cache_put_cb(pt_txn *txn, void *ctx)
{
    cache_ctx *cc = ctx;
    json_t *rec = json_pack("{s:I}", "v", cc->v);
    int rc = pt_txn_put_json(txn, PT_T_ORGS, "cached", 6, rec);
    json_decref(rec);
    return rc;
}

static int cache_get_cb(pt_txn *txn, void *ctx)
{
    cache_ctx *cc = ctx;
    json_decref(cc->out);
    json_decref(cc->again);
    cc->out = cc->again = NULL;
    int rc = pt_txn_get_json(txn, PT_T_ORGS, "cached", 6, &cc->out);
    if (rc == 0)
        rc = pt_txn_get_json(txn, PT_T_ORGS, "cached", 6, &cc->again);
    if (rc == 0 && cc->mutate)
        json_object_set_new(cc->out, "v", json_integer(-1));
    if (rc == 0)
        rc = pt_store_cache_verify(txn, &cc->bad);
    return rc;
}

static json_int_t cache_value(const json_t *rec)
{
    return json_integer_value(json_object_get(rec, "v"));
}

/* A write transaction's records are its own: changing one and aborting
 * leaves what readers get untouched. */
static int cache_write_scribble_cb(pt_txn *txn, void *ctx)
{
    (void)ctx;
    json_t *rec = NULL;
    int rc = pt_txn_get_json(txn, PT_T_ORGS, "cached", 6, &rec);
    if (rc == 0)
        json_object_set_new(rec, "v", json_integer(999));
    json_decref(rec);
    return rc == 0 ? PT_ECONFLICT : rc;
}

static void *cache_writer_thread(void *arg)
{
    cache_ctx *cc = arg;
    if (pt_store_write(cc->store, cache_put_cb, cc) != 0)
        cc->v = -2;
    return NULL;
}

/*
 * pt_txn_get_json hands every read of one LMDB snapshot on a thread the
 * same decoded record; what must hold: a write is seen by the next read
 * on the same thread, a snapshot that began before a write keeps its own
 * data, a writer's records are private, and a reader that changes a
 * shared record is caught by pt_store_cache_verify.
 */
static void test_json_cache(pt_store *s)
{
    bool lmdb = strcmp(pt_store_backend(s), "lmdb") == 0;
    cache_ctx cc = {.v = 1, .store = s};
    CHECK(pt_store_write(s, cache_put_cb, &cc) == 0);
    CHECK(pt_store_read(s, cache_get_cb, &cc) == 0);
    CHECK(cache_value(cc.out) == 1 && cache_value(cc.again) == 1);
    if (lmdb)
        CHECK_MSG(cc.out == cc.again, "one snapshot decodes a record once");
    CHECK(cc.bad == 0);

    /* read, write, read on the same thread: the new value */
    cc.v = 2;
    CHECK(pt_store_write(s, cache_put_cb, &cc) == 0);
    CHECK(pt_store_read(s, cache_get_cb, &cc) == 0);
    CHECK_MSG(cache_value(cc.out) == 2, "read after write sees %lld",
              (long long)cache_value(cc.out));

    /* a snapshot held across another thread's write keeps its data; the
     * next snapshot has the write */
    pt_txn *snap = NULL;
    json_t *old = NULL, *now = NULL;
    CHECK(pt_store_snapshot_begin(s, &snap) == 0);
    CHECK(snap && pt_txn_get_json(snap, PT_T_ORGS, "cached", 6, &old) == 0);
    cc.v = 3;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, cache_writer_thread, &cc) == 0);
    pthread_join(th, NULL);
    CHECK(cc.v == 3);
    json_decref(old);
    old = NULL;
    CHECK(snap && pt_txn_get_json(snap, PT_T_ORGS, "cached", 6, &old) == 0);
    CHECK_MSG(cache_value(old) == 2, "an older snapshot sees %lld", (long long)cache_value(old));
    pt_store_snapshot_end(snap);
    CHECK(pt_store_snapshot_begin(s, &snap) == 0);
    CHECK(snap && pt_txn_get_json(snap, PT_T_ORGS, "cached", 6, &now) == 0);
    CHECK_MSG(cache_value(now) == 3, "a new snapshot sees %lld", (long long)cache_value(now));
    pt_store_snapshot_end(snap);
    json_decref(old);
    json_decref(now);

    /* a writer changing its copy and aborting changes nothing for readers */
    CHECK(pt_store_read(s, cache_get_cb, &cc) == 0);
    CHECK(pt_store_write(s, cache_write_scribble_cb, NULL) == PT_ECONFLICT);
    CHECK(pt_store_read(s, cache_get_cb, &cc) == 0);
    CHECK(cache_value(cc.out) == 3 && cc.bad == 0);

    /* a reader that changes a shared record is reported */
    cc.mutate = true;
    CHECK(pt_store_read(s, cache_get_cb, &cc) == 0);
    cc.mutate = false;
    if (lmdb)
        CHECK_MSG(cc.bad == 1, "a changed shared record found %zu times", cc.bad);
    /* a new snapshot drops the damaged copy */
    cc.v = 4;
    CHECK(pt_store_write(s, cache_put_cb, &cc) == 0);
    CHECK(pt_store_read(s, cache_get_cb, &cc) == 0);
    CHECK(cache_value(cc.out) == 4 && cc.bad == 0);
    json_decref(cc.out);
    json_decref(cc.again);
}

/* ---- group commit: concurrent writers share commits, not failures ------- */

#define GROUP_THREADS 8
#define GROUP_WRITES  60

typedef struct group_ctx {
    pt_store *s;
    int thread;
    int i;
    int wrong; /* results or error details that were not this writer's */
} group_ctx;

/* Every fifth write fails after putting its key: the put must not stay. */
static int group_write_cb(pt_txn *txn, void *ctx)
{
    group_ctx *g = ctx;
    char key[32];
    snprintf(key, sizeof key, "g/%d/%03d", g->thread, g->i);
    int rc = pt_txn_put(txn, PT_T_META, key, strlen(key), "x", 1);
    if (rc == 0 && g->i % 5 == 0) {
        pt_error_set("writer %d write %d refused", g->thread, g->i);
        return PT_ECONFLICT;
    }
    return rc;
}

static void *group_thread(void *arg)
{
    group_ctx *g = arg;
    for (g->i = 0; g->i < GROUP_WRITES; g->i++) {
        int rc = pt_store_write(g->s, group_write_cb, g);
        char want[64];
        snprintf(want, sizeof want, "writer %d write %d refused", g->thread, g->i);
        if (g->i % 5 == 0 ? rc != PT_ECONFLICT || strcmp(pt_error_last(), want) != 0 : rc != 0)
            g->wrong++;
    }
    return NULL;
}

static int group_count_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    (void)val;
    int *counts = ctx;
    int t = 0, i = 0;
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)key->len, (const char *)key->data);
    if (sscanf(buf, "g/%d/%d", &t, &i) == 2 && t >= 0 && t < GROUP_THREADS)
        counts[t] += i % 5 == 0 ? 1000 : 1; /* a refused write that stayed counts big */
    return 0;
}

static int group_scan_cb(pt_txn *txn, void *ctx)
{
    return pt_txn_scan(txn, PT_T_META, "g/", 2, NULL, 0, false, group_count_cb, ctx);
}

/*
 * Writers on many threads at once (what the server does): each gets its
 * own result and error detail, a refused write leaves nothing behind even
 * when it shared a commit with others, and every accepted write is there.
 */
static void test_group_commit(pt_store *s)
{
    pthread_t th[GROUP_THREADS];
    group_ctx g[GROUP_THREADS];
    for (int t = 0; t < GROUP_THREADS; t++) {
        g[t] = (group_ctx){s, t, 0, 0};
        CHECK(pthread_create(&th[t], NULL, group_thread, &g[t]) == 0);
    }
    for (int t = 0; t < GROUP_THREADS; t++) {
        pthread_join(th[t], NULL);
        CHECK_MSG(g[t].wrong == 0, "writer %d got %d wrong results", t, g[t].wrong);
    }
    int counts[GROUP_THREADS] = {0};
    CHECK(pt_store_read(s, group_scan_cb, counts) == 0);
    for (int t = 0; t < GROUP_THREADS; t++)
        CHECK_MSG(counts[t] == GROUP_WRITES - GROUP_WRITES / 5, "writer %d: %d", t, counts[t]);
}

static void test_keys(void)
{
    pt_key a, b;
    CHECK(pt_key_build(&a, "a", "bc", NULL) == 0);
    CHECK(pt_key_build(&b, "ab", "c", NULL) == 0);
    CHECK(a.len == 4 && b.len == 4 && memcmp(a.buf, b.buf, 4) != 0);
    CHECK(memcmp(a.buf, "a\0bc", 4) == 0);

    CHECK(pt_key_build(&a, "org", NULL) == 0 && a.len == 3);
    CHECK(pt_key_append(&a, "xy", 2) == 0 && a.len == 6 && memcmp(a.buf, "org\0xy", 6) == 0);
    CHECK(pt_key_build(&a, NULL, NULL) == 0 && a.len == 0);
    CHECK(pt_key_append(&a, "xy", 2) == 0 && a.len == 2);

    CHECK(pt_key_build(&a, "o", NULL) == 0);
    CHECK(pt_key_append_u64(&a, 0x0102030405060708ULL) == 0);
    CHECK(a.len == 10 && memcmp(a.buf, "o\0\1\2\3\4\5\6\7\10", 10) == 0);
    CHECK(pt_key_build(&b, "o", NULL) == 0 && pt_key_append_u64(&b, 256) == 0);
    pt_key c;
    CHECK(pt_key_build(&c, "o", NULL) == 0 && pt_key_append_u64(&c, 255) == 0);
    CHECK(memcmp(c.buf, b.buf, 10) < 0);

    char long_part[400];
    memset(long_part, 'x', sizeof(long_part) - 1);
    long_part[sizeof(long_part) - 1] = '\0';
    CHECK(pt_key_build(&a, long_part, NULL) == 0);
    CHECK(pt_key_build(&a, long_part, long_part, NULL) == PT_ETOOBIG);
    CHECK(pt_key_build(&a, long_part, NULL) == 0 &&
          pt_key_append(&a, long_part, 399) == PT_ETOOBIG);
}

/* The common.h helpers the store and its callers lean on. */
static void test_common_helpers(void)
{
    CHECK(pt_slug_valid("demo-trust"));
    CHECK(pt_slug_valid("a"));
    CHECK(pt_slug_valid("0rg_1.x"));
    CHECK(!pt_slug_valid(""));
    CHECK(!pt_slug_valid(NULL));
    CHECK(!pt_slug_valid("-org"));
    CHECK(!pt_slug_valid(".org"));
    CHECK(!pt_slug_valid("Org"));
    CHECK(!pt_slug_valid("org/x"));
    CHECK(!pt_slug_valid("a@b"));
    CHECK(pt_username_valid("a.b@nhs.net"));
    CHECK(!pt_username_valid("@ab"));
    CHECK(!pt_username_valid("a b"));
    char id[80];
    memset(id, 'a', 64);
    id[64] = '\0';
    CHECK(pt_slug_valid(id) && pt_username_valid(id));
    id[64] = 'a';
    id[65] = '\0';
    CHECK(!pt_slug_valid(id) && !pt_username_valid(id));

    char small[4];
    CHECK(pt_strlcpy(small, "abc", sizeof(small)) == 0 && strcmp(small, "abc") == 0);
    CHECK(pt_strlcpy(small, "abcd", sizeof(small)) == -1 && strcmp(small, "abc") == 0);
    CHECK(pt_strlcpy(small, "x", 0) == -1);

    pt_error_set("first %d", 1);
    CHECK(strcmp(pt_error_last(), "first 1") == 0);
    pt_error_set("wrapped: %s", pt_error_last()); /* may quote itself */
    CHECK(strcmp(pt_error_last(), "wrapped: first 1") == 0);
    pt_error_clear();
    CHECK(pt_error_last() != NULL && pt_error_last()[0] == '\0');
}

/* ---- map growth ------------------------------------------------------- */

#define VAL_MAX 3000

/* Deterministic content for item i, so any reader can verify it. */
static size_t fill_value(unsigned char *buf, int i)
{
    size_t len = 200 + (size_t)(i * 977) % (VAL_MAX - 200);
    for (size_t j = 0; j < len; j++)
        buf[j] = (unsigned char)(i * 31 + j);
    return len;
}

static bool value_ok(const pt_val *v, int i)
{
    unsigned char want[VAL_MAX];
    size_t len = fill_value(want, i);
    return v->len == len && memcmp(v->data, want, len) == 0;
}

static void item_key(pt_key *k, int i)
{
    pt_key_build(k, "bulk", NULL);
    pt_key_append_u64(k, (uint64_t)i);
}

struct bulk_ctx {
    int first;
    int n;
};

/* Writes items [first, first+n) and the committed count, repeatably. */
static int bulk_cb(pt_txn *txn, void *ctx)
{
    const struct bulk_ctx *bc = ctx;
    unsigned char buf[VAL_MAX];
    for (int i = bc->first; i < bc->first + bc->n; i++) {
        pt_key k;
        item_key(&k, i);
        size_t len = fill_value(buf, i);
        int rc = pt_txn_put(txn, PT_T_PORTLET_DATA, k.buf, k.len, buf, len);
        if (rc != 0)
            return rc;
    }
    unsigned char cnt[4];
    uint32_t total = (uint32_t)(bc->first + bc->n);
    memcpy(cnt, &total, 4);
    return pt_txn_put(txn, PT_T_PORTLET_DATA, "count", 5, cnt, 4);
}

struct verify_ctx {
    int expect_min; /* at least this many items */
    int count;      /* count found */
    int bad;
    int sampled_all; /* verify every item instead of a sample */
    unsigned seed;
};

static int verify_cb(pt_txn *txn, void *ctx)
{
    struct verify_ctx *vc = ctx;
    pt_val v;
    vc->count = 0;
    int rc = pt_txn_get(txn, PT_T_PORTLET_DATA, "count", 5, &v);
    if (rc == PT_ENOTFOUND)
        return 0;
    if (rc != 0 || v.len != 4)
        return PT_ERR;
    uint32_t total;
    memcpy(&total, v.data, 4);
    vc->count = (int)total;
    if (vc->count < vc->expect_min)
        vc->bad++;
    for (int j = 0; j < vc->count; j++) {
        int i = j;
        if (!vc->sampled_all) {
            if (j >= 12)
                break;
            i = j < 4 ? vc->count - 1 - j : (int)(rand_r(&vc->seed) % (unsigned)vc->count);
        }
        pt_key k;
        item_key(&k, i);
        if (pt_txn_get(txn, PT_T_PORTLET_DATA, k.buf, k.len, &v) != 0 || !value_ok(&v, i))
            vc->bad++;
    }
    /* Nothing beyond count is visible: the snapshot is consistent. */
    pt_key k;
    item_key(&k, vc->count);
    if (pt_txn_get(txn, PT_T_PORTLET_DATA, k.buf, k.len, &v) != PT_ENOTFOUND)
        vc->bad++;
    return 0;
}

static void test_growth(void)
{
    char dir[300];
    tmp_path(dir, sizeof(dir), "grow");
    pt_store *s = open_store(dir, 128 << 10);
    if (!s)
        return;
    pt_store_stats st0, st1;
    CHECK(pt_store_stat(s, &st0) == 0);
    CHECK(st0.map_size == 128 << 10);

    int per_txn = 8, txns = 250; /* about 3 MiB of values */
    for (int t = 0; t < txns; t++) {
        struct bulk_ctx bc = {t * per_txn, per_txn};
        int rc = pt_store_write(s, bulk_cb, &bc);
        if (rc != 0) {
            fprintf(stderr, "growth: txn %d failed: %d %s\n", t, rc, pt_error_last());
            failures++;
            break;
        }
    }
    CHECK(pt_store_stat(s, &st1) == 0);
    CHECK(st1.map_size > st0.map_size);
    CHECK(st1.used_bytes > (size_t)2 << 20 && st1.used_bytes <= st1.map_size);
    struct verify_ctx vc = {.expect_min = per_txn * txns, .sampled_all = 1};
    CHECK(pt_store_read(s, verify_cb, &vc) == 0 && vc.count == per_txn * txns && vc.bad == 0);
    pt_store_close(s);

    /* Reopening keeps the grown map and the data. */
    s = open_store(dir, 128 << 10);
    if (!s)
        return;
    pt_store_stats st2;
    CHECK(pt_store_stat(s, &st2) == 0 && st2.map_size >= st1.used_bytes);
    vc = (struct verify_ctx){.expect_min = per_txn * txns, .sampled_all = 1};
    CHECK(pt_store_read(s, verify_cb, &vc) == 0 && vc.count == per_txn * txns && vc.bad == 0);
    pt_store_close(s);

    /* A ceiling is honoured: writes fail cleanly instead of growing past it. */
    tmp_path(dir, sizeof(dir), "ceiling");
    pt_store_options o = PT_STORE_OPTIONS_INIT;
    o.map_size = 128 << 10;
    o.map_size_max = 256 << 10;
    CHECK(pt_store_open(&s, dir, &o) == 0);
    if (!s)
        return;
    int rc = 0, t;
    for (t = 0; t < 200 && rc == 0; t++) {
        struct bulk_ctx bc = {t * per_txn, per_txn};
        rc = pt_store_write(s, bulk_cb, &bc);
    }
    CHECK(rc == PT_EIO);
    vc = (struct verify_ctx){.sampled_all = 1};
    CHECK(pt_store_read(s, verify_cb, &vc) == 0 && vc.count == (t - 1) * per_txn && vc.bad == 0);
    pt_store_close(s);
}

/*
 * Another process (the portico CLI) grows the map while this one has the
 * store open: our next transaction must adopt the new size, not fail.
 */
static void test_cross_process_growth(void)
{
    char dir[300];
    tmp_path(dir, sizeof(dir), "xproc");
    pt_store *s = open_store(dir, 128 << 10);
    if (!s)
        return;
    struct bulk_ctx first = {0, 4};
    CHECK(pt_store_write(s, bulk_cb, &first) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        pt_store *cs = NULL;
        pt_store_options o = PT_STORE_OPTIONS_INIT;
        o.map_size = 128 << 10;
        if (pt_store_open(&cs, dir, &o) != 0)
            _exit(2);
        for (int t = 1; t < 100; t++) {
            struct bulk_ctx bc = {t * 4, 4};
            if (pt_store_write(cs, bulk_cb, &bc) != 0)
                _exit(3);
        }
        pt_store_close(cs);
        _exit(0);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    struct verify_ctx vc = {.expect_min = 400, .sampled_all = 1};
    CHECK(pt_store_read(s, verify_cb, &vc) == 0 && vc.count == 400 && vc.bad == 0);
    struct bulk_ctx more = {400, 4};
    CHECK(pt_store_write(s, bulk_cb, &more) == 0);
    vc = (struct verify_ctx){.expect_min = 404, .sampled_all = 1};
    CHECK(pt_store_read(s, verify_cb, &vc) == 0 && vc.count == 404 && vc.bad == 0);
    pt_store_close(s);
}

struct conc {
    pt_store *s;
    atomic_int done;
    atomic_int committed; /* items known committed before a read starts */
    atomic_int reads;
    atomic_int bad;
    int id;
};

struct reader_arg {
    struct conc *c;
    unsigned seed;
};

static void *reader_main(void *arg)
{
    struct reader_arg *ra = arg;
    struct conc *c = ra->c;
    while (!atomic_load(&c->done)) {
        struct verify_ctx vc = {.expect_min = atomic_load(&c->committed), .seed = ra->seed++};
        int rc = pt_store_read(c->s, verify_cb, &vc);
        if (rc != 0 || vc.bad)
            atomic_fetch_add(&c->bad, 1);
        pt_store_stats st;
        if (pt_store_stat(c->s, &st) != 0 || st.used_bytes > st.map_size)
            atomic_fetch_add(&c->bad, 1);
        atomic_fetch_add(&c->reads, 1);
    }
    return NULL;
}

static void test_concurrent_growth(void)
{
    char dir[300];
    tmp_path(dir, sizeof(dir), "concurrent");
    struct conc c = {.s = open_store(dir, 128 << 10)};
    if (!c.s)
        return;
    pthread_t th[4];
    struct reader_arg ra[4];
    for (int i = 0; i < 4; i++) {
        ra[i] = (struct reader_arg){&c, (unsigned)i * 7919u};
        pthread_create(&th[i], NULL, reader_main, &ra[i]);
    }
    int per_txn = 6, txns = 200;
    for (int t = 0; t < txns; t++) {
        struct bulk_ctx bc = {t * per_txn, per_txn};
        int rc = pt_store_write(c.s, bulk_cb, &bc);
        if (rc != 0) {
            fprintf(stderr, "concurrent: txn %d failed: %d %s\n", t, rc, pt_error_last());
            failures++;
            break;
        }
        atomic_store(&c.committed, (t + 1) * per_txn);
    }
    atomic_store(&c.done, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    pt_store_stats st;
    CHECK(pt_store_stat(c.s, &st) == 0 && st.map_size > (size_t)(128 << 10));
    CHECK(atomic_load(&c.bad) == 0);
    CHECK(atomic_load(&c.reads) > 0);
    struct verify_ctx vc = {.expect_min = per_txn * txns, .sampled_all = 1};
    CHECK(pt_store_read(c.s, verify_cb, &vc) == 0 && vc.count == per_txn * txns && vc.bad == 0);
    pt_store_close(c.s);
}

/* ---- stat and backup -------------------------------------------------- */

static int stat_inside_cb(pt_txn *txn, void *ctx)
{
    (void)txn;
    pt_store_stats st;
    int rc = pt_store_stat(ctx, &st);
    return rc == 0 && st.readers_used >= 1 && st.readers_max >= 126 ? 0 : PT_ERR;
}

static void test_stat_backup(pt_store *s)
{
    CHECK(pt_store_read(s, stat_inside_cb, s) == 0);

    char dir[300];
    tmp_path(dir, sizeof(dir), "backup/copy");
    CHECK(pt_store_backup(s, dir) == 0);
    /* A second copy into the same (now non-empty) directory is refused. */
    CHECK(pt_store_backup(s, dir) == PT_EEXISTS);

    /* Writes after the backup are not in it. */
    CHECK(do_put(s, PT_T_ORGS, "after-backup", "x") == 0);

    pt_store *b = open_store(dir, 0);
    if (!b)
        return;
    const char *v = do_get(b, PT_T_ORGS, "outer", 5);
    CHECK(v && strcmp(v, "1") == 0);
    CHECK(do_get(b, PT_T_ORGS, "after-backup", 12) == NULL);
    pt_key p;
    pt_key_build(&p, "page", NULL);
    pt_key_as_prefix(&p);
    struct scan_ctx sc = {.t = PT_T_PEOPLE, .prefix = p.buf, .plen = p.len};
    CHECK(do_scan(b, &sc) == 0 && sc.count == 25);
    struct seq_ctx a = {"audit:org", 0};
    CHECK(pt_store_write(b, seq_cb, &a) == 0 && a.v == 4);
    pt_store_close(b);
}

static void test_bad_open(void)
{
    pt_store *s = (pt_store *)1;
    pt_store_options o = PT_STORE_OPTIONS_INIT;
    o.version = 99;
    char dir[300];
    tmp_path(dir, sizeof(dir), "badopts");
    CHECK(pt_store_open(&s, dir, &o) == PT_EINVAL && s == NULL);

    char file[300];
    tmp_path(file, sizeof(file), "plainfile");
    FILE *f = fopen(file, "w");
    if (f)
        fclose(f);
    CHECK(pt_store_open(&s, file, NULL) != 0 && s == NULL);
}

/* ---- PostgreSQL ---------------------------------------------------------- */

/* A fresh database on the server PORTICO_TEST_STORE names; its URL in out. */
static int pg_fresh_url(const char *admin, char *out, size_t n)
{
    static int serial;
    char name[64], sql[128];
    snprintf(name, sizeof(name), "unit_%ld_%d", (long)getpid(), serial++);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    PGconn *c = PQconnectdb(admin);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "CREATE DATABASE: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    const char *q = strchr(admin, '?');
    size_t base = (size_t)((q ? q : admin + strlen(admin)) - admin);
    while (base > 0 && admin[base - 1] != '/')
        base--;
    snprintf(out, n, "%.*s%s%s", (int)base, admin, name, q ? q : "");
    return ok ? 0 : -1;
}

struct race {
    pt_store *s;
    int done;
};

static void *race_main(void *arg)
{
    struct race *r = arg;
    for (int i = 0; i < 50; i++) {
        struct seq_ctx c = {"race", 0};
        if (pt_store_write(r->s, seq_cb, &c) == 0)
            r->done++;
    }
    return NULL;
}

/* Two handles are two nodes: their writers do not share write_lock, so
 * PostgreSQL's serialization failures and the re-runs keep the counter
 * exact. */
static void test_pg_two_nodes(const char *url)
{
    pt_store *a = open_store(url, 0), *b = open_store(url, 0);
    if (a && b) {
        struct race ra = {a, 0}, rb = {b, 0};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, race_main, &ra);
        pthread_create(&tb, NULL, race_main, &rb);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        CHECK(ra.done == 50 && rb.done == 50);
        struct seq_ctx c = {"race", 0};
        CHECK(pt_store_write(a, seq_cb, &c) == 0 && c.v == 101);
        /* What one node wrote, the other reads at once. */
        CHECK(do_put(a, PT_T_SESSIONS, "sid-1", "live") == 0);
        const char *v = do_get(b, PT_T_SESSIONS, "sid-1", 5);
        CHECK(v && strcmp(v, "live") == 0);
        struct kv kv = {.t = PT_T_SESSIONS, .key = "sid-1", .klen = 5};
        CHECK(pt_store_write(b, del_cb, &kv) == 0);
        CHECK(do_get(a, PT_T_SESSIONS, "sid-1", 5) == NULL);
        CHECK(pt_store_ping(a) == 0);
        CHECK(strcmp(pt_store_backend(a), "postgres") == 0);
    }
    pt_store_close(a);
    pt_store_close(b);
}

static int run_postgres(const char *admin)
{
    char url[1024];
    if (pg_fresh_url(admin, url, sizeof(url)) != 0) {
        failures++;
        return check_finish("test_store(postgres)");
    }
    pt_store *s = open_store(url, 0);
    if (s) {
        CHECK(do_put(s, PT_T_ORGS, "trust-a", "{\"name\":\"A\"}") == 0);
        pt_store_close(s);
    }
    /* The schema step is idempotent and the data persists. */
    s = open_store(url, 0);
    if (s) {
        const char *v = do_get(s, PT_T_ORGS, "trust-a", 7);
        CHECK(v && strcmp(v, "{\"name\":\"A\"}") == 0);
        CHECK(do_get(s, PT_T_ACCOUNTS, "trust-a", 7) == NULL); /* tables are separate */
        pt_store_close(s);
    }
    if (pg_fresh_url(admin, url, sizeof(url)) != 0) {
        failures++;
        return check_finish("test_store(postgres)");
    }
    s = open_store(url, 0);
    if (s) {
        test_crud(s);
        test_own_writes(s);
        test_put_many(s);
        test_abort(s);
        test_scan_isolation(s);
        test_scan_pagination(s);
        test_scan_ff(s);
        test_seq(s, url);
        test_json(s);
        test_json_cache(s);
        test_group_commit(s);
        test_txn_local(s);
        test_stat_backup(s);
        pt_store_close(s);
        s = open_store(url, 0);
        if (s) {
            struct seq_ctx a = {"audit:org", 0};
            CHECK(pt_store_write(s, seq_cb, &a) == 0 && a.v == 4);
            pt_store_close(s);
        }
    }
    if (pg_fresh_url(admin, url, sizeof(url)) == 0)
        test_pg_two_nodes(url);
    /* A server that is not there: PT_EIO, not a crash or a hang. */
    s = (pt_store *)1;
    CHECK(pt_store_open(&s, "postgresql:///nodb?host=/nonexistent&port=1", NULL) == PT_EIO &&
          s == NULL);
    rm_rf(g_root);
    return check_finish("test_store(postgres)");
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_root, sizeof(g_root), "%s/pt_store_test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(g_root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    const char *pg = getenv("PORTICO_TEST_STORE");
    if (pg && *pg)
        return run_postgres(pg);

    test_common_helpers();
    test_keys();
    test_persistence();
    test_bad_open();

    char dir[300];
    tmp_path(dir, sizeof(dir), "main");
    pt_store *s = open_store(dir, 0);
    if (s) {
        test_crud(s);
        test_own_writes(s);
        test_put_many(s);
        test_abort(s);
        test_scan_isolation(s);
        test_scan_pagination(s);
        test_scan_ff(s);
        test_seq(s, dir);
        test_json(s);
        test_json_cache(s);
        test_group_commit(s);
        test_txn_local(s);
        test_stat_backup(s);
        pt_store_close(s);

        /* Counters survive a reopen. */
        s = open_store(dir, 0);
        if (s) {
            struct seq_ctx a = {"audit:org", 0};
            CHECK(pt_store_write(s, seq_cb, &a) == 0 && a.v == 4);
            pt_store_close(s);
        }
    }
    test_growth();
    test_cross_process_growth();
    test_concurrent_growth();

    rm_rf(g_root);
    return check_finish("test_store");
}
