/*
 * lv_text.c - UTF-8 to Windows-1252, the WinAnsiEncoding of the PDF's
 * standard fonts.  Names such as "Zoë Ó Súilleabháin" keep their accents;
 * what the encoding cannot show becomes '?', never a broken byte.
 */
#include "lv.h"

#include <string.h>

/* The code points 0x80..0x9F of Windows-1252 (0 where undefined). */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static unsigned char to_cp1252(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F)
        return ' ';
    if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF))
        return (unsigned char)cp;
    for (int i = 0; i < 32; i++)
        if (cp1252_high[i] == cp)
            return (unsigned char)(0x80 + i);
    return '?';
}

/* Decodes one UTF-8 sequence; *n gets its length (1 for a bad byte). */
static uint32_t utf8_next(const unsigned char *s, size_t *n)
{
    unsigned char c = s[0];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0) {
        *n = 1;
        return 0xFFFD;
    }
    uint32_t cp = len == 1 ? c : (uint32_t)(c & (0x7F >> len));
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *n = (size_t)i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *n = (size_t)len;
    return cp;
}

char *lv_text_winansi(char *buf, size_t cap, const char *utf8)
{
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)(utf8 ? utf8 : "");
    while (*s && o + 1 < cap) {
        size_t n;
        buf[o++] = (char)to_cp1252(utf8_next(s, &n));
        s += n;
    }
    if (cap)
        buf[o] = '\0';
    return buf;
}
