/*
 * people_counts.c - headcounts by (staff group, effective status) per
 * organisation, kept in memory and checked against the organisation's
 * people generation, so a portlet asking "how many nurses are employed"
 * on every request does not walk thousands of person records each time.
 */
#include "store/people_counts.h"

#include "base/clock.h"
#include "store/model.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_SLOTS 4 /* pt_status values NONE..LEAVER */

typedef struct group_count {
    char *group;
    int64_t n[STATUS_SLOTS];
} group_count;

typedef struct org_counts {
    char *org;
    uint64_t gen;
    int32_t today;
    uint64_t used;       /* g_tick at the last hit, for LRU eviction */
    group_count *groups; /* sorted by group name */
    size_t ngroups, cap;
    int64_t total[STATUS_SLOTS];
} org_counts;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static org_counts *g_orgs[PT_PEOPLE_COUNTS_MAX_ORGS];
static size_t g_norgs;
static uint64_t g_tick, g_hits, g_rebuilds;

static void org_counts_free(org_counts *oc)
{
    if (!oc)
        return;
    for (size_t i = 0; i < oc->ngroups; i++)
        free(oc->groups[i].group);
    free(oc->groups);
    free(oc->org);
    free(oc);
}

/* Binary search; *at is where the group is or would be inserted. */
static group_count *group_find(const org_counts *oc, const char *group, size_t *at)
{
    size_t lo = 0, hi = oc->ngroups;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(oc->groups[mid].group, group);
        if (c == 0) {
            if (at)
                *at = mid;
            return &oc->groups[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (at)
        *at = lo;
    return NULL;
}

static group_count *group_add(org_counts *oc, const char *group)
{
    size_t at;
    group_count *g = group_find(oc, group, &at);
    if (g)
        return g;
    if (oc->ngroups == oc->cap) {
        size_t cap = oc->cap ? oc->cap * 2 : 8;
        group_count *n = realloc(oc->groups, cap * sizeof(*n));
        if (!n)
            return NULL;
        oc->groups = n;
        oc->cap = cap;
    }
    char *name = strdup(group);
    if (!name)
        return NULL;
    memmove(&oc->groups[at + 1], &oc->groups[at], (oc->ngroups - at) * sizeof(*oc->groups));
    oc->ngroups++;
    g = &oc->groups[at];
    memset(g, 0, sizeof(*g));
    g->group = name;
    return g;
}

typedef struct build_ctx {
    org_counts *oc;
    int days;
} build_ctx;

static int build_person(const pt_val *key, const pt_val *val, void *arg)
{
    (void)key;
    build_ctx *b = arg;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    if (!rec) {
        pt_error_set("people counts: unreadable person record");
        return PT_EIO;
    }
    pt_status st = pt_person_status(rec, b->days, b->oc->today, NULL);
    const char *group = json_string_value(json_object_get(rec, "staff_group"));
    int err = 0;
    if ((unsigned)st < STATUS_SLOTS) {
        b->oc->total[st]++;
        if (group) {
            group_count *g = group_add(b->oc, group);
            if (g)
                g->n[st]++;
            else
                err = PT_ENOMEM;
        }
    }
    json_decref(rec);
    return err;
}

/* One pass over the organisation's people in the caller's snapshot. */
static int org_counts_build(org_counts **out, pt_txn *txn, const char *org, uint64_t gen,
                            int32_t today)
{
    pt_key pfx;
    *out = NULL;
    org_counts *oc = calloc(1, sizeof(*oc));
    if (!oc || !(oc->org = strdup(org))) {
        free(oc);
        return PT_ENOMEM;
    }
    oc->gen = gen;
    oc->today = today;
    build_ctx b = {oc, PT_LEAVER_ACCESS_DAYS_DEFAULT};
    int err = pt_org_leaver_days_get(&b.days, txn, org);
    if (err == 0 || err == PT_ENOTFOUND)
        err = pt_key_build(&pfx, org, NULL);
    if (err == 0)
        err = pt_key_as_prefix(&pfx);
    if (err == 0)
        err = pt_txn_scan(txn, PT_T_PEOPLE, pfx.buf, pfx.len, NULL, 0, false, build_person, &b);
    if (err < 0) {
        org_counts_free(oc);
        return err;
    }
    *out = oc;
    return 0;
}

static int64_t org_counts_answer(const org_counts *oc, const char *group, pt_status st)
{
    if ((unsigned)st >= STATUS_SLOTS)
        return 0;
    if (!group)
        return oc->total[st];
    const group_count *g = group_find(oc, group, NULL);
    return g ? g->n[st] : 0;
}

static size_t slot_of(const char *org)
{
    for (size_t i = 0; i < g_norgs; i++)
        if (strcmp(g_orgs[i]->org, org) == 0)
            return i;
    return SIZE_MAX;
}

/*
 * Installs a freshly built entry unless the cache already holds one at
 * least as new (a concurrent reader with a later snapshot got there
 * first); takes ownership of oc either way.
 */
static void org_counts_install(org_counts *oc)
{
    pthread_mutex_lock(&g_lock);
    size_t i = slot_of(oc->org);
    if (i != SIZE_MAX) {
        org_counts *cur = g_orgs[i];
        if (cur->gen > oc->gen || (cur->gen == oc->gen && cur->today == oc->today)) {
            pthread_mutex_unlock(&g_lock);
            org_counts_free(oc);
            return;
        }
        g_orgs[i] = oc;
        oc->used = ++g_tick;
        pthread_mutex_unlock(&g_lock);
        org_counts_free(cur);
        return;
    }
    org_counts *evicted = NULL;
    if (g_norgs == PT_PEOPLE_COUNTS_MAX_ORGS) {
        size_t lru = 0;
        for (size_t j = 1; j < g_norgs; j++)
            if (g_orgs[j]->used < g_orgs[lru]->used)
                lru = j;
        evicted = g_orgs[lru];
        g_orgs[lru] = g_orgs[--g_norgs];
    }
    oc->used = ++g_tick;
    g_orgs[g_norgs++] = oc;
    pthread_mutex_unlock(&g_lock);
    org_counts_free(evicted);
}

/*
 * The cached entry is valid for a snapshot whose generation and day are
 * the entry's: every person write bumps the generation in its own
 * transaction, and effective status depends only on the record and the
 * day.  An entry is never built from a write transaction, which may still
 * abort after reading its own uncommitted generation.
 */
int pt_people_count(int64_t *out, pt_txn *txn, const char *org, const char *staff_group,
                    pt_status status)
{
    uint64_t gen;
    int err;

    *out = 0;
    if (!txn || !org || !*org || (unsigned)status >= STATUS_SLOTS)
        return txn ? 0 : PT_EINVAL;
    if ((err = pt_people_gen_get(&gen, txn, org)) < 0)
        return err;
    /* Keyed by the organisation's local date: statuses change at its
     * midnight, not UTC's. */
    int32_t today;
    if (pt_org_today_get(&today, txn, org) < 0)
        today = pt_clock_today();

    pthread_mutex_lock(&g_lock);
    size_t i = slot_of(org);
    if (i != SIZE_MAX && g_orgs[i]->gen == gen && g_orgs[i]->today == today) {
        *out = org_counts_answer(g_orgs[i], staff_group, status);
        g_orgs[i]->used = ++g_tick;
        g_hits++;
        pthread_mutex_unlock(&g_lock);
        return 0;
    }
    g_rebuilds++;
    pthread_mutex_unlock(&g_lock);

    org_counts *oc = NULL;
    if ((err = org_counts_build(&oc, txn, org, gen, today)) < 0)
        return err;
    *out = org_counts_answer(oc, staff_group, status);
    if (pt_txn_is_write(txn))
        org_counts_free(oc);
    else
        org_counts_install(oc);
    return 0;
}

void pt_people_counts_stats_get(pt_people_counts_stats *out)
{
    pthread_mutex_lock(&g_lock);
    out->hits = g_hits;
    out->rebuilds = g_rebuilds;
    out->orgs = g_norgs;
    pthread_mutex_unlock(&g_lock);
}

void pt_people_counts_reset(void)
{
    pthread_mutex_lock(&g_lock);
    size_t n = g_norgs;
    org_counts *all[PT_PEOPLE_COUNTS_MAX_ORGS];
    memcpy(all, g_orgs, n * sizeof(*all));
    g_norgs = 0;
    g_hits = g_rebuilds = 0;
    pthread_mutex_unlock(&g_lock);
    for (size_t i = 0; i < n; i++)
        org_counts_free(all[i]);
}
