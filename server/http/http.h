/*
 * http.h - requests, responses and routes as the rest of porticod sees them.
 *
 * CivetWeb stays inside http.c: handlers get an opaque pt_req (method, path
 * params, query, headers, body, the authenticated caller) and fill an
 * opaque pt_res.  http.c writes each response with a single write and a
 * Content-Length once the handler returns.
 */
#ifndef PT_HTTP_H
#define PT_HTTP_H

#include "base/common.h"
#include "store/store.h"

#include <jansson.h>

typedef struct pt_req pt_req;
typedef struct pt_res pt_res;
struct pt_app;
struct pt_caller;

/* ---- routes ------------------------------------------------------------ */

typedef void (*pt_handler_fn)(pt_req *req, pt_res *res, void *ud);

enum pt_route_flags {
    PT_ROUTE_PUBLIC = 1 << 0, /* no token needed, none looked at (login, jwks, health) */
    /* Authentication reads the store in the request's snapshot and leaves
     * it open for the handler (pt_req_snapshot), so the caller and what
     * the handler reads come from one read transaction. */
    PT_ROUTE_SNAPSHOT = 1 << 1,
};

typedef struct pt_router pt_router;

int pt_router_new(pt_router **out);
void pt_router_free(pt_router *r);
/*
 * Registers `method pattern`.  Patterns are absolute paths whose segments
 * may be "{name}" parameters: "/api/v1/orgs/{org}/people/{username}".
 * `metric_label` defaults to the pattern.  Routes are added at start-up
 * only; lookups after that are lock-free.  PT_EEXISTS on a duplicate.
 */
int pt_router_add(pt_router *r, const char *method, const char *pattern, unsigned flags,
                  pt_handler_fn fn, void *ud);
/* The same with the route's own body limit (0: the server's max_body_bytes;
 * a larger value is capped by the server's bulk_body_max). */
int pt_router_add_limit(pt_router *r, const char *method, const char *pattern, unsigned flags,
                        pt_handler_fn fn, void *ud, size_t body_max);

typedef struct pt_route_match {
    pt_handler_fn fn;
    void *ud;
    unsigned flags;
    size_t body_max;     /* the route's own body limit, 0 for the default */
    const char *pattern; /* the registered pattern (for metrics) */
    unsigned nparams;
    const char *param_names[8];
    const char *param_values[8]; /* URL-decoded; owned by the match buffer */
    char buf[2048];
    char allow[64]; /* PT_EDENIED: the methods the path does allow, "GET, POST" */
} pt_route_match;

/* 0 on a match; PT_ENOTFOUND when no pattern matches the path;
 * PT_EDENIED when the path matches but not with this method (405). */
int pt_router_find(const pt_router *r, const char *method, const char *path, pt_route_match *out);
/* Calls cb for each registered route, in registration order. */
void pt_router_each(const pt_router *r,
                    void (*cb)(const char *method, const char *pattern, unsigned flags, void *ctx),
                    void *ctx);

/* ---- requests ---------------------------------------------------------- */

struct pt_app *pt_req_app(const pt_req *req);
const char *pt_req_method(const pt_req *req);
/* The raw (percent-encoded) request path, without the query. */
const char *pt_req_path(const pt_req *req);
/* Path parameter by name ("org"), or NULL. */
const char *pt_req_param(const pt_req *req, const char *name);
/* URL-decoded query parameter, or NULL.  Decoded into req-owned memory. */
const char *pt_req_query(pt_req *req, const char *name);
/* Request header (case-insensitive), or NULL. */
const char *pt_req_header(const pt_req *req, const char *name);
/*
 * The client's IP address: the socket peer, or, when the peer is one of
 * cfg.trusted_proxies, the address the proxy forwarded (X-Forwarded-For,
 * rightmost entry that is not itself a trusted proxy; else X-Real-IP).
 * Use it for anything keyed by client (throttling, logs).
 */
const char *pt_req_client_addr(const pt_req *req);
/* Raw body; len 0 when none. Already checked against the size cap. */
const char *pt_req_body(const pt_req *req, size_t *len);
/*
 * The request's read snapshot, begun on first use and ended with the
 * request (or by pt_req_snapshot_end, which a handler must call before it
 * writes: a thread holding a read may not write).  Negative on a store
 * error.
 */
int pt_req_snapshot(pt_req *req, pt_txn **out);
void pt_req_snapshot_end(pt_req *req);
/* The request's id ("5f3a9c1e-2a"), also sent back as X-Request-Id. */
const char *pt_req_id(const pt_req *req);
/* The verified caller, or NULL on public routes without a token. */
const struct pt_caller *pt_req_caller(const pt_req *req);

/*
 * Parses the body as a JSON object.  On failure writes the problem to res
 * (400 malformed JSON / bad UTF-8, 415 wrong content type, 422 not an
 * object) and returns a negative error; the handler then just returns.
 * On success *out is a new reference the caller must json_decref.
 */
int pt_req_json_object(pt_req *req, pt_res *res, json_t **out);

/* ---- responses --------------------------------------------------------- */

/* JSON body (steals the reference to body). */
void pt_res_json(pt_res *res, int status, json_t *body);
/* Raw bytes with a content type (copied). */
void pt_res_bytes(pt_res *res, int status, const char *content_type, const void *data, size_t len);
/* Empty body (204, 304). */
void pt_res_empty(pt_res *res, int status);
/* Adds a response header (copied).  Content-Type/Length are set by http.c. */
void pt_res_header(pt_res *res, const char *name, const char *value);

/*
 * RFC 9457 problem+json: {type, title, status, detail, code}.
 * type is "https://portico.example/problems/<code>"-style, stable per code.
 */
void pt_res_problem(pt_res *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 422 validation_failed with errors: [{pointer, message}] (steals errors). */
void pt_res_validation(pt_res *res, json_t *errors);
/* Maps a pt_error from a model call to a problem (PT_ENOTFOUND -> 404 ...),
 * using pt_error_last() as the detail. 5xx only for PT_EIO/PT_ENOMEM/PT_ERR,
 * and 503 server_busy with Retry-After for PT_EBUSY. */
void pt_res_error(pt_res *res, int err);
/* Status already set on res (0 if none yet). */
int pt_res_status(const pt_res *res);

/* ETag helper: sets ETag from a hash of body and answers 304 if the
 * request's If-None-Match matches.  Returns true if it answered 304
 * (body was released). Otherwise sends body as JSON 200. */
bool pt_res_json_etag(pt_req *req, pt_res *res, json_t *body);
/* True if an If-None-Match / If-Match header value names etag (or is *);
 * weak and strong tags compare alike. */
bool pt_etag_matches(const char *header, const char *etag);

/* ---- validation helpers ------------------------------------------------ */

/*
 * A validation run collects every bad field with its JSON pointer so a
 * client can show all errors at once.  Typical use:
 *
 *   pt_verr *v = pt_verr_new();
 *   const char *name = pt_v_string(v, body, "/name", "name", true, 1, 200);
 *   ...
 *   if (pt_verr_any(v)) { pt_res_validation(res, pt_verr_take(v)); ... }
 *   pt_verr_free(v);
 */
typedef struct pt_verr pt_verr;
pt_verr *pt_verr_new(void);
void pt_verr_free(pt_verr *v);
void pt_verr_add(pt_verr *v, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool pt_verr_any(const pt_verr *v);
json_t *pt_verr_take(pt_verr *v); /* the errors array (new reference) */

/* Each reads obj[key]; records an error at `pointer` when it is missing
 * (and required), of the wrong type or out of range; returns NULL / false
 * / the default in that case.  Strings are checked as valid UTF-8 by
 * jansson already; lengths count bytes. */
const char *pt_v_string(pt_verr *v, const json_t *obj, const char *key, const char *pointer,
                        bool required, size_t min_len, size_t max_len);
/* A "YYYY-MM-DD" date; returns true and sets *days if present and valid. */
bool pt_v_date(pt_verr *v, const json_t *obj, const char *key, const char *pointer, bool required,
               int32_t *days);
/* An RFC 3339 date-time. */
bool pt_v_time(pt_verr *v, const json_t *obj, const char *key, const char *pointer, bool required,
               int64_t *epoch);
bool pt_v_int(pt_verr *v, const json_t *obj, const char *key, const char *pointer, bool required,
              int64_t min, int64_t max, int64_t *out);
bool pt_v_bool(pt_verr *v, const json_t *obj, const char *key, const char *pointer, bool required,
               bool *out);
/* Records an error for each key of obj not in the NULL-terminated list. */
void pt_v_no_unknown(pt_verr *v, const json_t *obj, const char *pointer_prefix,
                     const char *const *allowed);

/* Cursor pagination: reads ?limit (1..500, default 50) and ?cursor.
 * Writes a 400 bad_request problem and returns false on bad values.  The
 * cursor is the last key returned, sealed (http/cursor.h) for this request
 * path and the caller's organisation with the app's cursor secret: a
 * cursor that was edited, made up, or taken from another list is 400.
 * after and after_len hold the opened key. */
typedef struct pt_page {
    unsigned limit;
    char after[512];
    size_t after_len;
} pt_page;
bool pt_page_from_query(pt_req *req, pt_res *res, pt_page *out);
/* Seals the next cursor from a last key for this request's list (returns a
 * new JSON string; null for no key). */
json_t *pt_page_cursor(const pt_req *req, const void *key, size_t len);

/* ---- server ------------------------------------------------------------ */

typedef struct pt_http pt_http;
/* Starts listening per app->cfg; routes come from app->router. */
int pt_http_start(pt_http **out, struct pt_app *app);
void pt_http_stop(pt_http *h);
/* The port actually bound (useful with port 0). */
int pt_http_port(const pt_http *h);

/* ---- in-process requests (unit tests) ----------------------------------- */

/*
 * A request that is not tied to a connection, so handlers and the
 * response helpers can be driven from unit tests.  headers is
 * a NULL-terminated list of "Name: value" strings (may be NULL); query is
 * the raw query string without '?' (may be NULL).  Everything is copied.
 */
pt_req *pt_req_new_fake(struct pt_app *app, const char *method, const char *path, const char *query,
                        const char *const *headers, const void *body, size_t body_len);
void pt_req_free_fake(pt_req *req);
pt_res *pt_res_new_fake(void);
void pt_res_free_fake(pt_res *res);
/* Inspect a response: body (NUL-terminated, len may be NULL), header by
 * name (case-insensitive; includes Content-Type), or NULL. */
const char *pt_res_body(const pt_res *res, size_t *len);
const char *pt_res_get_header(const pt_res *res, const char *name);

#endif
