/*
 * schema.c - a JSON Schema subset validator (see schema.h).
 *
 * A schema is checked and its patterns compiled once (at portlet load);
 * validation afterwards only reads the compiled form, so it runs on many
 * request threads without locks (glibc's regexec locks internally).
 */
#include "host/schema.h"

#include "base/clock.h"

#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_MAX_DEPTH 64
#define CACHE_MAX        32

typedef struct compiled_re {
    const json_t *node; /* the schema object holding "pattern" */
    regex_t re;
} compiled_re;

struct pt_schema {
    json_t *json;
    compiled_re *res;
    size_t nres, capres;
};

/* ---- pointers ------------------------------------------------------------ */

char *pt_json_pointer_join(const char *base, const char *token)
{
    size_t blen = strlen(base), extra = 0;
    for (const char *p = token; *p; p++)
        extra += (*p == '~' || *p == '/') ? 2 : 1;
    char *out = malloc(blen + extra + 2);
    if (!out)
        return NULL;
    memcpy(out, base, blen);
    size_t o = blen;
    out[o++] = '/';
    for (const char *p = token; *p; p++) {
        if (*p == '~') {
            out[o++] = '~';
            out[o++] = '0';
        } else if (*p == '/') {
            out[o++] = '~';
            out[o++] = '1';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return out;
}

static char *pointer_index(const char *base, size_t i)
{
    char tok[32];
    snprintf(tok, sizeof(tok), "%zu", i);
    return pt_json_pointer_join(base, tok);
}

/* ---- compile ------------------------------------------------------------- */

static const char *const type_names[] = {"string", "number", "integer", "boolean",
                                         "object", "array",  "null",    NULL};

static bool type_name_valid(const char *s)
{
    for (size_t i = 0; type_names[i]; i++)
        if (strcmp(s, type_names[i]) == 0)
            return true;
    return false;
}

static bool is_nonneg_int(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

static int compile_node(pt_schema *s, const json_t *node, const char *where, int depth);

static int compile_sub(pt_schema *s, const json_t *node, const char *where, const char *tok,
                       int depth)
{
    char *w = pt_json_pointer_join(where, tok);
    if (!w)
        return PT_ENOMEM;
    int err = compile_node(s, node, w, depth + 1);
    free(w);
    return err;
}

static int compile_list(pt_schema *s, const json_t *arr, const char *where, const char *kw,
                        int depth)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        pt_error_set("schema %s/%s: must be a non-empty array of schemas", where, kw);
        return PT_EINVAL;
    }
    char *w = pt_json_pointer_join(where, kw);
    if (!w)
        return PT_ENOMEM;
    int err = 0;
    for (size_t i = 0; i < json_array_size(arr) && !err; i++) {
        char tok[32];
        snprintf(tok, sizeof(tok), "%zu", i);
        err = compile_sub(s, json_array_get(arr, i), w, tok, depth);
    }
    free(w);
    return err;
}

/* Roughly the node count glibc's regcomp builds; beyond this, refuse. */
#define PATTERN_COST_MAX 10000

static size_t cost_mul(size_t a, size_t b)
{
    return (b && a > (PATTERN_COST_MAX + 1) / b) ? PATTERN_COST_MAX + 1 : a * b;
}

/*
 * glibc's regcomp expands repetition by copying the repeated subtree: "x+"
 * becomes "xx*" and "x{1,100}" a hundred copies, so stacked or nested
 * repetitions multiply ("a+++++..." doubles per '+', and a 40-byte
 * pattern can ask for gigabytes).  This estimates that expanded size in
 * one pass over the ERE, bracket expressions and escapes skipped as
 * single atoms, so a pathological pattern is refused at compile time.
 */
static size_t pattern_cost(const char *p)
{
    size_t total[33] = {0}, last[33] = {0};
    int d = 0;
    for (; *p; p++) {
        size_t factor = 0;
        if (*p == '(' && d < 32) {
            d++;
            total[d] = last[d] = 0;
            continue;
        }
        if (*p == ')' && d > 0) {
            last[d - 1] = total[d] + 1;
            total[d - 1] += last[d - 1];
            d--;
            continue;
        }
        if (*p == '*' || *p == '?') {
            continue;
        } else if (*p == '+') {
            factor = 2;
        } else if (*p == '{' && p[1] >= '0' && p[1] <= '9') {
            char *end;
            unsigned long m = strtoul(p + 1, &end, 10), n = m + 1;
            if (*end == ',' && end[1] >= '0' && end[1] <= '9')
                n = strtoul(end + 1, &end, 10);
            else if (*end == ',')
                end++;
            unsigned long most = m > n ? m : n;
            factor = most >= PATTERN_COST_MAX ? PATTERN_COST_MAX + 1 : most + 1;
            p = *end == '}' ? end : end - 1;
        }
        if (factor) {
            size_t grown = cost_mul(last[d], factor);
            total[d] = total[d] - last[d] + grown;
            last[d] = grown;
        } else {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '[') {
                const char *q = p + 1;
                if (*q == '^')
                    q++;
                if (*q == ']')
                    q++;
                while (*q && *q != ']')
                    q += (q[0] == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=') &&
                          strchr(q + 2, ']'))
                             ? (size_t)(strchr(q + 2, ']') - q) + 1
                             : 1;
                p = *q ? q : q - 1;
            }
            last[d] = 1;
            total[d]++;
        }
        if (total[d] > PATTERN_COST_MAX)
            return PATTERN_COST_MAX + 1;
    }
    return total[0] + (d ? total[d] : 0);
}

/*
 * JSON Schema patterns are ECMA-262; regcomp speaks POSIX ERE, where "\d"
 * is just the letter d, so "^\d{4}$" would quietly accept "dddd".  The
 * class escapes schemas use (\d \w \s and their negations) are rewritten
 * into ERE classes; an escaped punctuation character stays as it is; any
 * other escape (\b, \u0041, back-references ...) is refused at load,
 * never silently read another way.  *out is malloc'd.
 */
static int pattern_to_ere(char **out, const char *p)
{
    size_t cap = strlen(p) * 12 + 1; /* "\W" -> "[^A-Za-z0-9_]" is the longest */
    char *o = malloc(cap), *w = o;
    bool in_bracket = false;
    if (!o)
        return PT_ENOMEM;
    for (; *p; p++) {
        const char *put = NULL;
        if (in_bracket && *p == ']' && p[-1] != '[' && !(p[-1] == '^' && p[-2] == '[')) {
            in_bracket = false;
        } else if (!in_bracket && *p == '[') {
            in_bracket = true;
        } else if (*p == '\\') {
            char e = *++p;
            switch (e) {
            case 'd':
                put = in_bracket ? "0-9" : "[0-9]";
                break;
            case 'w':
                put = in_bracket ? "A-Za-z0-9_" : "[A-Za-z0-9_]";
                break;
            case 's':
                put = in_bracket ? "[:space:]" : "[[:space:]]";
                break;
            case 'D':
                put = in_bracket ? NULL : "[^0-9]";
                break;
            case 'W':
                put = in_bracket ? NULL : "[^A-Za-z0-9_]";
                break;
            case 'S':
                put = in_bracket ? NULL : "[^[:space:]]";
                break;
            default:
                if (e && strchr(".+*?()[]{}|^$/\\-", e) && !(in_bracket && strchr("]\\-^[", e))) {
                    *w++ = in_bracket ? e : '\\';
                    if (!in_bracket)
                        *w++ = e;
                    continue;
                }
            }
            if (!put) {
                free(o);
                pt_error_set("escape \\%c is not supported (patterns are POSIX ERE plus \\d "
                             "\\w \\s)",
                             e ? e : ' ');
                return PT_EINVAL;
            }
            size_t n = strlen(put);
            memcpy(w, put, n);
            w += n;
            continue;
        }
        *w++ = *p;
    }
    *w = '\0';
    *out = o;
    return 0;
}

static int add_regex(pt_schema *s, const json_t *node, const char *pattern, const char *where)
{
    if (pattern_cost(pattern) > PATTERN_COST_MAX) {
        pt_error_set("schema %s/pattern: repetitions expand too far", where);
        return PT_EINVAL;
    }
    char *ere = NULL;
    int perr = pattern_to_ere(&ere, pattern);
    if (perr < 0) {
        if (perr == PT_EINVAL)
            pt_error_set("schema %s/pattern: %s", where, pt_error_last());
        return perr;
    }

    if (s->nres == s->capres) {
        size_t cap = s->capres ? s->capres * 2 : 4;
        compiled_re *r = realloc(s->res, cap * sizeof(*r));
        if (!r) {
            free(ere);
            return PT_ENOMEM;
        }
        s->res = r;
        s->capres = cap;
    }
    compiled_re *c = &s->res[s->nres];
    int rc = regcomp(&c->re, ere, REG_EXTENDED | REG_NOSUB);
    free(ere);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &c->re, msg, sizeof(msg));
        pt_error_set("schema %s/pattern: %s", where, msg);
        return PT_EINVAL;
    }
    c->node = node;
    s->nres++;
    return 0;
}

/*
 * Keywords that would change the outcome of validation but that this
 * subset does not implement.  Refusing them beats ignoring them: a portlet
 * author finds out at load time instead of shipping unchecked configs.
 */
static const char *const unsupported[] = {"$ref",
                                          "$dynamicRef",
                                          "$recursiveRef",
                                          "patternProperties",
                                          "dependentRequired",
                                          "dependentSchemas",
                                          "dependencies",
                                          "if",
                                          "then",
                                          "else",
                                          "prefixItems",
                                          "contains",
                                          "minContains",
                                          "maxContains",
                                          "propertyNames",
                                          "unevaluatedProperties",
                                          "unevaluatedItems",
                                          "additionalItems",
                                          NULL};

/*
 * Checks one schema node's keywords for the right shapes so validation can
 * trust them without re-checking on every request.
 */
static int compile_node(pt_schema *s, const json_t *node, const char *where, int depth)
{
    if (depth > SCHEMA_MAX_DEPTH) {
        pt_error_set("schema %s: nested too deeply", where[0] ? where : "/");
        return PT_EINVAL;
    }
    if (json_is_boolean(node))
        return 0;
    if (!json_is_object(node)) {
        pt_error_set("schema %s: a schema must be an object or a boolean", where[0] ? where : "/");
        return PT_EINVAL;
    }
    for (size_t i = 0; unsupported[i]; i++) {
        if (json_object_get(node, unsupported[i])) {
            pt_error_set("schema %s: keyword %s is not supported", where[0] ? where : "/",
                         unsupported[i]);
            return PT_EINVAL;
        }
    }
    const json_t *v;
    int err;

    if ((v = json_object_get(node, "type"))) {
        bool ok = false;
        if (json_is_string(v)) {
            ok = type_name_valid(json_string_value(v));
        } else if (json_is_array(v) && json_array_size(v) > 0) {
            ok = true;
            for (size_t i = 0; i < json_array_size(v); i++) {
                const json_t *t = json_array_get(v, i);
                if (!json_is_string(t) || !type_name_valid(json_string_value(t)))
                    ok = false;
            }
        }
        if (!ok) {
            pt_error_set("schema %s/type: not a type name or array of type names", where);
            return PT_EINVAL;
        }
    }
    if ((v = json_object_get(node, "enum")) && !json_is_array(v)) {
        pt_error_set("schema %s/enum: must be an array", where);
        return PT_EINVAL;
    }
    if ((v = json_object_get(node, "required"))) {
        bool ok = json_is_array(v);
        for (size_t i = 0; ok && i < json_array_size(v); i++)
            ok = json_is_string(json_array_get(v, i));
        if (!ok) {
            pt_error_set("schema %s/required: must be an array of strings", where);
            return PT_EINVAL;
        }
    }
    static const char *const numkw[] = {"minimum", "maximum", "exclusiveMinimum",
                                        "exclusiveMaximum", NULL};
    for (size_t i = 0; numkw[i]; i++) {
        if ((v = json_object_get(node, numkw[i])) && !json_is_number(v)) {
            pt_error_set("schema %s/%s: must be a number", where, numkw[i]);
            return PT_EINVAL;
        }
    }
    if ((v = json_object_get(node, "multipleOf")) &&
        (!json_is_number(v) || json_number_value(v) <= 0)) {
        pt_error_set("schema %s/multipleOf: must be a number > 0", where);
        return PT_EINVAL;
    }
    static const char *const countkw[] = {"minLength",     "maxLength",     "minItems", "maxItems",
                                          "minProperties", "maxProperties", NULL};
    for (size_t i = 0; countkw[i]; i++) {
        if ((v = json_object_get(node, countkw[i])) && !is_nonneg_int(v)) {
            pt_error_set("schema %s/%s: must be a non-negative integer", where, countkw[i]);
            return PT_EINVAL;
        }
    }
    if ((v = json_object_get(node, "uniqueItems")) && !json_is_boolean(v)) {
        pt_error_set("schema %s/uniqueItems: must be a boolean", where);
        return PT_EINVAL;
    }
    if ((v = json_object_get(node, "format")) && !json_is_string(v)) {
        pt_error_set("schema %s/format: must be a string", where);
        return PT_EINVAL;
    }
    if ((v = json_object_get(node, "pattern"))) {
        if (!json_is_string(v)) {
            pt_error_set("schema %s/pattern: must be a string", where);
            return PT_EINVAL;
        }
        if ((err = add_regex(s, node, json_string_value(v), where)))
            return err;
    }
    if ((v = json_object_get(node, "properties"))) {
        if (!json_is_object(v)) {
            pt_error_set("schema %s/properties: must be an object", where);
            return PT_EINVAL;
        }
        char *w = pt_json_pointer_join(where, "properties");
        if (!w)
            return PT_ENOMEM;
        const char *k;
        const json_t *sub;
        err = 0;
        json_object_foreach((json_t *)v, k, sub)
        {
            if ((err = compile_sub(s, sub, w, k, depth)))
                break;
        }
        free(w);
        if (err)
            return err;
    }
    if ((v = json_object_get(node, "additionalProperties")) &&
        (err = compile_sub(s, v, where, "additionalProperties", depth)))
        return err;
    if ((v = json_object_get(node, "items"))) {
        if (json_is_array(v)) {
            pt_error_set("schema %s/items: the array (tuple) form is not supported", where);
            return PT_EINVAL;
        }
        if ((err = compile_sub(s, v, where, "items", depth)))
            return err;
    }
    static const char *const listkw[] = {"allOf", "anyOf", "oneOf", NULL};
    for (size_t i = 0; listkw[i]; i++) {
        if ((v = json_object_get(node, listkw[i])) &&
            (err = compile_list(s, v, where, listkw[i], depth)))
            return err;
    }
    if ((v = json_object_get(node, "not")) && (err = compile_sub(s, v, where, "not", depth)))
        return err;
    return 0;
}

int pt_schema_compile(pt_schema **out, const json_t *schema)
{
    *out = NULL;
    if (!schema) {
        pt_error_set("schema: none given");
        return PT_EINVAL;
    }
    pt_schema *s = calloc(1, sizeof(*s));
    if (!s)
        return PT_ENOMEM;
    s->json = json_deep_copy(schema);
    if (!s->json) {
        free(s);
        return PT_ENOMEM;
    }
    int err = compile_node(s, s->json, "", 0);
    if (err) {
        pt_schema_free(s);
        return err;
    }
    *out = s;
    return 0;
}

void pt_schema_free(pt_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nres; i++)
        regfree(&s->res[i].re);
    free(s->res);
    json_decref(s->json);
    free(s);
}

const json_t *pt_schema_json(const pt_schema *s)
{
    return s ? s->json : NULL;
}

/* ---- validate ------------------------------------------------------------ */

typedef struct vstate {
    const pt_schema *s;
    json_t *errors;
    size_t found; /* every violation, also those past the reporting cap */
} vstate;

static void add_error(vstate *st, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Enough to show a client its mistakes; a huge bad body must not build a
 * huge answer. */
#define PT_SCHEMA_ERRORS_MAX 100

static void add_error(vstate *st, const char *ptr, const char *fmt, ...)
{
    st->found++;
    if (json_array_size(st->errors) >= PT_SCHEMA_ERRORS_MAX)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_append_new(st->errors, json_pack("{s:s, s:s}", "pointer", ptr, "message", msg));
}

static bool is_integral(const json_t *v)
{
    if (json_is_integer(v))
        return true;
    if (json_is_real(v)) {
        double d = json_real_value(v);
        return isfinite(d) && floor(d) == d;
    }
    return false;
}

static bool type_matches(const char *t, const json_t *v)
{
    if (strcmp(t, "string") == 0)
        return json_is_string(v);
    if (strcmp(t, "number") == 0)
        return json_is_number(v);
    if (strcmp(t, "integer") == 0)
        return is_integral(v);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(t, "object") == 0)
        return json_is_object(v);
    if (strcmp(t, "array") == 0)
        return json_is_array(v);
    if (strcmp(t, "null") == 0)
        return json_is_null(v);
    return false;
}

/* JSON Schema equality: numbers compare by value (1 == 1.0), the rest
 * structurally. */
static bool value_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!value_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        const json_t *va;
        json_object_foreach((json_t *)a, k, va)
        {
            const json_t *vb = json_object_get(b, k);
            if (!vb || !value_equal(va, vb))
                return false;
        }
        return true;
    }
    return json_equal(a, b);
}

static int num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : x > y;
    }
    double x = json_number_value(a), y = json_number_value(b);
    return x < y ? -1 : x > y;
}

static size_t utf8_code_points(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static const regex_t *find_regex(const pt_schema *s, const json_t *node)
{
    for (size_t i = 0; i < s->nres; i++)
        if (s->res[i].node == node)
            return &s->res[i].re;
    return NULL;
}

/* A short text of a JSON value for messages (enum lists, consts). */
static void value_text(char *buf, size_t n, const json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!t) {
        pt_strlcpy(buf, "?", n);
        return;
    }
    if (pt_strlcpy(buf, t, n) < 0 && n > 4)
        memcpy(buf + n - 4, "...", 4);
    free(t);
}

static void validate_node(vstate *st, const json_t *node, const json_t *v, const char *ptr);

/* Runs a sub-schema into a scratch error list; true if it matched. */
static bool matches(vstate *st, const json_t *node, const json_t *v, const char *ptr)
{
    vstate tmp = {st->s, json_array(), 0};
    if (!tmp.errors)
        return false;
    validate_node(&tmp, node, v, ptr);
    bool ok = tmp.found == 0;
    json_decref(tmp.errors);
    return ok;
}

static void validate_string(vstate *st, const json_t *node, const json_t *v, const char *ptr)
{
    const char *s = json_string_value(v);
    size_t cps = utf8_code_points(s, json_string_length(v));
    const json_t *k;
    if ((k = json_object_get(node, "minLength")) && cps < (size_t)json_integer_value(k))
        add_error(st, ptr, "must be at least %lld characters long",
                  (long long)json_integer_value(k));
    if ((k = json_object_get(node, "maxLength")) && cps > (size_t)json_integer_value(k))
        add_error(st, ptr, "must be at most %lld characters long",
                  (long long)json_integer_value(k));
    const regex_t *re = find_regex(st->s, node);
    if (re && (strlen(s) != json_string_length(v) || regexec(re, s, 0, NULL, 0) != 0))
        add_error(st, ptr, "must match the pattern %s",
                  json_string_value(json_object_get(node, "pattern")));
    const char *fmt = json_string_value(json_object_get(node, "format"));
    if (fmt && strcmp(fmt, "date") == 0) {
        int32_t d;
        if (!pt_date_parse(s, &d))
            add_error(st, ptr, "must be a date (YYYY-MM-DD)");
    } else if (fmt && strcmp(fmt, "date-time") == 0) {
        int64_t t;
        if (!pt_time_parse(s, &t))
            add_error(st, ptr, "must be an RFC 3339 date-time");
    }
}

static void validate_number(vstate *st, const json_t *node, const json_t *v, const char *ptr)
{
    const json_t *k;
    char b[64];
    if ((k = json_object_get(node, "minimum")) && num_cmp(v, k) < 0) {
        value_text(b, sizeof(b), k);
        add_error(st, ptr, "must be >= %s", b);
    }
    if ((k = json_object_get(node, "maximum")) && num_cmp(v, k) > 0) {
        value_text(b, sizeof(b), k);
        add_error(st, ptr, "must be <= %s", b);
    }
    if ((k = json_object_get(node, "exclusiveMinimum")) && num_cmp(v, k) <= 0) {
        value_text(b, sizeof(b), k);
        add_error(st, ptr, "must be > %s", b);
    }
    if ((k = json_object_get(node, "exclusiveMaximum")) && num_cmp(v, k) >= 0) {
        value_text(b, sizeof(b), k);
        add_error(st, ptr, "must be < %s", b);
    }
    if ((k = json_object_get(node, "multipleOf"))) {
        bool ok;
        if (json_is_integer(k) && json_is_integer(v)) {
            ok = json_integer_value(v) % json_integer_value(k) == 0;
        } else {
            double q = json_number_value(v) / json_number_value(k);
            ok = isfinite(q) && fabs(q - round(q)) < 1e-9;
        }
        if (!ok) {
            value_text(b, sizeof(b), k);
            add_error(st, ptr, "must be a multiple of %s", b);
        }
    }
}

static void validate_object(vstate *st, const json_t *node, const json_t *v, const char *ptr)
{
    const json_t *k, *props = json_object_get(node, "properties");
    const json_t *addl = json_object_get(node, "additionalProperties");
    if ((k = json_object_get(node, "required"))) {
        for (size_t i = 0; i < json_array_size(k); i++) {
            const char *name = json_string_value(json_array_get(k, i));
            if (!json_object_get(v, name)) {
                char *p = pt_json_pointer_join(ptr, name);
                if (p)
                    add_error(st, p, "is required");
                free(p);
            }
        }
    }
    size_t n = json_object_size(v);
    if ((k = json_object_get(node, "minProperties")) && n < (size_t)json_integer_value(k))
        add_error(st, ptr, "must have at least %lld properties", (long long)json_integer_value(k));
    if ((k = json_object_get(node, "maxProperties")) && n > (size_t)json_integer_value(k))
        add_error(st, ptr, "must have at most %lld properties", (long long)json_integer_value(k));
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        const json_t *sub = props ? json_object_get(props, key) : NULL;
        char *p = pt_json_pointer_join(ptr, key);
        if (!p)
            continue;
        if (sub) {
            validate_node(st, sub, val, p);
        } else if (json_is_false(addl)) {
            add_error(st, p, "is not an allowed field");
        } else if (json_is_object(addl)) {
            validate_node(st, addl, val, p);
        }
        free(p);
    }
}

#define PT_SCHEMA_UNIQUE_MAX 1000

static void validate_array(vstate *st, const json_t *node, const json_t *v, const char *ptr)
{
    const json_t *k;
    size_t n = json_array_size(v);
    if ((k = json_object_get(node, "minItems")) && n < (size_t)json_integer_value(k))
        add_error(st, ptr, "must have at least %lld items", (long long)json_integer_value(k));
    /* An over-long array is one mistake: checking its items (uniqueness is
     * quadratic) would let a 1 MiB body hold a worker for seconds. */
    if ((k = json_object_get(node, "maxItems")) && n > (size_t)json_integer_value(k)) {
        add_error(st, ptr, "must have at most %lld items", (long long)json_integer_value(k));
        return;
    }
    bool unique = json_is_true(json_object_get(node, "uniqueItems"));
    if (unique && n > PT_SCHEMA_UNIQUE_MAX) {
        add_error(st, ptr, "must have at most %d items to be checked for duplicates",
                  PT_SCHEMA_UNIQUE_MAX);
        return;
    }
    if (unique) {
        for (size_t i = 1; i < n; i++) {
            for (size_t j = 0; j < i; j++) {
                if (value_equal(json_array_get(v, i), json_array_get(v, j))) {
                    char *p = pointer_index(ptr, i);
                    if (p)
                        add_error(st, p, "duplicates item %zu", j);
                    free(p);
                    break;
                }
            }
        }
    }
    if ((k = json_object_get(node, "items"))) {
        for (size_t i = 0; i < n; i++) {
            char *p = pointer_index(ptr, i);
            if (p)
                validate_node(st, k, json_array_get(v, i), p);
            free(p);
        }
    }
}

/*
 * Every keyword is checked and every failure recorded, so a client sees
 * all its mistakes at once.  A type mismatch stops the node, as the other
 * keywords would only repeat it.
 */
static void validate_node(vstate *st, const json_t *node, const json_t *v, const char *ptr)
{
    if (json_is_true(node))
        return;
    if (json_is_false(node)) {
        add_error(st, ptr, "is not allowed");
        return;
    }
    const json_t *k;
    if ((k = json_object_get(node, "type"))) {
        bool ok = false;
        if (json_is_string(k)) {
            ok = type_matches(json_string_value(k), v);
        } else {
            for (size_t i = 0; i < json_array_size(k) && !ok; i++)
                ok = type_matches(json_string_value(json_array_get(k, i)), v);
        }
        if (!ok) {
            char b[96];
            value_text(b, sizeof(b), k);
            add_error(st, ptr, "must be of type %s", b);
            return;
        }
    }
    if ((k = json_object_get(node, "enum"))) {
        bool ok = false;
        for (size_t i = 0; i < json_array_size(k) && !ok; i++)
            ok = value_equal(json_array_get(k, i), v);
        if (!ok) {
            char b[160];
            value_text(b, sizeof(b), k);
            add_error(st, ptr, "must be one of %s", b);
        }
    }
    if ((k = json_object_get(node, "const")) && !value_equal(k, v)) {
        char b[160];
        value_text(b, sizeof(b), k);
        add_error(st, ptr, "must be %s", b);
    }
    if (json_is_string(v))
        validate_string(st, node, v, ptr);
    else if (json_is_number(v))
        validate_number(st, node, v, ptr);
    else if (json_is_object(v))
        validate_object(st, node, v, ptr);
    else if (json_is_array(v))
        validate_array(st, node, v, ptr);

    if ((k = json_object_get(node, "allOf"))) {
        for (size_t i = 0; i < json_array_size(k); i++)
            validate_node(st, json_array_get(k, i), v, ptr);
    }
    if ((k = json_object_get(node, "anyOf"))) {
        bool ok = false;
        for (size_t i = 0; i < json_array_size(k) && !ok; i++)
            ok = matches(st, json_array_get(k, i), v, ptr);
        if (!ok)
            add_error(st, ptr, "does not match any of the allowed forms");
    }
    if ((k = json_object_get(node, "oneOf"))) {
        size_t n = 0;
        for (size_t i = 0; i < json_array_size(k); i++)
            n += matches(st, json_array_get(k, i), v, ptr);
        if (n != 1)
            add_error(st, ptr, "must match exactly one of the allowed forms (matches %zu)", n);
    }
    if ((k = json_object_get(node, "not")) && matches(st, k, v, ptr))
        add_error(st, ptr, "matches a form that is not allowed");
}

bool pt_schema_validate(const pt_schema *s, const json_t *value, const char *base, json_t *errors)
{
    vstate st = {s, errors, 0};
    if (!value) {
        add_error(&st, base ? base : "", "is required");
        return false;
    }
    validate_node(&st, s->json, value, base ? base : "");
    return st.found == 0;
}

/* ---- one-shot with a cache ------------------------------------------------ */

/*
 * Portlets call host->schema_validate with schemas they keep for their
 * lifetime (often parsed once in init), so compiling per call would redo
 * regcomp on every request.  The cache holds a reference to each schema
 * object so its address cannot be reused by another one while cached.
 */
typedef struct cache_entry {
    json_t *key;
    pt_schema *compiled;
} cache_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry cache[CACHE_MAX];
static size_t cache_n;

int pt_schema_check(const json_t *schema, const json_t *value, json_t **errors)
{
    *errors = NULL;
    pt_schema *s = NULL, *own = NULL;

    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < cache_n; i++)
        if (cache[i].key == schema)
            s = cache[i].compiled;
    pthread_mutex_unlock(&cache_lock);

    if (!s) {
        int err = pt_schema_compile(&own, schema);
        if (err)
            return PT_ERR;
        s = own;
        pthread_mutex_lock(&cache_lock);
        bool present = false;
        for (size_t i = 0; i < cache_n; i++)
            present = present || cache[i].key == schema;
        if (!present && cache_n < CACHE_MAX) {
            cache[cache_n].key = json_incref((json_t *)schema);
            cache[cache_n].compiled = own;
            cache_n++;
            own = NULL; /* owned by the cache now, freed at shutdown */
        }
        pthread_mutex_unlock(&cache_lock);
    }
    json_t *errs = json_array();
    if (!errs) {
        pt_schema_free(own);
        return PT_ENOMEM;
    }
    bool ok = pt_schema_validate(s, value, "", errs);
    pt_schema_free(own);
    if (ok) {
        json_decref(errs);
        return 0;
    }
    *errors = errs;
    return PT_EINVAL;
}

void pt_schema_cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < cache_n; i++) {
        pt_schema_free(cache[i].compiled);
        json_decref(cache[i].key);
    }
    cache_n = 0;
    pthread_mutex_unlock(&cache_lock);
}

/* ---- defaults ----------------------------------------------------------- */

static size_t fill_defaults(const json_t *schema, json_t *obj, unsigned depth)
{
    size_t added = 0;
    const char *name;
    json_t *sub;
    if (depth > 16 || !json_is_object(obj))
        return 0;
    json_object_foreach((json_t *)json_object_get(schema, "properties"), name, sub)
    {
        json_t *have = json_object_get(obj, name);
        const json_t *dflt = json_object_get(sub, "default");
        if (have) {
            added += fill_defaults(sub, have, depth + 1);
        } else if (dflt) {
            if (json_object_set_new(obj, name, json_deep_copy(dflt)) == 0)
                added++;
        } else if (json_is_object(json_object_get(sub, "properties"))) {
            json_t *fresh = json_object();
            size_t n = fresh ? fill_defaults(sub, fresh, depth + 1) : 0;
            if (n && json_object_set_new(obj, name, fresh) == 0) {
                added += n;
                fresh = NULL;
            }
            json_decref(fresh);
        }
    }
    return added;
}

size_t pt_schema_fill_defaults(const pt_schema *s, json_t *obj)
{
    return s ? fill_defaults(pt_schema_json(s), obj, 0) : 0;
}
