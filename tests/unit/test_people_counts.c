/*
 * test_people_counts.c - the kept headcounts behind host->people_count:
 * right after writes, after a patch, after the day passes a termination
 * date with no write (at the org's local midnight, and back again), per
 * organisation, from the cache on a repeat, never by scanning the people
 * once they are kept, built once for a store without them, and always
 * equal to a full recount (pt_people_counts_verify), also under
 * concurrent writers.
 */
#include "base/clock.h"
#include "check.h"
#include "store/model.h"
#include "store/people_counts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

static pt_store *store;

typedef struct person_w {
    const char *org, *user, *group, *status, *term;
} person_w;

static int put_person_cb(pt_txn *txn, void *arg)
{
    const person_w *p = arg;
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s}", "username", p->user, "display_name", p->user,
                            "email", "x@example.org", "status", p->status);
    if (p->group)
        json_object_set_new(rec, "staff_group", json_string(p->group));
    if (p->term)
        json_object_set_new(rec, "termination_date", json_string(p->term));
    int err = pt_person_put(txn, p->org, rec);
    json_decref(rec);
    return err;
}

static void put_person(const char *org, const char *user, const char *group, const char *status,
                       const char *term)
{
    person_w p = {org, user, group, status, term};
    CHECK_MSG(pt_store_write(store, put_person_cb, &p) == 0, "put %s/%s", org, user);
}

static int put_org_cb(pt_txn *txn, void *arg)
{
    json_t *o = json_pack("{s:s, s:s, s:{s:i}}", "id", (const char *)arg, "name", "x", "settings",
                          "leaver_access_days", 30);
    int err = pt_org_put(txn, o);
    json_decref(o);
    return err;
}

typedef struct count_q {
    const char *org, *group;
    pt_status st;
    int64_t n;
} count_q;

static int count_cb(pt_txn *txn, void *arg)
{
    count_q *q = arg;
    return pt_people_count(&q->n, txn, q->org, q->group, q->st);
}

static int64_t count(const char *org, const char *group, pt_status st)
{
    count_q q = {org, group, st, -1};
    CHECK_MSG(pt_store_read(store, count_cb, &q) == 0, "count %s/%s", org, group ? group : "*");
    return q.n;
}

typedef struct verify_q {
    const char *org;
    size_t mismatches;
} verify_q;

static void say_mismatch(void *ctx, const char *org, const char *what)
{
    (void)ctx;
    fprintf(stderr, "  mismatch in %s: %s\n", org, what);
}

static int verify_cb(pt_txn *txn, void *arg)
{
    verify_q *q = arg;
    return pt_people_counts_verify(&q->mismatches, txn, q->org, say_mismatch, NULL);
}

/* Kept counts minus a full recount of the org's people: 0 when exact. */
static size_t mismatches(const char *org)
{
    verify_q q = {org, 999};
    CHECK_MSG(pt_store_read(store, verify_cb, &q) == 0, "verify %s", org);
    return q.mismatches;
}

/* A write that counts its own uncommitted change and then aborts. */
static int abort_cb(pt_txn *txn, void *arg)
{
    count_q *q = arg;
    person_w p = {"trust-a", "nina", "nursing", "employee", NULL};
    int err = put_person_cb(txn, &p);
    if (err == 0)
        err = pt_people_count(&q->n, txn, q->org, q->group, q->st);
    return err == 0 ? PT_EINVAL : err;
}

static void set_day(const char *date)
{
    int32_t d;
    CHECK(pt_date_parse(date, &d));
    pt_clock_set_fixed_ms((int64_t)d * DAY_MS + 12 * 3600 * 1000LL);
}

static void test_counts(void)
{
    pt_people_counts_stats st;
    set_day("2026-10-01");
    CHECK(pt_store_write(store, put_org_cb, "trust-a") == 0);
    CHECK(pt_store_write(store, put_org_cb, "trust-b") == 0);
    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 0);

    put_person("trust-a", "ann", "nursing", "employee", NULL);
    put_person("trust-a", "bob", "nursing", "employee", "2026-10-20");
    put_person("trust-a", "cat", "medical", "employee", NULL);
    put_person("trust-a", "dan", "nursing", "applicant", NULL);
    put_person("trust-a", "eve", "nursing", "employee", "2026-09-01"); /* already left */
    put_person("trust-a", "fay", NULL, "employee", NULL);
    put_person("trust-b", "gus", "nursing", "employee", NULL);

    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 2);
    CHECK(count("trust-a", "nursing", PT_STATUS_APPLICANT) == 1);
    CHECK(count("trust-a", "nursing", PT_STATUS_LEAVER) == 1);
    CHECK(count("trust-a", "medical", PT_STATUS_EMPLOYEE) == 1);
    CHECK(count("trust-a", "estates", PT_STATUS_EMPLOYEE) == 0);
    CHECK(count("trust-a", NULL, PT_STATUS_EMPLOYEE) == 4);
    CHECK(count("trust-a", "nursing", PT_STATUS_NONE) == 0);
    CHECK(count("trust-b", "nursing", PT_STATUS_EMPLOYEE) == 1);
    CHECK(count("trust-b", "medical", PT_STATUS_EMPLOYEE) == 0);
    CHECK(count("trust-c", "nursing", PT_STATUS_EMPLOYEE) == 0);
    CHECK(count("", "nursing", PT_STATUS_EMPLOYEE) == 0);

    /* Repeats come from the cache with the same numbers. */
    pt_people_counts_stats_get(&st);
    uint64_t rebuilds = st.rebuilds, hits = st.hits;
    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 2);
    CHECK(count("trust-a", "medical", PT_STATUS_EMPLOYEE) == 1);
    CHECK(count("trust-b", "nursing", PT_STATUS_EMPLOYEE) == 1);
    pt_people_counts_stats_get(&st);
    CHECK(st.rebuilds == rebuilds);
    CHECK(st.hits == hits + 3);
    CHECK(st.orgs >= 2);

    /* A patch of the staff group moves the count at once. */
    put_person("trust-a", "ann", "medical", "employee", NULL);
    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 1);
    CHECK(count("trust-a", "medical", PT_STATUS_EMPLOYEE) == 2);
    /* ... and a write in one org leaves the other's entry alone. */
    pt_people_counts_stats_get(&st);
    rebuilds = st.rebuilds;
    CHECK(count("trust-b", "nursing", PT_STATUS_EMPLOYEE) == 1);
    pt_people_counts_stats_get(&st);
    CHECK(st.rebuilds == rebuilds);

    /* A past termination date makes an employee a leaver. */
    put_person("trust-a", "cat", "medical", "employee", "2026-09-30");
    CHECK(count("trust-a", "medical", PT_STATUS_EMPLOYEE) == 1);
    CHECK(count("trust-a", "medical", PT_STATUS_LEAVER) == 1);

    /* An aborted write's own count is not cached for later readers. */
    count_q q = {"trust-a", "nursing", PT_STATUS_EMPLOYEE, -1};
    CHECK(pt_store_write(store, abort_cb, &q) == PT_EINVAL);
    CHECK(q.n == 2);
    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 1);
    put_person("trust-a", "zed", "medical", "employee", NULL); /* same generation as the abort */
    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 1);
    CHECK(count("trust-a", "medical", PT_STATUS_EMPLOYEE) == 2);

    /* The day passes bob's termination date with no write at all. */
    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 1);
    set_day("2026-10-20"); /* his last day: still employed */
    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 1);
    set_day("2026-10-21");
    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 0);
    CHECK(count("trust-a", "nursing", PT_STATUS_LEAVER) == 2);
    CHECK(count("trust-b", "nursing", PT_STATUS_EMPLOYEE) == 1);

    /* Forgetting everything changes no answer. */
    pt_people_counts_reset();
    pt_people_counts_stats_get(&st);
    CHECK(st.orgs == 0);
    CHECK(count("trust-a", "nursing", PT_STATUS_LEAVER) == 2);
    CHECK(count("trust-a", NULL, PT_STATUS_EMPLOYEE) == 3);

    /* The clock going back (a test clock) undoes the transition. */
    set_day("2026-10-20");
    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 1);
    CHECK(count("trust-a", "nursing", PT_STATUS_LEAVER) == 1);
    CHECK(mismatches("trust-a") == 0);
    set_day("2026-10-21");

    /* A write on a later day persists the advance; removing the date
     * again (a cancelled resignation) brings bob back. */
    put_person("trust-a", "bob", "nursing", "employee", NULL);
    CHECK(count("trust-a", "nursing", PT_STATUS_EMPLOYEE) == 1);
    CHECK(count("trust-a", "nursing", PT_STATUS_LEAVER) == 1);
    CHECK(mismatches("trust-a") == 0);
    CHECK(mismatches("trust-b") == 0);

    /* None of it scanned the people: the counts are kept. */
    pt_people_counts_stats_get(&st);
    CHECK(st.scans == 0);
}

static int put_org_tz_cb(pt_txn *txn, void *arg)
{
    json_t *o = json_pack("{s:s, s:s, s:{s:i, s:s}}", "id", (const char *)arg, "name", "x",
                          "settings", "leaver_access_days", 30, "time_zone", "Australia/Sydney");
    int err = pt_org_put(txn, o);
    json_decref(o);
    return err;
}

/*
 * A termination takes effect at the organisation's local midnight:
 * Sydney is UTC+11 in November, so 2026-11-10 13:00Z is already the
 * 11th there and the person who worked their last day on the 10th is a
 * leaver, while London is still on the 10th.
 */
static void test_local_midnight(void)
{
    int32_t d;
    CHECK(pt_date_parse("2026-11-10", &d));
    pt_clock_set_fixed_ms((int64_t)d * DAY_MS + 12 * 3600 * 1000LL + 59 * 60 * 1000LL);
    CHECK(pt_store_write(store, put_org_tz_cb, "trust-syd") == 0);
    put_person("trust-syd", "sam", "nursing", "employee", "2026-11-10");
    put_person("trust-syd", "sue", "nursing", "employee", NULL);
    put_person("trust-a", "lon", "estates", "employee", "2026-11-10");
    CHECK(count("trust-syd", "nursing", PT_STATUS_EMPLOYEE) == 2); /* 23:59 in Sydney */
    pt_clock_set_fixed_ms((int64_t)d * DAY_MS + 13 * 3600 * 1000LL + 1000);
    CHECK(count("trust-syd", "nursing", PT_STATUS_EMPLOYEE) == 1); /* 00:00:01 on the 11th */
    CHECK(count("trust-syd", "nursing", PT_STATUS_LEAVER) == 1);
    CHECK(count("trust-a", "estates", PT_STATUS_EMPLOYEE) == 1); /* London: 13:00 on the 10th */
    CHECK(mismatches("trust-syd") == 0);
    pt_clock_set_fixed_ms((int64_t)(d + 1) * DAY_MS + 1000); /* 00:00:01 in London */
    CHECK(count("trust-a", "estates", PT_STATUS_EMPLOYEE) == 0);
    CHECK(count("trust-a", "estates", PT_STATUS_LEAVER) == 1);
    CHECK(mismatches("trust-a") == 0);
}

/* ---- a store from before kept counts ------------------------------------ */

static int drop_kept_scan(const pt_val *key, const pt_val *val, void *arg)
{
    (void)val;
    json_t *keys = arg;
    if (pt_people_counts_meta_key(key->data, key->len))
        json_array_append_new(keys, json_stringn_nocheck(key->data, key->len));
    return 0;
}

static int drop_kept_cb(pt_txn *txn, void *arg)
{
    (void)arg;
    json_t *keys = json_array();
    int err = pt_txn_scan(txn, PT_T_META, NULL, 0, NULL, 0, false, drop_kept_scan, keys);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        if (err == 0)
            err = pt_txn_del(txn, PT_T_META, json_string_value(k), json_string_length(k));
    }
    json_decref(keys);
    return err;
}

static int tamper_cb(pt_txn *txn, void *arg)
{
    (void)arg;
    pt_key k;
    unsigned char be[8] = {0, 0, 0, 0, 0, 0, 0, 7};
    char st[2] = {(char)('0' + PT_STATUS_EMPLOYEE), 0};
    int err = pt_key_build(&k, "hc", "trust-b", "c", st, NULL);
    if (err == 0)
        err = pt_key_append(&k, "nursing", 7);
    return err ? err : pt_txn_put(txn, PT_T_META, k.buf, k.len, be, sizeof be);
}

static void test_migrate(void)
{
    pt_people_counts_stats st;
    size_t built = 0;
    int64_t emp = count("trust-a", NULL, PT_STATUS_EMPLOYEE);
    int64_t left = count("trust-a", NULL, PT_STATUS_LEAVER);
    CHECK(pt_store_write(store, drop_kept_cb, NULL) == 0);
    pt_people_counts_reset();
    /* Without kept counts the answer comes from one scan, still right. */
    CHECK(count("trust-a", NULL, PT_STATUS_EMPLOYEE) == emp);
    pt_people_counts_stats_get(&st);
    CHECK(st.scans == 1);
    CHECK(mismatches("trust-a") == 0); /* nothing kept: nothing to disagree with */
    CHECK(pt_people_counts_migrate(store, &built) == 0);
    CHECK(built >= 3);
    CHECK(pt_people_counts_migrate(store, &built) == 0);
    CHECK(built == 0); /* once */
    pt_people_counts_reset();
    CHECK(count("trust-a", NULL, PT_STATUS_EMPLOYEE) == emp);
    CHECK(count("trust-a", NULL, PT_STATUS_LEAVER) == left);
    CHECK(count("trust-syd", "nursing", PT_STATUS_LEAVER) == 1);
    pt_people_counts_stats_get(&st);
    CHECK(st.scans == 0);
    CHECK(mismatches("trust-a") == 0);
    CHECK(mismatches("trust-b") == 0);
    CHECK(mismatches("trust-syd") == 0);

    /* A count that disagrees with the people is reported. */
    CHECK(pt_store_write(store, tamper_cb, NULL) == 0);
    CHECK(mismatches("trust-b") == 1);
    put_person("trust-b", "gus", "nursing", "employee", NULL); /* put right by hand */
    CHECK(pt_store_write(store, drop_kept_cb, NULL) == 0);
    CHECK(pt_people_counts_migrate(store, &built) == 0);
    CHECK(mismatches("trust-b") == 0);
}

/* ---- concurrent writers -------------------------------------------------- */

#define WRITERS      4
#define WRITES_EACH  150
#define WRITER_USERS 40

static const char *const groups4[] = {"nursing", "medical", "estates", NULL};

typedef struct writer_arg {
    int id;
} writer_arg;

/* Each writer edits a shared set of people: group, status and
 * termination dates on both sides of today, so writes race on the same
 * counts and index entries. */
static void *writer_main(void *arg)
{
    writer_arg *w = arg;
    unsigned seed = (unsigned)w->id * 7919u + 1u;
    char user[32];
    for (int i = 0; i < WRITES_EACH; i++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(user, sizeof user, "w%02u", (seed >> 8) % WRITER_USERS);
        const char *group = groups4[(seed >> 16) % 4];
        const char *status = (seed >> 20) % 3 == 0 ? "applicant" : "employee";
        const char *term = NULL;
        switch ((seed >> 24) % 4) {
        case 0:
            term = "2026-11-01";
            break;
        case 1:
            term = "2026-11-30";
            break;
        default:
            break;
        }
        person_w p = {"trust-w", user, group, status, term};
        if (pt_store_write(store, put_person_cb, &p) != 0)
            return (void *)1;
        count_q q = {"trust-w", "nursing", PT_STATUS_EMPLOYEE, 0};
        if (pt_store_read(store, count_cb, &q) != 0 || q.n < 0 || q.n > WRITER_USERS)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent_writers(void)
{
    set_day("2026-11-15");
    CHECK(pt_store_write(store, put_org_cb, "trust-w") == 0);
    pthread_t th[WRITERS];
    writer_arg args[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        args[i].id = i;
        CHECK(pthread_create(&th[i], NULL, writer_main, &args[i]) == 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        void *rv = NULL;
        pthread_join(th[i], &rv);
        CHECK(rv == NULL);
    }
    CHECK(mismatches("trust-w") == 0);
    /* ... and the next midnight with nobody writing. */
    set_day("2026-12-01");
    CHECK(mismatches("trust-w") == 0);
    /* Every person is counted once, in exactly one status. */
    int64_t total = 0;
    for (int st = PT_STATUS_APPLICANT; st <= PT_STATUS_LEAVER; st++)
        total += count("trust-w", NULL, (pt_status)st);
    CHECK(total == WRITER_USERS);
}

/* More organisations than the cache holds: still right, still bounded. */
static void test_eviction(void)
{
    char org[32];
    for (int i = 0; i < PT_PEOPLE_COUNTS_MAX_ORGS + 20; i++) {
        snprintf(org, sizeof(org), "org-%d", i);
        put_person(org, "u", "g", "employee", NULL);
        CHECK(count(org, "g", PT_STATUS_EMPLOYEE) == 1);
    }
    pt_people_counts_stats st;
    pt_people_counts_stats_get(&st);
    CHECK(st.orgs <= PT_PEOPLE_COUNTS_MAX_ORGS);
    CHECK(count("org-0", "g", PT_STATUS_EMPLOYEE) == 1);
    CHECK(count("trust-b", "nursing", PT_STATUS_EMPLOYEE) == 1);
}

int main(void)
{
    char dir[] = "/tmp/pt_people_counts_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    pt_people_counts_reset();
    CHECK(pt_store_open(&store, dir, NULL) == 0);
    if (store) {
        test_counts();
        test_local_midnight();
        test_migrate();
        test_concurrent_writers();
        test_eviction();
        pt_store_close(store);
    }
    pt_people_counts_reset();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_finish("test_people_counts");
}
