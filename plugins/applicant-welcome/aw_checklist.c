/*
 * aw_checklist.c - an applicant's progress through the published
 * checklist.  Progress is kept per item id, so an item completed before a
 * new version was published stays done if the item is still there, and
 * items that were removed no longer count.
 */
#include "aw.h"

#include <stdio.h>
#include <string.h>

const json_t *aw_checklist_find(const json_t *checklist, const char *id)
{
    size_t i;
    const json_t *item;
    json_array_foreach(checklist, i, item)
    {
        const char *iid = json_string_value(json_object_get(item, "id"));
        if (iid != NULL && id != NULL && strcmp(iid, id) == 0)
            return item;
    }
    return NULL;
}

json_t *aw_checklist_view(const json_t *checklist, const json_t *progress_items, int *done,
                          int *total)
{
    *done = *total = 0;
    json_t *out = json_array();
    size_t i;
    const json_t *item;
    json_array_foreach(checklist, i, item)
    {
        if (out == NULL)
            break;
        const char *id = json_string_value(json_object_get(item, "id"));
        if (id == NULL)
            continue;
        const json_t *p = json_object_get(progress_items, id);
        const json_t *at = json_object_get(p, "completed_at");
        json_t *row = json_deep_copy(item);
        if (row == NULL || !json_is_object(row)) {
            json_decref(row);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(row, "done", json_boolean(json_is_string(at)));
        json_object_set_new(row, "completed_at",
                            json_is_string(at) ? json_copy((json_t *)at) : json_null());
        json_array_append_new(out, row);
        (*total)++;
        if (json_is_string(at))
            (*done)++;
    }
    return out;
}

json_t *aw_progress_json(int done, int total)
{
    char text[48];
    snprintf(text, sizeof text, "%d of %d done", done, total);
    return json_pack("{s:i, s:i, s:s}", "done", done, "total", total, "text", text);
}
