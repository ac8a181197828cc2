/*
 * aw.h - the pure logic of the applicant-welcome portlet: WCAG contrast
 * arithmetic, the plain-text and https-URL rules, checking a content
 * document, the default content, the interaction vocabulary and targets,
 * merging an applicant's checklist progress with the published checklist,
 * and small-number suppression for analytics.  Nothing here calls the
 * host, so all of it is unit-tested without a server
 * (tests/unit/test_applicant_welcome.c).
 */
#ifndef AW_H
#define AW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AW_ID "applicant-welcome"

/* Bounds of a content document (the body schema says the same). */
#define AW_URL_MAX        2048
#define AW_SERVICES_MAX   50
#define AW_CHECKLIST_MAX  50
#define AW_TARGET_MAX     200 /* "service:" + a service name, "checklist:" + an id */
#define AW_CONTRAST_MIN   4.5 /* WCAG 2.1 AA, normal text */
#define AW_SUPPRESS_BELOW 5   /* analytics: groups of fewer people are not shown */

/* One mistake in a request: a JSON pointer and a message.  The portlet
 * passes a wrapper of host->invalid_add, the unit test its own. */
typedef void (*aw_err_fn)(void *arg, const char *pointer, const char *message);

/* ---- contrast (aw_contrast.c) -------------------------------------------- */

/* "#RRGGBB" (either case) -> rgb; false for anything else. */
bool aw_colour_parse(const char *s, unsigned char rgb[3]);
/* WCAG 2.1 relative luminance (sRGB channels linearised) in [0, 1]. */
double aw_luminance(const unsigned char rgb[3]);
/* (lighter + 0.05) / (darker + 0.05), in [1, 21]. */
double aw_contrast_ratio(const unsigned char a[3], const unsigned char b[3]);
/* A ratio cut (never rounded up) to two decimals, so a refused 4.499 is
 * never shown as 4.50. */
double aw_ratio_display(double ratio);
/* The ratios of branding.text_colour on primary_colour and on
 * secondary_colour: true when all three colours parse. */
bool aw_branding_ratios(const json_t *branding, double *on_primary, double *on_secondary);
/* {standard, minimum, text_on_primary, text_on_secondary} for a branding
 * object, or JSON null when it has no usable colours (new reference). */
json_t *aw_contrast_json(const json_t *branding);

/* ---- text and URLs (aw_text.c) ------------------------------------------- */

/* NULL when s (len bytes, UTF-8) is plain text, else why not: markup ('<'
 * followed by a letter, '/', '!' or '?'), a NUL or control character (C0,
 * DEL, C1; a line feed is allowed when multiline). */
const char *aw_text_problem(const char *s, size_t len, bool multiline);
/* NULL when s is an absolute https:// URL with a host name, no user
 * information and only URI characters (RFC 3986, %-escapes well formed),
 * at most AW_URL_MAX bytes; else why not. */
const char *aw_url_problem(const char *s, size_t len);
/* True when s has no character other than spaces, tabs and line breaks. */
bool aw_text_blank(const char *s);

/* ---- content (aw_content.c) ---------------------------------------------- */

/* The rules of a content document its JSON Schema cannot say: plain text
 * everywhere, https URLs, no blank names or titles, alt text for every
 * image, unique service names and checklist ids, and the WCAG contrast of
 * the branding.  Reports each mistake with its pointer; returns the number
 * reported.  Robust to any JSON (the schema is checked first, by the host). */
size_t aw_content_check(const json_t *content, aw_err_fn err, void *arg);

/* ---- defaults (aw_default.c) --------------------------------------------- */

/* The draft an organisation starts with: a headline, NHS blue branding and
 * the default checklist (personal information, right-to-work documents and
 * the eleven Core Skills Training Framework subjects).  New reference. */
json_t *aw_default_content(void);
/* The checklist alone (new reference). */
json_t *aw_default_checklist(void);

/* ---- interactions (aw_vocab.c) ------------------------------------------- */

/* The actions a client may report, NULL-terminated. */
extern const char *const aw_actions[];
bool aw_action_valid(const char *action);
/* The interaction targets of a content document, as an object whose keys
 * are the targets ("welcome_video", "area_map", "service:<name>",
 * "checklist:<id>") and values their kind ("video", "map", "service",
 * "checklist").  New reference. */
json_t *aw_targets_build(const json_t *content);
/* 64-bit FNV-1a of a target as 16 hex digits: a fixed-size key part, so
 * keys stay short whatever the content's names. */
void aw_target_hash(char out[17], const char *target);

/* ---- checklist progress (aw_checklist.c) --------------------------------- */

/* The checklist item with this id, or NULL (borrowed). */
const json_t *aw_checklist_find(const json_t *checklist, const char *id);
/* The published checklist with each item's done / completed_at from the
 * applicant's progress items ({id: {completed_at, date}}; NULL = none);
 * *done and *total count only the items of the checklist.  New reference. */
json_t *aw_checklist_view(const json_t *checklist, const json_t *progress_items, int *done,
                          int *total);
/* {done, total, text: "7 of 13 done"} (new reference). */
json_t *aw_progress_json(int done, int total);

/* ---- analytics suppression (aw_suppress.c) ------------------------------- */

typedef struct aw_cell {
    int64_t count;  /* people (opened, checklist) or interactions */
    int64_t people; /* distinct people behind count (== count for people counts) */
    bool suppressed;
} aw_cell;

/* Suppresses the days of one series and its total over the range: a cell
 * of fewer than AW_SUPPRESS_BELOW people is hidden; and when the total is
 * shown, so that the hidden days cannot be worked out as total minus the
 * shown days while they sum to 1..4, the smallest shown days are hidden
 * too until they cannot. */
void aw_suppress_series(aw_cell *days, size_t n, aw_cell *total);
/* {count, suppressed} or, with people, {count, people, suppressed}; a
 * suppressed cell has null numbers.  Adds to obj (borrowed). */
void aw_cell_set(json_t *obj, const aw_cell *c, bool with_people);

#endif
