/*
 * config.h - porticod settings: defaults, overridden by the JSON file named
 * with --config, overridden by command-line flags.
 */
#ifndef PT_CONFIG_H
#define PT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_TRUSTED_PROXIES_MAX 16

typedef struct pt_config {
    char listen[128];       /* "127.0.0.1:8080" */
    char data_dir[1024];    /* "./data" */
    char store[1024];       /* "" = LMDB in data_dir; or a postgres:// URL */
    char plugins_dir[1024]; /* "" = none */
    char config_file[1024];
    unsigned num_threads;           /* CivetWeb worker threads (default 256) */
    size_t max_body_bytes;          /* default 1 MiB */
    size_t bulk_body_max;           /* cap on routes that ask for more (default 64 MiB) */
    unsigned request_timeout_ms;    /* whole header block; each body read (default 10 s) */
    unsigned keep_alive_timeout_ms; /* idle time between requests (default 5 s) */
    unsigned body_timeout_ms;       /* whole request body (default 30 s) */
    /* Peers whose X-Forwarded-For / X-Real-IP name the client (default
     * none): see pt_req_client_addr. */
    char trusted_proxies[PT_TRUSTED_PROXIES_MAX][48];
    unsigned ntrusted_proxies;
    size_t map_size;                         /* LMDB initial map (default 64 MiB) */
    size_t map_size_max;                     /* growth ceiling (default 64 GiB) */
    char issuer[256];                        /* JWT iss (default "portico") */
    char audience[256];                      /* JWT aud (default "portico-api") */
    unsigned access_ttl;                     /* seconds (default 900) */
    unsigned keys_refresh_secs;              /* re-read the signing keys every N s (30) */
    unsigned refresh_ttl;                    /* seconds (default 30 days) */
    unsigned long long pwhash_ops;           /* Argon2id opslimit (default libsodium INTERACTIVE) */
    size_t pwhash_mem;                       /* Argon2id memlimit bytes (default INTERACTIVE) */
    unsigned login_max_failures;             /* per username in the window (default 5) */
    unsigned login_window_secs;              /* default 900 */
    unsigned login_max_failures_per_address; /* per client address in the window (20) */
    unsigned pwhash_concurrency;             /* Argon2id at once; 0 = 2 x online CPUs */
    unsigned pwhash_wait_ms;                 /* wait for a slot before 503 (default 1000) */
    bool test_clock;                         /* enables PUT /api/v1/_test/clock */
    bool demo;                               /* load demo data at start */
    int log_level;
    char access_log[1024]; /* "stderr" (default), "off" or a file path */
    bool print_routes;     /* --routes: print "METHOD PATTERN" lines and exit */
} pt_config;

void pt_config_defaults(pt_config *cfg);
/* Reads a JSON object of the same field names; unknown keys are an error. */
int pt_config_load_file(pt_config *cfg, const char *path);
/* Parses argv (flags override the file).  Returns 0, 1 if --help was
 * printed (caller exits 0), or a negative error (usage printed). */
int pt_config_from_args(pt_config *cfg, int argc, char **argv);

#endif
