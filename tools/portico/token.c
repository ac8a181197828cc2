/*
 * token.c - `portico token issue`: an access token for an integration.
 */
#include "auth/auth.h"
#include "auth/session.h"
#include "base/clock.h"
#include "base/common.h"
#include "cli.h"
#include "store/model.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct token_ctx {
    pt_caller caller;
    int64_t now, ttl;
} token_ctx;

/*
 * The server checks on every request that a token's session is live, so
 * an integration token gets a session of its own (which logout or an
 * admin can revoke) rather than borrowing somebody's.
 */
static int token_txn(pt_txn *txn, void *arg)
{
    token_ctx *x = arg;
    int err = pt_membership_load(&x->caller, txn);
    if (err < 0) {
        if (err == PT_ENOTFOUND)
            pt_error_set("%s has no membership in %s", x->caller.username,
                         x->caller.org[0] ? x->caller.org : "any organisation");
        return err;
    }
    /* The refresh token is thrown away: an integration token is meant to
     * expire, and to be re-issued by whoever holds this CLI. */
    char *refresh = NULL;
    char sid[PT_SID_MAX];
    err = pt_session_create(&refresh, sid, txn, x->caller.username, x->caller.org, false, x->now,
                            x->ttl);
    if (refresh) {
        sodium_memzero(refresh, strlen(refresh));
        free(refresh);
    }
    if (err == 0)
        pt_strlcpy(x->caller.sid, sid, sizeof x->caller.sid);
    return err;
}

int cmd_token(cli *c, int argc, char **argv)
{
    opt opts[] = {{"user", false, NULL, false},
                  {"org", false, NULL, false},
                  {"ttl", false, NULL, false},
                  {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc;
    long ttl = 900;

    if ((rc = cli_parse_args(argc, argv, opts, pos, 1, &npos)) != 0)
        return rc;
    if (npos != 1 || strcmp(pos[0], "issue") != 0 || !opts[0].seen)
        return cli_usage_error(
            "usage: portico token issue --user USERNAME [--org ORG] [--ttl SECONDS]");
    if (!pt_username_valid(opts[0].value))
        return cli_usage_error("'%s' is not a valid username", opts[0].value);
    if (opts[1].seen && !pt_slug_valid(opts[1].value))
        return cli_usage_error("'%s' is not a valid organisation id", opts[1].value);
    if (opts[2].seen && !cli_parse_long(opts[2].value, 1, 366L * 86400, &ttl))
        return cli_usage_error("--ttl must be 1..31622400 seconds");
    if ((rc = cli_open(c, false)) != 0)
        return rc;

    pt_keys *keys = NULL;
    if (pt_keys_open(&keys, c->store, c->data_dir) < 0)
        return cli_fail("cannot load the signing keys: %s", cli_detail());

    token_ctx x;
    memset(&x, 0, sizeof x);
    pt_strlcpy(x.caller.username, opts[0].value, sizeof x.caller.username);
    if (opts[1].seen)
        pt_strlcpy(x.caller.org, opts[1].value, sizeof x.caller.org);
    int64_t now = pt_clock_now();
    x.now = now;
    x.ttl = ttl;
    int err = pt_store_write(c->store, token_txn, &x);
    if (err < 0) {
        pt_keys_free(keys);
        return cli_fail("token issue: %s", cli_detail());
    }

    pt_token_claims cl;
    memset(&cl, 0, sizeof cl);
    pt_strlcpy(cl.sub, x.caller.username, sizeof cl.sub);
    pt_strlcpy(cl.org, x.caller.org, sizeof cl.org);
    pt_strlcpy(cl.sid, x.caller.sid, sizeof cl.sid);
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(cl.jti, sizeof cl.jti, rnd, sizeof rnd);
    cl.roles = x.caller.roles;
    cl.mfa = false;
    cl.iat = now;
    cl.nbf = now;
    cl.exp = now + ttl;

    char *tok = NULL;
    err = pt_token_sign(&tok, keys, c->cfg.issuer, c->cfg.audience, &cl);
    pt_keys_free(keys);
    if (err < 0)
        return cli_fail("cannot sign the token: %s", cli_detail());
    printf("%s\n", tok);
    sodium_memzero(tok, strlen(tok));
    free(tok);
    return 0;
}
