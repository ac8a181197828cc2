/*
 * cors.h - the origins browsers may call the API from: the union of every
 * organisation's settings.cors_origins, cached in memory.
 *
 * A preflight carries no token, so the organisation cannot be known when
 * it is answered: an origin is allowed if ANY organisation lists it.
 * That is safe because the API authenticates with bearer tokens, never
 * cookies (a foreign page gets nothing without a token of its own); CORS
 * only decides which web front ends may read answers in a browser.  The
 * cache is loaded at start and reloaded after every organisation write
 * made through this server; pt_cors_refresh reloads it, at most once a
 * second, when the organisations' generation in the store has moved (an
 * organisation changed on another node sharing the store, or by the CLI).
 */
#ifndef PT_HTTP_CORS_H
#define PT_HTTP_CORS_H

#include "base/common.h"
#include "store/store.h"

#include <jansson.h>

typedef struct pt_cors pt_cors;

int pt_cors_new(pt_cors **out);
void pt_cors_free(pt_cors *c);
/* Rebuilds the allow-list from every organisation in the store. */
int pt_cors_reload(pt_cors *c, pt_store *store);
/* Reloads the list if the organisations' generation in the store differs
 * from the one it was loaded at; looks at most once a second (a small
 * read), so another node's change shows within about a second. */
int pt_cors_refresh(pt_cors *c, pt_store *store);
/* Whether a request's Origin header value is allowed (NULL: no). */
bool pt_cors_allowed(pt_cors *c, const char *origin);
/* The rule for one list entry: "https://host" or "https://host:port",
 * lower-case host of letters, digits, '-' and '.', no path or slash. */
bool pt_cors_origin_valid(const char *origin);

#define PT_CORS_MAX_ORIGINS 20 /* per organisation */

#endif
