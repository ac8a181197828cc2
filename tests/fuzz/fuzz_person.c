/*
 * fuzz_person.c - the person validator on arbitrary JSON bodies, as a
 * create (POST) and as a PATCH onto a stored record.
 *
 * Whatever it accepts must be a well-formed record: required fields
 * present and valid, dates in canonical form and in order, roles known,
 * and the record must pass the validator again unchanged (so PATCH
 * results and imports can be re-read without surprises).  Whatever it
 * refuses must come with errors under the given pointer and no record.
 */
#include "admin/people.h"
#include "base/clock.h"
#include "http/json_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PTR "/rows/7"

static json_t *before;

static bool known(void *ctx, const char *username)
{
    (void)ctx;
    return strcmp(username, "mary") == 0 || strcmp(username, "eddie") == 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    before =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s}", "username", "eddie",
                  "display_name", "Eddie", "email", "e@x.org", "staff_group", "nurses", "status",
                  "employee", "start_date", "2026-01-05", "manager", "mary", "roles", "hr_admin",
                  "created_at", "2026-01-01T00:00:00Z", "updated_at", "2026-01-01T00:00:00Z");
    return before ? 0 : -1;
}

static void fail(const char *what, const json_t *rec)
{
    char *t = rec ? json_dumps(rec, JSON_ENCODE_ANY) : NULL;
    fprintf(stderr, "person: %s: %s\n", what, t ? t : "(none)");
    free(t);
    abort();
}

static void check_record(const json_t *rec)
{
    static const char *const req[] = {"username", "display_name", "email", "status", NULL};
    for (size_t i = 0; req[i]; i++)
        if (!json_is_string(json_object_get(rec, req[i])))
            fail("accepted record lacks a required field", rec);
    if (!pt_username_valid(json_string_value(json_object_get(rec, "username"))))
        fail("accepted a bad username", rec);
    const char *st = json_string_value(json_object_get(rec, "status"));
    if (strcmp(st, "employee") != 0 && strcmp(st, "applicant") != 0)
        fail("accepted a bad status", rec);
    if (json_object_get(rec, "password"))
        fail("record keeps the password", rec);
    int32_t s = 0, t = 0;
    const char *sd = json_string_value(json_object_get(rec, "start_date"));
    const char *td = json_string_value(json_object_get(rec, "termination_date"));
    if ((json_object_get(rec, "start_date") && !pt_date_parse(sd, &s)) ||
        (json_object_get(rec, "termination_date") && !pt_date_parse(td, &t)))
        fail("accepted a bad date", rec);
    json_t *roles = json_object_get(rec, "roles");
    size_t i;
    json_t *r;
    if (!json_is_array(roles))
        fail("record without roles", rec);
    json_array_foreach(roles, i, r)
    {
        if (!(pt_role_from_name(json_string_value(r)) & PT_ROLES_ORG_MASK))
            fail("accepted an unknown role", rec);
    }
}

/* The accepted record, minus timestamps, is itself a valid create body. */
static void check_again(const json_t *rec)
{
    json_t *in = json_deep_copy(rec), *out = NULL;
    json_object_del(in, "created_at");
    json_object_del(in, "updated_at");
    pt_verr *v = pt_verr_new();
    pt_person_validate(v, &out, NULL, in, NULL, "", known, NULL);
    json_t *again = json_deep_copy(in);
    bool same = out && json_equal(out, again);
    if (pt_verr_any(v) || !same)
        fail(pt_verr_any(v) ? "accepted record fails validation again"
                            : "record changes when validated again",
             rec);
    json_decref(again);
    json_decref(out);
    json_decref(in);
    pt_verr_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool create = data[0] & 1;
    size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | ((data[0] & 2) ? JSON_ALLOW_NUL : 0);
    json_t *in = pt_json_parse_untrusted((const char *)data + 1, size - 1, flags, NULL);
    if (!in)
        return 0;
    json_t *out = NULL;
    const char *pw = NULL;
    pt_verr *v = pt_verr_new();
    pt_person_validate(v, &out, &pw, in, create ? NULL : before, PTR, known, NULL);
    json_t *errors = pt_verr_take(v);
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *p = json_string_value(json_object_get(e, "pointer"));
        if (!p || strncmp(p, PTR, strlen(PTR)) != 0)
            fail("error pointer outside the row", e);
    }
    if (json_array_size(errors)) {
        if (out || pw)
            fail("refused, yet a record or password came back", out);
    } else {
        if (!out)
            fail("no errors and no record", in);
        check_record(out);
        check_again(out);
        if (pw && (!create || strlen(pw) < 8))
            fail("password handed back", in);
    }
    json_decref(errors);
    json_decref(out);
    pt_verr_free(v);
    json_decref(in);
    return 0;
}
