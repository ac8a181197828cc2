/*
 * auth.h - who is calling: authenticating requests, the auth routes,
 * access tokens (ES256 JWTs), passwords (Argon2id), TOTP, refresh sessions
 * and login throttling.  The role and status vocabulary and pt_caller are
 * in store/roles.h (the store fills a caller from a membership).
 */
#ifndef PT_AUTH_H
#define PT_AUTH_H

#include "base/common.h"
#include "base/config.h"
#include "store/roles.h"
#include "store/store.h"

#include <jansson.h>

struct pt_app;

/* ---- authenticating a request (authenticate.c) ------------------------ */

/*
 * Verifies the bearer token of an Authorization header value and fills
 * *out: signature (pinned to ES256 with the pre-parsed key), exp/nbf/iss/
 * aud, that the session is live, and the membership as it is now (roles
 * and status are read from the store, not trusted from the token).
 * On failure returns a negative error and sets *code to "unauthorized",
 * "token_expired" or "leaver_access_expired" for the 401/403 answer.
 */
int pt_auth_authenticate(struct pt_app *app, const char *authorization, pt_txn *txn, pt_caller *out,
                         const char **code);

/* The auth routes: login, refresh, logout, jwks, mfa (auth_routes.c). */
int pt_routes_auth(struct pt_app *app);

/* ---- access tokens (token.c) ------------------------------------------- */

/*
 * Signing keys.  One key set is shared by every node through the store
 * (keys_store.c): a `current` key signs, a `next` key is published before
 * it signs anything, and a `previous` key still verifies the tokens it
 * signed.  Each process holds a ring (keyring.c): the set as last read,
 * re-read every PT_KEYS_REFRESH_SECS (config keys_refresh_secs) and when a token names a kid the
 * ring does not know (at most once per PT_KEYS_UNKNOWN_KID_MS), so a
 * rotation made by `portico keys rotate` reaches every node without a
 * restart.  Private key material is never logged or served.
 */
typedef enum pt_key_state { PT_KEY_NEXT, PT_KEY_CURRENT, PT_KEY_PREVIOUS } pt_key_state;
typedef struct pt_keys pt_keys;

#define PT_KEYS_META_KEY         "jwt-signing-keys" /* PT_T_META */
#define PT_KEYS_REFRESH_SECS     30
#define PT_KEYS_UNKNOWN_KID_MS   1000
#define PT_KEYS_PRIVATE_PEM_FILE "jwt-private.pem" /* imported once, see pt_keys_ensure */

/*
 * Makes sure the store holds a key set, race-safe when several nodes start
 * at once (insert if absent, then everyone uses what was stored).  A new
 * set starts from data_dir/jwt-private.pem when there is one (so tokens of
 * an installation from before keep verifying), else from a fresh key; a
 * `next` key is made either way.  data_dir may be NULL.
 */
int pt_keys_ensure(pt_store *store, const char *data_dir, int64_t now);
/* pt_keys_ensure, then a ring over the store's key set. */
int pt_keys_open(pt_keys **out, pt_store *store, const char *data_dir);
void pt_keys_free(pt_keys *k);
/* Re-reads the key set now, whatever the timers say (tests, tools). */
int pt_keys_reload(pt_keys *k);
/* Sets the ring's timers (tests): periodic re-read, unknown-kid re-read. */
void pt_keys_set_intervals(pt_keys *k, unsigned refresh_secs, unsigned unknown_kid_ms);
/* {"keys":[{kty:"EC",crv:"P-256",x,y,kid,alg:"ES256",use:"sig"}, ...]}:
 * every key of the set (next, current, previous), as text (malloc'd). */
int pt_keys_jwks_text(char **out, size_t *len, pt_keys *k);
json_t *pt_keys_jwks(pt_keys *k);
/* The kid of the key that signs now. */
int pt_keys_current_kid(char *out, size_t n, pt_keys *k);
/* Grows by one each time a re-read drops a key: tokens verified with it
 * must not be served from the token cache any more (pt_token_cache_sync).
 * Re-reads first when the period has passed. */
uint64_t pt_keys_epoch(pt_keys *k);

/*
 * Rotation, in one write transaction: the previous key is dropped,
 * current becomes previous (retired_at = now), next becomes current and a
 * fresh next is made.  Refused (PT_ECONFLICT) while the previous key may
 * still verify live tokens, i.e. before its retired_at + min_previous_secs,
 * unless force: dropping it then would refuse tokens that are still valid.
 */
int pt_keys_rotate(pt_store *store, const char *data_dir, int64_t now, int64_t min_previous_secs,
                   bool force);
/* 0 when a stored key set record (PT_KEYS_META_KEY's value) is usable,
 * else PT_EINVAL with why in pt_error_last (portico check). */
int pt_keys_record_check(const void *val, size_t len);
/* [{kid, state, created_at, activated_at?, retired_at?}], signing key
 * first; never the private keys.  PT_ENOTFOUND when the store has none. */
int pt_keys_list(json_t **out, pt_store *store);

typedef struct pt_token_claims {
    char sub[PT_ID_MAX + 1];
    char org[PT_ID_MAX + 1];
    char sid[48];
    char jti[48];
    unsigned roles;
    bool mfa;
    int64_t iat, nbf, exp;
} pt_token_claims;

/* Signs an access token with the current key, naming it in the header's
 * kid, with iss/aud from the arguments; *out is malloc'd. */
int pt_token_sign(char **out, pt_keys *k, const char *iss, const char *aud,
                  const pt_token_claims *c);
/*
 * Verifies signature (ES256 only, with the key of the set that the
 * header's kid names: a token without a kid, or naming none of the set
 * even after a re-read, is refused), iss, aud, exp and nbf against `now`.
 * Tokens over 8 KiB are refused before any decoding.  Returns 0,
 * PT_EINVAL (bad token) or PT_ECONFLICT (expired: maps to token_expired).
 */
int pt_token_verify(pt_token_claims *out, pt_keys *k, const char *iss, const char *aud,
                    const char *token, int64_t now);
#define PT_TOKEN_MAX_LEN 8192
#define PT_TOKEN_SKEW    30 /* seconds of clock skew allowed for nbf/iat */

/* ---- verified-token cache (token_cache.c) ------------------------------ */

/* Tokens pt_token_verify() accepted, served again only within their
 * nbf..exp window; keyed by a hash of the whole token.  Thread-safe. */
typedef struct pt_token_cache pt_token_cache;
int pt_token_cache_new(pt_token_cache **out, size_t slots);
void pt_token_cache_free(pt_token_cache *c);
/* True and *out filled when token verified before and is valid at now. */
bool pt_token_cache_get(pt_token_cache *c, const char *token, int64_t now, pt_token_claims *out);
/* Remembers a token that has just verified. */
void pt_token_cache_put(pt_token_cache *c, const char *token, const pt_token_claims *claims);
/* Empties the cache when key_epoch (pt_keys_epoch) differs from the one
 * it was filled under: a key was dropped, and with it every token it
 * signed, however long the token said it would last. */
void pt_token_cache_sync(pt_token_cache *c, uint64_t key_epoch);

/* ---- passwords (password.c) -------------------------------------------- */

/*
 * At most max_concurrent Argon2id computations run at once in this process
 * (0: no limit, the default); a caller waits up to wait_ms for a slot, then
 * pt_password_hash/check/dummy_verify return PT_EBUSY (answer 503).
 */
void pt_password_limit_set(unsigned max_concurrent, unsigned wait_ms);
/* Argon2id hash string (crypto_pwhash_str) into out (128 bytes); gated. */
int pt_password_hash(char out[128], const char *password, unsigned long long ops, size_t mem);
/* 0 when password matches hash, PT_EDENIED when not, PT_EBUSY; gated. */
int pt_password_check(const char *hash, const char *password);
/* The check itself, not gated (tests, and callers that hold no request). */
bool pt_password_verify(const char *hash, const char *password);
/* A fixed dummy verify so unknown users cost the same time as known ones;
 * gated: 0, or PT_EBUSY. */
int pt_password_dummy_verify(const char *password, unsigned long long ops, size_t mem);

/* ---- TOTP (totp.c, RFC 6238 via liboath) -------------------------------- */

/* New random 20-byte secret, base32 (no padding) into out (64 bytes). */
int pt_totp_new_secret(char out[64]);
/* otpauth://totp/Portico:user?secret=...&issuer=Portico&period=30&digits=6 */
char *pt_totp_uri(const char *issuer, const char *username, const char *secret_b32);
/*
 * Accepts the code for now +-1 step, but only for a time step strictly
 * after last_step (0: none used yet), so a code cannot be used twice
 * (RFC 6238 section 5.2).  On success *out_step (may be NULL) gets the
 * matched step, which the caller records as the new last_step.
 */
bool pt_totp_check(int64_t *out_step, const char *secret_b32, const char *otp, int64_t now,
                   int64_t last_step);

/* ---- login throttling (throttle.c) -------------------------------------- */

/*
 * Failure counts per name, one small record each in the store (PT_T_META,
 * "th\0<kind>\0<hash>"), so every node sharing the store sees the same
 * counts.  Every operation runs in the caller's transaction (reads may
 * run in a read transaction); kind is one letter of PT_THROTTLE_KINDS.
 */
#define PT_THROTTLE_SECRET_LEN 32
#define PT_THROTTLE_KINDS      "uapk" /* username, address, pair, known */
typedef struct pt_throttle pt_throttle;
int pt_throttle_new(pt_throttle **out, char kind, unsigned max_failures, unsigned window_secs,
                    const unsigned char secret[PT_THROTTLE_SECRET_LEN]);
void pt_throttle_free(pt_throttle *t);
/* The installation's hashing secret (made and stored on first use). */
int pt_throttle_secret_load(unsigned char secret[PT_THROTTLE_SECRET_LEN], pt_store *store);
/*
 * Reserves one login attempt for name, atomically: if the name is locked
 * out now, counts nothing and sets *wait to the seconds until it may try
 * again (>= 1, for Retry-After); otherwise counts this attempt as a
 * failure and sets *wait to 0.  Call it BEFORE verifying the password, so
 * that parallel guesses cannot all pass the check.  The caller then either
 * keeps the count (wrong password or code), gives it back with
 * pt_throttle_release (not a failure: e.g. a code is still needed), or
 * clears the name with pt_throttle_reset (success).  0 or a store error.
 */
int pt_throttle_reserve(int64_t *wait, pt_throttle *t, pt_txn *txn, const char *name, int64_t now);
int pt_throttle_release(pt_throttle *t, pt_txn *txn, const char *name, int64_t now);
int pt_throttle_reset(pt_throttle *t, pt_txn *txn, const char *name);
/* *secs: seconds until a blocked name may try again; 0 if not blocked. */
int pt_throttle_retry_after(int64_t *secs, pt_throttle *t, pt_txn *txn, const char *name,
                            int64_t now);
/* The records as an expiring set: remember name for window_secs from now;
 * known while remembered. */
int pt_throttle_remember(pt_throttle *t, pt_txn *txn, const char *name, int64_t now);
int pt_throttle_known(bool *known, pt_throttle *t, pt_txn *txn, const char *name, int64_t now);
/* Deletes ended records among at most `examine` looked at (from a random
 * place); *deleted counts them.  Runs its own transactions. */
int pt_throttle_prune_some(unsigned *deleted, pt_store *store, int64_t now, unsigned examine);

/* ---- login abuse limits (login_guard.c) ---------------------------------- */

/*
 * Everything that limits password guessing at login, over four tables:
 * failures per username and per client address (both
 * login_window_secs), the clients (username + address) that have signed
 * in successfully before (30 days), and failures per such known client.
 *
 * A known client is checked only against its own count, so an attacker
 * elsewhere who locks the username out does not keep its owner out; any
 * other attempt is checked against both the username and the address
 * (password spraying from one address stops after
 * login_max_failures_per_address).
 */
typedef struct pt_login_guard pt_login_guard;
typedef struct pt_login_attempt {
    char user[272];
    char addr[64];
    char pair[336];
    bool known;
    const char *locked; /* after a refusal: "username", "address" or "client" */
} pt_login_attempt;

/* The counts live in store (shared by every node on it). */
int pt_login_guard_new(pt_login_guard **out, const pt_config *cfg, pt_store *store);
void pt_login_guard_free(pt_login_guard *g);
/* Reserves the attempt (counted as a failure until released or
 * succeeded): *wait is 0, or the seconds to wait (429) with a->locked
 * set.  Returns 0, or a store error (the caller answers 503: no attempt
 * goes unthrottled). */
int pt_login_guard_reserve(int64_t *wait, pt_login_guard *g, pt_login_attempt *a,
                           const char *username, const char *addr, int64_t now);
/* Not a failure after all (e.g. the code is still to come, or busy). */
int pt_login_guard_release(pt_login_guard *g, pt_login_attempt *a, int64_t now);
/* A successful sign-in: clears the counts and remembers the client. */
int pt_login_guard_success(pt_login_guard *g, pt_login_attempt *a, int64_t now);
/* The same inside the caller's write transaction (the login's own, so
 * the session and the cleared counts commit together). */
int pt_login_guard_success_txn(pt_login_guard *g, pt_txn *txn, pt_login_attempt *a, int64_t now);
/* After a kept failure: what is now locked out ("username", "address",
 * "client") and for how long, or NULL. */
const char *pt_login_guard_locked(pt_login_guard *g, const pt_login_attempt *a, int64_t now,
                                  int64_t *secs);

#endif
