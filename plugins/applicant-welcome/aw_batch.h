/*
 * aw_batch.h - group commit: concurrent small writes of one organisation
 * share one durable transaction (aw_batch.c).
 */
#ifndef AW_BATCH_H
#define AW_BATCH_H

#include <portico/portlet.h>

#include <stdbool.h>

/* One write: fn(host, txn, arg) inside the shared transaction.  It must
 * write only what it is given (another request may lead the batch) and
 * may run more than once, like any write() callback. */
typedef int (*aw_batch_fn)(const portico_host *h, portico_txn *txn, void *arg);

typedef struct aw_batch_item {
    aw_batch_fn fn;
    void *arg;
    /* kept by aw_batch_write */
    const char *org;
    int rc;
    bool done;
    struct aw_batch_item *next;
} aw_batch_item;

typedef struct aw_batch aw_batch;

aw_batch *aw_batch_new(void);
void aw_batch_free(aw_batch *b);

/* Commits item's write, durably, possibly with others of the caller's
 * organisation; returns the result of the transaction that held it.
 * With b NULL the item is written on its own. */
int aw_batch_write(portico_ctx *ctx, aw_batch *b, aw_batch_item *item);

#endif
