/*
 * aw_summary.c - the dashboard cards.  On the applicant dashboard: the
 * headline, the welcome video, checklist progress ("7 of 13 done") and the
 * start date.  On the employee dashboard, for those who edit the content
 * (content_admin, portal_admin): when it is due for review.  Everyone else
 * does not get the card.  Nothing in a card changes by the second, so the
 * dashboard keeps its ETag.
 */
#include "aw_host.h"

#include <string.h>

typedef struct card_read {
    const portico_host *h;
    const char *user; /* NULL: no progress wanted */
    json_t *published, *progress;
} card_read;

static int card_txn(portico_txn *txn, void *arg)
{
    card_read *r = arg;
    const portico_host *h = r->h;
    json_decref(r->published);
    json_decref(r->progress);
    r->published = r->progress = NULL;
    int rc = aw_store_get(h, txn, AW_KEY_PUBLISHED, &r->published);
    if (rc != PORTICO_OK || r->user == NULL || r->published == NULL)
        return rc;
    char key[PORTICO_KEY_MAX + 1];
    rc = h->key(key, sizeof key, "progress", r->user, NULL);
    return rc == PORTICO_OK ? aw_store_get(h, txn, key, &r->progress) : rc;
}

static json_t *applicant_card(const card_read *r, const portico_caller *who)
{
    const json_t *content = json_object_get(r->published, "content");
    int done, total;
    json_t *rows = aw_checklist_view(json_object_get(content, "checklist"),
                                     json_object_get(r->progress, "items"), &done, &total);
    json_decref(rows);
    json_t *start = json_object_get(who->person, "start_date");
    return json_pack(
        "{s:O?, s:O?, s:O?, s:o, s:O?}", "version", json_object_get(r->published, "version"),
        "headline", json_object_get(content, "headline"), "welcome_video",
        json_object_get(content, "welcome_video"), "progress", aw_progress_json(done, total),
        "start_date", json_is_string(start) ? start : NULL);
}

static json_t *review_card(portico_ctx *ctx, const card_read *r)
{
    const char *due_s = json_string_value(json_object_get(r->published, "review_due"));
    int32_t due, today = ctx->host->today(ctx);
    if (due_s == NULL || !ctx->host->date_parse(due_s, &due))
        return json_pack("{s:b, s:n, s:n, s:b}", "published", false, "version", "review_due",
                         "review_overdue", false);
    return json_pack("{s:b, s:O?, s:s, s:b, s:i}", "published", true, "version",
                     json_object_get(r->published, "version"), "review_due", due_s,
                     "review_overdue", today > due, "days_until_review", (int)(due - today));
}

int aw_summary(portico_ctx *ctx, const char *dashboard, json_t **out)
{
    const portico_caller *who = ctx->caller;
    *out = NULL;
    bool applicant = strcmp(dashboard, "applicant") == 0;
    if (applicant ? who->status != PORTICO_STATUS_APPLICANT
                  : (strcmp(dashboard, "employee") != 0 ||
                     !(who->roles & (PORTICO_ROLE_CONTENT_ADMIN | PORTICO_ROLE_PORTAL_ADMIN))))
        return PORTICO_HIDDEN;
    card_read r = {ctx->host, applicant ? who->username : NULL, NULL, NULL};
    int rc = ctx->host->read(ctx, card_txn, &r);
    if (rc == PORTICO_OK && applicant && r.published == NULL)
        rc = PORTICO_HIDDEN;
    else if (rc == PORTICO_OK)
        *out = applicant ? applicant_card(&r, who) : review_card(ctx, &r);
    if (rc == PORTICO_OK && *out == NULL)
        rc = PORTICO_ENOMEM;
    json_decref(r.published);
    json_decref(r.progress);
    return rc;
}
