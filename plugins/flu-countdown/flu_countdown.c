/*
 * flu_countdown.c - time left until the campaign ends, as days, hours,
 * minutes and seconds.
 */
#include "flu.h"

#include <string.h>

/*
 * Remaining time is rounded UP to whole seconds: then "not ended" always
 * shows at least one second left, and ends_at minus the server_time we
 * print (which truncates) equals total_seconds, so a client ticking the
 * countdown from our numbers agrees with one ticking from ends_at.
 */
void flu_countdown_compute(flu_remaining *out, int64_t now_ms, int64_t ends_at)
{
    memset(out, 0, sizeof(*out));
    /* ends_at comes from a parsed RFC 3339 year 0000..9999: no overflow. */
    int64_t left_ms = ends_at * 1000 - now_ms;
    if (left_ms <= 0) {
        out->ended = true;
        return;
    }
    int64_t total = left_ms / 1000 + (left_ms % 1000 != 0);
    out->total_seconds = total;
    out->days = total / 86400;
    out->hours = total % 86400 / 3600;
    out->minutes = total % 3600 / 60;
    out->seconds = total % 60;
}

json_t *flu_countdown_json(const flu_remaining *r)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "days", (json_int_t)r->days, "hours",
                     (json_int_t)r->hours, "minutes", (json_int_t)r->minutes, "seconds",
                     (json_int_t)r->seconds, "total_seconds", (json_int_t)r->total_seconds);
}
