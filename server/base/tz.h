/*
 * tz.h - local dates in IANA time zones, thread-safe, without setenv("TZ").
 *
 * Calendar dates in Portico (today, a termination date, a leaver's last
 * day) are an organisation's local dates.  localtime_r() would need TZ in
 * the environment, which is process-wide and not thread-safe, so zones are
 * read here from their TZif files (/usr/share/zoneinfo, Debian's tzdata;
 * $TZDIR overrides) once each, cached, and answered from the transitions
 * and the POSIX TZ rule in the file's footer for instants after the last
 * transition.
 */
#ifndef PT_TZ_H
#define PT_TZ_H

#include <stdbool.h>
#include <stdint.h>

#define PT_TZ_DEFAULT  "Europe/London"
#define PT_TZ_NAME_MAX 64

/* A well-formed IANA name ([A-Za-z0-9_+-]+ segments separated by '/', no
 * "..", no leading '/', not under right/) whose TZif file loads. */
bool pt_tz_valid(const char *name);
/* UTC offset (seconds east) in zone at instant t (seconds since epoch).
 * PT_EINVAL for a bad name, PT_ENOTFOUND for an unknown or unreadable
 * zone (detail in pt_error_last). */
int pt_tz_offset(int32_t *offset, const char *zone, int64_t t);
/* The local calendar date in zone at instant t, as days since 1970-01-01. */
int pt_tz_date(int32_t *days, const char *zone, int64_t t);

#endif
