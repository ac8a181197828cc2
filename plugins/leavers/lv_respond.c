/*
 * lv_respond.c - one document or a pack as the client asked for it:
 * masked JSON (with an ETag, so polling costs nothing) or a PDF to keep,
 * with a Content-Disposition filename that says what it is.
 */
#include "lv_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool lv_wants_pdf(portico_ctx *ctx)
{
    const char *format = ctx->host->query(ctx, "format");
    if (format && strcmp(format, "pdf") == 0)
        return true;
    if (format && strcmp(format, "json") == 0)
        return false;
    /* A client that accepts anything gets JSON: only naming the type asks
     * for a PDF (accepts() then says whether its q is above 0). */
    const char *accept = ctx->host->header(ctx, "Accept");
    return accept && strcasestr(accept, "application/pdf") != NULL &&
           ctx->host->accepts(ctx, "application/pdf");
}

/* Keeps [A-Za-z0-9._-] so the filename needs no quoting rules. */
static void safe_name(char *buf, size_t cap, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 1 < cap; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        buf[o++] = ok ? c : '_';
    }
    buf[o] = '\0';
}

void lv_respond_pdf(portico_ctx *ctx, const json_t *docs, const json_t *person, const json_t *org,
                    bool pack, const char *filename)
{
    const portico_host *h = ctx->host;
    char today[11], disposition[200], safe[120];
    h->date_format(today, h->today(ctx));
    size_t n = json_array_size(docs);
    const json_t **list = calloc(n ? n : 1, sizeof(*list));
    if (!list) {
        h->respond_error(ctx, PORTICO_ENOMEM, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++)
        list[i] = json_array_get(docs, i);
    lv_pdf_who who = {
        .org_name = json_string_value(json_object_get(org, "name")),
        .person_name = json_string_value(json_object_get(person, "display_name")),
        .username = json_string_value(json_object_get(person, "username")),
        .generated_on = today,
    };
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc = lv_pdf_render(&who, (const json_t *const *)list, n, pack, &pdf, &len);
    free(list);
    if (rc != 0) {
        h->log(ctx, PORTICO_LOG_ERROR, "PDF rendering failed");
        h->respond_error(ctx, PORTICO_ERR, "the PDF could not be made");
        return;
    }
    safe_name(safe, sizeof(safe), filename);
    snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s.pdf\"", safe);
    h->set_header(ctx, "Content-Disposition", disposition);
    h->respond_bytes(ctx, 200, "application/pdf", pdf, len);
    free(pdf);
}

void lv_respond_document(portico_ctx *ctx, const json_t *stored, const json_t *person,
                         const json_t *org)
{
    const portico_host *h = ctx->host;
    if (!lv_wants_pdf(ctx)) {
        json_t *view = lv_view_document(stored);
        if (!view)
            h->respond_error(ctx, PORTICO_ENOMEM, NULL);
        else
            h->respond_json_etag(ctx, view);
        return;
    }
    /* The revision changes with every load, so it is the PDF's entity. */
    char etag[48], name[96];
    snprintf(etag, sizeof(etag), "\"pdf-%lld\"",
             (long long)json_integer_value(json_object_get(stored, "revision")));
    if (h->not_modified(ctx, etag))
        return;
    snprintf(name, sizeof(name), "%s-%s", json_string_value(json_object_get(stored, "kind")),
             json_string_value(json_object_get(stored, "period")));
    json_t *one = json_pack("[O]", stored);
    if (!one) {
        h->respond_error(ctx, PORTICO_ENOMEM, NULL);
        return;
    }
    lv_respond_pdf(ctx, one, person, org, false, name);
    json_decref(one);
}
