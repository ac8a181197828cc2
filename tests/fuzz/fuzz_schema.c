/*
 * fuzz_schema.c - the JSON Schema subset (compile + validate) and the
 * date/time parsers it leans on.
 *
 * Input: "<schema JSON>\n<value JSON>".  A compiled schema must validate
 * the same way twice, report errors exactly when it says invalid, and
 * agree with the cached one-shot pt_schema_check.  The whole input is
 * also parsed as a date and as a date-time: whatever parses must format
 * back to text that parses to the same instant (and, for canonical text,
 * to the same text).
 */
#include "base/clock.h"
#include "host/schema.h"
#include "http/json_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_dates(const char *s)
{
    int32_t days;
    int64_t t, t2;
    char buf[32];
    if (pt_date_parse(s, &days)) {
        pt_date_format(buf, days);
        if (strcmp(buf, s) != 0) {
            fprintf(stderr, "date %s formats back as %s\n", s, buf);
            abort();
        }
    }
    if (pt_time_parse(s, &t)) {
        pt_time_format(buf, t);
        if (!pt_time_parse(buf, &t2) || t2 != t) {
            fprintf(stderr, "time %s (%lld) formats back as %s\n", s, (long long)t, buf);
            abort();
        }
        if (strlen(s) == 20 && s[10] == 'T' && s[19] == 'Z' && strcmp(buf, s) != 0) {
            fprintf(stderr, "canonical time %s formats back as %s\n", s, buf);
            abort();
        }
    }
}

static void check_errors(const json_t *errors, bool ok)
{
    size_t i;
    json_t *e;
    if (ok != (json_array_size(errors) == 0) || json_array_size(errors) > 100)
        abort();
    json_array_foreach(errors, i, e)
    {
        const char *p = json_string_value(json_object_get(e, "pointer"));
        if (!p || strncmp(p, "/config", 7) != 0 || !json_is_string(json_object_get(e, "message")))
            abort();
    }
}

static void check_schema(const char *text, size_t len)
{
    const char *nl = memchr(text, '\n', len);
    if (!nl)
        return;
    json_t *schema =
        pt_json_parse_untrusted(text, (size_t)(nl - text), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_t *value = pt_json_parse_untrusted(nl + 1, len - (size_t)(nl + 1 - text),
                                            JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    pt_schema *s = NULL;
    if (!schema || !value || pt_schema_compile(&s, schema) != 0) {
        json_t *errs = NULL;
        if (schema && value && pt_schema_check(schema, value, &errs) != PT_ERR)
            abort(); /* the one-shot form compiled what compile refused */
        json_decref(errs);
        json_decref(schema);
        json_decref(value);
        return;
    }
    json_t *e1 = json_array(), *e2 = json_array(), *e3 = NULL;
    bool ok1 = pt_schema_validate(s, value, "/config", e1);
    bool ok2 = pt_schema_validate(s, value, "/config", e2);
    check_errors(e1, ok1);
    if (ok1 != ok2 || !json_equal(e1, e2))
        abort(); /* validation is not a pure function of its input */
    int rc = pt_schema_check(schema, value, &e3);
    if ((rc == 0) != ok1 || (rc != 0 && rc != PT_EINVAL) || (rc == 0) != (e3 == NULL))
        abort();
    json_decref(e1);
    json_decref(e2);
    json_decref(e3);
    pt_schema_free(s);
    json_decref(schema);
    json_decref(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    check_dates(text);
    check_schema(text, size);
    free(text);
    return 0;
}
