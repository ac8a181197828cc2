/*
 * test_people_counts.c - the cached headcounts behind host->people_count:
 * right after writes, after a patch, after the day passes a termination
 * date with no write, per organisation, and from the cache on a repeat.
 */
#include "base/clock.h"
#include "check.h"
#include "store/model.h"
#include "store/people_counts.h"

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
