/*
 * portico/portlet.h - the whole contract between porticod and a portlet.
 *
 * ABI 2.0.  A portlet is a shared object that exports one symbol,
 * PORTICO_PORTLET_SYMBOL ("portico_portlet"), of type `const
 * portico_portlet`, written with PORTICO_DEFINE_PORTLET.  The server
 * dlopen()s every .so in its --plugins directory, checks the descriptor,
 * calls init() and then serves the portlet's routes.  The portlet never
 * sees the host's internals: no HTTP library, no storage engine, no JWT
 * types.  Everything it may do goes through the portico_host table that
 * every callback reaches as ctx->host, and every storage call is scoped by
 * the host to (this portlet, the caller's organisation): a portlet has no
 * way to name another organisation or another portlet's keys.
 *
 * ---- The version rule (one rule, both directions) ----------------------
 *
 *   1. PORTICO_ABI_MAJOR changes only when something is removed or changed
 *      incompatibly.  The host loads only portlets of its own major.
 *   2. Within a major, structs only grow at the end, and a struct's size
 *      travels with it: portico_portlet.struct_size, .route_size for each
 *      portico_route, portico_host.size and portico_ctx.size.
 *   3. Newer host, older portlet: the host reads the portlet's structs
 *      only up to the sizes the portlet declared; fields past them take
 *      their zero default (no gate, no schema, no callback).
 *   4. Older host, newer portlet: the host loads it if every byte of the
 *      portlet's structs past the host's own sizes is zero, i.e. the
 *      portlet uses nothing the host does not know; otherwise it refuses
 *      the portlet and says which struct uses newer fields.  (This is the
 *      rule Linux applies to growing syscall structs.)  A host *function*
 *      newer than the host is simply absent: a portlet built for a newer
 *      minor checks PORTICO_HOST_HAS(ctx->host, fn) before calling
 *      anything added after 2.0, and may refuse in init() if it cannot do
 *      without it.
 *   abi_minor is informative (logged, shown in the catalogue); sizes and
 *   zero bytes decide.
 *
 * ---- Threading --------------------------------------------------------
 *
 * init() and shutdown() run once, on the main thread, with no requests in
 * flight.  Handlers, summary(), notices() and check_config() run
 * concurrently on many server threads, each with its own ctx.  The host
 * table is immutable and every host function is thread-safe.  Portlet
 * state created in init() must be read-only afterwards or protected by
 * the portlet's own locks.
 *
 * ---- Ownership and lifetime (every pointer that crosses) -------------
 *
 * - JSON is jansson's json_t; jansson (>= 2.14, see portico.pc) is part of
 *   this ABI.  "steals" = the callee takes over the caller's reference;
 *   "new reference" = the caller must json_decref; "borrowed" = valid for
 *   the stated time, do not decref.
 * - ctx, ctx->caller and every string the host returns from param(),
 *   query(), header(), body_raw() are borrowed for the
 *   callback they were given to (the whole handler for a request).
 * - body() is borrowed for the handler; config() for the callback.
 * - Storage values passed to scan/page callbacks and get_bytes() data are
 *   borrowed until the callback returns / the transaction ends.
 *   get() returns a new reference.
 * - summary() and demo() give the host a new reference in *out (the host
 *   decrefs it); check_config() appends to the errors array it is given.
 * - write(): the callback may run more than once (the host retries when
 *   the store must grow or on a serialisation conflict), so it must not
 *   have effects outside the transaction that it cannot repeat.  Its
 *   changes commit, durably, only when it returns 0; any other result
 *   aborts them all and write() returns that result.
 * - A scan/page callback that returns PORTICO_ESTOP ends the walk early;
 *   scan() then returns PORTICO_OK.  Another negative result ends the walk
 *   and scan() returns it.
 * - Inside summary(), notices(), check_config(), demo(), init() there is no
 *   request: respond_*() do nothing and return, param()/query()/header()/
 *   body*() return NULL.
 * - respond_*(): exactly one answer per request.  A second answer is
 *   logged and dropped; a handler that returns without answering gets a
 *   500.  set_header() must come before the answer.
 *
 * ---- Reads see one snapshot per request -------------------------------
 *
 * The host authenticates a request, reads the caller's person and the
 * portlet's config, checks the route's gates, and runs every read() of
 * the handler in that same read snapshot.  After a write() of the request
 * commits, later reads see it (the snapshot is renewed).
 */
#ifndef PORTICO_PORTLET_H
#define PORTICO_PORTLET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PORTICO_PORTLET_MAGIC  0x50544c54u /* "PTLT" */
#define PORTICO_ABI_MAJOR      2
#define PORTICO_ABI_MINOR      0
#define PORTICO_PORTLET_SYMBOL "portico_portlet"

/* ---- results ------------------------------------------------------------ */

enum portico_result {
    PORTICO_OK = 0,
    PORTICO_ERR = -1,          /* failure: 500 */
    PORTICO_ENOTFOUND = -2,    /* no such key / record: 404 not_found */
    PORTICO_EEXISTS = -3,      /* insert of an existing key: 409 conflict */
    PORTICO_EINVAL = -4,       /* bad argument (key too long, wrong value type): 500 */
    PORTICO_ENOMEM = -5,       /* 500 */
    PORTICO_EIO = -6,          /* storage failure: 503 */
    PORTICO_ECONFLICT = -7,    /* state does not allow it: 409 conflict */
    PORTICO_EFORBIDDEN = -8,   /* 403 forbidden */
    PORTICO_ESTOP = -10,       /* a scan callback stops the walk (not an error) */
    PORTICO_EBADREQUEST = -11, /* bad query (limit, cursor): 400 bad_request */
    PORTICO_HIDDEN = 1,        /* summary(): leave me off this dashboard */
    PORTICO_SKIP = 2,          /* page callback: not part of the page, keep walking */
};

/* ---- who is calling ----------------------------------------------------- */

/* Administrative roles of the caller in the active organisation. */
enum portico_role {
    PORTICO_ROLE_PORTAL_ADMIN = 1u << 0,
    PORTICO_ROLE_CONTENT_ADMIN = 1u << 1,
    PORTICO_ROLE_PAYROLL_ADMIN = 1u << 2,
    PORTICO_ROLE_OH_ADMIN = 1u << 3,
    PORTICO_ROLE_HR_ADMIN = 1u << 4,
    PORTICO_ROLE_SYSTEM_ADMIN = 1u << 5,
};

/* Status of the caller in the active organisation, today (org-local). */
enum portico_status {
    PORTICO_STATUS_NONE = 0, /* no membership (a system admin) */
    PORTICO_STATUS_APPLICANT = 1,
    PORTICO_STATUS_EMPLOYEE = 2,
    PORTICO_STATUS_LEAVER = 3,
};
/* Sets of statuses, for route gates. */
#define PORTICO_STATUS_BIT(s) (1u << (s))
#define PORTICO_APPLICANTS    PORTICO_STATUS_BIT(PORTICO_STATUS_APPLICANT)
#define PORTICO_EMPLOYEES     PORTICO_STATUS_BIT(PORTICO_STATUS_EMPLOYEE)
#define PORTICO_LEAVERS       PORTICO_STATUS_BIT(PORTICO_STATUS_LEAVER)

typedef struct portico_caller {
    const char *username;
    const char *org; /* active organisation id */
    unsigned roles;  /* PORTICO_ROLE_* */
    enum portico_status status;
    bool mfa;             /* signed in with a second factor (amr has "otp") */
    int32_t access_ends;  /* leaver: last day of access (days since epoch); else -1 */
    const json_t *person; /* the caller's person record in the org, or NULL */
} portico_caller;

/* ---- contexts ----------------------------------------------------------- */

typedef struct portico_host portico_host;
typedef struct portico_txn portico_txn; /* one storage transaction (opaque) */

/*
 * Every callback gets a ctx: one request, one summary, one demo load, one
 * config check, or init/shutdown.  The host allocates it; this public head
 * only grows at the end (read fields past 2.0 only when ctx->size covers
 * them).
 */
typedef struct portico_ctx {
    uint32_t size;                /* bytes of this public head the host filled */
    const portico_host *host;     /* the host table */
    void *state;                  /* what init() stored (NULL during init) */
    const portico_caller *caller; /* NULL in init, shutdown, check_config */
    const char *portlet_id;
    const char *request_id; /* for correlating logs; "" outside a request */
} portico_ctx;

/* ---- the portlet descriptor --------------------------------------------- */

typedef int (*portico_handler_fn)(portico_ctx *ctx);

/* portico_route.flags */
enum portico_route_flag {
    /* The body is not JSON: the host checks only its size (and, if
     * body_types is set, its Content-Type) and the handler reads it with
     * body_raw().  Without this flag a body is parsed as JSON. */
    PORTICO_ROUTE_RAW_BODY = 1u << 0,
    /* Every caller must have signed in with a second factor. */
    PORTICO_ROUTE_MFA = 1u << 1,
};

typedef struct portico_route {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE" (GET also answers HEAD) */
    /* Absolute path under /api/v1/portlets/{id} (the portlet's own id).
     * Segments "{name}" are parameters, read with host->param(). */
    const char *path;
    portico_handler_fn handler;

    /* ---- gates, checked by the host before the handler, in this order:
     * portlet enabled (404 portlet_not_enabled), who (403 forbidden), MFA
     * (403 mfa_required), body (400/413/415/422). */

    /* Who may call: a holder of any role in `roles`, or a person whose
     * status is in `statuses` (PORTICO_EMPLOYEES | ...).  Both 0: every
     * member of the organisation. */
    unsigned roles;
    unsigned statuses;
    /* Callers whose status is in this set must have signed in with MFA
     * (403 mfa_required): e.g. PORTICO_LEAVERS.  See also
     * PORTICO_ROUTE_MFA. */
    unsigned mfa_statuses;
    unsigned flags; /* PORTICO_ROUTE_* */
    /* JSON Schema (text, the host's subset) of the request body.  The host
     * validates the body and answers 422 validation_failed with a JSON
     * pointer per error, so the handler starts with a valid body.  NULL:
     * any JSON object (or no body at all for GET/DELETE). */
    const char *body_schema;
    /* PORTICO_ROUTE_RAW_BODY: accepted media types, comma-separated
     * ("text/csv, application/x-ndjson"); others get 415.  NULL: any. */
    const char *body_types;
    /* Largest body in bytes; 0: the server's limit (1 MiB by default).
     * Larger values are capped by the server's bulk_body_max setting. */
    size_t body_max;
} portico_route;

typedef struct portico_portlet {
    uint32_t magic;       /* PORTICO_PORTLET_MAGIC */
    uint16_t abi_major;   /* PORTICO_ABI_MAJOR */
    uint16_t abi_minor;   /* PORTICO_ABI_MINOR */
    uint32_t struct_size; /* sizeof(portico_portlet) */
    uint32_t route_size;  /* sizeof(portico_route): the stride of routes[] */

    const char *id;      /* "flu-countdown": [a-z0-9-], 1..64 */
    const char *name;    /* "Flu campaign countdown" */
    const char *version; /* "2.0.0" */
    const char *description;
    /* NULL-terminated: "employee", "leaver", "applicant". */
    const char *const *dashboards;
    /* JSON Schema (text) of its per-organisation config.  Defaults given
     * with "default" in the schema's top-level properties are filled in by
     * the host: config() always has them, so C need not repeat them. */
    const char *config_schema;

    const portico_route *routes;
    size_t route_count;

    /* Once after loading, with a ctx that has no caller.  *state comes
     * back as ctx->state.  A non-zero return refuses the portlet (logged,
     * the others still load). */
    int (*init)(portico_ctx *ctx, void **state);
    void (*shutdown)(portico_ctx *ctx);

    /* The dashboard card: PORTICO_OK with *out a JSON object (new
     * reference; no per-second values, so dashboards keep their ETag),
     * PORTICO_HIDDEN to be left off, or a negative result (the card then
     * shows an error marker). */
    int (*summary)(portico_ctx *ctx, const char *dashboard, json_t **out);

    /* Notices for the top of a dashboard ("save your pay documents before
     * 8 February"): appends objects {code, text, ...} to `notices`
     * (borrowed array).  Called for enabled portlets on every dashboard,
     * whether or not the portlet is placed on it.  Read-only, like
     * summary(): write() returns PORTICO_EINVAL in both. */
    int (*notices)(portico_ctx *ctx, const char *dashboard, json_t *notices);

    /* Example data for the demo organisation, with a ctx whose caller is
     * the demo's system actor holding every organisation role (config()
     * is the schema defaults).  Writes through the storage calls and sets
     * *config (new reference) to the configuration the host validates,
     * stores and enables the portlet with, placed on each of its
     * dashboards. */
    int (*demo)(portico_ctx *ctx, json_t **config);

    /* Rules of the config that its schema cannot say (an end after a
     * start), for a config that passed the schema (defaults filled in).
     * Appends {pointer, message} (pointers relative to the config) with
     * host->invalid_add and returns PORTICO_EINVAL, or returns PORTICO_OK.
     * The host then answers 422 validation_failed and stores nothing. */
    int (*check_config)(portico_ctx *ctx, const json_t *config, json_t *errors);
} portico_portlet;

/* ---- what the host offers ------------------------------------------------ */

typedef int (*portico_txn_fn)(portico_txn *txn, void *arg);
/* A stored JSON value under a key (without this portlet's scope). */
typedef int (*portico_scan_fn)(const char *key, const json_t *value, void *arg);
/* A person record of the caller's organisation, as the people API shows
 * it (effective status, no secrets). */
typedef int (*portico_person_fn)(const json_t *person, void *arg);

enum portico_log_level { PORTICO_LOG_DEBUG, PORTICO_LOG_INFO, PORTICO_LOG_WARN, PORTICO_LOG_ERROR };

/* Largest key (bytes) a portlet may store under; key parts from key(). */
#define PORTICO_KEY_MAX 256

struct portico_host {
    uint32_t size; /* sizeof(portico_host) in the host */
    uint16_t abi_major;
    uint16_t abi_minor;

    /* -- logging: lines carry the portlet id and the request id -- */
    void (*log)(portico_ctx *ctx, enum portico_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* -- the request -- */
    const char *(*method)(const portico_ctx *ctx);
    const char *(*param)(const portico_ctx *ctx, const char *name);
    const char *(*query)(portico_ctx *ctx, const char *name);
    const char *(*header)(const portico_ctx *ctx, const char *name);
    /* The JSON body, already parsed and checked against the route's
     * body_schema (borrowed for the handler); NULL when the request had
     * none or the route is PORTICO_ROUTE_RAW_BODY. */
    const json_t *(*body)(const portico_ctx *ctx);
    /* The raw body (PORTICO_ROUTE_RAW_BODY routes), already within the
     * route's size limit; *len 0 when none.  Not NUL-terminated. */
    const void *(*body_raw)(const portico_ctx *ctx, size_t *len);
    /* This organisation's config for the portlet: validated, with the
     * schema's defaults filled in (borrowed for the callback). */
    const json_t *(*config)(const portico_ctx *ctx);
    /* True if the client's Accept names this media type, exactly or as
     * "type/ *", with q > 0.  A bare "* / *" does not count, so clients
     * that accept anything get the route's JSON default. */
    bool (*accepts)(const portico_ctx *ctx, const char *media_type);

    /* -- answering (exactly one per request) -- */
    void (*respond_json)(portico_ctx *ctx, int status, json_t *body); /* steals */
    /* JSON 200 with an ETag computed from the body; answers 304 Not
     * Modified instead when If-None-Match matches it.  Steals body. */
    void (*respond_json_etag)(portico_ctx *ctx, json_t *body);
    /* Bytes with a content type (copied); 204/304 send no body. */
    void (*respond_bytes)(portico_ctx *ctx, int status, const char *content_type, const void *data,
                          size_t len);
    /* RFC 9457 problem with one of the brief's stable codes. */
    void (*respond_problem)(portico_ctx *ctx, int status, const char *code, const char *detail);
    /* 422 validation_failed; errors is [{pointer, message}] (steals). */
    void (*respond_invalid)(portico_ctx *ctx, json_t *errors);
    /* The one mapping of results to answers: ENOTFOUND 404 not_found,
     * EEXISTS/ECONFLICT 409 conflict, EBADREQUEST 400 bad_request,
     * EFORBIDDEN 403 forbidden, EIO 503, others 500.  detail may be NULL.
     * Does nothing if the request was answered already (so a handler may
     * end with `if (rc < 0) host->respond_error(ctx, rc, NULL);`). */
    void (*respond_error)(portico_ctx *ctx, int result, const char *detail);
    /* Appends {pointer, message} to an errors array. */
    void (*invalid_add)(json_t *errors, const char *pointer, const char *message);
    /* A response header before the answer: Content-Disposition,
     * Cache-Control, ETag, Last-Modified, Location or Retry-After only
     * (others, and values with control characters: PORTICO_EINVAL).
     * Default Cache-Control is "no-store". */
    int (*set_header)(portico_ctx *ctx, const char *name, const char *value);
    /* Conditional requests against the current entity tag of what the
     * route reads or changes (a quoted string, "\"v42\"").
     * not_modified: sets ETag; if If-None-Match matches, answers 304 and
     * returns true.  precondition: if If-Match is present and does not
     * match, answers 412 precondition_failed and returns false. */
    bool (*not_modified)(portico_ctx *ctx, const char *etag);
    bool (*precondition)(portico_ctx *ctx, const char *etag);

    /* -- storage, scoped to (this portlet, the caller's organisation) -- */
    int (*read)(portico_ctx *ctx, portico_txn_fn fn, void *arg);
    int (*write)(portico_ctx *ctx, portico_txn_fn fn, void *arg); /* fn may re-run */
    /* Builds a key from parts, escaping '/' and '%' inside each part and
     * joining them with '/': key(buf, sizeof buf, "doc", user, "2026-10",
     * NULL) -> "doc/j.smith/2026-10"; an empty last part makes a prefix
     * for scan()/page(): key(buf, sizeof buf, "doc", user, "", NULL) ->
     * "doc/j.smith/" (which "doc/j.smithson/..." does not match).
     * PORTICO_EINVAL if it does not fit
     * or exceeds PORTICO_KEY_MAX.  Use fixed-width numbers ("%010u") where
     * keys must sort by number. */
    int (*key)(char *buf, size_t cap, const char *part, ...) __attribute__((sentinel));
    /* JSON values. get: PORTICO_ENOTFOUND, or PORTICO_EINVAL if the key
     * holds bytes. */
    int (*get)(portico_txn *txn, const char *key, json_t **out); /* new reference */
    int (*put)(portico_txn *txn, const char *key, const json_t *value);
    int (*insert)(portico_txn *txn, const char *key, const json_t *value); /* EEXISTS */
    int (*del)(portico_txn *txn, const char *key);
    /* Binary values (a generated PDF): bytes with a content type.
     * get_bytes: *data and *content_type borrowed until the transaction
     * ends; PORTICO_EINVAL if the key holds JSON. */
    int (*put_bytes)(portico_txn *txn, const char *key, const char *content_type, const void *data,
                     size_t len);
    int (*get_bytes)(portico_txn *txn, const char *key, const void **data, size_t *len,
                     const char **content_type);
    /* JSON values under keys starting with prefix, in byte order (reverse:
     * backwards), strictly after `after` if given.  Binary values are not
     * visited. */
    int (*scan)(portico_txn *txn, const char *prefix, const char *after, bool reverse,
                portico_scan_fn fn, void *arg);
    /* One page of a list route: reads ?limit (1..500, default 50) and
     * ?cursor from the request, walks prefix like scan() from where the
     * cursor left off, and calls fn until `limit` values were taken (fn
     * returns PORTICO_OK) — PORTICO_SKIP leaves a value out without
     * counting it.  *next_cursor is a new JSON string (opaque; the host
     * signs it for this portlet, org, prefix and direction) or JSON null
     * at the end.  A bad limit or a cursor that was tampered with or made
     * for another list: PORTICO_EBADREQUEST (respond_error: 400). */
    int (*page)(portico_txn *txn, const char *prefix, bool reverse, portico_scan_fn fn, void *arg,
                json_t **next_cursor);
    /* Counters: *out = the next value of a sequence (from 1). */
    int (*next_seq)(portico_txn *txn, const char *name, uint64_t *out);
    /* Adds delta to a named counter (created at 0) and returns the new
     * value in *out (may be NULL); counter_get reads it (0 if never set). */
    int (*counter_add)(portico_txn *txn, const char *name, int64_t delta, int64_t *out);
    int (*counter_get)(portico_txn *txn, const char *name, int64_t *out);
    /* People of the caller's organisation (read-only). */
    int (*people_each)(portico_txn *txn, portico_person_fn fn, void *arg);
    int (*person_get)(portico_txn *txn, const char *username, json_t **out); /* new ref */
    /* *out = people of the organisation in staff_group (NULL: any) whose
     * effective status today is `status`; cheap, from a kept count. */
    int (*people_count)(portico_txn *txn, const char *staff_group, enum portico_status status,
                        int64_t *out);
    /* The organisation's record as GET /orgs/{org} shows it (new ref). */
    int (*org_get)(portico_txn *txn, json_t **out);
    /* Appends to the organisation's audit log: actor = the caller, action
     * prefixed with the portlet id ("leavers.document.load"); before and
     * after are borrowed (never put secrets or document bodies in them). */
    int (*audit)(portico_txn *txn, const char *action, const char *target, const json_t *before,
                 const json_t *after);

    /* -- time (the host clock: tests can fix it) -- */
    int64_t (*now_ms)(void);
    /* Today in the organisation's time zone (days since 1970-01-01). */
    int32_t (*today)(const portico_ctx *ctx);
    /* The organisation-local date of an instant (seconds since the epoch). */
    int32_t (*local_date)(const portico_ctx *ctx, int64_t epoch);
    bool (*date_parse)(const char *s, int32_t *days);
    void (*date_format)(char buf[11], int32_t days);
    bool (*time_parse)(const char *s, int64_t *epoch);
    void (*time_format)(char buf[21], int64_t epoch);

    /* -- misc -- */
    int (*random_bytes)(void *buf, size_t len);
    /* Validates value against a JSON Schema (the host's subset; compiled
     * once per schema object); appends {pointer, message} to errors with
     * pointers prefixed by base ("/documents/3").  PORTICO_OK if valid,
     * PORTICO_EINVAL if not, PORTICO_ERR if the schema is bad. */
    int (*schema_validate)(const json_t *schema, const json_t *value, const char *base,
                           json_t *errors);
};

/* True if the host's table has `field` (it may be older than the portlet). */
#define PORTICO_HOST_HAS(host, field)                                                              \
    ((host)->size >= offsetof(portico_host, field) + sizeof((host)->field) && (host)->field != NULL)

/* Defines the exported descriptor under the well-known symbol name (the C
 * object gets a name of the portlet's choosing, since the type already
 * owns the name portico_portlet), and fills its fixed head:
 *   PORTICO_DEFINE_PORTLET(my_portlet) = {
 *       PORTICO_PORTLET_HEAD, .id = "my-portlet", ... };           */
#define PORTICO_DEFINE_PORTLET(var)                                                                \
    PORTICO_EXPORT extern const portico_portlet var __asm__(PORTICO_PORTLET_SYMBOL);               \
    PORTICO_EXPORT const portico_portlet var
#define PORTICO_PORTLET_HEAD                                                                       \
    .magic = PORTICO_PORTLET_MAGIC, .abi_major = PORTICO_ABI_MAJOR,                                \
    .abi_minor = PORTICO_ABI_MINOR, .struct_size = sizeof(portico_portlet),                        \
    .route_size = sizeof(portico_route)

#define PORTICO_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif

#endif
