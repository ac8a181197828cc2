/*
 * test_people.c - the person validator (POST/PATCH/CSV share it) and the
 * all-or-nothing CSV import against a temporary store.
 */
#include "admin/people.h"
#include "base/config.h"
#include "base/crypto.h"
#include "check.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool has_pointer(const json_t *errors, const char *pointer)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *p = json_string_value(json_object_get(e, "pointer"));
        if (p && strcmp(p, pointer) == 0)
            return true;
    }
    return false;
}

static bool known_mary(void *ctx, const char *username)
{
    (void)ctx;
    return strcmp(username, "mary") == 0;
}

static json_t *keep; /* keeps the last input alive while *pw borrows it */

/* Runs the validator; returns the errors array (new ref), *out the record. */
static json_t *validate(const char *body, const json_t *before, json_t **out, const char **pw)
{
    json_t *in = json_loads(body, 0, NULL);
    pt_verr *v = pt_verr_new();
    json_decref(keep);
    keep = in;
    pt_person_validate(v, out, pw, in, before, "", known_mary, NULL);
    json_t *errors = pt_verr_take(v);
    pt_verr_free(v);
    return errors;
}

static void test_validate(void)
{
    json_t *rec, *errors;
    const char *pw;

    errors = validate("{\"username\":\"eddie\",\"display_name\":\"Eddie\",\"email\":\"e@x.org\","
                      "\"status\":\"employee\",\"password\":\"long enough\","
                      "\"roles\":[\"hr_admin\",\"portal_admin\",\"hr_admin\"],"
                      "\"manager\":\"mary\",\"start_date\":\"2026-01-05\"}",
                      NULL, &rec, &pw);
    CHECK(json_array_size(errors) == 0);
    CHECK(rec != NULL);
    CHECK(pw && strcmp(pw, "long enough") == 0);
    CHECK(rec && !json_object_get(rec, "password"));
    CHECK(rec && json_array_size(json_object_get(rec, "roles")) == 2);
    json_decref(errors);

    /* PATCH: null clears optional fields; required ones cannot be null. */
    json_t *after = NULL;
    errors = validate("{\"manager\":null,\"roles\":null,\"termination_date\":\"2026-03-01\"}", rec,
                      &after, NULL);
    CHECK(json_array_size(errors) == 0);
    CHECK(after && !json_object_get(after, "manager"));
    CHECK(after && json_array_size(json_object_get(after, "roles")) == 0);
    CHECK(after && strcmp(json_string_value(json_object_get(after, "username")), "eddie") == 0);
    json_decref(after);
    json_decref(errors);

    errors = validate("{\"display_name\":null,\"username\":\"x\",\"password\":\"12345678\","
                      "\"termination_date\":\"2025-12-31\",\"manager\":\"eddie\"}",
                      rec, &after, NULL);
    CHECK(after == NULL);
    CHECK(has_pointer(errors, "/display_name"));
    CHECK(has_pointer(errors, "/username"));
    CHECK(has_pointer(errors, "/password"));
    CHECK(has_pointer(errors, "/termination_date")); /* before start_date */
    CHECK(has_pointer(errors, "/manager"));          /* self */
    json_decref(errors);
    json_decref(rec);

    /* Every bad field at once. */
    errors = validate("{\"username\":\"-x\",\"display_name\":\"\",\"email\":\"nope\","
                      "\"status\":\"leaver\",\"roles\":[\"system_admin\"],\"manager\":\"ghost\","
                      "\"start_date\":\"2026-02-30\",\"password\":\"short\",\"extra\":1}",
                      NULL, &rec, &pw);
    CHECK(rec == NULL && pw == NULL);
    const char *want[] = {"/username", "/display_name", "/email",    "/status", "/roles",
                          "/manager",  "/start_date",   "/password", "/extra"};
    for (size_t i = 0; i < PT_ARRAY_LEN(want); i++) {
        if (!has_pointer(errors, want[i])) {
            fprintf(stderr, "missing error for %s\n", want[i]);
            failures++;
        }
    }
    json_decref(errors);

    errors = validate("{\"display_name\":\"A\",\"email\":\"a@b\",\"status\":\"applicant\","
                      "\"roles\":\"hr_admin\",\"staff_group\":7}",
                      NULL, &rec, &pw);
    CHECK(has_pointer(errors, "/username"));
    CHECK(has_pointer(errors, "/roles"));
    CHECK(has_pointer(errors, "/staff_group"));
    json_decref(errors);
    json_decref(keep);
    keep = NULL;
}

/* ---- import ------------------------------------------------------------ */

static int setup_txn(pt_txn *txn, void *ctx)
{
    (void)ctx;
    json_t *org = json_pack("{s:s, s:s, s:{s:i}}", "id", "alpha", "name", "Alpha", "settings",
                            "leaver_access_days", 90);
    int err = pt_org_put(txn, org);
    json_decref(org);
    return err;
}

typedef struct counts {
    size_t people, audit;
    json_t *last_audit;
} counts;

static int count_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    (void)key;
    size_t *n = ctx;
    (void)val;
    (*n)++;
    return 0;
}

static int last_audit_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    (void)key;
    counts *c = ctx;
    json_decref(c->last_audit);
    c->last_audit = json_loadb(val->data, val->len, 0, NULL);
    c->audit++;
    return 0;
}

static int count_txn(pt_txn *txn, void *ctx)
{
    counts *c = ctx;
    pt_key k;
    pt_key_build(&k, "alpha", NULL);
    pt_key_as_prefix(&k);
    c->people = c->audit = 0;
    json_decref(c->last_audit);
    c->last_audit = NULL;
    int err = pt_txn_scan(txn, PT_T_PEOPLE, k.buf, k.len, NULL, 0, false, count_cb, &c->people);
    if (err == 0)
        err = pt_txn_scan(txn, PT_T_AUDIT, k.buf, k.len, NULL, 0, false, last_audit_cb, c);
    return err;
}

static int check_people_txn(pt_txn *txn, void *ctx)
{
    (void)ctx;
    json_t *p = NULL, *acc = NULL;
    CHECK(pt_person_get(&p, txn, "alpha", "amy") == 0);
    CHECK(strcmp(json_string_value(json_object_get(p, "manager")), "bob") == 0);
    CHECK(pt_person_roles(p) == (PT_ROLE_PORTAL_ADMIN | PT_ROLE_HR_ADMIN));
    json_decref(p);
    CHECK(pt_account_get(&acc, txn, "amy") == 0);
    CHECK(pt_password_verify(json_string_value(json_object_get(acc, "password_hash")),
                             "amy-password"));
    json_decref(acc);
    CHECK(pt_account_get(&acc, txn, "bob") == 0);
    CHECK(!json_object_get(acc, "password_hash"));
    json_decref(acc);
    return 0;
}

static void test_import(pt_store *st, const pt_config *cfg)
{
    size_t imported = 99;
    json_t *errors = NULL;
    counts c = {0, 0, NULL};

    CHECK(pt_store_write(st, setup_txn, NULL) == 0);

    /* A manager further down the file is fine; roles split on ';'. */
    const char *good = "username,display_name,email,status,manager,roles,password\r\n"
                       "amy,Amy,amy@x.org,employee,bob,hr_admin; portal_admin,amy-password\r\n"
                       "bob,\"Bob, Jr\",bob@x.org,applicant,,,\r\n";
    CHECK(pt_people_import_csv(&imported, &errors, st, cfg, "alpha", "tester", good, strlen(good),
                               0, NULL, NULL) == 0);
    CHECK(imported == 2 && errors == NULL);
    CHECK(pt_store_read(st, check_people_txn, NULL) == 0);
    CHECK(pt_store_read(st, count_txn, &c) == 0);
    CHECK(c.people == 2 && c.audit == 1);
    CHECK(strcmp(json_string_value(json_object_get(c.last_audit, "action")), "people.import") == 0);

    /* Any bad row: nothing written, every problem reported with its row. */
    const char *bad = "username,display_name,email,status,manager\n"
                      "cat,Cat,cat@x.org,employee,\n"
                      "cat,Cat2,cat@x.org,employee,\n"
                      "dan,Dan,dan@x.org,employee,nobody\n"
                      "amy,Amy,amy@x.org,employee,\n"
                      "eve,Eve,eve@x.org\n";
    CHECK(pt_people_import_csv(&imported, &errors, st, cfg, "alpha", "tester", bad, strlen(bad), 0,
                               NULL, NULL) == PT_EINVAL);
    CHECK(imported == 0);
    CHECK(has_pointer(errors, "/rows/2/username")); /* duplicate in the file */
    CHECK(has_pointer(errors, "/rows/3/manager"));  /* unknown manager */
    CHECK(has_pointer(errors, "/rows/4/username")); /* already a person */
    CHECK(has_pointer(errors, "/rows/5"));          /* wrong field count */
    CHECK(!has_pointer(errors, "/rows/1/username"));
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        json_int_t row = json_integer_value(json_object_get(e, "row"));
        CHECK(row >= 2 && row <= 5);
    }
    json_decref(errors);
    errors = NULL;
    CHECK(pt_store_read(st, count_txn, &c) == 0);
    CHECK(c.people == 2 && c.audit == 1);

    /* Not CSV at all, and header problems. */
    const char *broken = "username,display_name\n\"amy,Amy\n";
    CHECK(pt_people_import_csv(&imported, &errors, st, cfg, "alpha", "tester", broken,
                               strlen(broken), 0, NULL, NULL) == PT_EINVAL);
    CHECK(errors == NULL);
    const char *hdr = "username,colour\nzed,blue\n";
    CHECK(pt_people_import_csv(&imported, &errors, st, cfg, "alpha", "tester", hdr, strlen(hdr), 0,
                               NULL, NULL) == PT_EINVAL);
    CHECK(has_pointer(errors, "/header/1"));
    CHECK(has_pointer(errors, "/header"));
    json_decref(errors);
    CHECK(pt_people_import_csv(&imported, &errors, st, cfg, "nope", "tester", good, strlen(good), 0,
                               NULL, NULL) == PT_ENOTFOUND);
    json_decref(errors);
    json_decref(c.last_audit);
}

int main(void)
{
    char dir[] = "/tmp/pt_test_people_XXXXXX";
    pt_store *st = NULL;
    pt_store_options opts = PT_STORE_OPTIONS_INIT;
    pt_config cfg;

    if (pt_crypto_init() < 0 || !mkdtemp(dir)) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    pt_config_defaults(&cfg);
    cfg.pwhash_ops = crypto_pwhash_OPSLIMIT_MIN;
    cfg.pwhash_mem = crypto_pwhash_MEMLIMIT_MIN;
    test_validate();
    if (pt_store_open(&st, dir, &opts) != 0) {
        fprintf(stderr, "store open failed: %s\n", pt_error_last());
        return 1;
    }
    test_import(st, &cfg);
    pt_store_close(st);

    if (check_rm_tree(dir) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    return check_finish("test_people");
}
