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
 * All counts are in memory (see throttle.c).
 */
#include "auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_CLIENT_SECS (30 * 86400)

struct pt_login_guard {
    pt_throttle *user;  /* failures per username */
    pt_throttle *addr;  /* failures per client address */
    pt_throttle *pair;  /* failures per known client */
    pt_throttle *known; /* clients that have signed in (as a set) */
};

void pt_login_guard_free(pt_login_guard *g)
{
    if (!g)
        return;
    pt_throttle_free(g->user);
    pt_throttle_free(g->addr);
    pt_throttle_free(g->pair);
    pt_throttle_free(g->known);
    free(g);
}

int pt_login_guard_new(pt_login_guard **out, const pt_config *cfg)
{
    *out = NULL;
    pt_login_guard *g = calloc(1, sizeof *g);
    if (!g)
        return PT_ENOMEM;
    unsigned win = cfg->login_window_secs;
    if (pt_throttle_new(&g->user, cfg->login_max_failures, win) < 0 ||
        pt_throttle_new(&g->addr, cfg->login_max_failures_per_address, win) < 0 ||
        pt_throttle_new(&g->pair, cfg->login_max_failures, win) < 0 ||
        pt_throttle_new(&g->known, 0, KNOWN_CLIENT_SECS) < 0) {
        pt_login_guard_free(g);
        return PT_ENOMEM;
    }
    *out = g;
    return 0;
}

int64_t pt_login_guard_reserve(pt_login_guard *g, pt_login_attempt *a, const char *username,
                               const char *addr, int64_t now)
{
    memset(a, 0, sizeof *a);
    pt_strlcpy(a->user, username ? username : "", sizeof a->user);
    pt_strlcpy(a->addr, addr ? addr : "", sizeof a->addr);
    snprintf(a->pair, sizeof a->pair, "%s\x1f%s", a->user, a->addr);
    if (!g)
        return 0;
    a->known = pt_throttle_known(g->known, a->pair, now);
    int64_t wait;
    if (a->known) {
        if ((wait = pt_throttle_reserve(g->pair, a->pair, now)) > 0)
            a->locked = "client";
        return wait;
    }
    if ((wait = pt_throttle_reserve(g->addr, a->addr, now)) > 0) {
        a->locked = "address";
        return wait;
    }
    if ((wait = pt_throttle_reserve(g->user, a->user, now)) > 0) {
        pt_throttle_release(g->addr, a->addr, now);
        a->locked = "username";
    }
    return wait;
}

void pt_login_guard_release(pt_login_guard *g, pt_login_attempt *a, int64_t now)
{
    if (!g)
        return;
    if (a->known) {
        pt_throttle_release(g->pair, a->pair, now);
    } else {
        pt_throttle_release(g->addr, a->addr, now);
        pt_throttle_release(g->user, a->user, now);
    }
}

/*
 * A success through the known-client path clears only that client's
 * count: clearing the username's would hand an attacker elsewhere a fresh
 * set of guesses every time the owner signs in.
 */
void pt_login_guard_success(pt_login_guard *g, pt_login_attempt *a, int64_t now)
{
    if (!g)
        return;
    if (a->known) {
        pt_throttle_reset(g->pair, a->pair);
    } else {
        pt_throttle_release(g->addr, a->addr, now);
        pt_throttle_reset(g->user, a->user);
    }
    pt_throttle_remember(g->known, a->pair, now);
}

const char *pt_login_guard_locked(pt_login_guard *g, const pt_login_attempt *a, int64_t now,
                                  int64_t *secs)
{
    *secs = 0;
    if (!g)
        return NULL;
    if (a->known)
        return (*secs = pt_throttle_retry_after(g->pair, a->pair, now)) > 0 ? "client" : NULL;
    if ((*secs = pt_throttle_retry_after(g->user, a->user, now)) > 0)
        return "username";
    if ((*secs = pt_throttle_retry_after(g->addr, a->addr, now)) > 0)
        return "address";
    return NULL;
}
