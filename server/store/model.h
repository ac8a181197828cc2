/*
 * model.h - accounts, organisations, people (memberships) and the audit
 * log, as records in the store.  All functions run inside a caller's
 * transaction so several changes commit together.
 *
 * Records are JSON objects (stored compactly):
 *   account  (PT_T_ACCOUNTS, key username):
 *     {username, password_hash, system_admin, orgs: [org...],
 *      totp: {secret, confirmed, last_step?}, created_at,
 *      default_org?, invitations?: {org: {person, invited_by, invited_at}}}
 *     (orgs: accepted memberships only; an invitation is no membership)
 *     (last_step: the TOTP time step last accepted; codes are single-use)
 *   org      (PT_T_ORGS, key org):
 *     {id, name, settings: {leaver_access_days, time_zone?, branding: {...},
 *      notices?},
 *      created_at, updated_at}
 *   person   (PT_T_PEOPLE, key org\0username):
 *     {username, display_name, email, staff_group, status ("applicant"|
 *      "employee"), start_date?, termination_date?, manager?, roles: [...],
 *      created_at, updated_at}
 *   audit    (PT_T_AUDIT, key org\0be64(seq)):
 *     {seq, at, actor, action, target, before, after}
 * Secrets (password_hash, totp) never leave this module in API output.
 */
#ifndef PT_MODEL_H
#define PT_MODEL_H

#include "store/roles.h"
#include "store/store.h"

#include <jansson.h>

/* ---- accounts ---------------------------------------------------------- */

/* New reference, or PT_ENOTFOUND.  These getters (account, org, person)
 * hand a read transaction a shared record that must not be changed
 * (pt_txn_get_json); json_deep_copy it to change it. */
int pt_account_get(json_t **out, pt_txn *txn, const char *username);
int pt_account_put(pt_txn *txn, const json_t *account);
/* Creates the account if new (with the given password hash, and org as
 * its default_org); adds org to its memberships if org is non-NULL.
 * Never changes an existing password. */
int pt_account_ensure(pt_txn *txn, const char *username, const char *password_hash, const char *org,
                      bool system_admin);

/* ---- organisations ----------------------------------------------------- */

int pt_org_get(json_t **out, pt_txn *txn, const char *org);
/* Writes the record and bumps the organisations' generation. */
int pt_org_put(pt_txn *txn, const json_t *org);
/* The organisations' generation: a counter in the store (PT_T_META,
 * PT_ORGS_GEN_SEQ) that every organisation write bumps in its own
 * transaction, so a node caching something derived from all
 * organisations (the CORS allow-list) can tell another node changed one. */
#define PT_ORGS_GEN_SEQ "orgs-gen"
int pt_orgs_gen_bump(pt_txn *txn);
/* leaver_access_days of an org record (default and ceiling:
 * PT_LEAVER_ACCESS_DAYS_DEFAULT, PT_LEAVER_ACCESS_DAYS_MAX). */
int pt_org_leaver_days(const json_t *org);
/* The same, read from the store: PT_ENOTFOUND when there is no such org. */
int pt_org_leaver_days_get(int *days, pt_txn *txn, const char *org);

/* The organisation's IANA time zone (settings.time_zone; PT_TZ_DEFAULT,
 * Europe/London, when unset).  Calendar dates are the org's local dates. */
const char *pt_org_time_zone(const json_t *org);
/* The organisation's local date (days since epoch) at instant now: falls
 * back to Europe/London, then UTC, if the stored zone cannot be read. */
int32_t pt_org_today(const json_t *org, int64_t now);
/* The org's local date now (pt_clock_now), read from the store (what
 * portlets get as today(ctx)); as pt_org_local_date for an unknown org. */
int pt_org_today_get(int32_t *out, pt_txn *txn, const char *org);
/* The organisation's local calendar date of an instant (seconds since the
 * epoch); an unknown or empty org gets the default zone's date (and
 * PT_ENOTFOUND for an unknown one). */
int pt_org_local_date(int32_t *out, pt_txn *txn, const char *org, int64_t epoch);
/* Both leaver_access_days and the local date now, from one read. */
int pt_org_dates_get(int *leaver_days, int32_t *today, pt_txn *txn, const char *org);

/* ---- people ------------------------------------------------------------ */

int pt_person_get(json_t **out, pt_txn *txn, const char *org, const char *username);
int pt_person_put(pt_txn *txn, const char *org, const json_t *person);

/* The organisation's people generation: advanced by every pt_person_put
 * in the same transaction, read by the people-count cache
 * (people_counts.c) to know when its entry for the org is stale. */
int pt_people_gen_get(uint64_t *out, pt_txn *txn, const char *org);

/*
 * The person's effective status on `today` (days since epoch): an
 * employee/applicant whose termination_date has passed is a leaver from the
 * next day.  For a leaver *access_ends is termination_date +
 * leaver_access_days (inclusive), else -1.
 */
pt_status pt_person_status(const json_t *person, int leaver_access_days, int32_t today,
                           int32_t *access_ends);
/* Role mask from a person's "roles" array (unknown names ignored). */
unsigned pt_person_roles(const json_t *person);

/*
 * Loads the membership of username in org and fills roles/status/
 * access_ends/today of *c (org and username must already be set), with
 * status as of the organisation's local date now (pt_org_today).  Adds
 * PT_ROLE_SYSTEM_ADMIN from the account.  PT_ENOTFOUND if no membership
 * (and not a system admin with no org).
 */
int pt_membership_load(pt_caller *c, pt_txn *txn);
/* A leaver whose access has ended (as of c->today, the org-local date). */
bool pt_caller_access_expired(const pt_caller *c);

/* ---- audit ------------------------------------------------------------- */

/* Appends an entry (before/after may be NULL; secrets must be stripped by
 * the caller). */
int pt_audit_append(pt_txn *txn, const char *org, const char *actor, const char *action,
                    const char *target, const json_t *before, const json_t *after);

#endif
