/*
 * aw_records.h - the stored records of the content and their API views
 * (pure JSON; aw_records.c).
 *
 *   "draft"          {content, revision, updated_at, updated_by, restored_from}
 *   "version/<n>"    {version, content, published_at, published_by, review_due, restored_from}
 *   "published"      the latest version record (one read for the applicant view)
 */
#ifndef AW_RECORDS_H
#define AW_RECORDS_H

#include "aw.h"

/* A draft record (new reference); restored_from 0 for none. */
json_t *aw_draft_record(const json_t *content, json_int_t revision, const char *at, const char *by,
                        json_int_t restored_from);
/* The draft as GET .../content shows it: the stored draft, or the default
 * content (revision 0, is_default) when there is none, whether it differs
 * from the published version, and the contrast it was checked with. */
json_t *aw_draft_view(const json_t *draft, const json_t *published);

/* A published version record (new reference). */
json_t *aw_version_record(const json_t *content, json_int_t version, const char *at, const char *by,
                          const char *review_due, json_int_t restored_from);
/* A version as the API lists it: number, who and when, review_due,
 * restored_from and headline; with_content adds the content and the
 * contrast ratios checked. */
json_t *aw_version_view(const json_t *version, bool with_content);

#endif
