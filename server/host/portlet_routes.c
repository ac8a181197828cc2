/*
 * portlet_routes.c - the platform's own routes: the portlet catalogue,
 * per-organisation enablement/placement/config, and one-call dashboards.
 */
#include "host/plugins.h"

#include "admin/people.h"
#include "base/clock.h"
#include "base/log.h"
#include "store/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const dashboard_names[] = {"employee", "leaver", "applicant", NULL};

static bool dashboard_valid(const char *d)
{
    for (size_t i = 0; dashboard_names[i]; i++)
        if (d && strcmp(d, dashboard_names[i]) == 0)
            return true;
    return false;
}

static json_t *dashboards_json(const portico_portlet *d)
{
    json_t *a = json_array();
    if (a && d->dashboards)
        for (const char *const *b = d->dashboards; *b; b++)
            json_array_append_new(a, json_string(*b));
    return a;
}

/* ---- GET /api/v1/portlets --------------------------------------------------- */

static json_t *catalogue_item(const pt_portlet *p)
{
    const portico_portlet *d = pt_portlet_desc(p);
    json_t *routes = json_array();
    for (size_t i = 0; routes && i < d->route_count; i++) {
        const portico_route *r = pt_portlet_route_at(p, i);
        json_array_append_new(routes, json_pack("{s:s, s:s, s:o}", "method", r->method, "path",
                                                r->path, "roles", pt_roles_to_json(r->roles)));
    }
    char abi[16];
    snprintf(abi, sizeof(abi), "%u.%u", (unsigned)d->abi_major, (unsigned)d->abi_minor);
    /* A copy, not a shared reference: the compiled schema is read by many
     * request threads and stays untouched. */
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", d->id, "name", d->name,
                     "version", d->version, "abi", abi, "description",
                     d->description ? d->description : "", "dashboards", dashboards_json(d),
                     "config_schema", json_deep_copy(pt_schema_json(pt_portlet_schema(p))),
                     "routes", routes);
}

static void catalogue_get(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    const pt_caller *c = pt_req_caller(req);
    if (!c) {
        pt_res_problem(res, 401, "unauthorized", "a bearer token is required");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < pt_plugins_count(app->plugins); i++)
        json_array_append_new(items, catalogue_item(pt_plugins_at(app->plugins, i)));
    json_t *body = json_pack("{s:o}", "items", items);
    if (body && pt_caller_has(c, PT_ROLE_SYSTEM_ADMIN)) {
        json_t *refused = json_array();
        for (size_t i = 0; refused && i < pt_plugins_refused_count(app->plugins); i++) {
            const char *file, *id, *reason;
            pt_plugins_refused_at(app->plugins, i, &file, &id, &reason);
            json_t *r = json_pack("{s:s, s:s}", "file", file, "reason", reason);
            if (r)
                json_object_set_new(r, "id", id ? json_string(id) : json_null());
            json_array_append_new(refused, r);
        }
        json_object_set_new(body, "refused", refused);
    }
    if (!body) {
        pt_res_error(res, PT_ENOMEM);
        return;
    }
    pt_res_json(res, 200, body);
}

/* ---- per-organisation records ------------------------------------------------- */

/* The API view of an org's settings for one portlet (defaults when none). */
static json_t *org_item(const pt_portlet *p, const json_t *rec)
{
    const portico_portlet *d = pt_portlet_desc(p);
    json_t *pl = json_object_get(rec, "placements");
    json_t *cfg = json_object_get(rec, "config");
    json_t *upd = json_object_get(rec, "updated_at");
    json_t *o = json_pack("{s:s, s:s, s:b}", "id", d->id, "name", d->name, "enabled",
                          json_is_true(json_object_get(rec, "enabled")));
    if (!o)
        return NULL;
    json_object_set_new(o, "placements", json_is_array(pl) ? json_deep_copy(pl) : json_array());
    json_object_set_new(o, "config", json_is_object(cfg) ? json_deep_copy(cfg) : json_object());
    json_object_set_new(o, "updated_at", json_is_string(upd) ? json_deep_copy(upd) : json_null());
    return o;
}

typedef struct org_list {
    const char *org;
    const pt_plugins *pl;
    json_t *items;
} org_list;

static int org_list_txn(pt_txn *txn, void *arg)
{
    org_list *l = arg;
    json_t *org = NULL;
    json_decref(l->items);
    l->items = json_array();
    if (!l->items)
        return PT_ENOMEM;
    int err = pt_org_get(&org, txn, l->org);
    if (err < 0)
        return err;
    json_decref(org);
    for (size_t i = 0; i < pt_plugins_count(l->pl); i++) {
        const pt_portlet *p = pt_plugins_at(l->pl, i);
        pt_key k;
        json_t *rec = NULL;
        if ((err = pt_portlet_conf_key(&k, l->org, pt_portlet_desc(p)->id)) < 0)
            return err;
        err = pt_txn_get_json(txn, PT_T_PORTLET_CONF, k.buf, k.len, &rec);
        if (err < 0 && err != PT_ENOTFOUND)
            return err;
        json_array_append_new(l->items, org_item(p, rec));
        json_decref(rec);
    }
    return 0;
}

/* Shared by the GET route and the CLI's `portlet list`, so both show the
 * same items. */
int pt_portlet_org_list(json_t **items, pt_app *app, const char *org)
{
    org_list l = {org, app->plugins, NULL};
    *items = NULL;
    int err = pt_store_read(app->store, org_list_txn, &l);
    if (err < 0) {
        json_decref(l.items);
        return err;
    }
    *items = l.items;
    return 0;
}

static void org_portlets_get(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    const char *org = pt_req_param(req, "org");
    if (!pt_org_guard(req, res, org, PT_ROLE_PORTAL_ADMIN))
        return;
    json_t *items = NULL;
    int err = pt_portlet_org_list(&items, app, org);
    if (err < 0) {
        pt_org_answer_error(res, err, "organisation");
        return;
    }
    pt_res_json(res, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

/* ---- PUT /api/v1/orgs/{org}/portlets/{id} ---------------------------------------- */

/*
 * Checks the request against the portlet: placements only on dashboards
 * the portlet declares, once per dashboard, positions from 1; config by
 * the portlet's schema.  Every problem is reported with its pointer.
 */
static json_t *put_validate(const pt_portlet *p, const json_t *body, bool *enabled,
                            const json_t **placements, const json_t **config)
{
    static const char *const allowed[] = {"enabled", "placements", "config", NULL};
    static const char *const pl_allowed[] = {"dashboard", "position", NULL};
    pt_verr *v = pt_verr_new();
    if (!v)
        return NULL;
    pt_v_no_unknown(v, body, "", allowed);
    pt_v_bool(v, body, "enabled", "/enabled", true, enabled);

    *placements = json_object_get(body, "placements");
    if (*placements && !json_is_array(*placements)) {
        pt_verr_add(v, "/placements", "must be an array");
        *placements = NULL;
    }
    size_t i;
    const json_t *it;
    json_array_foreach(*placements, i, it)
    {
        char ptr[64];
        snprintf(ptr, sizeof(ptr), "/placements/%zu", i);
        if (!json_is_object(it)) {
            pt_verr_add(v, ptr, "must be an object");
            continue;
        }
        pt_v_no_unknown(v, it, ptr, pl_allowed);
        char dptr[80], pptr[80];
        snprintf(dptr, sizeof(dptr), "%s/dashboard", ptr);
        snprintf(pptr, sizeof(pptr), "%s/position", ptr);
        const char *dash = pt_v_string(v, it, "dashboard", dptr, true, 1, 64);
        int64_t pos;
        pt_v_int(v, it, "position", pptr, true, 1, 1000000, &pos);
        if (!dash)
            continue;
        if (!pt_portlet_has_dashboard(p, dash)) {
            pt_verr_add(v, dptr, "%s is not a dashboard this portlet can appear on",
                        dashboard_valid(dash) ? dash : "this");
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            const char *other =
                json_string_value(json_object_get(json_array_get(*placements, j), "dashboard"));
            if (other && strcmp(other, dash) == 0) {
                pt_verr_add(v, dptr, "the portlet is already placed on %s", dash);
                break;
            }
        }
    }

    *config = json_object_get(body, "config");
    json_t *errors = pt_verr_take(v);
    pt_verr_free(v);
    if (*config && !json_is_object(*config)) {
        json_array_append_new(
            errors, json_pack("{s:s, s:s}", "pointer", "/config", "message", "must be an object"));
        *config = NULL;
    } else if (*config) {
        size_t before = json_array_size(errors);
        if (pt_schema_validate(pt_portlet_schema(p), *config, "/config", errors) &&
            json_array_size(errors) == before)
            pt_portlet_check_config(p, *config, "/config", errors);
    }
    return errors;
}

typedef struct put_ctx {
    const char *org;
    const char *actor;
    const pt_portlet *p;
    bool enabled;
    const json_t *placements; /* NULL: keep */
    const json_t *config;     /* NULL: keep */
    json_t *after;            /* the stored record */
    json_t *errors;           /* a kept config that cannot be enabled */
} put_ctx;

/*
 * Switching a portlet on with the config it already has (or {} if it was
 * never configured) must not enable something its own schema refuses:
 * flu-countdown without dates, or a config stored before the portlet's
 * rules changed.  A config sent in the body was checked already.
 */
static json_t *kept_config_errors(const pt_portlet *p, const json_t *cfg)
{
    json_t *empty = cfg ? NULL : json_object();
    const json_t *check = cfg ? cfg : empty;
    json_t *errs = json_array();
    if (errs && pt_schema_validate(pt_portlet_schema(p), check, "/config", errs))
        pt_portlet_check_config(p, check, "/config", errs);
    json_decref(empty);
    if (errs && json_array_size(errs) == 0) {
        json_decref(errs);
        return NULL;
    }
    return errs;
}

static int put_txn(pt_txn *txn, void *arg)
{
    put_ctx *c = arg;
    const char *id = pt_portlet_desc(c->p)->id;
    json_t *org = NULL, *before = NULL;
    pt_key k;
    char now[32];

    json_decref(c->after); /* the callback may re-run */
    c->after = NULL;
    int err = pt_org_get(&org, txn, c->org);
    if (err < 0)
        return err;
    json_decref(org);
    if ((err = pt_portlet_conf_key(&k, c->org, id)) < 0)
        return err;
    err = pt_txn_get_json(txn, PT_T_PORTLET_CONF, k.buf, k.len, &before);
    if (err < 0 && err != PT_ENOTFOUND)
        return err;

    const json_t *old_pl = json_object_get(before, "placements");
    const json_t *old_cfg = json_object_get(before, "config");
    const json_t *pl = c->placements ? c->placements : json_is_array(old_pl) ? old_pl : NULL;
    const json_t *cfg = c->config ? c->config : json_is_object(old_cfg) ? old_cfg : NULL;
    json_decref(c->errors);
    c->errors = NULL;
    if (c->enabled && !c->config && (c->errors = kept_config_errors(c->p, cfg)) != NULL) {
        json_decref(before);
        return PT_EINVAL;
    }
    pt_time_format(now, pt_clock_now());
    c->after = json_pack("{s:b, s:o, s:o, s:s}", "enabled", c->enabled, "placements",
                         pl ? json_deep_copy(pl) : json_array(), "config",
                         cfg ? json_deep_copy(cfg) : json_object(), "updated_at", now);
    if (!c->after) {
        json_decref(before);
        return PT_ENOMEM;
    }
    err = pt_txn_put_json(txn, PT_T_PORTLET_CONF, k.buf, k.len, c->after);
    if (err == 0)
        err = pt_audit_append(txn, c->org, c->actor, "portlet.configure", id, before, c->after);
    json_decref(before);
    return err;
}

typedef struct conf_read {
    const char *org;
    const char *id;
    bool exists;
} conf_read;

static int conf_read_txn(pt_txn *txn, void *arg)
{
    conf_read *c = arg;
    pt_key k;
    pt_val v;
    int err = pt_portlet_conf_key(&k, c->org, c->id);
    if (err < 0)
        return err;
    err = pt_txn_get(txn, PT_T_PORTLET_CONF, k.buf, k.len, &v);
    c->exists = err == 0;
    return err == PT_ENOTFOUND ? 0 : err;
}

int pt_portlet_conf_exists(bool *out, pt_app *app, const char *org, const char *portlet_id)
{
    conf_read cr = {org, portlet_id, false};
    int err = pt_store_read(app->store, conf_read_txn, &cr);
    *out = cr.exists;
    return err;
}

/*
 * One path for every change of an org's portlet setting, so the HTTP PUT
 * and the demo loader validate, store and audit the same way.
 */
int pt_portlet_configure(json_t **stored, json_t **errors, pt_app *app, const char *org,
                         const char *actor, const pt_portlet *p, const json_t *body)
{
    *stored = NULL;
    *errors = NULL;
    put_ctx pc = {org, actor, p, false, NULL, NULL, NULL, NULL};
    json_t *errs = put_validate(p, body, &pc.enabled, &pc.placements, &pc.config);
    if (!errs)
        return PT_ENOMEM;
    if (json_array_size(errs) > 0) {
        *errors = errs;
        return PT_EINVAL;
    }
    json_decref(errs);
    int err = pt_store_write(app->store, put_txn, &pc);
    if (err == PT_EINVAL && pc.errors) {
        *errors = pc.errors;
        return PT_EINVAL;
    }
    json_decref(pc.errors);
    if (err < 0) {
        json_decref(pc.after);
        return err;
    }
    pt_log_info("portlets", "%s configured %s in %s (enabled %s)", actor, pt_portlet_desc(p)->id,
                org, pc.enabled ? "yes" : "no");
    *stored = pc.after;
    return 0;
}

static void org_portlet_put(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    const char *org = pt_req_param(req, "org");
    const pt_caller *c = pt_org_guard(req, res, org, PT_ROLE_PORTAL_ADMIN);
    if (!c)
        return;
    const pt_portlet *p = pt_plugins_find(app->plugins, pt_req_param(req, "id"));
    if (!p) {
        pt_res_problem(res, 404, "not_found", "no such portlet");
        return;
    }
    json_t *body = NULL;
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    json_t *stored = NULL, *errors = NULL;
    int err = pt_portlet_configure(&stored, &errors, app, org, c->username, p, body);
    json_decref(body);
    if (err == PT_EINVAL && errors) {
        pt_res_validation(res, errors);
        return;
    }
    if (err < 0) {
        pt_org_answer_error(res, err, "organisation");
        return;
    }
    json_t *item = org_item(p, stored);
    json_decref(stored);
    if (!item) {
        pt_res_error(res, PT_ENOMEM);
        return;
    }
    pt_res_json(res, 200, item);
}

/* ---- GET /api/v1/dashboards/{dashboard} -------------------------------------------- */

typedef struct card {
    const pt_portlet *p;
    int64_t position;
    json_t *config;
} card;

typedef struct dash_ctx {
    pt_app *app;
    const pt_caller *caller;
    const char *org;
    const char *username;
    const char *dashboard;
    json_t *org_rec;
    json_t *person;
    card *cards;
    size_t ncards;
    json_t *out_cards;   /* the rendered cards */
    json_t *out_notices; /* org notices, then the portlets' */
    int32_t today;       /* the org's local date, read once */
} dash_ctx;

static void dash_reset(dash_ctx *d)
{
    json_decref(d->org_rec);
    json_decref(d->person);
    for (size_t i = 0; i < d->ncards; i++)
        json_decref(d->cards[i].config);
    free(d->cards);
    json_decref(d->out_cards);
    json_decref(d->out_notices);
    d->org_rec = d->person = d->out_cards = d->out_notices = NULL;
    d->cards = NULL;
    d->ncards = 0;
}

/* The position of the placement on this dashboard, or 0 if none. */
static int64_t placement_on(const json_t *rec, const char *dashboard)
{
    size_t i;
    const json_t *it;
    json_array_foreach(json_object_get(rec, "placements"), i, it)
    {
        const char *d = json_string_value(json_object_get(it, "dashboard"));
        const json_t *pos = json_object_get(it, "position");
        if (d && strcmp(d, dashboard) == 0 && json_is_integer(pos))
            return json_integer_value(pos);
    }
    return 0;
}

static int dash_load(pt_txn *txn, dash_ctx *d)
{
    dash_reset(d);
    int err = pt_org_get(&d->org_rec, txn, d->org);
    if (err < 0)
        return err;
    json_t *rec = NULL;
    d->today = pt_org_today(d->org_rec, pt_clock_now());
    if (pt_person_get(&rec, txn, d->org, d->username) == 0) {
        d->person = pt_person_view(rec, pt_org_leaver_days(d->org_rec), d->today);
        json_decref(rec);
    }
    size_t n = pt_plugins_count(d->app->plugins);
    d->cards = calloc(n ? n : 1, sizeof(*d->cards));
    if (!d->cards)
        return PT_ENOMEM;
    /* One read of the organisation's settings for every portlet, not one
     * per portlet (each is a round trip on PostgreSQL). */
    pt_key pre;
    if ((err = pt_key_build(&pre, d->org, NULL)) < 0 || (err = pt_key_as_prefix(&pre)) < 0 ||
        (err = pt_txn_prefetch(txn, PT_T_PORTLET_CONF, pre.buf, pre.len)) < 0)
        return err;
    for (size_t i = 0; i < n; i++) {
        const pt_portlet *p = pt_plugins_at(d->app->plugins, i);
        pt_key k;
        json_t *conf = NULL;
        if ((err = pt_portlet_conf_key(&k, d->org, pt_portlet_desc(p)->id)) < 0)
            return err;
        err = pt_txn_get_json(txn, PT_T_PORTLET_CONF, k.buf, k.len, &conf);
        if (err == PT_ENOTFOUND)
            continue;
        if (err < 0)
            return err;
        int64_t pos = placement_on(conf, d->dashboard);
        if (!pt_portlet_has_dashboard(p, d->dashboard))
            pos = 0; /* still asked for notices */
        if (json_is_true(json_object_get(conf, "enabled"))) {
            json_t *cfg = json_object_get(conf, "config");
            d->cards[d->ncards].p = p;
            d->cards[d->ncards].position = pos;
            d->cards[d->ncards].config = json_is_object(cfg) ? json_incref(cfg) : json_object();
            d->ncards++;
        }
        json_decref(conf);
    }
    return 0;
}

static int card_cmp(const void *a, const void *b)
{
    const card *x = a, *y = b;
    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    return strcmp(pt_portlet_desc(x->p)->id, pt_portlet_desc(y->p)->id);
}

static pt_status dashboard_status(const char *d)
{
    if (strcmp(d, "employee") == 0)
        return PT_STATUS_EMPLOYEE;
    if (strcmp(d, "leaver") == 0)
        return PT_STATUS_LEAVER;
    return PT_STATUS_APPLICANT;
}

/* Org notices (strings, or {code?, text} objects) as {code?, text}. */
static json_t *notices_json(const json_t *org_rec)
{
    json_t *out = json_array();
    size_t i;
    const json_t *it;
    if (!out)
        return NULL;
    json_array_foreach(json_object_get(json_object_get(org_rec, "settings"), "notices"), i, it)
    {
        if (json_is_string(it)) {
            json_array_append_new(out, json_pack("{s:O}", "text", it));
        } else if (json_is_object(it) && json_is_string(json_object_get(it, "text"))) {
            json_t *n = json_pack("{s:O}", "text", json_object_get(it, "text"));
            const json_t *code = json_object_get(it, "code");
            if (n && json_is_string(code))
                json_object_set(n, "code", (json_t *)code);
            json_array_append_new(out, n);
        }
    }
    return out;
}

/*
 * One snapshot for the whole dashboard: the org, the caller's person, the
 * portlet settings, and every card and notice the portlets add, read in
 * this one transaction.  The core's own notices come from the org; what a
 * portlet knows (a leaver's pay documents) it says through notices().
 */
static int dash_txn(pt_txn *txn, void *arg)
{
    dash_ctx *d = arg;
    int err = dash_load(txn, d);
    if (err < 0)
        return err;
    qsort(d->cards, d->ncards, sizeof(*d->cards), card_cmp);
    d->out_cards = json_array();
    d->out_notices = notices_json(d->org_rec);
    if (!d->out_cards || !d->out_notices)
        return PT_ENOMEM;
    for (size_t i = 0; i < d->ncards; i++) {
        const portico_portlet *desc = pt_portlet_desc(d->cards[i].p);
        json_t *summary = NULL;
        pt_portlet_dashboard(&summary, d->app, txn, d->today, d->cards[i].p, d->caller, d->person,
                             d->cards[i].config, d->dashboard, d->cards[i].position > 0,
                             d->out_notices);
        if (!summary)
            continue; /* hidden, or not placed here */
        json_array_append_new(d->out_cards,
                              json_pack("{s:s, s:s, s:I, s:o}", "id", desc->id, "title", desc->name,
                                        "position", (json_int_t)d->cards[i].position, "summary",
                                        summary));
    }
    return 0;
}

static void dashboard_get(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    const char *dash = pt_req_param(req, "dashboard");
    const pt_caller *c = pt_req_caller(req);
    if (!c) {
        pt_res_problem(res, 401, "unauthorized", "a bearer token is required");
        return;
    }
    if (!dashboard_valid(dash)) {
        pt_res_problem(res, 404, "not_found", "no such dashboard");
        return;
    }
    if (!c->org[0] || c->status != dashboard_status(dash)) {
        pt_res_problem(res, 403, "forbidden", "the %s dashboard is not for you", dash);
        return;
    }
    dash_ctx d = {
        .app = app, .caller = c, .org = c->org, .username = c->username, .dashboard = dash};
    /* The caller was read in this snapshot: the dashboard is one picture. */
    pt_txn *snap = NULL;
    int err = pt_req_snapshot(req, &snap);
    if (err == 0)
        err = dash_txn(snap, &d);
    if (err < 0) {
        dash_reset(&d);
        pt_org_answer_error(res, err, "organisation");
        return;
    }
    const json_t *settings = json_object_get(d.org_rec, "settings");
    const json_t *branding = json_object_get(settings, "branding");
    json_t *body = json_pack("{s:s, s:{s:s, s:O?}, s:o, s:O, s:O}", "dashboard", dash, "org", "id",
                             c->org, "name", json_object_get(d.org_rec, "name"), "branding",
                             json_is_object(branding) ? json_deep_copy(branding) : json_object(),
                             "notices", d.out_notices, "portlets", d.out_cards);
    dash_reset(&d);
    if (!body) {
        pt_res_error(res, PT_ENOMEM);
        return;
    }
    pt_res_json_etag(req, res, body);
}

/* ---- registration ---------------------------------------------------------------------- */

int pt_routes_portlets(pt_app *app)
{
    int err;
    if ((err = pt_router_add(app->router, "GET", "/api/v1/portlets", 0, catalogue_get, NULL)) ||
        (err = pt_router_add(app->router, "GET", "/api/v1/orgs/{org}/portlets", 0, org_portlets_get,
                             NULL)) ||
        (err = pt_router_add(app->router, "PUT", "/api/v1/orgs/{org}/portlets/{id}", 0,
                             org_portlet_put, NULL)) ||
        (err = pt_router_add(app->router, "GET", "/api/v1/dashboards/{dashboard}",
                             PT_ROUTE_SNAPSHOT, dashboard_get, NULL)))
        return err;
    return 0;
}
