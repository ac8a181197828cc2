/*
 * flu_sites.c - vaccination sites and their roving sessions: the body
 * schema, the id rule, the checks the schema cannot say, and the order
 * sessions are shown in.
 */
#include "flu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char flu_site_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"name\"],"
    "\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":120},"
    "\"location\":{\"type\":\"string\",\"maxLength\":200},"
    "\"sessions\":{\"type\":\"array\",\"maxItems\":100,\"items\":{"
    "\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"starts_at\",\"ends_at\"],"
    "\"properties\":{"
    "\"starts_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"ends_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"notes\":{\"type\":\"string\",\"maxLength\":500}}}}}}";

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

static const char *text_or_empty(const json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s ? s : "";
}

/* A session as stored: times normalised to "YYYY-MM-DDTHH:MM:SSZ" (the
 * schema has checked they parse), or NULL with an error when it does not
 * end after it starts. */
static json_t *session_build(json_t *errors, const json_t *s, size_t i, const flu_env *env)
{
    int64_t start = 0, end = 0;
    env->time_parse(text_or_empty(s, "starts_at"), &start);
    env->time_parse(text_or_empty(s, "ends_at"), &end);
    if (end <= start) {
        char ptr[48];
        snprintf(ptr, sizeof(ptr), "/sessions/%zu/ends_at", i);
        env->invalid_add(errors, ptr, "must be after starts_at");
        return NULL;
    }
    char a[21], b[21];
    env->time_format(a, start);
    env->time_format(b, end);
    return json_pack("{s:s, s:s, s:s}", "starts_at", a, "ends_at", b, "notes",
                     text_or_empty(s, "notes"));
}

/*
 * Every problem is reported at once (one 422 listing each bad session and
 * the id), so an admin fixing a long session list sees all of it.
 */
void flu_site_build(json_t **out, json_t *errors, const char *id, const json_t *body,
                    const flu_env *env)
{
    *out = NULL;
    size_t before = json_array_size(errors);
    if (!flu_site_id_valid(id))
        env->invalid_add(errors, "/site", "must match ^[a-z0-9][a-z0-9-]{0,63}$");
    const json_t *list = json_object_get(body, "sessions");
    json_t *sessions = json_array();
    for (size_t i = 0; sessions != NULL && i < json_array_size(list); i++) {
        json_t *s = session_build(errors, json_array_get(list, i), i, env);
        if (s != NULL)
            json_array_append_new(sessions, s);
    }
    if (sessions == NULL || json_array_size(errors) != before) {
        json_decref(sessions);
        return;
    }
    flu_sessions_sort(sessions);
    *out = json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", text_or_empty(body, "name"),
                     "location", text_or_empty(body, "location"), "sessions", sessions);
}

static int session_cmp(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    static const char *const fields[] = {"starts_at", "ends_at", "notes"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        int c = strcmp(text_or_empty(x, fields[i]), text_or_empty(y, fields[i]));
        if (c != 0)
            return c;
    }
    return 0;
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
