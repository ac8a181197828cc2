/*
 * aw_contrast.c - WCAG 2.1 contrast between the branding's text colour and
 * its background colours.
 */
#include "aw.h"

#include <math.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool aw_colour_parse(const char *s, unsigned char rgb[3])
{
    if (s == NULL || s[0] != '#')
        return false;
    for (int i = 0; i < 3; i++) {
        int hi = hex_digit(s[1 + 2 * i]);
        if (hi < 0)
            return false;
        int lo = hex_digit(s[2 + 2 * i]);
        if (lo < 0)
            return false;
        rgb[i] = (unsigned char)(hi * 16 + lo);
    }
    return s[7] == '\0';
}

/* sRGB channel to linear light, as WCAG 2.1 defines relative luminance
 * (the 0.04045 threshold of the sRGB standard; WCAG's older 0.03928 gives
 * the same result for every 8-bit value). */
static double channel_linear(unsigned char c)
{
    double v = c / 255.0;
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

double aw_luminance(const unsigned char rgb[3])
{
    return 0.2126 * channel_linear(rgb[0]) + 0.7152 * channel_linear(rgb[1]) +
           0.0722 * channel_linear(rgb[2]);
}

double aw_contrast_ratio(const unsigned char a[3], const unsigned char b[3])
{
    double la = aw_luminance(a), lb = aw_luminance(b);
    return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

double aw_ratio_display(double ratio)
{
    return floor(ratio * 100.0 + 1e-9) / 100.0;
}

bool aw_branding_ratios(const json_t *branding, double *on_primary, double *on_secondary)
{
    unsigned char p[3], s[3], t[3];
    if (!json_is_object(branding) ||
        !aw_colour_parse(json_string_value(json_object_get(branding, "primary_colour")), p) ||
        !aw_colour_parse(json_string_value(json_object_get(branding, "secondary_colour")), s) ||
        !aw_colour_parse(json_string_value(json_object_get(branding, "text_colour")), t))
        return false;
    *on_primary = aw_contrast_ratio(t, p);
    *on_secondary = aw_contrast_ratio(t, s);
    return true;
}

json_t *aw_contrast_json(const json_t *branding)
{
    double on_p, on_s;
    if (!aw_branding_ratios(branding, &on_p, &on_s))
        return json_null();
    return json_pack("{s:s, s:f, s:f, s:f, s:b}", "standard", "WCAG 2.1 AA", "minimum",
                     AW_CONTRAST_MIN, "text_on_primary", aw_ratio_display(on_p),
                     "text_on_secondary", aw_ratio_display(on_s), "passes",
                     on_p >= AW_CONTRAST_MIN && on_s >= AW_CONTRAST_MIN);
}
