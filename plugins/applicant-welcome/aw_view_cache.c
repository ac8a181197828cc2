/*
 * aw_view_cache.c - the shared parts of each organisation's applicant
 * view, kept between requests.  An entry is keyed by the organisation and
 * the random stamp its latest publish wrote, so a new version (or another
 * organisation) never finds an old entry: the stamp is read in the same
 * snapshot as the request's other reads.  Entries are reference counted,
 * so one replaced or evicted while a request still renders from it lives
 * until that request lets go.
 */
#include "aw_view.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS     256 /* organisations kept at once */
#define ORG_MAX   64
#define STAMP_MAX 64

struct aw_view_entry {
    char org[ORG_MAX + 1];
    char stamp[STAMP_MAX + 1];
    aw_view_static *s;
    int refs; /* the slot's and each request's; under the cache's lock */
};

struct aw_view_cache {
    pthread_mutex_t mu;
    aw_view_entry *slot[SLOTS];
    size_t next_victim;
};

aw_view_cache *aw_view_cache_new(void)
{
    aw_view_cache *c = calloc(1, sizeof *c);
    if (c != NULL && pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

static void entry_unref(aw_view_entry *e)
{
    if (e != NULL && --e->refs == 0) {
        aw_view_static_free(e->s);
        free(e);
    }
}

void aw_view_cache_free(aw_view_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < SLOTS; i++)
        entry_unref(c->slot[i]);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static bool matches(const aw_view_entry *e, const char *org, const char *stamp)
{
    return e != NULL && strcmp(e->org, org) == 0 && (stamp == NULL || strcmp(e->stamp, stamp) == 0);
}

aw_view_entry *aw_view_cache_get(aw_view_cache *c, const char *org, const char *stamp)
{
    aw_view_entry *found = NULL;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < SLOTS && found == NULL; i++)
        if (matches(c->slot[i], org, stamp)) {
            found = c->slot[i];
            found->refs++;
        }
    pthread_mutex_unlock(&c->mu);
    return found;
}

aw_view_entry *aw_view_cache_put(aw_view_cache *c, const char *org, const char *stamp,
                                 aw_view_static *s)
{
    aw_view_entry *e = calloc(1, sizeof *e);
    if (e == NULL || strlen(org) > ORG_MAX || strlen(stamp) > STAMP_MAX) {
        free(e);
        aw_view_static_free(s);
        return NULL;
    }
    strcpy(e->org, org);
    strcpy(e->stamp, stamp);
    e->s = s;
    e->refs = 2; /* the slot's and the caller's */
    pthread_mutex_lock(&c->mu);
    size_t at = SLOTS;
    for (size_t i = 0; i < SLOTS && at == SLOTS; i++)
        if (matches(c->slot[i], org, NULL)) /* the org's older version, or a racing twin */
            at = i;
    for (size_t i = 0; i < SLOTS && at == SLOTS; i++)
        if (c->slot[i] == NULL)
            at = i;
    if (at == SLOTS) {
        at = c->next_victim;
        c->next_victim = (c->next_victim + 1) % SLOTS;
    }
    entry_unref(c->slot[at]);
    c->slot[at] = e;
    pthread_mutex_unlock(&c->mu);
    return e;
}

const aw_view_static *aw_view_entry_static(const aw_view_entry *e)
{
    return e->s;
}

void aw_view_cache_release(aw_view_cache *c, aw_view_entry *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    entry_unref(e);
    pthread_mutex_unlock(&c->mu);
}
