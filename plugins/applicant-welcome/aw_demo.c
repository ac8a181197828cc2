/*
 * aw_demo.c - the demo organisation's welcome content (porticod --demo): a
 * complete, accessible set (video with captions, services, a map with alt
 * text, NHS branding, the default checklist), published as version 1, and
 * the demo applicant app.alex with part of the checklist done.
 */
#include "aw_host.h"

#include <string.h>

#define DEMO_MEDIA "https://media.demo-trust.example/welcome/"
#define DEMO_SITE  "https://demo-trust.example/"

static json_t *demo_service(const char *name, const char *description, const char *path)
{
    return json_pack("{s:s, s:s, s:s+}", "name", name, "description", description, "url", DEMO_SITE,
                     path);
}

static json_t *demo_content(void)
{
    json_t *checklist = aw_default_checklist();
    if (checklist == NULL)
        return NULL;
    return json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:[o,o,o,o], s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:o}",
        "headline", "Welcome to Demo NHS Foundation Trust - we can't wait for you to join us",
        "welcome_video", "url", DEMO_MEDIA "chief-executive.mp4", "title",
        "A welcome from our chief executive", "captions_url", DEMO_MEDIA "chief-executive.en.vtt",
        "services",
        demo_service("Royal Infirmary",
                     "Our main acute hospital, with a 24-hour emergency department.",
                     "services/royal-infirmary"),
        demo_service("Community services",
                     "District nursing, health visiting and therapies in people's homes.",
                     "services/community"),
        demo_service("Occupational health",
                     "Your pre-employment health check, vaccinations and support at work.",
                     "services/occupational-health"),
        demo_service("Staff wellbeing hub", "Counselling, financial advice and staff networks.",
                     "services/wellbeing"),
        "area_map", "image_url", DEMO_MEDIA "area-map.png", "alt_text",
        "Map of the area the trust serves: the Royal Infirmary in the city centre, two community "
        "hospitals to the north and east, and the park-and-ride stops near each site.",
        "branding", "primary_colour", "#005EB8", "secondary_colour", "#003087", "text_colour",
        "#FFFFFF", "logo_url", DEMO_SITE "logo.svg", "logo_alt_text",
        "Demo NHS Foundation Trust logo", "checklist", checklist);
}

/* Items app.alex has done, and how many days ago. */
static const struct {
    const char *id;
    int days_ago;
} demo_done[] = {
    {"personal-information", 6},
    {"right-to-work", 5},
    {"fire-safety", 3},
    {"information-governance", 2},
    {"infection-prevention-control", 1},
};

typedef struct demo_write {
    portico_ctx *ctx;
    json_t *content;
    json_t *scratch;
} demo_write;

static int demo_txn(portico_txn *txn, void *arg)
{
    demo_write *w = arg;
    portico_ctx *ctx = w->ctx;
    const portico_host *h = ctx->host;
    char now[21], due[11];
    aw_now(ctx, now);
    const char *by = ctx->caller && ctx->caller->username ? ctx->caller->username : "system";
    int32_t today = h->today(ctx);
    h->date_format(due, today + aw_config_review_days(ctx));
    json_t *draft = aw_draft_record(w->content, 1, now, by, 0);
    int rc = draft ? h->put(txn, AW_KEY_DRAFT, draft) : PORTICO_ENOMEM;
    json_decref(draft);
    if (rc == PORTICO_OK)
        rc = aw_publish_txn(h, txn, w->content, 0, now, by, due, &w->scratch);
    json_t *alex = NULL;
    if (rc == PORTICO_OK && h->person_get(txn, "app.alex", &alex) != PORTICO_OK)
        return rc; /* no demo applicant: content only */
    json_decref(alex);
    const json_t *checklist = json_object_get(w->content, "checklist");
    for (size_t i = 0; rc == PORTICO_OK && i < sizeof(demo_done) / sizeof(demo_done[0]); i++) {
        char date[11], at[21];
        bool changed;
        int32_t day = today - demo_done[i].days_ago;
        h->date_format(date, day);
        h->time_format(at, (int64_t)day * 86400 + 10 * 3600); /* mid-morning */
        rc = aw_progress_set(h, txn, "app.alex", aw_checklist_find(checklist, demo_done[i].id),
                             true, date, at, &changed, &w->scratch);
    }
    return rc;
}

int aw_demo(portico_ctx *ctx, json_t **config)
{
    const portico_host *h = ctx->host;
    demo_write w = {ctx, demo_content(), NULL};
    json_t *errors = json_array();
    aw_errors e = {h, errors};
    int rc = w.content && errors ? PORTICO_OK : PORTICO_ENOMEM;
    if (rc == PORTICO_OK && aw_content_check(w.content, aw_errors_add, &e) > 0) {
        h->log(ctx, PORTICO_LOG_ERROR, "demo content does not pass its own checks");
        rc = PORTICO_EINVAL;
    }
    json_decref(errors);
    if (rc == PORTICO_OK)
        rc = h->write(ctx, demo_txn, &w);
    json_decref(w.scratch);
    json_decref(w.content);
    if (rc != PORTICO_OK)
        return rc;
    *config = json_pack("{s:i}", "review_days", 90);
    return *config ? PORTICO_OK : PORTICO_ENOMEM;
}
