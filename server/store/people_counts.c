/*
 * people_counts.c - headcounts by (staff group, effective status) per
 * organisation, kept exact in the store by every person write and cached
 * in memory, so a portlet asking "how many nurses are employed" on every
 * request neither walks the people nor stalls when they are edited.
 * Layout and rules: people_counts.h.
 */
#include "store/people_counts.h"

#include "base/clock.h"
#include "base/log.h"
#include "store/model.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATUS_SLOTS 4 /* pt_status values NONE..LEAVER */
#define HC           "hc"

/* ---- in-memory counts -------------------------------------------------- */

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
    int64_t nogroup[STATUS_SLOTS]; /* people without a staff group */
} org_counts;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
/* Held by the one reader that scans an org without kept counts. */
static pthread_mutex_t g_scan_lock = PTHREAD_MUTEX_INITIALIZER;
static org_counts *g_orgs[PT_PEOPLE_COUNTS_MAX_ORGS];
static size_t g_norgs;
static uint64_t g_tick, g_hits, g_rebuilds, g_scans;

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

static org_counts *org_counts_new(const char *org, uint64_t gen, int32_t today)
{
    org_counts *oc = calloc(1, sizeof(*oc));
    if (!oc || !(oc->org = strdup(org))) {
        free(oc);
        return NULL;
    }
    oc->gen = gen;
    oc->today = today;
    return oc;
}

/* Binary search; *at is where the group is or would be inserted. */
static group_count *group_find(const org_counts *oc, const char *group, size_t glen, size_t *at)
{
    size_t lo = 0, hi = oc->ngroups;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *g = oc->groups[mid].group;
        int c = strncmp(g, group, glen);
        if (c == 0 && g[glen] != '\0')
            c = 1;
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

static group_count *group_add(org_counts *oc, const char *group, size_t glen)
{
    size_t at;
    group_count *g = group_find(oc, group, glen, &at);
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
    char *name = strndup(group, glen);
    if (!name)
        return NULL;
    memmove(&oc->groups[at + 1], &oc->groups[at], (oc->ngroups - at) * sizeof(*oc->groups));
    oc->ngroups++;
    g = &oc->groups[at];
    memset(g, 0, sizeof(*g));
    g->group = name;
    return g;
}

/* Adds delta to (group, st); group NULL is "no staff group". */
static int org_counts_add(org_counts *oc, const char *group, size_t glen, pt_status st,
                          int64_t delta)
{
    if ((unsigned)st >= STATUS_SLOTS)
        return 0;
    oc->total[st] += delta;
    if (!group) {
        oc->nogroup[st] += delta;
        return 0;
    }
    group_count *g = group_add(oc, group, glen);
    if (!g)
        return PT_ENOMEM;
    g->n[st] += delta;
    return 0;
}

static int64_t org_counts_answer(const org_counts *oc, const char *group, pt_status st)
{
    if ((unsigned)st >= STATUS_SLOTS)
        return 0;
    if (!group)
        return oc->total[st];
    const group_count *g = group_find(oc, group, strlen(group), NULL);
    return g ? g->n[st] : 0;
}

/* ---- one person's contribution ----------------------------------------- */

/* What a person record adds to the counts on day `day`, and the day its
 * effective status changes (if it does: termination_date + 1). */
typedef struct person_part {
    const char *group; /* NULL: no staff group */
    const char *user;
    pt_status st;
    bool moves;
    int32_t on; /* the first day of status `to` */
    pt_status from, to;
} person_part;

static void person_part_of(person_part *p, const json_t *rec, int32_t day)
{
    int32_t term;
    memset(p, 0, sizeof(*p));
    p->group = json_string_value(json_object_get(rec, "staff_group"));
    p->user = json_string_value(json_object_get(rec, "username"));
    p->st = pt_person_status(rec, 0, day, NULL);
    const char *td = json_string_value(json_object_get(rec, "termination_date"));
    if (td && pt_date_parse(td, &term) && term < INT32_MAX) {
        p->from = pt_person_status(rec, 0, term, NULL);
        p->to = pt_person_status(rec, 0, term + 1, NULL);
        p->moves = p->from != p->to;
        p->on = term + 1;
    }
}

/* ---- keys and values --------------------------------------------------- */

static void be32_put(unsigned char *b, int32_t d)
{
    uint32_t v = (uint32_t)d ^ 0x80000000u; /* sorts signed days in order */
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

static int32_t be32_get(const unsigned char *b)
{
    uint32_t v = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
    return (int32_t)(v ^ 0x80000000u);
}

static int key_through(pt_key *k, const char *org)
{
    return pt_key_build(k, HC, org, "t", NULL);
}

static int key_count(pt_key *k, const char *org, const char *group, pt_status st)
{
    char s[2] = {(char)('0' + st), 0};
    int err = pt_key_build(k, HC, org, "c", s, NULL);
    if (err == 0 && group)
        err = pt_key_append(k, group, strlen(group));
    return err;
}

static int key_moves_prefix(pt_key *k, const char *org)
{
    int err = pt_key_build(k, HC, org, "x", NULL);
    return err ? err : pt_key_as_prefix(k);
}

static int key_move(pt_key *k, const char *org, int32_t on, const char *user)
{
    unsigned char d[4];
    be32_put(d, on);
    int err = key_moves_prefix(k, org);
    if (err == 0 && k->len + sizeof(d) <= sizeof(k->buf)) {
        memcpy(k->buf + k->len, d, sizeof(d));
        k->len += sizeof(d);
    } else if (err == 0) {
        err = PT_ETOOBIG;
    }
    return err ? err : pt_key_append(k, user, strlen(user));
}

static int through_get(bool *have, int32_t *day, pt_txn *txn, const char *org)
{
    pt_key k;
    pt_val v;
    *have = false;
    int err = key_through(&k, org);
    if (err == 0)
        err = pt_txn_get(txn, PT_T_META, k.buf, k.len, &v);
    if (err == PT_ENOTFOUND)
        return 0;
    if (err < 0)
        return err;
    if (v.len != 4) {
        pt_error_set("people counts of %s: corrupt date", org);
        return PT_EIO;
    }
    *day = be32_get(v.data);
    *have = true;
    return 0;
}

static int through_put(pt_txn *txn, const char *org, int32_t day)
{
    pt_key k;
    unsigned char b[4];
    be32_put(b, day);
    int err = key_through(&k, org);
    return err ? err : pt_txn_put(txn, PT_T_META, k.buf, k.len, b, sizeof(b));
}

/* Read-modify-write of one kept count; a count that reaches 0 is deleted
 * so an org's key space is the groups it has now. */
static int count_add(pt_txn *txn, const char *org, const char *group, pt_status st, int64_t delta)
{
    pt_key k;
    pt_val v;
    if ((unsigned)st >= STATUS_SLOTS || delta == 0)
        return 0;
    int err = key_count(&k, org, group, st);
    if (err < 0)
        return err;
    uint64_t cur = 0;
    err = pt_txn_get(txn, PT_T_META, k.buf, k.len, &v);
    if (err == 0 && v.len == 8) {
        const unsigned char *b = v.data;
        for (int i = 0; i < 8; i++)
            cur = (cur << 8) | b[i];
    } else if (err == 0) {
        pt_error_set("people counts of %s: corrupt count", org);
        return PT_EIO;
    } else if (err != PT_ENOTFOUND) {
        return err;
    }
    int64_t n = (int64_t)cur + delta;
    if (n == 0)
        return pt_txn_del(txn, PT_T_META, k.buf, k.len);
    unsigned char be[8];
    for (int i = 7; i >= 0; i--, n = (int64_t)((uint64_t)n >> 8))
        be[i] = (unsigned char)(n & 0xff);
    return pt_txn_put(txn, PT_T_META, k.buf, k.len, be, sizeof(be));
}

/* Index value: from, to, then the staff group (absent: no group). */
static int move_put(pt_txn *txn, const char *org, const person_part *p)
{
    pt_key k;
    unsigned char v[2 + PT_ID_MAX + 1];
    size_t glen = p->group ? strlen(p->group) : 0;
    if (!p->moves || !p->user)
        return 0;
    if (glen > PT_ID_MAX) {
        pt_error_set("staff group too long");
        return PT_EINVAL;
    }
    int err = key_move(&k, org, p->on, p->user);
    if (err < 0)
        return err;
    v[0] = (unsigned char)p->from;
    v[1] = (unsigned char)p->to;
    if (p->group) {
        v[2] = 'g';
        memcpy(v + 3, p->group, glen);
    }
    return pt_txn_put(txn, PT_T_META, k.buf, k.len, v, p->group ? 3 + glen : 2);
}

static int move_del(pt_txn *txn, const char *org, const person_part *p)
{
    pt_key k;
    if (!p->moves || !p->user)
        return 0;
    int err = key_move(&k, org, p->on, p->user);
    if (err == 0)
        err = pt_txn_del(txn, PT_T_META, k.buf, k.len);
    return err == PT_ENOTFOUND ? 0 : err;
}

/* ---- applying the transitions between two days ------------------------ */

typedef int (*apply_fn)(void *ctx, const char *group, size_t glen, pt_status st, int64_t delta);

typedef struct moves_walk {
    size_t plen;  /* length of the index prefix */
    int32_t last; /* apply entries with on <= last */
    int sign;     /* +1 forwards in time, -1 backwards */
    apply_fn apply;
    void *ctx;
    size_t applied;
} moves_walk;

static int move_apply(const pt_val *key, const pt_val *val, void *arg)
{
    moves_walk *w = arg;
    const unsigned char *v = val->data;
    if (key->len < w->plen + 4 || val->len < 2 || (val->len > 2 && v[2] != 'g')) {
        pt_error_set("people counts: corrupt transition entry");
        return PT_EIO;
    }
    if (be32_get((const unsigned char *)key->data + w->plen) > w->last)
        return PT_ESTOP;
    const char *group = val->len > 2 ? (const char *)v + 3 : NULL;
    size_t glen = val->len > 2 ? val->len - 3 : 0;
    int err = w->apply(w->ctx, group, glen, (pt_status)v[0], -w->sign);
    if (err == 0)
        err = w->apply(w->ctx, group, glen, (pt_status)v[1], w->sign);
    w->applied++;
    return err;
}

/*
 * Moves counts that were right on day `from` to day `to` by the index
 * entries dated in between: (from, to] forwards, (to, from] backwards.
 */
static int moves_apply(size_t *applied, pt_txn *txn, const char *org, int32_t from, int32_t to,
                       apply_fn apply, void *ctx)
{
    pt_key pfx;
    int err = key_moves_prefix(&pfx, org);
    if (err < 0 || from == to)
        return err;
    int32_t lo = from < to ? from : to, hi = from < to ? to : from;
    /* Strictly after every key dated `lo`: prefix, be32(lo), 0x01. */
    pt_key after = pfx;
    if (after.len + 5 > sizeof(after.buf))
        return PT_ETOOBIG;
    be32_put((unsigned char *)after.buf + after.len, lo);
    after.len += 4;
    after.buf[after.len++] = 0x01;
    moves_walk w = {pfx.len, hi, from < to ? 1 : -1, apply, ctx, 0};
    err =
        pt_txn_scan(txn, PT_T_META, pfx.buf, pfx.len, after.buf, after.len, false, move_apply, &w);
    if (applied)
        *applied += w.applied;
    return err;
}

typedef struct store_apply {
    pt_txn *txn;
    const char *org;
} store_apply;

static int apply_to_store(void *ctx, const char *group, size_t glen, pt_status st, int64_t delta)
{
    store_apply *s = ctx;
    char g[PT_ID_MAX + 1];
    if (group) {
        if (glen > PT_ID_MAX)
            return PT_EIO;
        memcpy(g, group, glen);
        g[glen] = '\0';
    }
    return count_add(s->txn, s->org, group ? g : NULL, st, delta);
}

static int apply_to_memory(void *ctx, const char *group, size_t glen, pt_status st, int64_t delta)
{
    return org_counts_add(ctx, group, glen, st, delta);
}

/* ---- reading kept counts ----------------------------------------------- */

typedef struct read_ctx {
    org_counts *oc;
    size_t plen;
} read_ctx;

static int read_count(const pt_val *key, const pt_val *val, void *arg)
{
    read_ctx *r = arg;
    const char *k = (const char *)key->data + r->plen;
    size_t rest = key->len - r->plen;
    if (rest < 1 || val->len != 8 || k[0] < '0' || k[0] >= '0' + STATUS_SLOTS ||
        (rest > 1 && (rest < 3 || k[1] != '\0'))) {
        pt_error_set("people counts: corrupt count entry");
        return PT_EIO;
    }
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n = (n << 8) | ((const unsigned char *)val->data)[i];
    return org_counts_add(r->oc, rest > 1 ? k + 2 : NULL, rest > 1 ? rest - 2 : 0,
                          (pt_status)(k[0] - '0'), (int64_t)n);
}

/* The kept counts of org as of `today`: O(groups + transitions since the
 * day they were kept for).  *have false: the org has none. */
static int kept_read(org_counts *oc, bool *have, pt_txn *txn, const char *org, int32_t today)
{
    int32_t day = 0;
    pt_key pfx;
    int err = through_get(have, &day, txn, org);
    if (err < 0 || !*have)
        return err;
    if ((err = pt_key_build(&pfx, HC, org, "c", NULL)) < 0 || (err = pt_key_as_prefix(&pfx)) < 0)
        return err;
    read_ctx r = {oc, pfx.len};
    err = pt_txn_scan(txn, PT_T_META, pfx.buf, pfx.len, NULL, 0, false, read_count, &r);
    if (err == 0)
        err = moves_apply(NULL, txn, org, day, today, apply_to_memory, oc);
    return err;
}

/* ---- full scans (orgs without kept counts, builds, verification) ------- */

typedef struct scan_ctx {
    org_counts *oc;
    int32_t today;
    /* building kept counts: also write the index */
    pt_txn *write;
    const char *org;
    size_t people, moves;
} scan_ctx;

static int scan_person(const pt_val *key, const pt_val *val, void *arg)
{
    (void)key;
    scan_ctx *s = arg;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    if (!rec) {
        pt_error_set("people counts: unreadable person record");
        return PT_EIO;
    }
    person_part p;
    person_part_of(&p, rec, s->today);
    int err = org_counts_add(s->oc, p.group, p.group ? strlen(p.group) : 0, p.st, 1);
    if (err == 0 && s->write && p.moves) {
        err = move_put(s->write, s->org, &p);
        s->moves++;
    }
    s->people++;
    json_decref(rec);
    return err;
}

static int people_scan(scan_ctx *s, pt_txn *txn, const char *org)
{
    pt_key pfx;
    int err = pt_key_build(&pfx, org, NULL);
    if (err == 0)
        err = pt_key_as_prefix(&pfx);
    if (err == 0)
        err = pt_txn_scan(txn, PT_T_PEOPLE, pfx.buf, pfx.len, NULL, 0, false, scan_person, s);
    return err;
}

static int counts_write(pt_txn *txn, const char *org, const org_counts *oc)
{
    int err = 0;
    for (int st = 0; st < STATUS_SLOTS && err == 0; st++) {
        err = count_add(txn, org, NULL, (pt_status)st, oc->nogroup[st]);
        for (size_t i = 0; i < oc->ngroups && err == 0; i++)
            err = count_add(txn, org, oc->groups[i].group, (pt_status)st, oc->groups[i].n[st]);
    }
    return err;
}

/* Builds org's kept counts in a write transaction that has none. */
static int kept_build(size_t *people, pt_txn *txn, const char *org, int32_t today)
{
    org_counts *oc = org_counts_new(org, 0, today);
    if (!oc)
        return PT_ENOMEM;
    scan_ctx s = {oc, today, txn, org, 0, 0};
    int err = people_scan(&s, txn, org);
    if (err == 0)
        err = counts_write(txn, org, oc);
    if (err == 0)
        err = through_put(txn, org, today);
    if (people)
        *people = s.people;
    org_counts_free(oc);
    return err;
}

/* ---- writing ----------------------------------------------------------- */

/*
 * Every person write: build the org's counts if it has none (from the
 * store as it is before this write), bring them to today, then take the
 * old record out and put the new one in, with their index entries.
 */
int pt_people_counts_track(pt_txn *txn, const char *org, const json_t *before, const json_t *after)
{
    int32_t today, day = 0;
    bool have;
    if (pt_org_today_get(&today, txn, org) < 0)
        today = pt_clock_today();
    int err = through_get(&have, &day, txn, org);
    if (err < 0)
        return err;
    if (!have) {
        if ((err = kept_build(NULL, txn, org, today)) < 0)
            return err;
    } else if (day != today) {
        store_apply sa = {txn, org};
        if ((err = moves_apply(NULL, txn, org, day, today, apply_to_store, &sa)) < 0 ||
            (err = through_put(txn, org, today)) < 0)
            return err;
    }
    person_part p;
    if (before) {
        person_part_of(&p, before, today);
        if ((err = count_add(txn, org, p.group, p.st, -1)) < 0 ||
            (err = move_del(txn, org, &p)) < 0)
            return err;
    }
    if (after) {
        person_part_of(&p, after, today);
        if ((err = count_add(txn, org, p.group, p.st, 1)) < 0 || (err = move_put(txn, org, &p)) < 0)
            return err;
    }
    return 0;
}

/* ---- migration ----------------------------------------------------------- */

static int collect_org(const pt_val *key, const pt_val *val, void *arg)
{
    (void)val;
    json_t *ids = arg;
    return json_array_append_new(ids, json_stringn(key->data, key->len)) ? PT_ENOMEM : 0;
}

static int list_orgs(pt_txn *txn, void *arg)
{
    return pt_txn_scan(txn, PT_T_ORGS, NULL, 0, NULL, 0, false, collect_org, arg);
}

typedef struct migrate_one {
    const char *org;
    bool built;
    size_t people;
} migrate_one;

static int migrate_txn(pt_txn *txn, void *arg)
{
    migrate_one *m = arg;
    int32_t today, day = 0;
    bool have;
    m->built = false;
    m->people = 0;
    int err = through_get(&have, &day, txn, m->org);
    if (err < 0 || have)
        return err;
    if (pt_org_today_get(&today, txn, m->org) < 0)
        today = pt_clock_today();
    m->built = true;
    return kept_build(&m->people, txn, m->org, today);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pt_people_counts_migrate(pt_store *store, size_t *built)
{
    json_t *ids = json_array();
    *built = 0;
    if (!ids)
        return PT_ENOMEM;
    int err = pt_store_read(store, list_orgs, ids);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        if (err < 0)
            break;
        int64_t t0 = mono_ms();
        migrate_one m = {json_string_value(id), false, 0};
        err = pt_store_write(store, migrate_txn, &m);
        if (err == 0 && m.built) {
            (*built)++;
            pt_log_info("people_counts", "built headcounts of %s: %zu people in %lld ms", m.org,
                        m.people, (long long)(mono_ms() - t0));
        }
    }
    json_decref(ids);
    return err;
}

/* ---- verification --------------------------------------------------------- */

typedef struct verify_ctx {
    pt_txn *txn;
    const char *org;
    int32_t today;
    size_t expected_moves, found_moves, mismatches;
    pt_people_counts_report_fn report;
    void *report_ctx;
} verify_ctx;

static void verify_say(verify_ctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void verify_say(verify_ctx *v, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    v->mismatches++;
    if (v->report)
        v->report(v->report_ctx, v->org, msg);
}

static int verify_person(const pt_val *key, const pt_val *val, void *arg)
{
    (void)key;
    verify_ctx *v = arg;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    if (!rec)
        return 0; /* reported as unreadable elsewhere */
    person_part p;
    person_part_of(&p, rec, v->today);
    if (p.moves && p.user) {
        pt_key k;
        pt_val got;
        v->expected_moves++;
        if (key_move(&k, v->org, p.on, p.user) == 0 &&
            pt_txn_get(v->txn, PT_T_META, k.buf, k.len, &got) == 0) {
            const unsigned char *b = got.data;
            size_t glen = p.group ? strlen(p.group) : 0;
            bool same = got.len == (p.group ? 3 + glen : 2) && b[0] == p.from && b[1] == p.to &&
                        (!p.group || memcmp(b + 3, p.group, glen) == 0);
            if (!same)
                verify_say(v, "transition of %s is stale", p.user);
        } else {
            verify_say(v, "transition of %s is missing", p.user);
        }
    }
    json_decref(rec);
    return 0;
}

static int count_move(const pt_val *key, const pt_val *val, void *arg)
{
    (void)key;
    (void)val;
    ((verify_ctx *)arg)->found_moves++;
    return 0;
}

static const char *const status_names[STATUS_SLOTS] = {"none", "applicant", "employee", "leaver"};

int pt_people_counts_verify(size_t *mismatches, pt_txn *txn, const char *org,
                            pt_people_counts_report_fn report, void *report_ctx)
{
    int32_t today;
    bool have;
    *mismatches = 0;
    if (pt_org_today_get(&today, txn, org) < 0)
        today = pt_clock_today();
    org_counts *kept = org_counts_new(org, 0, today), *full = org_counts_new(org, 0, today);
    int err = kept && full ? kept_read(kept, &have, txn, org, today) : PT_ENOMEM;
    if (err < 0 || !have)
        goto out;
    scan_ctx s = {full, today, NULL, org, 0, 0};
    if ((err = people_scan(&s, txn, org)) < 0)
        goto out;
    verify_ctx v = {txn, org, today, 0, 0, 0, report, report_ctx};
    for (int st = 0; st < STATUS_SLOTS; st++) {
        if (kept->nogroup[st] != full->nogroup[st])
            verify_say(&v, "%s without a staff group: kept %lld, recounted %lld", status_names[st],
                       (long long)kept->nogroup[st], (long long)full->nogroup[st]);
        /* Both directions: a group only one side knows counts as 0 on the
         * other. */
        for (int pass = 0; pass < 2; pass++) {
            const org_counts *a = pass ? full : kept, *b = pass ? kept : full;
            for (size_t i = 0; i < a->ngroups; i++) {
                const char *g = a->groups[i].group;
                int64_t na = a->groups[i].n[st], nb = org_counts_answer(b, g, (pt_status)st);
                bool b_has = group_find(b, g, strlen(g), NULL) != NULL;
                if (na != nb && (pass == 0 || !b_has))
                    verify_say(&v, "%s %s: kept %lld, recounted %lld", g, status_names[st],
                               (long long)(pass ? nb : na), (long long)(pass ? na : nb));
            }
        }
    }
    pt_key pfx;
    if ((err = pt_key_build(&pfx, org, NULL)) < 0 || (err = pt_key_as_prefix(&pfx)) < 0 ||
        (err = pt_txn_scan(txn, PT_T_PEOPLE, pfx.buf, pfx.len, NULL, 0, false, verify_person, &v)) <
            0 ||
        (err = key_moves_prefix(&pfx, org)) < 0 ||
        (err = pt_txn_scan(txn, PT_T_META, pfx.buf, pfx.len, NULL, 0, false, count_move, &v)) < 0)
        goto out;
    if (v.found_moves != v.expected_moves)
        verify_say(&v, "%zu transitions kept, %zu people have one", v.found_moves,
                   v.expected_moves);
    *mismatches = v.mismatches;
out:
    org_counts_free(kept);
    org_counts_free(full);
    return err;
}

bool pt_people_counts_meta_key(const void *key, size_t len)
{
    return len > 3 && memcmp(key, HC "\0", 3) == 0;
}

/* ---- the in-memory cache -------------------------------------------------- */

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

/* Answers from the cached entry if it is for (gen, today), or with
 * any_entry from whatever entry the org has. */
static bool cache_answer(int64_t *out, const char *org, uint64_t gen, int32_t today,
                         const char *group, pt_status st, bool any_entry)
{
    bool hit = false;
    pthread_mutex_lock(&g_lock);
    size_t i = slot_of(org);
    if (i != SIZE_MAX && (any_entry || (g_orgs[i]->gen == gen && g_orgs[i]->today == today))) {
        *out = org_counts_answer(g_orgs[i], group, st);
        g_orgs[i]->used = ++g_tick;
        g_hits++;
        hit = true;
    }
    pthread_mutex_unlock(&g_lock);
    return hit;
}

/*
 * An org without kept counts is scanned by one reader at a time (single
 * flight); the others answer from the org's previous entry if it has one,
 * or wait for the scan and take its result.  A write transaction scans on
 * its own and caches nothing (it may still abort).
 */
static int scan_single_flight(int64_t *answer, pt_txn *txn, const char *org, uint64_t gen,
                              int32_t today, const char *group, pt_status st)
{
    bool write = pt_txn_is_write(txn);
    if (!write && pthread_mutex_trylock(&g_scan_lock) != 0) {
        if (cache_answer(answer, org, gen, today, group, st, true))
            return 0;
        pthread_mutex_lock(&g_scan_lock);
        if (cache_answer(answer, org, gen, today, group, st, false)) {
            pthread_mutex_unlock(&g_scan_lock);
            return 0;
        }
    }
    pthread_mutex_lock(&g_lock);
    g_scans++;
    pthread_mutex_unlock(&g_lock);
    org_counts *oc = org_counts_new(org, gen, today);
    scan_ctx s = {oc, today, NULL, org, 0, 0};
    int err = oc ? people_scan(&s, txn, org) : PT_ENOMEM;
    if (err == 0)
        *answer = org_counts_answer(oc, group, st);
    if (err == 0 && !write)
        org_counts_install(oc);
    else
        org_counts_free(oc);
    if (!write)
        pthread_mutex_unlock(&g_scan_lock);
    return err;
}

/*
 * The cached entry is valid for a snapshot whose generation and day are
 * the entry's: every person write bumps the generation in its own
 * transaction, and kept counts change only with a person write or the
 * day.  A miss rebuilds the entry from the kept counts (O(groups)), so a
 * stream of writes costs readers a few key reads each, never a scan.  An
 * entry is never installed from a write transaction, which may still
 * abort after reading its own uncommitted counts.
 */
int pt_people_count(int64_t *out, pt_txn *txn, const char *org, const char *staff_group,
                    pt_status status)
{
    return pt_people_count_on(out, txn, org, INT32_MIN, staff_group, status);
}

int pt_people_count_on(int64_t *out, pt_txn *txn, const char *org, int32_t today,
                       const char *staff_group, pt_status status)
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
    if (today == INT32_MIN && pt_org_today_get(&today, txn, org) < 0)
        today = pt_clock_today();
    if (cache_answer(out, org, gen, today, staff_group, status, false))
        return 0;

    org_counts *oc = org_counts_new(org, gen, today);
    bool have = false;
    err = oc ? kept_read(oc, &have, txn, org, today) : PT_ENOMEM;
    if (err < 0 || !have) {
        org_counts_free(oc);
        return err < 0 ? err : scan_single_flight(out, txn, org, gen, today, staff_group, status);
    }
    pthread_mutex_lock(&g_lock);
    g_rebuilds++;
    pthread_mutex_unlock(&g_lock);
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
    out->scans = g_scans;
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
    g_hits = g_rebuilds = g_scans = 0;
    pthread_mutex_unlock(&g_lock);
    for (size_t i = 0; i < n; i++)
        org_counts_free(all[i]);
}
