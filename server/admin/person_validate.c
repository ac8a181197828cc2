/*
 * person_validate.c - the single set of rules for a person record, used by
 * POST and PATCH .../people and by the CSV import, so the three can never
 * disagree about what a valid person is.
 */
#include "admin/people.h"

#include "base/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct vctx {
    pt_verr *v;
    const char *ptr;
    bool bad;
} vctx;

/* Adds an error at ptr + "/" + field (field escaped per RFC 6901). */
static void __attribute__((format(printf, 3, 4)))
bad(vctx *c, const char *field, const char *fmt, ...)
{
    char pointer[512];
    char msg[256];
    size_t n = (size_t)snprintf(pointer, sizeof pointer, "%s/", c->ptr);
    for (const char *p = field; *p && n + 3 < sizeof pointer; p++) {
        if (*p == '~') {
            pointer[n++] = '~';
            pointer[n++] = '0';
        } else if (*p == '/') {
            pointer[n++] = '~';
            pointer[n++] = '1';
        } else {
            pointer[n++] = *p;
        }
    }
    pointer[n < sizeof pointer ? n : sizeof pointer - 1] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pt_verr_add(c->v, pointer, "%s", msg);
    c->bad = true;
}

enum field_state { F_ABSENT, F_CLEAR, F_SET, F_BAD };

/*
 * Reads one string field.  Absent and null are told apart so PATCH can
 * clear optional fields with null while create treats null as absent.
 */
static enum field_state str_field(vctx *c, const json_t *in, const char *key, bool required,
                                  bool create, size_t min, size_t max, const char **out)
{
    json_t *j = json_object_get(in, key);
    *out = NULL;
    if (!j) {
        if (required && create) {
            bad(c, key, "is required");
            return F_BAD;
        }
        return F_ABSENT;
    }
    if (json_is_null(j)) {
        if (required) {
            bad(c, key, create ? "is required" : "must not be null");
            return F_BAD;
        }
        return F_CLEAR;
    }
    if (!json_is_string(j)) {
        bad(c, key, "must be a string");
        return F_BAD;
    }
    size_t len = json_string_length(j);
    const char *s = json_string_value(j);
    if (strlen(s) != len) {
        bad(c, key, "must not contain NUL characters");
        return F_BAD;
    }
    if (len < min || len > max) {
        bad(c, key, "must be %zu to %zu characters long", min, max);
        return F_BAD;
    }
    *out = s;
    return F_SET;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static bool email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || has_control(s))
        return false;
    for (const char *p = s; *p; p++)
        if (*p == ' ')
            return false;
    return true;
}

/* Sets or clears key in rec according to the field state. */
static void apply(json_t *rec, const char *key, enum field_state st, json_t *val)
{
    if (st == F_SET)
        json_object_set_new(rec, key, val);
    else {
        json_decref(val);
        if (st == F_CLEAR)
            json_object_del(rec, key);
    }
}

static void check_unknown(vctx *c, const json_t *in, bool create)
{
    static const char *const allowed[] = {
        "username",   "password",         "display_name", "email", "staff_group", "status",
        "start_date", "termination_date", "manager",      "roles", NULL};
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)in, key, val)
    {
        bool known = false;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                known = true;
        if (!known)
            bad(c, key, "unknown field");
        else if (!create && (strcmp(key, "username") == 0 || strcmp(key, "password") == 0))
            bad(c, key, "cannot be changed here");
    }
}

static enum field_state date_field(vctx *c, const json_t *in, const char *key, bool create,
                                   json_t **val)
{
    const char *s;
    int32_t days;
    *val = NULL;
    enum field_state st = str_field(c, in, key, false, create, 0, 64, &s);
    if (st != F_SET)
        return st;
    if (!pt_date_parse(s, &days)) {
        bad(c, key, "must be a date YYYY-MM-DD");
        return F_BAD;
    }
    char buf[16];
    pt_date_format(buf, days);
    *val = json_string(buf);
    return F_SET;
}

static enum field_state roles_field(vctx *c, const json_t *in, json_t **val)
{
    json_t *j = json_object_get(in, "roles");
    size_t i;
    json_t *it;
    unsigned mask = 0;
    *val = NULL;
    if (!j)
        return F_ABSENT;
    if (json_is_null(j)) {
        *val = json_array();
        return F_SET;
    }
    if (!json_is_array(j)) {
        bad(c, "roles", "must be an array of role names");
        return F_BAD;
    }
    bool ok = true;
    json_array_foreach(j, i, it)
    {
        const char *n = json_string_value(it);
        unsigned bit = n ? pt_role_from_name(n) : 0;
        if (!n || !(bit & PT_ROLES_ORG_MASK)) {
            bad(c, "roles",
                "item %zu is not one of portal_admin, content_admin, payroll_admin, oh_admin, "
                "hr_admin",
                i);
            ok = false;
            continue;
        }
        mask |= bit;
    }
    if (!ok)
        return F_BAD;
    *val = pt_roles_to_json(mask);
    return F_SET;
}

/*
 * Rules that involve more than one field run on the merged record, but
 * only when the request touched one of the fields, so a PATCH of the name
 * is not refused over data the API did not write.
 */
static void check_cross(vctx *c, const json_t *in, json_t *rec, pt_person_exists_fn exists,
                        void *ectx)
{
    const char *sd = json_string_value(json_object_get(rec, "start_date"));
    const char *td = json_string_value(json_object_get(rec, "termination_date"));
    int32_t s, t;
    if ((json_object_get(in, "start_date") || json_object_get(in, "termination_date")) && sd &&
        td && pt_date_parse(sd, &s) && pt_date_parse(td, &t) && t < s)
        bad(c, "termination_date", "must not be before start_date");

    const char *mgr = json_string_value(json_object_get(in, "manager"));
    const char *user = json_string_value(json_object_get(rec, "username"));
    const char *kept = json_string_value(json_object_get(rec, "manager"));
    if (mgr && kept && strcmp(mgr, kept) == 0) {
        if (user && strcmp(mgr, user) == 0)
            bad(c, "manager", "must not be the person themselves");
        else if (exists && !exists(ectx, mgr))
            bad(c, "manager", "is not a person of this organisation");
    }
}

void pt_person_validate(pt_verr *v, json_t **out, const char **password, const json_t *in,
                        const json_t *before, const char *ptr, pt_person_exists_fn exists,
                        void *exists_ctx)
{
    vctx c = {v, ptr ? ptr : "", false};
    bool create = before == NULL;
    const char *s;
    json_t *val;
    enum field_state st;

    *out = NULL;
    if (password)
        *password = NULL;
    if (!json_is_object(in)) {
        pt_verr_add(v, c.ptr, "must be an object");
        return;
    }
    json_t *rec = create ? json_object() : json_deep_copy(before);
    if (!rec) {
        pt_verr_add(v, c.ptr, "out of memory");
        return;
    }
    check_unknown(&c, in, create);

    if (create) {
        st = str_field(&c, in, "username", true, true, 1, PT_ID_MAX, &s);
        if (st == F_SET && !pt_username_valid(s))
            bad(&c, "username",
                "must be 1 to 64 of a-z 0-9 . _ @ - starting with a letter or "
                "digit");
        else if (st == F_SET)
            json_object_set_new(rec, "username", json_string(s));
        st = str_field(&c, in, "password", false, true, 8, 1024, &s);
        if (st == F_SET && password)
            *password = s;
    }

    st = str_field(&c, in, "display_name", true, create, 1, 200, &s);
    if (st == F_SET && has_control(s))
        bad(&c, "display_name", "must not contain control characters");
    else
        apply(rec, "display_name", st, st == F_SET ? json_string(s) : NULL);

    st = str_field(&c, in, "email", true, create, 3, 254, &s);
    if (st == F_SET && !email_ok(s))
        bad(&c, "email", "must be an e-mail address");
    else
        apply(rec, "email", st, st == F_SET ? json_string(s) : NULL);

    st = str_field(&c, in, "staff_group", false, create, 1, PT_ID_MAX, &s);
    if (st == F_SET && !pt_slug_valid(s))
        bad(&c, "staff_group", "must be a slug of a-z 0-9 . _ -");
    else
        apply(rec, "staff_group", st, st == F_SET ? json_string(s) : NULL);

    st = str_field(&c, in, "status", true, create, 1, 32, &s);
    if (st == F_SET && strcmp(s, "applicant") != 0 && strcmp(s, "employee") != 0)
        bad(&c, "status", "must be applicant or employee");
    else
        apply(rec, "status", st, st == F_SET ? json_string(s) : NULL);

    st = date_field(&c, in, "start_date", create, &val);
    apply(rec, "start_date", st, val);
    st = date_field(&c, in, "termination_date", create, &val);
    apply(rec, "termination_date", st, val);

    st = str_field(&c, in, "manager", false, create, 1, PT_ID_MAX, &s);
    if (st == F_SET && !pt_username_valid(s))
        bad(&c, "manager", "must be a username");
    else
        apply(rec, "manager", st, st == F_SET ? json_string(s) : NULL);

    st = roles_field(&c, in, &val);
    apply(rec, "roles", st, val);
    if (!json_object_get(rec, "roles"))
        json_object_set_new(rec, "roles", json_array());

    /* Only fields that passed their own checks are in rec, so the cross
     * checks still run and every problem is reported at once. */
    check_cross(&c, in, rec, exists, exists_ctx);
    if (c.bad) {
        json_decref(rec);
        if (password)
            *password = NULL;
        return;
    }
    *out = rec;
}
