/*
 * flu_config.c - the organisation's campaign config as the portlet uses
 * it: times parsed, sections and groups read, and the one cross-field
 * rule the host's schema check cannot express (ends_at after starts_at).
 * The host checks every config against flu_config_schema and fills in
 * its defaults, so nothing here repeats either.
 */
#include "flu.h"

#include <math.h>
#include <string.h>

/* Defaults are the brief's: the national frontline groups, 80%, every
 * section shown.  The nested section defaults are annotations (the host
 * fills top-level properties only); section_on() gives the same answer. */
const char flu_config_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"campaign\",\"starts_at\",\"ends_at\"],"
    "\"properties\":{"
    "\"campaign\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":120},"
    "\"starts_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"ends_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"sections\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"countdown\":{\"type\":\"boolean\",\"default\":true},"
    "\"uptake\":{\"type\":\"boolean\",\"default\":true},"
    "\"signposting\":{\"type\":\"boolean\",\"default\":true}},"
    "\"default\":{\"countdown\":true,\"uptake\":true,\"signposting\":true}},"
    "\"staff_groups\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":50,\"uniqueItems\":true,"
    "\"items\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9_]{1,40}$\"},"
    "\"default\":[\"doctors\",\"qualified_nurses\",\"other_clinical\",\"support_to_clinical\"]},"
    "\"target_percent\":{\"type\":\"number\",\"minimum\":0,\"maximum\":100,\"default\":80},"
    "\"headcount_override\":{\"type\":\"object\",\"additionalProperties\":"
    "{\"type\":\"integer\",\"minimum\":0,\"maximum\":10000000}}}}";

static bool read_time(int64_t *out, const json_t *config, const char *name, const flu_env *env)
{
    const char *s = json_string_value(json_object_get(config, name));
    return s != NULL && env->time_parse(s, out);
}

/*
 * The host fills in defaults of the schema's top-level properties only,
 * so a `sections` object that names some sections leaves the others out:
 * a section is shown unless it is switched off.
 */
static bool section_on(const json_t *config, const char *name)
{
    return !json_is_false(json_object_get(json_object_get(config, "sections"), name));
}

/*
 * The schema bounds staff_groups (1..50 unique names), but the array is
 * copied into a fixed table, so its size is checked again here rather
 * than trusted: a config is never the reason for a write past the end.
 */
static bool read_groups(flu_config *out, const json_t *config)
{
    const json_t *groups = json_object_get(config, "staff_groups");
    size_t n = json_array_size(groups);
    if (n == 0 || n > FLU_GROUPS_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        out->groups[i] = json_string_value(json_array_get(groups, i));
        if (out->groups[i] == NULL)
            return false;
    }
    out->group_count = n;
    return true;
}

enum flu_config_result flu_config_read(flu_config *out, const json_t *config, const flu_env *env,
                                       const char **why)
{
    memset(out, 0, sizeof(*out));
    out->campaign = json_string_value(json_object_get(config, "campaign"));
    if (out->campaign == NULL) {
        *why = "no campaign is configured";
        return FLU_CONFIG_ABSENT;
    }
    if (!read_time(&out->starts_at, config, "starts_at", env) ||
        !read_time(&out->ends_at, config, "ends_at", env) || out->ends_at <= out->starts_at) {
        *why = "ends_at must be after starts_at";
        return FLU_CONFIG_INVALID;
    }
    if (!read_groups(out, config)) {
        *why = "staff_groups must list 1 to 50 groups";
        return FLU_CONFIG_INVALID;
    }
    out->show_countdown = section_on(config, "countdown");
    out->show_uptake = section_on(config, "uptake");
    out->show_signposting = section_on(config, "signposting");
    out->target_percent = json_number_value(json_object_get(config, "target_percent"));
    const json_t *ov = json_object_get(config, "headcount_override");
    out->headcount_override = json_is_object(ov) ? ov : NULL;
    *why = NULL;
    return FLU_CONFIG_OK;
}

int flu_config_group_index(const flu_config *cfg, const char *group)
{
    for (size_t i = 0; i < cfg->group_count; i++) {
        if (strcmp(cfg->groups[i], group) == 0)
            return (int)i;
    }
    return -1;
}

bool flu_config_override(const flu_config *cfg, const char *group, int64_t *out)
{
    /* JSON Schema's "integer" admits 5.0, so the host may have stored a
     * whole number as a real: take it as the integer it is. */
    const json_t *v = json_object_get(cfg->headcount_override, group);
    double d = json_is_number(v) ? json_number_value(v) : -1.0;
    if (d < 0 || d != floor(d))
        return false;
    *out = d > (double)FLU_HEADCOUNT_MAX ? FLU_HEADCOUNT_MAX : (int64_t)d;
    return true;
}

bool flu_config_check(const json_t *config, const flu_env *env, json_t *errors)
{
    int64_t starts, ends;
    if (read_time(&starts, config, "starts_at", env) && read_time(&ends, config, "ends_at", env) &&
        ends <= starts) {
        env->invalid_add(errors, "/ends_at", "must be after starts_at");
        return false;
    }
    return true;
}
