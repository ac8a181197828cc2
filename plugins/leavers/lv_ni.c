/*
 * lv_ni.c - National Insurance numbers: the HMRC shape, and the masked
 * form (all but the last 3 characters hidden) that is the only form ever
 * read back, in JSON, PDF, audit entries or logs.
 */
#include "lv.h"

#include <string.h>

static bool letter_in(char c, const char *set)
{
    return c >= 'A' && c <= 'Z' && strchr(set, c) == NULL;
}

bool lv_ni_valid(const char *s)
{
    static const char *const never[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
    if (!s || strlen(s) != 9)
        return false;
    if (!letter_in(s[0], "DFIQUV") || !letter_in(s[1], "DFIOQUV"))
        return false;
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        if (s[0] == never[i][0] && s[1] == never[i][1])
            return false;
    for (int i = 2; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return s[8] >= 'A' && s[8] <= 'D';
}

void lv_ni_mask(char out[LV_NI_LEN], const char *ni)
{
    size_t n = ni ? strlen(ni) : 0;
    if (n > LV_NI_LEN - 1)
        n = LV_NI_LEN - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = '*';
    if (n >= 4)
        memcpy(out + n - 3, ni + strlen(ni) - 3, 3);
    out[n] = '\0';
}
