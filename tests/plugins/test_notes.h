/*
 * test_notes.h - what the test portlet's descriptor (test_notes.c) and its
 * route handlers (test_notes_routes.c) share.
 *
 * Store layout, keys built with host->key():
 *   note/<name>    {"key": name, "value": any, "rev": n}   (rev is the ETag)
 *   event/<%010u>  {"seq": n}
 *   file/<name>    bytes with a content type
 */
#ifndef TEST_NOTES_H
#define TEST_NOTES_H

#include <portico/portlet.h>

#ifndef PORTLET_ID
#define PORTLET_ID "test-notes"
#endif
#define PREFIX "/api/v1/portlets/" PORTLET_ID

#define TN_KEY_CAP (PORTICO_KEY_MAX + 1)

/* Notes: get/put with ETags, a paged list, the count for the card. */
int tn_notes_list(portico_ctx *ctx);
int tn_note_get(portico_ctx *ctx);
int tn_note_put(portico_ctx *ctx);
int tn_notes_count(portico_ctx *ctx, int *out);
/* The value of note "name", or NULL (new reference). */
json_t *tn_note_value(portico_ctx *ctx, const char *name);
int tn_stats(portico_ctx *ctx);

/* Who the host says is calling; the route gates. */
int tn_whoami(portico_ctx *ctx);
int tn_gate_ok(portico_ctx *ctx);
int tn_person_lookup(portico_ctx *ctx);

/* Events: a sequence, an audit entry, people counts; a paged list. */
int tn_event_post(portico_ctx *ctx);
int tn_events_list(portico_ctx *ctx);

/* Bodies: a schema-checked echo, a raw CSV body, host->schema_validate. */
int tn_shaped(portico_ctx *ctx);
int tn_import_csv(portico_ctx *ctx);
int tn_validate(portico_ctx *ctx);

/* Binary values, response headers, answers. */
int tn_file_put(portico_ctx *ctx);
int tn_file_get(portico_ctx *ctx);
int tn_set_header(portico_ctx *ctx);
int tn_error(portico_ctx *ctx);
int tn_fail(portico_ctx *ctx);
int tn_text(portico_ctx *ctx);
int tn_text_injected(portico_ctx *ctx);
int tn_accepts(portico_ctx *ctx);

/* Counters and keys. */
int tn_counter_add(portico_ctx *ctx);
int tn_counter_get(portico_ctx *ctx);
int tn_key(portico_ctx *ctx);

#endif
