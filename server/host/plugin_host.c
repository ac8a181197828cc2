/*
 * plugin_host.c - the portico_host table a portlet reaches as ctx->host:
 * logging, the request, answering, time and the ctx itself.  The storage
 * half lives in portlet_storage.c; running handlers and callbacks (with
 * their gates) in portlet_run.c.
 */
#include "host/portlet_ctx.h"

#include "base/clock.h"
#include "base/log.h"
#include "store/model.h"

#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
SAME(PORTICO_ECONFLICT, PT_ECONFLICT);
SAME(PORTICO_ESTOP, PT_ESTOP);
SAME(PORTICO_EFORBIDDEN, PT_EDENIED);
#undef SAME

/* ---- the ctx ------------------------------------------------------------------- */

void pt_pctx_init(pt_pctx *c, pt_app *app, const pt_portlet *p)
{
    memset(c, 0, sizeof(*c));
    c->pub.size = sizeof(c->pub);
    c->pub.host = &pt_portico_host;
    c->pub.state = pt_portlet_state(p);
    c->pub.portlet_id = pt_portlet_desc(p)->id;
    c->pub.request_id = "";
    c->app = app;
    c->portlet = p;
    c->today = INT32_MIN;
}

void pt_pctx_set_caller(pt_pctx *c, const pt_caller *pc)
{
    memset(&c->caller, 0, sizeof(c->caller));
    c->caller.username = pc->username;
    c->caller.org = pc->org;
    c->caller.roles = pc->roles;
    c->caller.status = (enum portico_status)pc->status;
    c->caller.mfa = pc->mfa;
    c->caller.access_ends = pc->status == PT_STATUS_LEAVER ? pc->access_ends : -1;
    c->caller.person = c->person;
    c->org = pc->org[0] ? pc->org : NULL;
    c->pub.caller = &c->caller;
}

void pt_pctx_release(pt_pctx *c)
{
    if (c->own_snap)
        pt_store_snapshot_end(c->snap);
    c->snap = NULL;
    c->own_snap = false;
    json_decref(c->config);
    json_decref(c->body);
    json_decref(c->person);
    c->config = c->body = c->person = NULL;
}

int pt_pctx_read(pt_pctx *c, pt_txn_fn fn, void *arg)
{
    if (!c->snap) {
        int err = pt_store_snapshot_begin(c->app->store, &c->snap);
        if (err < 0)
            return err;
        c->own_snap = true;
    }
    return fn(c->snap, arg);
}

static int today_txn(pt_txn *txn, void *arg)
{
    pt_pctx *c = arg;
    return pt_org_today_get(&c->today, txn, c->org);
}

int32_t pt_pctx_today(pt_pctx *c)
{
    if (c->today != INT32_MIN)
        return c->today;
    if (!c->org || pt_pctx_read(c, today_txn, c) < 0)
        c->today = pt_clock_today();
    return c->today;
}

/* ---- logging ------------------------------------------------------------------- */

static void h_log(portico_ctx *ctx, enum portico_log_level level, const char *fmt, ...)
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
    const char *id = ctx && ctx->portlet_id ? ctx->portlet_id : "?";
    const char *rid = ctx && ctx->request_id ? ctx->request_id : "";
    pt_log(l, "portlet", "%s%s%s: %s", id, *rid ? " req=" : "", rid, msg);
}

/* ---- the request ----------------------------------------------------------------- */

static pt_req *req_of(const portico_ctx *ctx)
{
    return ctx ? pt_pctx_of(ctx)->req : NULL;
}

static const char *h_method(const portico_ctx *ctx)
{
    return req_of(ctx) ? pt_req_method(req_of(ctx)) : NULL;
}

static const char *h_param(const portico_ctx *ctx, const char *name)
{
    return req_of(ctx) && name ? pt_req_param(req_of(ctx), name) : NULL;
}

static const char *h_query(portico_ctx *ctx, const char *name)
{
    return req_of(ctx) && name ? pt_req_query(req_of(ctx), name) : NULL;
}

static const char *h_header(const portico_ctx *ctx, const char *name)
{
    return req_of(ctx) && name ? pt_req_header(req_of(ctx), name) : NULL;
}

static const json_t *h_body(const portico_ctx *ctx)
{
    return ctx ? pt_pctx_of(ctx)->body : NULL;
}

static const void *h_body_raw(const portico_ctx *ctx, size_t *len)
{
    size_t dummy;
    if (!len)
        len = &dummy;
    *len = 0;
    const pt_pctx *c = ctx ? pt_pctx_of(ctx) : NULL;
    if (!c || !c->req || !c->binding || !(c->binding->route.flags & PORTICO_ROUTE_RAW_BODY))
        return NULL;
    const char *b = pt_req_body(c->req, len);
    return *len ? b : NULL;
}

static const json_t *h_config(const portico_ctx *ctx)
{
    return ctx ? pt_pctx_of(ctx)->config : NULL;
}

/* One Accept member ("type/sub; q=0.5") matched against media, exactly
 * or as "type/ *", and not with q=0.  A bare "* / *" does not count:
 * clients that accept anything get the route's JSON default. */
static bool accept_member(const char *m, size_t len, const char *media)
{
    char buf[160];
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, m, len);
    buf[len] = '\0';
    char *params = strchr(buf, ';');
    if (params)
        *params++ = '\0';
    char *type = buf + strspn(buf, " \t");
    type[strcspn(type, " \t")] = '\0';
    for (char *p = params; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
        p += strspn(p, " \t");
        if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=' && strtod(p + 2, NULL) <= 0.0)
            return false;
    }
    if (strcasecmp(type, media) == 0)
        return true;
    const char *slash = strchr(media, '/');
    size_t tlen = strlen(type);
    return slash && type[0] != '*' && tlen == (size_t)(slash - media) + 2 &&
           strncasecmp(type, media, tlen - 1) == 0 && type[tlen - 1] == '*';
}

static bool h_accepts(const portico_ctx *ctx, const char *media)
{
    const char *acc = h_header(ctx, "Accept");
    if (!acc || !media)
        return false;
    while (*acc) {
        size_t len = strcspn(acc, ",");
        if (accept_member(acc, len, media))
            return true;
        acc += len;
        if (*acc == ',')
            acc++;
    }
    return false;
}

/* ---- answering ------------------------------------------------------------------- */

/* Exactly one answer per request; a second one is a portlet bug that is
 * logged and dropped rather than allowed to garble the response. */
static bool may_answer(portico_ctx *ctx)
{
    pt_pctx *c = ctx ? pt_pctx_of(ctx) : NULL;
    if (!c || !c->req)
        return false;
    if (c->answered) {
        pt_log_warn("portlet", "%s req=%s answered twice; second answer dropped", c->pub.portlet_id,
                    c->pub.request_id);
        return false;
    }
    c->answered = true;
    return true;
}

static void h_respond_json(portico_ctx *ctx, int status, json_t *body)
{
    if (!may_answer(ctx)) {
        json_decref(body);
        return;
    }
    pt_res *res = pt_pctx_of(ctx)->res;
    if (status < 200 || status > 599 || !body) {
        json_decref(body);
        pt_res_problem(res, 500, "internal_error", "the portlet gave a bad answer");
        return;
    }
    pt_res_json(res, status, body);
}

static void h_respond_json_etag(portico_ctx *ctx, json_t *body)
{
    if (!may_answer(ctx)) {
        json_decref(body);
        return;
    }
    pt_pctx *c = pt_pctx_of(ctx);
    if (!body) {
        pt_res_problem(c->res, 500, "internal_error", "the portlet gave a bad answer");
        return;
    }
    pt_res_json_etag(c->req, c->res, body);
}

static bool ctype_ok(const char *ct)
{
    for (const char *c = ct; c && *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

static void h_respond_bytes(portico_ctx *ctx, int status, const char *content_type,
                            const void *data, size_t len)
{
    if (!may_answer(ctx))
        return;
    pt_res *res = pt_pctx_of(ctx)->res;
    /* The content type goes into the header block as it is: a control
     * character in it could add headers of the portlet's choosing. */
    if (status < 200 || status > 599 || (!data && len) || !ctype_ok(content_type)) {
        pt_res_problem(res, 500, "internal_error", "the portlet gave a bad answer");
        return;
    }
    if (status == 204 || status == 304) {
        pt_res_empty(res, status);
        return;
    }
    pt_res_bytes(res, status, content_type ? content_type : "application/octet-stream",
                 data ? data : "", len);
}

static void h_respond_problem(portico_ctx *ctx, int status, const char *code, const char *detail)
{
    if (!may_answer(ctx))
        return;
    if (status < 400 || status > 599 || !code || !*code)
        status = 500, code = "internal_error";
    pt_res_problem(pt_pctx_of(ctx)->res, status, code, "%s", detail ? detail : code);
}

static void h_respond_invalid(portico_ctx *ctx, json_t *errors)
{
    if (!may_answer(ctx)) {
        json_decref(errors);
        return;
    }
    pt_res_validation(pt_pctx_of(ctx)->res, errors ? errors : json_array());
}

/* The one place results become answers, so every portlet maps alike. */
static void h_respond_error(portico_ctx *ctx, int result, const char *detail)
{
    pt_pctx *c = ctx ? pt_pctx_of(ctx) : NULL;
    if (!c || !c->req || c->answered)
        return;
    int status = 500;
    const char *code = "internal_error", *dflt = "the server could not complete the request";
    switch (result) {
    case PORTICO_ENOTFOUND:
        status = 404, code = "not_found", dflt = "no such resource";
        break;
    case PORTICO_EEXISTS:
        status = 409, code = "conflict", dflt = "it exists already";
        break;
    case PORTICO_ECONFLICT:
        status = 409, code = "conflict", dflt = "the resource's state does not allow this";
        break;
    case PORTICO_EBADREQUEST:
        status = 400, code = "bad_request", dflt = c->bad[0] ? c->bad : "bad request";
        break;
    case PORTICO_EFORBIDDEN:
        status = 403, code = "forbidden", dflt = "you may not do this";
        break;
    case PORTICO_EIO:
        status = 503, code = "unavailable", dflt = "storage is unavailable; try again";
        break;
    default:
        if (result >= 0)
            pt_log_error("portlet", "%s req=%s: respond_error(%d) with a non-error",
                         c->pub.portlet_id, c->pub.request_id, result);
        break;
    }
    if (status == 503)
        pt_res_header(c->res, "Retry-After", "1");
    h_respond_problem(ctx, status, code, detail ? detail : dflt);
}

static void h_invalid_add(json_t *errors, const char *pointer, const char *message)
{
    if (!json_is_array(errors))
        return;
    json_array_append_new(errors, json_pack("{s:s, s:s}", "pointer", pointer ? pointer : "",
                                            "message", message ? message : "is invalid"));
}

static int h_set_header(portico_ctx *ctx, const char *name, const char *value)
{
    static const char *const allowed[] = {"Content-Disposition",
                                          "Cache-Control",
                                          "ETag",
                                          "Last-Modified",
                                          "Location",
                                          "Retry-After",
                                          NULL};
    pt_pctx *c = ctx ? pt_pctx_of(ctx) : NULL;
    if (!c || !c->req || c->answered || !name || !value || strlen(value) > 1024 || !ctype_ok(value))
        return PORTICO_EINVAL;
    for (size_t i = 0; allowed[i]; i++) {
        if (strcasecmp(name, allowed[i]) == 0) {
            pt_res_header(c->res, allowed[i], value);
            return 0;
        }
    }
    return PORTICO_EINVAL;
}

static bool etag_valid(const char *etag)
{
    size_t n = etag ? strlen(etag) : 0;
    return n >= 2 && n <= 256 && etag[0] == '"' && etag[n - 1] == '"' && ctype_ok(etag);
}

static bool h_not_modified(portico_ctx *ctx, const char *etag)
{
    pt_pctx *c = ctx ? pt_pctx_of(ctx) : NULL;
    if (!c || !c->req || c->answered || !etag_valid(etag))
        return false;
    pt_res_header(c->res, "ETag", etag);
    const char *inm = pt_req_header(c->req, "If-None-Match");
    if (!inm || !pt_etag_matches(inm, etag))
        return false;
    c->answered = true;
    pt_res_empty(c->res, 304);
    return true;
}

static bool h_precondition(portico_ctx *ctx, const char *etag)
{
    pt_pctx *c = ctx ? pt_pctx_of(ctx) : NULL;
    if (!c || !c->req || c->answered)
        return false;
    const char *im = pt_req_header(c->req, "If-Match");
    if (!im || (etag_valid(etag) && pt_etag_matches(im, etag)))
        return true;
    h_respond_problem(ctx, 412, "precondition_failed",
                      "the resource changed since you read it (If-Match does not match)");
    return false;
}

/* ---- time and misc --------------------------------------------------------------- */

static int32_t h_today(const portico_ctx *ctx)
{
    return ctx ? pt_pctx_today(pt_pctx_of(ctx)) : pt_clock_today();
}

static int local_date_txn(pt_txn *txn, void *arg)
{
    void **a = arg;
    pt_pctx *c = a[0];
    return pt_org_local_date(a[1], txn, c->org, *(int64_t *)a[2]);
}

static int32_t h_local_date(const portico_ctx *ctx, int64_t epoch)
{
    int32_t out = (int32_t)(epoch >= 0 ? epoch / 86400 : -((-epoch + 86399) / 86400));
    pt_pctx *c = ctx ? pt_pctx_of(ctx) : NULL;
    if (c && c->org) {
        int32_t local = out;
        void *a[3] = {c, &local, &epoch};
        if (pt_pctx_read(c, local_date_txn, a) == 0)
            out = local;
    }
    return out;
}

static void h_date_format(char buf[11], int32_t days)
{
    pt_date_format(buf, days);
}

static void h_time_format(char buf[21], int64_t epoch)
{
    pt_time_format(buf, epoch);
}

static int h_random_bytes(void *buf, size_t len)
{
    if (!buf && len)
        return PORTICO_EINVAL;
    randombytes_buf(buf, len);
    return 0;
}

static int h_schema_validate(const json_t *schema, const json_t *value, const char *base,
                             json_t *errors)
{
    if (!schema || !value)
        return PORTICO_EINVAL;
    json_t *errs = NULL;
    int err = pt_schema_check(schema, value, &errs);
    if (err == PT_EINVAL && json_is_array(errors)) {
        size_t i;
        json_t *e;
        json_array_foreach(errs, i, e)
        {
            const char *ptr = json_string_value(json_object_get(e, "pointer"));
            char *full = NULL;
            if (asprintf(&full, "%s%s", base ? base : "", ptr ? ptr : "") < 0)
                full = NULL;
            json_array_append_new(errors, json_pack("{s:s, s:O}", "pointer", full ? full : "",
                                                    "message", json_object_get(e, "message")));
            free(full);
        }
    }
    json_decref(errs);
    return err == 0 ? 0 : err == PT_EINVAL ? PORTICO_EINVAL : PORTICO_ERR;
}

const portico_host pt_portico_host = {
    .size = sizeof(portico_host),
    .abi_major = PORTICO_ABI_MAJOR,
    .abi_minor = PORTICO_ABI_MINOR,
    .log = h_log,
    .method = h_method,
    .param = h_param,
    .query = h_query,
    .header = h_header,
    .body = h_body,
    .body_raw = h_body_raw,
    .config = h_config,
    .accepts = h_accepts,
    .respond_json = h_respond_json,
    .respond_json_etag = h_respond_json_etag,
    .respond_bytes = h_respond_bytes,
    .respond_problem = h_respond_problem,
    .respond_invalid = h_respond_invalid,
    .respond_error = h_respond_error,
    .invalid_add = h_invalid_add,
    .set_header = h_set_header,
    .not_modified = h_not_modified,
    .precondition = h_precondition,
    .read = pt_ph_read,
    .write = pt_ph_write,
    .key = pt_ph_key,
    .get = pt_ph_get,
    .put = pt_ph_put,
    .insert = pt_ph_insert,
    .del = pt_ph_del,
    .put_bytes = pt_ph_put_bytes,
    .get_bytes = pt_ph_get_bytes,
    .scan = pt_ph_scan,
    .page = pt_ph_page,
    .next_seq = pt_ph_next_seq,
    .counter_add = pt_ph_counter_add,
    .counter_get = pt_ph_counter_get,
    .people_each = pt_ph_people_each,
    .person_get = pt_ph_person_get,
    .people_count = pt_ph_people_count,
    .org_get = pt_ph_org_get,
    .audit = pt_ph_audit,
    .now_ms = pt_clock_now_ms,
    .today = h_today,
    .local_date = h_local_date,
    .date_parse = pt_date_parse,
    .date_format = h_date_format,
    .time_parse = pt_time_parse,
    .time_format = h_time_format,
    .random_bytes = h_random_bytes,
    .schema_validate = h_schema_validate,
};
