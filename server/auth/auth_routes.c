/*
 * auth_routes.c - the auth routes: login, refresh, logout, JWKS and TOTP
 * enrolment.  Authenticating each request is in authenticate.c.
 */
#include "auth/auth.h"

#include "auth/session.h"
#include "base/clock.h"
#include "base/log.h"
#include "http/app.h"
#include "http/http.h"
#include "store/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#define TOTP_ISSUER "Portico"

/* ---- shared helpers for the routes ------------------------------------- */

static void random_id(char *out, size_t outlen)
{
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, outlen, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void no_store(pt_res *res)
{
    pt_res_header(res, "Cache-Control", "no-store");
    pt_res_header(res, "Pragma", "no-cache");
}

/* Signs the access token for a caller and answers with the token pair. */
static void answer_tokens(pt_res *res, pt_app *app, const pt_caller *c, const char *sid,
                          const char *refresh, int64_t now)
{
    pt_token_claims cl;
    char *access = NULL;

    memset(&cl, 0, sizeof cl);
    pt_strlcpy(cl.sub, c->username, sizeof cl.sub);
    pt_strlcpy(cl.org, c->org, sizeof cl.org);
    pt_strlcpy(cl.sid, sid, sizeof cl.sid);
    random_id(cl.jti, sizeof cl.jti);
    cl.roles = c->roles;
    cl.mfa = c->mfa;
    cl.iat = cl.nbf = now;
    cl.exp = now + app->cfg.access_ttl;
    int err = pt_token_sign(&access, app->keys, app->cfg.issuer, app->cfg.audience, &cl);
    if (err < 0) {
        pt_log_error("auth", "cannot sign an access token: %s", pt_error_last());
        pt_res_error(res, PT_ERR);
        return;
    }
    json_t *body =
        json_pack("{s:s, s:s, s:I, s:s}", "access_token", access, "token_type", "Bearer",
                  "expires_in", (json_int_t)app->cfg.access_ttl, "refresh_token", refresh);
    sodium_memzero(access, strlen(access));
    free(access);
    if (!body) {
        pt_res_error(res, PT_ENOMEM);
        return;
    }
    no_store(res);
    pt_res_json(res, 200, body);
}

/* Outcomes decided inside a transaction callback and answered after it,
 * because a write callback may run more than once. */
enum outcome {
    OUT_OK = 0,
    OUT_FORBIDDEN,
    OUT_LEAVER,
    OUT_UNAUTHORIZED,
    OUT_REUSE,
    OUT_CONFLICT,
    OUT_BAD_OTP,
    OUT_OTP_USED,
    OUT_NO_ORG,
};

/* Answers a non-OK outcome; false if there was none. */
static bool answer_outcome(pt_res *res, enum outcome o)
{
    switch (o) {
    case OUT_OK:
        return false;
    case OUT_FORBIDDEN:
        pt_res_problem(res, 403, "forbidden", "no membership in that organisation");
        break;
    case OUT_LEAVER:
        pt_res_problem(res, 403, "leaver_access_expired", "access for leavers has ended");
        break;
    case OUT_UNAUTHORIZED:
        pt_res_problem(res, 401, "unauthorized", "the refresh token is not valid");
        break;
    case OUT_REUSE:
        pt_res_problem(res, 401, "unauthorized",
                       "the refresh token was already used; the session has been revoked");
        break;
    case OUT_CONFLICT:
        pt_res_problem(res, 409, "conflict", "no pending TOTP enrolment");
        break;
    case OUT_OTP_USED:
        pt_res_problem(res, 401, "mfa_required", "the one-time code is not valid");
        break;
    case OUT_NO_ORG:
        pt_res_problem(res, 403, "forbidden", "the account has no organisation membership");
        break;
    case OUT_BAD_OTP: {
        json_t *errs =
            json_pack("[{s:s, s:s}]", "pointer", "/otp", "message", "the code is not valid");
        pt_res_validation(res, errs);
        break;
    }
    }
    return true;
}

/* The caller of a route that needs a token, or NULL after answering 401. */
static const pt_caller *caller_or_401(pt_req *req, pt_res *res)
{
    const pt_caller *c = pt_req_caller(req);
    if (!c)
        pt_res_problem(res, 401, "unauthorized", "a bearer token is required");
    return c;
}

/*
 * Answers a failed transaction on the caller's own account; false if err
 * is 0.  The token was valid, so a missing account means it was deleted
 * since: 401, so the client logs in again, rather than 404.
 */
static bool answer_account_error(pt_res *res, int err)
{
    if (err == PT_ENOTFOUND)
        pt_res_problem(res, 401, "unauthorized", "the account no longer exists");
    else if (err < 0)
        pt_res_error(res, err);
    return err < 0;
}

static bool json_array_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        if (json_is_string(it) && strcmp(json_string_value(it), s) == 0)
            return true;
    }
    return false;
}

/* ---- POST /api/v1/auth/login ------------------------------------------- */

typedef struct account_ctx {
    const char *username;
    json_t *account;
} account_ctx;

static int account_read_txn(pt_txn *txn, void *vctx)
{
    account_ctx *ctx = vctx;
    json_decref(ctx->account);
    ctx->account = NULL;
    return pt_account_get(&ctx->account, txn, ctx->username);
}

typedef struct session_ctx {
    pt_caller c;
    int64_t now;
    int64_t ttl;
    const char *refresh_in; /* refresh: the token presented */
    bool pick_org;          /* login without org: choose one */
    int64_t otp_step;       /* login with a code: its time step, else 0 */
    char *refresh;          /* the new refresh token */
    char sid[PT_SID_MAX];
    enum outcome outcome;
    pt_login_guard *guard; /* login: cleared in the same transaction */
    pt_login_attempt *att;
} session_ctx;

static void session_ctx_reset(session_ctx *ctx)
{
    if (ctx->refresh) {
        sodium_memzero(ctx->refresh, strlen(ctx->refresh));
        free(ctx->refresh);
    }
    ctx->refresh = NULL;
    ctx->sid[0] = 0;
    ctx->outcome = OUT_OK;
}

/* Membership as of today decides whether a token may be issued at all. */
static int membership_gate(session_ctx *ctx, pt_txn *txn, enum outcome missing)
{
    int err = pt_membership_load(&ctx->c, txn);
    if (err == PT_ENOTFOUND) {
        ctx->outcome = missing;
        return PT_EDENIED;
    }
    if (err < 0)
        return err;
    if (pt_caller_access_expired(&ctx->c)) {
        ctx->outcome = OUT_LEAVER;
        return PT_EDENIED;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Login without an org: the account's default_org when it is usable today,
 * else the first membership in id order that the person can use today.
 * Only accepted memberships are in `orgs` (an invitation is not), so this
 * never lands in an organisation the person has not accepted.  An expired leaver membership is
 * skipped rather than chosen, because any organisation may add a known username as a membership
 * (with any termination date), and must not thereby lock the person out of their other
 * organisations.  A system admin with nothing usable gets a token with no org, like one with no
 * memberships at all.
 */
static int pick_org(session_ctx *ctx, pt_txn *txn, const json_t *acct)
{
    const json_t *orgs = json_object_get(acct, "orgs");
    size_t n = json_array_size(orgs), k = 0;
    bool leaver = false;
    int err = 0;

    const char **ids = n ? calloc(n, sizeof *ids) : NULL;
    if (n && !ids)
        return PT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_array_get(orgs, i));
        if (id && *id && strlen(id) <= PT_ID_MAX)
            ids[k++] = id;
    }
    if (k > 1)
        qsort(ids, k, sizeof *ids, cmp_str);
    /* The account's chosen default (PATCH /me) is tried first. */
    const char *def = json_string_value(json_object_get(acct, "default_org"));
    for (size_t i = 1; def && i < k; i++) {
        if (strcmp(ids[i], def) == 0) {
            memmove(ids + 1, ids, i * sizeof *ids);
            ids[0] = def;
            break;
        }
    }
    for (size_t i = 0; i < k; i++) {
        pt_strlcpy(ctx->c.org, ids[i], sizeof ctx->c.org);
        err = pt_membership_load(&ctx->c, txn);
        if (err == PT_ENOTFOUND) {
            err = 0;
            continue;
        }
        if (err < 0)
            break;
        if (pt_caller_access_expired(&ctx->c)) {
            leaver = true;
            continue;
        }
        free(ids);
        return 0;
    }
    free(ids);
    if (err < 0)
        return err;
    ctx->c.org[0] = 0;
    if (json_is_true(json_object_get(acct, "system_admin")))
        return pt_membership_load(&ctx->c, txn);
    ctx->outcome = leaver ? OUT_LEAVER : OUT_NO_ORG;
    return PT_EDENIED;
}

/*
 * Spends the one-time code's time step.  The code was checked before the
 * transaction against the last step then stored; checking again here, in
 * the write transaction, stops two parallel logins with the same code
 * from both getting through.
 */
static int spend_otp_step(session_ctx *ctx, pt_txn *txn, json_t *acct)
{
    json_t *totp = json_object_get(acct, "totp");
    json_int_t last = json_integer_value(json_object_get(totp, "last_step"));
    if (!json_is_object(totp) || ctx->otp_step <= last) {
        ctx->outcome = OUT_OTP_USED;
        return PT_EDENIED;
    }
    if (json_object_set_new(totp, "last_step", json_integer((json_int_t)ctx->otp_step)) < 0)
        return PT_ENOMEM;
    return pt_account_put(txn, acct);
}

/* Sessions deleted per login at most, and records looked at to find them. */
#define LOGIN_PRUNE_MAX     16
#define LOGIN_PRUNE_EXAMINE 64

static int login_txn(pt_txn *txn, void *vctx)
{
    session_ctx *ctx = vctx;
    json_t *acct = NULL;
    unsigned pruned = 0;
    session_ctx_reset(ctx);
    int err = pt_account_get(&acct, txn, ctx->c.username);
    if (err == PT_ENOTFOUND)
        ctx->outcome = OUT_FORBIDDEN;
    if (err < 0)
        return err;
    if (ctx->otp_step > 0 && (err = spend_otp_step(ctx, txn, acct)) < 0)
        goto out;
    if (ctx->pick_org)
        err = pick_org(ctx, txn, acct);
    else
        err = membership_gate(ctx, txn, OUT_FORBIDDEN);
    if (err < 0)
        goto out;
    err = pt_session_create(&ctx->refresh, ctx->sid, txn, ctx->c.username, ctx->c.org, ctx->c.mfa,
                            ctx->now, ctx->ttl);
    if (err < 0)
        goto out;
    /* The throttle's counts are cleared in the same commit as the session
     * is made: one write instead of two, and never one without the other. */
    if (ctx->guard && (err = pt_login_guard_success_txn(ctx->guard, txn, ctx->att, ctx->now)) < 0)
        goto out;
    /* Housekeeping: keep the sessions table from growing without bound. */
    err = pt_session_prune_some(txn, ctx->now, LOGIN_PRUNE_MAX, LOGIN_PRUNE_EXAMINE, &pruned);
out:
    json_decref(acct);
    return err;
}

static void invalid_credentials(pt_res *res)
{
    pt_res_problem(res, 401, "invalid_credentials", "wrong username or password");
}

static void too_many_attempts(pt_res *res, int64_t retry_after)
{
    char ra[32];
    snprintf(ra, sizeof ra, "%lld", (long long)retry_after);
    pt_res_header(res, "Retry-After", ra);
    pt_res_problem(res, 429, "too_many_attempts", "too many failed sign-ins; try again later");
}

/* A username as it may appear in a log line: what a client sent is cut
 * short and anything outside the username alphabet becomes '?', so a
 * crafted name cannot forge log lines. */
static void log_safe(char out[72], const char *in)
{
    size_t n = 0;
    for (; in && in[n] && n < 64; n++) {
        unsigned char ch = (unsigned char)in[n];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || strchr("._@-:", ch);
        out[n] = ok ? (char)ch : '?';
    }
    out[n] = 0;
    if (in && in[n])
        pt_strlcpy(out + n, "...", 4);
}

/* Failed sign-ins and lock-outs are logged with username and address
 * (never the password), so an operator can see guessing and spraying. */
static void log_failure(pt_app *app, const pt_login_attempt *a, const char *why, int64_t now)
{
    char user[72], addr[72];
    int64_t secs;
    log_safe(user, a->user);
    log_safe(addr, a->addr);
    pt_log_warn("auth", "login failed for %s from %s: %s", user, addr, why);
    const char *locked = pt_login_guard_locked(app->login_guard, a, now, &secs);
    if (locked)
        pt_log_warn("auth", "login locked out for %s from %s: %s limit reached, %llds", user, addr,
                    locked, (long long)secs);
}

/*
 * Every way of failing before the password is checked costs one Argon2
 * verify, so response time does not tell whether a username exists.
 * Throttling counts wrong passwords and wrong (or reused) one-time codes,
 * not the normal "code needed" step of a two-step login.  The attempt is
 * reserved (counted) before the password is verified, so parallel
 * guesses cannot all get past the limit; outcomes that are not failures
 * give the reservation back.
 */
static void h_login(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    json_t *body = NULL;
    account_ctx actx = {NULL, NULL};
    session_ctx sctx;
    bool keep_failure = false; /* the reserved attempt stays counted */
    bool reserved = false;
    pt_login_attempt att;
    int64_t now = 0;
    int err;

    memset(&sctx, 0, sizeof sctx);
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    pt_verr *v = pt_verr_new();
    const char *username = pt_v_string(v, body, "username", "/username", true, 1, 256);
    const char *password = pt_v_string(v, body, "password", "/password", true, 1, 4096);
    const char *org = pt_v_string(v, body, "org", "/org", false, 1, PT_ID_MAX);
    const char *otp = pt_v_string(v, body, "otp", "/otp", false, 1, 16);
    if (pt_verr_any(v)) {
        pt_res_validation(res, pt_verr_take(v));
        goto done;
    }

    now = pt_clock_now();
    int64_t wait;
    err = pt_login_guard_reserve(&wait, app->login_guard, &att, username, pt_req_client_addr(req),
                                 now);
    if (err < 0) { /* the counts cannot be read: no attempt goes unthrottled */
        pt_res_error(res, err);
        goto done;
    }
    if (wait > 0) {
        too_many_attempts(res, wait);
        goto done;
    }
    reserved = true;

    actx.username = username;
    err = pt_store_read(app->store, account_read_txn, &actx);
    if (err < 0 && err != PT_ENOTFOUND) {
        pt_res_error(res, err);
        goto done;
    }
    const char *hash = json_string_value(json_object_get(actx.account, "password_hash"));
    err = hash ? pt_password_check(hash, password)
               : pt_password_dummy_verify(password, app->cfg.pwhash_ops, app->cfg.pwhash_mem);
    if (err == PT_EBUSY) { /* not an attempt: nothing was checked */
        pt_res_error(res, err);
        goto done;
    }
    if (!hash || err < 0) {
        keep_failure = true;
        log_failure(app, &att, hash ? "wrong password" : "unknown user", now);
        invalid_credentials(res);
        goto done;
    }

    json_t *totp = json_object_get(actx.account, "totp");
    bool mfa = false;
    if (json_is_true(json_object_get(totp, "confirmed"))) {
        if (!otp) {
            pt_res_problem(res, 401, "mfa_required", "a one-time code (otp) is required");
            goto done;
        }
        int64_t last = (int64_t)json_integer_value(json_object_get(totp, "last_step"));
        if (!pt_totp_check(&sctx.otp_step, json_string_value(json_object_get(totp, "secret")), otp,
                           now, last)) {
            keep_failure = true;
            log_failure(app, &att, "wrong one-time code", now);
            pt_res_problem(res, 401, "mfa_required", "the one-time code is not valid");
            goto done;
        }
        mfa = true;
    }

    const json_t *orgs = json_object_get(actx.account, "orgs");
    if (org && !json_array_has(orgs, org)) {
        pt_res_problem(res, 403, "forbidden", "no membership in organisation %s", org);
        goto done;
    }

    pt_strlcpy(sctx.c.username, username, sizeof sctx.c.username);
    pt_strlcpy(sctx.c.org, org ? org : "", sizeof sctx.c.org);
    sctx.pick_org = !org;
    sctx.c.mfa = mfa;
    sctx.now = now;
    sctx.ttl = app->cfg.refresh_ttl;
    sctx.guard = app->login_guard;
    sctx.att = &att;
    err = pt_store_write(app->store, login_txn, &sctx);
    if (sctx.outcome == OUT_OTP_USED) {
        keep_failure = true;
        log_failure(app, &att, "one-time code already used", now);
    }
    if (answer_outcome(res, sctx.outcome))
        goto done;
    if (err < 0) {
        pt_res_error(res, err);
        goto done;
    }
    reserved = false; /* login_txn cleared the counts */
    answer_tokens(res, app, &sctx.c, sctx.sid, sctx.refresh, now);
    pt_log_info("auth", "login %s org=%s mfa=%d from %s", username,
                sctx.c.org[0] ? sctx.c.org : "-", (int)mfa, pt_req_client_addr(req));

done:
    if (reserved && !keep_failure && pt_login_guard_release(app->login_guard, &att, now) < 0)
        pt_log_warn("auth", "login attempt not given back: %s", pt_error_last());
    session_ctx_reset(&sctx);
    json_decref(actx.account);
    json_decref(body);
    pt_verr_free(v);
}

/* ---- POST /api/v1/auth/refresh ----------------------------------------- */

static int refresh_txn(pt_txn *txn, void *vctx)
{
    session_ctx *ctx = vctx;
    pt_session s;
    session_ctx_reset(ctx);
    int err = pt_session_rotate(&ctx->refresh, &s, txn, ctx->refresh_in, ctx->now);
    if (err == PT_EDENIED) {
        ctx->outcome = OUT_REUSE;
        return 0; /* commit: the revocation must stick */
    }
    if (err == PT_EINVAL) {
        ctx->outcome = OUT_UNAUTHORIZED;
        return err;
    }
    if (err < 0)
        return err;
    memset(&ctx->c, 0, sizeof ctx->c);
    pt_strlcpy(ctx->c.username, s.username, sizeof ctx->c.username);
    pt_strlcpy(ctx->c.org, s.org, sizeof ctx->c.org);
    pt_strlcpy(ctx->sid, s.sid, sizeof ctx->sid);
    ctx->c.mfa = s.mfa;
    return membership_gate(ctx, txn, OUT_UNAUTHORIZED);
}

static void h_refresh(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    pt_app *app = pt_req_app(req);
    json_t *body = NULL;
    session_ctx sctx;

    memset(&sctx, 0, sizeof sctx);
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    pt_verr *v = pt_verr_new();
    const char *tok = pt_v_string(v, body, "refresh_token", "/refresh_token", true, 1, 4096);
    if (pt_verr_any(v)) {
        pt_res_validation(res, pt_verr_take(v));
        goto done;
    }
    sctx.refresh_in = tok;
    sctx.now = pt_clock_now();
    int err = pt_store_write(app->store, refresh_txn, &sctx);
    if (sctx.outcome == OUT_REUSE)
        pt_log_warn("auth", "spent refresh token presented; session revoked");
    if (answer_outcome(res, sctx.outcome))
        goto done;
    if (err < 0) {
        pt_res_error(res, err);
        goto done;
    }
    answer_tokens(res, app, &sctx.c, sctx.sid, sctx.refresh, sctx.now);

done:
    session_ctx_reset(&sctx);
    json_decref(body);
    pt_verr_free(v);
}

/* ---- POST /api/v1/auth/logout ------------------------------------------ */

static int logout_txn(pt_txn *txn, void *vctx)
{
    int err = pt_session_revoke(txn, vctx);
    return err == PT_ENOTFOUND ? 0 : err;
}

static void h_logout(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const pt_caller *c = caller_or_401(req, res);
    if (!c)
        return;
    char sid[sizeof c->sid];
    pt_strlcpy(sid, c->sid, sizeof sid);
    int err = pt_store_write(pt_req_app(req)->store, logout_txn, sid);
    if (err < 0) {
        pt_res_error(res, err);
        return;
    }
    pt_res_empty(res, 204);
}

/* ---- GET /.well-known/jwks.json ---------------------------------------- */

/* Every key of the set as the ring holds it now (rendered once per
 * generation): the next key is listed before it signs anything, so a
 * client that caches this for max-age already knows it when it does. */
static void h_jwks(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    char *text = NULL;
    size_t len = 0;
    if (pt_keys_jwks_text(&text, &len, pt_req_app(req)->keys) < 0) {
        pt_res_error(res, PT_ENOMEM);
        return;
    }
    pt_res_header(res, "Cache-Control", "public, max-age=300");
    pt_res_bytes(res, 200, "application/json", text, len);
    free(text);
}

/* ---- TOTP enrolment ----------------------------------------------------- */

typedef struct mfa_ctx {
    const pt_caller *c;
    const char *secret; /* enrol: the new secret */
    const char *otp;    /* confirm: the code */
    int64_t now;
    enum outcome outcome;
} mfa_ctx;

/* Both steps start each attempt of their write (which may run again)
 * with no outcome decided and the caller's account read afresh. */
static int mfa_account_get(json_t **acct, pt_txn *txn, mfa_ctx *ctx)
{
    ctx->outcome = OUT_OK;
    return pt_account_get(acct, txn, ctx->c->username);
}

static int mfa_enrol_txn(pt_txn *txn, void *vctx)
{
    mfa_ctx *ctx = vctx;
    json_t *acct = NULL;
    int err = mfa_account_get(&acct, txn, ctx);
    if (err < 0)
        return err;
    if (json_is_true(json_object_get(json_object_get(acct, "totp"), "confirmed"))) {
        json_decref(acct);
        ctx->outcome = OUT_CONFLICT;
        return PT_ECONFLICT;
    }
    json_t *totp = json_pack("{s:s, s:b}", "secret", ctx->secret, "confirmed", 0);
    if (!totp || json_object_set_new(acct, "totp", totp) < 0) {
        json_decref(acct);
        return PT_ENOMEM;
    }
    err = pt_account_put(txn, acct);
    json_decref(acct);
    return err;
}

/*
 * The body of an MFA change, with `password` required (and `otp` when
 * asked); an empty body counts as {} so a client that sends none learns
 * which fields are missing (422).  false after answering.
 */
static bool mfa_body(pt_req *req, pt_res *res, json_t **body, const char **password,
                     const char **otp)
{
    static const char *const allowed[] = {"password", "otp", NULL};
    size_t len;
    *body = NULL;
    pt_req_body(req, &len);
    if (len == 0)
        *body = json_object();
    else if (pt_req_json_object(req, res, body) < 0)
        return false;
    pt_verr *v = pt_verr_new();
    pt_v_no_unknown(v, *body, "", otp ? allowed : (const char *const[]){"password", NULL});
    *password = pt_v_string(v, *body, "password", "/password", true, 1, 4096);
    if (otp)
        *otp = pt_v_string(v, *body, "otp", "/otp", true, 1, 16);
    bool ok = !pt_verr_any(v);
    if (!ok)
        pt_res_validation(res, pt_verr_take(v));
    pt_verr_free(v);
    return ok;
}

/*
 * Asks for the current password again, so that a stolen access token
 * alone cannot change MFA.  Wrong passwords count against the same limits
 * as logins (a token is no licence to guess), and are logged.  false
 * after answering 401 invalid_credentials, 429 or 503.
 */
static bool mfa_reauth(pt_req *req, pt_res *res, const pt_caller *c, const char *password)
{
    pt_app *app = pt_req_app(req);
    pt_login_attempt att;
    int64_t now = pt_clock_now();
    int64_t wait;
    int err = pt_login_guard_reserve(&wait, app->login_guard, &att, c->username,
                                     pt_req_client_addr(req), now);
    if (err < 0) {
        pt_res_error(res, err);
        return false;
    }
    if (wait > 0) {
        too_many_attempts(res, wait);
        return false;
    }
    account_ctx actx = {c->username, NULL};
    err = pt_store_read(app->store, account_read_txn, &actx);
    const char *hash = json_string_value(json_object_get(actx.account, "password_hash"));
    if (err == 0)
        err = hash ? pt_password_check(hash, password) : PT_EDENIED;
    json_decref(actx.account);
    if (err == PT_EDENIED) {
        log_failure(app, &att, "wrong password for an MFA change", now);
        invalid_credentials(res);
        return false;
    }
    if (pt_login_guard_release(app->login_guard, &att, now) < 0)
        pt_log_warn("auth", "login attempt not given back: %s", pt_error_last());
    return !answer_account_error(res, err);
}

/* A leaver enrols no more: MFA is for getting at pay documents after
 * leaving, and must be set up by the person while still employed. */
static bool mfa_enrol_allowed(pt_res *res, const pt_caller *c)
{
    if (c->status != PT_STATUS_LEAVER)
        return true;
    pt_res_problem(res, 403, "forbidden",
                   "MFA enrolment must happen while employed, before the termination date");
    return false;
}

static void h_mfa_enrol(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const pt_caller *c = caller_or_401(req, res);
    char secret[64];
    json_t *body = NULL;
    const char *password;
    if (!c || !mfa_enrol_allowed(res, c))
        return;
    bool ok = mfa_body(req, res, &body, &password, NULL) && mfa_reauth(req, res, c, password);
    json_decref(body);
    if (!ok)
        return;
    if (pt_totp_new_secret(secret) < 0) {
        pt_res_error(res, PT_ERR);
        return;
    }
    mfa_ctx ctx = {c, secret, NULL, pt_clock_now(), OUT_OK};
    int err = pt_store_write(pt_req_app(req)->store, mfa_enrol_txn, &ctx);
    if (ctx.outcome == OUT_CONFLICT) {
        pt_res_problem(res, 409, "conflict", "TOTP is already enabled for this account");
    } else if (!answer_account_error(res, err)) {
        char *uri = pt_totp_uri(TOTP_ISSUER, c->username, secret);
        json_t *body = uri ? json_pack("{s:s, s:s}", "secret", secret, "otpauth_uri", uri) : NULL;
        free(uri);
        if (!body) {
            pt_res_error(res, PT_ENOMEM);
        } else {
            no_store(res);
            pt_res_json(res, 200, body);
        }
    }
    sodium_memzero(secret, sizeof secret);
}

static int mfa_confirm_txn(pt_txn *txn, void *vctx)
{
    mfa_ctx *ctx = vctx;
    json_t *acct = NULL;
    int err = mfa_account_get(&acct, txn, ctx);
    if (err < 0)
        return err;
    json_t *totp = json_object_get(acct, "totp");
    const char *secret = json_string_value(json_object_get(totp, "secret"));
    int64_t step = 0;
    /* The confirming code's step is recorded, so that code cannot then be
     * used again to log in. */
    if (!secret || json_is_true(json_object_get(totp, "confirmed"))) {
        ctx->outcome = OUT_CONFLICT;
        err = PT_ECONFLICT;
    } else if (!pt_totp_check(&step, secret, ctx->otp, ctx->now, 0)) {
        ctx->outcome = OUT_BAD_OTP;
        err = PT_EINVAL;
    } else if (json_object_set_new(totp, "confirmed", json_true()) < 0 ||
               json_object_set_new(totp, "last_step", json_integer((json_int_t)step)) < 0) {
        err = PT_ENOMEM;
    } else if ((err = pt_account_put(txn, acct)) == 0 && ctx->c->org[0]) {
        err = pt_audit_append(txn, ctx->c->org, ctx->c->username, "mfa.enable", ctx->c->username,
                              NULL, NULL);
    }
    json_decref(acct);
    return err;
}

static void h_mfa_confirm(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const pt_caller *c = caller_or_401(req, res);
    json_t *body = NULL;
    if (!c || !mfa_enrol_allowed(res, c))
        return;
    if (pt_req_json_object(req, res, &body) < 0)
        return;
    pt_verr *v = pt_verr_new();
    const char *otp = pt_v_string(v, body, "otp", "/otp", true, 1, 16);
    if (pt_verr_any(v)) {
        pt_res_validation(res, pt_verr_take(v));
        goto done;
    }
    mfa_ctx ctx = {c, NULL, otp, pt_clock_now(), OUT_OK};
    int err = pt_store_write(pt_req_app(req)->store, mfa_confirm_txn, &ctx);
    if (answer_outcome(res, ctx.outcome) || answer_account_error(res, err))
        goto done;
    pt_log_info("auth", "mfa enabled for %s", c->username);
    pt_res_json(res, 200, json_pack("{s:b}", "mfa_enabled", 1));
done:
    json_decref(body);
    pt_verr_free(v);
}

/* ---- DELETE /api/v1/me/mfa/totp ------------------------------------------ */

/* Removing MFA takes the password (checked before) and a current code,
 * spent like a login's, so neither a stolen token nor a stolen password
 * alone can switch it off. */
static int mfa_remove_txn(pt_txn *txn, void *vctx)
{
    mfa_ctx *ctx = vctx;
    json_t *acct = NULL;
    int err = mfa_account_get(&acct, txn, ctx);
    if (err < 0)
        return err;
    json_t *totp = json_object_get(acct, "totp");
    int64_t last = (int64_t)json_integer_value(json_object_get(totp, "last_step"));
    if (!json_is_true(json_object_get(totp, "confirmed"))) {
        ctx->outcome = OUT_CONFLICT;
        err = PT_ECONFLICT;
    } else if (!pt_totp_check(NULL, json_string_value(json_object_get(totp, "secret")), ctx->otp,
                              ctx->now, last)) {
        ctx->outcome = OUT_OTP_USED;
        err = PT_EDENIED;
    } else if (json_object_set_new(acct, "totp", json_null()) < 0) {
        err = PT_ENOMEM;
    } else if ((err = pt_account_put(txn, acct)) == 0 && ctx->c->org[0]) {
        err = pt_audit_append(txn, ctx->c->org, ctx->c->username, "mfa.disable", ctx->c->username,
                              NULL, NULL);
    }
    json_decref(acct);
    return err;
}

static void h_mfa_remove(pt_req *req, pt_res *res, void *ud)
{
    (void)ud;
    const pt_caller *c = caller_or_401(req, res);
    json_t *body = NULL;
    const char *password, *otp;
    if (!c)
        return;
    if (mfa_body(req, res, &body, &password, &otp) && mfa_reauth(req, res, c, password)) {
        mfa_ctx ctx = {c, NULL, otp, pt_clock_now(), OUT_OK};
        int err = pt_store_write(pt_req_app(req)->store, mfa_remove_txn, &ctx);
        if (ctx.outcome == OUT_CONFLICT)
            pt_res_problem(res, 409, "conflict", "MFA is not enabled for this account");
        else if (!answer_outcome(res, ctx.outcome) && !answer_account_error(res, err)) {
            pt_log_info("auth", "mfa removed by %s", c->username);
            pt_res_empty(res, 204);
        }
    }
    json_decref(body);
}

/* ---- registration ------------------------------------------------------- */

int pt_routes_auth(pt_app *app)
{
    /* Pay for the dummy hash now rather than on the first unknown user. */
    pt_password_dummy_verify("", app->cfg.pwhash_ops, app->cfg.pwhash_mem);

    static const struct {
        const char *method, *pattern;
        unsigned flags;
        pt_handler_fn fn;
    } routes[] = {
        {"POST", "/api/v1/auth/login", PT_ROUTE_PUBLIC, h_login},
        {"POST", "/api/v1/auth/refresh", PT_ROUTE_PUBLIC, h_refresh},
        {"POST", "/api/v1/auth/logout", 0, h_logout},
        {"GET", "/.well-known/jwks.json", PT_ROUTE_PUBLIC, h_jwks},
        {"POST", "/api/v1/me/mfa/totp", 0, h_mfa_enrol},
        {"DELETE", "/api/v1/me/mfa/totp", 0, h_mfa_remove},
        {"POST", "/api/v1/me/mfa/totp/confirm", 0, h_mfa_confirm},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(routes); i++) {
        int err = pt_router_add(app->router, routes[i].method, routes[i].pattern, routes[i].flags,
                                routes[i].fn, NULL);
        if (err < 0)
            return err;
    }
    return 0;
}
