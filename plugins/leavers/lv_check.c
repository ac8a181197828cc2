/*
 * lv_check.c - the rules of a pay document that its JSON Schema cannot
 * say: which period format each kind has, that a payslip adds up, that
 * tax does not exceed pay, and the NI prefixes HMRC never issues.
 *
 * Runs only on documents whose envelope and data passed their schemas,
 * so every field read here has its type; optional ones may be absent.
 */
#include "lv.h"

#include <stdio.h>
#include <string.h>

typedef struct checker {
    const char *base;
    json_t *errors;
    lv_error_fn add;
    bool ok;
} checker;

static void fail(checker *c, const char *rel, const char *message)
{
    char ptr[256];
    snprintf(ptr, sizeof(ptr), "%s%s", c->base, rel);
    c->add(c->errors, ptr, message);
    c->ok = false;
}

static int64_t amount(const json_t *data, const char *name)
{
    return json_integer_value(json_object_get(data, name));
}

static void check_ni(checker *c, const json_t *data)
{
    if (!lv_ni_valid(json_string_value(json_object_get(data, "ni_number"))))
        fail(c, "/data/ni_number", "is not a National Insurance number HMRC issues");
}

/* gross = sum of payments; net = gross - sum of deductions. */
static void check_payslip(checker *c, const json_t *data)
{
    char msg[128], money[32];
    int64_t gross = amount(data, "gross");
    int64_t paid = lv_lines_sum(json_object_get(data, "payments"));
    int64_t deducted = lv_lines_sum(json_object_get(data, "deductions"));
    if (paid != gross) {
        lv_money_format(money, sizeof(money), paid, false);
        snprintf(msg, sizeof(msg), "must equal the sum of the payments (%lld pence, %s)",
                 (long long)paid, money);
        fail(c, "/data/gross", msg);
    }
    if (gross - deducted != amount(data, "net")) {
        lv_money_format(money, sizeof(money), gross - deducted, false);
        snprintf(msg, sizeof(msg), "must equal gross less the deductions (%lld pence, %s)",
                 (long long)(gross - deducted), money);
        fail(c, "/data/net", msg);
    }
    const json_t *ytd_gross = json_object_get(json_object_get(data, "ytd"), "gross");
    if (ytd_gross && json_integer_value(ytd_gross) < gross)
        fail(c, "/data/ytd/gross", "must be at least this period's gross pay");
    check_ni(c, data);
}

static void check_p45(checker *c, const json_t *doc, const json_t *data, char *period_out)
{
    char year[LV_PERIOD_LEN];
    if (!lv_tax_year_of(year, json_string_value(json_object_get(data, "leaving_date")))) {
        fail(c, "/data/leaving_date", "must be a date (YYYY-MM-DD)");
        return;
    }
    const char *period = json_string_value(json_object_get(doc, "period"));
    if (period && strcmp(period, year) != 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "must be the tax year of the leaving date (%s) or left out",
                 year);
        fail(c, "/period", msg);
    }
    if (amount(data, "tax_to_date") > amount(data, "pay_to_date"))
        fail(c, "/data/tax_to_date", "must not exceed pay_to_date");
    check_ni(c, data);
    memcpy(period_out, year, LV_PERIOD_LEN);
}

static void check_p60(checker *c, const json_t *data)
{
    if (amount(data, "tax") > amount(data, "pay"))
        fail(c, "/data/tax", "must not exceed pay");
    check_ni(c, data);
}

bool lv_document_check(const json_t *doc, const char *base, char period_out[LV_PERIOD_LEN],
                       json_t *errors, lv_error_fn add)
{
    checker c = {base ? base : "", errors, add, true};
    enum lv_kind kind = lv_kind_from_name(json_string_value(json_object_get(doc, "kind")));
    const json_t *data = json_object_get(doc, "data");
    const char *period = json_string_value(json_object_get(doc, "period"));
    period_out[0] = '\0';

    switch (kind) {
    case LV_PAYSLIP:
        if (!period)
            fail(&c, "/period", "is required for a payslip (the pay month, YYYY-MM)");
        else if (!lv_month_valid(period))
            fail(&c, "/period", "must be a pay month YYYY-MM (month 01 to 12)");
        else
            memcpy(period_out, period, LV_PERIOD_LEN);
        check_payslip(&c, data);
        break;
    case LV_P60:
        if (!period)
            fail(&c, "/period", "is required for a P60 (the tax year, YYYY-YY)");
        else if (!lv_tax_year_valid(period))
            fail(&c, "/period", "must be a tax year YYYY-YY of consecutive years (2025-26)");
        else
            memcpy(period_out, period, LV_PERIOD_LEN);
        check_p60(&c, data);
        break;
    case LV_P45:
        check_p45(&c, doc, data, period_out);
        break;
    default:
        fail(&c, "/kind", "must be one of payslip, p45, p60");
    }
    return c.ok;
}
