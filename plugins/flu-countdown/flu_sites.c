/*
 * flu_sites.c - vaccination sites and their roving sessions: the id rule,
 * the PUT body check, and the order sessions are shown in.
 */
#include "flu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool flu_site_id_valid(const char *id)
{
    if (id == NULL)
        return false;
    size_t n = strnlen(id, FLU_SITE_ID_MAX_LEN + 1);
    if (n == 0 || n > FLU_SITE_ID_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && !(i > 0 && c == '-'))
            return false;
    }
    return true;
}

/* Length in code points of valid UTF-8 (jansson only holds valid UTF-8). */
static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A string field of min..max characters; NULL (and an error) otherwise. */
static const char *text_field(json_t **errors, const json_t *obj, const char *name, const char *ptr,
                              size_t min, size_t max, bool required)
{
    const json_t *v = json_object_get(obj, name);
    char msg[80];
    if (v == NULL) {
        if (required)
            flu_errors_add(errors, ptr, "is required");
        return required ? NULL : "";
    }
    if (!json_is_string(v)) {
        flu_errors_add(errors, ptr, "must be a string");
        return NULL;
    }
    size_t n = utf8_len(json_string_value(v));
    if (n < min || n > max) {
        snprintf(msg, sizeof(msg), "must be %zu to %zu characters", min, max);
        flu_errors_add(errors, ptr, msg);
        return NULL;
    }
    return json_string_value(v);
}

static void unknown_fields(json_t **errors, const json_t *obj, const char *prefix,
                           const char *const *known)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        bool ok = false;
        for (size_t i = 0; known[i] != NULL && !ok; i++)
            ok = strcmp(key, known[i]) == 0;
        if (!ok) {
            char ptr[160];
            snprintf(ptr, sizeof(ptr), "%s/%.100s", prefix, key);
            flu_errors_add(errors, ptr, "unknown field");
        }
    }
}

static const char *const session_fields[] = {"starts_at", "ends_at", "notes", NULL};
static const char *const site_fields[] = {"name", "location", "sessions", NULL};

/* A time field as stored: normalised to "YYYY-MM-DDTHH:MM:SSZ". */
static bool time_field(int64_t *out, json_t **errors, const json_t *obj, const char *name,
                       const char *ptr, const flu_clock *clock)
{
    const json_t *v = json_object_get(obj, name);
    if (v == NULL) {
        flu_errors_add(errors, ptr, "is required");
        return false;
    }
    if (!json_is_string(v) || !clock->parse(json_string_value(v), out)) {
        flu_errors_add(errors, ptr, "must be an RFC 3339 date-time");
        return false;
    }
    return true;
}

static json_t *session_build(json_t **errors, const json_t *s, size_t i, const flu_clock *clock)
{
    char base[40], ptr[80];
    snprintf(base, sizeof(base), "/sessions/%zu", i);
    if (!json_is_object(s)) {
        flu_errors_add(errors, base, "must be an object");
        return NULL;
    }
    size_t before = json_array_size(*errors);
    unknown_fields(errors, s, base, session_fields);
    int64_t start = 0, end = 0;
    snprintf(ptr, sizeof(ptr), "%s/starts_at", base);
    bool ok_start = time_field(&start, errors, s, "starts_at", ptr, clock);
    snprintf(ptr, sizeof(ptr), "%s/ends_at", base);
    bool ok_end = time_field(&end, errors, s, "ends_at", ptr, clock);
    if (ok_start && ok_end && end <= start)
        flu_errors_add(errors, ptr, "must be after starts_at");
    snprintf(ptr, sizeof(ptr), "%s/notes", base);
    const char *notes = text_field(errors, s, "notes", ptr, 0, 500, false);
    if (json_array_size(*errors) != before || notes == NULL)
        return NULL;
    char a[21], b[21];
    clock->format(a, start);
    clock->format(b, end);
    return json_pack("{s:s, s:s, s:s}", "starts_at", a, "ends_at", b, "notes", notes);
}

static json_t *sessions_build(json_t **errors, const json_t *body, const flu_clock *clock)
{
    const json_t *list = json_object_get(body, "sessions");
    json_t *out = json_array();
    if (list == NULL || out == NULL)
        return out;
    if (!json_is_array(list)) {
        flu_errors_add(errors, "/sessions", "must be an array");
        return out;
    }
    if (json_array_size(list) > FLU_SESSIONS_MAX) {
        flu_errors_add(errors, "/sessions", "must hold at most 100 sessions");
        return out;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *s = session_build(errors, json_array_get(list, i), i, clock);
        if (s != NULL)
            json_array_append_new(out, s);
    }
    flu_sessions_sort(out);
    return out;
}

/*
 * Every problem in the body is reported at once (one 422 listing each bad
 * field), so an admin fixing a long session list sees all of it.
 */
void flu_site_build(json_t **out, json_t **errors, const char *id, const json_t *body,
                    const flu_clock *clock)
{
    *out = NULL;
    size_t before = json_array_size(*errors);
    if (!flu_site_id_valid(id))
        flu_errors_add(errors, "/site", "must match ^[a-z0-9][a-z0-9-]{0,63}$");
    if (!json_is_object(body)) {
        flu_errors_add(errors, "", "must be an object");
        return;
    }
    unknown_fields(errors, body, "", site_fields);
    const char *name = text_field(errors, body, "name", "/name", 1, 120, true);
    const char *location = text_field(errors, body, "location", "/location", 0, 200, false);
    json_t *sessions = sessions_build(errors, body, clock);
    if (json_array_size(*errors) != before || name == NULL || location == NULL) {
        json_decref(sessions);
        return;
    }
    *out = json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", name, "location", location,
                     "sessions", sessions);
}

static int session_cmp(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    const char *xs = json_string_value(json_object_get(x, "starts_at"));
    const char *ys = json_string_value(json_object_get(y, "starts_at"));
    int c = strcmp(xs ? xs : "", ys ? ys : "");
    if (c != 0)
        return c;
    xs = json_string_value(json_object_get(x, "ends_at"));
    ys = json_string_value(json_object_get(y, "ends_at"));
    c = strcmp(xs ? xs : "", ys ? ys : "");
    if (c != 0)
        return c;
    xs = json_string_value(json_object_get(x, "notes"));
    ys = json_string_value(json_object_get(y, "notes"));
    return strcmp(xs ? xs : "", ys ? ys : "");
}

void flu_sessions_sort(json_t *sessions)
{
    size_t n = json_array_size(sessions);
    if (n < 2)
        return;
    json_t **items = malloc(n * sizeof(*items));
    if (items == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(sessions, i));
    qsort(items, n, sizeof(*items), session_cmp);
    json_array_clear(sessions);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(sessions, items[i]);
    free(items);
}
