/*
 * http/app.h - the server context (pt_app) handed to every handler through
 * pt_req_app().  Built once at start-up in app/main.c; read-only afterwards
 * except for the parts that carry their own locks (store, metrics,
 * login guard).
 *
 * Why here and not in app/: http.c reads the router, the listen settings
 * and the metrics from it, and every layer above http/ hands it around, so
 * it must live no higher than http/.  Members owned by higher layers (auth
 * keys, login guard, token cache, portlets) are forward-declared pointers, and
 * authenticating a request goes through the `authenticate` hook that
 * app/main.c sets to pt_auth_authenticate: http/ never includes auth/.
 */
#ifndef PT_HTTP_APP_H
#define PT_HTTP_APP_H

#include "base/config.h"
#include "base/metrics.h"
#include "http/cursor.h"
#include "http/http.h"
#include "store/roles.h"
#include "store/store.h"

struct pt_app;
struct pt_keys;
struct pt_login_guard;
struct pt_cors;
struct pt_plugins;
struct pt_token_cache;

/* Fills *out from an Authorization header value, reading the store in txn
 * (the request's snapshot) or, when txn is NULL, in a read of its own; on
 * failure returns a
 * negative error and sets *code ("unauthorized", "token_expired",
 * "leaver_access_expired").  See pt_auth_authenticate in auth/auth.h. */
typedef int (*pt_authenticate_fn)(struct pt_app *app, const char *authorization, pt_txn *txn,
                                  pt_caller *out, const char **code);

typedef struct pt_app {
    pt_config cfg;
    pt_store *store;
    struct pt_keys *keys;
    pt_metrics *metrics;
    pt_router *router;
    struct pt_login_guard *login_guard;
    struct pt_plugins *plugins;
    const char *openapi_json; /* the embedded spec, served as-is */
    size_t openapi_len;
    struct pt_token_cache *token_cache; /* NULL: verify every request */
    pt_authenticate_fn authenticate;    /* NULL: every token is refused */
    struct pt_cors *cors;               /* NULL: no origin is allowed */
    /* Seals the cursors of core lists (pt_page_*); loaded at start. */
    unsigned char cursor_secret[PT_CURSOR_SECRET_LEN];
    bool cursor_secret_set; /* false: every cursor is refused */
} pt_app;

#endif
