/*
 * flu.h - the pure logic of the flu-countdown portlet: reading its config,
 * the countdown arithmetic, uptake percentages, and validating sites and
 * vaccinations.  Nothing here calls the host, so all of it is unit-tested
 * without a server (tests/unit/test_flu_countdown.c).
 *
 * Times are seconds since the Unix epoch; the RFC 3339 parser/formatter is
 * passed in (the host's in the portlet, the core's in the unit test).
 */
#ifndef FLU_H
#define FLU_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLU_ID              "flu-countdown"
#define FLU_GROUPS_MAX      50
#define FLU_GROUP_MAX_LEN   40
#define FLU_SITE_ID_MAX_LEN 64
#define FLU_SESSIONS_MAX    100
#define FLU_HEADCOUNT_MAX   10000000

typedef struct flu_clock {
    bool (*parse)(const char *s, int64_t *epoch);
    void (*format)(char buf[21], int64_t epoch);
} flu_clock;

/* ---- errors (flu_errors.c) ---------------------------------------------- */

/* Appends {pointer, message} to *errors, creating the array. */
void flu_errors_add(json_t **errors, const char *pointer, const char *message);

/* ---- config (flu_config.c) ------------------------------------------------ */

enum flu_config_result {
    FLU_CONFIG_OK = 0,
    FLU_CONFIG_ABSENT = 1,  /* nothing configured yet ({}) */
    FLU_CONFIG_INVALID = 2, /* stored but unusable (ends_at <= starts_at ...) */
};

typedef struct flu_config {
    const char *campaign; /* borrowed from the config JSON */
    int64_t starts_at;
    int64_t ends_at;
    bool show_countdown;
    bool show_uptake;
    bool show_signposting;
    size_t group_count;
    const char *groups[FLU_GROUPS_MAX]; /* borrowed */
    double target_percent;
    const json_t *headcount_override; /* object or NULL; borrowed */
} flu_config;

/* The groups used when the config names none (the national frontline groups). */
extern const char *const flu_default_groups[];
extern const size_t flu_default_group_count;

/* Reads a config (already schema-checked by the host) and applies the
 * defaults.  *why gets a static reason on FLU_CONFIG_INVALID. */
enum flu_config_result flu_config_read(flu_config *out, const json_t *config,
                                       const flu_clock *clock, const char **why);
/* The rules of a config that its JSON Schema cannot say (ends_at after
 * starts_at): appends {pointer, message} to *errors for each broken one. */
void flu_config_check(json_t **errors, const json_t *config, const flu_clock *clock);
/* Index of group in the config, or -1. */
int flu_config_group_index(const flu_config *cfg, const char *group);
/* The override for group: true and *out set when present. */
bool flu_config_override(const flu_config *cfg, const char *group, int64_t *out);

/* ---- countdown (flu_countdown.c) ---------------------------------------- */

typedef struct flu_remaining {
    int64_t days, hours, minutes, seconds;
    int64_t total_seconds;
    bool ended;
} flu_remaining;

/* Time left from now_ms (milliseconds) to ends_at (seconds), rounded up to
 * whole seconds; all zero and ended once now >= ends_at. */
void flu_countdown_compute(flu_remaining *out, int64_t now_ms, int64_t ends_at);
json_t *flu_countdown_json(const flu_remaining *r);

/* ---- uptake (flu_uptake.c) ------------------------------------------------ */

/* num/den as a percentage in tenths, rounded half up, in integers.  False
 * (no percentage) when den is 0 or an argument is negative. */
bool flu_percent_tenths(int64_t *out, int64_t num, int64_t den);
/* The same as a JSON number with one decimal place, or JSON null. */
json_t *flu_percent_json(int64_t num, int64_t den);

typedef struct flu_group_tally {
    const char *group;
    int64_t vaccinated;
    int64_t headcount;
} flu_group_tally;

/* Sets up one tally per configured group, all zero. */
void flu_uptake_init(flu_group_tally *tallies, const flu_config *cfg);
/* Counts one person (an API person view) toward its group's headcount if
 * its effective status is "employee". */
void flu_uptake_count_person(flu_group_tally *tallies, const flu_config *cfg, const json_t *person);
/* Replaces counted headcounts by the config's overrides. */
void flu_uptake_apply_overrides(flu_group_tally *tallies, const flu_config *cfg);
/* {vaccinated, headcount, percent, target_percent, target_met} over all
 * configured groups. */
json_t *flu_uptake_overall_json(const flu_group_tally *tallies, const flu_config *cfg);
/* [{staff_group, vaccinated, headcount, percent}] */
json_t *flu_uptake_groups_json(const flu_group_tally *tallies, const flu_config *cfg);

/* ---- sites (flu_sites.c) -------------------------------------------------- */

/* ^[a-z0-9][a-z0-9-]{0,63}$ */
bool flu_site_id_valid(const char *id);
/* Validates a PUT body and builds the stored site (sessions sorted by
 * start, times normalised).  Errors are appended to *errors; *out is set
 * only when there were none. */
void flu_site_build(json_t **out, json_t **errors, const char *id, const json_t *body,
                    const flu_clock *clock);
/* Sorts an array of sessions by starts_at, then ends_at (RFC 3339 UTC
 * strings as flu_site_build stores them compare in time order). */
void flu_sessions_sort(json_t *sessions);

/* ---- vaccinations (flu_vaccination.c) ------------------------------------- */

typedef struct flu_vaccination {
    const char *staff_group; /* borrowed from the body */
    const char *site;        /* borrowed from the body */
    int64_t vaccinated_at;
} flu_vaccination;

/* Validates a POST body against the campaign; the site's existence is
 * checked later, in the write transaction. */
void flu_vaccination_check(flu_vaccination *out, json_t **errors, const json_t *body,
                           const flu_config *cfg, int64_t now_ms, const flu_clock *clock);

#endif
