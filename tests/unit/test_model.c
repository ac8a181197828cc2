/*
 * test_model.c - model records against a temporary store: leaver
 * arithmetic, memberships, account rules and the audit log.
 */
#include "auth/auth.h"
#include "base/clock.h"
#include "check.h"
#include "store/model.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *person(const char *user, const char *status, const char *term, const char *role)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "username", user, "display_name", user,
                          "email", "x@example.org", "status", status, "roles");
    if (term)
        json_object_set_new(p, "termination_date", json_string(term));
    if (role)
        json_array_append_new(json_object_get(p, "roles"), json_string(role));
    return p;
}

static json_t *person_term(const char *user, int32_t term_days)
{
    char d[16];
    pt_date_format(d, term_days);
    return person(user, "employee", d, NULL);
}

/* ---- status arithmetic -------------------------------------------------- */

static void test_status(void)
{
    int32_t today = pt_days_from_civil(2026, 11, 22), ends = 0;
    json_t *p;

    p = person("e", "employee", NULL, NULL);
    CHECK(pt_person_status(p, 90, today, &ends) == PT_STATUS_EMPLOYEE);
    CHECK(ends == -1);
    json_decref(p);

    p = person("a", "applicant", NULL, NULL);
    CHECK(pt_person_status(p, 90, today, &ends) == PT_STATUS_APPLICANT);
    CHECK(ends == -1);
    json_decref(p);

    /* The termination date is the last day of employment. */
    p = person_term("t", today);
    CHECK(pt_person_status(p, 90, today, &ends) == PT_STATUS_EMPLOYEE);
    CHECK(ends == -1);
    /* From the next day a leaver, with access through term + days. */
    CHECK(pt_person_status(p, 90, today + 1, &ends) == PT_STATUS_LEAVER);
    CHECK(ends == today + 90);
    CHECK(pt_person_status(p, 30, today + 30, &ends) == PT_STATUS_LEAVER);
    CHECK(ends == today + 30 && ends >= today + 30); /* last day of access: inclusive */
    CHECK(pt_person_status(p, 30, today + 31, &ends) == PT_STATUS_LEAVER);
    CHECK(ends < today + 31); /* the day after: expired */
    /* leaver_access_days 0: access ends on the termination date itself. */
    CHECK(pt_person_status(p, 0, today + 1, &ends) == PT_STATUS_LEAVER);
    CHECK(ends == today && ends < today + 1);
    /* An applicant with a past termination date is a leaver too. */
    json_object_set_new(p, "status", json_string("applicant"));
    CHECK(pt_person_status(p, 10, today + 2, &ends) == PT_STATUS_LEAVER);
    CHECK(ends == today + 10);
    CHECK(pt_person_status(p, 10, today + 2, NULL) == PT_STATUS_LEAVER);
    json_decref(p);

    p = person("r", "employee", NULL, "hr_admin");
    json_array_append_new(json_object_get(p, "roles"), json_string("portal_admin"));
    json_array_append_new(json_object_get(p, "roles"), json_string("nonsense"));
    CHECK(pt_person_roles(p) == (PT_ROLE_HR_ADMIN | PT_ROLE_PORTAL_ADMIN));
    json_decref(p);

    json_t *org = json_pack("{s:s, s:{s:i}}", "id", "o", "settings", "leaver_access_days", 7);
    CHECK(pt_org_leaver_days(org) == 7);
    json_decref(org);
    org = json_pack("{s:s}", "id", "o");
    CHECK(pt_org_leaver_days(org) == 90);
    json_decref(org);
}

/* ---- fixtures ----------------------------------------------------------- */

static int32_t g_today;

static int setup_txn(pt_txn *txn, void *ctx)
{
    (void)ctx;
    int err = 0;
    json_t *alpha = json_pack("{s:s, s:s, s:{s:i}}", "id", "alpha", "name", "Alpha Trust",
                              "settings", "leaver_access_days", 30);
    json_t *beta = json_pack("{s:s, s:s, s:{s:i}}", "id", "beta", "name", "Beta Board", "settings",
                             "leaver_access_days", 0);
    err |= pt_org_put(txn, alpha);
    err |= pt_org_put(txn, beta);
    json_decref(alpha);
    json_decref(beta);

    err |= pt_account_ensure(txn, "root", "hash-root", NULL, true);
    /* One account, two memberships with different roles. */
    json_t *p = person("pat", "employee", NULL, "portal_admin");
    err |= pt_account_ensure(txn, "pat", "hash-1", "beta", false);
    err |= pt_person_put(txn, "beta", p);
    json_decref(p);
    p = person("pat", "employee", NULL, "hr_admin");
    err |= pt_account_ensure(txn, "pat", "hash-2", "alpha", false);
    err |= pt_person_put(txn, "alpha", p);
    json_decref(p);

    p = person_term("lee", g_today - 5);
    err |= pt_account_ensure(txn, "lee", "hash-lee", "alpha", false);
    err |= pt_person_put(txn, "alpha", p);
    json_decref(p);
    p = person_term("lee", g_today - 5);
    err |= pt_account_ensure(txn, "lee", NULL, "beta", false);
    err |= pt_person_put(txn, "beta", p);
    json_decref(p);
    return err ? PT_ERR : 0;
}

static int membership_txn(pt_txn *txn, void *ctx)
{
    (void)ctx;
    pt_caller c;

    memset(&c, 0, sizeof c);
    strcpy(c.username, "root");
    CHECK(pt_membership_load(&c, txn) == 0);
    CHECK(c.roles == PT_ROLE_SYSTEM_ADMIN);
    CHECK(c.status == PT_STATUS_NONE);
    CHECK(c.access_ends == -1);

    strcpy(c.org, "alpha"); /* a system admin without a membership there */
    CHECK(pt_membership_load(&c, txn) == PT_ENOTFOUND);

    memset(&c, 0, sizeof c);
    strcpy(c.username, "pat");
    CHECK(pt_membership_load(&c, txn) == PT_ENOTFOUND); /* no org, not admin */
    strcpy(c.org, "alpha");
    CHECK(pt_membership_load(&c, txn) == 0);
    CHECK(c.roles == PT_ROLE_HR_ADMIN);
    CHECK(c.status == PT_STATUS_EMPLOYEE);
    strcpy(c.org, "beta");
    CHECK(pt_membership_load(&c, txn) == 0);
    CHECK(c.roles == PT_ROLE_PORTAL_ADMIN);
    strcpy(c.org, "gamma");
    CHECK(pt_membership_load(&c, txn) == PT_ENOTFOUND);

    memset(&c, 0, sizeof c);
    strcpy(c.username, "nobody");
    strcpy(c.org, "alpha");
    CHECK(pt_membership_load(&c, txn) == PT_ENOTFOUND);

    /* Same leaver, the org's own leaver period in each. */
    memset(&c, 0, sizeof c);
    strcpy(c.username, "lee");
    strcpy(c.org, "alpha");
    CHECK(pt_membership_load(&c, txn) == 0);
    CHECK(c.status == PT_STATUS_LEAVER);
    CHECK(c.access_ends == g_today - 5 + 30);
    strcpy(c.org, "beta");
    CHECK(pt_membership_load(&c, txn) == 0);
    CHECK(c.status == PT_STATUS_LEAVER);
    CHECK(c.access_ends == g_today - 5);

    /* One account; memberships in id order; first password kept. */
    json_t *acc = NULL;
    CHECK(pt_account_get(&acc, txn, "pat") == 0);
    json_t *orgs = json_object_get(acc, "orgs");
    CHECK(json_array_size(orgs) == 2);
    CHECK(strcmp(json_string_value(json_array_get(orgs, 0)), "alpha") == 0);
    CHECK(strcmp(json_string_value(json_array_get(orgs, 1)), "beta") == 0);
    CHECK(strcmp(json_string_value(json_object_get(acc, "password_hash")), "hash-1") == 0);
    CHECK(!json_is_true(json_object_get(acc, "system_admin")));
    json_decref(acc);
    CHECK(pt_account_get(&acc, txn, "lee") == 0);
    CHECK(strcmp(json_string_value(json_object_get(acc, "password_hash")), "hash-lee") == 0);
    json_decref(acc);
    CHECK(pt_account_get(&acc, txn, "ghost") == PT_ENOTFOUND);
    CHECK(acc == NULL);

    json_t *p = NULL;
    CHECK(pt_person_get(&p, txn, "alpha", "pat") == 0);
    CHECK(p && strcmp(json_string_value(json_object_get(p, "username")), "pat") == 0);
    json_decref(p);
    CHECK(pt_person_get(&p, txn, "gamma", "pat") == PT_ENOTFOUND);
    return 0;
}

/* ---- audit -------------------------------------------------------------- */

static int audit_txn(pt_txn *txn, void *ctx)
{
    (void)ctx;
    json_t *after = json_pack("{s:s}", "name", "x");
    int err = 0;
    err |= pt_audit_append(txn, "alpha", "pat", "org.update", "alpha", NULL, after);
    err |= pt_audit_append(txn, "beta", "pat", "person.create", "b1", NULL, after);
    err |= pt_audit_append(txn, "alpha", "pat", "person.create", "a2", NULL, after);
    err |= pt_audit_append(txn, "beta", "root", "person.update", "b2", after, after);
    err |= pt_audit_append(txn, "alpha", "root", "people.import", "alpha", NULL, NULL);
    /* An org whose id is a prefix of another must not see its entries. */
    err |= pt_audit_append(txn, "alph", "root", "org.create", "alph", NULL, NULL);
    json_decref(after);
    return err ? PT_ERR : 0;
}

typedef struct audit_seen {
    const char *org;
    json_int_t seqs[16];
    char actions[16][32];
    size_t n;
    bool bad;
} audit_seen;

static int audit_scan_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    audit_seen *s = ctx;
    (void)key;
    json_t *e = json_loadb(val->data, val->len, 0, NULL);
    if (!e || s->n >= 16) {
        s->bad = true;
        json_decref(e);
        return PT_ESTOP;
    }
    int64_t at;
    if (!json_is_string(json_object_get(e, "at")) ||
        !pt_time_parse(json_string_value(json_object_get(e, "at")), &at) ||
        !json_is_string(json_object_get(e, "actor")) || !json_object_get(e, "before") ||
        !json_object_get(e, "after") || !json_is_string(json_object_get(e, "target")))
        s->bad = true;
    s->seqs[s->n] = json_integer_value(json_object_get(e, "seq"));
    snprintf(s->actions[s->n], sizeof s->actions[0], "%s",
             json_string_value(json_object_get(e, "action")));
    s->n++;
    json_decref(e);
    return 0;
}

static int audit_read_txn(pt_txn *txn, void *ctx)
{
    audit_seen *s = ctx;
    pt_key k;
    if (pt_key_build(&k, s->org, NULL) < 0 || pt_key_as_prefix(&k) < 0)
        return PT_ERR;
    return pt_txn_scan(txn, PT_T_AUDIT, k.buf, k.len, NULL, 0, false, audit_scan_cb, s);
}

static void test_audit(pt_store *st)
{
    CHECK(pt_store_write(st, audit_txn, NULL) == 0);
    CHECK(pt_store_write(st, audit_txn, NULL) == 0); /* a second batch continues the seq */

    audit_seen a = {.org = "alpha"};
    CHECK(pt_store_read(st, audit_read_txn, &a) == 0);
    CHECK(!a.bad);
    CHECK(a.n == 6);
    for (size_t i = 0; i < a.n; i++)
        CHECK(a.seqs[i] == (json_int_t)i + 1);
    CHECK(strcmp(a.actions[0], "org.update") == 0);
    CHECK(strcmp(a.actions[1], "person.create") == 0);
    CHECK(strcmp(a.actions[2], "people.import") == 0);
    CHECK(strcmp(a.actions[3], "org.update") == 0);

    audit_seen b = {.org = "beta"};
    CHECK(pt_store_read(st, audit_read_txn, &b) == 0);
    CHECK(!b.bad);
    CHECK(b.n == 4);
    for (size_t i = 0; i < b.n; i++)
        CHECK(b.seqs[i] == (json_int_t)i + 1);
    CHECK(strcmp(b.actions[0], "person.create") == 0);
    CHECK(strcmp(b.actions[1], "person.update") == 0);

    audit_seen c = {.org = "alph"};
    CHECK(pt_store_read(st, audit_read_txn, &c) == 0);
    CHECK(c.n == 2);
    CHECK(strcmp(c.actions[0], "org.create") == 0);
}

/* The org-local date: London by default, the org's zone when set. */
static void test_org_today(void)
{
    int64_t t;
    CHECK(pt_time_parse("2026-07-08T23:30:00Z", &t));
    json_t *london = json_pack("{s:s, s:{}}", "id", "a", "settings");
    json_t *kolkata =
        json_pack("{s:s, s:{s:s}}", "id", "b", "settings", "time_zone", "Asia/Kolkata");
    json_t *utc = json_pack("{s:s, s:{s:s}}", "id", "c", "settings", "time_zone", "UTC");
    json_t *gone = json_pack("{s:s, s:{s:s}}", "id", "d", "settings", "time_zone", "Gone/Zone");
    CHECK(strcmp(pt_org_time_zone(london), "Europe/London") == 0);
    CHECK(pt_org_today(london, t) == pt_days_from_civil(2026, 7, 9)); /* 00:30 BST */
    CHECK(pt_org_today(utc, t) == pt_days_from_civil(2026, 7, 8));
    CHECK(pt_org_today(kolkata, t - 4 * 3600) == pt_days_from_civil(2026, 7, 9));
    CHECK(pt_org_today(gone, t) == pt_days_from_civil(2026, 7, 9)); /* falls back to London */
    CHECK(pt_org_today(london, t - 3600) == pt_days_from_civil(2026, 7, 8)); /* 23:30 BST */
    json_decref(london);
    json_decref(kolkata);
    json_decref(utc);
    json_decref(gone);
}

int main(void)
{
    char dir[] = "/tmp/pt_test_model_XXXXXX";
    pt_store *st = NULL;
    pt_store_options opts = PT_STORE_OPTIONS_INIT;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    g_today = pt_clock_today();
    test_status();
    test_org_today();
    if (pt_store_open(&st, dir, &opts) != 0) {
        fprintf(stderr, "store open failed: %s\n", pt_error_last());
        return 1;
    }
    CHECK(pt_store_write(st, setup_txn, NULL) == 0);
    CHECK(pt_store_read(st, membership_txn, NULL) == 0);
    test_audit(st);
    pt_store_close(st);

    if (check_rm_tree(dir) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    return check_finish("test_model");
}
