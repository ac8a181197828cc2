/*
 * authenticate.c - authenticating each request: verifies the bearer token
 * (through the verified-token cache) and reads the caller's session and
 * membership from the store.
 *
 * Tokens say who the caller is and which session they belong to; what the
 * caller may do (roles, status) is always read from the store at request
 * time, so revoking a role or a session takes effect at once.  app/main.c
 * installs pt_auth_authenticate as app->authenticate, which http/ calls.
 */
#include "auth/auth.h"

#include "auth/session.h"
#include "base/clock.h"
#include "http/app.h"
#include "store/model.h"

#include <string.h>
#include <strings.h>

typedef struct authn_ctx {
    pt_caller *c;
    int64_t now;
} authn_ctx;

/*
 * The records authn_txn reads, asked for together: on PostgreSQL one
 * round trip instead of four on every request.  All four keys come from
 * the verified token, so nothing is read that the checks would not read.
 */
static int authn_prefetch(pt_txn *txn, const pt_caller *c)
{
    pt_key person;
    size_t n = 2;
    pt_keyref keys[4] = {
        {PT_T_SESSIONS, c->sid, strlen(c->sid)},
        {PT_T_ACCOUNTS, c->username, strlen(c->username)},
    };
    if (c->org[0] && pt_key_build(&person, c->org, c->username, NULL) == 0) {
        keys[n++] = (pt_keyref){PT_T_PEOPLE, person.buf, person.len};
        keys[n++] = (pt_keyref){PT_T_ORGS, c->org, strlen(c->org)};
    }
    return pt_txn_prefetch_keys(txn, keys, n);
}

/*
 * The session must be live and belong to the token's subject and
 * organisation: a token naming one account with the sid of another's
 * session is refused, so a session can never vouch for anyone else.
 */
static int authn_txn(pt_txn *txn, void *vctx)
{
    authn_ctx *ctx = vctx;
    pt_session s;
    int err = authn_prefetch(txn, ctx->c);
    if (err == 0)
        err = pt_session_live(txn, ctx->c->sid, ctx->now);
    if (err < 0)
        return err;
    if ((err = pt_session_get(&s, txn, ctx->c->sid)) < 0)
        return err;
    if (strcmp(s.username, ctx->c->username) != 0 || strcmp(s.org, ctx->c->org) != 0) {
        pt_error_set("the session belongs to another account");
        return PT_ENOTFOUND;
    }
    return pt_membership_load(ctx->c, txn);
}

/*
 * One read transaction covers the session check and the membership load,
 * so a request sees a consistent picture even while a logout or a role
 * change commits concurrently.
 */
int pt_auth_authenticate(struct pt_app *app, const char *authorization, pt_txn *txn, pt_caller *out,
                         const char **code)
{
    pt_token_claims cl;
    int err;

    *code = "unauthorized";
    memset(out, 0, sizeof *out);
    out->access_ends = -1;
    if (!app || !authorization)
        return PT_EINVAL;
    while (*authorization == ' ' || *authorization == '\t')
        authorization++;
    if (strncasecmp(authorization, "Bearer", 6) != 0 ||
        (authorization[6] != ' ' && authorization[6] != '\t'))
        return PT_EINVAL;
    const char *token = authorization + 6;
    while (*token == ' ' || *token == '\t')
        token++;

    int64_t now = pt_clock_now();
    pt_token_cache_sync(app->token_cache, pt_keys_epoch(app->keys));
    if (!pt_token_cache_get(app->token_cache, token, now, &cl)) {
        err = pt_token_verify(&cl, app->keys, app->cfg.issuer, app->cfg.audience, token, now);
        if (err == PT_ECONFLICT)
            *code = "token_expired";
        if (err < 0)
            return err;
        pt_token_cache_put(app->token_cache, token, &cl);
    }

    pt_strlcpy(out->username, cl.sub, sizeof out->username);
    pt_strlcpy(out->org, cl.org, sizeof out->org);
    pt_strlcpy(out->sid, cl.sid, sizeof out->sid);
    pt_strlcpy(out->jti, cl.jti, sizeof out->jti);
    out->mfa = cl.mfa;
    out->exp = cl.exp;

    authn_ctx ctx = {out, now};
    err = txn ? authn_txn(txn, &ctx) : pt_store_read(app->store, authn_txn, &ctx);
    if (err < 0) {
        memset(out, 0, sizeof *out);
        out->access_ends = -1;
        return err == PT_ENOTFOUND ? PT_EDENIED : err;
    }
    if (pt_caller_access_expired(out)) {
        *code = "leaver_access_expired";
        return PT_EDENIED;
    }
    return 0;
}
