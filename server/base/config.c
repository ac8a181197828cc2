/*
 * config.c - porticod settings: built-in defaults, then the JSON file named
 * by --config, then the other command-line flags (which win regardless of
 * where --config appears on the line).
 */
#include "base/common.h"
#include "base/config.h"
#include "base/log.h"

#include <jansson.h>
#include <sodium.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pt_config_defaults(pt_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    pt_strlcpy(cfg->listen, "127.0.0.1:8080", sizeof(cfg->listen));
    pt_strlcpy(cfg->data_dir, "./data", sizeof(cfg->data_dir));
    cfg->num_threads = 256;
    cfg->max_body_bytes = 1024 * 1024;
    cfg->request_timeout_ms = 10000;
    cfg->keep_alive_timeout_ms = 5000;
    cfg->body_timeout_ms = 30000;
    cfg->bulk_body_max = 64 * 1024 * 1024;
    cfg->map_size = (size_t)64 << 20;
    cfg->map_size_max = (size_t)64 << 30;
    pt_strlcpy(cfg->issuer, "portico", sizeof(cfg->issuer));
    pt_strlcpy(cfg->audience, "portico-api", sizeof(cfg->audience));
    cfg->access_ttl = 900;
    cfg->keys_refresh_secs = 30;
    cfg->refresh_ttl = 2592000;
    cfg->pwhash_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    cfg->pwhash_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    cfg->login_max_failures = 5;
    cfg->login_window_secs = 900;
    cfg->login_max_failures_per_address = 20;
    cfg->pwhash_concurrency = 0;
    cfg->pwhash_wait_ms = 1000;
    cfg->log_level = PT_LOG_INFO;
    pt_strlcpy(cfg->access_log, "stderr", sizeof(cfg->access_log));
}

static int parse_level(const char *s, int *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i; /* matches enum pt_log_level */
            return 0;
        }
    return -1;
}

/* Decimal only, whole string, within [min, max]. */
static int parse_u64(const char *s, unsigned long long min, unsigned long long max,
                     unsigned long long *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "HOST:PORT" with a port 0..65535 ("[v6]:PORT" accepted too). */
static bool listen_valid(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return false;
    unsigned long long port;
    return parse_u64(colon + 1, 0, 65535, &port) == 0;
}

static int set_string(char *dst, size_t n, const char *src, const char *what)
{
    if (pt_strlcpy(dst, src, n) < 0) {
        pt_error_set("%s is too long", what);
        return PT_EINVAL;
    }
    return 0;
}

typedef enum kind { K_STR, K_UINT, K_SIZE, K_ULL, K_BOOL, K_LEVEL, K_PROXIES } kind;

typedef struct field {
    const char *name;
    kind kind;
    size_t off;
    size_t size; /* for strings */
    unsigned long long min, max;
} field;

#define FSTR(n)                                                                                    \
    {                                                                                              \
#n, K_STR, offsetof(pt_config, n), sizeof(((pt_config *)0)->n), 0, 0                       \
    }
#define FNUM(n, k, lo, hi)                                                                         \
    {                                                                                              \
#n, k, offsetof(pt_config, n), 0, lo, hi                                                   \
    }

static const field fields[] = {
    FSTR(listen),
    FSTR(data_dir),
    FSTR(store),
    FSTR(plugins_dir),
    FNUM(num_threads, K_UINT, 1, 1024),
    FNUM(max_body_bytes, K_SIZE, 1, (unsigned long long)1 << 32),
    FNUM(request_timeout_ms, K_UINT, 100, 600000),
    FNUM(keep_alive_timeout_ms, K_UINT, 100, 600000),
    FNUM(body_timeout_ms, K_UINT, 100, 3600000),
    {"trusted_proxies", K_PROXIES, offsetof(pt_config, trusted_proxies), 0, 0, 0},
    FNUM(bulk_body_max, K_SIZE, 1, (unsigned long long)1 << 32),
    FNUM(map_size, K_SIZE, (unsigned long long)1 << 20, (unsigned long long)1 << 44),
    FNUM(map_size_max, K_SIZE, (unsigned long long)1 << 20, (unsigned long long)1 << 46),
    FSTR(issuer),
    FSTR(audience),
    FNUM(access_ttl, K_UINT, 1, 86400 * 7),
    FNUM(keys_refresh_secs, K_UINT, 1, 3600),
    FNUM(refresh_ttl, K_UINT, 1, 86400 * 366),
    FNUM(pwhash_ops, K_ULL, 1, 1000),
    FNUM(pwhash_mem, K_SIZE, 8192, (unsigned long long)1 << 34),
    FNUM(login_max_failures, K_UINT, 1, 1000000),
    FNUM(login_window_secs, K_UINT, 1, 86400 * 30),
    FNUM(login_max_failures_per_address, K_UINT, 1, 1000000),
    FNUM(pwhash_concurrency, K_UINT, 0, 1024),
    FNUM(pwhash_wait_ms, K_UINT, 0, 60000),
    {"test_clock", K_BOOL, offsetof(pt_config, test_clock), 0, 0, 0},
    {"log_level", K_LEVEL, offsetof(pt_config, log_level), 0, 0, 0},
    FSTR(access_log),
};

/*
 * trusted_proxies: a list of literal IP addresses (as the socket reports
 * them, "127.0.0.1", "::1").  Only these peers may name the client in
 * X-Forwarded-For, so a typo must not silently widen trust: anything that
 * is not an address is refused.
 */
static int set_proxies(pt_config *cfg, const json_t *val, const char *path)
{
    if (!json_is_array(val) || json_array_size(val) > PT_TRUSTED_PROXIES_MAX) {
        pt_error_set("config %s: trusted_proxies must be a list of at most %d addresses", path,
                     PT_TRUSTED_PROXIES_MAX);
        return PT_EINVAL;
    }
    cfg->ntrusted_proxies = 0;
    size_t i;
    json_t *it;
    json_array_foreach(val, i, it)
    {
        const char *s = json_string_value(it);
        unsigned char addr[16];
        if (!s || (inet_pton(AF_INET, s, addr) != 1 && inet_pton(AF_INET6, s, addr) != 1) ||
            strlen(s) >= sizeof(cfg->trusted_proxies[0])) {
            pt_error_set("config %s: trusted_proxies[%zu] is not an IP address", path, i);
            return PT_EINVAL;
        }
        pt_strlcpy(cfg->trusted_proxies[cfg->ntrusted_proxies++], s,
                   sizeof(cfg->trusted_proxies[0]));
    }
    return 0;
}

static int set_number(pt_config *cfg, const field *f, unsigned long long v)
{
    char *base = (char *)cfg + f->off;
    if (v < f->min || v > f->max) {
        pt_error_set("%s must be between %llu and %llu", f->name, f->min, f->max);
        return PT_EINVAL;
    }
    switch (f->kind) {
    case K_UINT:
        *(unsigned *)base = (unsigned)v;
        break;
    case K_SIZE:
        *(size_t *)base = (size_t)v;
        break;
    case K_ULL:
        *(unsigned long long *)base = v;
        break;
    default:
        return PT_EINVAL;
    }
    return 0;
}

int pt_config_load_file(pt_config *cfg, const char *path)
{
    json_error_t err;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        pt_error_set("config %s: line %d: %s", path, err.line, err.text);
        return PT_EINVAL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        pt_error_set("config %s: must be a JSON object", path);
        return PT_EINVAL;
    }
    int rc = 0;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        const field *f = NULL;
        for (size_t i = 0; i < PT_ARRAY_LEN(fields); i++)
            if (strcmp(fields[i].name, key) == 0)
                f = &fields[i];
        if (!f) {
            pt_error_set("config %s: unknown key \"%s\"", path, key);
            rc = PT_EINVAL;
            break;
        }
        char *base = (char *)cfg + f->off;
        switch (f->kind) {
        case K_STR:
            if (!json_is_string(val)) {
                pt_error_set("config %s: %s must be a string", path, key);
                rc = PT_EINVAL;
            } else {
                rc = set_string(base, f->size, json_string_value(val), key);
            }
            break;
        case K_BOOL:
            if (!json_is_boolean(val)) {
                pt_error_set("config %s: %s must be true or false", path, key);
                rc = PT_EINVAL;
            } else {
                *(bool *)base = json_is_true(val);
            }
            break;
        case K_PROXIES:
            rc = set_proxies(cfg, val, path);
            break;
        case K_LEVEL:
            if (!json_is_string(val) || parse_level(json_string_value(val), (int *)base) < 0) {
                pt_error_set("config %s: log_level must be debug, info, warn or error", path);
                rc = PT_EINVAL;
            }
            break;
        default:
            if (!json_is_integer(val) || json_integer_value(val) < 0) {
                pt_error_set("config %s: %s must be a non-negative integer", path, key);
                rc = PT_EINVAL;
            } else {
                rc = set_number(cfg, f, (unsigned long long)json_integer_value(val));
            }
            break;
        }
        if (rc < 0)
            break;
    }
    json_decref(root);
    if (rc == 0 && !listen_valid(cfg->listen)) {
        pt_error_set("config %s: listen must be HOST:PORT", path);
        rc = PT_EINVAL;
    }
    return rc;
}

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [options]\n"
            "\n"
            "  --listen ADDR:PORT   address to listen on (default 127.0.0.1:8080; port 0 picks "
            "one)\n"
            "  --data DIR           data directory (default ./data)\n"
            "  --store URL          keep the data in PostgreSQL (postgres://...) instead of\n"
            "                       LMDB in the data directory (which still holds the keys)\n"
            "  --plugins DIR        directory of portlet .so files\n"
            "  --config FILE        JSON config file (flags override it)\n"
            "  --threads N          worker threads (default 256)\n"
            "  --max-body BYTES     request body limit (default 1048576)\n"
            "  --log-level LEVEL    debug, info, warn or error (default info)\n"
            "  --access-log DEST    JSON access log: stderr (default), off or a file\n"
            "  --demo               load the demo organisation at start\n"
            "  --test-clock         enable PUT /api/v1/_test/clock (tests only)\n"
            "  --routes             print the registered routes and exit\n"
            "  --help               show this help\n"
            "\n"
            "Environment: PORTICO_ADMIN_PASSWORD creates the system administrator \"admin\"\n"
            "on the first start with an empty data directory.\n",
            prog);
}

/* Splits "--flag=value" or takes the next argv entry as the value. */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (strcmp(a, name) == 0 && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static bool flag_is(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static int bad_usage(const char *prog, const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n");
    usage(stderr, prog);
    pt_error_set("bad command line");
    return PT_EINVAL;
}

int pt_config_from_args(pt_config *cfg, int argc, char **argv)
{
    const char *prog = argc > 0 && argv[0] ? argv[0] : "porticod";

    /* Pass 1: --help and --config, so the file sits under every flag. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, prog);
            return 1;
        }
        if (flag_is(argv[i], "--config")) {
            const char *v = flag_value(argc, argv, &i, "--config");
            if (!v)
                return bad_usage(prog, "%s needs a value", "--config");
            if (set_string(cfg->config_file, sizeof(cfg->config_file), v, "--config") < 0)
                return bad_usage(prog, "%s: path too long", "--config");
        }
    }
    if (cfg->config_file[0]) {
        int rc = pt_config_load_file(cfg, cfg->config_file);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", prog, pt_error_last());
            return rc;
        }
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        unsigned long long n;
        if (flag_is(a, "--config")) {
            flag_value(argc, argv, &i, "--config");
        } else if (flag_is(a, "--listen")) {
            if (!(v = flag_value(argc, argv, &i, "--listen")) || !listen_valid(v) ||
                set_string(cfg->listen, sizeof(cfg->listen), v, "--listen") < 0)
                return bad_usage(prog, "%s needs HOST:PORT", "--listen");
        } else if (flag_is(a, "--data")) {
            if (!(v = flag_value(argc, argv, &i, "--data")) || !*v ||
                set_string(cfg->data_dir, sizeof(cfg->data_dir), v, "--data") < 0)
                return bad_usage(prog, "%s needs a directory", "--data");
        } else if (flag_is(a, "--store")) {
            if (!(v = flag_value(argc, argv, &i, "--store")) ||
                set_string(cfg->store, sizeof(cfg->store), v, "--store") < 0)
                return bad_usage(prog, "%s needs a postgres:// URL", "--store");
        } else if (flag_is(a, "--plugins")) {
            if (!(v = flag_value(argc, argv, &i, "--plugins")) ||
                set_string(cfg->plugins_dir, sizeof(cfg->plugins_dir), v, "--plugins") < 0)
                return bad_usage(prog, "%s needs a directory", "--plugins");
        } else if (flag_is(a, "--threads")) {
            if (!(v = flag_value(argc, argv, &i, "--threads")) || parse_u64(v, 1, 1024, &n) < 0)
                return bad_usage(prog, "%s needs a number from 1 to 1024", "--threads");
            cfg->num_threads = (unsigned)n;
        } else if (flag_is(a, "--max-body")) {
            if (!(v = flag_value(argc, argv, &i, "--max-body")) ||
                parse_u64(v, 1, (unsigned long long)1 << 32, &n) < 0)
                return bad_usage(prog, "%s needs a byte count", "--max-body");
            cfg->max_body_bytes = (size_t)n;
        } else if (flag_is(a, "--log-level")) {
            if (!(v = flag_value(argc, argv, &i, "--log-level")) ||
                parse_level(v, &cfg->log_level) < 0)
                return bad_usage(prog, "%s needs debug, info, warn or error", "--log-level");
        } else if (flag_is(a, "--access-log")) {
            if (!(v = flag_value(argc, argv, &i, "--access-log")) ||
                set_string(cfg->access_log, sizeof(cfg->access_log), v, "--access-log") < 0)
                return bad_usage(prog, "%s needs stderr, off or a file", "--access-log");
        } else if (strcmp(a, "--demo") == 0) {
            cfg->demo = true;
        } else if (strcmp(a, "--test-clock") == 0) {
            cfg->test_clock = true;
        } else if (strcmp(a, "--routes") == 0) {
            cfg->print_routes = true;
        } else {
            return bad_usage(prog, "unknown argument %s", a);
        }
    }
    return 0;
}
