/*
 * plugin_host.c - what a portlet can do: the portico_host table and the
 * portico_ctx behind it, over pt_req/pt_res, the verified caller and the
 * store.
 *
 * Scoping is done here and only here.  Every storage key a portlet names
 * is turned into (caller's org, portlet id, key) by the host, people and
 * audit go to the caller's org, so there is no argument through which a
 * portlet could reach another organisation or another portlet.
 */
#include "host/plugins.h"

#include "admin/people.h"
#include "base/clock.h"
#include "base/log.h"
#include "store/model.h"
#include "store/people_counts.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_KEY_MAX 256
#define SEQ_NAME_MAX 128
#define ACTION_MAX   128

/* The public role, status and result values are the internal ones, by
 * design, so they pass through without tables. */
#define SAME(a, b) _Static_assert((int)(a) == (int)(b), #a " == " #b)
SAME(PORTICO_ROLE_PORTAL_ADMIN, PT_ROLE_PORTAL_ADMIN);
SAME(PORTICO_ROLE_CONTENT_ADMIN, PT_ROLE_CONTENT_ADMIN);
SAME(PORTICO_ROLE_PAYROLL_ADMIN, PT_ROLE_PAYROLL_ADMIN);
SAME(PORTICO_ROLE_OH_ADMIN, PT_ROLE_OH_ADMIN);
SAME(PORTICO_ROLE_HR_ADMIN, PT_ROLE_HR_ADMIN);
SAME(PORTICO_ROLE_SYSTEM_ADMIN, PT_ROLE_SYSTEM_ADMIN);
SAME(PORTICO_STATUS_APPLICANT, PT_STATUS_APPLICANT);
SAME(PORTICO_STATUS_EMPLOYEE, PT_STATUS_EMPLOYEE);
SAME(PORTICO_STATUS_LEAVER, PT_STATUS_LEAVER);
SAME(PORTICO_ENOTFOUND, PT_ENOTFOUND);
SAME(PORTICO_EEXISTS, PT_EEXISTS);
SAME(PORTICO_EINVAL, PT_EINVAL);
SAME(PORTICO_ENOMEM, PT_ENOMEM);
SAME(PORTICO_EIO, PT_EIO);
SAME(PORTICO_ESTOP, PT_ESTOP);
#undef SAME

struct portico_ctx {
    pt_app *app;
    const pt_portlet *portlet;
    pt_req *req; /* NULL for summary() */
    pt_res *res;
    const pt_caller *pc;
    portico_caller caller;
    json_t *config; /* owned */
    bool answered;
};

struct portico_txn {
    pt_txn *txn;
    portico_ctx *ctx;
    bool write;
};

/* Store errors a portlet may see are its own result codes; the rest fold
 * into PORTICO_ERR. */
static int to_portico(int err)
{
    switch (err) {
    case PT_OK:
    case PT_ENOTFOUND:
    case PT_EEXISTS:
    case PT_EINVAL:
    case PT_ENOMEM:
    case PT_EIO:
    case PT_ESTOP:
        return err;
    case PT_ETOOBIG:
        return PORTICO_EINVAL;
    default:
        return err > 0 ? err : PORTICO_ERR;
    }
}

int pt_portlet_conf_key(pt_key *k, const char *org, const char *portlet_id)
{
    return pt_key_build(k, org, portlet_id, NULL);
}

/* ---- state, logging, request ---------------------------------------------- */

static void *h_state(const portico_ctx *ctx)
{
    return ctx ? pt_portlet_state(ctx->portlet) : NULL;
}

static void h_log(enum portico_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (!fmt)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    enum pt_log_level l = PT_LOG_INFO;
    if (level == PORTICO_LOG_DEBUG)
        l = PT_LOG_DEBUG;
    else if (level == PORTICO_LOG_WARN)
        l = PT_LOG_WARN;
    else if (level == PORTICO_LOG_ERROR)
        l = PT_LOG_ERROR;
    pt_log(l, "portlet", "%s", msg);
}

static const char *h_method(const portico_ctx *ctx)
{
    return ctx && ctx->req ? pt_req_method(ctx->req) : NULL;
}

static const char *h_param(const portico_ctx *ctx, const char *name)
{
    return ctx && ctx->req && name ? pt_req_param(ctx->req, name) : NULL;
}

static const char *h_query(portico_ctx *ctx, const char *name)
{
    return ctx && ctx->req && name ? pt_req_query(ctx->req, name) : NULL;
}

static const char *h_header(const portico_ctx *ctx, const char *name)
{
    return ctx && ctx->req && name ? pt_req_header(ctx->req, name) : NULL;
}

static int h_body_json(portico_ctx *ctx, json_t **out)
{
    if (out)
        *out = NULL;
    if (!ctx || !ctx->req || !out || ctx->answered)
        return PORTICO_EINVAL;
    int err = pt_req_json_object(ctx->req, ctx->res, out);
    if (err < 0) {
        ctx->answered = true;
        return err == PT_ENOMEM ? PORTICO_ENOMEM : PORTICO_EINVAL;
    }
    return 0;
}

static const portico_caller *h_caller(const portico_ctx *ctx)
{
    return ctx ? &ctx->caller : NULL;
}

static const json_t *h_config(const portico_ctx *ctx)
{
    return ctx ? ctx->config : NULL;
}

/* ---- answering -------------------------------------------------------------- */

/* Exactly one answer per request; a second one is a portlet bug that is
 * logged and dropped rather than allowed to garble the response. */
static bool may_answer(portico_ctx *ctx)
{
    if (!ctx || !ctx->req)
        return false;
    if (ctx->answered) {
        pt_log_warn("portlet", "%s answered twice; second answer dropped",
                    pt_portlet_desc(ctx->portlet)->id);
        return false;
    }
    ctx->answered = true;
    return true;
}

static void h_respond_json(portico_ctx *ctx, int status, json_t *body)
{
    if (!may_answer(ctx)) {
        json_decref(body);
        return;
    }
    if (status < 200 || status > 599 || !body) {
        json_decref(body);
        pt_res_problem(ctx->res, 500, "internal_error", "the portlet gave a bad answer");
        return;
    }
    pt_res_json(ctx->res, status, body);
}

static void h_respond_bytes(portico_ctx *ctx, int status, const char *content_type,
                            const void *data, size_t len)
{
    if (!may_answer(ctx))
        return;
    /* The content type goes into the header block as it is: a control
     * character in it could add headers of the portlet's choosing. */
    bool ctype_ok = true;
    for (const char *c = content_type; c && *c && ctype_ok; c++)
        ctype_ok = (unsigned char)*c >= 0x20 && *c != 0x7f;
    if (status < 200 || status > 599 || (!data && len) || !ctype_ok) {
        pt_res_problem(ctx->res, 500, "internal_error", "the portlet gave a bad answer");
        return;
    }
    if (status == 204 || status == 304) {
        pt_res_empty(ctx->res, status);
        return;
    }
    pt_res_bytes(ctx->res, status, content_type ? content_type : "application/octet-stream",
                 data ? data : "", len);
}

static void h_respond_problem(portico_ctx *ctx, int status, const char *code, const char *detail)
{
    if (!may_answer(ctx))
        return;
    if (status < 400 || status > 599 || !code || !*code)
        status = 500, code = "internal_error";
    pt_res_problem(ctx->res, status, code, "%s", detail ? detail : code);
}

static void h_respond_invalid(portico_ctx *ctx, json_t *errors)
{
    if (!may_answer(ctx)) {
        json_decref(errors);
        return;
    }
    pt_res_validation(ctx->res, errors ? errors : json_array());
}

static void h_invalid_add(json_t **errors, const char *pointer, const char *message)
{
    if (!errors)
        return;
    if (!*errors && !(*errors = json_array()))
        return;
    json_array_append_new(*errors, json_pack("{s:s, s:s}", "pointer", pointer ? pointer : "",
                                             "message", message ? message : "is invalid"));
}

/* ---- storage ------------------------------------------------------------------ */

typedef struct txn_call {
    portico_ctx *ctx;
    portico_txn_fn fn;
    void *arg;
    bool write;
} txn_call;

static int txn_trampoline(pt_txn *txn, void *arg)
{
    txn_call *c = arg;
    portico_txn t = {txn, c->ctx, c->write};
    return c->fn(&t, c->arg);
}

static int run_txn(portico_ctx *ctx, portico_txn_fn fn, void *arg, bool write)
{
    if (!ctx || !fn || !ctx->caller.org || !*ctx->caller.org)
        return PORTICO_EINVAL;
    txn_call c = {ctx, fn, arg, write};
    int err = write ? pt_store_write(ctx->app->store, txn_trampoline, &c)
                    : pt_store_read(ctx->app->store, txn_trampoline, &c);
    return to_portico(err);
}

static int h_read(portico_ctx *ctx, portico_txn_fn fn, void *arg)
{
    return run_txn(ctx, fn, arg, false);
}

static int h_write(portico_ctx *ctx, portico_txn_fn fn, void *arg)
{
    return run_txn(ctx, fn, arg, true);
}

static const char *txn_org(const portico_txn *t)
{
    return t->ctx->caller.org;
}

static const char *txn_portlet(const portico_txn *t)
{
    return pt_portlet_desc(t->ctx->portlet)->id;
}

static bool user_key_valid(const char *key)
{
    if (!key)
        return false;
    size_t n = strnlen(key, USER_KEY_MAX + 1);
    return n >= 1 && n <= USER_KEY_MAX;
}

/* (org, portlet, key): the only way a portlet key reaches the store. */
static int scoped_key(pt_key *k, const portico_txn *t, const char *key)
{
    if (!user_key_valid(key))
        return PORTICO_EINVAL;
    if (pt_key_build(k, txn_org(t), txn_portlet(t), key, NULL) < 0)
        return PORTICO_EINVAL;
    return 0;
}

static int h_get(portico_txn *t, const char *key, json_t **out)
{
    pt_key k;
    pt_val v;
    if (out)
        *out = NULL;
    if (!t || !out)
        return PORTICO_EINVAL;
    int err = scoped_key(&k, t, key);
    if (err)
        return err;
    if ((err = pt_txn_get(t->txn, PT_T_PORTLET_DATA, k.buf, k.len, &v)) < 0)
        return to_portico(err);
    *out = json_loadb(v.data, v.len, JSON_DECODE_ANY, NULL);
    return *out ? 0 : PORTICO_EIO;
}

static int put_common(portico_txn *t, const char *key, const json_t *value, bool insert)
{
    pt_key k;
    if (!t || !value)
        return PORTICO_EINVAL;
    if (!t->write)
        return PORTICO_EINVAL;
    int err = scoped_key(&k, t, key);
    if (err)
        return err;
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (!text)
        return PORTICO_EINVAL;
    size_t len = strlen(text);
    err = insert ? pt_txn_insert(t->txn, PT_T_PORTLET_DATA, k.buf, k.len, text, len)
                 : pt_txn_put(t->txn, PT_T_PORTLET_DATA, k.buf, k.len, text, len);
    free(text);
    return to_portico(err);
}

static int h_put(portico_txn *t, const char *key, const json_t *value)
{
    return put_common(t, key, value, false);
}

static int h_insert(portico_txn *t, const char *key, const json_t *value)
{
    return put_common(t, key, value, true);
}

static int h_del(portico_txn *t, const char *key)
{
    pt_key k;
    if (!t || !t->write)
        return PORTICO_EINVAL;
    int err = scoped_key(&k, t, key);
    if (err)
        return err;
    return to_portico(pt_txn_del(t->txn, PT_T_PORTLET_DATA, k.buf, k.len));
}

typedef struct scan_call {
    size_t scope_len; /* bytes of "org\0portlet\0" to strip */
    portico_scan_fn fn;
    void *arg;
    int result;
} scan_call;

static int scan_trampoline(const pt_val *key, const pt_val *val, void *arg)
{
    scan_call *s = arg;
    char user[USER_KEY_MAX + 1];
    if (key->len <= s->scope_len || key->len - s->scope_len > USER_KEY_MAX)
        return 0; /* not a key this API could have written */
    size_t n = key->len - s->scope_len;
    memcpy(user, (const char *)key->data + s->scope_len, n);
    user[n] = '\0';
    json_t *v = json_loadb(val->data, val->len, JSON_DECODE_ANY, NULL);
    if (!v)
        return PT_EIO;
    int rc = s->fn(user, v, s->arg);
    json_decref(v);
    if (rc == PORTICO_ESTOP)
        return PT_ESTOP;
    if (rc < 0) {
        s->result = rc;
        return rc;
    }
    return 0;
}

static int h_scan(portico_txn *t, const char *prefix, const char *after, bool reverse,
                  portico_scan_fn fn, void *arg)
{
    pt_key scope, pfx, aft;
    if (!t || !fn)
        return PORTICO_EINVAL;
    if (pt_key_build(&scope, txn_org(t), txn_portlet(t), "", NULL) < 0)
        return PORTICO_EINVAL;
    if (prefix && strnlen(prefix, USER_KEY_MAX + 1) > USER_KEY_MAX)
        return PORTICO_EINVAL;
    if (pt_key_build(&pfx, txn_org(t), txn_portlet(t), prefix ? prefix : "", NULL) < 0)
        return PORTICO_EINVAL;
    bool has_after = after && *after;
    if (has_after) {
        if (!user_key_valid(after) ||
            pt_key_build(&aft, txn_org(t), txn_portlet(t), after, NULL) < 0)
            return PORTICO_EINVAL;
    }
    scan_call s = {scope.len, fn, arg, 0};
    int err = pt_txn_scan(t->txn, PT_T_PORTLET_DATA, pfx.buf, pfx.len, has_after ? aft.buf : NULL,
                          has_after ? aft.len : 0, reverse, scan_trampoline, &s);
    if (s.result)
        return s.result;
    return to_portico(err);
}

static int h_next_seq(portico_txn *t, const char *name, uint64_t *out)
{
    char full[SEQ_NAME_MAX + 2 * PT_ID_MAX + 8];
    if (!t || !out || !t->write || !name || !*name || strlen(name) > SEQ_NAME_MAX)
        return PORTICO_EINVAL;
    snprintf(full, sizeof(full), "p:%s:%s:%s", txn_org(t), txn_portlet(t), name);
    return to_portico(pt_txn_next_seq(t->txn, full, out));
}

typedef struct people_call {
    portico_person_fn fn;
    void *arg;
    int days;
    int32_t today;
    int result;
} people_call;

static int people_trampoline(const pt_val *key, const pt_val *val, void *arg)
{
    (void)key;
    people_call *p = arg;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    if (!rec)
        return PT_EIO;
    json_t *view = pt_person_view(rec, p->days, p->today);
    json_decref(rec);
    if (!view)
        return PT_ENOMEM;
    int rc = p->fn(view, p->arg);
    json_decref(view);
    if (rc == PORTICO_ESTOP)
        return PT_ESTOP;
    if (rc < 0) {
        p->result = rc;
        return rc;
    }
    return 0;
}

static int h_people_each(portico_txn *t, portico_person_fn fn, void *arg)
{
    pt_key pfx;
    if (!t || !fn)
        return PORTICO_EINVAL;
    people_call p = {fn, arg, PT_LEAVER_ACCESS_DAYS_DEFAULT, pt_clock_today(), 0};
    int err = pt_org_leaver_days_get(&p.days, t->txn, txn_org(t));
    if (err < 0)
        return to_portico(err);
    if (pt_key_build(&pfx, txn_org(t), NULL) < 0 || pt_key_as_prefix(&pfx) < 0)
        return PORTICO_EINVAL;
    err = pt_txn_scan(t->txn, PT_T_PEOPLE, pfx.buf, pfx.len, NULL, 0, false, people_trampoline, &p);
    if (p.result)
        return p.result;
    return to_portico(err);
}

/* Headcounts without a scan per request: see people_counts.h. */
static int h_people_count(portico_txn *t, const char *staff_group, enum portico_status status,
                          int64_t *out)
{
    if (out)
        *out = 0;
    if (!t || !out || (unsigned)status > PORTICO_STATUS_LEAVER)
        return PORTICO_EINVAL;
    return to_portico(pt_people_count(out, t->txn, txn_org(t), staff_group, (pt_status)status));
}

static int h_person_get(portico_txn *t, const char *username, json_t **out)
{
    if (out)
        *out = NULL;
    if (!t || !out || !username || !pt_username_valid(username))
        return t && out ? PORTICO_ENOTFOUND : PORTICO_EINVAL;
    int days = PT_LEAVER_ACCESS_DAYS_DEFAULT;
    int err = pt_org_leaver_days_get(&days, t->txn, txn_org(t));
    if (err < 0)
        return to_portico(err);
    json_t *rec = NULL;
    if ((err = pt_person_get(&rec, t->txn, txn_org(t), username)) < 0)
        return to_portico(err);
    *out = pt_person_view(rec, days, pt_clock_today());
    json_decref(rec);
    return *out ? 0 : PORTICO_ENOMEM;
}

static int h_audit(portico_txn *t, const char *action, const char *target, const json_t *before,
                   const json_t *after)
{
    char full[ACTION_MAX + PT_ID_MAX + 2];
    if (!t || !t->write || !action || !*action || strlen(action) > ACTION_MAX)
        return PORTICO_EINVAL;
    snprintf(full, sizeof(full), "%s.%s", txn_portlet(t), action);
    return to_portico(
        pt_audit_append(t->txn, txn_org(t), t->ctx->caller.username, full, target, before, after));
}

/* ---- misc ------------------------------------------------------------------------- */

static int h_random_bytes(void *buf, size_t len)
{
    if (!buf && len)
        return PORTICO_EINVAL;
    randombytes_buf(buf, len);
    return 0;
}

static int h_schema_validate(const json_t *schema, const json_t *value, json_t **errors)
{
    json_t *dummy = NULL;
    if (!errors)
        errors = &dummy;
    *errors = NULL;
    if (!schema || !value)
        return PORTICO_EINVAL;
    int err = pt_schema_check(schema, value, errors);
    json_decref(dummy);
    return err == 0 ? 0 : err == PT_EINVAL ? PORTICO_EINVAL : PORTICO_ERR;
}

static void h_date_format(char buf[11], int32_t days)
{
    pt_date_format(buf, days);
}

static void h_time_format(char buf[21], int64_t epoch)
{
    pt_time_format(buf, epoch);
}

const portico_host pt_portico_host = {
    .size = sizeof(portico_host),
    .abi_major = PORTICO_ABI_MAJOR,
    .abi_minor = PORTICO_ABI_MINOR,
    .state = h_state,
    .log = h_log,
    .method = h_method,
    .param = h_param,
    .query = h_query,
    .header = h_header,
    .body_json = h_body_json,
    .caller = h_caller,
    .config = h_config,
    .respond_json = h_respond_json,
    .respond_bytes = h_respond_bytes,
    .respond_problem = h_respond_problem,
    .respond_invalid = h_respond_invalid,
    .invalid_add = h_invalid_add,
    .read = h_read,
    .write = h_write,
    .get = h_get,
    .put = h_put,
    .insert = h_insert,
    .del = h_del,
    .scan = h_scan,
    .next_seq = h_next_seq,
    .people_each = h_people_each,
    .person_get = h_person_get,
    .audit = h_audit,
    .now_ms = pt_clock_now_ms,
    .today = pt_clock_today,
    .date_parse = pt_date_parse,
    .date_format = h_date_format,
    .time_parse = pt_time_parse,
    .time_format = h_time_format,
    .random_bytes = h_random_bytes,
    .schema_validate = h_schema_validate,
    .people_count = h_people_count,
};

/* ---- running handlers and summaries ------------------------------------------------ */

static void caller_fill(portico_caller *out, const pt_caller *c, const json_t *person)
{
    memset(out, 0, sizeof(*out));
    out->username = c->username;
    out->org = c->org;
    out->roles = c->roles;
    out->status = (enum portico_status)c->status;
    out->mfa = c->mfa;
    out->access_ends = c->status == PT_STATUS_LEAVER ? c->access_ends : -1;
    out->person = person;
}

typedef struct route_load {
    const char *org;
    const char *username;
    const char *portlet;
    bool enabled;
    json_t *config;
    json_t *person;
} route_load;

/* One read for everything the guard and the ctx need. */
static int route_load_txn(pt_txn *txn, void *arg)
{
    route_load *l = arg;
    pt_key k;
    json_t *conf = NULL, *rec = NULL;
    l->enabled = false;
    json_decref(l->config);
    json_decref(l->person);
    l->config = l->person = NULL;

    int err = pt_portlet_conf_key(&k, l->org, l->portlet);
    if (err < 0)
        return err;
    err = pt_txn_get_json(txn, PT_T_PORTLET_CONF, k.buf, k.len, &conf);
    if (err == PT_ENOTFOUND)
        return 0;
    if (err < 0)
        return err;
    l->enabled = json_is_true(json_object_get(conf, "enabled"));
    json_t *cfg = json_object_get(conf, "config");
    l->config = json_is_object(cfg) ? json_incref(cfg) : NULL;
    json_decref(conf);
    if (!l->enabled)
        return 0;

    int days = PT_LEAVER_ACCESS_DAYS_DEFAULT;
    if (pt_org_leaver_days_get(&days, txn, l->org) == 0 &&
        pt_person_get(&rec, txn, l->org, l->username) == 0) {
        l->person = pt_person_view(rec, days, pt_clock_today());
        json_decref(rec);
    }
    return 0;
}

/*
 * The guard order matters: enablement is checked before roles, so a
 * portlet that is off looks the same (404) to everybody in the org and
 * its routes reveal nothing about who may use them.
 */
void pt_portlet_route_handler(pt_req *req, pt_res *res, void *ud)
{
    const pt_route_binding *b = ud;
    const portico_portlet *d = pt_portlet_desc(b->portlet);
    const pt_caller *c = pt_req_caller(req);
    pt_app *app = pt_req_app(req);

    if (!c) {
        pt_res_problem(res, 401, "unauthorized", "a bearer token is required");
        return;
    }
    if (!c->org[0]) {
        pt_res_problem(res, 404, "portlet_not_enabled",
                       "portlet %s is not enabled: no active organisation", d->id);
        return;
    }
    route_load l = {c->org, c->username, d->id, false, NULL, NULL};
    int err = pt_store_read(app->store, route_load_txn, &l);
    if (err < 0) {
        json_decref(l.config);
        json_decref(l.person);
        pt_res_error(res, err == PT_ENOTFOUND ? PT_EIO : err);
        return;
    }
    if (!l.enabled) {
        json_decref(l.config);
        json_decref(l.person);
        pt_res_problem(res, 404, "portlet_not_enabled",
                       "portlet %s is not enabled for this organisation", d->id);
        return;
    }
    if (b->route->roles && !(c->roles & b->route->roles)) {
        json_decref(l.config);
        json_decref(l.person);
        pt_res_problem(res, 403, "forbidden", "a role you do not hold is needed");
        return;
    }

    portico_ctx ctx = {.app = app, .portlet = b->portlet, .req = req, .res = res, .pc = c};
    ctx.config = l.config ? l.config : json_object();
    caller_fill(&ctx.caller, c, l.person);

    int rc = b->route->handler(&ctx);
    if (!ctx.answered || pt_res_status(res) == 0) {
        pt_log_error("portlet", "%s: %s %s returned %d without answering", d->id, b->route->method,
                     b->route->path, rc);
        pt_res_problem(res, 500, "internal_error", "the server could not complete the request");
    }
    json_decref(ctx.config);
    json_decref(l.person);
}

json_t *pt_portlet_summary(pt_app *app, const pt_portlet *p, const pt_caller *caller,
                           const json_t *person, const json_t *config, const char *dashboard)
{
    const portico_portlet *d = pt_portlet_desc(p);
    if (!d->summary)
        return json_null();
    portico_ctx ctx = {.app = app, .portlet = p, .pc = caller};
    ctx.config = config ? json_incref((json_t *)config) : json_object();
    caller_fill(&ctx.caller, caller, person);

    json_t *out = NULL;
    int rc = d->summary(&ctx, dashboard, &out);
    json_decref(ctx.config);
    if (rc == PORTICO_HIDDEN) {
        json_decref(out);
        return NULL;
    }
    if (rc < 0 || !out) {
        if (rc < 0)
            pt_log_warn("portlet", "%s: summary() failed with %d", d->id, rc);
        json_decref(out);
        return json_pack("{s:s}", "error", "unavailable");
    }
    return out;
}

/*
 * The demo callback arrived in ABI 1.1: a portlet built against 1.0 has a
 * shorter descriptor, and whatever lies past its struct_size is not ours
 * to read.
 */
#define DESC_HAS(d, field)                                                                         \
    ((d)->struct_size >= offsetof(portico_portlet, field) + sizeof((d)->field) && (d)->field)

static bool desc_has_demo(const portico_portlet *d)
{
    return DESC_HAS(d, demo);
}

/*
 * The portlet's own pointers are relative to its config; the client sent
 * the config inside a body, so each pointer gets the body's prefix.
 */
void pt_portlet_check_config(const pt_portlet *p, const json_t *config, const char *prefix,
                             json_t *errors)
{
    const portico_portlet *d = pt_portlet_desc(p);
    if (!DESC_HAS(d, check_config))
        return;
    json_t *mine = NULL;
    int rc = d->check_config(config, &mine);
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
}

int pt_portlet_demo(json_t **config, pt_app *app, const pt_portlet *p, const char *org)
{
    *config = NULL;
    const portico_portlet *d = pt_portlet_desc(p);
    if (!desc_has_demo(d))
        return 0;
    pt_caller sys;
    memset(&sys, 0, sizeof(sys));
    pt_strlcpy(sys.username, "system", sizeof(sys.username));
    pt_strlcpy(sys.org, org, sizeof(sys.org));
    sys.roles = PT_ROLES_ORG_MASK;
    sys.status = PT_STATUS_NONE;
    sys.access_ends = -1;

    portico_ctx ctx = {.app = app, .portlet = p, .pc = &sys};
    ctx.config = json_object();
    caller_fill(&ctx.caller, &sys, NULL);
    json_t *out = NULL;
    int rc = d->demo(&ctx, &out);
    json_decref(ctx.config);
    if (rc < 0 || !json_is_object(out)) {
        json_decref(out);
        pt_error_set("%s: demo() failed (%d)", d->id, rc);
        return PT_ERR;
    }
    *config = out;
    return 0;
}
