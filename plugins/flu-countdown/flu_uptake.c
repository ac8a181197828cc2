/*
 * flu_uptake.c - vaccinated against headcount per staff group and overall,
 * as percentages with one decimal place.
 */
#include "flu.h"

/*
 * In integers, so 1 of 8 is exactly 12.5 and 1 of 16 rounds half up to
 * 6.3 with no binary floating point surprise.  The product is formed in
 * 128 bits: counts are bounded in practice, but a hostile override must
 * not overflow.
 */
bool flu_percent_tenths(int64_t *out, int64_t num, int64_t den)
{
    if (den <= 0 || num < 0)
        return false;
    __int128 q = ((__int128)num * 2000 + den) / ((__int128)den * 2);
    *out = q > INT64_MAX ? INT64_MAX : (int64_t)q;
    return true;
}

json_t *flu_percent_json(int64_t num, int64_t den)
{
    int64_t tenths;
    if (!flu_percent_tenths(&tenths, num, den))
        return json_null();
    return json_real((double)tenths / 10.0);
}

void flu_uptake_init(flu_group_tally *tallies, const flu_config *cfg)
{
    for (size_t i = 0; i < cfg->group_count; i++) {
        tallies[i].group = cfg->groups[i];
        tallies[i].vaccinated = 0;
        tallies[i].headcount = 0;
    }
}

void flu_uptake_apply_overrides(flu_group_tally *tallies, const flu_config *cfg)
{
    for (size_t i = 0; i < cfg->group_count; i++) {
        int64_t n;
        if (flu_config_override(cfg, tallies[i].group, &n))
            tallies[i].headcount = n;
    }
}

/* Whether vaccinated/headcount reaches the target, compared unrounded. */
static bool target_met(int64_t vaccinated, int64_t headcount, double target)
{
    if (headcount <= 0)
        return false;
    return (double)vaccinated * 100.0 >= target * (double)headcount;
}

json_t *flu_uptake_overall_json(const flu_group_tally *tallies, const flu_config *cfg)
{
    int64_t v = 0, h = 0;
    for (size_t i = 0; i < cfg->group_count; i++) {
        v += tallies[i].vaccinated;
        h += tallies[i].headcount;
    }
    return json_pack("{s:I, s:I, s:o, s:f, s:b}", "vaccinated", (json_int_t)v, "headcount",
                     (json_int_t)h, "percent", flu_percent_json(v, h), "target_percent",
                     cfg->target_percent, "target_met", target_met(v, h, cfg->target_percent));
}

json_t *flu_uptake_groups_json(const flu_group_tally *tallies, const flu_config *cfg)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < cfg->group_count; i++) {
        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:I, s:o}", "staff_group", tallies[i].group, "vaccinated",
                           (json_int_t)tallies[i].vaccinated, "headcount",
                           (json_int_t)tallies[i].headcount, "percent",
                           flu_percent_json(tallies[i].vaccinated, tallies[i].headcount)));
    }
    return arr;
}
