/*
 * lv.h - the pure logic of the leavers portlet (My Payslip, My P45, My
 * P60): the document kinds and their JSON Schemas, periods and tax years,
 * NI numbers and their masking, the cross-field rules a schema cannot say
 * (payments add up to gross, gross less deductions is net), money in
 * pence, the read-back views and the PDF rendering.
 *
 * Nothing here calls the portlet host, so all of it is unit-tested
 * without a server (tests/unit/test_leavers.c).  Errors go through an
 * lv_error_fn so the portlet can hand in host->invalid_add.
 */
#ifndef LV_H
#define LV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LV_ID "leavers"

/* Largest amount of money anywhere in a document, in pence (GBP 1,000,000). */
#define LV_AMOUNT_MAX 100000000
/* Longest list of payments, deductions or statutory payments. */
#define LV_LINES_MAX 50
/* Most documents in one bulk load (a pay run). */
#define LV_BULK_MAX 50000
/* A period as stored: "2026-10" or "2025-26". */
#define LV_PERIOD_LEN 8
/* A masked NI number: "******56C". */
#define LV_NI_LEN 10

typedef void (*lv_error_fn)(json_t *errors, const char *pointer, const char *message);

/* ---- kinds (lv_kind.c) --------------------------------------------------- */

enum lv_kind { LV_KIND_NONE = -1, LV_PAYSLIP = 0, LV_P45 = 1, LV_P60 = 2, LV_KIND_COUNT = 3 };

enum lv_kind lv_kind_from_name(const char *name);
const char *lv_kind_name(enum lv_kind kind);  /* "payslip", "p45", "p60" */
const char *lv_kind_title(enum lv_kind kind); /* "Payslip", "P45", "P60" */

/* ---- schemas (lv_schema.c) ----------------------------------------------- */

/* Request bodies: one document, and a pay run {"documents": [document...]}
 * whose items are the same schema text. */
extern const char lv_schema_document[];
extern const char lv_schema_bulk[];
/* The `data` of each kind, validated after the envelope. */
extern const char *const lv_schema_data[LV_KIND_COUNT];
/* The portlet's per-organisation config. */
extern const char lv_schema_config[];

/* ---- periods and dates (lv_period.c) ------------------------------------- */

/* "YYYY-MM", month 01..12, year 1990..2199. */
bool lv_month_valid(const char *s);
/* "YYYY-YY" with YY the year after YYYY (e.g. "2025-26"), 1990..2199. */
bool lv_tax_year_valid(const char *s);
/* The UK tax year (6 April to 5 April) holding the date "YYYY-MM-DD"
 * (already a valid date), as "YYYY-YY".  False if s is not a date. */
bool lv_tax_year_of(char out[LV_PERIOD_LEN], const char *date);
/* "October 2026" for "2026-10"; "2025-26 tax year" passes through. */
void lv_period_label(char *buf, size_t cap, enum lv_kind kind, const char *period);

/* ---- NI numbers (lv_ni.c) ------------------------------------------------ */

/* The HMRC shape: two prefix letters (neither D, F, I, Q, U nor V; the
 * second not O; not BG, GB, KN, NK, NT, TN or ZZ), six digits, and a
 * suffix A-D. */
bool lv_ni_valid(const char *s);
/* Everything but the last 3 characters replaced by '*' ("******56C");
 * anything shorter than 4 characters becomes all stars. */
void lv_ni_mask(char out[LV_NI_LEN], const char *ni);

/* ---- money (lv_money.c) -------------------------------------------------- */

/* "£1,234.56" (UTF-8 pound sign) or, winansi, with the single byte 0xA3
 * the PDF's WinAnsiEncoding uses.  Negative amounts get a leading '-'. */
void lv_money_format(char *buf, size_t cap, int64_t pence, bool winansi);
/* Sum of the `amount`s of a list of {description, amount}. */
int64_t lv_lines_sum(const json_t *lines);

/* ---- the rules a schema cannot say (lv_check.c) -------------------------- */

/*
 * Checks one document whose envelope and data already passed their
 * schemas: the period for its kind, and the arithmetic.  Pointers are
 * relative to base ("" for a single load, "/documents/7" in a pay run).
 * On success writes the period the document is stored under (a P45's is
 * the tax year of its leaving date) to period_out and returns true.
 */
bool lv_document_check(const json_t *doc, const char *base, char period_out[LV_PERIOD_LEN],
                       json_t *errors, lv_error_fn add);

/* ---- read-back views (lv_view.c) ----------------------------------------- */

/* A stored record {username, kind, period, data, loaded_at, revision} as
 * the API shows it: the data with the NI number masked.  New reference. */
json_t *lv_view_document(const json_t *stored);
/* One row of a list: kind, period, the date and the totals, no lines. */
json_t *lv_view_list_item(const json_t *stored);

/* ---- text for the PDF (lv_text.c) ---------------------------------------- */

/* UTF-8 to Windows-1252 (the PDF's WinAnsiEncoding) into buf, at most
 * cap-1 bytes and NUL-terminated; characters it cannot show become '?',
 * control characters become spaces.  Returns buf. */
char *lv_text_winansi(char *buf, size_t cap, const char *utf8);

/* ---- PDF (lv_pdf.c) ------------------------------------------------------ */

typedef struct lv_pdf_who {
    const char *org_name;    /* the organisation's name */
    const char *person_name; /* display name */
    const char *username;
    const char *generated_on; /* "YYYY-MM-DD", printed in the footer */
} lv_pdf_who;

/*
 * Renders stored records (see lv_view_document) into one PDF with
 * libharu: one document after another, each starting on a new page, with
 * the NI numbers masked.  A pack (pack = true) starts with a contents
 * page.  *out is malloc'd (free it).  0 on success, -1 on failure.
 */
int lv_pdf_render(const lv_pdf_who *who, const json_t *const *docs, size_t n, bool pack,
                  unsigned char **out, size_t *len);

#endif
