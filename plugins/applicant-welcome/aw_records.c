/*
 * aw_records.c - the stored records of the content (draft and published
 * versions) and how the API shows them.  Pure JSON shaping: the route
 * files read and write the records, this file decides their fields.
 */
#include "aw_records.h"

#include <string.h>

json_t *aw_draft_record(const json_t *content, json_int_t revision, const char *at, const char *by,
                        json_int_t restored_from)
{
    json_t *rec = json_pack("{s:O, s:I, s:s, s:s}", "content", content, "revision", revision,
                            "updated_at", at, "updated_by", by ? by : "");
    if (rec != NULL)
        json_object_set_new(rec, "restored_from",
                            restored_from > 0 ? json_integer(restored_from) : json_null());
    return rec;
}

json_t *aw_draft_view(const json_t *draft, const json_t *published)
{
    json_t *content = json_object_get(draft, "content");
    json_t *owned = NULL;
    if (content == NULL)
        content = owned = aw_default_content();
    json_t *pub_content = json_object_get(published, "content");
    json_t *view = json_pack(
        "{s:O, s:I, s:O?, s:O?, s:O?, s:b, s:b, s:o}", "content", content, "revision",
        json_integer_value(json_object_get(draft, "revision")), "updated_at",
        json_object_get(draft, "updated_at"), "updated_by", json_object_get(draft, "updated_by"),
        "restored_from", json_object_get(draft, "restored_from"), "is_default", draft == NULL,
        "unpublished_changes", pub_content == NULL || !json_equal(content, pub_content), "contrast",
        aw_contrast_json(json_object_get(content, "branding")));
    json_decref(owned);
    return view;
}

json_t *aw_version_record(const json_t *content, json_int_t version, const char *at, const char *by,
                          const char *review_due, json_int_t restored_from)
{
    json_t *rec =
        json_pack("{s:I, s:O, s:s, s:s, s:s}", "version", version, "content", content,
                  "published_at", at, "published_by", by ? by : "", "review_due", review_due);
    if (rec != NULL)
        json_object_set_new(rec, "restored_from",
                            restored_from > 0 ? json_integer(restored_from) : json_null());
    return rec;
}

json_t *aw_version_view(const json_t *version, bool with_content)
{
    const json_t *content = json_object_get(version, "content");
    json_t *headline = json_object_get(content, "headline");
    json_t *view = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "version",
                             json_object_get(version, "version"), "published_at",
                             json_object_get(version, "published_at"), "published_by",
                             json_object_get(version, "published_by"), "review_due",
                             json_object_get(version, "review_due"), "restored_from",
                             json_object_get(version, "restored_from"), "headline", headline);
    if (view == NULL || !with_content)
        return view;
    json_object_set(view, "content", (json_t *)content);
    json_object_set_new(view, "contrast", aw_contrast_json(json_object_get(content, "branding")));
    return view;
}
