/*
 * people.h - internals shared by the organisation, people, import and demo
 * code: the one person validator, the one person view, the one way a
 * person is inserted, the org access guard and list pagination.
 * Not a contract for other subsystems (model.h is).
 */
#ifndef PT_PEOPLE_H
#define PT_PEOPLE_H

#include "auth/auth.h"
#include "http/app.h"
#include "http/http.h"
#include "store/model.h"
#include "store/store.h"

#include <jansson.h>

/* The organisation routes: orgs, people, import, audit, me (org_routes.c). */
int pt_routes_orgs(pt_app *app);

/* ---- validation (person_validate.c) ------------------------------------ */

/* Answers whether `username` is (or will be) a person of the org; used to
 * check `manager`.  May be NULL to skip that check. */
typedef bool (*pt_person_exists_fn)(void *ctx, const char *username);

/*
 * Validates a person request and builds the record to store.  `in` is the
 * JSON body of POST/PATCH or a CSV row turned into an object of strings
 * (roles as an array).  With `before` NULL it is a create (username and
 * the required fields must be present, password allowed); otherwise a
 * PATCH merged onto a copy of `before` (username/password refused, null
 * clears optional fields).  Errors are added to v with pointers prefixed
 * by `ptr` ("" or "/rows/3").  On success (no new errors) *out is the new
 * record without timestamps and *password borrows in's password or NULL.
 */
void pt_person_validate(pt_verr *v, json_t **out, const char **password, const json_t *in,
                        const json_t *before, const char *ptr, pt_person_exists_fn exists,
                        void *exists_ctx);

/* ---- people ------------------------------------------------------------ */

/* The API view of a stored person: effective status, access_ends, no
 * internals.  New reference. */
json_t *pt_person_view(const json_t *person, int leaver_access_days, int32_t today);

/*
 * Inserts a validated person record into org with a new account
 * (PT_EEXISTS if the username is a person there or an account anywhere:
 * existing accounts join by invitation, invitations.c), and stamps
 * created_at/updated_at.  Audits "person.create" as `actor` when actor is
 * non-NULL.  Runs inside the caller's write transaction.
 */
int pt_people_insert(pt_txn *txn, const char *org, json_t *person, const char *password_hash,
                     const char *actor);

/*
 * Removes the MFA (enrolled or pending) of username's account, which must
 * be an active member of org (else PT_ENOTFOUND), and audits "mfa.reset"
 * in org as actor.  *was_enabled tells whether MFA was on.
 */
int pt_person_mfa_reset(bool *was_enabled, pt_txn *txn, const char *org, const char *username,
                        const char *actor);

/* Checks the person store for pt_person_validate (ctx is a pt_people_ctx). */
typedef struct pt_people_ctx {
    pt_txn *txn;
    const char *org;
} pt_people_ctx;
bool pt_people_exists(void *ctx, const char *username);

/* ---- routes ------------------------------------------------------------ */

/*
 * The one access rule for /orgs/{org}/...: a system admin may act on any
 * org; anyone else only on their active org and, when `roles` is not 0,
 * only holding one of them.  Answers 401/403 and returns NULL otherwise.
 */
const pt_caller *pt_org_guard(pt_req *req, pt_res *res, const char *org, unsigned roles);

/* Maps a transaction result to a problem answer (404/409/422/5xx). */
void pt_org_answer_error(pt_res *res, int err, const char *what);

/*
 * Cursor pagination over one table prefix.  `map` turns a stored record
 * into an item (NULL to skip it, e.g. a filter); the answer is
 * {items, next_cursor}.  Writes the problem and returns false on a bad
 * cursor or a store failure.
 */
typedef json_t *(*pt_list_map_fn)(const json_t *record, void *ctx);
bool pt_list_page(pt_req *req, pt_res *res, pt_table table, const void *prefix, size_t plen,
                  pt_list_map_fn map, void *map_ctx);

/* ---- import without HTTP (import.c) ----------------------------------- */

#define PT_PEOPLE_IMPORT_CSV 1
typedef void (*pt_import_progress_fn)(void *ctx, size_t done, size_t total);
/*
 * Imports people from CSV into org, all or nothing, auditing
 * "people.import" as actor.  Returns 0 with *imported set; PT_EINVAL with
 * *errors (new reference: [{row, pointer, message}]) when rows are bad;
 * PT_EINVAL with *errors NULL when the file is not CSV (detail in
 * pt_error_last()); PT_ENOTFOUND when the org does not exist.  More than
 * max_password_rows rows with a password (0: no limit) refuse the whole
 * file (an error at /rows).  progress, if given, is called as rows are
 * prepared (password hashing is slow).
 */
int pt_people_import_csv(size_t *imported, json_t **errors, pt_store *store, const pt_config *cfg,
                         const char *org, const char *actor, const char *csv, size_t len,
                         size_t max_password_rows, pt_import_progress_fn progress,
                         void *progress_ctx);
/* The limit POST .../people/import applies (the CLI has none). */
#define PT_IMPORT_MAX_PASSWORD_ROWS 100

/* Handlers split across files, registered by pt_routes_orgs. */
void pt_people_create(pt_req *req, pt_res *res, void *ud);
void pt_people_list(pt_req *req, pt_res *res, void *ud);
void pt_people_get(pt_req *req, pt_res *res, void *ud);
void pt_people_patch(pt_req *req, pt_res *res, void *ud);
void pt_people_import(pt_req *req, pt_res *res, void *ud);
void pt_people_mfa_reset(pt_req *req, pt_res *res, void *ud);
void pt_me_get(pt_req *req, pt_res *res, void *ud);

/* ---- invitations (invitations.c) --------------------------------------- */

void pt_invitation_create(pt_req *req, pt_res *res, void *ud);
void pt_invitation_accept(pt_req *req, pt_res *res, void *ud);
void pt_invitation_decline(pt_req *req, pt_res *res, void *ud);
void pt_me_patch(pt_req *req, pt_res *res, void *ud);
/* [{org, name, status, roles, invited_by, invited_at}] of an account
 * record's pending invitations (new reference). */
json_t *pt_invitations_view(pt_txn *txn, const json_t *account);

#endif
