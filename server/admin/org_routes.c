/*
 * org_routes.c - organisations and their audit log, plus the pieces every
 * /orgs/{org}/... route shares: the access guard, error mapping and
 * cursor pagination.  People routes live in people_routes.c and import.c.
 */
#include "admin/people.h"
#include "base/tz.h"

#include "base/clock.h"
#include "http/cors.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT_BRANDING_URL_MAX 2048

/* ---- shared ------------------------------------------------------------ */

const pt_caller *pt_org_guard(pt_req *req, pt_res *res, const char *org, unsigned roles)
{
    const pt_caller *c = pt_req_caller(req);
    if (!c) {
        pt_res_problem(res, 401, "unauthorized", "authentication required");
        return NULL;
    }
    if (pt_caller_has(c, PT_ROLE_SYSTEM_ADMIN))
        return c;
    if (!org || strcmp(c->org, org) != 0) {
        pt_res_problem(res, 403, "forbidden", "not allowed for this organisation");
        return NULL;
    }
    if (roles && !pt_caller_has(c, roles)) {
        pt_res_problem(res, 403, "forbidden", "a role you do not hold is needed");
        return NULL;
    }
    return c;
}

void pt_org_answer_error(pt_res *res, int err, const char *what)
{
    if (err == PT_ENOTFOUND)
        pt_res_problem(res, 404, "not_found", "%s not found", what);
    else if (err == PT_EEXISTS)
        pt_res_problem(res, 409, "conflict", "%s already exists", what);
    else
        pt_res_error(res, err);
}

typedef struct list_ctx {
    pt_table table;
    const void *prefix;
    size_t plen;
    const pt_page *page;
    pt_list_map_fn map;
    void *map_ctx;
    json_t *items;
    bool more;
    char last[512];
    size_t last_len;
} list_ctx;

static json_t *list_item(list_ctx *l, const pt_val *val)
{
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    if (!rec)
        return NULL;
    json_t *item = l->map ? l->map(rec, l->map_ctx) : json_incref(rec);
    json_decref(rec);
    return item;
}

/*
 * One item past the page is looked for (and dropped) so that next_cursor
 * is null exactly when nothing follows, even when a filter skips records.
 */
static int list_scan_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    list_ctx *l = ctx;
    json_t *item = list_item(l, val);
    if (!item)
        return 0;
    if (json_array_size(l->items) >= l->page->limit) {
        json_decref(item);
        l->more = true;
        return PT_ESTOP;
    }
    json_array_append_new(l->items, item);
    if (key->len <= sizeof l->last) {
        memcpy(l->last, key->data, key->len);
        l->last_len = key->len;
    }
    return 0;
}

static int list_read(pt_txn *txn, void *ctx)
{
    list_ctx *l = ctx;
    json_array_clear(l->items);
    l->more = false;
    l->last_len = 0;
    return pt_txn_scan(txn, l->table, l->prefix, l->plen,
                       l->page->after_len ? l->page->after : NULL, l->page->after_len, false,
                       list_scan_cb, l);
}

bool pt_list_page(pt_req *req, pt_res *res, pt_table table, const void *prefix, size_t plen,
                  pt_list_map_fn map, void *map_ctx)
{
    pt_page page;
    if (!pt_page_from_query(req, res, &page))
        return false;
    if (page.after_len &&
        (page.after_len <= plen || (plen && memcmp(page.after, prefix, plen) != 0))) {
        pt_res_problem(res, 400, "bad_request", "cursor does not belong to this list");
        return false;
    }
    list_ctx l = {table, prefix, plen, &page, map, map_ctx, json_array(), false, {0}, 0};
    if (!l.items) {
        pt_res_error(res, PT_ENOMEM);
        return false;
    }
    int err = pt_store_read(pt_req_app(req)->store, list_read, &l);
    if (err < 0) {
        json_decref(l.items);
        pt_res_error(res, err);
        return false;
    }
    json_t *next = l.more && l.last_len ? pt_page_cursor(req, l.last, l.last_len) : json_null();
    pt_res_json(res, 200, json_pack("{s:o, s:o}", "items", l.items, "next_cursor", next));
    return true;
}

/* ---- organisation input ------------------------------------------------ */

/* "#RRGGBB": what a page can put straight into a CSS colour, nothing more. */
static bool branding_colour_valid(const json_t *val)
{
    const char *s = json_string_value(val);
    if (!s || strlen(s) != 7 || s[0] != '#')
        return false;
    for (int i = 1; i < 7; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* An https URL of printable ASCII without quotes, angle brackets,
 * backslashes or spaces, and a host: safe to put in an <img src>. */
static bool branding_url_valid(const json_t *val)
{
    const char *s = json_string_value(val);
    size_t n = s ? strlen(s) : 0;
    if (n < 9 || n > PT_BRANDING_URL_MAX || strncmp(s, "https://", 8) != 0 || s[8] == '/')
        return false;
    for (const char *p = s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"'<>\\`{}|^", *p))
            return false;
    return true;
}

/*
 * settings.branding is shown to every member on every dashboard (a page
 * sets its colour and logo from it), so it holds only the keys the
 * document lists, each checked: primary_colour and secondary_colour
 * "#RRGGBB", logo_url an https URL.  Adds every bad key to v; true when
 * there was none.
 */
static bool branding_valid(pt_verr *v, const json_t *val)
{
    bool ok = true;
    if (!json_is_object(val)) {
        pt_verr_add(v, "/settings/branding", "must be an object or null");
        return false;
    }
    const char *key;
    json_t *it;
    json_object_foreach((json_t *)val, key, it)
    {
        bool colour = strcmp(key, "primary_colour") == 0 || strcmp(key, "secondary_colour") == 0;
        if (colour && !branding_colour_valid(it)) {
            pt_verr_add(v,
                        key[0] == 'p' ? "/settings/branding/primary_colour"
                                      : "/settings/branding/secondary_colour",
                        "must be a colour #RRGGBB");
            ok = false;
        } else if (strcmp(key, "logo_url") == 0 && !branding_url_valid(it)) {
            pt_verr_add(v, "/settings/branding/logo_url",
                        "must be an https URL of at most %d characters", PT_BRANDING_URL_MAX);
            ok = false;
        } else if (!colour && strcmp(key, "logo_url") != 0) {
            ok = false; /* reported by pt_v_no_unknown below */
        }
    }
    static const char *const allowed[] = {"primary_colour", "secondary_colour", "logo_url", NULL};
    pt_v_no_unknown(v, val, "/settings/branding", allowed);
    return ok;
}

/*
 * Validates a settings object and merges it key by key into `into` (the
 * stored settings), so PATCH {"settings":{"notices":[]}} leaves the leaver
 * period alone.  null clears branding and notices.
 */
static void org_settings_merge(pt_verr *v, const json_t *in, json_t *into)
{
    const char *key;
    json_t *val;
    if (!json_is_object(in)) {
        pt_verr_add(v, "/settings", "must be an object");
        return;
    }
    json_object_foreach((json_t *)in, key, val)
    {
        if (strcmp(key, "leaver_access_days") == 0) {
            if (!json_is_integer(val) || json_integer_value(val) < 0 ||
                json_integer_value(val) > PT_LEAVER_ACCESS_DAYS_MAX)
                pt_verr_add(v, "/settings/leaver_access_days", "must be an integer 0 to %d",
                            PT_LEAVER_ACCESS_DAYS_MAX);
            else
                json_object_set(into, key, val);
        } else if (strcmp(key, "time_zone") == 0) {
            /* Only names of zones this host's tzdata knows, so every
             * stored zone can be read back when dates are computed. */
            if (!json_is_string(val) || !pt_tz_valid(json_string_value(val)))
                pt_verr_add(v, "/settings/time_zone",
                            "must be an IANA time zone name such as Europe/London");
            else
                json_object_set(into, key, val);
        } else if (strcmp(key, "branding") == 0) {
            if (json_is_null(val))
                json_object_set_new(into, key, json_object());
            else if (branding_valid(v, val))
                json_object_set_new(into, key, json_deep_copy(val));
        } else if (strcmp(key, "cors_origins") == 0) {
            size_t i;
            json_t *it;
            bool ok = (json_is_array(val) && json_array_size(val) <= PT_CORS_MAX_ORIGINS) ||
                      json_is_null(val);
            json_array_foreach(val, i, it)
            {
                if (!json_is_string(it) || !pt_cors_origin_valid(json_string_value(it)))
                    ok = false;
            }
            if (!ok)
                pt_verr_add(v, "/settings/cors_origins",
                            "must be an array of at most %d origins like https://host or "
                            "https://host:port (lower case, no path)",
                            PT_CORS_MAX_ORIGINS);
            else if (json_is_null(val))
                json_object_set_new(into, key, json_array());
            else
                json_object_set_new(into, key, json_deep_copy(val));
        } else if (strcmp(key, "notices") == 0) {
            size_t i;
            json_t *it;
            bool ok = json_is_array(val) || json_is_null(val);
            json_array_foreach(val, i, it)
            {
                if (!json_is_string(it) || json_string_length(it) < 1 ||
                    json_string_length(it) > 2000)
                    ok = false;
            }
            if (!ok)
                pt_verr_add(v, "/settings/notices", "must be an array of strings (1 to 2000)");
            else if (json_is_null(val))
                json_object_set_new(into, key, json_array());
            else
                json_object_set_new(into, key, json_deep_copy(val));
        } else {
            char p[128];
            snprintf(p, sizeof p, "/settings/%s", key);
            pt_verr_add(v, p, "unknown field");
        }
    }
}

static void org_name_check(pt_verr *v, const json_t *body, bool required, const char **out)
{
    json_t *n = json_object_get(body, "name");
    *out = NULL;
    if (!n) {
        if (required)
            pt_verr_add(v, "/name", "is required");
        return;
    }
    if (!json_is_string(n) || json_string_length(n) < 1 || json_string_length(n) > 200 ||
        strlen(json_string_value(n)) != json_string_length(n))
        pt_verr_add(v, "/name", "must be a string of 1 to 200 characters");
    else
        *out = json_string_value(n);
}

/* ---- POST /api/v1/orgs ------------------------------------------------- */

typedef struct org_write {
    const json_t *tmpl; /* the validated record (create) or request (update) */
    const char *id;
    const char *actor;
    json_t *result;
} org_write;

static int org_create_txn(pt_txn *txn, void *ctx)
{
    org_write *w = ctx;
    char now[32];
    json_decref(w->result);
    w->result = json_deep_copy(w->tmpl);
    if (!w->result)
        return PT_ENOMEM;
    pt_time_format(now, pt_clock_now());
    json_object_set_new(w->result, "created_at", json_string(now));
    json_object_set_new(w->result, "updated_at", json_string(now));
    char *text = json_dumps(w->result, JSON_COMPACT);
    if (!text)
        return PT_ENOMEM;
    int err = pt_txn_insert(txn, PT_T_ORGS, w->id, strlen(w->id), text, strlen(text));
    free(text);
    if (err == 0)
        err = pt_orgs_gen_bump(txn);
    if (err < 0)
        return err;
    return pt_audit_append(txn, w->id, w->actor, "org.create", w->id, NULL, w->result);
}

static void orgs_create(pt_req *req, pt_res *res, void *ud)
{
    static const char *const allowed[] = {"id", "name", "settings", NULL};
    (void)ud;
    const pt_caller *c = pt_req_caller(req);
    if (!pt_caller_has(c, PT_ROLE_SYSTEM_ADMIN)) {
        pt_res_problem(res, 403, "forbidden", "only a system administrator creates organisations");
        return;
    }
    json_t *body;
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    pt_verr *v = pt_verr_new();
    pt_v_no_unknown(v, body, "", allowed);
    json_t *idj = json_object_get(body, "id");
    const char *id = json_string_value(idj);
    if (!idj)
        pt_verr_add(v, "/id", "is required");
    else if (!id || !pt_slug_valid(id))
        pt_verr_add(v, "/id",
                    "must be a slug: 1 to 64 of a-z 0-9 . _ - starting with a letter or "
                    "digit");
    const char *name;
    org_name_check(v, body, true, &name);
    json_t *settings =
        json_pack("{s:i, s:s, s:{}, s:[]}", "leaver_access_days", PT_LEAVER_ACCESS_DAYS_DEFAULT,
                  "time_zone", PT_TZ_DEFAULT, "branding", "notices");
    if (json_object_get(body, "settings"))
        org_settings_merge(v, json_object_get(body, "settings"), settings);
    if (pt_verr_any(v)) {
        pt_res_validation(res, pt_verr_take(v));
        goto done;
    }
    json_t *tmpl = json_pack("{s:s, s:s, s:O}", "id", id, "name", name, "settings", settings);
    org_write w = {tmpl, id, c->username, NULL};
    int err = pt_store_write(pt_req_app(req)->store, org_create_txn, &w);
    json_decref(tmpl);
    if (err < 0) {
        json_decref(w.result);
        pt_org_answer_error(res, err, "organisation");
        goto done;
    }
    pt_cors_reload(pt_req_app(req)->cors, pt_req_app(req)->store);
    char loc[128];
    snprintf(loc, sizeof loc, "/api/v1/orgs/%s", id);
    pt_res_header(res, "Location", loc);
    pt_res_json(res, 201, w.result);
done:
    json_decref(settings);
    pt_verr_free(v);
    json_decref(body);
}

/* ---- GET /api/v1/orgs, GET /api/v1/orgs/{org} -------------------------- */

/* Organisations stored before time zones existed show the zone they are
 * treated as being in.  Returns org (the same reference). */
static json_t *org_out(json_t *org)
{
    json_t *s = json_object_get(org, "settings");
    if (json_is_object(s) && !json_object_get(s, "time_zone"))
        json_object_set_new(s, "time_zone", json_string(PT_TZ_DEFAULT));
    return org;
}

static json_t *org_list_map(const json_t *rec, void *ctx)
{
    (void)ctx;
    return org_out(json_deep_copy(rec));
}

typedef struct org_read {
    const char *id;
    json_t *org;
} org_read;

/* r->org is the caller's own copy: org_out() adds to it, and what the
 * store hands to a reader is shared (pt_txn_get_json). */
static int org_read_txn(pt_txn *txn, void *ctx)
{
    org_read *r = ctx;
    json_t *rec = NULL;
    json_decref(r->org);
    r->org = NULL;
    int err = pt_org_get(&rec, txn, r->id);
    if (err == 0 && !(r->org = json_deep_copy(rec)))
        err = PT_ENOMEM;
    json_decref(rec);
    return err;
}

static void orgs_list(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const pt_caller *c = pt_req_caller(req);
    if (!c) {
        pt_res_problem(res, 401, "unauthorized", "authentication required");
        return;
    }
    if (pt_caller_has(c, PT_ROLE_SYSTEM_ADMIN)) {
        pt_list_page(req, res, PT_T_ORGS, "", 0, org_list_map, NULL);
        return;
    }
    pt_page page;
    if (!pt_page_from_query(req, res, &page))
        return;
    org_read r = {c->org, NULL};
    json_t *items = json_array();
    int err = c->org[0] ? pt_store_read(pt_req_app(req)->store, org_read_txn, &r) : PT_ENOTFOUND;
    if (err == 0 && !page.after_len)
        json_array_append_new(items, org_out(r.org));
    else
        json_decref(r.org);
    if (err < 0 && err != PT_ENOTFOUND) {
        json_decref(items);
        pt_res_error(res, err);
        return;
    }
    pt_res_json(res, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

static void orgs_get(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const char *id = pt_req_param(req, "org");
    if (!pt_org_guard(req, res, id, 0))
        return;
    org_read r = {id, NULL};
    int err = pt_store_read(pt_req_app(req)->store, org_read_txn, &r);
    if (err < 0) {
        pt_org_answer_error(res, err, "organisation");
        return;
    }
    pt_res_json(res, 200, org_out(r.org));
}

/* ---- PATCH /api/v1/orgs/{org} ------------------------------------------ */

typedef struct org_patch {
    const char *id;
    const char *actor;
    const char *name;          /* new name or NULL */
    const json_t *settings_in; /* validated request settings or NULL */
    json_t *result;
} org_patch;

static int org_patch_txn(pt_txn *txn, void *ctx)
{
    org_patch *p = ctx;
    json_t *before = NULL;
    char now[32];
    json_decref(p->result);
    p->result = NULL;
    int err = pt_org_get(&before, txn, p->id);
    if (err < 0)
        return err;
    p->result = json_deep_copy(before);
    if (p->name)
        json_object_set_new(p->result, "name", json_string(p->name));
    if (p->settings_in) {
        json_t *s = json_object_get(p->result, "settings");
        if (!json_is_object(s)) {
            s = json_object();
            json_object_set_new(p->result, "settings", s);
        }
        pt_verr *v = pt_verr_new();
        org_settings_merge(v, p->settings_in, s); /* already validated: no errors */
        pt_verr_free(v);
    }
    pt_time_format(now, pt_clock_now());
    json_object_set_new(p->result, "updated_at", json_string(now));
    if ((err = pt_org_put(txn, p->result)) == 0)
        err = pt_audit_append(txn, p->id, p->actor, "org.update", p->id, before, p->result);
    json_decref(before);
    return err;
}

static void orgs_patch(pt_req *req, pt_res *res, void *ud)
{
    static const char *const allowed[] = {"name", "settings", NULL};
    (void)ud;
    const char *id = pt_req_param(req, "org");
    const pt_caller *c = pt_org_guard(req, res, id, PT_ROLE_PORTAL_ADMIN);
    if (!c)
        return;
    json_t *body;
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    pt_verr *v = pt_verr_new();
    pt_v_no_unknown(v, body, "", allowed);
    const char *name;
    org_name_check(v, body, false, &name);
    if (json_is_null(json_object_get(body, "name")))
        name = NULL; /* reported by org_name_check */
    const json_t *settings = json_object_get(body, "settings");
    if (settings) {
        json_t *scratch = json_object();
        org_settings_merge(v, settings, scratch);
        json_decref(scratch);
    }
    if (pt_verr_any(v)) {
        pt_res_validation(res, pt_verr_take(v));
    } else {
        org_patch p = {id, c->username, name, settings, NULL};
        int err = pt_store_write(pt_req_app(req)->store, org_patch_txn, &p);
        if (err < 0) {
            json_decref(p.result);
            pt_org_answer_error(res, err, "organisation");
        } else {
            pt_cors_reload(pt_req_app(req)->cors, pt_req_app(req)->store);
            pt_res_json(res, 200, org_out(p.result));
        }
    }
    pt_verr_free(v);
    json_decref(body);
}

/* ---- GET /api/v1/orgs/{org}/audit -------------------------------------- */

static void audit_list(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const char *id = pt_req_param(req, "org");
    if (!pt_org_guard(req, res, id, PT_ROLE_PORTAL_ADMIN))
        return;
    org_read r = {id, NULL};
    int err = pt_store_read(pt_req_app(req)->store, org_read_txn, &r);
    json_decref(r.org);
    if (err < 0) {
        pt_org_answer_error(res, err, "organisation");
        return;
    }
    pt_key k;
    if (pt_key_build(&k, id, NULL) < 0 || pt_key_as_prefix(&k) < 0) {
        pt_res_problem(res, 404, "not_found", "organisation not found");
        return;
    }
    pt_list_page(req, res, PT_T_AUDIT, k.buf, k.len, NULL, NULL);
}

/* ---- registration ------------------------------------------------------ */

int pt_routes_orgs(pt_app *app)
{
    static const struct {
        const char *method, *pattern;
        pt_handler_fn fn;
    } routes[] = {
        {"POST", "/api/v1/orgs", orgs_create},
        {"GET", "/api/v1/orgs", orgs_list},
        {"GET", "/api/v1/orgs/{org}", orgs_get},
        {"PATCH", "/api/v1/orgs/{org}", orgs_patch},
        {"POST", "/api/v1/orgs/{org}/people", pt_people_create},
        {"GET", "/api/v1/orgs/{org}/people", pt_people_list},
        {"POST", "/api/v1/orgs/{org}/people/import", pt_people_import},
        {"GET", "/api/v1/orgs/{org}/people/{username}", pt_people_get},
        {"PATCH", "/api/v1/orgs/{org}/people/{username}", pt_people_patch},
        {"DELETE", "/api/v1/orgs/{org}/people/{username}/mfa", pt_people_mfa_reset},
        {"GET", "/api/v1/orgs/{org}/audit", audit_list},
        {"GET", "/api/v1/me", pt_me_get},
        {"PATCH", "/api/v1/me", pt_me_patch},
        {"POST", "/api/v1/orgs/{org}/invitations", pt_invitation_create},
        {"POST", "/api/v1/me/invitations/{org}/accept", pt_invitation_accept},
        {"POST", "/api/v1/me/invitations/{org}/decline", pt_invitation_decline},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(routes); i++) {
        /* GET /me reads in the snapshot authentication used. */
        unsigned flags = routes[i].fn == pt_me_get ? PT_ROUTE_SNAPSHOT : 0;
        int err = pt_router_add(app->router, routes[i].method, routes[i].pattern, flags,
                                routes[i].fn, app);
        if (err < 0)
            return err;
    }
    return 0;
}
