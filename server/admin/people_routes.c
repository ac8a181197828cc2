/*
 * people_routes.c - people of an organisation (create, list, read, patch)
 * and GET /api/v1/me.
 */
#include "admin/people.h"

#include "base/clock.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define PEOPLE_READERS (PT_ROLE_PORTAL_ADMIN | PT_ROLE_HR_ADMIN | PT_ROLE_SYSTEM_ADMIN)

static json_t *get_or_null(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v ? v : json_null();
}

static bool people_prefix(pt_key *k, const char *org)
{
    return pt_key_build(k, org, NULL) == 0 && pt_key_as_prefix(k) == 0;
}

/*
 * A write transaction may run more than once (the store re-runs it after
 * growing the map), so create and patch start every attempt afresh: no
 * record, no errors, and the organisation and its leaver window re-read.
 */
static int person_attempt_begin(json_t **rec, pt_verr **v, const char **what, int *leaver_days,
                                int32_t *today, pt_txn *txn, const char *org)
{
    json_decref(*rec);
    *rec = NULL;
    pt_verr_free(*v);
    *v = pt_verr_new();
    *what = "organisation";
    return pt_org_dates_get(leaver_days, today, txn, org);
}

/* The answer to a failed create or patch: 422 with the field errors when
 * validation refused it, else the problem for err about `what`. */
static void answer_failure(pt_res *res, pt_verr *v, int err, const char *what)
{
    if (err == PT_EINVAL && pt_verr_any(v))
        pt_res_validation(res, pt_verr_take(v));
    else if (err == PT_EEXISTS)
        pt_res_problem(res, 409, "conflict", "%s", pt_error_last());
    else
        pt_org_answer_error(res, err, what);
}

/* ---- POST /api/v1/orgs/{org}/people ------------------------------------ */

typedef struct person_create {
    const char *org;
    const json_t *body;
    const char *actor;
    const char *hash; /* Argon2id hash for a new account, or NULL */
    pt_verr *v;
    json_t *rec;
    const char *password;
    int leaver_days;
    int32_t today;    /* the org's local date */
    const char *what; /* which record a PT_ENOTFOUND/PT_EEXISTS is about */
} person_create;

/*
 * Everything that can refuse the request, run once in a read transaction
 * (so the slow password hash is only paid for a request that will
 * succeed) and again in the write transaction (the truth).
 */
static int person_create_check(pt_txn *txn, void *ctx)
{
    person_create *p = ctx;
    json_t *acc = NULL;
    int err =
        person_attempt_begin(&p->rec, &p->v, &p->what, &p->leaver_days, &p->today, txn, p->org);
    if (err < 0)
        return err;

    pt_people_ctx pc = {txn, p->org};
    pt_person_validate(p->v, &p->rec, &p->password, p->body, NULL, "", pt_people_exists, &pc);
    if (!p->rec)
        return PT_EINVAL;
    const char *user = json_string_value(json_object_get(p->rec, "username"));
    p->what = "person";
    if (pt_people_exists(&pc, user)) {
        pt_error_set("%s is already a person of this organisation", user);
        return PT_EEXISTS;
    }
    err = pt_account_get(&acc, txn, user);
    json_decref(acc);
    if (err == 0) {
        pt_error_set("the username %s is already taken; to add an existing account to this "
                     "organisation, invite it (POST /api/v1/orgs/%s/invitations)",
                     user, p->org);
        return PT_EEXISTS;
    }
    return err == PT_ENOTFOUND ? 0 : err;
}

static int person_create_write(pt_txn *txn, void *ctx)
{
    person_create *p = ctx;
    int err = person_create_check(txn, p);
    if (err < 0)
        return err;
    p->what = "person";
    return pt_people_insert(txn, p->org, p->rec, p->hash, p->actor);
}

void pt_people_create(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    const char *org = pt_req_param(req, "org");
    const pt_caller *c = pt_org_guard(req, res, org, PT_ROLE_PORTAL_ADMIN);
    if (!c)
        return;
    json_t *body;
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    person_create p = {.org = org, .body = body, .actor = c->username};
    char hash[128];
    int err = pt_store_read(app->store, person_create_check, &p);
    if (err == 0 && p.password) {
        err = pt_password_hash(hash, p.password, app->cfg.pwhash_ops, app->cfg.pwhash_mem);
        p.hash = hash;
    }
    if (err == 0)
        err = pt_store_write(app->store, person_create_write, &p);
    if (err < 0) {
        answer_failure(res, p.v, err, p.what);
    } else {
        char loc[256];
        const char *user = json_string_value(json_object_get(p.rec, "username"));
        snprintf(loc, sizeof loc, "/api/v1/orgs/%s/people/%s", org, user);
        pt_res_header(res, "Location", loc);
        pt_res_json(res, 201, pt_person_view(p.rec, p.leaver_days, p.today));
    }
    sodium_memzero(hash, sizeof hash);
    json_decref(p.rec);
    pt_verr_free(p.v);
    json_decref(body);
}

/* ---- GET /api/v1/orgs/{org}/people ------------------------------------- */

typedef struct people_filter {
    int leaver_days;
    int32_t today;
    const char *status; /* effective status wanted, or NULL */
} people_filter;

static json_t *people_map(const json_t *rec, void *ctx)
{
    people_filter *f = ctx;
    json_t *view = pt_person_view(rec, f->leaver_days, f->today);
    if (view && f->status &&
        strcmp(json_string_value(json_object_get(view, "status")), f->status) != 0) {
        json_decref(view);
        return NULL;
    }
    return view;
}

typedef struct org_days {
    const char *org;
    int days;
    int32_t today; /* the org's local date */
} org_days;

static int org_days_read(pt_txn *txn, void *ctx)
{
    org_days *o = ctx;
    return pt_org_dates_get(&o->days, &o->today, txn, o->org);
}

void pt_people_list(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const char *org = pt_req_param(req, "org");
    if (!pt_org_guard(req, res, org, PT_ROLE_PORTAL_ADMIN | PT_ROLE_HR_ADMIN))
        return;
    const char *status = pt_req_query(req, "status");
    if (status && strcmp(status, "applicant") != 0 && strcmp(status, "employee") != 0 &&
        strcmp(status, "leaver") != 0) {
        pt_res_problem(res, 400, "bad_request", "status must be applicant, employee or leaver");
        return;
    }
    org_days od = {org, PT_LEAVER_ACCESS_DAYS_DEFAULT, 0};
    int err = pt_store_read(pt_req_app(req)->store, org_days_read, &od);
    if (err < 0) {
        pt_org_answer_error(res, err, "organisation");
        return;
    }
    pt_key k;
    if (!people_prefix(&k, org)) {
        pt_res_problem(res, 404, "not_found", "organisation not found");
        return;
    }
    people_filter f = {od.days, od.today, status};
    pt_list_page(req, res, PT_T_PEOPLE, k.buf, k.len, people_map, &f);
}

/* ---- GET /api/v1/orgs/{org}/people/{username} -------------------------- */

typedef struct person_read {
    const char *org;
    const char *user;
    json_t *view;
    const char *what;
} person_read;

static int person_read_txn(pt_txn *txn, void *ctx)
{
    person_read *r = ctx;
    json_t *person = NULL;
    int days = 0;
    int32_t today = 0;
    json_decref(r->view);
    r->view = NULL;
    r->what = "organisation";
    int err = pt_org_dates_get(&days, &today, txn, r->org);
    if (err < 0)
        return err;
    r->what = "person";
    if ((err = pt_person_get(&person, txn, r->org, r->user)) == 0)
        r->view = pt_person_view(person, days, today);
    json_decref(person);
    return err;
}

void pt_people_get(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const char *org = pt_req_param(req, "org");
    const char *user = pt_req_param(req, "username");
    const pt_caller *c = pt_org_guard(req, res, org, 0);
    if (!c)
        return;
    if (!user || (strcmp(c->username, user) != 0 && !pt_caller_has(c, PEOPLE_READERS))) {
        pt_res_problem(res, 403, "forbidden", "you may read only your own record");
        return;
    }
    person_read r = {org, user, NULL, NULL};
    int err = pt_store_read(pt_req_app(req)->store, person_read_txn, &r);
    if (err < 0) {
        json_decref(r.view);
        pt_org_answer_error(res, err, r.what);
        return;
    }
    pt_res_json(res, 200, r.view);
}

/* ---- PATCH /api/v1/orgs/{org}/people/{username} ------------------------ */

typedef struct person_patch {
    const char *org;
    const char *user;
    const json_t *body;
    const char *actor;
    pt_verr *v;
    json_t *after;
    int leaver_days;
    int32_t today; /* the org's local date */
    const char *what;
} person_patch;

static int person_patch_txn(pt_txn *txn, void *ctx)
{
    person_patch *p = ctx;
    json_t *before = NULL;
    char now[32];
    int err =
        person_attempt_begin(&p->after, &p->v, &p->what, &p->leaver_days, &p->today, txn, p->org);
    if (err < 0)
        return err;
    p->what = "person";
    if ((err = pt_person_get(&before, txn, p->org, p->user)) < 0)
        return err;
    pt_people_ctx pc = {txn, p->org};
    pt_person_validate(p->v, &p->after, NULL, p->body, before, "", pt_people_exists, &pc);
    if (!p->after) {
        json_decref(before);
        return PT_EINVAL;
    }
    pt_time_format(now, pt_clock_now());
    json_object_set_new(p->after, "updated_at", json_string(now));
    if ((err = pt_person_put(txn, p->org, p->after)) == 0)
        err = pt_audit_append(txn, p->org, p->actor, "person.update", p->user, before, p->after);
    json_decref(before);
    return err;
}

void pt_people_patch(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const char *org = pt_req_param(req, "org");
    const char *user = pt_req_param(req, "username");
    const pt_caller *c = pt_org_guard(req, res, org, PT_ROLE_PORTAL_ADMIN);
    if (!c)
        return;
    json_t *body;
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    person_patch p = {.org = org, .user = user, .body = body, .actor = c->username};
    int err = pt_store_write(pt_req_app(req)->store, person_patch_txn, &p);
    if (err < 0)
        answer_failure(res, p.v, err, p.what);
    else
        pt_res_json(res, 200, pt_person_view(p.after, p.leaver_days, p.today));
    json_decref(p.after);
    pt_verr_free(p.v);
    json_decref(body);
}

/* ---- DELETE /api/v1/orgs/{org}/people/{username}/mfa ------------------- */

typedef struct mfa_reset {
    const char *org, *user, *actor;
    bool was_enabled;
} mfa_reset;

static int mfa_reset_txn(pt_txn *txn, void *ctx)
{
    mfa_reset *m = ctx;
    return pt_person_mfa_reset(&m->was_enabled, txn, m->org, m->user, m->actor);
}

void pt_people_mfa_reset(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const char *org = pt_req_param(req, "org");
    const pt_caller *c = pt_org_guard(req, res, org, PT_ROLE_PORTAL_ADMIN);
    if (!c)
        return;
    mfa_reset m = {org, pt_req_param(req, "username"), c->username, false};
    int err = pt_store_write(pt_req_app(req)->store, mfa_reset_txn, &m);
    if (err == PT_ENOTFOUND) {
        pt_res_problem(res, 404, "not_found", "%s", pt_error_last());
        return;
    }
    if (err < 0) {
        pt_res_error(res, err);
        return;
    }
    pt_res_empty(res, 204);
}

/* ---- GET /api/v1/me ---------------------------------------------------- */

typedef struct me_read {
    const pt_caller *c;
    json_t *out;
} me_read;

/* Each membership's status as of that organisation's own local date. */
static json_t *me_membership(pt_txn *txn, const char *org_id, const char *user, int64_t now)
{
    json_t *org = NULL, *person = NULL, *m = NULL;
    if (pt_org_get(&org, txn, org_id) == 0 && pt_person_get(&person, txn, org_id, user) == 0) {
        pt_status st =
            pt_person_status(person, pt_org_leaver_days(org), pt_org_today(org, now), NULL);
        m = json_pack("{s:s, s:O, s:s, s:o}", "org", org_id, "name", get_or_null(org, "name"),
                      "status", pt_status_name(st), "roles",
                      pt_roles_to_json(pt_person_roles(person)));
    }
    json_decref(org);
    json_decref(person);
    return m;
}

/*
 * Roles and status come from the caller, which auth loaded from the store
 * for this request; the rest is read here in the same snapshot.
 */
static int me_read_txn(pt_txn *txn, void *ctx)
{
    me_read *r = ctx;
    const pt_caller *c = r->c;
    json_t *acc = NULL, *person = NULL, *org = NULL;
    int64_t now = pt_clock_now();
    json_decref(r->out);
    r->out = NULL;
    int err = pt_account_get(&acc, txn, c->username);
    if (err < 0)
        return err;
    if (c->org[0]) {
        pt_org_get(&org, txn, c->org);
        pt_person_get(&person, txn, c->org, c->username);
    }
    json_t *mem = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(acc, "orgs"), i, it)
    {
        json_t *m = json_string_value(it)
                        ? me_membership(txn, json_string_value(it), c->username, now)
                        : NULL;
        if (m)
            json_array_append_new(mem, m);
    }
    json_t *totp = json_object_get(acc, "totp");
    char ends[16];
    if (c->status == PT_STATUS_LEAVER && c->access_ends >= 0)
        pt_date_format(ends, c->access_ends);
    r->out = json_pack(
        "{s:s, s:O, s:O, s:b, s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "username", c->username,
        "display_name", get_or_null(person, "display_name"), "email", get_or_null(person, "email"),
        "system_admin", json_is_true(json_object_get(acc, "system_admin")), "active_org",
        c->org[0] ? json_string(c->org) : json_null(), "org",
        org ? json_pack("{s:s, s:O}", "id", c->org, "name", get_or_null(org, "name")) : json_null(),
        "roles", pt_roles_to_json(c->roles), "status",
        c->status == PT_STATUS_NONE ? json_null() : json_string(pt_status_name(c->status)),
        "access_ends",
        c->status == PT_STATUS_LEAVER && c->access_ends >= 0 ? json_string(ends) : json_null(),
        "mfa_enabled", json_is_true(json_object_get(totp, "confirmed")), "memberships", mem);
    if (r->out) {
        json_t *d = json_object_get(acc, "default_org");
        json_object_set_new(r->out, "default_org",
                            json_is_string(d) ? json_incref(d) : json_null());
        json_object_set_new(r->out, "invitations", pt_invitations_view(txn, acc));
    }
    json_decref(acc);
    json_decref(org);
    json_decref(person);
    return r->out ? 0 : PT_ENOMEM;
}

void pt_me_get(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const pt_caller *c = pt_req_caller(req);
    if (!c) {
        pt_res_problem(res, 401, "unauthorized", "authentication required");
        return;
    }
    /* The caller was authenticated in this snapshot: /me is one picture. */
    me_read r = {c, NULL};
    pt_txn *snap = NULL;
    int err = pt_req_snapshot(req, &snap);
    if (err == 0)
        err = me_read_txn(snap, &r);
    if (err == PT_ENOTFOUND) {
        pt_res_problem(res, 401, "unauthorized", "account no longer exists");
        return;
    }
    if (err < 0) {
        pt_res_error(res, err);
        return;
    }
    pt_res_json(res, 200, r.out);
}
