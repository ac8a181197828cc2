/*
 * lv_pdf.c - pay documents as a PDF a person would keep, made with
 * libharu: the organisation, the person, the period, every line and the
 * totals, and the NI number masked as everywhere else.
 *
 * The standard Helvetica fonts with WinAnsiEncoding need no embedding, so
 * a payslip is a few kilobytes and renders in well under a millisecond.
 * Text from documents is UTF-8 and goes through lv_text_winansi() first.
 */
#include "lv.h"

#include <hpdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_W    595.0f /* A4 in points */
#define PAGE_H    842.0f
#define MARGIN_L  56.0f
#define MARGIN_R  539.0f /* right edge of the amounts column */
#define TOP       782.0f
#define BOTTOM    70.0f
#define ROW       15.0f
#define LABEL_MAX 360.0f /* widest a line's description may print */

typedef struct pdfw {
    HPDF_Doc pdf;
    HPDF_Page page;
    HPDF_Font regular, bold;
    float y;
    const lv_pdf_who *who;
    char title[128]; /* the current document's title, repeated on continuation pages */
    int pages;
    HPDF_STATUS error;
} pdfw;

static void on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user_data)
{
    pdfw *w = user_data;
    (void)detail_no;
    if (w->error == HPDF_OK)
        w->error = error_no;
}

/* Draws WinAnsi text (already converted) at x, y. */
static void draw(pdfw *w, HPDF_Font font, float size, float x, float y, const char *text)
{
    HPDF_Page_BeginText(w->page);
    HPDF_Page_SetFontAndSize(w->page, font, size);
    HPDF_Page_TextOut(w->page, x, y, text);
    HPDF_Page_EndText(w->page);
}

static float width_of(pdfw *w, HPDF_Font font, float size, const char *text)
{
    HPDF_Page_SetFontAndSize(w->page, font, size);
    return HPDF_Page_TextWidth(w->page, text);
}

static void draw_right(pdfw *w, HPDF_Font font, float size, float right, float y, const char *text)
{
    draw(w, font, size, right - width_of(w, font, size, text), y, text);
}

/* UTF-8 text converted and, if wider than max, cut with "..." to fit. */
static void fit(pdfw *w, HPDF_Font font, float size, char *buf, size_t cap, const char *utf8,
                float max)
{
    lv_text_winansi(buf, cap, utf8);
    size_t n = strlen(buf);
    if (width_of(w, font, size, buf) <= max)
        return;
    while (n > 0 && cap > 4) {
        n--;
        if (n + 4 > cap)
            continue;
        memcpy(buf + n, "...", 4);
        if (width_of(w, font, size, buf) <= max)
            return;
    }
}

static void rule(pdfw *w, float y)
{
    HPDF_Page_SetLineWidth(w->page, 0.5f);
    HPDF_Page_MoveTo(w->page, MARGIN_L, y);
    HPDF_Page_LineTo(w->page, MARGIN_R, y);
    HPDF_Page_Stroke(w->page);
}

/* A page with the organisation and document title at the top and the
 * person at the bottom, so every printed page says whose it is. */
static void page_new(pdfw *w)
{
    char a[160], b[200];
    w->page = HPDF_AddPage(w->pdf);
    w->pages++;
    HPDF_Page_SetSize(w->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    fit(w, w->bold, 15, a, sizeof(a), w->who->org_name, MARGIN_R - MARGIN_L);
    draw(w, w->bold, 15, MARGIN_L, TOP, a);
    draw(w, w->regular, 12, MARGIN_L, TOP - 20, w->title);
    snprintf(b, sizeof(b), "%s (%s)", w->who->person_name ? w->who->person_name : "",
             w->who->username ? w->who->username : "");
    fit(w, w->bold, 11, a, sizeof(a), b, 240);
    draw_right(w, w->bold, 11, MARGIN_R, TOP - 20, a);
    rule(w, TOP - 30);
    fit(w, w->regular, 8, a, sizeof(a), b, 300);
    draw(w, w->regular, 8, MARGIN_L, 40, a);
    snprintf(b, sizeof(b), "Generated %s by Portico - page %d",
             w->who->generated_on ? w->who->generated_on : "", w->pages);
    draw_right(w, w->regular, 8, MARGIN_R, 40, b);
    w->y = TOP - 56;
}

static void need(pdfw *w, float height)
{
    if (w->y - height < BOTTOM)
        page_new(w);
}

static void heading(pdfw *w, const char *text)
{
    need(w, 3 * ROW);
    w->y -= 6;
    draw(w, w->bold, 11, MARGIN_L, w->y, text);
    w->y -= 4;
    rule(w, w->y);
    w->y -= ROW;
}

/* A label (UTF-8) on the left and a value (UTF-8) on the right. */
static void row(pdfw *w, bool strong, const char *label, const char *value)
{
    char l[256], v[256];
    HPDF_Font f = strong ? w->bold : w->regular;
    need(w, ROW);
    fit(w, f, 10, l, sizeof(l), label, LABEL_MAX);
    fit(w, f, 10, v, sizeof(v), value, MARGIN_R - MARGIN_L - LABEL_MAX - 10);
    draw(w, f, 10, MARGIN_L + 8, w->y, l);
    draw_right(w, f, 10, MARGIN_R, w->y, v);
    w->y -= ROW;
}

static void row_money(pdfw *w, bool strong, const char *label, int64_t pence)
{
    char m[40], u[48];
    lv_money_format(m, sizeof(m), pence, false);
    snprintf(u, sizeof(u), "%s", m);
    row(w, strong, label, u);
}

static void row_field_money(pdfw *w, const json_t *data, const char *field, const char *label)
{
    const json_t *v = json_object_get(data, field);
    if (json_is_integer(v))
        row_money(w, false, label, json_integer_value(v));
}

static void row_ni(pdfw *w, const json_t *data)
{
    char masked[LV_NI_LEN];
    lv_ni_mask(masked, json_string_value(json_object_get(data, "ni_number")));
    row(w, false, "National Insurance number", masked);
}

static void row_str(pdfw *w, const json_t *data, const char *field, const char *label)
{
    const char *s = json_string_value(json_object_get(data, field));
    if (s)
        row(w, false, label, s);
}

static void row_yes_no(pdfw *w, const json_t *data, const char *field, const char *label)
{
    row(w, false, label, json_is_true(json_object_get(data, field)) ? "Yes" : "No");
}

static void lines(pdfw *w, const json_t *list)
{
    size_t i;
    const json_t *line;
    json_array_foreach((json_t *)list, i, line)
        row_money(w, false, json_string_value(json_object_get(line, "description")),
                  json_integer_value(json_object_get(line, "amount")));
}

static void render_payslip(pdfw *w, const json_t *data)
{
    static const char *const ytd[][2] = {{"gross", "Gross pay"}, {"taxable_pay", "Taxable pay"},
                                         {"tax", "Income tax"},  {"ni", "National Insurance"},
                                         {"pension", "Pension"}, {"student_loan", "Student loan"},
                                         {"net", "Net pay"}};
    heading(w, "Details");
    row_str(w, data, "pay_date", "Pay date");
    row_str(w, data, "tax_code", "Tax code");
    row_ni(w, data);
    row_str(w, data, "pension_ref", "Pension reference");
    heading(w, "Payments");
    lines(w, json_object_get(data, "payments"));
    row_money(w, true, "Gross pay", json_integer_value(json_object_get(data, "gross")));
    heading(w, "Deductions");
    const json_t *deductions = json_object_get(data, "deductions");
    lines(w, deductions);
    row_money(w, true, "Total deductions", lv_lines_sum(deductions));
    heading(w, "Net pay");
    row_money(w, true, "Net pay", json_integer_value(json_object_get(data, "net")));
    const json_t *y = json_object_get(data, "ytd");
    if (json_object_size(y) > 0) {
        heading(w, "Year to date");
        for (size_t i = 0; i < sizeof(ytd) / sizeof(ytd[0]); i++)
            row_field_money(w, y, ytd[i][0], ytd[i][1]);
    }
}

static void render_p45(pdfw *w, const json_t *data, const char *period)
{
    heading(w, "Employee leaving work");
    row(w, false, "Tax year", period);
    row_str(w, data, "leaving_date", "Leaving date");
    row_ni(w, data);
    row_str(w, data, "tax_code", "Tax code at leaving date");
    row_yes_no(w, data, "week1_month1", "Week 1/Month 1 basis");
    row_field_money(w, data, "pay_to_date", "Total pay to date");
    row_field_money(w, data, "tax_to_date", "Total tax to date");
    row_yes_no(w, data, "student_loan", "Student Loan deductions to continue");
}

static void render_p60(pdfw *w, const json_t *data, const char *period)
{
    heading(w, "End of year certificate");
    row(w, false, "Tax year", period);
    row_ni(w, data);
    row_str(w, data, "final_tax_code", "Final tax code");
    row_field_money(w, data, "pay", "Pay in this employment");
    row_field_money(w, data, "tax", "Tax deducted in this employment");
    row_field_money(w, data, "ni_contributions", "National Insurance contributions");
    row_field_money(w, data, "student_loan_deductions", "Student loan deductions");
    const json_t *stat = json_object_get(data, "statutory_payments");
    if (json_array_size(stat) > 0) {
        heading(w, "Statutory payments");
        lines(w, stat);
    }
}

/* "Payslip – October 2026" (UTF-8, with an en dash). */
static void doc_title(char *buf, size_t cap, const json_t *doc)
{
    enum lv_kind kind = lv_kind_from_name(json_string_value(json_object_get(doc, "kind")));
    char label[64];
    lv_period_label(label, sizeof(label), kind, json_string_value(json_object_get(doc, "period")));
    snprintf(buf, cap, "%s \xE2\x80\x93 %s", lv_kind_title(kind), label);
}

static void render_doc(pdfw *w, const json_t *doc)
{
    enum lv_kind kind = lv_kind_from_name(json_string_value(json_object_get(doc, "kind")));
    const json_t *data = json_object_get(doc, "data");
    const char *period = json_string_value(json_object_get(doc, "period"));
    char title[128];
    doc_title(title, sizeof(title), doc);
    lv_text_winansi(w->title, sizeof(w->title), title);
    page_new(w);
    if (kind == LV_PAYSLIP)
        render_payslip(w, data);
    else if (kind == LV_P45)
        render_p45(w, data, period ? period : "");
    else if (kind == LV_P60)
        render_p60(w, data, period ? period : "");
}

static void render_contents(pdfw *w, const json_t *const *docs, size_t n)
{
    char t[128];
    lv_text_winansi(w->title, sizeof(w->title), "Your pay documents");
    page_new(w);
    snprintf(t, sizeof(t), "%zu document%s", n, n == 1 ? "" : "s");
    heading(w, t);
    for (size_t i = 0; i < n; i++) {
        doc_title(t, sizeof(t), docs[i]);
        row(w, false, t, "");
    }
    row(w, false, "Keep this file: it may be the only copy of these documents.", "");
}

int lv_pdf_render(const lv_pdf_who *who, const json_t *const *docs, size_t n, bool pack,
                  unsigned char **out, size_t *len)
{
    pdfw w = {0};
    *out = NULL;
    *len = 0;
    w.who = who;
    w.pdf = HPDF_New(on_error, &w);
    if (!w.pdf)
        return -1;
    w.regular = HPDF_GetFont(w.pdf, "Helvetica", "WinAnsiEncoding");
    w.bold = HPDF_GetFont(w.pdf, "Helvetica-Bold", "WinAnsiEncoding");
    HPDF_SetInfoAttr(w.pdf, HPDF_INFO_CREATOR, "Portico");
    HPDF_SetInfoAttr(w.pdf, HPDF_INFO_TITLE, pack ? "Pay documents" : "Pay document");
    if (pack)
        render_contents(&w, docs, n);
    for (size_t i = 0; i < n && w.error == HPDF_OK; i++)
        render_doc(&w, docs[i]);
    if (w.pages == 0) {
        lv_text_winansi(w.title, sizeof(w.title), "No pay documents");
        page_new(&w);
    }
    int rc = -1;
    if (w.error == HPDF_OK && HPDF_SaveToStream(w.pdf) == HPDF_OK) {
        HPDF_UINT32 size = HPDF_GetStreamSize(w.pdf);
        unsigned char *buf = size ? malloc(size) : NULL;
        HPDF_STATUS st = buf ? HPDF_ReadFromStream(w.pdf, buf, &size) : HPDF_FAILD_TO_ALLOC_MEM;
        /* Reading the whole stream may report its end: not an error. */
        if (buf && (st == HPDF_OK || st == HPDF_STREAM_EOF) && size > 0) {
            *out = buf;
            *len = size;
            rc = 0;
        } else {
            free(buf);
        }
    }
    HPDF_Free(w.pdf);
    return rc;
}
