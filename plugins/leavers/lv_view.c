/*
 * lv_view.c - stored documents as the API reads them back.  The stored
 * record keeps the NI number whole (payroll may need it again); every
 * view goes through here, so the masking happens in one place.
 */
#include "lv.h"

static json_t *masked_data(const json_t *data)
{
    json_t *copy = json_deep_copy(data);
    const char *ni = json_string_value(json_object_get(data, "ni_number"));
    if (copy && ni) {
        char masked[LV_NI_LEN];
        lv_ni_mask(masked, ni);
        json_object_set_new(copy, "ni_number", json_string(masked));
    }
    return copy;
}

json_t *lv_view_document(const json_t *stored)
{
    return json_pack("{s:O?, s:O?, s:O?, s:o?, s:O?}", "username",
                     json_object_get(stored, "username"), "kind", json_object_get(stored, "kind"),
                     "period", json_object_get(stored, "period"), "data",
                     masked_data(json_object_get(stored, "data")), "loaded_at",
                     json_object_get(stored, "loaded_at"));
}

/* The fields a list shows per kind: enough to pick one, no lines. */
static const char *const list_fields[LV_KIND_COUNT][4] = {
    {"pay_date", "gross", "net", NULL},
    {"leaving_date", "pay_to_date", "tax_to_date", NULL},
    {"pay", "tax", NULL, NULL},
};

json_t *lv_view_list_item(const json_t *stored)
{
    json_t *item = json_pack("{s:O?, s:O?, s:O?}", "kind", json_object_get(stored, "kind"),
                             "period", json_object_get(stored, "period"), "loaded_at",
                             json_object_get(stored, "loaded_at"));
    enum lv_kind kind = lv_kind_from_name(json_string_value(json_object_get(stored, "kind")));
    const json_t *data = json_object_get(stored, "data");
    for (int i = 0; item && kind != LV_KIND_NONE && i < 4 && list_fields[kind][i]; i++) {
        json_t *v = json_object_get(data, list_fields[kind][i]);
        if (v)
            json_object_set(item, list_fields[kind][i], v);
    }
    return item;
}
