/*
 * lv_demo.c - pay documents for the demo organisation: every employee and
 * leaver gets up to a year of monthly payslips (paid on the 25th, none
 * before their start date, none after a leaver's termination month), a
 * P60 for the last complete tax year, and each leaver a P45, so the demo
 * page has something real to show and download.
 *
 * The figures are realistic and add up: basic pay and (for clinical
 * groups) an unsocial hours enhancement make the gross; NHS pension
 * (9.8%, before tax), income tax (1257L, 20% and 40%) and employee NI
 * (8%) are deducted.
 */
#include "lv_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_MONTHS   12
#define DEMO_PEOPLE   64
#define MONTHLY_PA    104750 /* pence: 12,570 / 12 */
#define MONTHLY_BASIC 314167 /* pence: 37,700 / 12, the basic-rate band */
#define DEMO_PAY_DAY  25

typedef struct demo_person {
    char username[72];
    char start[11], termination[11];
    int64_t annual; /* pence */
    bool clinical;
} demo_person;

typedef struct demo_month {
    int64_t basic, enhancement, gross, pension, tax, ni, net;
} demo_month;

typedef struct demo_write {
    portico_ctx *ctx;
    demo_person people[DEMO_PEOPLE];
    size_t n;
    int32_t today;
    char now[21];
    int64_t loaded;
} demo_write;

static const struct {
    const char *group;
    int64_t annual;
    bool clinical;
} salaries[] = {
    {"doctors", 6000000, true},
    {"qualified_nurses", 3700000, true},
    {"other_clinical", 4000000, true},
    {"support_to_clinical", 2600000, false},
};

static int collect_person(const json_t *person, void *arg)
{
    demo_write *w = arg;
    const char *status = json_string_value(json_object_get(person, "status"));
    if (w->n >= DEMO_PEOPLE || !status ||
        (strcmp(status, "employee") != 0 && strcmp(status, "leaver") != 0))
        return PORTICO_OK;
    demo_person *p = &w->people[w->n++];
    const char *group = json_string_value(json_object_get(person, "staff_group"));
    const char *start = json_string_value(json_object_get(person, "start_date"));
    const char *end = json_string_value(json_object_get(person, "termination_date"));
    snprintf(p->username, sizeof(p->username), "%s",
             json_string_value(json_object_get(person, "username")));
    snprintf(p->start, sizeof(p->start), "%s", start ? start : "1970-01-01");
    snprintf(p->termination, sizeof(p->termination), "%s", end ? end : "");
    p->annual = 3000000;
    p->clinical = false;
    for (size_t i = 0; group && i < sizeof(salaries) / sizeof(salaries[0]); i++) {
        if (strcmp(group, salaries[i].group) == 0) {
            p->annual = salaries[i].annual;
            p->clinical = salaries[i].clinical;
        }
    }
    return PORTICO_OK;
}

static demo_month month_figures(const demo_person *p)
{
    demo_month m;
    m.gross = p->annual / 12;
    m.enhancement = p->clinical ? m.gross * 8 / 100 : 0;
    m.basic = m.gross - m.enhancement;
    m.pension = m.gross * 98 / 1000;
    int64_t taxable = m.gross - m.pension - MONTHLY_PA;
    if (taxable < 0)
        taxable = 0;
    int64_t higher = taxable > MONTHLY_BASIC ? taxable - MONTHLY_BASIC : 0;
    m.tax = (taxable - higher) * 20 / 100 + higher * 40 / 100;
    m.ni = m.gross > MONTHLY_PA ? (m.gross - MONTHLY_PA) * 8 / 100 : 0;
    m.net = m.gross - m.pension - m.tax - m.ni;
    return m;
}

/* A valid, made-up NI number from the username ("JX123456A"). */
static void demo_ni(char out[12], const char *username)
{
    unsigned long h = 5381;
    for (const char *s = username; *s; s++)
        h = h * 33 + (unsigned char)*s;
    snprintf(out, 12, "JX%06lu%c", h % 1000000, "ABCD"[(h / 1000000) % 4]);
}

static json_t *line(const char *description, int64_t amount)
{
    return json_pack("{s:s, s:I}", "description", description, "amount", (json_int_t)amount);
}

static json_t *payslip_data(const demo_person *p, const demo_month *m, const char *pay_date,
                            int months_in_year)
{
    char ni[12], ref[24];
    json_int_t k = months_in_year;
    demo_ni(ni, p->username);
    snprintf(ref, sizeof(ref), "NHSPS-%.6s", ni + 2);
    json_t *payments = json_pack("[o]", line("Basic pay", m->basic));
    if (payments && m->enhancement)
        json_array_append_new(payments, line("Unsocial hours enhancement", m->enhancement));
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:[o,o,o], s:{s:I, s:I, s:I, s:I, "
                     "s:I, s:I}}",
                     "pay_date", pay_date, "tax_code", "1257L", "ni_number", ni, "pension_ref", ref,
                     "gross", (json_int_t)m->gross, "net", (json_int_t)m->net, "payments", payments,
                     "deductions", line("Income tax", m->tax), line("National Insurance", m->ni),
                     line("NHS Pension", m->pension), "ytd", "gross", m->gross * k, "taxable_pay",
                     (m->gross - m->pension) * k, "tax", m->tax * k, "ni", m->ni * k, "pension",
                     m->pension * k, "net", m->net * k);
}

static int put_doc(demo_write *w, portico_txn *txn, const char *user, enum lv_kind kind,
                   const char *period, json_t *data)
{
    json_t *rec = data ? lv_record_new(user, kind, period, data, w->now, "demo", 1) : NULL;
    json_decref(data);
    int rc = rec ? lv_store_put(w->ctx, txn, rec) : PORTICO_ENOMEM;
    json_decref(rec);
    w->loaded += rc == PORTICO_OK;
    return rc;
}

/* Months since April of the tax year holding the pay date, this one included. */
static int months_into_tax_year(int y, int m)
{
    (void)y;
    return m >= 4 ? m - 3 : m + 9;
}

static int person_docs(demo_write *w, portico_txn *txn, const demo_person *p)
{
    char today[11], date[32], period[32], year[LV_PERIOD_LEN];
    demo_month fig = month_figures(p);
    w->ctx->host->date_format(today, w->today);
    const char *last =
        p->termination[0] && strcmp(p->termination, today) < 0 ? p->termination : today;
    int y = atoi(last), m = atoi(last + 5);
    if (atoi(last + 8) < DEMO_PAY_DAY && !(p->termination[0] && last == p->termination))
        m--;
    int rc = PORTICO_OK;
    for (int i = 0; rc == PORTICO_OK && i < DEMO_MONTHS; i++, m--) {
        if (m < 1) {
            m = 12;
            y--;
        }
        snprintf(date, sizeof(date), "%04d-%02d-%02d", y, m, DEMO_PAY_DAY);
        if (strcmp(date, p->start) < 0)
            break;
        snprintf(period, sizeof(period), "%04d-%02d", y, m);
        rc = put_doc(w, txn, p->username, LV_PAYSLIP, period,
                     payslip_data(p, &fig, date, months_into_tax_year(y, m)));
    }
    /* The P60 of the last complete tax year, for twelve months' pay. */
    char ni[12];
    demo_ni(ni, p->username);
    if (rc == PORTICO_OK && lv_tax_year_of(year, last)) {
        int start = atoi(year) - 1;
        snprintf(period, sizeof(period), "%04d-%02d", start, (start + 1) % 100);
        snprintf(date, sizeof(date), "%04d-04-06", start);
        if (strcmp(p->start, date) <= 0)
            rc = put_doc(w, txn, p->username, LV_P60, period,
                         json_pack("{s:I, s:I, s:s, s:s, s:I, s:[], s:I}", "pay",
                                   (json_int_t)(fig.gross - fig.pension) * 12, "tax",
                                   (json_int_t)fig.tax * 12, "final_tax_code", "1257L", "ni_number",
                                   ni, "ni_contributions", (json_int_t)fig.ni * 12,
                                   "statutory_payments", "student_loan_deductions", (json_int_t)0));
    }
    if (rc == PORTICO_OK && p->termination[0] && strcmp(p->termination, today) < 0 &&
        lv_tax_year_of(year, p->termination)) {
        int k = months_into_tax_year(atoi(p->termination), atoi(p->termination + 5));
        rc =
            put_doc(w, txn, p->username, LV_P45, year,
                    json_pack("{s:s, s:s, s:b, s:I, s:I, s:b, s:s}", "leaving_date", p->termination,
                              "tax_code", "1257L", "week1_month1", 0, "pay_to_date",
                              (json_int_t)(fig.gross - fig.pension) * k, "tax_to_date",
                              (json_int_t)fig.tax * k, "student_loan", 0, "ni_number", ni));
    }
    return rc;
}

static int demo_txn(portico_txn *txn, void *arg)
{
    demo_write *w = arg;
    w->n = 0;
    w->loaded = 0;
    int rc = w->ctx->host->people_each(txn, collect_person, w);
    for (size_t i = 0; rc == PORTICO_OK && i < w->n; i++)
        rc = person_docs(w, txn, &w->people[i]);
    if (rc == PORTICO_OK) {
        json_t *after = json_pack("{s:I}", "documents", (json_int_t)w->loaded);
        rc = w->ctx->host->audit(txn, "demo.load", NULL, NULL, after);
        json_decref(after);
    }
    return rc;
}

int lv_demo(portico_ctx *ctx, json_t **config)
{
    demo_write *w = calloc(1, sizeof(*w));
    *config = NULL;
    if (!w)
        return PORTICO_ENOMEM;
    w->ctx = ctx;
    w->today = ctx->host->today(ctx);
    ctx->host->time_format(w->now, ctx->host->now_ms() / 1000);
    int rc = ctx->host->write(ctx, demo_txn, w);
    if (rc == PORTICO_OK)
        ctx->host->log(ctx, PORTICO_LOG_INFO, "demo: %lld pay documents", (long long)w->loaded);
    free(w);
    if (rc == PORTICO_OK)
        *config = json_pack("{s:b}", "show_net_pay", 1);
    return rc;
}
