/*
 * invitations.c - how an existing account joins another organisation.
 *
 * Creating a person with a username that exists anywhere is a conflict
 * (person.c), so an organisation can never take over an account by naming
 * it.  Instead its admin invites the account; the invitation is kept on
 * the account record (account.invitations[org] = {person, invited_by,
 * invited_at}) and is no membership at all until the account holder,
 * signed in, accepts it: no person record in the org, no login into it,
 * no role, no data, not in its people lists or headcounts.  Accepting
 * turns the stored person fields into the person record; declining drops
 * them.  All three steps are in the inviting organisation's audit log.
 *
 * Also here: PATCH /api/v1/me {default_org}, the organisation a login
 * without `org` lands in.
 */
#include "admin/people.h"

#include "base/clock.h"

#include <stdio.h>
#include <string.h>

/* ---- POST /api/v1/orgs/{org}/invitations ------------------------------- */

typedef struct invite_ctx {
    const char *org;
    const json_t *body;
    const char *actor;
    pt_verr *v;
    json_t *rec;    /* the validated person fields */
    json_t *answer; /* the invitation as answered */
    int leaver_days;
} invite_ctx;

static json_t *invitation_view(const char *org, const json_t *inv, int leaver_days, int32_t today)
{
    const json_t *person = json_object_get(inv, "person");
    json_t *view = pt_person_view(person, leaver_days, today);
    /* not a record yet: it has no timestamps of its own */
    json_object_del(view, "created_at");
    json_object_del(view, "updated_at");
    return json_pack("{s:s, s:O, s:s, s:O, s:O, s:o}", "org", org, "username",
                     json_object_get(person, "username"), "membership", "invited", "invited_by",
                     json_object_get(inv, "invited_by"), "invited_at",
                     json_object_get(inv, "invited_at"), "person", view);
}

/*
 * Runs whole in one write transaction (it may run again, so it starts
 * afresh).  The order of checks decides what an admin learns: bad fields
 * first (nothing about the account), then whether the account exists
 * (404: an admin inviting needs to know), then whether it is already a
 * member or invited (409).
 */
static int invite_txn(pt_txn *txn, void *vctx)
{
    invite_ctx *x = vctx;
    json_t *acct = NULL;
    char now[32];
    json_decref(x->rec);
    json_decref(x->answer);
    x->rec = x->answer = NULL;
    pt_verr_free(x->v);
    x->v = pt_verr_new();
    int err = pt_org_leaver_days_get(&x->leaver_days, txn, x->org);
    if (err == PT_ENOTFOUND)
        pt_error_set("organisation not found");
    if (err < 0)
        return err;
    pt_people_ctx pc = {txn, x->org};
    const char *password = NULL;
    pt_person_validate(x->v, &x->rec, &password, x->body, NULL, "", pt_people_exists, &pc);
    if (json_object_get(x->body, "password"))
        pt_verr_add(x->v, "/password",
                    "is not accepted in an invitation: the account keeps its own password");
    if (!x->rec || pt_verr_any(x->v))
        return PT_EINVAL;
    const char *user = json_string_value(json_object_get(x->rec, "username"));
    if ((err = pt_account_get(&acct, txn, user)) == PT_ENOTFOUND)
        pt_error_set("no account with the username %s; create the person instead", user);
    if (err < 0)
        return err;
    json_t *invs = json_object_get(acct, "invitations");
    if (pt_people_exists(&pc, user)) {
        pt_error_set("%s is already a member of this organisation", user);
        err = PT_EEXISTS;
    } else if (json_object_get(invs, x->org)) {
        pt_error_set("%s has already been invited to this organisation", user);
        err = PT_EEXISTS;
    }
    if (err < 0)
        goto out;
    if (!json_is_object(invs)) {
        invs = json_object();
        json_object_set_new(acct, "invitations", invs);
    }
    pt_time_format(now, pt_clock_now());
    json_t *inv =
        json_pack("{s:O, s:s, s:s}", "person", x->rec, "invited_by", x->actor, "invited_at", now);
    if (!inv || json_object_set_new(invs, x->org, inv) < 0) {
        err = PT_ENOMEM;
        goto out;
    }
    if ((err = pt_account_put(txn, acct)) < 0)
        goto out;
    err = pt_audit_append(txn, x->org, x->actor, "invitation.create", user, NULL, x->rec);
    if (err == 0 && !(x->answer = invitation_view(x->org, inv, x->leaver_days, pt_clock_today())))
        err = PT_ENOMEM;
out:
    json_decref(acct);
    return err;
}

void pt_invitation_create(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const char *org = pt_req_param(req, "org");
    const pt_caller *c = pt_org_guard(req, res, org, PT_ROLE_PORTAL_ADMIN);
    if (!c)
        return;
    json_t *body;
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    invite_ctx x = {.org = org, .body = body, .actor = c->username};
    int err = pt_store_write(pt_req_app(req)->store, invite_txn, &x);
    if (err == PT_EINVAL && pt_verr_any(x.v)) {
        pt_res_validation(res, pt_verr_take(x.v));
    } else if (err == PT_ENOTFOUND) {
        pt_res_problem(res, 404, "not_found", "%s", pt_error_last());
    } else if (err == PT_EEXISTS) {
        pt_res_problem(res, 409, "conflict", "%s", pt_error_last());
    } else if (err < 0) {
        pt_res_error(res, err);
    } else {
        pt_res_json(res, 201, x.answer);
        x.answer = NULL;
    }
    json_decref(x.answer);
    json_decref(x.rec);
    pt_verr_free(x.v);
    json_decref(body);
}

/* ---- POST /api/v1/me/invitations/{org}/accept|decline ------------------ */

typedef struct answer_ctx {
    const char *org;
    const char *user;
    bool accept;
    json_t *membership; /* accept: what /me lists for the new membership */
} answer_ctx;

/* Accepting makes the invited fields the person record and adds the org
 * to the account's memberships; declining only drops the invitation. */
static int answer_txn(pt_txn *txn, void *vctx)
{
    answer_ctx *x = vctx;
    json_t *acct = NULL, *inv = NULL, *orgrec = NULL;
    char now[32];
    json_decref(x->membership);
    x->membership = NULL;
    int err = pt_account_get(&acct, txn, x->user);
    if (err < 0)
        return err == PT_ENOTFOUND ? PT_EDENIED : err;
    json_t *invs = json_object_get(acct, "invitations");
    inv = json_incref(json_object_get(invs, x->org));
    if (!inv) {
        pt_error_set("no pending invitation from organisation %s", x->org);
        err = PT_ENOTFOUND;
        goto out;
    }
    json_object_del(invs, x->org);
    if ((err = pt_account_put(txn, acct)) < 0)
        goto out;
    if (!x->accept) {
        err = pt_audit_append(txn, x->org, x->user, "invitation.decline", x->user,
                              json_object_get(inv, "person"), NULL);
        goto out;
    }
    json_t *person = json_deep_copy(json_object_get(inv, "person"));
    if (!person) {
        err = PT_ENOMEM;
        goto out;
    }
    if ((err = pt_org_get(&orgrec, txn, x->org)) == PT_ENOTFOUND)
        pt_error_set("organisation %s no longer exists", x->org);
    if (err == 0 && pt_people_exists(&(pt_people_ctx){txn, x->org}, x->user)) {
        pt_error_set("already a member of %s", x->org);
        err = PT_EEXISTS;
    }
    if (err == 0) {
        pt_time_format(now, pt_clock_now());
        json_object_set_new(person, "created_at", json_string(now));
        json_object_set_new(person, "updated_at", json_string(now));
        err = pt_person_put(txn, x->org, person);
    }
    if (err == 0)
        err = pt_account_ensure(txn, x->user, NULL, x->org, false);
    if (err == 0)
        err = pt_audit_append(txn, x->org, x->user, "invitation.accept", x->user, NULL, person);
    if (err == 0) {
        pt_status st = pt_person_status(person, pt_org_leaver_days(orgrec), pt_clock_today(), NULL);
        x->membership = json_pack("{s:s, s:O, s:s, s:o}", "org", x->org, "name",
                                  json_object_get(orgrec, "name"), "status", pt_status_name(st),
                                  "roles", pt_roles_to_json(pt_person_roles(person)));
        if (!x->membership)
            err = PT_ENOMEM;
    }
    json_decref(person);
out:
    json_decref(orgrec);
    json_decref(inv);
    json_decref(acct);
    return err;
}

static void answer_invitation(pt_req *req, pt_res *res, bool accept)
{
    const pt_caller *c = pt_req_caller(req);
    const char *org = pt_req_param(req, "org");
    if (!c) {
        pt_res_problem(res, 401, "unauthorized", "authentication required");
        return;
    }
    answer_ctx x = {org, c->username, accept, NULL};
    int err = pt_store_write(pt_req_app(req)->store, answer_txn, &x);
    if (err == PT_EDENIED)
        pt_res_problem(res, 401, "unauthorized", "the account no longer exists");
    else if (err == PT_ENOTFOUND)
        pt_res_problem(res, 404, "not_found", "%s", pt_error_last());
    else if (err == PT_EEXISTS)
        pt_res_problem(res, 409, "conflict", "%s", pt_error_last());
    else if (err < 0)
        pt_res_error(res, err);
    else if (accept)
        pt_res_json(res, 200, json_incref(x.membership));
    else
        pt_res_empty(res, 204);
    json_decref(x.membership);
}

void pt_invitation_accept(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    answer_invitation(req, res, true);
}

void pt_invitation_decline(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    answer_invitation(req, res, false);
}

/* The pending invitations of an account, as GET /me lists them. */
json_t *pt_invitations_view(pt_txn *txn, const json_t *account)
{
    json_t *out = json_array();
    const char *org;
    json_t *inv;
    json_object_foreach(json_object_get(account, "invitations"), org, inv)
    {
        json_t *orgrec = NULL;
        const json_t *person = json_object_get(inv, "person");
        if (pt_org_get(&orgrec, txn, org) < 0)
            continue;
        json_array_append_new(out, json_pack("{s:s, s:O, s:O, s:O, s:O, s:o}", "org", org, "name",
                                             json_object_get(orgrec, "name"), "status",
                                             json_object_get(person, "status"), "invited_by",
                                             json_object_get(inv, "invited_by"), "invited_at",
                                             json_object_get(inv, "invited_at"), "roles",
                                             pt_roles_to_json(pt_person_roles(person))));
        json_decref(orgrec);
    }
    return out;
}

/* ---- PATCH /api/v1/me {default_org} ------------------------------------ */

typedef struct default_ctx {
    const char *user;
    const json_t *value; /* a string or null */
} default_ctx;

static int default_org_txn(pt_txn *txn, void *vctx)
{
    default_ctx *x = vctx;
    json_t *acct = NULL;
    int err = pt_account_get(&acct, txn, x->user);
    if (err < 0)
        return err == PT_ENOTFOUND ? PT_EDENIED : err;
    const char *want = json_string_value(x->value);
    bool member = false;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(acct, "orgs"), i, it)
    {
        if (want && json_is_string(it) && strcmp(json_string_value(it), want) == 0)
            member = true;
    }
    if (want && !member) {
        err = PT_EINVAL;
    } else {
        json_object_set_new(acct, "default_org", want ? json_string(want) : json_null());
        err = pt_account_put(txn, acct);
    }
    json_decref(acct);
    return err;
}

/*
 * Only default_org can be changed here (unknown fields are 422): it must
 * be one of the caller's accepted memberships, or null for "the first
 * usable membership in id order".  Answers as GET /me does.
 */
void pt_me_patch(pt_req *req, pt_res *res, void *ud)
{
    static const char *const allowed[] = {"default_org", NULL};
    const pt_caller *c = pt_req_caller(req);
    if (!c) {
        pt_res_problem(res, 401, "unauthorized", "authentication required");
        return;
    }
    json_t *body;
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    pt_verr *v = pt_verr_new();
    pt_v_no_unknown(v, body, "", allowed);
    json_t *d = json_object_get(body, "default_org");
    if (d && !json_is_null(d) && !json_is_string(d))
        pt_verr_add(v, "/default_org", "must be an organisation id or null");
    int err = 0;
    if (!pt_verr_any(v) && d) {
        default_ctx x = {c->username, d};
        err = pt_store_write(pt_req_app(req)->store, default_org_txn, &x);
        if (err == PT_EINVAL)
            pt_verr_add(v, "/default_org", "must be one of your organisations");
    }
    if (pt_verr_any(v))
        pt_res_validation(res, pt_verr_take(v));
    else if (err == PT_EDENIED)
        pt_res_problem(res, 401, "unauthorized", "the account no longer exists");
    else if (err < 0)
        pt_res_error(res, err);
    else
        pt_me_get(req, res, ud);
    pt_verr_free(v);
    json_decref(body);
}
