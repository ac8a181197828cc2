/*
 * fuzz_router.c - route lookup on arbitrary methods and raw paths, and the
 * percent-decoder.
 *
 * The router is built by the real registration functions, so the fuzzer
 * sees the route table porticod serves, plus a few portlet-style patterns.
 * Each lookup is checked against a plain reference matcher over
 * pt_router_each: same outcome, a pattern that really matches, parameters
 * that are the decoded segments, literals preferred over parameters, and
 * an Allow list naming every method the path has.
 */
#include "admin/people.h"
#include "app/app.h"
#include "auth/auth.h"
#include "host/plugins.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROUTES 64

static pt_app app;
static struct {
    const char *method, *pattern;
} routes[MAX_ROUTES];
static size_t nroutes;

static void dummy(pt_req *req, pt_res *res, void *ud)
{
    (void)req;
    (void)res;
    (void)ud;
}

static void collect(const char *method, const char *pattern, unsigned flags, void *ctx)
{
    (void)flags;
    (void)ctx;
    if (nroutes < MAX_ROUTES) {
        routes[nroutes].method = method;
        routes[nroutes].pattern = pattern;
        nroutes++;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/pt_fuzz_router_XXXXXX", path[128];
    pt_config_defaults(&app.cfg);
    app.cfg.test_clock = true;
    app.cfg.pwhash_ops = crypto_pwhash_OPSLIMIT_MIN;
    app.cfg.pwhash_mem = crypto_pwhash_MEMLIMIT_MIN;
    pt_store *keystore = NULL; /* only the signing keys live here */
    pt_store_options so = PT_STORE_OPTIONS_INIT;
    if (!mkdtemp(dir) || pt_store_open(&keystore, dir, &so) != 0 ||
        pt_keys_open(&app.keys, keystore, NULL) != 0 || pt_router_new(&app.router) != 0 ||
        pt_routes_auth(&app) != 0 || pt_routes_orgs(&app) != 0 || pt_routes_health(&app) != 0 ||
        pt_routes_portlets(&app) != 0 ||
        pt_router_add(app.router, "GET", "/api/v1/portlets/{id}/sites/{site}/sessions/{session}", 0,
                      dummy, NULL) != 0 ||
        pt_router_add(app.router, "DELETE", "/api/v1/orgs/{org}/people/{username}", 0, dummy,
                      NULL) != 0 ||
        pt_router_add(app.router, "GET", "/api/v1/orgs/new/people", 0, dummy, NULL) != 0) {
        fprintf(stderr, "fuzz_router: setup failed: %s\n", pt_error_last());
        abort();
    }
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
    pt_router_each(app.router, collect, NULL);
    return 0;
}

/* Splits and decodes like the router is documented to; -1 if the path
 * can never match (bad escape, %00, too many segments). */
static int split_path(char segs[][2048], const char *path, size_t *n)
{
    *n = 0;
    const char *p = path + 1;
    if (!*p)
        return 0;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (*n == 32 || pt_url_decode(segs[*n], p, len, false) < 0)
            return -1;
        (*n)++;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* -1: no match; else the number of segments.  kinds[i] is 'L' or 'P'. */
static int ref_match(const char *pattern, char segs[][2048], size_t n, char *kinds)
{
    size_t i = 0;
    const char *p = pattern + 1;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= n || !segs[i][0])
            return -1;
        if (p[0] == '{') {
            kinds[i] = 'P';
        } else {
            if (strlen(segs[i]) != len || memcmp(segs[i], p, len) != 0)
                return -1;
            kinds[i] = 'L';
        }
        i++;
        if (!end)
            break;
        p = end + 1;
    }
    return i == n ? (int)n : -1;
}

static void fail(const char *what, const char *method, const char *path)
{
    fprintf(stderr, "router: %s for %s %s\n", what, method, path);
    abort();
}

static void check_router(const char *method, const char *path)
{
    static char segs[33][2048];
    static pt_route_match m;
    size_t n = 0;
    char kinds[32], chosen_kinds[32] = {0};
    int err = pt_router_find(app.router, method, path, &m);
    if (path[0] != '/' || strlen(path) >= sizeof m.buf || split_path(segs, path, &n) < 0) {
        if (err != PT_ENOTFOUND)
            fail("unexpected match", method, path);
        return;
    }
    bool any_path = false, any_method = false;
    const char *chosen = NULL;
    for (size_t r = 0; r < nroutes; r++) {
        if (strcmp(routes[r].pattern, m.pattern ? m.pattern : "") == 0 &&
            strcmp(routes[r].method, method) == 0)
            chosen = routes[r].pattern;
    }
    if (chosen && ref_match(chosen, segs, n, chosen_kinds) < 0)
        fail("matched a pattern that does not fit", method, path);
    for (size_t r = 0; r < nroutes; r++) {
        if (ref_match(routes[r].pattern, segs, n, kinds) < 0)
            continue;
        any_path = true;
        if (err == PT_EDENIED && !strstr(m.allow, routes[r].method))
            fail("Allow misses a method", method, path);
        if (strcmp(routes[r].method, method) != 0)
            continue;
        any_method = true;
        /* At the first segment where the two differ in kind, the chosen
         * route must have the literal. */
        for (size_t i = 0; chosen && i < n; i++) {
            if (kinds[i] != chosen_kinds[i]) {
                if (chosen_kinds[i] != 'L')
                    fail("a parameter beat a literal", method, path);
                break;
            }
        }
    }
    int want = any_method ? 0 : any_path ? PT_EDENIED : PT_ENOTFOUND;
    if (err != want)
        fail("outcome differs from the reference", method, path);
    if (err == 0) {
        if (!chosen)
            fail("match names no registered route", method, path);
        unsigned k = 0;
        for (size_t i = 0; i < n; i++) {
            if (chosen_kinds[i] != 'P')
                continue;
            if (k >= m.nparams || strcmp(m.param_values[k], segs[i]) != 0)
                fail("parameter is not the decoded segment", method, path);
            k++;
        }
        if (k != m.nparams)
            fail("parameter count", method, path);
    }
}

/* Decoding then re-encoding every byte as %XX must give the same text. */
static void check_decode(const char *src, size_t len, bool plus)
{
    char *dst = malloc(len + 1), *enc = malloc(3 * len + 1), *again = malloc(3 * len + 1);
    if (pt_url_decode(dst, src, len, plus) == 0) {
        size_t dlen = strlen(dst);
        if (dlen > len)
            abort();
        if (!memchr(src, '%', len) && !(plus && memchr(src, '+', len)) &&
            (dlen != len || memcmp(dst, src, len) != 0))
            abort(); /* nothing to decode, yet the text changed */
        for (size_t i = 0; i < dlen; i++)
            snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)dst[i]);
        if (pt_url_decode(again, enc, 3 * dlen, plus) != 0 || strcmp(again, dst) != 0)
            abort();
    } else if (!memchr(src, '%', len) && !memchr(src, '\0', len)) {
        abort(); /* refused text with no escape and no NUL */
    }
    free(dst);
    free(enc);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "get"};
    if (size < 1 || size > 4096)
        return 0;
    char *path = malloc(size);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    check_decode(path, size - 1, data[0] & 0x80);
    check_router(methods[(data[0] & 0x7f) % PT_ARRAY_LEN(methods)], path);
    free(path);
    return 0;
}
