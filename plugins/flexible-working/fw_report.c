/*
 * fw_report.c - the compliance report's arithmetic over per-day
 * aggregates kept on write, so a report costs one small value per day in
 * its range whatever the number of requests.
 */
#include "fw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fw_agg_add(json_t *agg, const char *section, const char *name, int64_t delta)
{
    if (!json_is_object(agg) || section == NULL)
        return -1;
    if (name == NULL) { /* a top-level count */
        json_int_t v = json_integer_value(json_object_get(agg, section)) + delta;
        return v == 0 ? (json_object_del(agg, section), 0)
                      : json_object_set_new(agg, section, json_integer(v));
    }
    json_t *sec = json_object_get(agg, section);
    if (!json_is_object(sec)) {
        sec = json_object();
        if (sec == NULL || json_object_set_new(agg, section, sec) != 0)
            return -1;
    }
    json_int_t v = json_integer_value(json_object_get(sec, name)) + delta;
    int rc =
        v == 0 ? (json_object_del(sec, name), 0) : json_object_set_new(sec, name, json_integer(v));
    if (json_object_size(sec) == 0)
        json_object_del(agg, section);
    return rc;
}

int fw_agg_merge(json_t *dst, const json_t *src)
{
    const char *section;
    const json_t *v;
    json_object_foreach((json_t *)src, section, v)
    {
        if (json_is_integer(v)) {
            if (fw_agg_add(dst, section, NULL, json_integer_value(v)) != 0)
                return -1;
            continue;
        }
        const char *name;
        const json_t *n;
        json_object_foreach((json_t *)v, name, n)
        {
            if (fw_agg_add(dst, section, name, json_integer_value(n)) != 0)
                return -1;
        }
    }
    return 0;
}

/* The value at 0-based rank k of a histogram whose keys are day counts. */
static long hist_rank(const int64_t *counts, long k)
{
    int64_t seen = 0;
    for (long d = 0; d <= FW_DURATION_MAX; d++) {
        seen += counts[d];
        if (seen > k)
            return d;
    }
    return FW_DURATION_MAX;
}

/*
 * Keys are whole days as decimal text; they are bucketed into an array so
 * the walk is in day order whatever order the object keeps them in.
 */
bool fw_hist_median(const json_t *hist, double *out)
{
    int64_t *counts = calloc(FW_DURATION_MAX + 1, sizeof(*counts));
    int64_t total = 0;
    const char *key;
    const json_t *v;
    if (counts == NULL)
        return false;
    json_object_foreach((json_t *)hist, key, v)
    {
        long d = strtol(key, NULL, 10);
        int64_t n = json_integer_value(v);
        if (n <= 0)
            continue;
        d = d < 0 ? 0 : d > FW_DURATION_MAX ? FW_DURATION_MAX : d;
        counts[d] += n;
        total += n;
    }
    if (total > 0) {
        long a = hist_rank(counts, (long)((total - 1) / 2));
        long b = hist_rank(counts, (long)(total / 2));
        *out = (a + b) / 2.0;
    }
    free(counts);
    return total > 0;
}

json_t *fw_percent_json(int64_t num, int64_t den)
{
    if (den <= 0 || num < 0)
        return json_null();
    int64_t tenths = (num * 2000 + den) / (2 * den); /* half up */
    return json_real((double)tenths / 10.0);
}

json_t *fw_group_count_json(const char *group, int64_t count)
{
    bool hide = count > 0 && count < FW_SUPPRESS_BELOW;
    return json_pack("{s:s, s:o, s:b}", "staff_group", group, "count",
                     hide ? json_null() : json_integer(count), "suppressed", hide);
}

static int64_t count_of(const json_t *agg, const char *section, const char *name)
{
    return json_integer_value(json_object_get(json_object_get(agg, section), name));
}

/* Every name of a fixed list, zeros included, so clients see the whole set. */
static json_t *counts_json(const json_t *agg, const char *section, const char *const *names)
{
    json_t *out = json_object();
    for (size_t i = 0; out != NULL && names[i] != NULL; i++)
        json_object_set_new(out, names[i], json_integer(count_of(agg, section, names[i])));
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Staff groups in name order; each count suppressed below five. */
static json_t *groups_json(const json_t *agg)
{
    const json_t *groups = json_object_get(agg, "group");
    size_t n = json_object_size(groups), i = 0;
    const char **names = calloc(n + 1, sizeof(*names));
    json_t *out = json_array();
    const char *key;
    const json_t *v;
    if (names == NULL || out == NULL) {
        free(names);
        json_decref(out);
        return NULL;
    }
    json_object_foreach((json_t *)groups, key, v) names[i++] = key;
    qsort(names, n, sizeof(*names), cmp_str);
    for (i = 0; i < n; i++)
        json_array_append_new(out, fw_group_count_json(names[i], count_of(agg, "group", names[i])));
    free(names);
    return out;
}

static json_t *states_json(const json_t *agg)
{
    json_t *out = json_object();
    for (int s = 0; out != NULL && s < FW_STATE_COUNT; s++)
        json_object_set_new(out, fw_state_name((fw_state)s),
                            json_integer(count_of(agg, "status", fw_state_name((fw_state)s))));
    return out;
}

json_t *fw_report_json(const json_t *agg)
{
    static const char *const finals[] = {"approved", "rejected", NULL};
    int64_t approved = count_of(agg, "final", "approved");
    int64_t rejected = count_of(agg, "final", "rejected");
    int64_t decided = 0;
    for (size_t i = 0; fw_outcomes[i] != NULL; i++)
        decided += count_of(agg, "outcome", fw_outcomes[i]);
    double median = 0;
    bool have_median = fw_hist_median(json_object_get(agg, "dur"), &median);
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o}", "total",
                     (json_int_t)json_integer_value(json_object_get(agg, "received")), "by_status",
                     states_json(agg), "by_outcome", counts_json(agg, "outcome", fw_outcomes),
                     "appeals", counts_json(agg, "appeal", fw_appeal_outcomes), "final_outcomes",
                     counts_json(agg, "final", finals), "by_change_type",
                     counts_json(agg, "change", fw_change_types), "by_staff_group",
                     groups_json(agg), "decided", (json_int_t)decided, "approval_rate_percent",
                     fw_percent_json(approved, approved + rejected), "median_days_to_decision",
                     have_median ? json_real(median) : json_null());
}
