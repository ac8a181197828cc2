/*
 * flu_vaccination.c - checks a vaccination against the campaign before it
 * is recorded.
 */
#include "flu.h"

#include <string.h>

static const char *const fields[] = {"staff_group", "site", "vaccinated_at", NULL};

static void check_unknown(json_t **errors, const json_t *body)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        bool ok = false;
        for (size_t i = 0; fields[i] != NULL && !ok; i++)
            ok = strcmp(key, fields[i]) == 0;
        if (!ok) {
            char ptr[120] = "/";
            strncat(ptr, key, sizeof(ptr) - 2);
            flu_errors_add(errors, ptr, "unknown field");
        }
    }
}

static const char *string_field(json_t **errors, const json_t *body, const char *name,
                                const char *ptr)
{
    const json_t *v = json_object_get(body, name);
    if (v == NULL)
        flu_errors_add(errors, ptr, "is required");
    else if (!json_is_string(v))
        flu_errors_add(errors, ptr, "must be a string");
    return json_string_value(v);
}

/*
 * A vaccination outside [starts_at, ends_at] or later than the host clock
 * would count toward a campaign it did not happen in, so it is refused
 * rather than clamped.  Site existence needs the store and is checked by
 * the caller inside the write transaction.
 */
void flu_vaccination_check(flu_vaccination *out, json_t **errors, const json_t *body,
                           const flu_config *cfg, int64_t now_ms, const flu_clock *clock)
{
    memset(out, 0, sizeof(*out));
    check_unknown(errors, body);

    out->staff_group = string_field(errors, body, "staff_group", "/staff_group");
    if (out->staff_group != NULL && flu_config_group_index(cfg, out->staff_group) < 0)
        flu_errors_add(errors, "/staff_group", "is not one of the campaign's staff groups");

    out->site = string_field(errors, body, "site", "/site");
    if (out->site != NULL && !flu_site_id_valid(out->site))
        flu_errors_add(errors, "/site", "is not a known site");

    const char *at = string_field(errors, body, "vaccinated_at", "/vaccinated_at");
    if (at == NULL)
        return;
    if (!clock->parse(at, &out->vaccinated_at))
        flu_errors_add(errors, "/vaccinated_at", "must be an RFC 3339 date-time");
    else if (out->vaccinated_at < cfg->starts_at)
        flu_errors_add(errors, "/vaccinated_at", "is before the campaign starts");
    else if (out->vaccinated_at > cfg->ends_at)
        flu_errors_add(errors, "/vaccinated_at", "is after the campaign ends");
    else if (out->vaccinated_at > now_ms / 1000)
        flu_errors_add(errors, "/vaccinated_at", "is in the future");
}
