/*
 * portico/portlet.h - the whole contract between porticod and a portlet.
 *
 * A portlet is a shared object that exports one symbol, PORTICO_PORTLET_SYMBOL
 * ("portico_portlet"), of type `const portico_portlet`.  The server
 * dlopen()s every .so in its --plugins directory, checks the descriptor
 * (magic, ABI major equal, ABI minor not newer than the host's, struct size,
 * id, routes under /api/v1/portlets/{id}), calls init() with a table of host
 * functions and then serves the portlet's routes.
 *
 * The portlet never sees the host's internals: no HTTP library, no storage
 * engine, no JWT types.  Everything it may do goes through portico_host,
 * and every storage call is scoped by the host to (this portlet, the
 * caller's organisation): a portlet has no way to name another
 * organisation or another portlet's keys.
 *
 * JSON values are jansson's json_t (link with -ljansson, as pkg-config
 * says).  Reference rules are jansson's: functions documented as "steals"
 * take over the caller's reference.
 *
 * ABI rules.  PORTICO_ABI_MAJOR changes only when something is removed or
 * changed incompatibly; the host refuses portlets of another major.
 * PORTICO_ABI_MINOR grows when fields are appended to portico_portlet or
 * portico_host; the host refuses portlets built against a newer minor than
 * its own.  Both structs only ever grow at the end.  A portlet that wants
 * a host function added in a later minor checks PORTICO_HOST_HAS() first.
 *
 * Threading.  init() and shutdown() run once, on the main thread, with no
 * requests in flight.  Route handlers and summary() run concurrently on
 * many server threads, each with its own portico_ctx.  The host table is
 * immutable and every host function is thread-safe.  Portlet state created
 * in init() must be read-only afterwards or protected by the portlet's own
 * locks.  A storage callback passed to write() may be run more than once
 * (the host retries when the store grows), so it must not have side effects
 * outside the transaction that it cannot repeat.
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
#define PORTICO_ABI_MAJOR      1
#define PORTICO_ABI_MINOR      1
#define PORTICO_PORTLET_SYMBOL "portico_portlet"

/* ---- results ------------------------------------------------------------ */

enum portico_result {
    PORTICO_OK = 0,
    PORTICO_ERR = -1,       /* failure; the host answers 500 if nothing was sent */
    PORTICO_ENOTFOUND = -2, /* no such key */
    PORTICO_EEXISTS = -3,   /* insert of an existing key */
    PORTICO_EINVAL = -4,    /* bad argument (key too long, bad JSON ...) */
    PORTICO_ENOMEM = -5,
    PORTICO_EIO = -6,    /* storage failure */
    PORTICO_ESTOP = -10, /* a scan callback stops the scan (not an error) */
    PORTICO_HIDDEN = 1,  /* summary(): leave me off this dashboard */
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

/* Status of the caller in the active organisation, today. */
enum portico_status {
    PORTICO_STATUS_NONE = 0, /* no membership (a system admin) */
    PORTICO_STATUS_APPLICANT = 1,
    PORTICO_STATUS_EMPLOYEE = 2,
    PORTICO_STATUS_LEAVER = 3,
};

typedef struct portico_caller {
    const char *username;
    const char *org; /* active organisation id (display only) */
    unsigned roles;  /* PORTICO_ROLE_* */
    enum portico_status status;
    bool mfa;             /* signed in with a second factor (amr has "otp") */
    int32_t access_ends;  /* leaver: last day of access (days since epoch); -1 */
    const json_t *person; /* the caller's person record in the org, or NULL */
} portico_caller;

/* ---- the portlet descriptor --------------------------------------------- */

typedef struct portico_ctx portico_ctx; /* one request (or one summary call) */
typedef struct portico_txn portico_txn; /* one storage transaction */
typedef struct portico_host portico_host;

/* A route handler answers through host->respond_*().  Returning a negative
 * result without having answered makes the host send 500. */
typedef int (*portico_handler_fn)(portico_ctx *ctx);

typedef struct portico_route {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    /* Absolute path, which must lie under /api/v1/portlets/{id} (the
     * portlet's own id).  Segments "{name}" are parameters, read with
     * host->param(ctx, "name"). */
    const char *path;
    /* PORTICO_ROLE_* bits allowed; 0 lets every member of the organisation
     * in.  Anyone else gets 403 forbidden before the handler runs. */
    unsigned roles;
    portico_handler_fn handler;
} portico_route;

typedef struct portico_portlet {
    uint32_t magic;       /* PORTICO_PORTLET_MAGIC */
    uint16_t abi_major;   /* PORTICO_ABI_MAJOR */
    uint16_t abi_minor;   /* PORTICO_ABI_MINOR */
    uint32_t struct_size; /* sizeof(portico_portlet) */

    const char *id;      /* "flu-countdown": [a-z0-9-], 1..64 */
    const char *name;    /* "Flu campaign countdown" */
    const char *version; /* "1.0.0" */
    const char *description;
    /* NULL-terminated list of dashboards it may appear on:
     * "employee", "leaver", "applicant". */
    const char *const *dashboards;
    /* JSON Schema (text) of its per-organisation config.  The host
     * validates every PUT of the config against it. */
    const char *config_schema;

    const portico_route *routes;
    size_t route_count;

    /* Called once after loading.  *state is passed back as host->state().
     * A non-zero return refuses the portlet (logged, others still load). */
    int (*init)(const portico_host *host, void **state);
    void (*shutdown)(void *state);

    /* The dashboard card: a JSON object with the portlet's summary data for
     * the caller (no per-second values, so dashboards keep their ETag).
     * Returns PORTICO_OK with *out set, PORTICO_HIDDEN to be left off, or
     * a negative result (the card then shows an error marker). */
    int (*summary)(portico_ctx *ctx, const char *dashboard, json_t **out);

    /* ---- since ABI 1.1 (the host reads it only when struct_size covers it) ---- */

    /* Example data for the demo organisation (porticod --demo).  Called once
     * for an organisation where the portlet has no setting yet, with a ctx
     * whose caller is the demo's system actor holding every organisation
     * role (host->config() is {}).  Writes its data through the storage
     * calls and sets *config to the configuration the host then validates,
     * stores and enables the portlet with, placed on each of its
     * dashboards.  NULL: the portlet has no demo data. */
    int (*demo)(portico_ctx *ctx, json_t **config);

    /* Rules of the config that its schema cannot say (an end after a
     * start).  Called after the schema check passed, for every config the
     * host is about to store; adds {pointer, message} entries with pointers
     * relative to the config ("/ends_at") through host->invalid_add and
     * returns PORTICO_EINVAL, or returns PORTICO_OK.  The host answers 422
     * validation_failed and stores nothing.  NULL: the schema says it all. */
    int (*check_config)(const json_t *config, json_t **errors);
} portico_portlet;

/* ---- what the host offers ------------------------------------------------ */

typedef int (*portico_txn_fn)(portico_txn *txn, void *arg);
/* key without this portlet's scope; value borrowed for the callback only. */
typedef int (*portico_scan_fn)(const char *key, const json_t *value, void *arg);
/* person records of the caller's organisation, as the people API shows
 * them (effective status, no secrets); borrowed for the callback only. */
typedef int (*portico_person_fn)(const json_t *person, void *arg);

enum portico_log_level { PORTICO_LOG_DEBUG, PORTICO_LOG_INFO, PORTICO_LOG_WARN, PORTICO_LOG_ERROR };

struct portico_host {
    uint32_t size; /* sizeof(portico_host) in the host */
    uint16_t abi_major;
    uint16_t abi_minor;

    /* -- portlet state and logging -- */
    void *(*state)(const portico_ctx *ctx); /* what init() stored */
    void (*log)(enum portico_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

    /* -- the request -- */
    const char *(*method)(const portico_ctx *ctx);
    const char *(*param)(const portico_ctx *ctx, const char *name);
    const char *(*query)(portico_ctx *ctx, const char *name);
    const char *(*header)(const portico_ctx *ctx, const char *name);
    /* Parses the body as a JSON object; on failure the problem (400/413/
     * 415/422) has been sent and a negative result is returned. */
    int (*body_json)(portico_ctx *ctx, json_t **out);
    const portico_caller *(*caller)(const portico_ctx *ctx);
    /* This organisation's config for the portlet (validated; {} if none). */
    const json_t *(*config)(const portico_ctx *ctx);

    /* -- answering (exactly one per request) -- */
    void (*respond_json)(portico_ctx *ctx, int status, json_t *body); /* steals */
    void (*respond_bytes)(portico_ctx *ctx, int status, const char *content_type, const void *data,
                          size_t len);
    /* RFC 9457 problem with one of the brief's stable codes. */
    void (*respond_problem)(portico_ctx *ctx, int status, const char *code, const char *detail);
    /* 422 validation_failed; errors is [{pointer, message}] (steals). */
    void (*respond_invalid)(portico_ctx *ctx, json_t *errors);
    /* Appends {pointer, message} to an errors array (creating it). */
    void (*invalid_add)(json_t **errors, const char *pointer, const char *message);

    /* -- storage, scoped to (this portlet, the caller's organisation) -- */
    int (*read)(portico_ctx *ctx, portico_txn_fn fn, void *arg);
    int (*write)(portico_ctx *ctx, portico_txn_fn fn, void *arg); /* fn may re-run */
    int (*get)(portico_txn *txn, const char *key, json_t **out);  /* new reference */
    int (*put)(portico_txn *txn, const char *key, const json_t *value);
    int (*insert)(portico_txn *txn, const char *key, const json_t *value); /* EEXISTS */
    int (*del)(portico_txn *txn, const char *key);
    /* Keys starting with prefix, in byte order, strictly after `after` if
     * given; reverse walks backwards. */
    int (*scan)(portico_txn *txn, const char *prefix, const char *after, bool reverse,
                portico_scan_fn fn, void *arg);
    /* Next value of a counter named `name` in this portlet's scope (from 1). */
    int (*next_seq)(portico_txn *txn, const char *name, uint64_t *out);
    /* People of the caller's organisation (read-only). */
    int (*people_each)(portico_txn *txn, portico_person_fn fn, void *arg);
    int (*person_get)(portico_txn *txn, const char *username, json_t **out);
    /* Appends to the organisation's audit log, actor = caller, action is
     * prefixed with the portlet id ("flu-countdown.vaccination.record"). */
    int (*audit)(portico_txn *txn, const char *action, const char *target, const json_t *before,
                 const json_t *after);

    /* -- time (the host clock: tests can fix it) -- */
    int64_t (*now_ms)(void);
    int32_t (*today)(void);
    bool (*date_parse)(const char *s, int32_t *days);
    void (*date_format)(char buf[11], int32_t days);
    bool (*time_parse)(const char *s, int64_t *epoch);
    void (*time_format)(char buf[21], int64_t epoch);

    /* -- misc -- */
    int (*random_bytes)(void *buf, size_t len);
    /* Validates value against a JSON Schema (the subset the host supports
     * for configs); *errors gets [{pointer, message}] or NULL if valid. */
    int (*schema_validate)(const json_t *schema, const json_t *value, json_t **errors);

    /* ---- since ABI 1.1 (check PORTICO_HOST_HAS(host, people_count)) ---- */

    /* *out = the number of people of the caller's organisation with that
     * staff_group (NULL: any group) whose effective status today is
     * `status`, as people_each would show them.  Answered from a cache the
     * host keeps current with every person write and every change of day,
     * so it is cheap to call per request.  A portlet built for an older
     * host falls back to counting with people_each. */
    int (*people_count)(portico_txn *txn, const char *staff_group, enum portico_status status,
                        int64_t *out);
};

/* True if the host's table has `field` (it may be older than the portlet). */
#define PORTICO_HOST_HAS(host, field)                                                              \
    ((host)->size >= offsetof(portico_host, field) + sizeof((host)->field) && (host)->field != NULL)

/* Defines the exported descriptor under the well-known symbol name (the
 * C object gets a name of the portlet's choosing, since the type already
 * owns the name portico_portlet), and fills its fixed head:
 *   PORTICO_DEFINE_PORTLET(my_portlet) = {
 *       PORTICO_PORTLET_HEAD, .id = "my-portlet", ... };           */
#define PORTICO_DEFINE_PORTLET(var)                                                                \
    PORTICO_EXPORT extern const portico_portlet var __asm__(PORTICO_PORTLET_SYMBOL);               \
    PORTICO_EXPORT const portico_portlet var
#define PORTICO_PORTLET_HEAD                                                                       \
    .magic = PORTICO_PORTLET_MAGIC, .abi_major = PORTICO_ABI_MAJOR,                                \
    .abi_minor = PORTICO_ABI_MINOR, .struct_size = sizeof(portico_portlet)

#define PORTICO_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif

#endif
