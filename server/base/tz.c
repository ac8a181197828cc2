/*
 * tz.c - UTC offsets and local dates from TZif files (RFC 8536), cached.
 *
 * Each zone is read once (the 64-bit data of a version 2+ file and its
 * footer) into an immutable record kept in a small table for the life of
 * the process; lookups after that take the table lock only to find the
 * record.  The table is bounded: when it is full a zone is loaded, used
 * and freed per call, which stays correct, just slower.
 */
#include "base/tz.h"

#include "base/clock.h"
#include "base/common.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_CACHE_MAX 64
#define TZ_FILE_MAX  (256 * 1024)
#define TZ_TRANS_MAX 4096
#define DAY_SECS     86400

typedef struct tz_when {
    char kind; /* 'J' (1..365, no Feb 29), 'D' (0..365), 'M' (month.week.day) */
    int n, m, w, d;
    int32_t time; /* seconds after local midnight (may be negative or > 24 h) */
} tz_when;

typedef struct tz_rule {
    bool ok;
    int32_t std_off, dst_off; /* seconds east of UTC */
    bool has_dst;
    tz_when start, end;
} tz_rule;

typedef struct tz_zone {
    char name[PT_TZ_NAME_MAX + 1];
    int64_t *trans; /* ascending */
    uint8_t *idx;   /* type of each transition */
    int32_t *offs;  /* utoff of each type */
    size_t ntrans, ntypes;
    tz_rule rule; /* footer: after the last transition */
} tz_zone;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static tz_zone *g_zones[TZ_CACHE_MAX];
static size_t g_nzones;

/* ---- names --------------------------------------------------------------- */

static bool name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '+' || c == '-';
}

/* The shape alone: segments of [A-Za-z0-9_+-] separated by single '/'.
 * That also rules out "..", a leading '/' and anything a path could
 * abuse; right/ zones count leap seconds and are not civil time. */
static bool name_ok(const char *name)
{
    if (!name || !*name || strlen(name) > PT_TZ_NAME_MAX || strstr(name, "..") ||
        strncmp(name, "right/", 6) == 0)
        return false;
    bool seg_start = true;
    for (const char *p = name; *p; p++) {
        if (*p == '/') {
            if (seg_start)
                return false;
            seg_start = true;
        } else if (name_char(*p)) {
            seg_start = false;
        } else {
            return false;
        }
    }
    return !seg_start;
}

/* ---- calendar ------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int year_of_days(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return (int)(yoe + era * 400 + (m <= 2));
}

/* Day (since epoch) on which a POSIX rule falls in year y. */
static int64_t when_day(const tz_when *w, int y)
{
    int64_t jan1 = pt_days_from_civil(y, 1, 1);
    switch (w->kind) {
    case 'J':
        return jan1 + w->n - 1 + (leap(y) && w->n >= 60 ? 1 : 0);
    case 'D':
        return jan1 + w->n;
    default: {
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int64_t first = pt_days_from_civil(y, (unsigned)w->m, 1);
        int len = mdays[w->m - 1] + (w->m == 2 && leap(y));
        int wday = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
        int64_t day = first + (w->d - wday + 7) % 7 + (int64_t)(w->w - 1) * 7;
        while (day >= first + len)
            day -= 7;
        return day;
    }
    }
}

/* ---- the POSIX TZ footer ------------------------------------------------- */

static bool parse_num(const char **p, int max, int *out)
{
    int v = 0, n = 0;
    while (**p >= '0' && **p <= '9' && n < 4) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    if (n == 0 || v > max)
        return false;
    *out = v;
    return true;
}

/* [+-]hh[:mm[:ss]] in seconds; max_h 24 for offsets, 167 for rule times. */
static bool parse_hms(const char **p, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (**p == '+' || **p == '-')
        sign = *(*p)++ == '-' ? -1 : 1;
    if (!parse_num(p, max_h, &h))
        return false;
    if (**p == ':') {
        (*p)++;
        if (!parse_num(p, 59, &m))
            return false;
        if (**p == ':') {
            (*p)++;
            if (!parse_num(p, 59, &s))
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool parse_abbr(const char **p)
{
    const char *s = *p;
    if (*s == '<') {
        const char *e = strchr(s, '>');
        if (!e || e - s < 4)
            return false;
        *p = e + 1;
        return true;
    }
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
        s++;
    if (s - *p < 3)
        return false;
    *p = s;
    return true;
}

static bool parse_when(const char **p, tz_when *w)
{
    w->time = 2 * 3600;
    if (**p == 'J') {
        (*p)++;
        w->kind = 'J';
        if (!parse_num(p, 365, &w->n) || w->n < 1)
            return false;
    } else if (**p == 'M') {
        (*p)++;
        w->kind = 'M';
        if (!parse_num(p, 12, &w->m) || w->m < 1 || *(*p)++ != '.' || !parse_num(p, 5, &w->w) ||
            w->w < 1 || *(*p)++ != '.' || !parse_num(p, 6, &w->d))
            return false;
    } else {
        w->kind = 'D';
        if (!parse_num(p, 365, &w->n))
            return false;
    }
    if (**p == '/') {
        (*p)++;
        if (!parse_hms(p, 167, &w->time))
            return false;
    }
    return true;
}

/* "GMT0BST,M3.5.0/1,M10.5.0", "IST-5:30", "UTC0", "<+0545>-5:45". */
static tz_rule parse_rule(const char *s)
{
    tz_rule r = {0};
    int32_t off;
    if (!parse_abbr(&s) || !parse_hms(&s, 24, &off))
        return r;
    r.std_off = -off; /* POSIX offsets count west */
    if (*s == '\0') {
        r.ok = true;
        return r;
    }
    if (!parse_abbr(&s))
        return r;
    r.has_dst = true;
    r.dst_off = r.std_off + 3600;
    if (*s && *s != ',') {
        if (!parse_hms(&s, 24, &off))
            return r;
        r.dst_off = -off;
    }
    if (*s == '\0') { /* no rules given: the POSIX default (US rules) */
        r.start = (tz_when){'M', 0, 3, 2, 0, 7200};
        r.end = (tz_when){'M', 0, 11, 1, 0, 7200};
        r.ok = true;
        return r;
    }
    if (*s++ != ',' || !parse_when(&s, &r.start) || *s++ != ',' || !parse_when(&s, &r.end) || *s)
        return r;
    r.ok = true;
    return r;
}

static int32_t rule_offset(const tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int y = year_of_days(floor_div(t + r->std_off, DAY_SECS));
    /* Transitions happen at local wall-clock time: the start in standard
     * time, the end in daylight time. */
    int64_t start = when_day(&r->start, y) * DAY_SECS + r->start.time - r->std_off;
    int64_t end = when_day(&r->end, y) * DAY_SECS + r->end.time - r->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ----------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static void zone_free(tz_zone *z)
{
    if (!z)
        return;
    free(z->trans);
    free(z->idx);
    free(z->offs);
    free(z);
}

static int zone_bad(tz_zone *z, const char *name, const char *why)
{
    zone_free(z);
    pt_error_set("time zone %s: %s", name, why);
    return PT_ENOTFOUND;
}

/*
 * The 64-bit section of a version 2+ file: the version 1 block (32-bit
 * times) is skipped by its own counts, then the second header, data and
 * the "\n<POSIX TZ>\n" footer are read.
 */
static int zone_parse(tz_zone **out, const char *name, const unsigned char *b, size_t len)
{
    tz_zone *z = calloc(1, sizeof(*z));
    if (!z)
        return PT_ENOMEM;
    pt_strlcpy(z->name, name, sizeof(z->name));
    if (len < 44 || memcmp(b, "TZif", 4) != 0)
        return zone_bad(z, name, "not a TZif file");
    if (b[4] < '2')
        return zone_bad(z, name, "TZif version 1 is not supported");
    uint32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = be32(b + 20 + 4 * i); /* isut, isstd, leap, time, type, char */
    size_t skip = 44 + (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
    if (skip + 44 > len || memcmp(b + skip, "TZif", 4) != 0)
        return zone_bad(z, name, "truncated TZif file");
    const unsigned char *h = b + skip;
    for (int i = 0; i < 6; i++)
        c[i] = be32(h + 20 + 4 * i);
    if (c[3] > TZ_TRANS_MAX || c[4] == 0 || c[4] > 256)
        return zone_bad(z, name, "implausible TZif counts");
    size_t need = 44 + (size_t)c[3] * 9 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 12 + c[1] + c[0];
    if (skip + need > len)
        return zone_bad(z, name, "truncated TZif file");
    const unsigned char *p = h + 44;
    z->ntrans = c[3];
    z->ntypes = c[4];
    z->trans = malloc((z->ntrans ? z->ntrans : 1) * sizeof(*z->trans));
    z->idx = malloc(z->ntrans ? z->ntrans : 1);
    z->offs = malloc(z->ntypes * sizeof(*z->offs));
    if (!z->trans || !z->idx || !z->offs) {
        zone_free(z);
        return PT_ENOMEM;
    }
    for (size_t i = 0; i < z->ntrans; i++) {
        z->trans[i] = be64(p + 8 * i);
        if (i && z->trans[i] <= z->trans[i - 1])
            return zone_bad(z, name, "transitions out of order");
    }
    p += 8 * z->ntrans;
    for (size_t i = 0; i < z->ntrans; i++)
        if ((z->idx[i] = p[i]) >= z->ntypes)
            return zone_bad(z, name, "bad transition type");
    p += z->ntrans;
    for (size_t i = 0; i < z->ntypes; i++)
        z->offs[i] = (int32_t)be32(p + 6 * i);
    p = h + need;
    /* Footer: "\n" TZ "\n"; empty means no rule beyond the table. */
    size_t rest = len - (size_t)(p - b);
    if (rest >= 2 && p[0] == '\n') {
        const unsigned char *e = memchr(p + 1, '\n', rest - 1);
        char tz[128];
        size_t n = e ? (size_t)(e - p - 1) : 0;
        if (n > 0 && n < sizeof(tz)) {
            memcpy(tz, p + 1, n);
            tz[n] = '\0';
            z->rule = parse_rule(tz);
            if (!z->rule.ok)
                return zone_bad(z, name, "footer TZ rule not understood");
        }
    }
    *out = z;
    return 0;
}

static int zone_load(tz_zone **out, const char *name)
{
    *out = NULL;
    const char *dir = getenv("TZDIR");
    char path[1024];
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        pt_error_set("time zone %s: path too long", name);
        return PT_EINVAL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        pt_error_set("time zone %s: not found (%s)", name, strerror(errno));
        return PT_ENOTFOUND;
    }
    unsigned char *buf = malloc(TZ_FILE_MAX);
    if (!buf) {
        fclose(f);
        return PT_ENOMEM;
    }
    size_t len = fread(buf, 1, TZ_FILE_MAX, f);
    bool err = ferror(f) != 0;
    fclose(f);
    int rc = err ? PT_ENOTFOUND : zone_parse(out, name, buf, len);
    if (err)
        pt_error_set("time zone %s: cannot read %s", name, path);
    free(buf);
    return rc;
}

/*
 * Finds or loads a zone.  *owned is set when the zone is not in the cache
 * (the cache was full) and the caller must free it.
 */
static int zone_get(const tz_zone **out, bool *owned, const char *name)
{
    *out = NULL;
    *owned = false;
    if (!name_ok(name)) {
        pt_error_set("time zone %s: not an IANA zone name", name ? name : "(null)");
        return PT_EINVAL;
    }
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_nzones; i++)
        if (strcmp(g_zones[i]->name, name) == 0) {
            *out = g_zones[i];
            pthread_mutex_unlock(&g_lock);
            return 0;
        }
    pthread_mutex_unlock(&g_lock);

    tz_zone *z = NULL;
    int rc = zone_load(&z, name);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_nzones; i++)
        if (strcmp(g_zones[i]->name, name) == 0) { /* another thread won */
            zone_free(z);
            *out = g_zones[i];
            pthread_mutex_unlock(&g_lock);
            return 0;
        }
    if (g_nzones < TZ_CACHE_MAX)
        g_zones[g_nzones++] = z;
    else
        *owned = true;
    pthread_mutex_unlock(&g_lock);
    *out = z;
    return 0;
}

static int32_t zone_offset(const tz_zone *z, int64_t t)
{
    if (z->ntrans == 0)
        return z->rule.ok ? rule_offset(&z->rule, t) : z->offs[0];
    if (t < z->trans[0])
        return z->offs[0];
    if (t >= z->trans[z->ntrans - 1] && z->rule.ok)
        return rule_offset(&z->rule, t);
    size_t lo = 0, hi = z->ntrans; /* last transition <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->offs[z->idx[lo]];
}

int pt_tz_offset(int32_t *offset, const char *zone, int64_t t)
{
    const tz_zone *z;
    bool owned;
    *offset = 0;
    int rc = zone_get(&z, &owned, zone);
    if (rc < 0)
        return rc;
    *offset = zone_offset(z, t);
    if (owned)
        zone_free((tz_zone *)z);
    return 0;
}

int pt_tz_date(int32_t *days, const char *zone, int64_t t)
{
    int32_t off;
    int rc = pt_tz_offset(&off, zone, t);
    *days = (int32_t)floor_div(t + (rc < 0 ? 0 : off), DAY_SECS);
    return rc;
}

bool pt_tz_valid(const char *name)
{
    int32_t off;
    return pt_tz_offset(&off, name, 0) == 0;
}
