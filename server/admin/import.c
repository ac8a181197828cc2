/*
 * import.c - POST /api/v1/orgs/{org}/people/import: people from CSV, all
 * or nothing, with every bad row reported at once.
 *
 * Each data row is turned into the same JSON object a POST .../people
 * body would be and checked by pt_person_validate(), so the import can
 * never accept what POST refuses.  The file-level rules (duplicates in the
 * file, managers that are further down the file) are added here.
 */
#include "admin/people.h"

#include "base/clock.h"

#include <csv.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- parsing ----------------------------------------------------------- */

struct import_job;
static void row_to_input(struct import_job *j, const json_t *row, size_t r);
static bool header_take(struct import_job *j, const json_t *header);

/*
 * Rows are streamed: libcsv hands over one row at a time, which becomes
 * its request object at once, so the file is never held as a JSON tree
 * of every row beside the request objects (issue 15: a 1 MiB import cost
 * ~45 times its size in heap).
 */
typedef struct csv_rows {
    struct import_job *job;
    json_t *cur; /* the row being read: array of strings */
    size_t rows; /* rows seen, header included */
    bool use;    /* the header was good: turn rows into requests */
    bool bad;    /* a field was not valid UTF-8 or held a NUL */
} csv_rows;

static void on_field(void *data, size_t len, void *ctx)
{
    csv_rows *r = ctx;
    json_t *s = NULL;
    if (!r->cur)
        r->cur = json_array();
    if (data && memchr(data, '\0', len) == NULL)
        s = json_stringn(data, len);
    else if (!data || len == 0)
        s = json_string("");
    if (!s) {
        r->bad = true;
        s = json_string("");
    }
    json_array_append_new(r->cur, s);
}

static void on_row(int c, void *ctx)
{
    (void)c;
    csv_rows *r = ctx;
    if (!r->cur)
        r->cur = json_array();
    if (r->rows == 0)
        r->use = header_take(r->job, r->cur);
    else if (r->use && !r->bad)
        row_to_input(r->job, r->cur, r->rows);
    r->rows++;
    json_decref(r->cur);
    r->cur = NULL;
}

/* Streams the file into j; false with a message in *why for a malformed
 * file.  *rows is the number of rows, header included. */
static bool csv_read(struct import_job *j, const char *body, size_t len, size_t *rows,
                     const char **why)
{
    struct csv_parser p;
    csv_rows r = {j, NULL, 0, false, false};
    *why = NULL;
    *rows = 0;
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
        body += 3;
        len -= 3;
    }
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        *why = "out of memory";
        return false;
    }
    if (csv_parse(&p, body, len, on_field, on_row, &r) != len)
        *why = csv_strerror(csv_error(&p));
    else if (csv_fini(&p, on_field, on_row, &r) != 0)
        *why = csv_strerror(csv_error(&p));
    csv_free(&p);
    json_decref(r.cur);
    if (!*why && r.bad)
        *why = "fields must be UTF-8 text";
    *rows = r.rows;
    return *why == NULL;
}

/* ---- rows to requests -------------------------------------------------- */

static const char *const import_columns[] = {
    "username",         "display_name", "email", "staff_group", "status", "start_date",
    "termination_date", "manager",      "roles", "password",    NULL};

static void add_error(json_t *errors, size_t row, const char *pointer, const char *msg)
{
    json_array_append_new(errors, json_pack("{s:I, s:s, s:s}", "row", (json_int_t)row, "pointer",
                                            pointer, "message", msg));
}

/* "portal_admin; hr_admin" -> ["portal_admin","hr_admin"] */
static json_t *split_roles(const char *s)
{
    json_t *arr = json_array();
    while (*s) {
        const char *end = strchr(s, ';');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        const char *a = s, *b = s + n;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (b > a)
            json_array_append_new(arr, json_stringn(a, (size_t)(b - a)));
        s += n;
        if (*s == ';')
            s++;
    }
    return arr;
}

/*
 * Maps header names to columns.  Header problems are reported as row 0 and
 * stop the import before any row is looked at.
 */
static bool map_header(const json_t *header, const char **cols, json_t *errors)
{
    size_t i;
    json_t *h;
    bool seen[PT_ARRAY_LEN(import_columns)] = {0};
    json_array_foreach(header, i, h)
    {
        const char *name = json_string_value(h);
        char ptr[96];
        snprintf(ptr, sizeof ptr, "/header/%zu", i);
        cols[i] = NULL;
        for (size_t c = 0; import_columns[c]; c++) {
            if (strcasecmp(name, import_columns[c]) == 0) {
                if (seen[c])
                    add_error(errors, 0, ptr, "duplicate column");
                seen[c] = true;
                cols[i] = import_columns[c];
            }
        }
        if (!cols[i])
            add_error(errors, 0, ptr, "unknown column");
    }
    for (size_t c = 0; c < 5; c++) {
        if (!seen[c] && strcmp(import_columns[c], "staff_group") != 0) {
            char msg[96];
            snprintf(msg, sizeof msg, "missing column %s", import_columns[c]);
            add_error(errors, 0, "/header", msg);
        }
    }
    return json_array_size(errors) == 0;
}

/* ---- checking ---------------------------------------------------------- */

typedef struct import_job {
    const char *org;
    const char *actor;
    const char **cols; /* per header column: the import column, or NULL */
    size_t ncols;
    json_t *inputs;    /* per data row: request object, or null (bad shape) */
    json_t *parse_err; /* errors found while reading the file */
    json_t *in_file;   /* username -> first row, for managers */
    size_t n;
    char (*hashes)[128];
    /* per attempt */
    json_t *errors;
    json_t *recs;
    const char **passwords;
    bool *account_new;
    const char *what;
} import_job;

typedef struct import_exists {
    import_job *job;
    pt_people_ctx pc;
} import_exists;

static bool exists_in_org_or_file(void *ctx, const char *username)
{
    import_exists *e = ctx;
    return json_object_get(e->job->in_file, username) || pt_people_exists(&e->pc, username);
}

/* Validates one row and appends its errors (with the row number). */
static void check_row(import_job *j, size_t row, const json_t *in, json_t *seen, import_exists *ex,
                      pt_txn *txn)
{
    char ptr[64];
    json_t *rec = NULL;
    const char *pw = NULL;
    snprintf(ptr, sizeof ptr, "/rows/%zu", row);
    pt_verr *v = pt_verr_new();
    pt_person_validate(v, &rec, &pw, in, NULL, ptr, exists_in_org_or_file, ex);
    const char *user = json_string_value(json_object_get(in, "username"));
    if (user && pt_username_valid(user)) {
        char up[96];
        snprintf(up, sizeof up, "%s/username", ptr);
        json_t *first = json_object_get(seen, user);
        if (first)
            pt_verr_add(v, up, "duplicate of row %lld", (long long)json_integer_value(first));
        else if (pt_people_exists(&ex->pc, user))
            pt_verr_add(v, up, "is already a person of this organisation");
        json_object_set_new(seen, user, json_integer((json_int_t)row));
        json_t *acc = NULL;
        j->account_new[row - 1] = pt_account_get(&acc, txn, user) == PT_ENOTFOUND;
        json_decref(acc);
        /* Same rule as POST .../people: an existing account is invited,
         * never taken over by naming it. */
        if (!j->account_new[row - 1] && !first && !pt_people_exists(&ex->pc, user))
            pt_verr_add(v, up, "is already taken; invite the existing account instead");
    }
    json_t *errs = pt_verr_take(v);
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e)
    {
        json_object_set_new(e, "row", json_integer((json_int_t)row));
        json_array_append(j->errors, e);
    }
    json_decref(errs);
    pt_verr_free(v);
    j->passwords[row - 1] = pw;
    json_array_append_new(j->recs, rec ? rec : json_null());
}

#define IMPORT_PREFETCH 32 /* rows whose records are asked for together */

/*
 * check_row reads each row's account and membership one by one; asking
 * the store for them IMPORT_PREFETCH rows at a time first makes those
 * reads one round trip per batch on PostgreSQL instead of two per row
 * (LMDB ignores the hint).
 */
static int import_prefetch(pt_txn *txn, const import_job *j)
{
    pt_key *person = malloc(IMPORT_PREFETCH * sizeof(*person));
    pt_keyref keys[2 * IMPORT_PREFETCH];
    if (!person)
        return PT_ENOMEM;
    size_t m = 0;
    int err = 0;
    for (size_t r = 0; r < j->n && err == 0; r++) {
        json_t *in = json_array_get(j->inputs, r);
        const char *user = json_string_value(json_object_get(in, "username"));
        if (!user || !pt_username_valid(user) || pt_key_build(&person[m], j->org, user, NULL) < 0)
            continue;
        keys[2 * m] = (pt_keyref){PT_T_ACCOUNTS, user, strlen(user)};
        keys[2 * m + 1] = (pt_keyref){PT_T_PEOPLE, person[m].buf, person[m].len};
        if (++m == IMPORT_PREFETCH) {
            err = pt_txn_prefetch_keys(txn, keys, 2 * m);
            m = 0;
        }
    }
    if (err == 0 && m > 0)
        err = pt_txn_prefetch_keys(txn, keys, 2 * m);
    free(person);
    return err;
}

/*
 * The whole file is checked against one snapshot; run in a read
 * transaction first (to learn which new accounts need a password hash)
 * and again inside the write transaction, which is what counts.
 */
static int import_check(pt_txn *txn, void *ctx)
{
    import_job *j = ctx;
    json_t *org = NULL;
    json_decref(j->errors);
    json_decref(j->recs);
    j->errors = json_deep_copy(j->parse_err);
    j->recs = json_array();
    j->what = "organisation";
    int err = pt_org_get(&org, txn, j->org);
    json_decref(org);
    if (err < 0 || (err = import_prefetch(txn, j)) < 0)
        return err;
    json_t *seen = json_object();
    import_exists ex = {j, {txn, j->org}};
    for (size_t r = 1; r <= j->n; r++) {
        json_t *in = json_array_get(j->inputs, r - 1);
        j->passwords[r - 1] = NULL;
        j->account_new[r - 1] = false;
        if (json_is_object(in))
            check_row(j, r, in, seen, &ex, txn);
        else
            json_array_append_new(j->recs, json_null());
    }
    json_decref(seen);
    return json_array_size(j->errors) ? PT_EINVAL : 0;
}

static int import_write(pt_txn *txn, void *ctx)
{
    import_job *j = ctx;
    int err = import_check(txn, j);
    if (err < 0)
        return err;
    json_t *names = json_array();
    for (size_t r = 0; r < j->n && err == 0; r++) {
        json_t *rec = json_array_get(j->recs, r);
        err = pt_people_insert(txn, j->org, rec, j->hashes[r][0] ? j->hashes[r] : NULL, NULL);
        json_array_append(names, json_object_get(rec, "username"));
    }
    if (err == 0) {
        json_t *after = json_pack("{s:I, s:O}", "imported", (json_int_t)j->n, "usernames", names);
        err = pt_audit_append(txn, j->org, j->actor, "people.import", j->org, NULL, after);
        json_decref(after);
    }
    json_decref(names);
    return err;
}

/* ---- the route --------------------------------------------------------- */

static bool content_type_csv(const char *ct)
{
    if (!ct)
        return true; /* like JSON routes, a missing type is accepted */
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    return (n == 8 && strncasecmp(ct, "text/csv", 8) == 0) ||
           (n == 24 && strncasecmp(ct, "application/octet-stream", 24) == 0);
}

/* Maps the header row; its problems go to parse_err and stop the rows
 * being looked at. */
static bool header_take(import_job *j, const json_t *header)
{
    j->ncols = json_array_size(header);
    j->cols = calloc(j->ncols ? j->ncols : 1, sizeof *j->cols);
    if (!j->cols) {
        add_error(j->parse_err, 0, "/header", "out of memory");
        return false;
    }
    return map_header(header, j->cols, j->parse_err);
}

/* Turns one data row (r: its row number) into a request object; shape
 * errors go to parse_err. */
static void row_to_input(import_job *j, const json_t *row, size_t r)
{
    size_t ncols = j->ncols;
    const char **cols = j->cols;
    if (json_array_size(row) != ncols) {
        char ptr[64], msg[96];
        snprintf(ptr, sizeof ptr, "/rows/%zu", r);
        snprintf(msg, sizeof msg, "has %zu fields; the header has %zu", json_array_size(row),
                 ncols);
        add_error(j->parse_err, r, ptr, msg);
        json_array_append_new(j->inputs, json_null());
        j->n = json_array_size(j->inputs);
        return;
    }
    json_t *in = json_object();
    for (size_t c = 0; c < ncols; c++) {
        const char *cell = json_string_value(json_array_get(row, c));
        if (!cols[c] || !cell || !*cell)
            continue;
        if (strcmp(cols[c], "roles") == 0)
            json_object_set_new(in, "roles", split_roles(cell));
        else
            json_object_set_new(in, cols[c], json_string(cell));
    }
    const char *u = json_string_value(json_object_get(in, "username"));
    if (u && !json_object_get(j->in_file, u))
        json_object_set_new(j->in_file, u, json_integer((json_int_t)r));
    json_array_append_new(j->inputs, in);
    j->n = json_array_size(j->inputs);
}

/*
 * Each password costs one Argon2id hash (tens of milliseconds and tens of
 * MiB) inside the request, so a file may carry only so many: beyond the
 * limit the whole file is refused before anything is hashed.  Rows
 * without a password cost nothing and are not limited.
 */
static void refuse_many_passwords(import_job *j, size_t max)
{
    size_t n = 0;
    for (size_t r = 0; r < j->n; r++)
        if (json_object_get(json_array_get(j->inputs, r), "password"))
            n++;
    if (max && n > max) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "at most %zu rows may carry a password (this file has %zu); import the rest "
                 "without passwords",
                 max, n);
        add_error(j->parse_err, 0, "/rows", msg);
    }
}

/*
 * The import without HTTP, shared by the route and the portico command
 * line.  PT_EINVAL with *errors NULL means the file is not CSV at all
 * (detail in pt_error_last()); with *errors set, rows failed validation.
 */
int pt_people_import_csv(size_t *imported, json_t **errors, pt_store *store, const pt_config *cfg,
                         const char *org, const char *actor, const char *csv, size_t len,
                         size_t max_password_rows, pt_import_progress_fn progress,
                         void *progress_ctx)
{
    const char *why;
    size_t rows;
    *imported = 0;
    *errors = NULL;
    import_job j = {.org = org,
                    .actor = actor,
                    .inputs = json_array(),
                    .parse_err = json_array(),
                    .in_file = json_object()};
    if (!csv_read(&j, csv ? csv : "", csv ? len : 0, &rows, &why)) {
        pt_error_set("malformed CSV: %s", why);
        free(j.cols);
        json_decref(j.inputs);
        json_decref(j.parse_err);
        json_decref(j.in_file);
        return PT_EINVAL;
    }
    if (rows == 0)
        add_error(j.parse_err, 0, "/header", "the file needs a header row");
    else
        refuse_many_passwords(&j, max_password_rows);
    int err;
    if (json_array_size(j.parse_err) && j.n == 0) {
        j.errors = json_incref(j.parse_err);
        err = PT_EINVAL;
    } else {
        j.hashes = calloc(j.n ? j.n : 1, sizeof *j.hashes);
        j.passwords = calloc(j.n ? j.n : 1, sizeof *j.passwords);
        j.account_new = calloc(j.n ? j.n : 1, sizeof *j.account_new);
        err = pt_store_read(store, import_check, &j);
        /* Hash before the write transaction: Argon2id is deliberately slow. */
        for (size_t r = 0; err == 0 && r < j.n; r++) {
            if (j.passwords[r] && j.account_new[r])
                err =
                    pt_password_hash(j.hashes[r], j.passwords[r], cfg->pwhash_ops, cfg->pwhash_mem);
            if (progress)
                progress(progress_ctx, r + 1, j.n);
        }
        if (err == 0 && j.n)
            err = pt_store_write(store, import_write, &j);
    }
    if (err == PT_EINVAL && json_array_size(j.errors)) {
        *errors = json_incref(j.errors);
        pt_error_set("%zu problem(s) in the file", json_array_size(j.errors));
    } else if (err == PT_ENOTFOUND) {
        pt_error_set("organisation %s not found", org);
    } else if (err == 0) {
        *imported = j.n;
    }

    if (j.hashes)
        sodium_memzero(j.hashes, (j.n ? j.n : 1) * sizeof *j.hashes);
    free(j.hashes);
    free(j.passwords);
    free(j.account_new);
    free(j.cols);
    json_decref(j.errors);
    json_decref(j.recs);
    json_decref(j.inputs);
    json_decref(j.parse_err);
    json_decref(j.in_file);
    return err;
}

void pt_people_import(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    const char *org = pt_req_param(req, "org");
    const pt_caller *c = pt_org_guard(req, res, org, PT_ROLE_PORTAL_ADMIN);
    if (!c)
        return;
    if (!content_type_csv(pt_req_header(req, "Content-Type"))) {
        pt_res_problem(res, 415, "unsupported_media_type", "send the people as text/csv");
        return;
    }
    size_t len, imported;
    json_t *errors;
    const char *body = pt_req_body(req, &len);
    int err = pt_people_import_csv(&imported, &errors, app->store, &app->cfg, org, c->username,
                                   body, len, PT_IMPORT_MAX_PASSWORD_ROWS, NULL, NULL);
    if (err == PT_EINVAL && errors)
        pt_res_validation(res, errors);
    else if (err == PT_EINVAL)
        pt_res_problem(res, 400, "bad_request", "%s", pt_error_last());
    else if (err == PT_ENOTFOUND)
        pt_res_problem(res, 404, "not_found", "organisation not found");
    else if (err < 0)
        pt_res_error(res, err);
    else
        pt_res_json(res, 201, json_pack("{s:I}", "imported", (json_int_t)imported));
    if (err != PT_EINVAL || !errors)
        json_decref(errors);
}
