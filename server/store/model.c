/*
 * model.c - accounts, organisations, people and the audit log as JSON
 * records in the store.  Every function works inside the caller's
 * transaction so that a change and its audit entry commit together.
 */
#include "store/model.h"

#include "base/clock.h"
#include "base/tz.h"
#include "store/people_counts.h"

#include <stdio.h>
#include <string.h>

/* ---- accounts ---------------------------------------------------------- */

int pt_account_get(json_t **out, pt_txn *txn, const char *username)
{
    *out = NULL;
    if (!username || !*username)
        return PT_ENOTFOUND;
    return pt_txn_get_json(txn, PT_T_ACCOUNTS, username, strlen(username), out);
}

int pt_account_put(pt_txn *txn, const json_t *account)
{
    const char *u = json_string_value(json_object_get(account, "username"));
    if (!u || !*u) {
        pt_error_set("account without username");
        return PT_EINVAL;
    }
    return pt_txn_put_json(txn, PT_T_ACCOUNTS, u, strlen(u), account);
}

static bool json_array_has_string(const json_t *arr, const char *s)
{
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        const char *v = json_string_value(it);
        if (v && strcmp(v, s) == 0)
            return true;
    }
    return false;
}

/*
 * Memberships are kept sorted by org id so that "the first membership in
 * id order" (login without an org) is simply the first element.
 */
static int account_add_org(json_t *account, const char *org)
{
    json_t *orgs = json_object_get(account, "orgs");
    if (!json_is_array(orgs)) {
        orgs = json_array();
        if (!orgs || json_object_set_new(account, "orgs", orgs) < 0)
            return PT_ENOMEM;
    }
    if (json_array_has_string(orgs, org))
        return 0;
    size_t pos = json_array_size(orgs);
    for (size_t i = 0; i < json_array_size(orgs); i++) {
        const char *v = json_string_value(json_array_get(orgs, i));
        if (v && strcmp(org, v) < 0) {
            pos = i;
            break;
        }
    }
    if (json_array_insert_new(orgs, pos, json_string(org)) < 0)
        return PT_ENOMEM;
    return 0;
}

/*
 * A username names one account across the installation; memberships are
 * added to it.  An existing account's password is never touched here, so
 * an admin of one organisation cannot take over a person's login by adding
 * them to their own organisation.
 */
int pt_account_ensure(pt_txn *txn, const char *username, const char *password_hash, const char *org,
                      bool system_admin)
{
    json_t *acc = NULL;
    int err = pt_account_get(&acc, txn, username);
    if (err == PT_ENOTFOUND) {
        char now[32];
        pt_time_format(now, pt_clock_now());
        acc = json_pack("{s:s, s:b, s:[], s:n, s:s}", "username", username, "system_admin",
                        system_admin, "orgs", "totp", "created_at", now);
        if (!acc)
            return PT_ENOMEM;
        if (password_hash && *password_hash)
            json_object_set_new(acc, "password_hash", json_string(password_hash));
        /* The organisation that made the account is where a login
         * without `org` lands until the holder chooses otherwise. */
        if (org && *org)
            json_object_set_new(acc, "default_org", json_string(org));
    } else if (err < 0) {
        return err;
    } else if (system_admin) {
        json_object_set_new(acc, "system_admin", json_true());
    }
    if (org && *org && (err = account_add_org(acc, org)) < 0) {
        json_decref(acc);
        return err;
    }
    err = pt_account_put(txn, acc);
    json_decref(acc);
    return err;
}

/* ---- organisations ----------------------------------------------------- */

int pt_org_get(json_t **out, pt_txn *txn, const char *org)
{
    *out = NULL;
    if (!org || !*org)
        return PT_ENOTFOUND;
    return pt_txn_get_json(txn, PT_T_ORGS, org, strlen(org), out);
}

int pt_org_put(pt_txn *txn, const json_t *org)
{
    const char *id = json_string_value(json_object_get(org, "id"));
    if (!id || !*id) {
        pt_error_set("organisation without id");
        return PT_EINVAL;
    }
    int err = pt_txn_put_json(txn, PT_T_ORGS, id, strlen(id), org);
    return err < 0 ? err : pt_orgs_gen_bump(txn);
}

int pt_orgs_gen_bump(pt_txn *txn)
{
    uint64_t gen;
    return pt_txn_next_seq(txn, PT_ORGS_GEN_SEQ, &gen);
}

int pt_org_leaver_days(const json_t *org)
{
    json_t *d = json_object_get(json_object_get(org, "settings"), "leaver_access_days");
    if (!json_is_integer(d))
        return PT_LEAVER_ACCESS_DAYS_DEFAULT;
    json_int_t v = json_integer_value(d);
    if (v < 0)
        return 0;
    if (v > PT_LEAVER_ACCESS_DAYS_MAX)
        return PT_LEAVER_ACCESS_DAYS_MAX;
    return (int)v;
}

int pt_org_leaver_days_get(int *days, pt_txn *txn, const char *org)
{
    json_t *rec = NULL;
    int err = pt_org_get(&rec, txn, org);
    if (err == 0)
        *days = pt_org_leaver_days(rec);
    json_decref(rec);
    return err;
}

const char *pt_org_time_zone(const json_t *org)
{
    const char *tz =
        json_string_value(json_object_get(json_object_get(org, "settings"), "time_zone"));
    return tz && *tz ? tz : PT_TZ_DEFAULT;
}

/*
 * A stored zone was valid when it was set; if tzdata later lost it, the
 * brief's default is a better guess than failing every request of the
 * organisation.
 */
int32_t pt_org_today(const json_t *org, int64_t now)
{
    int32_t days;
    if (pt_tz_date(&days, pt_org_time_zone(org), now) == 0 ||
        pt_tz_date(&days, PT_TZ_DEFAULT, now) == 0)
        return days;
    return days; /* UTC */
}

/*
 * An organisation's local calendar date of an instant.  A missing org (or
 * none, a system admin's context) gets the default zone's date, so callers
 * that only want a date never have to invent one; the error still says
 * the org was not found.
 */
int pt_org_local_date(int32_t *out, pt_txn *txn, const char *org, int64_t epoch)
{
    json_t *rec = NULL;
    int err = org && *org ? pt_org_get(&rec, txn, org) : 0;
    *out = pt_org_today(rec, epoch);
    json_decref(rec);
    return err;
}

int pt_org_today_get(int32_t *out, pt_txn *txn, const char *org)
{
    return pt_org_local_date(out, txn, org, pt_clock_now());
}

int pt_org_dates_get(int *leaver_days, int32_t *today, pt_txn *txn, const char *org)
{
    json_t *rec = NULL;
    int err = pt_org_get(&rec, txn, org);
    if (err == 0) {
        *leaver_days = pt_org_leaver_days(rec);
        *today = pt_org_today(rec, pt_clock_now());
    }
    json_decref(rec);
    return err;
}

/* ---- people ------------------------------------------------------------ */

int pt_person_get(json_t **out, pt_txn *txn, const char *org, const char *username)
{
    pt_key k;
    *out = NULL;
    if (!org || !*org || !username || !*username)
        return PT_ENOTFOUND;
    if (pt_key_build(&k, org, username, NULL) < 0)
        return PT_ENOTFOUND;
    return pt_txn_get_json(txn, PT_T_PEOPLE, k.buf, k.len, out);
}

static int gen_name(char *buf, size_t len, const char *org)
{
    int n = snprintf(buf, len, "people-gen:%s", org);
    if (n < 0 || (size_t)n >= len) {
        pt_error_set("organisation id too long");
        return PT_EINVAL;
    }
    return 0;
}

static int people_gen_bump(pt_txn *txn, const char *org)
{
    char name[PT_ID_MAX + 32];
    uint64_t v;
    int err = gen_name(name, sizeof(name), org);
    return err < 0 ? err : pt_txn_next_seq(txn, name, &v);
}

int pt_people_gen_get(uint64_t *out, pt_txn *txn, const char *org)
{
    char name[PT_ID_MAX + 32];
    int err = gen_name(name, sizeof(name), org);
    return err < 0 ? err : pt_txn_get_seq(txn, name, out);
}

int pt_person_put(pt_txn *txn, const char *org, const json_t *person)
{
    pt_key k;
    const char *u = json_string_value(json_object_get(person, "username"));
    if (!org || !*org || !u || !*u) {
        pt_error_set("person without org or username");
        return PT_EINVAL;
    }
    int err = pt_key_build(&k, org, u, NULL);
    if (err < 0)
        return err;
    /* The one place a person record is written, so the kept headcounts
     * change in the same transaction (people_counts.h) and the count
     * cache can trust the generation to change with every write. */
    json_t *before = NULL;
    err = pt_txn_get_json(txn, PT_T_PEOPLE, k.buf, k.len, &before);
    if (err < 0 && err != PT_ENOTFOUND)
        return err;
    err = pt_people_counts_track(txn, org, before, person);
    json_decref(before);
    if (err < 0 || (err = people_gen_bump(txn, org)) < 0)
        return err;
    return pt_txn_put_json(txn, PT_T_PEOPLE, k.buf, k.len, person);
}

/*
 * The stored status is what an admin set (applicant or employee); leaving
 * is derived from the termination date so that nobody has to flip a flag
 * on the right day.  The termination date is the last day of employment.
 */
pt_status pt_person_status(const json_t *person, int leaver_access_days, int32_t today,
                           int32_t *access_ends)
{
    int32_t term;
    const char *st = json_string_value(json_object_get(person, "status"));
    const char *td = json_string_value(json_object_get(person, "termination_date"));

    if (access_ends)
        *access_ends = -1;
    if (td && pt_date_parse(td, &term) && today > term) {
        if (leaver_access_days < 0)
            leaver_access_days = 0;
        if (access_ends)
            *access_ends = term + leaver_access_days;
        return PT_STATUS_LEAVER;
    }
    if (st && strcmp(st, "applicant") == 0)
        return PT_STATUS_APPLICANT;
    if (st && strcmp(st, "leaver") == 0) {
        /* Not written by the API; treat a hand-made leaver without a date
         * as having no access left. */
        if (access_ends)
            *access_ends = today - 1;
        return PT_STATUS_LEAVER;
    }
    return PT_STATUS_EMPLOYEE;
}

unsigned pt_person_roles(const json_t *person)
{
    unsigned mask = 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(person, "roles"), i, it)
    {
        const char *n = json_string_value(it);
        if (n)
            mask |= pt_role_from_name(n) & PT_ROLES_ORG_MASK;
    }
    return mask;
}

/*
 * Roles and status are read afresh on every request so that revoking a
 * role or a termination date takes effect at once, whatever the token says.
 */
bool pt_caller_access_expired(const pt_caller *c)
{
    return c->status == PT_STATUS_LEAVER && c->access_ends < c->today;
}

int pt_membership_load(pt_caller *c, pt_txn *txn)
{
    json_t *acc = NULL, *person = NULL, *org = NULL;
    int err = pt_account_get(&acc, txn, c->username);
    if (err < 0)
        return err;
    bool sysadmin = json_is_true(json_object_get(acc, "system_admin"));
    json_decref(acc);

    c->roles = sysadmin ? PT_ROLE_SYSTEM_ADMIN : 0;
    c->status = PT_STATUS_NONE;
    c->access_ends = -1;
    c->today = pt_clock_today();
    if (!c->org[0]) {
        if (sysadmin)
            return 0;
        pt_error_set("no active organisation");
        return PT_ENOTFOUND;
    }
    if ((err = pt_person_get(&person, txn, c->org, c->username)) < 0) {
        pt_error_set("no membership in that organisation");
        return err;
    }
    if ((err = pt_org_get(&org, txn, c->org)) < 0) {
        json_decref(person);
        pt_error_set("no such organisation");
        return err;
    }
    c->roles |= pt_person_roles(person);
    c->today = pt_org_today(org, pt_clock_now());
    c->status = pt_person_status(person, pt_org_leaver_days(org), c->today, &c->access_ends);
    json_decref(person);
    json_decref(org);
    return 0;
}

/* ---- audit ------------------------------------------------------------- */

/*
 * One counter per organisation keeps sequence numbers dense within an org
 * and reveals nothing about other organisations' activity.
 */
int pt_audit_append(pt_txn *txn, const char *org, const char *actor, const char *action,
                    const char *target, const json_t *before, const json_t *after)
{
    char name[PT_ID_MAX + 16];
    char at[32];
    uint64_t seq;
    pt_key k;
    int err;

    if (!org || !*org || !action) {
        pt_error_set("audit entry without org or action");
        return PT_EINVAL;
    }
    snprintf(name, sizeof name, "audit:%s", org);
    if ((err = pt_txn_next_seq(txn, name, &seq)) < 0)
        return err;
    if ((err = pt_key_build(&k, org, NULL)) < 0 || (err = pt_key_append_u64(&k, seq)) < 0)
        return err;
    pt_time_format(at, pt_clock_now());

    json_t *e = json_pack("{s:I, s:s, s:s?, s:s, s:s?}", "seq", (json_int_t)seq, "at", at, "actor",
                          actor, "action", action, "target", target);
    if (!e)
        return PT_ENOMEM;
    if (!json_object_get(e, "actor"))
        json_object_set_new(e, "actor", json_null());
    if (!json_object_get(e, "target"))
        json_object_set_new(e, "target", json_null());
    json_object_set_new(e, "before", before ? json_deep_copy(before) : json_null());
    json_object_set_new(e, "after", after ? json_deep_copy(after) : json_null());
    err = pt_txn_put_json(txn, PT_T_AUDIT, k.buf, k.len, e);
    json_decref(e);
    return err;
}
