/*
 * cors.c - the cached union of the organisations' CORS allow-lists.
 *
 * Read on every request that carries an Origin, written only when an
 * organisation changes: a read-write lock around a sorted array of
 * strings.  See cors.h for why the union is the rule.
 */
#include "http/cors.h"
#include "store/model.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pt_cors {
    pthread_rwlock_t lock;
    char **origins; /* sorted */
    size_t n;
    uint64_t gen;             /* organisations' generation it was loaded at */
    atomic_llong checked_sec; /* monotonic second of the last look */
};

int pt_cors_new(pt_cors **out)
{
    *out = NULL;
    pt_cors *c = calloc(1, sizeof *c);
    if (!c)
        return PT_ENOMEM;
    if (pthread_rwlock_init(&c->lock, NULL) != 0) {
        free(c);
        return PT_ERR;
    }
    *out = c;
    return 0;
}

static void list_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void pt_cors_free(pt_cors *c)
{
    if (!c)
        return;
    list_free(c->origins, c->n);
    pthread_rwlock_destroy(&c->lock);
    free(c);
}

bool pt_cors_origin_valid(const char *o)
{
    if (!o || strncmp(o, "https://", 8) != 0)
        return false;
    const char *h = o + 8, *p = h;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.')
        p++;
    size_t hlen = (size_t)(p - h);
    if (hlen == 0 || hlen > 253 || h[0] == '.' || h[0] == '-' || p[-1] == '.' || p[-1] == '-')
        return false;
    if (*p == 0)
        return true;
    if (*p != ':' || !p[1])
        return false;
    unsigned long port = 0;
    for (p++; *p; p++) {
        if (*p < '0' || *p > '9' || port > 65535)
            return false;
        port = port * 10 + (unsigned long)(*p - '0');
    }
    return port >= 1 && port <= 65535;
}

typedef struct gather {
    json_t *set; /* origin -> true */
    uint64_t gen;
} gather;

static int gather_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    (void)key;
    gather *g = ctx;
    json_t *org = json_loadb(val->data, val->len, 0, NULL);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(json_object_get(org, "settings"), "cors_origins"), i, it)
    {
        if (json_is_string(it) && pt_cors_origin_valid(json_string_value(it)))
            json_object_set(g->set, json_string_value(it), json_true());
    }
    json_decref(org);
    return 0;
}

static int gather_txn(pt_txn *txn, void *ctx)
{
    gather *g = ctx;
    json_object_clear(g->set);
    int err = pt_txn_get_seq(txn, PT_ORGS_GEN_SEQ, &g->gen);
    return err < 0 ? err : pt_txn_scan(txn, PT_T_ORGS, "", 0, NULL, 0, false, gather_cb, g);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int pt_cors_reload(pt_cors *c, pt_store *store)
{
    if (!c || !store)
        return 0;
    gather g = {json_object(), 0};
    if (!g.set)
        return PT_ENOMEM;
    int err = pt_store_read(store, gather_txn, &g);
    size_t n = json_object_size(g.set), k = 0;
    char **v = err == 0 && n ? calloc(n, sizeof *v) : NULL;
    if (err == 0 && n && !v)
        err = PT_ENOMEM;
    const char *origin;
    json_t *unused;
    json_object_foreach(g.set, origin, unused)
    {
        if (err == 0 && !(v[k++] = strdup(origin)))
            err = PT_ENOMEM;
    }
    json_decref(g.set);
    if (err < 0) {
        list_free(v, k);
        return err;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_str);
    pthread_rwlock_wrlock(&c->lock);
    char **old = c->origins;
    size_t oldn = c->n;
    c->origins = v;
    c->n = n;
    c->gen = g.gen;
    pthread_rwlock_unlock(&c->lock);
    list_free(old, oldn);
    return 0;
}

static int gen_txn(pt_txn *txn, void *ctx)
{
    return pt_txn_get_seq(txn, PT_ORGS_GEN_SEQ, ctx);
}

/*
 * Another node's organisation write changes only its own cache, so each
 * node compares the generation in the store with its own now and then.
 * Once a second keeps the cost to one small read per second per node,
 * whatever the traffic; a failed read leaves the list as it was.
 */
int pt_cors_refresh(pt_cors *c, pt_store *store)
{
    struct timespec ts;
    if (!c || !store)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec, last = atomic_load(&c->checked_sec);
    if (now == last || !atomic_compare_exchange_strong(&c->checked_sec, &last, now))
        return 0;
    uint64_t gen = 0;
    int err = pt_store_read(store, gen_txn, &gen);
    if (err < 0)
        return err;
    pthread_rwlock_rdlock(&c->lock);
    bool same = gen == c->gen;
    pthread_rwlock_unlock(&c->lock);
    return same ? 0 : pt_cors_reload(c, store);
}

bool pt_cors_allowed(pt_cors *c, const char *origin)
{
    if (!c || !origin || !*origin)
        return false;
    pthread_rwlock_rdlock(&c->lock);
    bool found = c->n && bsearch(&origin, c->origins, c->n, sizeof *c->origins, cmp_str) != NULL;
    pthread_rwlock_unlock(&c->lock);
    return found;
}
