/*
 * person.c - the API view of a person and the one way a person is added
 * to an organisation (POST, CSV import and demo data all come here).
 */
#include "admin/people.h"

#include "base/clock.h"

#include <string.h>

static json_t *copy_or_null(const json_t *rec, const char *key)
{
    json_t *v = json_object_get(rec, key);
    return v ? json_deep_copy(v) : json_null();
}

/*
 * Built field by field from an allow-list rather than by deleting
 * internals, so a field added to the record later is not published by
 * accident.
 */
json_t *pt_person_view(const json_t *person, int leaver_access_days, int32_t today)
{
    static const char *const fields[] = {
        "username",         "display_name", "email",      "staff_group", "start_date",
        "termination_date", "manager",      "created_at", "updated_at",  NULL};
    int32_t ends;
    pt_status st = pt_person_status(person, leaver_access_days, today, &ends);
    json_t *out = json_object();
    if (!out)
        return NULL;
    for (size_t i = 0; fields[i]; i++)
        json_object_set_new(out, fields[i], copy_or_null(person, fields[i]));
    json_object_set_new(out, "status", json_string(pt_status_name(st)));
    json_object_set_new(out, "roles", pt_roles_to_json(pt_person_roles(person)));
    if (st == PT_STATUS_LEAVER && ends >= 0) {
        char buf[16];
        pt_date_format(buf, ends);
        json_object_set_new(out, "access_ends", json_string(buf));
    } else {
        json_object_set_new(out, "access_ends", json_null());
    }
    return out;
}

int pt_people_insert(pt_txn *txn, const char *org, json_t *person, const char *password_hash,
                     const char *actor)
{
    json_t *old = NULL;
    const char *user = json_string_value(json_object_get(person, "username"));
    char now[32];
    int err;

    if (!user) {
        pt_error_set("person without username");
        return PT_EINVAL;
    }
    err = pt_person_get(&old, txn, org, user);
    if (err == 0) {
        json_decref(old);
        pt_error_set("%s is already a person of %s", user, org);
        return PT_EEXISTS;
    }
    if (err != PT_ENOTFOUND)
        return err;
    /* An organisation never takes over an account by naming it: an
     * existing username anywhere is a conflict, and the account can only
     * join this organisation by accepting an invitation. */
    if ((err = pt_account_get(&old, txn, user)) == 0) {
        json_decref(old);
        pt_error_set("the username %s is already taken; to add an existing account to this "
                     "organisation, invite it (POST /api/v1/orgs/%s/invitations)",
                     user, org);
        return PT_EEXISTS;
    }
    if (err != PT_ENOTFOUND)
        return err;
    pt_time_format(now, pt_clock_now());
    json_object_set_new(person, "created_at", json_string(now));
    json_object_set_new(person, "updated_at", json_string(now));
    if ((err = pt_account_ensure(txn, user, password_hash, org, false)) < 0)
        return err;
    if ((err = pt_person_put(txn, org, person)) < 0)
        return err;
    if (actor)
        err = pt_audit_append(txn, org, actor, "person.create", user, NULL, person);
    return err;
}

bool pt_people_exists(void *ctx, const char *username)
{
    pt_people_ctx *pc = ctx;
    json_t *p = NULL;
    if (pt_person_get(&p, pc->txn, pc->org, username) < 0)
        return false;
    json_decref(p);
    return true;
}

/*
 * A lost phone must not be a permanent lock-out, so an organisation's
 * admin can remove a person's MFA; the person then signs in with the
 * password and enrols again.  MFA belongs to the account, which may have
 * memberships elsewhere, so only an organisation where the account is an
 * active (accepted) member may do it: an invitation or a name is not
 * enough.
 */
int pt_person_mfa_reset(bool *was_enabled, pt_txn *txn, const char *org, const char *username,
                        const char *actor)
{
    json_t *acct = NULL;
    *was_enabled = false;
    pt_people_ctx pc = {txn, org};
    int err = pt_account_get(&acct, txn, username);
    if (err < 0 || !pt_people_exists(&pc, username)) {
        json_decref(acct);
        pt_error_set("%s is not a member of %s", username, org);
        return err < 0 && err != PT_ENOTFOUND ? err : PT_ENOTFOUND;
    }
    bool member = false;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(acct, "orgs"), i, it)
    {
        if (json_is_string(it) && strcmp(json_string_value(it), org) == 0)
            member = true;
    }
    if (!member) {
        json_decref(acct);
        pt_error_set("%s is not a member of %s", username, org);
        return PT_ENOTFOUND;
    }
    *was_enabled = json_is_true(json_object_get(json_object_get(acct, "totp"), "confirmed"));
    json_t *before = json_pack("{s:b}", "mfa_enabled", *was_enabled);
    json_t *after = json_pack("{s:b}", "mfa_enabled", 0);
    if (!before || !after || json_object_set_new(acct, "totp", json_null()) < 0)
        err = PT_ENOMEM;
    else if ((err = pt_account_put(txn, acct)) == 0)
        err = pt_audit_append(txn, org, actor, "mfa.reset", username, before, after);
    json_decref(before);
    json_decref(after);
    json_decref(acct);
    return err;
}
