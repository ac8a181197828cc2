/*
 * aw_view.c - the applicant view as bytes.  Everything an applicant sees
 * except their own progress is the same for every applicant of a
 * published version, so it is serialised once per version (the "static"
 * part) and each request only splices in the caller's checklist state:
 * no parse of the content and no serialisation of it per request, which
 * is what kept the view several times dearer than GET /api/v1/me.
 */
#include "aw_view.h"

#include <stdlib.h>
#include <string.h>

struct aw_view_static {
    char *head; /* {"version":..,"published_at":..,"content":..,"contrast":..,"interactions":..  */
    size_t head_len;
    size_t items;
    char **ids;  /* checklist item ids */
    char **rows; /* {"id":..,"title":..,"kind":..[,"url":..]  (no closing brace) */
    size_t *row_lens;
};

void aw_view_static_free(aw_view_static *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->items; i++) {
        free(s->ids[i]);
        free(s->rows[i]);
    }
    free(s->ids);
    free(s->rows);
    free(s->row_lens);
    free(s->head);
    free(s);
}

/* The compact text of an object without its closing brace, so fields can
 * be appended ("," ...  "}").  The object must not be empty. */
static char *open_object(const json_t *obj, size_t *len)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15));
    size_t n = text ? strlen(text) : 0;
    if (n < 3 || text[n - 1] != '}') {
        free(text);
        return NULL;
    }
    text[--n] = '\0';
    *len = n;
    return text;
}

static json_t *interactions_json(const json_t *content)
{
    json_t *targets = aw_targets_build(content), *list = json_array(), *actions = json_array();
    const char *t;
    json_t *kind;
    json_object_foreach(targets, t, kind) json_array_append_new(list, json_string(t));
    json_decref(targets);
    for (size_t i = 0; aw_actions[i] != NULL; i++)
        json_array_append_new(actions, json_string(aw_actions[i]));
    return json_pack("{s:o, s:o}", "targets", list, "actions", actions);
}

aw_view_static *aw_view_static_build(const json_t *published)
{
    const json_t *content = json_object_get(published, "content");
    const json_t *checklist = json_object_get(content, "checklist");
    aw_view_static *s = calloc(1, sizeof *s);
    json_t *head =
        json_pack("{s:O?, s:O?, s:O?, s:o, s:o}", "version", json_object_get(published, "version"),
                  "published_at", json_object_get(published, "published_at"), "content", content,
                  "contrast", aw_contrast_json(json_object_get(content, "branding")),
                  "interactions", interactions_json(content));
    size_t n = json_array_size(checklist);
    bool ok = s != NULL && head != NULL;
    if (ok) {
        s->head = open_object(head, &s->head_len);
        s->ids = calloc(n + 1, sizeof *s->ids);
        s->rows = calloc(n + 1, sizeof *s->rows);
        s->row_lens = calloc(n + 1, sizeof *s->row_lens);
        ok = s->head && s->ids && s->rows && s->row_lens;
    }
    json_decref(head);
    for (size_t i = 0; ok && i < n; i++) {
        const json_t *item = json_array_get(checklist, i);
        const char *id = json_string_value(json_object_get(item, "id"));
        if (id == NULL || !json_is_object(item))
            continue;
        s->ids[s->items] = strdup(id);
        s->rows[s->items] = open_object(item, &s->row_lens[s->items]);
        ok = s->ids[s->items] != NULL && s->rows[s->items] != NULL;
        s->items++;
    }
    if (!ok) {
        aw_view_static_free(s);
        return NULL;
    }
    return s;
}

/* A growing byte buffer; `failed` sticks once an allocation fails. */
typedef struct buf {
    char *p;
    size_t len, cap;
    bool failed;
} buf;

#define BUF_MAX ((size_t)1 << 30) /* far above any view; keeps the sums below from wrapping */

static void put(buf *b, const char *s, size_t n)
{
    if (b->failed || n > BUF_MAX || b->len > BUF_MAX) {
        b->failed = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A JSON value (a string from storage: escaped by jansson). */
static void put_json(buf *b, const json_t *v)
{
    char small[256];
    size_t n = json_dumpb(v, small, sizeof small, JSON_ENCODE_ANY | JSON_COMPACT);
    if (n == 0) {
        b->failed = true;
    } else if (n <= sizeof small) {
        put(b, small, n);
    } else {
        char *big = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (big == NULL)
            b->failed = true;
        else
            puts_(b, big);
        free(big);
    }
}

int aw_view_render(const aw_view_static *s, const json_t *progress_items, const json_t *start_date,
                   bool preview, char **out, size_t *len)
{
    buf b = {0};
    put(&b, s->head, s->head_len);
    puts_(&b, ",\"checklist\":[");
    int done = 0;
    for (size_t i = 0; i < s->items; i++) {
        const json_t *at =
            json_object_get(json_object_get(progress_items, s->ids[i]), "completed_at");
        if (i > 0)
            puts_(&b, ",");
        put(&b, s->rows[i], s->row_lens[i]);
        if (json_is_string(at)) {
            done++;
            puts_(&b, ",\"done\":true,\"completed_at\":");
            put_json(&b, at);
            puts_(&b, "}");
        } else {
            puts_(&b, ",\"done\":false,\"completed_at\":null}");
        }
    }
    puts_(&b, "],\"progress\":");
    json_t *progress = aw_progress_json(done, (int)s->items);
    if (progress == NULL)
        b.failed = true;
    else
        put_json(&b, progress);
    json_decref(progress);
    puts_(&b, ",\"start_date\":");
    if (json_is_string(start_date))
        put_json(&b, start_date);
    else
        puts_(&b, "null");
    puts_(&b, preview ? ",\"preview\":true}" : ",\"preview\":false}");
    if (b.failed) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}
