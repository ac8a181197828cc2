/*
 * aw_view.h - the applicant view serialised once per published version
 * and completed per request with the caller's progress (aw_view.c, pure:
 * jansson only), and the per-organisation cache of those parts
 * (aw_view_cache.c).
 */
#ifndef AW_VIEW_H
#define AW_VIEW_H

#include "aw.h"

typedef struct aw_view_static aw_view_static;

/* The parts of the view every applicant shares, from a published version
 * record: version, published_at, content, contrast, the interaction
 * vocabulary and each checklist item's fields.  NULL when out of memory. */
aw_view_static *aw_view_static_build(const json_t *published);
void aw_view_static_free(aw_view_static *s);

/* The whole view as JSON text (malloc'd into *out): the shared parts with
 * each checklist item's done / completed_at from progress_items ({id:
 * {completed_at}}, NULL for none), progress "N of M done", start_date (a
 * JSON string or NULL) and preview.  0, or -1 when out of memory. */
int aw_view_render(const aw_view_static *s, const json_t *progress_items, const json_t *start_date,
                   bool preview, char **out, size_t *len);

/* ---- the cache (aw_view_cache.c) ---------------------------------------- */

typedef struct aw_view_cache aw_view_cache;
typedef struct aw_view_entry aw_view_entry;

aw_view_cache *aw_view_cache_new(void);
void aw_view_cache_free(aw_view_cache *c);
/* The entry for (org, stamp) with a reference taken, or NULL. */
aw_view_entry *aw_view_cache_get(aw_view_cache *c, const char *org, const char *stamp);
/* Keeps s (taking it over) for (org, stamp), replacing the org's older
 * entry; returns a referenced entry (NULL, and s freed, when out of
 * memory or when org or stamp is too long to key). */
aw_view_entry *aw_view_cache_put(aw_view_cache *c, const char *org, const char *stamp,
                                 aw_view_static *s);
const aw_view_static *aw_view_entry_static(const aw_view_entry *e);
void aw_view_cache_release(aw_view_cache *c, aw_view_entry *e);

#endif
