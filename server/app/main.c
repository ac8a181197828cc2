/*
 * main.c - porticod: read the configuration, open the store and keys,
 * register every route, start serving, and stop cleanly on SIGINT/SIGTERM.
 */
#include "admin/people.h"
#include "app/app.h"
#include "auth/auth.h"
#include "auth/session.h"
#include "base/access_log.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "host/plugins.h"
#include "http/cors.h"
#include "store/people_counts.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const char pt_openapi_json[];
extern const size_t pt_openapi_json_len;

static void print_route(const char *method, const char *pattern, unsigned flags, void *ctx)
{
    (void)flags;
    (void)ctx;
    if (strncmp(pattern, "/api/v1/_test/", 14) == 0)
        return; /* test-only hooks are not part of the API */
    printf("%s %s\n", method, pattern);
}

/* The host part of cfg.listen, for the start-up line ("127.0.0.1"). */
static void listen_host(char *dst, size_t n, const char *listen)
{
    const char *colon = strrchr(listen, ':');
    size_t len = colon ? (size_t)(colon - listen) : strlen(listen);
    if (len == 0) {
        pt_strlcpy(dst, "127.0.0.1", n);
        return;
    }
    if (len >= n)
        len = n - 1;
    memcpy(dst, listen, len);
    dst[len] = '\0';
}

static void app_free(pt_app *app)
{
    pt_plugins_unload(app);
    pt_router_free(app->router);
    pt_metrics_free(app->metrics);
    pt_login_guard_free(app->login_guard);
    pt_cors_free(app->cors);
    pt_token_cache_free(app->token_cache);
    pt_keys_free(app->keys);
    pt_store_close(app->store);
}

#define PRUNE_BATCH 1024

typedef struct prune_ctx {
    int64_t now;
    unsigned deleted;
} prune_ctx;

static int prune_txn(pt_txn *txn, void *vctx)
{
    prune_ctx *c = vctx;
    return pt_session_prune(txn, c->now, PRUNE_BATCH, &c->deleted);
}

/*
 * Expired sessions are of no use to anyone; logins also prune a few, but
 * a server that was down for a while (or saw many logins and no later
 * ones) starts with a backlog.  Batches keep each write transaction small.
 */
static int prune_sessions(pt_app *app)
{
    unsigned long total = 0;
    prune_ctx c = {pt_clock_now(), 0};
    do {
        c.deleted = 0;
        int err = pt_store_write(app->store, prune_txn, &c);
        if (err < 0)
            return err;
        total += c.deleted;
    } while (c.deleted == PRUNE_BATCH);
    pt_log_info("main", "pruned %lu expired session(s)", total);
    return 0;
}

static int fail(pt_app *app, const char *what)
{
    fprintf(stderr, "porticod: %s: %s\n", what, pt_error_last());
    app_free(app);
    return 1;
}

int main(int argc, char **argv)
{
    pt_app app;
    memset(&app, 0, sizeof(app));
    pt_config_defaults(&app.cfg);
    int rc = pt_config_from_args(&app.cfg, argc, argv);
    if (rc == 1)
        return 0; /* --help */
    if (rc < 0)
        return 2;
    pt_log_set_level((enum pt_log_level)app.cfg.log_level);
    if (pt_access_log_open(app.cfg.access_log) < 0) {
        fprintf(stderr, "porticod: %s\n", pt_error_last());
        return 1;
    }

    /* Block the stop signals before any thread exists so every CivetWeb
     * worker inherits the mask and sigwait() below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (pt_crypto_init() < 0)
        return fail(&app, "cannot initialise libsodium");
    /* http/ calls authentication through this hook; it never includes auth/. */
    app.authenticate = pt_auth_authenticate;
    app.openapi_json = pt_openapi_json;
    app.openapi_len = pt_openapi_json_len;
    if (pt_metrics_new(&app.metrics) < 0 || pt_router_new(&app.router) < 0)
        return fail(&app, "out of memory");

    pt_store_options so = PT_STORE_OPTIONS_INIT;
    so.map_size = app.cfg.map_size;
    so.map_size_max = app.cfg.map_size_max;
    so.max_readers = app.cfg.num_threads + 16;
    so.used_marker = PT_STORE_USED_MARKER; /* a marker without a store: data was lost */
    /* --store names a PostgreSQL database; the data directory is still
     * where a key from before the store kept keys is imported from. */
    const char *where = app.cfg.store[0] ? app.cfg.store : app.cfg.data_dir;
    if (app.cfg.store[0] && !pt_store_is_url(app.cfg.store)) {
        pt_error_set("--store must be a postgres:// or postgresql:// URL");
        return fail(&app, "cannot open the store");
    }
    if (pt_store_open(&app.store, where, &so) < 0)
        return fail(&app, "cannot open the store");
    if (app.cfg.store[0] && mkdir(app.cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        pt_error_set("%s: %s", app.cfg.data_dir, strerror(errno));
        return fail(&app, "cannot create the data directory");
    }
    if (pt_cursor_secret_load(app.cursor_secret, app.store, PT_CURSOR_CORE_META_KEY) < 0)
        return fail(&app, "cannot load the cursor secret");
    app.cursor_secret_set = true;
    if (pt_keys_open(&app.keys, app.store, app.cfg.data_dir) < 0)
        return fail(&app, "cannot load the signing keys");
    pt_keys_set_intervals(app.keys, app.cfg.keys_refresh_secs, PT_KEYS_UNKNOWN_KID_MS);
    if (pt_login_guard_new(&app.login_guard, &app.cfg, app.store) < 0)
        return fail(&app, "cannot create the login throttle");
    /* Each Argon2id holds pwhash_mem for its run: bound how many run at
     * once (default twice the cores) so a burst of logins cannot take the
     * memory and the CPU of everything else. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned slots = app.cfg.pwhash_concurrency ? app.cfg.pwhash_concurrency
                                                : (unsigned)(cpus > 0 && cpus < 512 ? cpus * 2 : 4);
    pt_password_limit_set(slots, app.cfg.pwhash_wait_ms);
    /* Room for the tokens of a busy quarter hour: 16k slots, ~5 MiB. */
    if (pt_cors_new(&app.cors) < 0 || pt_cors_reload(app.cors, app.store) < 0)
        return fail(&app, "cannot load the CORS allow-list");
    if (pt_token_cache_new(&app.token_cache, 16384) < 0)
        return fail(&app, "cannot create the token cache");

    if (pt_routes_health(&app) < 0 || pt_routes_demo_page(&app) < 0)
        return fail(&app, "cannot register health routes");
    if (pt_routes_auth(&app) < 0)
        return fail(&app, "cannot register auth routes");
    if (pt_routes_orgs(&app) < 0)
        return fail(&app, "cannot register organisation routes");

    /*
     * ---- PORTLET HOST -----------------------------------------------------
     * The portlet host is loaded here: after the core routes (so portlet
     * routes cannot shadow them) and before --routes and the server start.
     * It sets app.plugins; see plugins.h.
     */
    if (pt_portlet_host_init(&app) < 0)
        return fail(&app, "cannot start the portlet host");

    if (app.cfg.print_routes) {
        pt_router_each(app.router, print_route, NULL);
        fflush(stdout);
        app_free(&app);
        return 0;
    }

    if (pt_bootstrap_admin(&app) < 0)
        return fail(&app, "cannot create the administrator");
    if (app.cfg.demo && pt_demo_load(&app) < 0)
        return fail(&app, "cannot load the demo data");
    if (prune_sessions(&app) < 0)
        return fail(&app, "cannot prune expired sessions");
    /* A store from before kept headcounts gets them once, here, rather
     * than by a scan under the first dashboards. */
    size_t built;
    if (pt_people_counts_migrate(app.store, &built) < 0)
        return fail(&app, "cannot build the headcounts");

    pt_http *http = NULL;
    if (pt_http_start(&http, &app) < 0)
        return fail(&app, "cannot start the HTTP server");

    char host[128];
    listen_host(host, sizeof(host), app.cfg.listen);
    printf("porticod listening on http://%s:%d\n", host, pt_http_port(http));
    fflush(stdout);
    pt_log_info("main", "listening on %s:%d (data %s, store %s)", host, pt_http_port(http),
                app.cfg.data_dir, pt_store_backend(app.store));

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    pt_log_info("main", "signal %d: stopping", sig);

    pt_http_stop(http);
    /* The portlet host is unloaded in app_free (after the server stopped,
     * so no handler is running). */
    app_free(&app);
    return 0;
}
