/*
 * fw_view.c - a stored request as the API shows it.  "overdue" depends on
 * today, so it is computed on every read rather than stored.
 */
#include "fw_host.h"

bool fw_request_overdue(const portico_host *h, const json_t *rec, int32_t today)
{
    int32_t due = fw_date_field(h, rec, "decision_due");
    return fw_state_open(fw_request_state(rec)) && due >= 0 && today > due;
}

/* List items leave out the texts and the story; the full view has all. */
json_t *fw_request_view(const portico_host *h, const json_t *rec, int32_t today, bool full)
{
    static const char *const item_fields[] = {
        "id",          "requester",    "requester_name", "manager",
        "staff_group", "change_types", "proposed_start", "status",
        "outcome",     "received",     "decision_due",   "updated_at",
        NULL};
    json_t *out;
    if (full) {
        out = json_deep_copy(rec);
    } else {
        out = json_object();
        for (size_t i = 0; out != NULL && item_fields[i] != NULL; i++) {
            json_t *v = json_object_get(rec, item_fields[i]);
            json_object_set_new(out, item_fields[i], v ? json_deep_copy(v) : json_null());
        }
    }
    if (out == NULL)
        return NULL;
    json_object_del(out, "version");
    json_object_set_new(out, "overdue", json_boolean(fw_request_overdue(h, rec, today)));
    return out;
}
