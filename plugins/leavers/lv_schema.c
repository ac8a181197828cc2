/*
 * lv_schema.c - the JSON Schemas (the host's subset) of the leavers
 * portlet's request bodies, data and config.
 *
 * The subset has no $ref, so the pay-run schema embeds the single
 * document's schema text through the same macro: the two can never drift
 * apart.  The envelope (username, kind, period, data as an object) is the
 * route's body_schema, checked by the host; the data of each kind is
 * checked by the portlet with host->schema_validate once the kind is
 * known, so every error still carries a pointer into the body.
 */
#include "lv.h"

/* Integer pence, 0 to GBP 1,000,000. */
#define LV_S_AMOUNT "{\"type\":\"integer\",\"minimum\":0,\"maximum\":100000000}"
#define LV_S_LINE                                                                                  \
    "{\"type\":\"object\",\"additionalProperties\":false,"                                         \
    "\"required\":[\"description\",\"amount\"],\"properties\":{"                                   \
    "\"description\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":80},"                      \
    "\"amount\":" LV_S_AMOUNT "}}"
#define LV_S_LINES(min)                                                                            \
    "{\"type\":\"array\",\"minItems\":" #min ",\"maxItems\":50,\"items\":" LV_S_LINE "}"
/* Shape only; lv_ni_valid() adds the prefixes HMRC never issues. */
#define LV_S_NI                                                                                    \
    "{\"type\":\"string\",\"pattern\":\"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$\"}"
/* 1257L, BR, D0, D1, NT, 0T, K475, S1257L, C1257L, SD2 ... with an
 * optional W1, M1 or X (emergency basis), with or without a space. */
#define LV_S_TAX_CODE                                                                              \
    "{\"type\":\"string\",\"maxLength\":12,\"pattern\":"                                           \
    "\"^(SD[0-3]|C?D[01]|[SC]?(BR|NT|K[0-9]{1,4}|[0-9]{1,4}[LMNT]))( ?(W1|M1|X))?$\"}"
#define LV_S_DATE "{\"type\":\"string\",\"format\":\"date\"}"

#define LV_S_DOCUMENT                                                                              \
    "{\"type\":\"object\",\"additionalProperties\":false,"                                         \
    "\"required\":[\"username\",\"kind\",\"data\"],\"properties\":{"                               \
    "\"username\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9][a-z0-9._@-]{0,63}$\"},"             \
    "\"kind\":{\"type\":\"string\",\"enum\":[\"payslip\",\"p45\",\"p60\"]},"                       \
    "\"period\":{\"type\":\"string\",\"pattern\":\"^[0-9]{4}-[0-9]{2}$\"},"                        \
    "\"data\":{\"type\":\"object\"}}}"

const char lv_schema_document[] = LV_S_DOCUMENT;

const char lv_schema_bulk[] = "{\"type\":\"object\",\"additionalProperties\":false,"
                              "\"required\":[\"documents\"],\"properties\":{"
                              "\"documents\":{\"type\":\"array\",\"minItems\":1,"
                              "\"maxItems\":50000,\"items\":" LV_S_DOCUMENT "}}}";

static const char schema_payslip[] =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"pay_date\",\"tax_code\",\"ni_number\",\"gross\",\"net\",\"payments\","
    "\"deductions\"],\"properties\":{"
    "\"pay_date\":" LV_S_DATE ","
    "\"tax_code\":" LV_S_TAX_CODE ","
    "\"ni_number\":" LV_S_NI ","
    "\"pension_ref\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":40},"
    "\"gross\":" LV_S_AMOUNT ","
    "\"net\":" LV_S_AMOUNT ","
    "\"payments\":" LV_S_LINES(
        1) ","
           "\"deductions\":" LV_S_LINES(
               0) ","
                  "\"ytd\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
                  "\"gross\":" LV_S_AMOUNT ",\"taxable_pay\":" LV_S_AMOUNT ",\"tax\":" LV_S_AMOUNT
                  ",\"ni\":" LV_S_AMOUNT ",\"pension\":" LV_S_AMOUNT
                  ",\"student_loan\":" LV_S_AMOUNT ",\"net\":" LV_S_AMOUNT "}}}}";

static const char schema_p45[] =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"leaving_date\",\"tax_code\",\"pay_to_date\",\"tax_to_date\",\"ni_number\"],"
    "\"properties\":{"
    "\"leaving_date\":" LV_S_DATE ","
    "\"tax_code\":" LV_S_TAX_CODE ","
    "\"week1_month1\":{\"type\":\"boolean\"},"
    "\"pay_to_date\":" LV_S_AMOUNT ","
    "\"tax_to_date\":" LV_S_AMOUNT ","
    "\"student_loan\":{\"type\":\"boolean\"},"
    "\"ni_number\":" LV_S_NI "}}";

static const char schema_p60[] =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"pay\",\"tax\",\"final_tax_code\",\"ni_number\"],\"properties\":{"
    "\"pay\":" LV_S_AMOUNT ","
    "\"tax\":" LV_S_AMOUNT ","
    "\"final_tax_code\":" LV_S_TAX_CODE ","
    "\"ni_number\":" LV_S_NI ","
    "\"ni_contributions\":" LV_S_AMOUNT ","
    "\"statutory_payments\":" LV_S_LINES(0) ","
                                            "\"student_loan_deductions\":" LV_S_AMOUNT "}}";

const char *const lv_schema_data[LV_KIND_COUNT] = {schema_payslip, schema_p45, schema_p60};

/* show_net_pay: whether the employee dashboard card shows the latest net
 * pay (some organisations show dashboards on shared screens). */
const char lv_schema_config[] = "{\"type\":\"object\",\"additionalProperties\":false,"
                                "\"properties\":{"
                                "\"show_net_pay\":{\"type\":\"boolean\",\"default\":true}}}";
