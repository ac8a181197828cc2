/*
 * validate.c - field checks that collect every problem with its JSON
 * pointer (so a client can show all errors at once), and cursor
 * pagination parameters.
 */
#include "base/clock.h"
#include "http/app.h"
#include "http/cursor.h"
#include "http/http.h"

#include <sodium.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pt_verr {
    json_t *errors;
};

pt_verr *pt_verr_new(void)
{
    pt_verr *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->errors = json_array();
    if (!v->errors) {
        free(v);
        return NULL;
    }
    return v;
}

void pt_verr_free(pt_verr *v)
{
    if (!v)
        return;
    json_decref(v->errors);
    free(v);
}

void pt_verr_add(pt_verr *v, const char *pointer, const char *fmt, ...)
{
    if (!v)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *e = json_object();
    if (!e)
        return;
    json_object_set_new(e, "pointer", json_string(pointer ? pointer : ""));
    json_object_set_new(e, "message", json_string(msg));
    json_array_append_new(v->errors, e);
}

bool pt_verr_any(const pt_verr *v)
{
    return v && json_array_size(v->errors) > 0;
}

json_t *pt_verr_take(pt_verr *v)
{
    if (!v)
        return json_array();
    json_t *e = v->errors;
    v->errors = json_array();
    return e;
}

/*
 * The value to check, or NULL when absent.  An explicit null counts as
 * absent for optional fields (PATCH handlers that give null a meaning
 * look at it themselves) but is an error for required ones.
 */
static const json_t *field(pt_verr *v, const json_t *obj, const char *key, const char *pointer,
                           bool required)
{
    const json_t *val = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!val || (json_is_null(val) && !required)) {
        if (required)
            pt_verr_add(v, pointer, "is required");
        return NULL;
    }
    return val;
}

const char *pt_v_string(pt_verr *v, const json_t *obj, const char *key, const char *pointer,
                        bool required, size_t min_len, size_t max_len)
{
    const json_t *val = field(v, obj, key, pointer, required);
    if (!val)
        return NULL;
    if (!json_is_string(val)) {
        pt_verr_add(v, pointer, "must be a string");
        return NULL;
    }
    size_t len = json_string_length(val);
    const char *s = json_string_value(val);
    if (strlen(s) != len) {
        pt_verr_add(v, pointer, "must not contain NUL characters");
        return NULL;
    }
    if (len < min_len || len > max_len) {
        if (min_len == max_len)
            pt_verr_add(v, pointer, "must be %zu bytes long", min_len);
        else if (len < min_len && min_len == 1)
            pt_verr_add(v, pointer, "must not be empty");
        else
            pt_verr_add(v, pointer, "must be %zu to %zu bytes long", min_len, max_len);
        return NULL;
    }
    return s;
}

bool pt_v_date(pt_verr *v, const json_t *obj, const char *key, const char *pointer, bool required,
               int32_t *days)
{
    const json_t *val = field(v, obj, key, pointer, required);
    if (!val)
        return false;
    int32_t d;
    if (!json_is_string(val) || !pt_date_parse(json_string_value(val), &d)) {
        pt_verr_add(v, pointer, "must be a date (YYYY-MM-DD)");
        return false;
    }
    if (days)
        *days = d;
    return true;
}

bool pt_v_time(pt_verr *v, const json_t *obj, const char *key, const char *pointer, bool required,
               int64_t *epoch)
{
    const json_t *val = field(v, obj, key, pointer, required);
    if (!val)
        return false;
    int64_t t;
    if (!json_is_string(val) || !pt_time_parse(json_string_value(val), &t)) {
        pt_verr_add(v, pointer, "must be an RFC 3339 date-time");
        return false;
    }
    if (epoch)
        *epoch = t;
    return true;
}

bool pt_v_int(pt_verr *v, const json_t *obj, const char *key, const char *pointer, bool required,
              int64_t min, int64_t max, int64_t *out)
{
    const json_t *val = field(v, obj, key, pointer, required);
    if (!val)
        return false;
    if (!json_is_integer(val)) {
        pt_verr_add(v, pointer, "must be an integer");
        return false;
    }
    json_int_t n = json_integer_value(val);
    if (n < min || n > max) {
        pt_verr_add(v, pointer, "must be between %lld and %lld", (long long)min, (long long)max);
        return false;
    }
    if (out)
        *out = n;
    return true;
}

bool pt_v_bool(pt_verr *v, const json_t *obj, const char *key, const char *pointer, bool required,
               bool *out)
{
    const json_t *val = field(v, obj, key, pointer, required);
    if (!val)
        return false;
    if (!json_is_boolean(val)) {
        pt_verr_add(v, pointer, "must be true or false");
        return false;
    }
    if (out)
        *out = json_is_true(val);
    return true;
}

/* RFC 6901 escaping, so a key with '/' or '~' still yields a pointer that
 * names exactly that key. */
static void pointer_join(char *dst, size_t n, const char *prefix, const char *key)
{
    size_t o = 0;
    for (const char *p = prefix ? prefix : ""; *p && o + 1 < n; p++)
        dst[o++] = *p;
    if (o + 1 < n)
        dst[o++] = '/';
    for (const char *p = key; *p && o + 2 < n; p++) {
        if (*p == '~' || *p == '/') {
            dst[o++] = '~';
            dst[o++] = *p == '~' ? '0' : '1';
        } else {
            dst[o++] = *p;
        }
    }
    dst[o] = '\0';
}

void pt_v_no_unknown(pt_verr *v, const json_t *obj, const char *pointer_prefix,
                     const char *const *allowed)
{
    if (!json_is_object(obj))
        return;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        bool ok = false;
        for (const char *const *a = allowed; a && *a; a++)
            if (strcmp(*a, key) == 0) {
                ok = true;
                break;
            }
        if (!ok) {
            char ptr[512];
            pointer_join(ptr, sizeof(ptr), pointer_prefix, key);
            pt_verr_add(v, ptr, "is not a known field");
        }
    }
}

/* ---- pagination ------------------------------------------------------ */

/* A list is its request path within the caller's organisation: a cursor
 * from one list (or organisation) does not open on another.  NULL when the
 * app has no cursor secret (in-process fakes), so every cursor is refused. */
static const unsigned char *page_scope(const pt_req *req, pt_cursor_scope *s)
{
    const pt_app *app = pt_req_app(req);
    const pt_caller *c = pt_req_caller(req);
    memset(s, 0, sizeof(*s));
    s->org = c ? c->org : "";
    s->list = pt_req_path(req) ? pt_req_path(req) : "";
    s->prefix = "";
    return app && app->cursor_secret_set ? app->cursor_secret : NULL;
}

bool pt_page_from_query(pt_req *req, pt_res *res, pt_page *out)
{
    memset(out, 0, sizeof(*out));
    out->limit = 50;
    const char *limit = pt_req_query(req, "limit");
    if (limit) {
        bool digits = *limit && strlen(limit) <= 6;
        for (const char *p = limit; digits && *p; p++)
            digits = *p >= '0' && *p <= '9';
        unsigned long n = digits ? strtoul(limit, NULL, 10) : 0;
        if (!digits || n < 1 || n > 500) {
            pt_res_problem(res, 400, "bad_request", "limit must be an integer from 1 to 500");
            return false;
        }
        out->limit = (unsigned)n;
    }
    const char *cursor = pt_req_query(req, "cursor");
    if (cursor && *cursor) {
        pt_cursor_scope scope;
        const unsigned char *secret = page_scope(req, &scope);
        if (!secret || pt_cursor_open(out->after, sizeof(out->after), &out->after_len, secret,
                                      &scope, cursor) < 0) {
            memset(out->after, 0, sizeof(out->after));
            out->after_len = 0;
            pt_res_problem(res, 400, "bad_request", "cursor is not valid for this list");
            return false;
        }
    }
    return true;
}

json_t *pt_page_cursor(const pt_req *req, const void *key, size_t len)
{
    pt_cursor_scope scope;
    const unsigned char *secret = page_scope(req, &scope);
    json_t *out = NULL;
    if (!key || len == 0 || !secret)
        return json_null();
    return pt_cursor_seal(&out, secret, &scope, key, len) < 0 ? NULL : out;
}
