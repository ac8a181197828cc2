/*
 * aw_default.c - the content a new organisation starts with, so a content
 * administrator edits a sensible draft instead of a blank page: the
 * pre-start tasks every NHS new starter has (personal information,
 * right-to-work documents) and the eleven subjects of the Core Skills
 * Training Framework as training items.
 */
#include "aw.h"

#include <stddef.h>

#define CSTF_URL "https://www.e-lfh.org.uk/programmes/statutory-and-mandatory-training/"

static const struct {
    const char *id, *title, *kind, *url;
} default_items[] = {
    {"personal-information", "Complete your personal information", "personal_info", NULL},
    {"right-to-work", "Upload your right-to-work documents", "document", NULL},
    {"conflict-resolution", "Conflict Resolution", "training", CSTF_URL},
    {"equality-diversity-human-rights", "Equality, Diversity and Human Rights", "training",
     CSTF_URL},
    {"fire-safety", "Fire Safety", "training", CSTF_URL},
    {"health-safety-welfare", "Health, Safety and Welfare", "training", CSTF_URL},
    {"infection-prevention-control", "Infection Prevention and Control", "training", CSTF_URL},
    {"information-governance", "Information Governance and Data Security", "training", CSTF_URL},
    {"moving-handling", "Moving and Handling", "training", CSTF_URL},
    {"preventing-radicalisation", "Preventing Radicalisation", "training", CSTF_URL},
    {"resuscitation", "Resuscitation", "training", CSTF_URL},
    {"safeguarding-adults", "Safeguarding Adults", "training", CSTF_URL},
    {"safeguarding-children", "Safeguarding Children", "training", CSTF_URL},
};

json_t *aw_default_checklist(void)
{
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < sizeof(default_items) / sizeof(default_items[0]); i++) {
        json_t *item = json_pack("{s:s, s:s, s:s}", "id", default_items[i].id, "title",
                                 default_items[i].title, "kind", default_items[i].kind);
        if (item != NULL && default_items[i].url != NULL)
            json_object_set_new(item, "url", json_string(default_items[i].url));
        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

json_t *aw_default_content(void)
{
    json_t *checklist = aw_default_checklist();
    if (checklist == NULL)
        return NULL;
    /* NHS blue and dark blue under white text: 6.37:1 and 11.84:1 (WCAG ratios, cut to two
     * decimals). */
    return json_pack("{s:s, s:[], s:{s:s, s:s, s:s}, s:o}", "headline",
                     "Welcome - we look forward to you joining us", "services", "branding",
                     "primary_colour", "#005EB8", "secondary_colour", "#003087", "text_colour",
                     "#FFFFFF", "checklist", checklist);
}
