/*
 * common.c - the per-thread error detail and the identifier rules.
 */
#include "base/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PT_ERROR_MAX 512

static _Thread_local char tl_error[PT_ERROR_MAX];

/*
 * Formats into a scratch buffer first so that callers may pass
 * pt_error_last() itself as an argument ("wrapping: %s") without the
 * source and destination overlapping inside vsnprintf.
 */
void pt_error_set(const char *fmt, ...)
{
    char tmp[PT_ERROR_MAX];
    va_list ap;

    if (fmt == NULL) {
        tl_error[0] = '\0';
        return;
    }
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        tmp[0] = '\0';
    memcpy(tl_error, tmp, sizeof(tl_error));
}

const char *pt_error_last(void)
{
    return tl_error;
}

void pt_error_clear(void)
{
    tl_error[0] = '\0';
}

int pt_strlcpy(char *dst, const char *src, size_t n)
{
    if (dst == NULL || n == 0)
        return -1;
    if (src == NULL)
        src = "";
    size_t len = strlen(src);
    if (len < n) {
        memcpy(dst, src, len + 1);
        return 0;
    }
    memcpy(dst, src, n - 1);
    dst[n - 1] = '\0';
    return -1;
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/*
 * One checker for both rules: ids end up inside store keys and URLs, so
 * the alphabet is deliberately small (no NUL, '/', '%', upper case or
 * spaces) and the length bounded by PT_ID_MAX.
 */
static bool ident_valid(const char *s, bool allow_at)
{
    if (s == NULL || !is_lower_alnum(s[0]))
        return false;
    size_t i = 0;
    for (; s[i] != '\0'; i++) {
        char c = s[i];
        if (i >= PT_ID_MAX)
            return false;
        if (is_lower_alnum(c) || c == '.' || c == '_' || c == '-')
            continue;
        if (allow_at && c == '@')
            continue;
        return false;
    }
    return i >= 1;
}

bool pt_slug_valid(const char *s)
{
    return ident_valid(s, false);
}

bool pt_username_valid(const char *s)
{
    return ident_valid(s, true);
}
