/*
 * args.c - messages and the argument parsing shared by the commands.
 */
#include "base/common.h"
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The common part of cli_fail() and cli_usage_error(): "portico: <message>". */
static void vsay(const char *fmt, va_list ap)
{
    fputs("portico: ", stderr);
    vfprintf(stderr, fmt, ap);
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    fputs("\nTry 'portico --help'.\n", stderr);
    return EXIT_USAGE;
}

/* The error detail of the model/store layer, or a generic text. */
const char *cli_detail(void)
{
    const char *d = pt_error_last();
    return d && *d ? d : "unknown error";
}

int cli_parse_args(int argc, char **argv, opt *opts, const char **pos, int max_pos, int *npos)
{
    *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (*npos >= max_pos)
                return cli_usage_error("unexpected argument '%s'", a);
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--help") == 0) {
            fputs(cli_usage_text, stdout);
            exit(0);
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        opt *o = NULL;
        for (opt *p = opts; p && p->name; p++)
            if (strlen(p->name) == nlen && strncmp(p->name, name, nlen) == 0)
                o = p;
        if (!o)
            return cli_usage_error("unknown option '--%.*s'", (int)nlen, name);
        if (o->seen)
            return cli_usage_error("option '--%s' given twice", o->name);
        o->seen = true;
        if (o->flag) {
            if (eq)
                return cli_usage_error("option '--%s' takes no value", o->name);
            continue;
        }
        if (eq) {
            o->value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_usage_error("option '--%s' needs a value", o->name);
            o->value = argv[++i];
        }
    }
    return 0;
}

/* Parses a whole decimal number in [min, max]. */
bool cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    if (!s || !*s)
        return false;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

void cli_print_errors(const json_t *errors)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *ptr = json_string_value(json_object_get(e, "pointer"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        json_t *row = json_object_get(e, "row");
        if (json_is_integer(row))
            fprintf(stderr, "  row %lld: %s: %s\n", (long long)json_integer_value(row),
                    ptr ? ptr : "", msg ? msg : "");
        else
            fprintf(stderr, "  %s: %s\n", ptr ? ptr : "", msg ? msg : "");
    }
}
