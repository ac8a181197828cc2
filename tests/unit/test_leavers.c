/*
 * test_leavers.c - the leavers portlet's pure logic: periods and tax
 * years, NI numbers and masking, money, the arithmetic of a payslip and
 * the period rules of each kind, the read-back views, WinAnsi text and
 * the PDF (parsed back with pdftotext when poppler-utils is installed).
 */
#include "check.h"
#include "lv.h"

#include <string.h>
#include <unistd.h>

static void add_error(json_t *errors, const char *pointer, const char *message)
{
    json_array_append_new(errors, json_pack("{s:s, s:s}", "pointer", pointer, "message", message));
}

static bool has_pointer(const json_t *errors, const char *pointer)
{
    size_t i;
    const json_t *e;
    json_array_foreach((json_t *)errors, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "pointer")), pointer) == 0)
            return true;
    }
    return false;
}

static json_t *payslip(const char *period, json_int_t gross, json_int_t net)
{
    return json_pack("{s:s, s:s, s:s?, s:{s:s, s:s, s:s, s:s, s:I, s:I, s:[{s:s, s:I}], "
                     "s:[{s:s, s:I}, {s:s, s:I}], s:{s:I}}}",
                     "username", "ann", "kind", "payslip", "period", period, "data", "pay_date",
                     "2026-10-25", "tax_code", "1257L", "ni_number", "AB123456C", "pension_ref",
                     "NHSPS-1", "gross", gross, "net", net, "payments", "description", "Basic pay",
                     "amount", (json_int_t)300000, "deductions", "description", "Income tax",
                     "amount", (json_int_t)40000, "description", "National Insurance", "amount",
                     (json_int_t)20000, "ytd", "gross", (json_int_t)2100000);
}

static void test_periods(void)
{
    CHECK(lv_month_valid("2026-10"));
    CHECK(lv_month_valid("2026-01"));
    CHECK(!lv_month_valid("2026-13"));
    CHECK(!lv_month_valid("2026-00"));
    CHECK(!lv_month_valid("2026-1"));
    CHECK(!lv_month_valid("26-10"));
    CHECK(!lv_month_valid("2026-10x"));
    CHECK(lv_tax_year_valid("2025-26"));
    CHECK(lv_tax_year_valid("1999-00"));
    CHECK(!lv_tax_year_valid("2025-27"));
    CHECK(!lv_tax_year_valid("2025-25"));
    CHECK(!lv_tax_year_valid("2025-2026"));

    char y[LV_PERIOD_LEN];
    CHECK(lv_tax_year_of(y, "2026-04-05") && strcmp(y, "2025-26") == 0);
    CHECK(lv_tax_year_of(y, "2026-04-06") && strcmp(y, "2026-27") == 0);
    CHECK(lv_tax_year_of(y, "2027-01-10") && strcmp(y, "2026-27") == 0);
    CHECK(lv_tax_year_of(y, "2099-12-31") && strcmp(y, "2099-00") == 0);
    CHECK(!lv_tax_year_of(y, "2026-4-6"));

    char label[64];
    lv_period_label(label, sizeof(label), LV_PAYSLIP, "2026-10");
    CHECK(strcmp(label, "October 2026") == 0);
    lv_period_label(label, sizeof(label), LV_P60, "2025-26");
    CHECK(strcmp(label, "Tax year 2025-26") == 0);
}

static void test_ni(void)
{
    CHECK(lv_ni_valid("AB123456C"));
    CHECK(lv_ni_valid("JX000000A"));
    CHECK(!lv_ni_valid("DA123456A")); /* D never first */
    CHECK(!lv_ni_valid("AO123456A")); /* O never second */
    CHECK(!lv_ni_valid("QQ123456A"));
    CHECK(!lv_ni_valid("GB123456A")); /* never issued */
    CHECK(!lv_ni_valid("NK123456A"));
    CHECK(!lv_ni_valid("AB123456E")); /* suffix A-D */
    CHECK(!lv_ni_valid("ab123456c"));
    CHECK(!lv_ni_valid("AB12345C"));
    CHECK(!lv_ni_valid("AB1234567C"));
    CHECK(!lv_ni_valid(NULL));

    char m[LV_NI_LEN];
    lv_ni_mask(m, "AB123456C");
    CHECK_MSG(strcmp(m, "******56C") == 0, "mask %s", m);
    lv_ni_mask(m, "ABC");
    CHECK(strcmp(m, "***") == 0);
    lv_ni_mask(m, NULL);
    CHECK(strcmp(m, "") == 0);
}

static void test_money(void)
{
    char b[40];
    lv_money_format(b, sizeof(b), 123456, false);
    CHECK_MSG(strcmp(b, "\xC2\xA3"
                        "1,234.56") == 0,
              "%s", b);
    lv_money_format(b, sizeof(b), 5, false);
    CHECK(strcmp(b, "\xC2\xA3"
                    "0.05") == 0);
    lv_money_format(b, sizeof(b), LV_AMOUNT_MAX, true);
    CHECK(strcmp(b, "\xA3"
                    "1,000,000.00") == 0);
    lv_money_format(b, sizeof(b), -1999, false);
    CHECK(strcmp(b, "-\xC2\xA3"
                    "19.99") == 0);
    json_t *lines = json_pack("[{s:I}, {s:I}]", "amount", (json_int_t)5, "amount", (json_int_t)7);
    CHECK(lv_lines_sum(lines) == 12);
    json_decref(lines);
}

static void test_schemas_parse(void)
{
    const char *all[] = {lv_schema_document,     lv_schema_bulk,
                         lv_schema_config,       lv_schema_data[LV_PAYSLIP],
                         lv_schema_data[LV_P45], lv_schema_data[LV_P60]};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        json_error_t err;
        json_t *s = json_loads(all[i], 0, &err);
        CHECK_MSG(s != NULL, "schema %zu: %s", i, err.text);
        json_decref(s);
    }
    /* the pay run's items are the single document's schema */
    json_t *one = json_loads(lv_schema_document, 0, NULL);
    json_t *bulk = json_loads(lv_schema_bulk, 0, NULL);
    json_t *items =
        json_object_get(json_object_get(json_object_get(bulk, "properties"), "documents"), "items");
    CHECK(json_equal(one, items));
    json_decref(one);
    json_decref(bulk);
}

static void test_checks(void)
{
    char period[LV_PERIOD_LEN];
    json_t *errors = json_array();

    json_t *good = payslip("2026-10", 300000, 240000);
    CHECK(lv_document_check(good, "", period, errors, add_error));
    CHECK(strcmp(period, "2026-10") == 0);
    CHECK(json_array_size(errors) == 0);

    json_t *bad = payslip("2026-10", 300001, 240000);
    CHECK(!lv_document_check(bad, "/documents/3", period, errors, add_error));
    CHECK(has_pointer(errors, "/documents/3/data/gross"));
    CHECK(has_pointer(errors, "/documents/3/data/net"));
    json_array_clear(errors);
    json_decref(bad);

    bad = payslip("2026-10", 300000, 240001);
    CHECK(!lv_document_check(bad, "", period, errors, add_error));
    CHECK(has_pointer(errors, "/data/net") && !has_pointer(errors, "/data/gross"));
    json_array_clear(errors);
    json_decref(bad);

    bad = payslip(NULL, 300000, 240000);
    CHECK(!lv_document_check(bad, "", period, errors, add_error));
    CHECK(has_pointer(errors, "/period"));
    json_array_clear(errors);
    json_decref(bad);

    bad = payslip("2026-13", 300000, 240000);
    CHECK(!lv_document_check(bad, "", period, errors, add_error));
    CHECK(has_pointer(errors, "/period"));
    json_array_clear(errors);
    json_decref(bad);

    /* ytd gross below this period's gross */
    bad = payslip("2026-10", 300000, 240000);
    json_object_set_new(json_object_get(json_object_get(bad, "data"), "ytd"), "gross",
                        json_integer(1));
    CHECK(!lv_document_check(bad, "", period, errors, add_error));
    CHECK(has_pointer(errors, "/data/ytd/gross"));
    json_array_clear(errors);
    json_decref(bad);

    /* an NI prefix of the right shape that HMRC never issues */
    bad = payslip("2026-10", 300000, 240000);
    json_object_set_new(json_object_get(bad, "data"), "ni_number", json_string("GB123456A"));
    CHECK(!lv_document_check(bad, "", period, errors, add_error));
    CHECK(has_pointer(errors, "/data/ni_number"));
    json_array_clear(errors);
    json_decref(bad);

    json_t *p60 =
        json_pack("{s:s, s:s, s:s, s:{s:I, s:I, s:s, s:s}}", "username", "ann", "kind", "p60",
                  "period", "2025-26", "data", "pay", (json_int_t)3000000, "tax",
                  (json_int_t)400000, "final_tax_code", "1257L", "ni_number", "AB123456C");
    CHECK(lv_document_check(p60, "", period, errors, add_error));
    CHECK(strcmp(period, "2025-26") == 0);
    json_object_set_new(p60, "period", json_string("2025-27"));
    CHECK(!lv_document_check(p60, "", period, errors, add_error));
    CHECK(has_pointer(errors, "/period"));
    json_array_clear(errors);
    json_object_set_new(p60, "period", json_string("2025-26"));
    json_object_set_new(json_object_get(p60, "data"), "tax", json_integer(3000001));
    CHECK(!lv_document_check(p60, "", period, errors, add_error));
    CHECK(has_pointer(errors, "/data/tax"));
    json_array_clear(errors);
    json_decref(p60);

    json_t *p45 =
        json_pack("{s:s, s:s, s:{s:s, s:s, s:I, s:I, s:s}}", "username", "ann", "kind", "p45",
                  "data", "leaving_date", "2026-11-10", "tax_code", "1257L", "pay_to_date",
                  (json_int_t)1500000, "tax_to_date", (json_int_t)200000, "ni_number", "AB123456C");
    CHECK(lv_document_check(p45, "", period, errors, add_error));
    CHECK_MSG(strcmp(period, "2026-27") == 0, "p45 period %s", period);
    json_object_set_new(p45, "period", json_string("2025-26"));
    CHECK(!lv_document_check(p45, "", period, errors, add_error));
    CHECK(has_pointer(errors, "/period"));
    json_array_clear(errors);
    json_decref(p45);

    json_decref(good);
    json_decref(errors);
}

static void test_views(void)
{
    json_t *doc = payslip("2026-10", 300000, 240000);
    json_object_set_new(doc, "loaded_at", json_string("2026-10-20T09:00:00Z"));
    json_object_set_new(doc, "revision", json_integer(4));
    json_t *v = lv_view_document(doc);
    const json_t *data = json_object_get(v, "data");
    CHECK(strcmp(json_string_value(json_object_get(data, "ni_number")), "******56C") == 0);
    CHECK(json_integer_value(json_object_get(data, "net")) == 240000);
    CHECK(!json_object_get(v, "revision"));
    /* the stored record keeps the whole number */
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(doc, "data"), "ni_number")),
                 "AB123456C") == 0);
    char *text = json_dumps(v, 0);
    CHECK(text && !strstr(text, "AB123456C"));
    free(text);
    json_decref(v);

    json_t *item = lv_view_list_item(doc);
    CHECK(strcmp(json_string_value(json_object_get(item, "period")), "2026-10") == 0);
    CHECK(json_integer_value(json_object_get(item, "net")) == 240000);
    CHECK(strcmp(json_string_value(json_object_get(item, "pay_date")), "2026-10-25") == 0);
    CHECK(!json_object_get(item, "payments") && !json_object_get(item, "ni_number"));
    json_decref(item);
    json_decref(doc);
}

static void test_winansi(void)
{
    char b[64];
    CHECK(strcmp(lv_text_winansi(b, sizeof(b), "Zo\xC3\xAB"), "Zo\xEB") == 0);
    CHECK(strcmp(lv_text_winansi(b, sizeof(b),
                                 "\xE2\x82\xAC"
                                 "5"),
                 "\x80"
                 "5") == 0);
    CHECK(strcmp(lv_text_winansi(b, sizeof(b), "\xE4\xB8\xAD"), "?") == 0);
    CHECK(strcmp(lv_text_winansi(b, sizeof(b), "a\tb\nc"), "a b c") == 0);
    CHECK(strcmp(lv_text_winansi(b, sizeof(b), "\xC3"), "?") == 0); /* truncated sequence */
    CHECK(strcmp(lv_text_winansi(b, 4, "abcdef"), "abc") == 0);
}

/* pdftotext's text of a PDF, or NULL when poppler-utils is absent. */
static char *pdf_text(const unsigned char *pdf, size_t len)
{
    if (access("/usr/bin/pdftotext", X_OK) != 0)
        return NULL;
    char path[] = "/tmp/test_leavers_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    bool ok = write(fd, pdf, len) == (ssize_t)len;
    close(fd);
    char cmd[128], *out = NULL;
    snprintf(cmd, sizeof(cmd), "/usr/bin/pdftotext -enc UTF-8 %s -", path);
    FILE *p = ok ? popen(cmd, "r") : NULL;
    if (p) {
        size_t cap = 1 << 20, n = 0;
        out = malloc(cap);
        if (out) {
            n = fread(out, 1, cap - 1, p);
            out[n] = '\0';
        }
        pclose(p);
    }
    unlink(path);
    return out;
}

static void test_pdf(void)
{
    json_t *doc = payslip("2026-10", 300000, 240000);
    lv_pdf_who who = {"Demo NHS Trust", "Zo\xC3\xAB Smith", "ann", "2026-11-30"};
    const json_t *one[] = {doc};
    unsigned char *pdf = NULL;
    size_t len = 0;
    CHECK(lv_pdf_render(&who, one, 1, false, &pdf, &len) == 0);
    CHECK(pdf && len > 100 && memcmp(pdf, "%PDF", 4) == 0);
    CHECK(pdf && !memmem(pdf, len, "AB123456C", 9));
    char *text = pdf ? pdf_text(pdf, len) : NULL;
    if (text) {
        CHECK_MSG(strstr(text, "******56C") != NULL, "no masked NI in:\n%s", text);
        CHECK(strstr(text, "AB123456C") == NULL);
        CHECK_MSG(strstr(text, "\xC2\xA3"
                               "2,400.00") != NULL,
                  "no net pay in:\n%s", text);
        CHECK(strstr(text, "Demo NHS Trust") != NULL);
        CHECK(strstr(text, "Zo\xC3\xAB Smith") != NULL);
        CHECK(strstr(text, "October 2026") != NULL);
        CHECK(strstr(text, "National Insurance") != NULL);
    }
    free(text);
    free(pdf);

    /* a pack with a payslip long enough to need a second page */
    json_t *payments = json_object_get(json_object_get(doc, "data"), "payments");
    json_array_clear(payments);
    for (int i = 0; i < LV_LINES_MAX; i++)
        json_array_append_new(payments, json_pack("{s:s, s:I}", "description",
                                                  "Overtime line with a long "
                                                  "description that must be "
                                                  "cut to fit the column",
                                                  "amount", (json_int_t)6000));
    json_t *p60 =
        json_pack("{s:s, s:s, s:{s:I, s:I, s:s, s:s}}", "kind", "p60", "period", "2025-26", "data",
                  "pay", (json_int_t)3000000, "tax", (json_int_t)400000, "final_tax_code", "1257L",
                  "ni_number", "AB123456C");
    const json_t *two[] = {p60, doc};
    CHECK(lv_pdf_render(&who, two, 2, true, &pdf, &len) == 0);
    CHECK(pdf && memcmp(pdf, "%PDF", 4) == 0);
    text = pdf ? pdf_text(pdf, len) : NULL;
    if (text) {
        CHECK(strstr(text, "Your pay documents") != NULL);
        CHECK(strstr(text, "Tax year 2025-26") != NULL);
        CHECK(strstr(text, "October 2026") != NULL);
        CHECK(strstr(text, "page 4") != NULL); /* contents, P60, payslip over two pages */
        CHECK(strstr(text, "AB123456C") == NULL);
    }
    free(text);
    free(pdf);

    /* nothing to render is still a PDF */
    CHECK(lv_pdf_render(&who, NULL, 0, true, &pdf, &len) == 0);
    CHECK(pdf && memcmp(pdf, "%PDF", 4) == 0);
    free(pdf);
    json_decref(p60);
    json_decref(doc);
}

int main(void)
{
    test_periods();
    test_ni();
    test_money();
    test_schemas_parse();
    test_checks();
    test_views();
    test_winansi();
    test_pdf();
    return check_finish("test_leavers");
}
