/*
 * plugins.h - the portlet host: loading portlet .so files, the catalogue
 * of what loaded (and what was refused, and why), and the glue that runs a
 * portlet's handlers and summaries with a portico_ctx.
 *
 * Loading happens once at start-up on the main thread, before the HTTP
 * server starts; portlet routes are registered into app->router only then,
 * so after start-up the set of portlets and routes is fixed and read
 * without locks.
 */
#ifndef PT_PLUGINS_H
#define PT_PLUGINS_H

#include "auth/auth.h"
#include "host/schema.h"
#include "http/app.h"

#include <jansson.h>
#include <portico/portlet.h>

typedef struct pt_plugins pt_plugins;
typedef struct pt_portlet pt_portlet;

/*
 * Loads every *.so in app->cfg.plugins_dir (sorted by file name) and sets
 * app->plugins (also when the directory is unset or empty).  A portlet
 * that fails a check is refused: logged with the reason, remembered for
 * the catalogue, and the rest still load.  Returns 0, or a negative error
 * only when the host itself cannot go on (out of memory, unreadable dir).
 */
int pt_plugins_load(pt_app *app);
/* What main.c calls once, after the core routes: registers the platform
 * routes (pt_routes_portlets) and then loads the portlets. */
int pt_portlet_host_init(pt_app *app);
/* Calls each portlet's shutdown() and dlclose()s it.  Call after the HTTP
 * server stopped (handlers must not be running). */
void pt_plugins_unload(pt_app *app);

/* Loaded portlets, in id order. */
size_t pt_plugins_count(const pt_plugins *pl);
const pt_portlet *pt_plugins_at(const pt_plugins *pl, size_t i);
const pt_portlet *pt_plugins_find(const pt_plugins *pl, const char *id);

/* Refused files, in load order.  id is NULL when none could be read. */
size_t pt_plugins_refused_count(const pt_plugins *pl);
void pt_plugins_refused_at(const pt_plugins *pl, size_t i, const char **file, const char **id,
                           const char **reason);

const portico_portlet *pt_portlet_desc(const pt_portlet *p);
/* The i-th route as the host serves it (its own copy), or NULL. */
const portico_route *pt_portlet_route_at(const pt_portlet *p, size_t i);
/* The compiled config schema. */
const pt_schema *pt_portlet_schema(const pt_portlet *p);
/* The file it was loaded from (base name). */
const char *pt_portlet_file(const pt_portlet *p);
/* True if the portlet lists `dashboard` among its dashboards. */
bool pt_portlet_has_dashboard(const pt_portlet *p, const char *dashboard);

/* ---- running portlet code (plugin_host.c, portlet_run.c) ------------------ */

/* The host function table every ctx points at. */
extern const portico_host pt_portico_host;

/*
 * A portlet route as the host serves it.  `route` is the host's own copy
 * of the portlet's entry, read up to the portlet's route_size and zero
 * past it, so the rest of the host never looks at the portlet's layout.
 */
typedef struct pt_route_binding {
    const pt_portlet *portlet;
    portico_route route;
    pt_schema *body_schema; /* compiled route.body_schema, or NULL */
} pt_route_binding;

/*
 * The router handler for every portlet route: checks, in order, that the
 * portlet is enabled for the caller's organisation (404
 * portlet_not_enabled), who may call (403 forbidden), MFA (403
 * mfa_required) and the body (400/413/415/422), then runs the handler with
 * the request's read snapshot.
 */
void pt_portlet_route_handler(pt_req *req, pt_res *res, void *ud);

/*
 * What one dashboard needs from one enabled portlet: its card (when
 * placed) and its notices, run in the dashboard's own read transaction.
 * *summary: the card (new reference), json_null() when the portlet has no
 * summary, NULL when it asked to be hidden (or placed is false), or
 * {"error":"unavailable"} when it failed.  Notices are appended to
 * notices.
 */
void pt_portlet_dashboard(json_t **summary, pt_app *app, pt_txn *txn, int32_t today,
                          const pt_portlet *p, const pt_caller *caller, const json_t *person,
                          const json_t *config, const char *dashboard, bool placed,
                          json_t *notices);

/* True if a PT_T_PORTLET_DATA record has one of the shapes the host
 * writes (JSON, bytes, counter); *why says what is wrong otherwise. */
bool pt_portlet_record_valid(const void *key, size_t klen, const void *val, size_t vlen,
                             const char **why);

/* The installation's secret that seals list cursors, kept in PT_T_META
 * under this key. */
#define PT_CURSOR_SECRET_META_KEY "portlet-cursor-secret"
const unsigned char *pt_plugins_cursor_secret(const pt_plugins *pl);

/* init() and shutdown() with a ctx of their own. */
int pt_portlet_run_init(pt_app *app, pt_portlet *p, void **state);
void pt_portlet_run_shutdown(const pt_portlet *p);

/* The key of an org's config record for a portlet (PT_T_PORTLET_CONF). */
int pt_portlet_conf_key(pt_key *k, const char *org, const char *portlet_id);

/* ---- routes (portlet_routes.c) ------------------------------------------- */

/*
 * Validates body ({enabled, placements?, config?}, as PUT
 * /api/v1/orgs/{org}/portlets/{id} takes it) and stores it as org's setting
 * for p, audited "portlet.configure" by actor.  PT_EINVAL with *errors
 * ([{pointer, message}]) on invalid input; *stored is the stored record.
 */
int pt_portlet_configure(json_t **stored, json_t **errors, pt_app *app, const char *org,
                         const char *actor, const pt_portlet *p, const json_t *body);

/*
 * The org's setting for each loaded portlet, in id order, as GET
 * /api/v1/orgs/{org}/portlets lists them: [{id, name, enabled, placements,
 * config, updated_at}] (*items a new reference).  PT_ENOTFOUND when org
 * does not exist.
 */
int pt_portlet_org_list(json_t **items, pt_app *app, const char *org);

/* Whether org has any setting (enabled or not) for the portlet. */
int pt_portlet_conf_exists(bool *out, pt_app *app, const char *org, const char *portlet_id);

/* ---- demo data (portlet_demo.c) ------------------------------------------- */

/*
 * For each loaded portlet with a demo callback and no setting in
 * org yet: runs the callback as the system actor and enables the portlet
 * with the config it returns, placed on each of its dashboards.
 * Idempotent.  Returns the number of portlets set up, or a negative error.
 */
int pt_plugins_demo_load(pt_app *app, const char *org);
/* Runs p's check_config on a schema-valid config with the schema's
 * defaults filled in, and appends its errors to errors with prefix before
 * each pointer ("/config"). */
void pt_portlet_check_config(const pt_portlet *p, const json_t *config, const char *prefix,
                             json_t *errors);
/* A copy of config with the schema's defaults filled in (new reference). */
json_t *pt_portlet_config_effective(const pt_portlet *p, const json_t *config);
/* Runs p's demo callback (0 and *config NULL if it has none). */
int pt_portlet_demo(json_t **config, pt_app *app, const pt_portlet *p, const char *org);

/* GET /api/v1/portlets, GET/PUT /api/v1/orgs/{org}/portlets[/{id}],
 * GET /api/v1/dashboards/{dashboard}. */
int pt_routes_portlets(pt_app *app);

/* Internal to the loader and host: the state init() stored. */
void *pt_portlet_state(const pt_portlet *p);

#endif
