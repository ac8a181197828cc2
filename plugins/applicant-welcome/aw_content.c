/*
 * aw_content.c - the rules of a content document that its JSON Schema
 * cannot say, checked when a draft is saved so that nothing inaccessible
 * or unsafe can ever be published.
 */
#include "aw.h"

#include <stdio.h>
#include <string.h>

typedef struct checker {
    aw_err_fn err;
    void *arg;
    size_t count;
} checker;

static void report(checker *c, const char *pointer, const char *message)
{
    c->err(c->arg, pointer, message);
    c->count++;
}

/* Appends "/" + the RFC 6901 escape of token to ptr (cap bytes). */
static void pointer_push(char *ptr, size_t cap, const char *token)
{
    size_t n = strlen(ptr);
    if (n + 1 < cap)
        ptr[n++] = '/';
    for (const char *t = token; *t && n + 2 < cap; t++) {
        if (*t == '~' || *t == '/') {
            ptr[n++] = '~';
            ptr[n++] = *t == '~' ? '0' : '1';
        } else {
            ptr[n++] = *t;
        }
    }
    ptr[n < cap ? n : cap - 1] = '\0';
}

static bool is_url_field(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    return n >= 3 && strcmp(key + n - 3, "url") == 0;
}

/* Every string of the document: URL fields by the URL rule, the others
 * by the plain-text rule (line feeds only in descriptions, which alone
 * may also be empty). */
static void strings_check(checker *c, const json_t *v, const char *key, char *ptr, size_t cap)
{
    size_t mark = strlen(ptr);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        bool description = key != NULL && strcmp(key, "description") == 0;
        const char *why =
            is_url_field(key) ? aw_url_problem(s, len) : aw_text_problem(s, len, description);
        if (why == NULL && !is_url_field(key) && !description && aw_text_blank(s))
            why = "must not be blank";
        if (why != NULL)
            report(c, ptr, why);
    } else if (json_is_object(v)) {
        const char *k;
        const json_t *child;
        json_object_foreach((json_t *)v, k, child)
        {
            pointer_push(ptr, cap, k);
            strings_check(c, child, k, ptr, cap);
            ptr[mark] = '\0';
        }
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *child;
        json_array_foreach(v, i, child)
        {
            char idx[24];
            snprintf(idx, sizeof idx, "%zu", i);
            pointer_push(ptr, cap, idx);
            strings_check(c, child, key, ptr, cap);
            ptr[mark] = '\0';
        }
    }
}

/* An image without a text alternative is invisible to a screen reader. */
static void alt_text_check(checker *c, const json_t *obj, const char *url_key, const char *alt_key,
                           const char *pointer)
{
    if (!json_is_object(obj) || json_object_get(obj, url_key) == NULL)
        return;
    const json_t *alt = json_object_get(obj, alt_key);
    if (alt == NULL || (json_is_string(alt) && aw_text_blank(json_string_value(alt))))
        report(c, pointer, "an image needs alt text describing it");
}

static void contrast_check(checker *c, const json_t *branding)
{
    double on_p, on_s;
    if (!aw_branding_ratios(branding, &on_p, &on_s))
        return;
    const char *text = json_string_value(json_object_get(branding, "text_colour"));
    char msg[256];
    const struct {
        const char *field;
        double ratio;
    } pairs[] = {{"primary_colour", on_p}, {"secondary_colour", on_s}};
    bool any = false;
    for (size_t i = 0; i < 2; i++) {
        if (pairs[i].ratio >= AW_CONTRAST_MIN)
            continue;
        any = true;
        const char *bg = json_string_value(json_object_get(branding, pairs[i].field));
        snprintf(msg, sizeof msg,
                 "text_colour %s on %s %s has a contrast ratio of %.2f:1; WCAG 2.1 AA needs at "
                 "least 4.5:1",
                 text, pairs[i].field, bg, aw_ratio_display(pairs[i].ratio));
        char ptr[40];
        snprintf(ptr, sizeof ptr, "/branding/%s", pairs[i].field);
        report(c, ptr, msg);
    }
    if (any) {
        snprintf(msg, sizeof msg,
                 "contrast with primary_colour %.2f:1 and with secondary_colour %.2f:1; both "
                 "must be at least 4.5:1 (WCAG 2.1 AA)",
                 aw_ratio_display(on_p), aw_ratio_display(on_s));
        report(c, "/branding/text_colour", msg);
    }
}

/* Services are told apart by name and checklist items by id (they name
 * interaction targets and progress), so neither may repeat. */
static void unique_check(checker *c, const json_t *list, const char *field, const char *list_name)
{
    if (!json_is_array(list))
        return;
    for (size_t i = 1; i < json_array_size(list); i++) {
        const char *a = json_string_value(json_object_get(json_array_get(list, i), field));
        for (size_t j = 0; a != NULL && j < i; j++) {
            const char *b = json_string_value(json_object_get(json_array_get(list, j), field));
            if (b != NULL && strcmp(a, b) == 0) {
                char ptr[64], msg[96];
                snprintf(ptr, sizeof ptr, "/%s/%zu/%s", list_name, i, field);
                snprintf(msg, sizeof msg, "repeats /%s/%zu/%s; each must be unique", list_name, j,
                         field);
                report(c, ptr, msg);
                break;
            }
        }
    }
}

size_t aw_content_check(const json_t *content, aw_err_fn err, void *arg)
{
    checker c = {err, arg, 0};
    if (!json_is_object(content)) {
        report(&c, "", "must be an object");
        return c.count;
    }
    char ptr[1024] = "";
    strings_check(&c, content, NULL, ptr, sizeof ptr);
    alt_text_check(&c, json_object_get(content, "area_map"), "image_url", "alt_text",
                   "/area_map/alt_text");
    const json_t *branding = json_object_get(content, "branding");
    alt_text_check(&c, branding, "logo_url", "logo_alt_text", "/branding/logo_alt_text");
    contrast_check(&c, branding);
    unique_check(&c, json_object_get(content, "services"), "name", "services");
    unique_check(&c, json_object_get(content, "checklist"), "id", "checklist");
    return c.count;
}
