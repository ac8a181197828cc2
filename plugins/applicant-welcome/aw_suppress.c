/*
 * aw_suppress.c - small-number suppression for the analytics, so that no
 * applicant can be singled out: a count behind which stand fewer than
 * AW_SUPPRESS_BELOW people (zero included) is shown as null with
 * "suppressed": true.
 */
#include "aw.h"

void aw_suppress_series(aw_cell *days, size_t n, aw_cell *total)
{
    int64_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        days[i].suppressed = days[i].people < AW_SUPPRESS_BELOW;
        if (!days[i].suppressed)
            shown += days[i].count;
    }
    total->suppressed = total->people < AW_SUPPRESS_BELOW;
    if (total->suppressed)
        return;
    /* Secondary suppression: total - shown is what the hidden days add up
     * to; while that is a small group, hide the smallest shown day too.
     * A shown day has at least AW_SUPPRESS_BELOW, so one round is enough,
     * but the loop does not rely on it. */
    int64_t hidden = total->count - shown;
    while (hidden > 0 && hidden < AW_SUPPRESS_BELOW) {
        size_t pick = n;
        for (size_t i = 0; i < n; i++)
            if (!days[i].suppressed && (pick == n || days[i].count < days[pick].count))
                pick = i;
        if (pick == n)
            break;
        days[pick].suppressed = true;
        hidden += days[pick].count;
    }
}

void aw_cell_set(json_t *obj, const aw_cell *c, bool with_people)
{
    json_object_set_new(obj, "count", c->suppressed ? json_null() : json_integer(c->count));
    if (with_people)
        json_object_set_new(obj, "people", c->suppressed ? json_null() : json_integer(c->people));
    json_object_set_new(obj, "suppressed", json_boolean(c->suppressed));
}
