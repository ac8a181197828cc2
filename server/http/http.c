/*
 * http.c - the CivetWeb glue: one catch-all request handler that reads the
 * request, routes it through app->router, authenticates the caller
 * (through app->authenticate, set by app/main.c), runs
 * the handler and writes the response with a single write.
 *
 * This is the only file that includes civetweb.h; everything else sees the
 * opaque pt_req / pt_res declared in http.h.  Requests can also be built
 * without a connection (pt_req_new_fake) so response helpers can be
 * unit-tested.
 */
#include "base/crypto.h"
#include "base/heap.h"
#include "base/log.h"
#include "base/access_log.h"
#include "base/metrics.h"
#include "http/app.h"
#include "http/cors.h"
#include "http/json_parse.h"

#include <civetweb.h>
#include <sodium.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PROBLEM_TYPE_BASE "https://portico.dev/problems/"
#define CT_JSON           "application/json; charset=utf-8"
#define CT_PROBLEM        "application/problem+json"

typedef struct hdr {
    char *name;
    char *value;
} hdr;

struct pt_res {
    int status;
    char *ctype;
    char *body;
    size_t len;
    hdr *hdrs;
    size_t nhdrs, caphdrs;
    bool close; /* answer with Connection: close */
};

struct pt_req {
    pt_app *app;
    struct mg_connection *conn; /* NULL for in-process requests */
    char *method;
    char *path;  /* raw (percent-encoded) path without the query */
    char *query; /* raw query string without '?', or NULL */
    char **fake_headers;
    char *body;
    size_t body_len;
    pt_route_match match;
    int route_rc;
    bool has_caller;
    pt_caller caller;
    char remote[48]; /* the socket peer */
    char client[48]; /* the client: see pt_req_client_addr */
    char id[24];     /* request id: logs, X-Request-Id, portlet ctx */
    pt_txn *snap;    /* the request's read snapshot, or NULL */
    char **scratch;  /* decoded query values handed out by pt_req_query */
    size_t nscratch, capscratch;
};

struct pt_http {
    struct mg_context *ctx;
    pt_app *app;
    int port;
};

/* ---- status titles --------------------------------------------------- */

static const char *status_title(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 505:
        return "HTTP Version Not Supported";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        break;
    }
    if (status >= 200 && status < 300)
        return "OK";
    if (status >= 400 && status < 500)
        return "Bad Request";
    return "Internal Server Error";
}

/* ---- requests -------------------------------------------------------- */

struct pt_app *pt_req_app(const pt_req *req)
{
    return req->app;
}

const char *pt_req_method(const pt_req *req)
{
    return req->method;
}

const char *pt_req_path(const pt_req *req)
{
    return req->path;
}

const char *pt_req_param(const pt_req *req, const char *name)
{
    if (req->route_rc != 0 || !name)
        return NULL;
    for (unsigned i = 0; i < req->match.nparams; i++)
        if (strcmp(req->match.param_names[i], name) == 0)
            return req->match.param_values[i];
    return NULL;
}

static char *req_keep(pt_req *req, char *s)
{
    if (!s)
        return NULL;
    if (req->nscratch == req->capscratch) {
        size_t cap = req->capscratch ? req->capscratch * 2 : 4;
        char **n = realloc(req->scratch, cap * sizeof(*n));
        if (!n) {
            free(s);
            return NULL;
        }
        req->scratch = n;
        req->capscratch = cap;
    }
    req->scratch[req->nscratch++] = s;
    return s;
}

/*
 * Decoded on demand: most handlers read one or two parameters, so parsing
 * the whole query up front would be wasted work.  A value with a bad
 * escape is returned raw, so it fails the handler's own validation as a
 * 400 instead of silently disappearing.
 */
const char *pt_req_query(pt_req *req, const char *name)
{
    if (!req->query || !name)
        return NULL;
    size_t nlen = strlen(name);
    const char *p = req->query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        char *key = malloc(klen + 1);
        if (!key)
            return NULL;
        bool hit = pt_url_decode(key, p, klen, true) == 0 && strlen(key) == nlen &&
                   memcmp(key, name, nlen) == 0;
        free(key);
        if (hit) {
            const char *v = eq ? eq + 1 : p + plen;
            size_t vlen = (size_t)(p + plen - v);
            char *val = malloc(vlen + 1);
            if (!val)
                return NULL;
            if (pt_url_decode(val, v, vlen, true) < 0) {
                memcpy(val, v, vlen);
                val[vlen] = '\0';
            }
            return req_keep(req, val);
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return NULL;
}

const char *pt_req_header(const pt_req *req, const char *name)
{
    if (!name)
        return NULL;
    if (req->conn)
        return mg_get_header(req->conn, name);
    size_t nlen = strlen(name);
    for (char **h = req->fake_headers; h && *h; h++) {
        if (strncasecmp(*h, name, nlen) == 0 && (*h)[nlen] == ':') {
            const char *v = *h + nlen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
    }
    return NULL;
}

const char *pt_req_client_addr(const pt_req *req)
{
    return req->client;
}

static bool ip_literal(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static bool proxy_trusted(const pt_app *app, const char *addr)
{
    for (unsigned i = 0; app && i < app->cfg.ntrusted_proxies; i++)
        if (strcmp(app->cfg.trusted_proxies[i], addr) == 0)
            return true;
    return false;
}

/*
 * Behind nginx every request comes from the proxy's address, so login
 * throttling per client address would lump all clients together.  The
 * forwarded address is believed only from a configured proxy: anyone else
 * could write X-Forwarded-For themselves.  X-Forwarded-For is read from the
 * right, skipping trusted proxies, so entries a client prepended are never
 * taken; an entry that is not an IP address stops the walk.
 */
static void req_resolve_client(pt_req *req)
{
    pt_strlcpy(req->client, req->remote, sizeof(req->client));
    if (!proxy_trusted(req->app, req->remote))
        return;
    const char *xff = pt_req_header(req, "X-Forwarded-For");
    if (xff && *xff) {
        size_t end = strlen(xff);
        while (end > 0) {
            size_t start = end;
            while (start > 0 && xff[start - 1] != ',')
                start--;
            size_t a = start, b = end;
            while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
                a++;
            while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
                b--;
            char hop[48];
            if (b - a == 0 || b - a >= sizeof(hop))
                break;
            memcpy(hop, xff + a, b - a);
            hop[b - a] = '\0';
            if (!ip_literal(hop))
                break;
            pt_strlcpy(req->client, hop, sizeof(req->client));
            if (!proxy_trusted(req->app, hop))
                break;
            end = start > 0 ? start - 1 : 0;
        }
        return;
    }
    const char *real = pt_req_header(req, "X-Real-IP");
    if (real && strlen(real) < sizeof(req->client) && ip_literal(real))
        pt_strlcpy(req->client, real, sizeof(req->client));
}

const char *pt_req_body(const pt_req *req, size_t *len)
{
    if (len)
        *len = req->body ? req->body_len : 0;
    return req->body ? req->body : "";
}

const char *pt_req_id(const pt_req *req)
{
    return req->id;
}

const struct pt_caller *pt_req_caller(const pt_req *req)
{
    return req->has_caller ? &req->caller : NULL;
}

/* The media type without parameters, compared case-insensitively. */
static bool content_type_is_json(const char *ct)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t len = strcspn(ct, ";");
    while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
        len--;
    if (len == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    /* Structured syntax suffix, e.g. application/merge-patch+json. */
    return len > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + len - 5, "+json", 5) == 0;
}

int pt_req_json_object(pt_req *req, pt_res *res, json_t **out)
{
    *out = NULL;
    const char *ct = pt_req_header(req, "Content-Type");
    if (ct && *ct && !content_type_is_json(ct)) {
        pt_res_problem(res, 415, "unsupported_media_type",
                       "the request body must be application/json");
        return PT_EINVAL;
    }
    size_t len;
    const char *body = pt_req_body(req, &len);
    if (len == 0) {
        pt_res_problem(res, 400, "bad_request", "a JSON request body is required");
        return PT_EINVAL;
    }
    if (!pt_json_depth_ok(body, len, PT_JSON_MAX_DEPTH)) {
        pt_res_problem(res, 400, "bad_request", "JSON nested deeper than %d levels",
                       PT_JSON_MAX_DEPTH);
        return PT_EINVAL;
    }
    json_error_t err;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!j) {
        pt_res_problem(res, 400, "bad_request", "malformed JSON at line %d, column %d: %s",
                       err.line, err.column, err.text);
        return PT_EINVAL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        json_t *errors = json_array();
        json_array_append_new(errors, json_pack("{s:s, s:s}", "pointer", "", "message",
                                                "the request body must be a JSON object"));
        pt_res_validation(res, errors);
        return PT_EINVAL;
    }
    *out = j;
    return 0;
}

/* ---- responses ------------------------------------------------------- */

static void res_set_body(pt_res *res, int status, const char *ctype, char *body, size_t len)
{
    free(res->ctype);
    free(res->body);
    res->status = status;
    res->ctype = ctype ? strdup(ctype) : NULL;
    res->body = body;
    res->len = len;
}

static void res_fail_oom(pt_res *res)
{
    static const char msg[] = "{\"type\":\"" PROBLEM_TYPE_BASE "internal_error\",\"title\":"
                              "\"Internal Server Error\",\"status\":500,\"detail\":\"out of "
                              "memory\",\"code\":\"internal_error\"}";
    res_set_body(res, 500, CT_PROBLEM, strdup(msg), sizeof(msg) - 1);
}

void pt_res_json(pt_res *res, int status, json_t *body)
{
    char *text =
        body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(body);
    if (!text) {
        pt_log_error("http", "could not serialise a JSON response");
        res_fail_oom(res);
        return;
    }
    res_set_body(res, status, CT_JSON, text, strlen(text));
}

void pt_res_bytes(pt_res *res, int status, const char *content_type, const void *data, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) {
        res_fail_oom(res);
        return;
    }
    if (len)
        memcpy(copy, data, len);
    copy[len] = '\0';
    res_set_body(res, status, content_type ? content_type : "application/octet-stream", copy, len);
}

void pt_res_empty(pt_res *res, int status)
{
    res_set_body(res, status, NULL, NULL, 0);
}

void pt_res_header(pt_res *res, const char *name, const char *value)
{
    if (!name || !value || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return; /* never let a value split the header block */
    for (size_t i = 0; i < res->nhdrs; i++) {
        if (strcasecmp(res->hdrs[i].name, name) == 0) {
            char *v = strdup(value);
            if (v) {
                free(res->hdrs[i].value);
                res->hdrs[i].value = v;
            }
            return;
        }
    }
    if (res->nhdrs == res->caphdrs) {
        size_t cap = res->caphdrs ? res->caphdrs * 2 : 4;
        hdr *n = realloc(res->hdrs, cap * sizeof(*n));
        if (!n)
            return;
        res->hdrs = n;
        res->caphdrs = cap;
    }
    hdr h = {strdup(name), strdup(value)};
    if (!h.name || !h.value) {
        free(h.name);
        free(h.value);
        return;
    }
    res->hdrs[res->nhdrs++] = h;
}

const char *pt_res_get_header(const pt_res *res, const char *name)
{
    if (strcasecmp(name, "Content-Type") == 0)
        return res->ctype;
    for (size_t i = 0; i < res->nhdrs; i++)
        if (strcasecmp(res->hdrs[i].name, name) == 0)
            return res->hdrs[i].value;
    return NULL;
}

const char *pt_res_body(const pt_res *res, size_t *len)
{
    if (len)
        *len = res->len;
    return res->body ? res->body : "";
}

int pt_res_status(const pt_res *res)
{
    return res->status;
}

static json_t *problem_new(int status, const char *code, const char *detail)
{
    char type[160];
    snprintf(type, sizeof(type), PROBLEM_TYPE_BASE "%s", code);
    return json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", type, "title", status_title(status),
                     "status", status, "detail", detail ? detail : "", "code", code);
}

static void res_problem_json(pt_res *res, int status, json_t *p)
{
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!text) {
        res_fail_oom(res);
        return;
    }
    res_set_body(res, status, CT_PROBLEM, text, strlen(text));
    if (status == 401)
        pt_res_header(res, "WWW-Authenticate", "Bearer");
}

void pt_res_problem(pt_res *res, int status, const char *code, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    res_problem_json(res, status, problem_new(status, code, detail));
}

void pt_res_validation(pt_res *res, json_t *errors)
{
    json_t *p = problem_new(422, "validation_failed", "the request has invalid fields");
    if (p)
        json_object_set_new(p, "errors", errors ? errors : json_array());
    else
        json_decref(errors);
    res_problem_json(res, 422, p);
}

void pt_res_error(pt_res *res, int err)
{
    const char *detail = pt_error_last();
    switch (err) {
    case PT_ENOTFOUND:
        pt_res_problem(res, 404, "not_found", "%s", *detail ? detail : "not found");
        break;
    case PT_EEXISTS:
        pt_res_problem(res, 409, "conflict", "%s", *detail ? detail : "already exists");
        break;
    case PT_EINVAL: {
        json_t *errors = json_array();
        json_array_append_new(errors, json_pack("{s:s, s:s}", "pointer", "", "message",
                                                *detail ? detail : "invalid input"));
        pt_res_validation(res, errors);
        break;
    }
    case PT_ECONFLICT:
        pt_res_problem(res, 409, "conflict", "%s", *detail ? detail : "conflict");
        break;
    case PT_EDENIED:
        pt_res_problem(res, 403, "forbidden", "%s", *detail ? detail : "forbidden");
        break;
    case PT_ETOOBIG:
        pt_res_problem(res, 413, "payload_too_large", "%s", *detail ? detail : "too large");
        break;
    case PT_EBUSY:
        pt_res_header(res, "Retry-After", "1");
        pt_res_problem(res, 503, "server_busy", "%s",
                       *detail ? detail : "the server is busy; try again shortly");
        break;
    case PT_EIO:
        /* The store could not be reached (its database server went away
         * mid-request, or a commit's outcome never came back): the same
         * answer as when authentication finds it gone, not a 500.  The
         * detail names the database error, so it goes to the log only. */
        pt_log_warn("http", "store unavailable: %s", detail);
        pt_res_header(res, "Retry-After", "1");
        pt_res_problem(res, 503, "unavailable", "the store cannot be reached; try again");
        break;
    default:
        pt_log_error("http", "internal error %d: %s", err, detail);
        pt_res_problem(res, 500, "internal_error", "the server could not complete the request");
        break;
    }
}

/* True if an If-None-Match list names etag (weak comparison, RFC 9110). */
bool pt_etag_matches(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t len = strcspn(p, ",");
        size_t trimmed = len;
        while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
            trimmed--;
        if (trimmed == elen && memcmp(p, etag, elen) == 0)
            return true;
        p += len;
    }
    return false;
}

bool pt_res_json_etag(pt_req *req, pt_res *res, json_t *body)
{
    char *text =
        body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(body);
    if (!text) {
        res_fail_oom(res);
        return false;
    }
    size_t len = strlen(text);
    unsigned char h[crypto_generichash_BYTES_MIN];
    crypto_generichash(h, sizeof(h), (const unsigned char *)text, len, NULL, 0);
    char hex[2 * sizeof(h) + 1];
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    char etag[sizeof(hex) + 2];
    snprintf(etag, sizeof(etag), "\"%s\"", hex);

    const char *inm = pt_req_header(req, "If-None-Match");
    if (inm && pt_etag_matches(inm, etag)) {
        free(text);
        pt_res_empty(res, 304);
        pt_res_header(res, "ETag", etag);
        pt_res_header(res, "Cache-Control", "private, no-cache");
        return true;
    }
    res_set_body(res, 200, CT_JSON, text, len);
    pt_res_header(res, "ETag", etag);
    pt_res_header(res, "Cache-Control", "private, no-cache");
    return false;
}

static void res_reset(pt_res *res)
{
    free(res->ctype);
    free(res->body);
    for (size_t i = 0; i < res->nhdrs; i++) {
        free(res->hdrs[i].name);
        free(res->hdrs[i].value);
    }
    free(res->hdrs);
    memset(res, 0, sizeof(*res));
}

/* ---- the pipeline ---------------------------------------------------- */

static bool has_bearer(const char *auth)
{
    return auth && strncasecmp(auth, "Bearer ", 7) == 0 && auth[7] != '\0';
}

/*
 * Authentication happens here rather than in each handler so that no
 * route can forget it: everything not flagged PUBLIC needs a live token.
 * On public routes a valid token still fills the caller (e.g. logout-ish
 * or "who am I" behaviour), but a bad one is simply ignored.
 */
static int authenticate(pt_req *req, const char *authorization, const char **code)
{
    pt_txn *snap = NULL;
    *code = "unauthorized";
    if (!req->app->authenticate)
        return PT_EINVAL;
    if ((req->match.flags & PT_ROUTE_SNAPSHOT) && pt_req_snapshot(req, &snap) < 0)
        return PT_EIO;
    return req->app->authenticate(req->app, authorization, snap, &req->caller, code);
}

int pt_req_snapshot(pt_req *req, pt_txn **out)
{
    *out = NULL;
    if (!req->snap) {
        int err = pt_store_snapshot_begin(req->app->store, &req->snap);
        if (err < 0)
            return err;
    }
    *out = req->snap;
    return 0;
}

void pt_req_snapshot_end(pt_req *req)
{
    pt_store_snapshot_end(req->snap);
    req->snap = NULL;
}

static void run_routed(pt_req *req, pt_res *res)
{
    const char *auth = pt_req_header(req, "Authorization");
    if (!(req->match.flags & PT_ROUTE_PUBLIC)) {
        if (!has_bearer(auth)) {
            pt_res_problem(res, 401, "unauthorized", "a bearer token is required");
            return;
        }
        const char *code = NULL;
        int rc = authenticate(req, auth, &code);
        if (rc < 0) {
            if (!code)
                code = "unauthorized";
            if (rc == PT_EIO) /* the store cannot be reached: not the caller's fault */
                pt_res_problem(res, 503, "unavailable", "the store cannot be reached; try again");
            else if (strcmp(code, "leaver_access_expired") == 0)
                pt_res_problem(res, 403, code, "access for leavers has ended");
            else if (strcmp(code, "token_expired") == 0)
                pt_res_problem(res, 401, code, "the access token has expired");
            else
                pt_res_problem(res, 401, code, "the access token is not valid");
            return;
        }
        req->has_caller = true;
    }
    /* Public routes never look at a token: no verification work for a
     * header they do not need. */
    pt_error_clear();
    req->match.fn(req, res, req->match.ud);
    if (res->status == 0) {
        pt_log_error("http", "handler for %s %s set no response", req->method, req->match.pattern);
        pt_res_problem(res, 500, "internal_error", "the server could not complete the request");
    }
}

/* ---- CORS -------------------------------------------------------------- */

/*
 * Answered here, not by CivetWeb (whose own CORS options are switched off
 * in pt_http_start: it would answer every preflight with "*").  An origin
 * on an organisation's allow-list (http/cors.h) gets its own name back,
 * never "*", and no credentials: the API uses bearer tokens only.
 */
static bool cors_preflight(pt_req *req, pt_res *res)
{
    const char *origin = pt_req_header(req, "Origin");
    if (strcmp(req->method, "OPTIONS") != 0 || !origin ||
        !pt_req_header(req, "Access-Control-Request-Method"))
        return false;
    if (!pt_cors_allowed(req->app->cors, origin)) {
        pt_res_problem(res, 403, "forbidden", "this origin is not allowed");
        return true;
    }
    pt_res_empty(res, 204);
    pt_res_header(res, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
    pt_res_header(res, "Access-Control-Allow-Headers",
                  "Authorization, Content-Type, If-None-Match");
    pt_res_header(res, "Access-Control-Max-Age", "600");
    return true;
}

/* Every answer to a request with an Origin varies by it; an allowed one
 * may read the body and the headers a client needs. */
static void cors_headers(pt_req *req, pt_res *res)
{
    const char *origin = pt_req_header(req, "Origin");
    if (!origin)
        return;
    pt_res_header(res, "Vary", "Origin");
    if (!pt_cors_allowed(req->app->cors, origin))
        return;
    pt_res_header(res, "Access-Control-Allow-Origin", origin);
    if (strcmp(req->method, "OPTIONS") != 0)
        pt_res_header(res, "Access-Control-Expose-Headers",
                      "ETag, Location, Retry-After, WWW-Authenticate");
}

static void route_request(pt_req *req)
{
    req->route_rc = pt_router_find(req->app->router, req->method, req->path, &req->match);
}

static void answer_unrouted(pt_req *req, pt_res *res)
{
    if (req->route_rc == PT_EDENIED) {
        pt_res_problem(res, 405, "method_not_allowed", "%s is not allowed here", req->method);
        pt_res_header(res, "Allow", req->match.allow);
    } else {
        pt_res_problem(res, 404, "not_found", "no such resource");
    }
}

/* ---- in-process requests --------------------------------------------- */

pt_req *pt_req_new_fake(struct pt_app *app, const char *method, const char *path, const char *query,
                        const char *const *headers, const void *body, size_t body_len)
{
    pt_req *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    req->app = app;
    req->method = strdup(method ? method : "GET");
    req->path = strdup(path ? path : "/");
    req->query = query ? strdup(query) : NULL;
    req->route_rc = PT_ENOTFOUND;
    snprintf(req->remote, sizeof(req->remote), "127.0.0.1");
    size_t n = 0;
    while (headers && headers[n])
        n++;
    req->fake_headers = calloc(n + 1, sizeof(char *));
    bool ok = req->method && req->path && (!query || req->query) && req->fake_headers;
    for (size_t i = 0; ok && i < n; i++)
        ok = (req->fake_headers[i] = strdup(headers[i])) != NULL;
    if (ok && body) {
        req->body = malloc(body_len + 1);
        ok = req->body != NULL;
        if (ok) {
            memcpy(req->body, body, body_len);
            req->body[body_len] = '\0';
            req->body_len = body_len;
        }
    }
    if (!ok) {
        pt_req_free_fake(req);
        return NULL;
    }
    req_resolve_client(req);
    return req;
}

static void req_release(pt_req *req)
{
    pt_req_snapshot_end(req);
    for (size_t i = 0; i < req->nscratch; i++)
        free(req->scratch[i]);
    free(req->scratch);
    free(req->body);
}

void pt_req_free_fake(pt_req *req)
{
    if (!req)
        return;
    req_release(req);
    for (char **h = req->fake_headers; h && *h; h++)
        free(*h);
    free(req->fake_headers);
    free(req->method);
    free(req->path);
    free(req->query);
    free(req);
}

pt_res *pt_res_new_fake(void)
{
    return calloc(1, sizeof(pt_res));
}

void pt_res_free_fake(pt_res *res)
{
    if (!res)
        return;
    res_reset(res);
    free(res);
}

/* ---- CivetWeb ---------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static bool buf_add(buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *n = realloc(b->p, cap);
        if (!n)
            return false;
        b->p = n;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return true;
}

static bool buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool buf_printf(buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if ((size_t)n < sizeof(tmp))
        return buf_add(b, tmp, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return false;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bool ok = buf_add(b, big, (size_t)n);
    free(big);
    return ok;
}

/* Whether CivetWeb will keep this connection open, mirroring its rules so
 * the Connection header we send tells the truth. */
static bool client_keeps_alive(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *c = mg_get_header(conn, "Connection");
    if (c)
        return strcasestr(c, "keep-alive") != NULL && strcasestr(c, "close") == NULL;
    return ri->http_version && strcmp(ri->http_version, "1.1") == 0;
}

/*
 * Status line, headers and body go out in one buffer and one mg_write:
 * fewer syscalls and no partially-written responses interleaved with
 * Nagle delays.  The answer is assembled in *b_out (emptied first; the
 * caller keeps or frees its memory: a worker reuses one).
 */
static void send_response(struct mg_connection *conn, const pt_req *req, pt_res *res, buf *b_out)
{
    int status = res->status ? res->status : 500;
    bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    bool keep = !res->close && client_keeps_alive(conn);
    if (res->close)
        mg_disable_connection_keep_alive(conn);

    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);

    buf *b = b_out;
    b->len = 0;
    bool ok = buf_printf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, status_title(status), date);
    if (!no_body) {
        ok = ok && buf_printf(b, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                              res->ctype ? res->ctype : "text/plain", res->len);
    }
    /* Every answer (errors and health too) is not stored by default: API
     * answers are personal.  A handler that sets its own Cache-Control
     * (ETag'd dashboards revalidate, the JWKS is public) wins.  nosniff
     * keeps a browser from reading a JSON or text body as anything else. */
    bool own_cc = false;
    for (size_t i = 0; i < res->nhdrs; i++)
        own_cc = own_cc || strcasecmp(res->hdrs[i].name, "Cache-Control") == 0;
    if (!own_cc)
        ok = ok && buf_printf(b, "Cache-Control: no-store\r\n");
    ok = ok && buf_printf(b, "X-Content-Type-Options: nosniff\r\n");
    for (size_t i = 0; i < res->nhdrs; i++)
        ok = ok && buf_printf(b, "%s: %s\r\n", res->hdrs[i].name, res->hdrs[i].value);
    if (req->id[0])
        ok = ok && buf_printf(b, "X-Request-Id: %s\r\n", req->id);
    if (!keep)
        ok = ok && buf_printf(b, "Connection: close\r\n");
    else if (mg_get_request_info(conn)->http_version &&
             strcmp(mg_get_request_info(conn)->http_version, "1.0") == 0)
        ok = ok && buf_printf(b, "Connection: keep-alive\r\n");
    ok = ok && buf_add(b, "\r\n", 2);
    /* HEAD gets the GET answer's headers, Content-Length included. */
    const char *method = mg_get_request_info(conn)->request_method;
    if (!no_body && res->len && !(method && strcmp(method, "HEAD") == 0))
        ok = ok && buf_add(b, res->body, res->len);
    if (ok) {
        mg_write(conn, b->p, b->len);
    } else {
        static const char oom[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: "
                                  "0\r\nConnection: close\r\n\r\n";
        mg_disable_connection_keep_alive(conn);
        mg_write(conn, oom, sizeof(oom) - 1);
    }
}

/*
 * Reads the whole body, refusing it (413) once it passes the cap.  A
 * declared Content-Length over the cap is refused before reading a byte;
 * chunked or unannounced bodies are read up to cap+1.  On 413 the
 * connection is closed (CivetWeb drains what the client still sends).
 */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool read_body(struct mg_connection *conn, pt_req *req, pt_res *res, size_t cap,
                      unsigned timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (ri->content_length > 0 && (unsigned long long)ri->content_length > cap) {
        pt_res_problem(res, 413, "payload_too_large", "the request body exceeds %zu bytes", cap);
        res->close = true;
        return false;
    }
    const char *te = mg_get_header(conn, "Transfer-Encoding");
    if (ri->content_length == 0 || (ri->content_length < 0 && !te))
        return true;
    bool known = ri->content_length > 0;
    size_t size = known ? (size_t)ri->content_length + 1 : 16384;
    char *body = malloc(size);
    if (!body) {
        pt_res_problem(res, 500, "internal_error", "out of memory");
        res->close = true;
        return false;
    }
    size_t len = 0;
    while (len <= cap) {
        if (len + 1 >= size) {
            if (known)
                break; /* all of the declared length is in */
            size_t nsize = size * 2 > cap + 2 ? cap + 2 : size * 2;
            char *n = realloc(body, nsize);
            if (!n) {
                free(body);
                pt_res_problem(res, 500, "internal_error", "out of memory");
                res->close = true;
                return false;
            }
            body = n;
            size = nsize;
        }
        /* Small reads, each bounded by request_timeout_ms, with the whole
         * body bounded by body_timeout_ms: a client trickling a byte at a
         * time cannot hold a worker thread indefinitely. */
        size_t want = size - 1 - len;
        int r = mg_read(conn, body + len, want > 4096 ? 4096 : want);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (mono_ms() > deadline && (known ? len < (size_t)ri->content_length : true)) {
            free(body);
            pt_res_problem(res, 408, "request_timeout",
                           "the request body did not arrive within %u ms", timeout_ms);
            res->close = true;
            return false;
        }
    }
    if (len > cap) {
        free(body);
        pt_res_problem(res, 413, "payload_too_large", "the request body exceeds %zu bytes", cap);
        res->close = true;
        return false;
    }
    if (known && len < (size_t)ri->content_length) {
        free(body);
        pt_res_problem(res, 400, "bad_request", "the request body is incomplete");
        res->close = true;
        return false;
    }
    body[len] = '\0';
    req->body = body;
    req->body_len = len;
    return true;
}

/*
 * After refusing a body, read and discard what the client is still
 * sending before the connection closes.  Clients such as Python's
 * http.client write the whole body before reading the answer; closing on
 * them with unread data makes the kernel reset the connection and they
 * never see the 413.  Bounded, and skipped when the client waits for
 * "100 Continue" (it has not sent the body and never will).
 */
#define DRAIN_MAX ((size_t)64 << 20)
static void drain_body(struct mg_connection *conn)
{
    const char *expect = mg_get_header(conn, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0)
        return;
    char sink[16384];
    size_t total = 0;
    int r;
    while (total < DRAIN_MAX && (r = mg_read(conn, sink, sizeof(sink))) > 0)
        total += (size_t)r;
}

/* True if s is one or more ASCII digits and nothing else. */
static bool all_digits(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/*
 * Request framing that two HTTP parsers could read differently is the raw
 * material of request smuggling: a proxy in front frames the body one way,
 * porticod another, and the leftover bytes run as a request nobody sent.
 * So anything but one plain Content-Length, or exactly "chunked" with no
 * Content-Length, is refused before a byte of the body is read.  Returns
 * the reason, or NULL when the framing is unambiguous.  (CivetWeb has
 * already split the header block; what it normalised away, such as bare-LF
 * line ends, is not visible here: see README, "Deploying".)
 */
static const char *framing_problem(const struct mg_request_info *ri)
{
    const char *cl = NULL, *te = NULL;
    int ncl = 0, nte = 0;
    for (int i = 0; i < ri->num_headers; i++) {
        const char *n = ri->http_headers[i].name, *v = ri->http_headers[i].value;
        if (!n || !*n || strpbrk(n, " \t\r\n"))
            return "a header name contains white space";
        if (strcasecmp(n, "Content-Length") == 0) {
            ncl++;
            cl = v;
        } else if (strcasecmp(n, "Transfer-Encoding") == 0) {
            nte++;
            te = v;
        }
    }
    if (ncl > 1)
        return "more than one Content-Length";
    if (ncl && !all_digits(cl))
        return "Content-Length must be digits only";
    if (ncl && strlen(cl) > 18)
        return "Content-Length is out of range";
    if (nte > 1)
        return "more than one Transfer-Encoding";
    if (nte && strcasecmp(te, "chunked") != 0)
        return "the only transfer coding accepted is chunked";
    if (ncl && nte)
        return "Content-Length together with Transfer-Encoding";
    return NULL;
}

/*
 * Request ids: a random per-process prefix and a counter, so ids from two
 * processes (or two runs) do not collide in one log.
 */
static uint32_t request_id_prefix;
static void request_id_prefix_init(void)
{
    pt_crypto_init();
    request_id_prefix = randombytes_random();
}

static void request_id_next(char *out, size_t cap)
{
    static atomic_uint_fast64_t counter;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, request_id_prefix_init);
    snprintf(out, cap, "%08x-%llx", request_id_prefix,
             (unsigned long long)atomic_fetch_add(&counter, 1) + 1);
}

/* A route may ask for a larger body (a payday bulk load); the server's
 * bulk_body_max caps what any route can ask for. */
static size_t body_cap(const pt_config *cfg, const pt_req *req)
{
    size_t want = req->route_rc == 0 ? req->match.body_max : 0;
    if (want == 0)
        return cfg->max_body_bytes;
    return want < cfg->bulk_body_max ? want : cfg->bulk_body_max;
}

/*
 * Each CivetWeb worker keeps its request record (about 2.7 KB) and the
 * buffer answers are assembled in, instead of a calloc and a growing
 * realloc per request: with many workers, glibc's arenas were a visible
 * cost.  Freed by a pthread key destructor when the worker exits; an
 * answer buffer that grew past WORKER_OUT_KEEP is given back at once so
 * one large answer does not stay pinned in every worker.
 */
#define WORKER_OUT_KEEP (64 * 1024)

typedef struct worker_mem {
    pt_req req;
    buf out;
} worker_mem;

static pthread_key_t worker_key;
static pthread_once_t worker_once = PTHREAD_ONCE_INIT;
static _Thread_local worker_mem *tl_worker;

static void worker_mem_free(void *p)
{
    worker_mem *m = p;
    if (!m)
        return;
    free(m->out.p);
    free(m);
    if (tl_worker == m)
        tl_worker = NULL;
}

static void worker_key_create(void)
{
    (void)pthread_key_create(&worker_key, worker_mem_free);
}

static worker_mem *worker_mem_get(void)
{
    if (tl_worker)
        return tl_worker;
    pthread_once(&worker_once, worker_key_create);
    worker_mem *m = calloc(1, sizeof(*m));
    if (m && pthread_setspecific(worker_key, m) != 0) {
        free(m);
        m = NULL;
    }
    return tl_worker = m;
}

static void worker_out_trim(buf *b)
{
    b->len = 0;
    if (b->cap > WORKER_OUT_KEEP) {
        free(b->p);
        b->p = NULL;
        b->cap = 0;
    }
}

static int on_request(struct mg_connection *conn, void *ud)
{
    pt_http *h = ud;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const struct mg_request_info *ri = mg_get_request_info(conn);

    worker_mem *mem = worker_mem_get();
    pt_res res = {0};
    if (!mem) {
        buf b = {0};
        res_fail_oom(&res);
        res.close = true;
        pt_req dummy = {.path = "/"};
        send_response(conn, &dummy, &res, &b);
        free(b.p);
        res_reset(&res);
        return 500;
    }
    pt_req *req = &mem->req;
    memset(req, 0, sizeof(*req));
    req->app = h->app;
    req->conn = conn;
    req->method = (char *)ri->request_method;
    /* decode_url is off, so local_uri_raw is exactly what the client sent
     * (minus scheme/host and query); the router decodes per segment. */
    req->path = (char *)(ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri);
    if (!req->path)
        req->path = (char *)"";
    req->query = (char *)ri->query_string;
    req->route_rc = PT_ENOTFOUND;
    pt_strlcpy(req->remote, ri->remote_addr, sizeof(req->remote));
    req_resolve_client(req);
    request_id_next(req->id, sizeof(req->id));

    route_request(req);
    const char *framing = framing_problem(ri);
    if (framing) {
        pt_res_problem(&res, 400, "bad_request", "ambiguous request framing: %s", framing);
        res.close = true;
    } else if (read_body(conn, req, &res, body_cap(&h->app->cfg, req),
                         h->app->cfg.body_timeout_ms ? h->app->cfg.body_timeout_ms : 30000)) {
        /* Before any transaction of the request is open: another node's
         * org write may have changed the allow-list. */
        if (pt_req_header(req, "Origin"))
            pt_cors_refresh(h->app->cors, h->app->store);
        if (cors_preflight(req, &res))
            ;
        else if (req->route_rc == 0)
            run_routed(req, &res);
        else
            answer_unrouted(req, &res);
    }
    cors_headers(req, &res);
    send_response(conn, req, &res, &mem->out);
    worker_out_trim(&mem->out);
    if (res.close && !framing)
        drain_body(conn); /* a body of unknown length is not drained */

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    int status = res.status ? res.status : 500;
    const char *route = req->route_rc == 0 ? req->match.pattern : "unmatched";
    if (h->app->metrics)
        pt_metrics_observe(h->app->metrics, req->method, route, status, secs);
    pt_access_entry entry = {req->id,
                             req->client,
                             req->method,
                             req->path,
                             req->has_caller ? req->caller.username : NULL,
                             status,
                             secs * 1000.0,
                             res.body ? res.len : 0};
    pt_access_log_write(&entry);

    size_t body_len = req->body ? req->body_len : 0;
    req_release(req);
    res_reset(&res);
    /* A large body leaves its parse in this thread's arena: give it back. */
    pt_heap_after_request(body_len);
    return status;
}

/*
 * Authentication is Portico's own (bearer tokens, in run_routed).  With no
 * authorization handler CivetWeb looks for an .htpasswd file beside the
 * path on every request (a stat of "/.htpasswd"); this one admits every
 * request to on_request, so the file system is never consulted.
 */
static int on_civetweb_auth(struct mg_connection *conn, void *ud)
{
    (void)conn;
    (void)ud;
    return 1;
}

/* The methods a Portico route can have (HEAD and OPTIONS answered for
 * every path).  Any other method is 501, never CivetWeb's 400. */
static bool method_served(const char *m)
{
    static const char *const served[] = {"GET",   "HEAD",   "POST",    "PUT",
                                         "PATCH", "DELETE", "OPTIONS", NULL};
    for (const char *const *s = served; *s; s++)
        if (strcmp(*s, m) == 0)
            return true;
    return false;
}

/* A method token as RFC 9110 defines it, so a garbled request line is 400. */
static bool method_token(const char *m)
{
    if (!m || !*m || strlen(m) > 32)
        return false;
    for (const char *p = m; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~", *p)))
            return false;
    return true;
}

/*
 * CivetWeb answers some requests itself, before on_request: a request line
 * or header it cannot parse (control characters, a bad version), a method
 * it does not serve (TRACE, made-up ones), a header block over
 * max_request_size.  Its own page is text/plain; this callback writes the
 * same status as problem+json instead, like every other Portico error, and
 * closes the connection.  A method that reaches this callback is one no
 * Portico route has (TRACE, BREW): 501 not_implemented (RFC 9110 15.6.2).
 * Not 405 with the path's Allow: CivetWeb stops parsing at such a method,
 * so request_info's target is not reliably this request's (seen under
 * ASan), and only the method is read here.  Returns 0: answered.
 */
static int on_http_error(struct mg_connection *conn, int status, const char *errmsg)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    pt_req req;
    pt_res res;
    const char *method = ri ? ri->request_method : NULL;
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    if (status == 400 && method_token(method) && !method_served(method)) {
        pt_res_problem(&res, 501, "not_implemented", "%s is not a method this server implements",
                       method);
    } else {
        const char *code = status == 413   ? "payload_too_large"
                           : status == 408 ? "request_timeout"
                           : status == 431 ? "request_header_fields_too_large"
                           : status == 414 ? "uri_too_long"
                           : status == 505 ? "http_version_not_supported"
                           : status >= 500 ? "internal_error"
                                           : "bad_request";
        if (status < 400 || status > 599)
            status = 400, code = "bad_request";
        pt_res_problem(&res, status, code, "%s",
                       errmsg && *errmsg ? errmsg : "the request could not be read");
    }
    res.close = true;
    buf b = {0};
    send_response(conn, &req, &res, &b);
    free(b.p);
    res_reset(&res);
    return 0;
}

static int on_log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    pt_log_warn("civetweb", "%s", message);
    return 1;
}

int pt_http_start(pt_http **out, struct pt_app *app)
{
    *out = NULL;
    if (pt_crypto_init() < 0)
        return PT_ERR;
    pt_http *h = calloc(1, sizeof(*h));
    if (!h)
        return PT_ENOMEM;
    h->app = app;
    mg_init_library(0);

    /*
     * CivetWeb gives each connection a worker thread from accept to close,
     * idle or not, so the thread count is the number of connections served
     * at once and the timeouts decide how long an idle or slow one may keep
     * its thread: the whole header block within request_timeout_ms, the
     * next request on a kept-alive connection within keep_alive_timeout_ms.
     * A bigger queue and backlog let a burst wait for a free worker
     * instead of being refused.  Behind nginx (tools/deploy/) slow clients
     * never reach porticod at all.
     */
    char threads[16], req_to[16], ka_to[16];
    snprintf(threads, sizeof(threads), "%u", app->cfg.num_threads ? app->cfg.num_threads : 256);
    snprintf(req_to, sizeof(req_to), "%u",
             app->cfg.request_timeout_ms ? app->cfg.request_timeout_ms : 10000);
    snprintf(ka_to, sizeof(ka_to), "%u",
             app->cfg.keep_alive_timeout_ms ? app->cfg.keep_alive_timeout_ms : 5000);
    const char *opts[] = {"listening_ports", app->cfg.listen, "num_threads", threads, "tcp_nodelay",
                          "1", "enable_keep_alive", "yes", "request_timeout_ms", req_to,
                          "keep_alive_timeout_ms", ka_to, "linger_timeout_ms", "500",
                          "connection_queue", "1024", "listen_backlog", "1024", "decode_url", "no",
                          /* CORS is ours (cors_preflight): CivetWeb's own
                           * would allow every origin ("*"). */
                          "access_control_allow_origin", "", "access_control_allow_methods", "",
                          "access_control_allow_headers", "",
                          /* Room for headers up to 64 KiB so an oversized
                           * token reaches our own check (401) instead of
                           * CivetWeb's plain-text 400. */
                          "max_request_size", "65536", NULL};
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.log_message = on_log_message;
    cb.http_error = on_http_error;
    struct mg_init_data init = {&cb, h, opts};
    char errtext[256] = "";
    unsigned errcode = 0;
    struct mg_error_data err = {&errcode, errtext, sizeof(errtext)};
    h->ctx = mg_start2(&init, &err);
    if (!h->ctx) {
        pt_error_set("cannot listen on %s: %s", app->cfg.listen,
                     errtext[0] ? errtext : "server failed to start");
        free(h);
        mg_exit_library();
        return PT_EIO;
    }
    mg_set_request_handler(h->ctx, "/", on_request, h);
    mg_set_auth_handler(h->ctx, "/", on_civetweb_auth, NULL);

    struct mg_server_port ports[4];
    int n = mg_get_server_ports(h->ctx, 4, ports);
    h->port = n > 0 ? ports[0].port : -1;
    *out = h;
    return 0;
}

void pt_http_stop(pt_http *h)
{
    if (!h)
        return;
    mg_stop(h->ctx);
    mg_exit_library();
    free(h);
}

int pt_http_port(const pt_http *h)
{
    return h ? h->port : -1;
}
