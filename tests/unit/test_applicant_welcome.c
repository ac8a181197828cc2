/*
 * test_applicant_welcome.c - the applicant-welcome portlet's pure logic:
 * WCAG contrast, the plain-text and https rules, content checks with their
 * pointers, the default checklist, interaction targets, checklist
 * progress and small-number suppression.
 */
#include "check.h"

#include "aw.h"
#include "aw_records.h"
#include "aw_view.h"

#include <math.h>
#include <string.h>

/* ---- an error sink that remembers pointers ------------------------------ */

typedef struct sink {
    json_t *errors;
} sink;

static void sink_add(void *arg, const char *pointer, const char *message)
{
    sink *s = arg;
    json_array_append_new(s->errors,
                          json_pack("{s:s, s:s}", "pointer", pointer, "message", message));
}

static bool has_pointer(const json_t *errors, const char *pointer)
{
    size_t i;
    const json_t *e;
    json_array_foreach(errors, i, e) if (strcmp(json_string_value(json_object_get(e, "pointer")),
                                                pointer) == 0) return true;
    return false;
}

/* Checks a content document given as JSON text; returns its errors. */
static json_t *check_text(const char *text)
{
    json_error_t jerr;
    json_t *content = json_loads(text, 0, &jerr);
    CHECK_MSG(content != NULL, "bad test JSON: %s", jerr.text);
    sink s = {json_array()};
    aw_content_check(content, sink_add, &s);
    json_decref(content);
    return s.errors;
}

static bool near(double a, double b)
{
    return fabs(a - b) < 0.005;
}

/* ---- tests --------------------------------------------------------------- */

static void test_colour_parse(void)
{
    unsigned char rgb[3];
    CHECK(aw_colour_parse("#005EB8", rgb) && rgb[0] == 0 && rgb[1] == 0x5E && rgb[2] == 0xB8);
    CHECK(aw_colour_parse("#ffffff", rgb) && rgb[0] == 255 && rgb[2] == 255);
    CHECK(!aw_colour_parse("#fff", rgb));
    CHECK(!aw_colour_parse("005EB8", rgb));
    CHECK(!aw_colour_parse("#005EB8 ", rgb));
    CHECK(!aw_colour_parse("#00GEB8", rgb));
    CHECK(!aw_colour_parse(NULL, rgb));
}

static void test_contrast(void)
{
    unsigned char white[3], black[3], yellow[3], nhs_blue[3], nhs_dark[3], grey[3];
    aw_colour_parse("#FFFFFF", white);
    aw_colour_parse("#000000", black);
    aw_colour_parse("#FFFF00", yellow);
    aw_colour_parse("#005EB8", nhs_blue);
    aw_colour_parse("#003087", nhs_dark);
    aw_colour_parse("#767676", grey);
    CHECK(near(aw_luminance(white), 1.0));
    CHECK(near(aw_luminance(black), 0.0));
    CHECK(near(aw_contrast_ratio(white, black), 21.0));
    CHECK(near(aw_contrast_ratio(black, white), 21.0));
    CHECK(near(aw_contrast_ratio(white, white), 1.0));
    /* The examples: white on yellow refused, white on NHS blue accepted. */
    double y = aw_contrast_ratio(white, yellow);
    CHECK_MSG(y < AW_CONTRAST_MIN && near(aw_ratio_display(y), 1.07), "white/yellow %f", y);
    double b = aw_contrast_ratio(white, nhs_blue);
    CHECK_MSG(b >= AW_CONTRAST_MIN && near(aw_ratio_display(b), 6.37), "white/blue %f", b);
    CHECK(near(aw_ratio_display(aw_contrast_ratio(white, nhs_dark)), 11.84));
    /* #767676 on white is the classic just-passing grey (4.54:1). */
    double g = aw_contrast_ratio(grey, white);
    CHECK_MSG(g >= AW_CONTRAST_MIN && g < 4.6, "grey %f", g);
    /* Display never rounds a failing ratio up to the threshold. */
    CHECK(aw_ratio_display(4.4999) < 4.5);
    CHECK(near(aw_ratio_display(4.5), 4.5));

    json_t *branding = json_pack("{s:s, s:s, s:s}", "primary_colour", "#005EB8", "secondary_colour",
                                 "#003087", "text_colour", "#FFFFFF");
    json_t *c = aw_contrast_json(branding);
    CHECK(json_is_object(c));
    CHECK(near(json_real_value(json_object_get(c, "text_on_primary")), 6.37));
    CHECK(near(json_real_value(json_object_get(c, "minimum")), 4.5));
    CHECK(json_is_true(json_object_get(c, "passes")));
    json_decref(c);
    json_object_set_new(branding, "text_colour", json_string("nope"));
    c = aw_contrast_json(branding);
    CHECK(json_is_null(c));
    json_decref(c);
    json_decref(branding);
}

static void test_text(void)
{
    const char *ok[] = {"Welcome to the trust",
                        "Parking: 2 < 3 spaces",
                        "a <3 b",
                        "Caf\xc3\xa9 & shop",
                        "<",
                        "x < y",
                        "Fish > chips"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_MSG(aw_text_problem(ok[i], strlen(ok[i]), false) == NULL, "refused %s", ok[i]);
    const char *bad[] = {"<b>bold</b>", "hi <script>",      "</p>",       "<!-- x -->",
                         "<?xml?>",     "tab\there",        "bell\a",     "del\x7f",
                         "c1 \xc2\x85", "rlo \xe2\x80\xae", "line\nbreak"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(aw_text_problem(bad[i], strlen(bad[i]), false) != NULL, "accepted %s", bad[i]);
    CHECK(aw_text_problem("two\nlines", 9, true) == NULL);
    CHECK(aw_text_problem("cr\r\n", 4, true) != NULL);
    CHECK(aw_text_problem("nul\0x", 5, true) != NULL);
    CHECK(aw_text_blank("  \t\n"));
    CHECK(aw_text_blank(""));
    CHECK(!aw_text_blank(" a "));
}

static void test_urls(void)
{
    const char *ok[] = {"https://example.org",
                        "https://example.org/",
                        "https://www.e-lfh.org.uk/programmes/x/?a=1&b=2#top",
                        "HTTPS://Example.ORG/Path",
                        "https://host:8443/a%20b",
                        "https://a.b/c;d=e,f(g)*h+i!$'@~"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_MSG(aw_url_problem(ok[i], strlen(ok[i])) == NULL, "refused %s", ok[i]);
    const char *bad[] = {"http://example.org",
                         "javascript:alert(1)",
                         "data:text/html,<script>",
                         "https://",
                         "https:///path",
                         "https://user@evil.example/",
                         "https://user:pw@x.org",
                         "https://exa mple.org",
                         "https://example.org/a b",
                         "https://example.org/<x>",
                         "https://example.org/\"",
                         "https://example.org/%zz",
                         "https://example.org/%4",
                         "https://-bad.org",
                         "https://bad..org",
                         "https://bad.org.",
                         "https://[::1]/",
                         "https://host:/",
                         "https://host:123456/",
                         "https://example.org/caf\xc3\xa9",
                         "//example.org",
                         "ftp://x.org",
                         "https://example.org\\@evil",
                         " https://example.org"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(aw_url_problem(bad[i], strlen(bad[i])) != NULL, "accepted %s", bad[i]);
    char longurl[AW_URL_MAX + 2];
    memcpy(longurl, "https://x.org/", 14);
    memset(longurl + 14, 'a', sizeof longurl - 15);
    longurl[sizeof longurl - 1] = '\0';
    CHECK(aw_url_problem(longurl, strlen(longurl)) != NULL);
}

static void test_content_check(void)
{
    json_t *e = check_text("{\"headline\":\"Welcome\","
                           "\"branding\":{\"primary_colour\":\"#005EB8\","
                           "\"secondary_colour\":\"#003087\",\"text_colour\":\"#FFFFFF\"}}");
    CHECK_MSG(json_array_size(e) == 0, "%zu errors for good content", json_array_size(e));
    json_decref(e);

    /* White on yellow: the background and the text colour are named. */
    e = check_text("{\"branding\":{\"primary_colour\":\"#FFFF00\","
                   "\"secondary_colour\":\"#003087\",\"text_colour\":\"#FFFFFF\"}}");
    CHECK(has_pointer(e, "/branding/primary_colour"));
    CHECK(has_pointer(e, "/branding/text_colour"));
    CHECK(!has_pointer(e, "/branding/secondary_colour"));
    CHECK(strstr(json_string_value(json_object_get(json_array_get(e, 0), "message")), "1.07") !=
          NULL);
    json_decref(e);
    e = check_text("{\"branding\":{\"primary_colour\":\"#005EB8\","
                   "\"secondary_colour\":\"#EEEEEE\",\"text_colour\":\"#FFFFFF\"}}");
    CHECK(has_pointer(e, "/branding/secondary_colour"));
    CHECK(!has_pointer(e, "/branding/primary_colour"));
    json_decref(e);

    /* Alt text: missing or blank. */
    e = check_text("{\"area_map\":{\"image_url\":\"https://x.org/m.png\",\"alt_text\":\"  \"},"
                   "\"branding\":{\"primary_colour\":\"#005EB8\",\"secondary_colour\":\"#003087\","
                   "\"text_colour\":\"#FFFFFF\",\"logo_url\":\"https://x.org/l.svg\"}}");
    CHECK(has_pointer(e, "/area_map/alt_text"));
    CHECK(has_pointer(e, "/branding/logo_alt_text"));
    json_decref(e);

    /* Unsafe URLs and markup, with their pointers. */
    e = check_text("{\"headline\":\"<b>Hi</b>\","
                   "\"welcome_video\":{\"url\":\"javascript:alert(1)\",\"title\":\"V\","
                   "\"captions_url\":\"http://x.org/c.vtt\"},"
                   "\"services\":[{\"name\":\"A\",\"url\":\"data:text/html,x\","
                   "\"description\":\"line one\\nline two\"},{\"name\":\"A\"}],"
                   "\"checklist\":[{\"id\":\"a\",\"title\":\"T\",\"kind\":\"training\"},"
                   "{\"id\":\"a\",\"title\":\"\\u0007\",\"kind\":\"document\"}]}");
    CHECK(has_pointer(e, "/headline"));
    CHECK(has_pointer(e, "/welcome_video/url"));
    CHECK(has_pointer(e, "/welcome_video/captions_url"));
    CHECK(has_pointer(e, "/services/0/url"));
    CHECK(!has_pointer(e, "/services/0/description"));
    CHECK(has_pointer(e, "/services/1/name"));
    CHECK(has_pointer(e, "/checklist/1/id"));
    CHECK(has_pointer(e, "/checklist/1/title"));
    CHECK(!has_pointer(e, "/checklist/0/id"));
    json_decref(e);

    e = check_text("{\"headline\":\"   \"}");
    CHECK(has_pointer(e, "/headline"));
    json_decref(e);
    e = check_text("[]");
    CHECK(has_pointer(e, ""));
    json_decref(e);
}

static void test_default_content(void)
{
    json_t *c = aw_default_content();
    CHECK(json_is_object(c));
    sink s = {json_array()};
    CHECK(aw_content_check(c, sink_add, &s) == 0);
    json_decref(s.errors);
    json_t *list = json_object_get(c, "checklist");
    CHECK(json_array_size(list) == 13);
    size_t training = 0, i;
    json_t *item;
    json_array_foreach(list, i, item) if (strcmp(json_string_value(json_object_get(item, "kind")),
                                                 "training") == 0) training++;
    CHECK(training == 11);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(list, 0), "title")),
                 "Complete your personal information") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(list, 1), "title")),
                 "Upload your right-to-work documents") == 0);
    CHECK(aw_checklist_find(list, "fire-safety") != NULL);
    CHECK(aw_checklist_find(list, "nope") == NULL);
    json_decref(c);
}

static void test_targets(void)
{
    json_t *c = json_pack("{s:{s:s, s:s}, s:[{s:s}, {s:s}], s:[{s:s}]}", "welcome_video", "url",
                          "https://x.org/v", "title", "V", "services", "name", "Wards", "name",
                          "Occupational health", "checklist", "id", "fire-safety");
    json_t *t = aw_targets_build(c);
    CHECK(json_object_size(t) == 4);
    CHECK(json_object_get(t, "welcome_video") != NULL);
    CHECK(json_object_get(t, "area_map") == NULL);
    CHECK(json_object_get(t, "service:Occupational health") != NULL);
    CHECK(json_object_get(t, "checklist:fire-safety") != NULL);
    json_decref(t);
    json_decref(c);
    CHECK(aw_action_valid("play") && aw_action_valid("click") && !aw_action_valid("hack") &&
          !aw_action_valid(NULL));
    char h1[17], h2[17];
    aw_target_hash(h1, "welcome_video");
    aw_target_hash(h2, "welcome_video");
    CHECK(strcmp(h1, h2) == 0 && strlen(h1) == 16);
    aw_target_hash(h2, "area_map");
    CHECK(strcmp(h1, h2) != 0);
}

static void test_checklist_view(void)
{
    json_t *list = aw_default_checklist();
    json_t *progress =
        json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "fire-safety", "completed_at",
                  "2026-11-01T10:00:00Z", "right-to-work", "completed_at", "2026-11-02T10:00:00Z",
                  "dropped-item", "completed_at", "2026-10-01T10:00:00Z");
    int done, total;
    json_t *view = aw_checklist_view(list, progress, &done, &total);
    CHECK(done == 2 && total == 13);
    CHECK(json_array_size(view) == 13);
    const json_t *row = json_array_get(view, 1);
    CHECK(json_is_true(json_object_get(row, "done")));
    CHECK(json_is_string(json_object_get(row, "completed_at")));
    CHECK(json_is_false(json_object_get(json_array_get(view, 0), "done")));
    CHECK(json_is_null(json_object_get(json_array_get(view, 0), "completed_at")));
    json_decref(view);
    view = aw_checklist_view(list, NULL, &done, &total);
    CHECK(done == 0 && total == 13);
    json_decref(view);
    json_t *p = aw_progress_json(7, 13);
    CHECK(strcmp(json_string_value(json_object_get(p, "text")), "7 of 13 done") == 0);
    json_decref(p);
    json_decref(progress);
    json_decref(list);
}

static void test_suppression(void)
{
    /* Primary: under five people hidden, zero included. */
    aw_cell days[3] = {{0, 0, false}, {7, 7, false}, {3, 3, false}};
    aw_cell total = {10, 10, false};
    aw_suppress_series(days, 3, &total);
    CHECK(days[0].suppressed && days[2].suppressed);
    /* Secondary: 10 - 7 = 3 would give the hidden days away. */
    CHECK(days[1].suppressed);
    CHECK(!total.suppressed);

    aw_cell d2[3] = {{6, 6, false}, {9, 9, false}, {0, 0, false}};
    aw_cell t2 = {15, 15, false};
    aw_suppress_series(d2, 3, &t2);
    CHECK(!d2[0].suppressed && !d2[1].suppressed && d2[2].suppressed); /* hidden sum 0 */

    aw_cell d3[2] = {{6, 6, false}, {2, 2, false}};
    aw_cell t3 = {8, 8, false};
    aw_suppress_series(d3, 2, &t3);
    CHECK(d3[0].suppressed && d3[1].suppressed && !t3.suppressed);

    aw_cell t4 = {4, 4, false};
    aw_suppress_series(NULL, 0, &t4);
    CHECK(t4.suppressed);

    /* Interactions: many events from few people are still hidden. */
    aw_cell d5[1] = {{40, 2, false}};
    aw_cell t5 = {40, 2, false};
    aw_suppress_series(d5, 1, &t5);
    CHECK(d5[0].suppressed && t5.suppressed);

    json_t *o = json_object();
    aw_cell_set(o, &t5, true);
    CHECK(json_is_null(json_object_get(o, "count")) && json_is_null(json_object_get(o, "people")) &&
          json_is_true(json_object_get(o, "suppressed")));
    json_decref(o);
    o = json_object();
    aw_cell_set(o, &t2, false);
    CHECK(json_integer_value(json_object_get(o, "count")) == 15 &&
          json_object_get(o, "people") == NULL && json_is_false(json_object_get(o, "suppressed")));
    json_decref(o);
}

static void test_records(void)
{
    json_t *content = aw_default_content();
    json_t *draft_view = aw_draft_view(NULL, NULL);
    CHECK(json_is_true(json_object_get(draft_view, "is_default")));
    CHECK(json_integer_value(json_object_get(draft_view, "revision")) == 0);
    CHECK(json_equal(json_object_get(draft_view, "content"), content));
    CHECK(json_is_true(json_object_get(draft_view, "unpublished_changes")));
    json_decref(draft_view);

    json_t *v =
        aw_version_record(content, 3, "2026-11-30T10:00:00Z", "content.admin", "2027-02-28", 1);
    json_t *draft = aw_draft_record(content, 5, "2026-11-30T10:00:00Z", "content.admin", 0);
    draft_view = aw_draft_view(draft, v);
    CHECK(json_is_false(json_object_get(draft_view, "unpublished_changes")));
    CHECK(json_is_false(json_object_get(draft_view, "is_default")));
    CHECK(json_is_null(json_object_get(draft_view, "restored_from")));
    json_decref(draft_view);

    json_t *brief = aw_version_view(v, false);
    CHECK(json_integer_value(json_object_get(brief, "version")) == 3);
    CHECK(json_integer_value(json_object_get(brief, "restored_from")) == 1);
    CHECK(json_object_get(brief, "content") == NULL);
    CHECK(json_is_string(json_object_get(brief, "headline")));
    json_decref(brief);
    json_t *full = aw_version_view(v, true);
    CHECK(json_is_object(json_object_get(full, "content")));
    CHECK(json_is_object(json_object_get(full, "contrast")));
    json_decref(full);
    json_decref(draft);
    json_decref(v);
    json_decref(content);
}

static void test_view_render(void)
{
    json_t *content = aw_default_content();
    json_t *published =
        aw_version_record(content, 2, "2026-11-30T10:00:00Z", "content.admin", "2027-02-28", 0);
    aw_view_static *s = aw_view_static_build(published);
    CHECK(s != NULL);
    json_t *progress =
        json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "fire-safety", "completed_at",
                  "2026-11-01T10:00:00Z", "right-to-work", "completed_at", "2026-11-02T\"<x>",
                  "gone", "completed_at", "2026-10-01T10:00:00Z");
    json_t *start = json_string("2027-01-04");
    char *text = NULL;
    size_t len = 0;
    CHECK(aw_view_render(s, progress, start, false, &text, &len) == 0);
    json_error_t jerr;
    json_t *view = json_loadb(text, len, 0, &jerr);
    CHECK_MSG(view != NULL, "render is not JSON: %s (%s)", jerr.text, text);
    CHECK(strlen(text) == len);
    CHECK(json_integer_value(json_object_get(view, "version")) == 2);
    CHECK(json_equal(json_object_get(view, "content"), content));
    CHECK(json_is_object(json_object_get(view, "contrast")));
    CHECK(json_is_false(json_object_get(view, "preview")));
    CHECK(strcmp(json_string_value(json_object_get(view, "start_date")), "2027-01-04") == 0);
    const json_t *p = json_object_get(view, "progress");
    CHECK(strcmp(json_string_value(json_object_get(p, "text")), "2 of 13 done") == 0);
    const json_t *rows = json_object_get(view, "checklist");
    CHECK(json_array_size(rows) == 13);
    const json_t *rtw = json_array_get(rows, 1);
    CHECK(json_is_true(json_object_get(rtw, "done")));
    CHECK(strcmp(json_string_value(json_object_get(rtw, "completed_at")), "2026-11-02T\"<x>") == 0);
    CHECK(strcmp(json_string_value(json_object_get(rtw, "kind")), "document") == 0);
    CHECK(json_is_null(json_object_get(json_array_get(rows, 0), "completed_at")));
    const json_t *targets = json_object_get(json_object_get(view, "interactions"), "targets");
    CHECK(json_array_size(targets) == 13);
    /* the same rows, from aw_checklist_view */
    int done, total;
    json_t *expect =
        aw_checklist_view(json_object_get(content, "checklist"), progress, &done, &total);
    CHECK(json_equal(expect, rows));
    json_decref(expect);
    json_decref(view);
    free(text);
    /* a preview: nothing done, no start date */
    CHECK(aw_view_render(s, NULL, NULL, true, &text, &len) == 0);
    view = json_loadb(text, len, 0, &jerr);
    CHECK(view != NULL && json_is_true(json_object_get(view, "preview")) &&
          json_is_null(json_object_get(view, "start_date")));
    json_decref(view);
    free(text);
    aw_view_static_free(s);
    /* a version with no checklist at all */
    json_t *empty = json_object();
    json_t *bare = aw_version_record(empty, 1, "2026-11-30T10:00:00Z", "x", "2027-01-01", 0);
    json_decref(empty);
    s = aw_view_static_build(bare);
    CHECK(s != NULL && aw_view_render(s, NULL, NULL, false, &text, &len) == 0);
    view = json_loadb(text, len, 0, &jerr);
    CHECK(view != NULL && json_array_size(json_object_get(view, "checklist")) == 0 &&
          json_is_null(json_object_get(view, "contrast")));
    json_decref(view);
    free(text);
    aw_view_static_free(s);
    json_decref(bare);
    json_decref(start);
    json_decref(progress);
    json_decref(published);
    json_decref(content);
}

int main(void)
{
    test_colour_parse();
    test_contrast();
    test_text();
    test_urls();
    test_content_check();
    test_default_content();
    test_targets();
    test_checklist_view();
    test_suppression();
    test_records();
    test_view_render();
    return check_finish("test_applicant_welcome");
}
