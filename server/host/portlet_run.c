/*
 * portlet_run.c - running portlet code: route handlers behind their gates,
 * dashboard cards and notices, demo data, config checks, init and
 * shutdown.  Every callback gets a ctx (portlet_ctx.h).
 */
#include "host/portlet_ctx.h"

#include "admin/people.h"
#include "base/clock.h"
#include "base/log.h"
#include "http/json_parse.h"
#include "store/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- route handlers -------------------------------------------------------------- */

typedef struct route_load {
    pt_pctx *c;
    bool enabled;
} route_load;

/* Everything the gates and the ctx need, from the request's snapshot. */
static int route_load_txn(pt_txn *txn, void *arg)
{
    route_load *l = arg;
    pt_pctx *c = l->c;
    pt_key k;
    json_t *conf = NULL, *rec = NULL;

    int err = pt_portlet_conf_key(&k, c->org, c->pub.portlet_id);
    if (err < 0)
        return err;
    err = pt_txn_get_json(txn, PT_T_PORTLET_CONF, k.buf, k.len, &conf);
    if (err == PT_ENOTFOUND)
        return 0;
    if (err < 0)
        return err;
    l->enabled = json_is_true(json_object_get(conf, "enabled"));
    if (l->enabled)
        c->config = pt_portlet_config_effective(c->portlet, json_object_get(conf, "config"));
    json_decref(conf);
    if (!l->enabled)
        return 0;
    if (!c->config)
        return PT_ENOMEM;

    int days = PT_LEAVER_ACCESS_DAYS_DEFAULT;
    if ((err = pt_org_dates_get(&days, &c->today, txn, c->org)) < 0)
        return err;
    if (pt_person_get(&rec, txn, c->org, c->caller.username) == 0) {
        c->person = pt_person_view(rec, days, c->today);
        json_decref(rec);
    }
    c->caller.person = c->person;
    return 0;
}

/* Who may call: any listed role, or any listed status; both empty lets
 * every member in. */
static bool gate_who(const portico_route *r, const pt_caller *pc)
{
    if (!r->roles && !r->statuses)
        return true;
    if (pc->roles & r->roles)
        return true;
    return pc->status != PT_STATUS_NONE && (r->statuses & PORTICO_STATUS_BIT(pc->status));
}

static bool gate_mfa(const portico_route *r, const pt_caller *pc)
{
    bool needed =
        (r->flags & PORTICO_ROUTE_MFA) ||
        (pc->status != PT_STATUS_NONE && (r->mfa_statuses & PORTICO_STATUS_BIT(pc->status)));
    return !needed || pc->mfa;
}

/* "text/csv; charset=utf-8" is in "text/csv, application/x-ndjson". */
static bool media_listed(const char *list, const char *ct)
{
    size_t clen = strcspn(ct, "; \t");
    while (list && *list) {
        list += strspn(list, " \t,");
        size_t len = strcspn(list, ", \t");
        if (len && len == clen && strncasecmp(list, ct, len) == 0)
            return true;
        list += len;
    }
    return false;
}

/*
 * The body gate.  Raw routes: only the media type (the size was checked
 * while reading).  JSON routes: a body, if any, must be a JSON object
 * valid against the route's schema; a route with a schema and no body is
 * checked as if {} was sent, so required fields are reported alike.
 */
static bool gate_body(pt_pctx *c)
{
    const pt_route_binding *b = c->binding;
    size_t len = 0;
    pt_req_body(c->req, &len);
    const char *ct = pt_req_header(c->req, "Content-Type");
    if (b->route.flags & PORTICO_ROUTE_RAW_BODY) {
        if (len && b->route.body_types && !(ct && media_listed(b->route.body_types, ct))) {
            pt_res_problem(c->res, 415, "unsupported_media_type", "the body must be %s",
                           b->route.body_types);
            return false;
        }
        return true;
    }
    if (len == 0) {
        if (!b->body_schema)
            return true;
        c->body = json_object();
    } else if (pt_req_json_object(c->req, c->res, &c->body) < 0) {
        return false;
    }
    if (!c->body) {
        pt_res_error(c->res, PT_ENOMEM);
        return false;
    }
    if (!b->body_schema)
        return true;
    json_t *errors = json_array();
    if (!errors) {
        pt_res_error(c->res, PT_ENOMEM);
        return false;
    }
    if (pt_schema_validate(b->body_schema, c->body, "", errors)) {
        json_decref(errors);
        return true;
    }
    pt_res_validation(c->res, errors);
    return false;
}

/*
 * The guard order matters: enablement is checked before who may call, so
 * a portlet that is off looks the same (404) to everybody in the org and
 * its routes reveal nothing about who may use them; the body is looked at
 * only for callers who may call at all.
 */
void pt_portlet_route_handler(pt_req *req, pt_res *res, void *ud)
{
    const pt_route_binding *b = ud;
    const char *id = pt_portlet_desc(b->portlet)->id;
    const pt_caller *pc = pt_req_caller(req);
    if (!pc) {
        pt_res_problem(res, 401, "unauthorized", "a bearer token is required");
        return;
    }
    if (!pc->org[0]) {
        pt_res_problem(res, 404, "portlet_not_enabled",
                       "portlet %s is not enabled: no active organisation", id);
        return;
    }

    pt_pctx c;
    pt_pctx_init(&c, pt_req_app(req), b->portlet);
    c.binding = b;
    c.req = req;
    c.res = res;
    c.pub.request_id = pt_req_id(req);
    pt_pctx_set_caller(&c, pc);

    /* Authentication read the caller in the request's snapshot: the
     * config, the person and the handler's reads come from it too. */
    route_load l = {&c, false};
    int err = pt_req_snapshot(req, &c.snap);
    c.req_snap = err == 0;
    if (err == 0)
        err = pt_pctx_read(&c, route_load_txn, &l);
    if (err < 0) {
        pt_res_error(res, err == PT_ENOTFOUND ? PT_EIO : err);
    } else if (!l.enabled) {
        pt_res_problem(res, 404, "portlet_not_enabled",
                       "portlet %s is not enabled for this organisation", id);
    } else if (!gate_who(&b->route, pc)) {
        pt_res_problem(res, 403, "forbidden", "this is not open to you");
    } else if (!gate_mfa(&b->route, pc)) {
        pt_res_problem(res, 403, "mfa_required",
                       "sign in with your second factor (MFA) to use this");
    } else if (gate_body(&c)) {
        int rc = b->route.handler(&c.pub);
        if (!c.answered || pt_res_status(res) == 0) {
            pt_log_error("portlet", "%s req=%s: %s %s returned %d without answering", id,
                         c.pub.request_id, b->route.method, b->route.path, rc);
            pt_res_problem(res, 500, "internal_error", "the server could not complete the request");
        }
    }
    pt_pctx_release(&c);
}

/* ---- dashboards ------------------------------------------------------------------ */

/*
 * Cards and notices run inside the dashboard's read transaction, so the
 * whole dashboard is one snapshot; they are read-only (write() refuses).
 */
void pt_portlet_dashboard(json_t **summary, pt_app *app, pt_txn *txn, int32_t today,
                          const pt_portlet *p, const pt_caller *caller, const json_t *person,
                          const json_t *config, const char *dashboard, bool placed, json_t *notices)
{
    const portico_portlet *d = pt_portlet_desc(p);
    *summary = NULL;
    pt_pctx c;
    pt_pctx_init(&c, app, p);
    c.snap = txn;
    c.today = today;
    c.read_only = true;
    c.config = pt_portlet_config_effective(p, config);
    c.person = person ? json_incref((json_t *)person) : NULL;
    pt_pctx_set_caller(&c, caller);

    if (d->notices && notices) {
        json_t *mine = json_array();
        int rc = mine ? d->notices(&c.pub, dashboard, mine) : PORTICO_ENOMEM;
        if (rc < 0)
            pt_log_warn("portlet", "%s: notices() failed with %d", d->id, rc);
        size_t i;
        json_t *n;
        json_array_foreach(mine, i, n)
        {
            if (json_is_object(n) && !json_object_get(n, "text") &&
                json_is_string(json_object_get(n, "message")))
                json_object_set(n, "text", json_object_get(n, "message"));
            if (json_is_object(n) && json_is_string(json_object_get(n, "text")))
                json_array_append(notices, n);
        }
        json_decref(mine);
    }
    if (placed && !d->summary) {
        *summary = json_null();
    } else if (placed) {
        json_t *out = NULL;
        int rc = d->summary(&c.pub, dashboard, &out);
        if (rc == PORTICO_HIDDEN) {
            json_decref(out);
        } else if (rc < 0 || !json_is_object(out)) {
            if (rc < 0)
                pt_log_warn("portlet", "%s: summary() failed with %d", d->id, rc);
            json_decref(out);
            *summary = json_pack("{s:s}", "error", "unavailable");
        } else {
            *summary = out;
        }
    }
    pt_pctx_release(&c);
}

/* ---- config checks ----------------------------------------------------------------- */

json_t *pt_portlet_config_effective(const pt_portlet *p, const json_t *config)
{
    json_t *out = json_is_object(config) ? json_deep_copy(config) : json_object();
    if (out)
        pt_schema_fill_defaults(pt_portlet_schema(p), out);
    return out;
}

/*
 * The portlet's own pointers are relative to its config; the client sent
 * the config inside a body, so each pointer gets the body's prefix.
 */
void pt_portlet_check_config(const pt_portlet *p, const json_t *config, const char *prefix,
                             json_t *errors)
{
    const portico_portlet *d = pt_portlet_desc(p);
    if (!d->check_config)
        return;
    pt_pctx c;
    pt_pctx_init(&c, NULL, p);
    c.config = pt_portlet_config_effective(p, config);
    json_t *mine = json_array();
    int rc = mine && c.config ? d->check_config(&c.pub, c.config, mine) : PORTICO_ENOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(mine, i, e)
    {
        const char *ptr = json_string_value(json_object_get(e, "pointer"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        char *full = NULL;
        if (asprintf(&full, "%s%s", prefix, ptr ? ptr : "") < 0)
            full = NULL;
        json_array_append_new(errors, json_pack("{s:s, s:s}", "pointer", full ? full : prefix,
                                                "message", msg ? msg : "is not valid"));
        free(full);
    }
    if (rc < 0 && json_array_size(mine) == 0)
        json_array_append_new(errors, json_pack("{s:s, s:s}", "pointer", prefix, "message",
                                                "is not a valid configuration"));
    json_decref(mine);
    pt_pctx_release(&c);
}

/* ---- demo data, init, shutdown -------------------------------------------------------- */

int pt_portlet_demo(json_t **config, pt_app *app, const pt_portlet *p, const char *org)
{
    *config = NULL;
    const portico_portlet *d = pt_portlet_desc(p);
    if (!d->demo)
        return 0;
    pt_caller sys;
    memset(&sys, 0, sizeof(sys));
    pt_strlcpy(sys.username, "system", sizeof(sys.username));
    pt_strlcpy(sys.org, org, sizeof(sys.org));
    sys.roles = PT_ROLES_ORG_MASK;
    sys.status = PT_STATUS_NONE;
    sys.access_ends = -1;

    pt_pctx c;
    pt_pctx_init(&c, app, p);
    c.config = pt_portlet_config_effective(p, NULL);
    pt_pctx_set_caller(&c, &sys);
    json_t *out = NULL;
    int rc = d->demo(&c.pub, &out);
    pt_pctx_release(&c);
    if (rc < 0 || !json_is_object(out)) {
        json_decref(out);
        pt_error_set("%s: demo() failed (%d)", d->id, rc);
        return PT_ERR;
    }
    *config = out;
    return 0;
}

int pt_portlet_run_init(pt_app *app, pt_portlet *p, void **state)
{
    const portico_portlet *d = pt_portlet_desc(p);
    *state = NULL;
    if (!d->init)
        return 0;
    pt_pctx c;
    pt_pctx_init(&c, app, p);
    c.pub.state = NULL;
    int rc = d->init(&c.pub, state);
    pt_pctx_release(&c);
    return rc;
}

void pt_portlet_run_shutdown(const pt_portlet *p)
{
    const portico_portlet *d = pt_portlet_desc(p);
    if (!d->shutdown)
        return;
    pt_pctx c;
    pt_pctx_init(&c, NULL, p);
    d->shutdown(&c.pub);
    pt_pctx_release(&c);
}

int pt_portlet_conf_key(pt_key *k, const char *org, const char *portlet_id)
{
    return pt_key_build(k, org, portlet_id, NULL);
}
