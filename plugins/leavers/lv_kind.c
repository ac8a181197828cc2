/*
 * lv_kind.c - the three kinds of pay document and their names.
 */
#include "lv.h"

#include <string.h>

static const char *const kind_names[LV_KIND_COUNT] = {"payslip", "p45", "p60"};
static const char *const kind_titles[LV_KIND_COUNT] = {"Payslip", "P45", "P60"};

enum lv_kind lv_kind_from_name(const char *name)
{
    for (int k = 0; name && k < LV_KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return (enum lv_kind)k;
    return LV_KIND_NONE;
}

const char *lv_kind_name(enum lv_kind kind)
{
    return kind >= 0 && kind < LV_KIND_COUNT ? kind_names[kind] : "";
}

const char *lv_kind_title(enum lv_kind kind)
{
    return kind >= 0 && kind < LV_KIND_COUNT ? kind_titles[kind] : "";
}
