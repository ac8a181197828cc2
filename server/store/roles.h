/*
 * roles.h - the role and status vocabulary shared by every layer above the
 * store: PT_ROLE_* bits, pt_status, the verified caller (pt_caller, which
 * the store fills from a membership and http/ carries on each request) and
 * an organisation's leaver access window.
 */
#ifndef PT_ROLES_H
#define PT_ROLES_H

#include "base/common.h"

#include <jansson.h>

/* An organisation's leaver_access_days: days a leaver keeps access after
 * their termination date.  Default for new organisations, and the most
 * an organisation may set. */
#define PT_LEAVER_ACCESS_DAYS_DEFAULT 90
#define PT_LEAVER_ACCESS_DAYS_MAX     90

/* ---- roles and statuses ------------------------------------------------ */

enum pt_role {
    PT_ROLE_PORTAL_ADMIN = 1u << 0,
    PT_ROLE_CONTENT_ADMIN = 1u << 1,
    PT_ROLE_PAYROLL_ADMIN = 1u << 2,
    PT_ROLE_OH_ADMIN = 1u << 3,
    PT_ROLE_HR_ADMIN = 1u << 4,
    PT_ROLE_SYSTEM_ADMIN = 1u << 5, /* installation-wide, held on the account */
};
#define PT_ROLES_ORG_MASK 0x1fu

/* "portal_admin" -> bit; 0 if unknown. */
unsigned pt_role_from_name(const char *name);
const char *pt_role_name(unsigned bit);
/* JSON array of role names for a mask, in a fixed order. */
json_t *pt_roles_to_json(unsigned mask);

typedef enum pt_status {
    PT_STATUS_NONE = 0, /* no membership in the active org (system admin) */
    PT_STATUS_APPLICANT,
    PT_STATUS_EMPLOYEE,
    PT_STATUS_LEAVER,
} pt_status;
const char *pt_status_name(pt_status s);

/* ---- the caller -------------------------------------------------------- */

typedef struct pt_caller {
    char username[PT_ID_MAX + 1];
    char org[PT_ID_MAX + 1]; /* active organisation; "" for none */
    char sid[48];            /* session id */
    char jti[48];
    unsigned roles;   /* PT_ROLE_* of the active org, plus SYSTEM_ADMIN */
    pt_status status; /* effective status in the active org, today */
    bool mfa;         /* amr contains "otp" */
    int64_t exp;
    int32_t access_ends; /* leaver: last day of access (days); -1 otherwise */
    int32_t today;       /* the org-local date status was computed for */
} pt_caller;

static inline bool pt_caller_has(const pt_caller *c, unsigned role)
{
    return c && (c->roles & role) != 0;
}

#endif
