/*
 * url.c - percent-decoding shared by the router (path segments) and the
 * request query reader.
 */
#include "base/common.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * One decoder for paths and queries so that both refuse the same things:
 * a truncated or non-hex escape, and any NUL byte (raw or as %00), since
 * a NUL would let a handler see a truncated, ambiguous identifier.
 * Decoding never grows, so dst needs room for len + 1 bytes.
 */
int pt_url_decode(char *dst, const char *src, size_t len, bool plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return 0;
}
