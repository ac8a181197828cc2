/*
 * login_guard.c - the limits on password guessing at login: per username,
 * per client address, and a way round the username lock for the clients a
 * person has signed in from before.
 *
 * Why a way round: a lock per username alone lets anyone lock anyone out
 * (five wrong passwords from anywhere), and a lock per address alone does
 * not stop a slow guesser with many addresses.  So an attempt from a
 * client (username + address) that has signed in successfully within the
 * last 30 days is limited by that client's own failures only; everyone
 * else meets both the username and the address limits.  The owner at
 * their usual desk or phone keeps working while the attacker is locked
 * out; an attacker on the owner's own network gets at most
 * login_max_failures guesses per window through that client, as before.
 * All counts are in the store (see throttle.c), so every node sharing it
 * applies the same limits: failures spread over several nodes add up, and
 * a lock-out on one is a lock-out on all.  Each operation is one
 * transaction, so a login costs one small write more than before (the
 * reserve; a success is cleared in the login's own write transaction, a
 * release or a kept failure is one more small write).
 */
#include "auth/auth.h"
#include "base/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_CLIENT_SECS (30 * 86400)
/* Every PRUNE_EVERY reservations a node looks at PRUNE_EXAMINE records
 * and deletes the ended ones: 4 looked at per attempt, against at most 2
 * records an attempt can make (username and address). */
#define PRUNE_EVERY   16u
#define PRUNE_EXAMINE 64u

struct pt_login_guard {
    pt_store *store;
    pt_throttle *user;  /* failures per username */
    pt_throttle *addr;  /* failures per client address */
    pt_throttle *pair;  /* failures per known client */
    pt_throttle *known; /* clients that have signed in (as a set) */
    atomic_uint reserves;
    pthread_mutex_t prune_lock;
};

void pt_login_guard_free(pt_login_guard *g)
{
    if (!g)
        return;
    pt_throttle_free(g->user);
    pt_throttle_free(g->addr);
    pt_throttle_free(g->pair);
    pt_throttle_free(g->known);
    pthread_mutex_destroy(&g->prune_lock);
    free(g);
}

int pt_login_guard_new(pt_login_guard **out, const pt_config *cfg, pt_store *store)
{
    unsigned char secret[PT_THROTTLE_SECRET_LEN];
    *out = NULL;
    int err = pt_throttle_secret_load(secret, store);
    if (err < 0)
        return err;
    pt_login_guard *g = calloc(1, sizeof *g);
    if (!g)
        return PT_ENOMEM;
    pthread_mutex_init(&g->prune_lock, NULL);
    g->store = store;
    unsigned win = cfg->login_window_secs;
    if (pt_throttle_new(&g->user, 'u', cfg->login_max_failures, win, secret) < 0 ||
        pt_throttle_new(&g->addr, 'a', cfg->login_max_failures_per_address, win, secret) < 0 ||
        pt_throttle_new(&g->pair, 'p', cfg->login_max_failures, win, secret) < 0 ||
        pt_throttle_new(&g->known, 'k', 0, KNOWN_CLIENT_SECS, secret) < 0) {
        pt_login_guard_free(g);
        return PT_ENOMEM;
    }
    *out = g;
    return 0;
}

typedef struct guard_op {
    pt_login_guard *g;
    pt_login_attempt *a;
    int64_t now;
    int64_t wait;
} guard_op;

/* A write callback may run more than once: everything it decides is set
 * afresh at the top. */
static int reserve_txn(pt_txn *txn, void *arg)
{
    guard_op *o = arg;
    pt_login_guard *g = o->g;
    pt_login_attempt *a = o->a;
    o->wait = 0;
    a->locked = NULL;
    int err = pt_throttle_known(&a->known, g->known, txn, a->pair, o->now);
    if (err < 0)
        return err;
    if (a->known) {
        if ((err = pt_throttle_reserve(&o->wait, g->pair, txn, a->pair, o->now)) == 0 &&
            o->wait > 0)
            a->locked = "client";
        return err;
    }
    if ((err = pt_throttle_reserve(&o->wait, g->addr, txn, a->addr, o->now)) < 0)
        return err;
    if (o->wait > 0) {
        a->locked = "address";
        return 0;
    }
    if ((err = pt_throttle_reserve(&o->wait, g->user, txn, a->user, o->now)) < 0)
        return err;
    if (o->wait > 0) {
        a->locked = "username";
        return pt_throttle_release(g->addr, txn, a->addr, o->now);
    }
    return 0;
}

/* Now and then, ended records go (see PRUNE_EVERY); one thread at a time
 * per node, and a failure only leaves them for the next round. */
static void guard_prune(pt_login_guard *g, int64_t now)
{
    if (atomic_fetch_add(&g->reserves, 1) % PRUNE_EVERY != PRUNE_EVERY - 1)
        return;
    if (pthread_mutex_trylock(&g->prune_lock) != 0)
        return;
    unsigned deleted = 0;
    if (pt_throttle_prune_some(&deleted, g->store, now, PRUNE_EXAMINE) < 0)
        pt_log_debug("auth", "login throttle pruning failed: %s", pt_error_last());
    pthread_mutex_unlock(&g->prune_lock);
}

int pt_login_guard_reserve(int64_t *wait, pt_login_guard *g, pt_login_attempt *a,
                           const char *username, const char *addr, int64_t now)
{
    *wait = 0;
    memset(a, 0, sizeof *a);
    pt_strlcpy(a->user, username ? username : "", sizeof a->user);
    pt_strlcpy(a->addr, addr ? addr : "", sizeof a->addr);
    snprintf(a->pair, sizeof a->pair, "%s\x1f%s", a->user, a->addr);
    if (!g)
        return 0;
    guard_op o = {g, a, now, 0};
    int err = pt_store_write(g->store, reserve_txn, &o);
    if (err < 0)
        return err;
    *wait = o.wait;
    guard_prune(g, now);
    return 0;
}

static int release_txn(pt_txn *txn, void *arg)
{
    guard_op *o = arg;
    pt_login_guard *g = o->g;
    pt_login_attempt *a = o->a;
    if (a->known)
        return pt_throttle_release(g->pair, txn, a->pair, o->now);
    int err = pt_throttle_release(g->addr, txn, a->addr, o->now);
    return err < 0 ? err : pt_throttle_release(g->user, txn, a->user, o->now);
}

int pt_login_guard_release(pt_login_guard *g, pt_login_attempt *a, int64_t now)
{
    if (!g)
        return 0;
    guard_op o = {g, a, now, 0};
    return pt_store_write(g->store, release_txn, &o);
}

/*
 * A success through the known-client path clears only that client's
 * count: clearing the username's would hand an attacker elsewhere a fresh
 * set of guesses every time the owner signs in.
 */
static int success_txn(pt_txn *txn, void *arg)
{
    guard_op *o = arg;
    pt_login_guard *g = o->g;
    pt_login_attempt *a = o->a;
    int err;
    if (a->known) {
        err = pt_throttle_reset(g->pair, txn, a->pair);
    } else {
        err = pt_throttle_release(g->addr, txn, a->addr, o->now);
        if (err == 0)
            err = pt_throttle_reset(g->user, txn, a->user);
    }
    return err < 0 ? err : pt_throttle_remember(g->known, txn, a->pair, o->now);
}

int pt_login_guard_success(pt_login_guard *g, pt_login_attempt *a, int64_t now)
{
    if (!g)
        return 0;
    guard_op o = {g, a, now, 0};
    return pt_store_write(g->store, success_txn, &o);
}

int pt_login_guard_success_txn(pt_login_guard *g, pt_txn *txn, pt_login_attempt *a, int64_t now)
{
    if (!g)
        return 0;
    guard_op o = {g, a, now, 0};
    return success_txn(txn, &o);
}

typedef struct locked_op {
    pt_login_guard *g;
    const pt_login_attempt *a;
    int64_t now;
    int64_t secs;
    const char *what;
} locked_op;

static int locked_txn(pt_txn *txn, void *arg)
{
    locked_op *o = arg;
    pt_login_guard *g = o->g;
    const pt_login_attempt *a = o->a;
    int err;
    o->what = NULL;
    if (a->known) {
        err = pt_throttle_retry_after(&o->secs, g->pair, txn, a->pair, o->now);
        o->what = err == 0 && o->secs > 0 ? "client" : NULL;
        return err;
    }
    if ((err = pt_throttle_retry_after(&o->secs, g->user, txn, a->user, o->now)) < 0)
        return err;
    if (o->secs > 0) {
        o->what = "username";
        return 0;
    }
    if ((err = pt_throttle_retry_after(&o->secs, g->addr, txn, a->addr, o->now)) < 0)
        return err;
    o->what = o->secs > 0 ? "address" : NULL;
    return 0;
}

const char *pt_login_guard_locked(pt_login_guard *g, const pt_login_attempt *a, int64_t now,
                                  int64_t *secs)
{
    *secs = 0;
    if (!g)
        return NULL;
    locked_op o = {g, a, now, 0, NULL};
    if (pt_store_read(g->store, locked_txn, &o) < 0)
        return NULL;
    *secs = o.secs;
    return o.what;
}
