/*
 * flu_vaccination.c - the body schema of a vaccination, and its check
 * against the campaign before it is recorded.
 */
#include "flu.h"

#include <string.h>

const char flu_vaccination_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"staff_group\",\"site\",\"vaccinated_at\"],"
    "\"properties\":{"
    "\"staff_group\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":40},"
    "\"site\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9][a-z0-9-]{0,63}$\"},"
    "\"vaccinated_at\":{\"type\":\"string\",\"format\":\"date-time\"}}}";

/*
 * A vaccination outside [starts_at, ends_at] or later than the host clock
 * would count toward a campaign it did not happen in, so it is refused
 * rather than clamped.  Site existence needs the store and is checked by
 * the caller inside the write transaction.
 */
void flu_vaccination_check(flu_vaccination *out, json_t *errors, const json_t *body,
                           const flu_config *cfg, int64_t now_ms, const flu_env *env)
{
    memset(out, 0, sizeof(*out));
    out->staff_group = json_string_value(json_object_get(body, "staff_group"));
    out->site = json_string_value(json_object_get(body, "site"));
    const char *at = json_string_value(json_object_get(body, "vaccinated_at"));
    if (out->staff_group == NULL || out->site == NULL || at == NULL ||
        !env->time_parse(at, &out->vaccinated_at)) {
        env->invalid_add(errors, "", "does not match the vaccination schema");
        return;
    }
    if (flu_config_group_index(cfg, out->staff_group) < 0)
        env->invalid_add(errors, "/staff_group", "is not one of the campaign's staff groups");
    if (out->vaccinated_at < cfg->starts_at)
        env->invalid_add(errors, "/vaccinated_at", "is before the campaign starts");
    else if (out->vaccinated_at > cfg->ends_at)
        env->invalid_add(errors, "/vaccinated_at", "is after the campaign ends");
    else if (out->vaccinated_at > now_ms / 1000)
        env->invalid_add(errors, "/vaccinated_at", "is in the future");
}
