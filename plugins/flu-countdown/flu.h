/*
 * flu.h - the pure logic of the flu-countdown portlet: reading its config,
 * the countdown arithmetic, uptake percentages, and the checks on sites
 * and vaccinations that the body schemas cannot say.  Nothing here calls
 * the host table, so all of it is unit-tested without a server
 * (tests/unit/test_flu_countdown.c).
 *
 * Times are seconds since the Unix epoch.  The few host functions the
 * logic needs come in a flu_env: the host's in the portlet, the core's in
 * the unit test.
 */
#ifndef FLU_H
#define FLU_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLU_ID              "flu-countdown"
#define FLU_GROUPS_MAX      50
#define FLU_SITE_ID_MAX_LEN 64
#define FLU_HEADCOUNT_MAX   10000000

typedef struct flu_env {
    bool (*time_parse)(const char *s, int64_t *epoch);
    void (*time_format)(char buf[21], int64_t epoch);
    /* Appends {pointer, message} to an errors array. */
    void (*invalid_add)(json_t *errors, const char *pointer, const char *message);
} flu_env;

/* ---- config (flu_config.c) ------------------------------------------------ */

enum flu_config_result {
    FLU_CONFIG_OK = 0,
    FLU_CONFIG_ABSENT = 1,  /* nothing configured yet */
    FLU_CONFIG_INVALID = 2, /* stored but unusable (ends_at <= starts_at ...) */
};

/* The JSON Schema of the config.  The host checks every config against it
 * and fills in the "default"s of its top-level properties. */
extern const char flu_config_schema[];

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

/* Reads a config as the host hands it over: checked against the schema,
 * defaults filled in.  *why gets a static reason unless FLU_CONFIG_OK. */
enum flu_config_result flu_config_read(flu_config *out, const json_t *config, const flu_env *env,
                                       const char **why);
/* The rule of a config that its JSON Schema cannot say (ends_at after
 * starts_at): appends to errors and returns false when it is broken. */
bool flu_config_check(const json_t *config, const flu_env *env, json_t *errors);
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
/* Replaces counted headcounts by the config's overrides. */
void flu_uptake_apply_overrides(flu_group_tally *tallies, const flu_config *cfg);
/* {vaccinated, headcount, percent, target_percent, target_met} over all
 * configured groups. */
/* Counts from 1 to FLU_SUPPRESS_BELOW - 1 are suppressed (null, with
 * "suppressed": true) when `suppress` is set: for every caller but the
 * campaign's admins. */
#define FLU_SUPPRESS_BELOW 5
bool flu_uptake_suppressed(int64_t vaccinated, int64_t headcount, bool suppress);
json_t *flu_uptake_overall_json(const flu_group_tally *tallies, const flu_config *cfg,
                                bool suppress);
/* [{staff_group, vaccinated, headcount, percent}] */
json_t *flu_uptake_groups_json(const flu_group_tally *tallies, const flu_config *cfg,
                               bool suppress);

/* ---- sites (flu_sites.c) -------------------------------------------------- */

/* The JSON Schema of PUT .../sites/{site} (the host checks it). */
extern const char flu_site_schema[];
/* ^[a-z0-9][a-z0-9-]{0,63}$ (the path parameter, which no schema sees) */
bool flu_site_id_valid(const char *id);
/* Builds the stored site from a body that passed flu_site_schema:
 * sessions sorted by start, times normalised to UTC.  What the schema
 * cannot say (the id, each session ending after it starts) is appended to
 * errors; *out is set only when nothing was. */
void flu_site_build(json_t **out, json_t *errors, const char *id, const json_t *body,
                    const flu_env *env);
/* Sorts an array of sessions by starts_at, then ends_at (RFC 3339 UTC
 * strings as flu_site_build stores them compare in time order). */
void flu_sessions_sort(json_t *sessions);

/* ---- vaccinations (flu_vaccination.c) ------------------------------------- */

/* The JSON Schema of POST .../vaccinations (the host checks it). */
extern const char flu_vaccination_schema[];

typedef struct flu_vaccination {
    const char *staff_group; /* borrowed from the body */
    const char *site;        /* borrowed from the body */
    int64_t vaccinated_at;
} flu_vaccination;

/* Checks a body that passed flu_vaccination_schema against the campaign,
 * appending to errors; the site's existence is checked later, in the
 * write transaction. */
void flu_vaccination_check(flu_vaccination *out, json_t *errors, const json_t *body,
                           const flu_config *cfg, int64_t now_ms, const flu_env *env);

#endif
