/*
 * aw_batch.c - group commit for small writes (recorded interactions).
 *
 * Every write() the host commits is synced to disk, and one sync per
 * request caps a busy applicant dashboard at the disk's sync rate.  So
 * concurrent requests of one organisation queue their writes here; the
 * first of them to find no batch in flight becomes the leader, takes the
 * queued writes of its organisation and commits them in one transaction
 * (one sync), and every request is answered only after the commit that
 * holds its write: an acknowledged write is still a durable one.
 */
#include "aw_batch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Bounds one transaction (and the wait of the first request in it). */
#define BATCH_MAX 256

struct aw_batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    aw_batch_item *head; /* waiting, oldest first */
    bool busy;           /* a leader is committing */
};

aw_batch *aw_batch_new(void)
{
    aw_batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    if (pthread_mutex_init(&b->mu, NULL) != 0) {
        free(b);
        return NULL;
    }
    if (pthread_cond_init(&b->cv, NULL) != 0) {
        pthread_mutex_destroy(&b->mu);
        free(b);
        return NULL;
    }
    return b;
}

void aw_batch_free(aw_batch *b)
{
    if (b == NULL)
        return;
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

typedef struct batch_run {
    const portico_host *h;
    aw_batch_item *items;
} batch_run;

/* All of the batch or none of it: the host may re-run this. */
static int batch_txn(portico_txn *txn, void *arg)
{
    batch_run *r = arg;
    for (aw_batch_item *it = r->items; it != NULL; it = it->next) {
        int rc = it->fn(r->h, txn, it->arg);
        if (rc != PORTICO_OK)
            return rc;
    }
    return PORTICO_OK;
}

/* Unlinks up to BATCH_MAX waiting items of org, keeping their order. */
static aw_batch_item *take_org(aw_batch *b, const char *org)
{
    aw_batch_item *taken = NULL, **tail = &taken, **pp = &b->head;
    size_t n = 0;
    while (*pp != NULL) {
        aw_batch_item *it = *pp;
        if (n < BATCH_MAX && strcmp(it->org, org) == 0) {
            *pp = it->next;
            it->next = NULL;
            *tail = it;
            tail = &it->next;
            n++;
        } else {
            pp = &it->next;
        }
    }
    return taken;
}

int aw_batch_write(portico_ctx *ctx, aw_batch *b, aw_batch_item *item)
{
    if (b == NULL) /* no batching: a write of its own */
        return ctx->host->write(ctx, batch_txn, &(batch_run){ctx->host, item});
    item->org = ctx->caller->org;
    item->done = false;
    item->next = NULL;
    pthread_mutex_lock(&b->mu);
    aw_batch_item **pp = &b->head;
    while (*pp != NULL)
        pp = &(*pp)->next;
    *pp = item;
    while (!item->done) {
        if (b->busy) {
            pthread_cond_wait(&b->cv, &b->mu);
            continue;
        }
        b->busy = true;
        batch_run run = {ctx->host, take_org(b, item->org)};
        pthread_mutex_unlock(&b->mu);
        int rc = ctx->host->write(ctx, batch_txn, &run);
        pthread_mutex_lock(&b->mu);
        for (aw_batch_item *it = run.items, *next; it != NULL; it = next) {
            next = it->next; /* `it` belongs to its waiter once done */
            it->rc = rc;
            it->done = true;
        }
        b->busy = false;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    return item->rc;
}
