/*
 * cursor.h - opaque list cursors that a client cannot forge or move.
 *
 * A cursor carries the last key a page returned, sealed with a keyed
 * BLAKE2b MAC over that key and the list it belongs to (organisation,
 * portlet, prefix, direction).  A client can hand it back but not edit
 * it, nor replay it against another list or organisation: every such
 * cursor fails to open and the route answers 400.
 */
#ifndef PT_HTTP_CURSOR_H
#define PT_HTTP_CURSOR_H

#include "base/common.h"
#include "store/store.h"

#include <jansson.h>

#define PT_CURSOR_SECRET_LEN 32
#define PT_CURSOR_KEY_MAX    512

/* What a cursor is bound to; every field takes part in the MAC. */
typedef struct pt_cursor_scope {
    const char *org;
    const char *list; /* e.g. the portlet id */
    const void *prefix;
    size_t prefix_len;
    bool reverse;
} pt_cursor_scope;

/* *out = a new JSON string sealing key for scope. */
int pt_cursor_seal(json_t **out, const unsigned char secret[PT_CURSOR_SECRET_LEN],
                   const pt_cursor_scope *scope, const void *key, size_t len);
/* Opens text into key (cap bytes); PT_EINVAL if it was not sealed by
 * pt_cursor_seal for this scope and secret. */
int pt_cursor_open(void *key, size_t cap, size_t *len,
                   const unsigned char secret[PT_CURSOR_SECRET_LEN], const pt_cursor_scope *scope,
                   const char *text);

/* Core lists (organisations, people, audit) are sealed with their own
 * installation secret, kept in the store under this meta key. */
#define PT_CURSOR_CORE_META_KEY "core-cursor-secret"

/* Reads secret from the store's meta table under meta_key, or creates and
 * stores a random one: cursors survive a restart and work on every node
 * that shares the store. */
int pt_cursor_secret_load(unsigned char secret[PT_CURSOR_SECRET_LEN], pt_store *store,
                          const char *meta_key);

#endif
