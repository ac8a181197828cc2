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

/*
 * A count behind which stand one to four people could single someone out
 * (the only doctor in a small trust, vaccinated or not).  For callers other
 * than the campaign's admins such counts are null with "suppressed": true,
 * the same rule applicant-welcome and flexible-working follow.
 */
static bool flu_count_small(int64_t n)
{
    return n > 0 && n < FLU_SUPPRESS_BELOW;
}

bool flu_uptake_suppressed(int64_t vaccinated, int64_t headcount, bool suppress)
{
    return suppress && (flu_count_small(vaccinated) || flu_count_small(headcount));
}

static json_t *uptake_counts(json_t *obj, int64_t v, int64_t h, bool hidden)
{
    if (obj == NULL)
        return NULL;
    if (hidden) {
        json_object_set_new(obj, "vaccinated", json_null());
        json_object_set_new(obj, "headcount", json_null());
        json_object_set_new(obj, "percent", json_null());
        json_object_set_new(obj, "suppressed", json_true());
    } else {
        json_object_set_new(obj, "vaccinated", json_integer((json_int_t)v));
        json_object_set_new(obj, "headcount", json_integer((json_int_t)h));
        json_object_set_new(obj, "percent", flu_percent_json(v, h));
    }
    return obj;
}

json_t *flu_uptake_overall_json(const flu_group_tally *tallies, const flu_config *cfg,
                                bool suppress)
{
    int64_t v = 0, h = 0;
    for (size_t i = 0; i < cfg->group_count; i++) {
        v += tallies[i].vaccinated;
        h += tallies[i].headcount;
    }
    bool hidden = flu_uptake_suppressed(v, h, suppress);
    return uptake_counts(json_pack("{s:f, s:b}", "target_percent", cfg->target_percent,
                                   "target_met", !hidden && target_met(v, h, cfg->target_percent)),
                         v, h, hidden);
}

json_t *flu_uptake_groups_json(const flu_group_tally *tallies, const flu_config *cfg, bool suppress)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < cfg->group_count; i++) {
        int64_t v = tallies[i].vaccinated, h = tallies[i].headcount;
        json_array_append_new(arr,
                              uptake_counts(json_pack("{s:s}", "staff_group", tallies[i].group), v,
                                            h, flu_uptake_suppressed(v, h, suppress)));
    }
    return arr;
}
