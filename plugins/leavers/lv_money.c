/*
 * lv_money.c - money is integer pence everywhere; this formats it for
 * people ("£1,234.56") and adds up lists of lines.
 */
#include "lv.h"

#include <stdio.h>

void lv_money_format(char *buf, size_t cap, int64_t pence, bool winansi)
{
    char digits[32], grouped[48];
    uint64_t v = pence < 0 ? (uint64_t)0 - (uint64_t)pence : (uint64_t)pence;
    int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)(v / 100));
    size_t g = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    snprintf(buf, cap, "%s%s%s.%02u", pence < 0 ? "-" : "", winansi ? "\xA3" : "\xC2\xA3", grouped,
             (unsigned)(v % 100));
}

int64_t lv_lines_sum(const json_t *lines)
{
    int64_t sum = 0;
    size_t i;
    const json_t *line;
    json_array_foreach((json_t *)lines, i, line) sum +=
        json_integer_value(json_object_get(line, "amount"));
    return sum;
}
