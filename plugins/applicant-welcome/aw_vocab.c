/*
 * aw_vocab.c - what an applicant's client may report as an interaction:
 * a bounded set of actions, on targets that exist in the published
 * content.  Anything else is refused, so analytics never fill up with
 * free text.
 */
#include "aw.h"

#include <stdio.h>
#include <string.h>

const char *const aw_actions[] = {"view",     "click",  "open",     "play", "pause",
                                  "complete", "expand", "collapse", NULL};

bool aw_action_valid(const char *action)
{
    for (size_t i = 0; action != NULL && aw_actions[i] != NULL; i++)
        if (strcmp(aw_actions[i], action) == 0)
            return true;
    return false;
}

static void target_add(json_t *targets, const char *prefix, const char *name, const char *kind)
{
    char t[AW_TARGET_MAX + 1];
    if (name == NULL)
        return;
    int n = snprintf(t, sizeof t, "%s%s", prefix, name);
    if (n > 0 && (size_t)n < sizeof t)
        json_object_set_new(targets, t, json_string(kind));
}

json_t *aw_targets_build(const json_t *content)
{
    json_t *targets = json_object();
    if (targets == NULL)
        return NULL;
    if (json_is_object(json_object_get(content, "welcome_video")))
        target_add(targets, "", "welcome_video", "video");
    if (json_is_object(json_object_get(content, "area_map")))
        target_add(targets, "", "area_map", "map");
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(content, "services"), i, v)
        target_add(targets, "service:", json_string_value(json_object_get(v, "name")), "service");
    json_array_foreach(json_object_get(content, "checklist"), i, v)
        target_add(targets, "checklist:", json_string_value(json_object_get(v, "id")), "checklist");
    return targets;
}

void aw_target_hash(char out[17], const char *target)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)target; p && *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}
