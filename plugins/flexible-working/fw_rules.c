/*
 * fw_rules.c - the rules of the statutory scheme that a JSON Schema cannot
 * say: which policy limits how many requests, what a decision must give,
 * and what counts as a held consultation or a missed meeting.
 */
#include "fw.h"

#include <ctype.h>
#include <string.h>

const char *const fw_business_reasons[] = {
    "extra_costs", "customer_demand", "reorganise_work",   "recruit_staff",
    "quality",     "performance",     "insufficient_work", "structural_changes",
    NULL};

const char *const fw_change_types[] = {
    "part_time", "compressed_hours", "term_time",        "annualised_hours",  "job_share",
    "flexitime", "self_rostering",   "remote_or_hybrid", "phased_retirement", "other",
    NULL};

const char *const fw_outcomes[] = {"approved", "approved_with_changes", "rejected", NULL};
const char *const fw_appeal_outcomes[] = {"upheld", "dismissed", NULL};

bool fw_name_in(const char *const *list, const char *name)
{
    for (size_t i = 0; name != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

fw_policy fw_policy_parse(const char *name)
{
    return name != NULL && strcmp(name, "nhs") == 0 ? FW_POLICY_NHS : FW_POLICY_STATUTORY;
}

int fw_policy_yearly_limit(fw_policy p)
{
    return p == FW_POLICY_NHS ? -1 : 2;
}

bool fw_text_blank(const char *s)
{
    for (; s != NULL && *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static void add_error(json_t **errors, const char *pointer, const char *message)
{
    if (*errors == NULL)
        *errors = json_array();
    if (*errors != NULL)
        json_array_append_new(*errors,
                              json_pack("{s:s, s:s}", "pointer", pointer, "message", message));
}

/*
 * A refusal must say which statutory ground applies and why (s80G), so
 * both are required for "rejected"; an approval with changes must say
 * what changed.  Grounds on an approval would be recorded against a
 * request that was granted, so they are refused rather than ignored.
 */
void fw_decision_check(const json_t *body, json_t **errors)
{
    const char *outcome = json_string_value(json_object_get(body, "outcome"));
    const json_t *reasons = json_object_get(body, "business_reasons");
    const char *explanation = json_string_value(json_object_get(body, "explanation"));
    size_t nreasons = json_is_array(reasons) ? json_array_size(reasons) : 0;
    if (outcome == NULL)
        return;
    if (strcmp(outcome, "rejected") == 0) {
        if (nreasons == 0)
            add_error(errors, "/business_reasons",
                      "a rejection needs one or more of the eight statutory business reasons");
        if (fw_text_blank(explanation))
            add_error(errors, "/explanation", "a rejection must explain why the reasons apply");
    } else {
        if (nreasons > 0)
            add_error(errors, "/business_reasons", "only a rejection gives business reasons");
        if (strcmp(outcome, "approved_with_changes") == 0 && fw_text_blank(explanation))
            add_error(errors, "/explanation", "say what was changed from the request");
    }
}

bool fw_consultation_held(const json_t *meetings)
{
    size_t i;
    const json_t *m;
    json_array_foreach(meetings, i,
                       m) if (json_is_true(json_object_get(m, "attended"))) return true;
    return false;
}

int fw_missed_meetings(const json_t *meetings)
{
    size_t i;
    const json_t *m;
    int n = 0;
    json_array_foreach(meetings, i, m)
    {
        if (json_is_false(json_object_get(m, "attended")) &&
            !json_is_true(json_object_get(m, "good_reason")))
            n++;
    }
    return n;
}
