/*
 * bootstrap.c - the first system administrator.  A fresh installation has
 * no accounts and so no way to log in; the operator hands the first
 * password in through PORTICO_ADMIN_PASSWORD instead of a default that
 * someone would forget to change.
 */
#include "app/app.h"
#include "auth/auth.h"
#include "base/log.h"
#include "store/model.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int any_account_cb(const pt_val *key, const pt_val *val, void *ctx)
{
    (void)key;
    (void)val;
    *(bool *)ctx = true;
    return PT_ESTOP;
}

static int accounts_exist_txn(pt_txn *txn, void *ctx)
{
    *(bool *)ctx = false;
    return pt_txn_scan(txn, PT_T_ACCOUNTS, "", 0, NULL, 0, false, any_account_cb, ctx);
}

typedef struct admin_create {
    const char *hash;
    bool created;
} admin_create;

/* Re-checks emptiness inside the write so two starts cannot both create. */
static int admin_create_txn(pt_txn *txn, void *ctx)
{
    admin_create *a = ctx;
    bool any = false;
    a->created = false;
    int err = accounts_exist_txn(txn, &any);
    if (err < 0 || any)
        return err;
    if ((err = pt_account_ensure(txn, "admin", a->hash, NULL, true)) == 0)
        a->created = true;
    return err;
}

int pt_bootstrap_admin(pt_app *app)
{
    bool any = false;
    int err = pt_store_read(app->store, accounts_exist_txn, &any);
    if (err < 0)
        return err;
    if (any)
        return 0;
    const char *pw = getenv("PORTICO_ADMIN_PASSWORD");
    if (!pw || !*pw) {
        pt_log_warn("bootstrap", "no accounts and PORTICO_ADMIN_PASSWORD is not set: no system "
                                 "administrator exists yet");
        return 0;
    }
    char hash[128];
    if ((err = pt_password_hash(hash, pw, app->cfg.pwhash_ops, app->cfg.pwhash_mem)) < 0)
        return err;
    admin_create a = {hash, false};
    err = pt_store_write(app->store, admin_create_txn, &a);
    sodium_memzero(hash, sizeof hash);
    if (err < 0)
        return err;
    if (a.created)
        pt_log_info("bootstrap", "created system administrator \"admin\" from "
                                 "PORTICO_ADMIN_PASSWORD");
    return 0;
}
