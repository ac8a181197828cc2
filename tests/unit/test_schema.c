/*
 * test_schema.c - the JSON Schema subset validator (server/host/schema.c).
 */
#include "check.h"
#include "host/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pt_schema *compile(const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    pt_schema *s = NULL;
    if (!j || pt_schema_compile(&s, j) != 0)
        s = NULL;
    json_decref(j);
    return s;
}

/* Validates value text; returns the errors array (new reference). */
static json_t *errors_of(const pt_schema *s, const char *value)
{
    json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
    json_t *errs = json_array();
    if (!v) {
        fprintf(stderr, "bad test JSON %s\n", value);
        exit(2);
    }
    pt_schema_validate(s, v, "/config", errs);
    json_decref(v);
    return errs;
}

static bool has_pointer(const json_t *errs, const char *ptr)
{
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "pointer")), ptr) == 0)
            return true;
    }
    return false;
}

static void expect(const pt_schema *s, const char *value, const char *ptr)
{
    json_t *errs = errors_of(s, value);
    if (ptr) {
        char *t = json_dumps(errs, JSON_COMPACT);
        CHECK_MSG(has_pointer(errs, ptr), "%s: want an error at %s, got %s", value, ptr, t);
        free(t);
    } else {
        char *t = json_dumps(errs, JSON_COMPACT);
        CHECK_MSG(json_array_size(errs) == 0, "%s: want valid, got %s", value, t);
        free(t);
    }
    json_decref(errs);
}

static void test_keywords(void)
{
    pt_schema *s =
        compile("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"name\"],"
                "\"properties\":{"
                "\"name\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":4,\"pattern\":\"^[a-"
                "z\\u00e9]+$\"},"
                "\"n\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5,\"multipleOf\":2},"
                "\"x\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":1},"
                "\"e\":{\"enum\":[1,\"two\",null]},\"c\":{\"const\":{\"a\":[1]}},"
                "\"d\":{\"format\":\"date\"},\"t\":{\"format\":\"date-time\"},"
                "\"a\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,"
                "       \"maxItems\":3,\"uniqueItems\":true},"
                "\"u\":{\"type\":[\"string\",\"null\"]},"
                "\"any\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]},"
                "\"one\":{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\"}]},"
                "\"not\":{\"not\":{\"type\":\"null\"}},"
                "\"m\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"boolean\"},"
                "       \"minProperties\":1}}}");
    CHECK_MSG(s, "compile: %s", pt_error_last());
    if (!s)
        return;
    expect(s, "{\"name\":\"ab\"}", NULL);
    expect(s, "{}", "/config/name");
    expect(s, "[]", "/config");
    expect(s, "{\"name\":\"a\"}", "/config/name");
    expect(s, "{\"name\":\"abcde\"}", "/config/name");
    expect(s, "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\"}", NULL); /* 4 code points, 8 bytes */
    expect(s, "{\"name\":\"AB\"}", "/config/name");
    expect(s, "{\"name\":\"ab\",\"n\":4.0}", NULL);
    expect(s, "{\"name\":\"ab\",\"n\":3}", "/config/n");
    expect(s, "{\"name\":\"ab\",\"n\":6}", "/config/n");
    expect(s, "{\"name\":\"ab\",\"n\":2.5}", "/config/n");
    expect(s, "{\"name\":\"ab\",\"x\":0}", "/config/x");
    expect(s, "{\"name\":\"ab\",\"x\":1}", "/config/x");
    expect(s, "{\"name\":\"ab\",\"x\":0.5}", NULL);
    expect(s, "{\"name\":\"ab\",\"e\":1.0}", NULL);
    expect(s, "{\"name\":\"ab\",\"e\":null}", NULL);
    expect(s, "{\"name\":\"ab\",\"e\":\"three\"}", "/config/e");
    expect(s, "{\"name\":\"ab\",\"c\":{\"a\":[1]}}", NULL);
    expect(s, "{\"name\":\"ab\",\"c\":{\"a\":[2]}}", "/config/c");
    expect(s, "{\"name\":\"ab\",\"d\":\"2024-02-29\"}", NULL);
    expect(s, "{\"name\":\"ab\",\"d\":\"2023-02-29\"}", "/config/d");
    expect(s, "{\"name\":\"ab\",\"t\":\"2026-11-22T10:00:00Z\"}", NULL);
    expect(s, "{\"name\":\"ab\",\"t\":\"2026-11-22\"}", "/config/t");
    expect(s, "{\"name\":\"ab\",\"a\":[]}", "/config/a");
    expect(s, "{\"name\":\"ab\",\"a\":[1,2,3,4]}", "/config/a");
    expect(s, "{\"name\":\"ab\",\"a\":[1,2,1]}", "/config/a/2");
    expect(s, "{\"name\":\"ab\",\"a\":[1,\"x\"]}", "/config/a/1");
    expect(s, "{\"name\":\"ab\",\"u\":null}", NULL);
    expect(s, "{\"name\":\"ab\",\"u\":1}", "/config/u");
    expect(s, "{\"name\":\"ab\",\"any\":true}", "/config/any");
    expect(s, "{\"name\":\"ab\",\"any\":3}", NULL);
    expect(s, "{\"name\":\"ab\",\"one\":3}", "/config/one"); /* both match */
    expect(s, "{\"name\":\"ab\",\"one\":3.5}", NULL);
    expect(s, "{\"name\":\"ab\",\"not\":null}", "/config/not");
    expect(s, "{\"name\":\"ab\",\"m\":{}}", "/config/m");
    expect(s, "{\"name\":\"ab\",\"m\":{\"k\":1}}", "/config/m/k");
    expect(s, "{\"name\":\"ab\",\"a/b\":1}", "/config/a~1b");
    expect(s, "{\"name\":\"ab\",\"~x\":1}", "/config/~0x");

    /* all errors at once */
    json_t *errs = errors_of(s, "{\"n\":0,\"e\":5,\"zz\":1}");
    CHECK_MSG(json_array_size(errs) == 4, "want 4 errors, got %zu", json_array_size(errs));
    json_decref(errs);
    pt_schema_free(s);
}

static void test_bad_schemas(void)
{
    const char *bad[] = {
        "[]",
        "{\"type\":\"str\"}",
        "{\"type\":[]}",
        "{\"required\":\"a\"}",
        "{\"pattern\":\"(\"}",
        "{\"properties\":{\"a\":5}}",
        "{\"minLength\":-1}",
        "{\"minimum\":\"1\"}",
        "{\"$ref\":\"#/x\"}",
        "{\"items\":[{}]}",
        "{\"anyOf\":[]}",
        "{\"patternProperties\":{}}",
        /* Found by fuzz_schema: glibc's regcomp copies the subtree per
         * repetition, so these would need gigabytes. */
        "{\"pattern\":\"^[a-z]+++++++++++++++++++++++++++++++++++++++++$\"}",
        "{\"pattern\":\"((a{1,100}){1,100}){1,100}\"}",
        "{\"pattern\":\"(x{2}){2}{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}\"}",
        NULL,
    };
    for (size_t i = 0; bad[i]; i++) {
        pt_schema *s = compile(bad[i]);
        CHECK_MSG(s == NULL, "schema %s should be refused", bad[i]);
        pt_schema_free(s);
    }
    pt_schema *s = compile("true");
    CHECK_MSG(s != NULL, "true is a schema");
    pt_schema_free(s);

    /* Ordinary repetition is still fine. */
    const char *good[] = {
        "{\"pattern\":\"^[a-z0-9_]{1,40}$\"}",
        "{\"pattern\":\"^([0-9]{1,3}\\\\.){3}[0-9]{1,3}$\"}",
        "{\"pattern\":\"^[[:alpha:]]+( [[:alpha:]]+)*$\"}",
        "{\"pattern\":\"^a{1,100}(b|c)?[]x]+$\"}",
        NULL,
    };
    for (size_t i = 0; good[i]; i++) {
        s = compile(good[i]);
        CHECK_MSG(s != NULL, "schema %s should compile", good[i]);
        pt_schema_free(s);
    }
}

static void test_check_cache(void)
{
    json_t *schema = json_loads("{\"type\":\"object\",\"required\":[\"a\"]}", 0, NULL);
    json_t *ok = json_loads("{\"a\":1}", 0, NULL), *bad = json_object(), *errs = NULL;
    for (int i = 0; i < 3; i++) {
        CHECK_MSG(pt_schema_check(schema, ok, &errs) == 0 && errs == NULL, "valid value");
        CHECK_MSG(pt_schema_check(schema, bad, &errs) == PT_EINVAL && errs, "invalid value");
        CHECK_MSG(has_pointer(errs, "/a"), "pointer /a");
        json_decref(errs);
    }
    json_t *broken = json_loads("{\"type\":5}", 0, NULL);
    CHECK_MSG(pt_schema_check(broken, ok, &errs) == PT_ERR && errs == NULL, "bad schema");
    json_decref(broken);
    json_decref(schema);
    json_decref(ok);
    json_decref(bad);
    pt_schema_cache_clear();
}

static void test_pointer_join(void)
{
    char *p = pt_json_pointer_join("/a", "b/c~d");
    CHECK_MSG(p && strcmp(p, "/a/b~1c~0d") == 0, "pointer join: %s", p ? p : "(null)");
    free(p);
}

/* ECMA-style class escapes mean what a schema author expects; escapes
 * POSIX would read differently are refused at compile time. */
static void test_pattern_escapes(void)
{
    pt_schema *s = compile("{\"pattern\": \"^\\\\d{4}-\\\\w+\\\\s?\\\\.$\"}");
    CHECK(s != NULL);
    if (s) {
        expect(s, "\"2026-ab_9.\"", NULL);
        expect(s, "\"2026-ab .\"", NULL);
        expect(s, "\"dddd-ab.\"", "/config"); /* \d is a digit, not the letter d */
        expect(s, "\"2026-ab!\"", "/config"); /* \. is a dot */
        pt_schema_free(s);
    }
    s = compile("{\"pattern\": \"^[\\\\d\\\\s.]+$\"}");
    CHECK(s != NULL);
    if (s) {
        expect(s, "\"1 2.3\"", NULL);
        expect(s, "\"1a\"", "/config");
        pt_schema_free(s);
    }
    s = compile("{\"pattern\": \"^\\\\D\\\\S\\\\W$\"}");
    CHECK(s != NULL);
    if (s) {
        expect(s, "\"ab!\"", NULL);
        expect(s, "\"1b!\"", "/config");
        pt_schema_free(s);
    }
    /* word boundaries, unicode escapes and back-references: refused */
    CHECK(compile("{\"pattern\": \"\\\\bword\\\\b\"}") == NULL);
    CHECK(compile("{\"pattern\": \"\\\\u0041\"}") == NULL);
    CHECK(compile("{\"pattern\": \"(a)\\\\1\"}") == NULL);
    CHECK(compile("{\"pattern\": \"[\\\\D]\"}") == NULL);
}

int main(void)
{
    test_pattern_escapes();
    test_keywords();
    test_bad_schemas();
    test_check_cache();
    test_pointer_join();
    return check_finish("test_schema");
}
