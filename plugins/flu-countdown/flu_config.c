/*
 * flu_config.c - the organisation's campaign config as the portlet uses
 * it: defaults applied, times parsed, and the one cross-field rule the
 * host's schema check cannot express (ends_at after starts_at).
 */
#include "flu.h"

#include <math.h>
#include <string.h>

const char *const flu_default_groups[] = {"doctors", "qualified_nurses", "other_clinical",
                                          "support_to_clinical"};
const size_t flu_default_group_count = sizeof(flu_default_groups) / sizeof(flu_default_groups[0]);

static bool section_on(const json_t *sections, const char *name)
{
    const json_t *v = json_object_get(sections, name);
    return v == NULL || !json_is_boolean(v) || json_is_true(v);
}

static bool read_time(int64_t *out, const json_t *config, const char *name, const flu_clock *clock)
{
    const char *s = json_string_value(json_object_get(config, name));
    return s != NULL && clock->parse(s, out);
}

static bool group_name_valid(const char *g)
{
    size_t n = strlen(g);
    if (n == 0 || n > FLU_GROUP_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = g[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static enum flu_config_result read_groups(flu_config *out, const json_t *config, const char **why)
{
    const json_t *groups = json_object_get(config, "staff_groups");
    if (groups == NULL) {
        for (size_t i = 0; i < flu_default_group_count; i++)
            out->groups[i] = flu_default_groups[i];
        out->group_count = flu_default_group_count;
        return FLU_CONFIG_OK;
    }
    size_t n = json_array_size(groups);
    if (!json_is_array(groups) || n == 0 || n > FLU_GROUPS_MAX) {
        *why = "staff_groups must list 1 to 50 groups";
        return FLU_CONFIG_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        const char *g = json_string_value(json_array_get(groups, i));
        if (g == NULL || !group_name_valid(g)) {
            *why = "staff_groups holds an invalid group name";
            return FLU_CONFIG_INVALID;
        }
        out->groups[i] = g;
        out->group_count = i;
        if (flu_config_group_index(out, g) >= 0) {
            *why = "staff_groups lists a group twice";
            return FLU_CONFIG_INVALID;
        }
    }
    out->group_count = n;
    return FLU_CONFIG_OK;
}

/*
 * The host validated the config against our schema when it was PUT, but a
 * config written by an older version of the portlet, or {} for an
 * organisation that enabled the portlet without configuring it, can still
 * reach us; so every field is re-checked here rather than trusted, and a
 * config the portlet cannot use is reported, never guessed at.
 */
enum flu_config_result flu_config_read(flu_config *out, const json_t *config,
                                       const flu_clock *clock, const char **why)
{
    memset(out, 0, sizeof(*out));
    *why = NULL;
    if (!json_is_object(config) || json_object_size(config) == 0 ||
        json_object_get(config, "campaign") == NULL) {
        *why = "no campaign is configured";
        return FLU_CONFIG_ABSENT;
    }
    out->campaign = json_string_value(json_object_get(config, "campaign"));
    if (out->campaign == NULL || out->campaign[0] == '\0') {
        *why = "campaign must be a non-empty string";
        return FLU_CONFIG_INVALID;
    }
    if (!read_time(&out->starts_at, config, "starts_at", clock) ||
        !read_time(&out->ends_at, config, "ends_at", clock)) {
        *why = "starts_at and ends_at must be RFC 3339 date-times";
        return FLU_CONFIG_INVALID;
    }
    if (out->ends_at <= out->starts_at) {
        *why = "ends_at must be after starts_at";
        return FLU_CONFIG_INVALID;
    }
    const json_t *sections = json_object_get(config, "sections");
    out->show_countdown = section_on(sections, "countdown");
    out->show_uptake = section_on(sections, "uptake");
    out->show_signposting = section_on(sections, "signposting");

    enum flu_config_result r = read_groups(out, config, why);
    if (r != FLU_CONFIG_OK)
        return r;

    const json_t *target = json_object_get(config, "target_percent");
    out->target_percent = 80.0;
    if (target != NULL) {
        if (!json_is_number(target) || json_number_value(target) < 0 ||
            json_number_value(target) > 100) {
            *why = "target_percent must be a number from 0 to 100";
            return FLU_CONFIG_INVALID;
        }
        out->target_percent = json_number_value(target);
    }
    const json_t *ov = json_object_get(config, "headcount_override");
    out->headcount_override = json_is_object(ov) ? ov : NULL;
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

void flu_config_check(json_t **errors, const json_t *config, const flu_clock *clock)
{
    int64_t starts, ends;
    if (read_time(&starts, config, "starts_at", clock) &&
        read_time(&ends, config, "ends_at", clock) && ends <= starts)
        flu_errors_add(errors, "/ends_at", "must be after starts_at");
}
