/*
 * app.h - the server context handed to every handler through pt_req_app().
 * Built once at start-up in main.c; read-only afterwards except for the
 * parts that carry their own locks (store, metrics, throttle).
 */
#ifndef PT_APP_H
#define PT_APP_H

#include "config.h"
#include "http.h"
#include "metrics.h"
#include "store.h"

struct pt_keys;
struct pt_throttle;
struct pt_plugins;

typedef struct pt_app {
    pt_config cfg;
    pt_store *store;
    struct pt_keys *keys;
    pt_metrics *metrics;
    pt_router *router;
    struct pt_throttle *throttle;
    struct pt_plugins *plugins;
    const char *openapi_json; /* the embedded spec, served as-is */
    size_t openapi_len;
    struct pt_token_cache *token_cache; /* NULL: verify every request */
} pt_app;

/* Route registration, one function per subsystem (called from main.c). */
int pt_routes_auth(pt_app *app);      /* auth.c: login, refresh, logout, jwks, mfa */
int pt_routes_orgs(pt_app *app);      /* org_routes.c: orgs, people, import, audit, me */
int pt_routes_health(pt_app *app);    /* health.c: healthz, readyz, metrics, openapi, test clock */
int pt_routes_demo_page(pt_app *app); /* demo_page.c: GET / (the browser demo page) */

/* First start: creates system admin "admin" from PORTICO_ADMIN_PASSWORD when
 * the store has no accounts (bootstrap.c). */
int pt_bootstrap_admin(pt_app *app);
/* Loads the demo organisation idempotently and prints how to log in (demo.c). */
int pt_demo_load(pt_app *app);

#endif
