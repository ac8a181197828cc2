/*
 * roles.c - the role and status vocabulary: names for PT_ROLE_* bits and
 * pt_status values, as stored in records and answered in JSON.
 */
#include "store/roles.h"

#include <string.h>

static const struct {
    unsigned bit;
    const char *name;
} role_names[] = {
    {PT_ROLE_PORTAL_ADMIN, "portal_admin"},   {PT_ROLE_CONTENT_ADMIN, "content_admin"},
    {PT_ROLE_PAYROLL_ADMIN, "payroll_admin"}, {PT_ROLE_OH_ADMIN, "oh_admin"},
    {PT_ROLE_HR_ADMIN, "hr_admin"},           {PT_ROLE_SYSTEM_ADMIN, "system_admin"},
};

unsigned pt_role_from_name(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < PT_ARRAY_LEN(role_names); i++)
        if (strcmp(role_names[i].name, name) == 0)
            return role_names[i].bit;
    return 0;
}

const char *pt_role_name(unsigned bit)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(role_names); i++)
        if (role_names[i].bit == bit)
            return role_names[i].name;
    return NULL;
}

json_t *pt_roles_to_json(unsigned mask)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < PT_ARRAY_LEN(role_names); i++)
        if (mask & role_names[i].bit)
            json_array_append_new(a, json_string(role_names[i].name));
    return a;
}

const char *pt_status_name(pt_status s)
{
    switch (s) {
    case PT_STATUS_APPLICANT:
        return "applicant";
    case PT_STATUS_EMPLOYEE:
        return "employee";
    case PT_STATUS_LEAVER:
        return "leaver";
    case PT_STATUS_NONE:
    default:
        return "none";
    }
}
