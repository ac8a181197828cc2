/*
 * aw_text.c - the plain-text rule for every text field of the content and
 * the https-only rule for every URL.  Clients show the content as text,
 * but a client that one day renders it as HTML, or a link a browser would
 * run (javascript:, data:) or load in clear (http:), must never find
 * anything to run.
 */
#include "aw.h"

#include <ctype.h>
#include <string.h>

/* Line and paragraph separators and the bidirectional embedding,
 * override and isolate controls (U+2028..U+202E, U+2066..U+2069): they
 * can make text read differently from what is stored. */
static bool format_control_at(const unsigned char *p, size_t left)
{
    if (left < 3 || p[0] != 0xE2)
        return false;
    if (p[1] == 0x80 && p[2] >= 0xA8 && p[2] <= 0xAE)
        return true;
    return p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9;
}

const char *aw_text_problem(const char *s, size_t len, bool multiline)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == '\n' && multiline)
            continue;
        if (c < 0x20 || c == 0x7F)
            return multiline ? "must be plain text: no control characters (line feeds are allowed)"
                             : "must be plain text: no control characters or line breaks";
        if (c == 0xC2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F)
            return "must be plain text: no control characters";
        if (format_control_at(p + i, len - i))
            return "must be plain text: no line separators or bidirectional controls";
        if (c == '<' && i + 1 < len &&
            (isalpha(p[i + 1]) || p[i + 1] == '/' || p[i + 1] == '!' || p[i + 1] == '?'))
            return "must be plain text: no HTML or XML markup ('<' followed by a letter, '/', '!' "
                   "or '?')";
    }
    return NULL;
}

bool aw_text_blank(const char *s)
{
    for (; s != NULL && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* RFC 3986 characters allowed after the authority (path, query,
 * fragment): unreserved, sub-delims, ':', '@', '/', '?', '#'.  '%' is
 * checked separately. */
static bool uri_char(unsigned char c)
{
    return isalnum(c) || strchr("-._~!$&'()*+,;=:@/?#", c) != NULL;
}

/* host[:port]: DNS-style labels of letters, digits and '-', separated by
 * single dots; no IP-literal brackets, no user information. */
static const char *authority_problem(const char *a, size_t len)
{
    size_t host_len = len;
    const char *colon = memchr(a, ':', len);
    if (memchr(a, '@', len) != NULL)
        return "must not carry user information ('@' before the host)";
    if (colon != NULL) {
        host_len = (size_t)(colon - a);
        size_t port_len = len - host_len - 1;
        if (port_len == 0 || port_len > 5)
            return "has a bad port";
        for (size_t i = host_len + 1; i < len; i++)
            if (!isdigit((unsigned char)a[i]))
                return "has a bad port";
    }
    if (host_len == 0)
        return "must name a host after https://";
    char prev = '.';
    for (size_t i = 0; i < host_len; i++) {
        char c = a[i];
        if (c == '.' && (prev == '.' || prev == '-'))
            return "has a bad host name";
        if (c == '-' && prev == '.')
            return "has a bad host name";
        if (c != '.' && c != '-' && !isalnum((unsigned char)c))
            return "has a bad host name";
        prev = c;
    }
    if (prev == '.' || prev == '-')
        return "has a bad host name";
    return NULL;
}

const char *aw_url_problem(const char *s, size_t len)
{
    static const char scheme[] = "https://";
    if (len > AW_URL_MAX)
        return "is too long";
    if (len < sizeof(scheme) - 1 || strncasecmp(s, scheme, sizeof(scheme) - 1) != 0)
        return "must be an https:// URL";
    const char *a = s + sizeof(scheme) - 1, *end = s + len;
    const char *rest = a;
    while (rest < end && *rest != '/' && *rest != '?' && *rest != '#')
        rest++;
    for (const char *p = a; p < rest; p++)
        if (*p == '%' || !(isalnum((unsigned char)*p) || strchr(".-:@", *p)))
            return "has a bad host name";
    const char *why = authority_problem(a, (size_t)(rest - a));
    if (why != NULL)
        return why;
    for (const char *p = rest; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            if (end - p < 3 || !isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
                return "has a bad %-escape";
            p += 2;
        } else if (!uri_char(c)) {
            return "has a character a URL cannot carry unescaped (spaces, quotes, '<', '>', "
                   "'\\', non-ASCII: use %-escapes)";
        }
    }
    return NULL;
}
