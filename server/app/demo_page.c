/*
 * demo_page.c - GET / : a small page that signs in through the public API
 * and renders the caller's dashboard, so `tools/demo.sh` has somewhere to
 * point a browser.  The page is embedded at build time (server/app/www/) and
 * served from memory by our own handler; CivetWeb's document_root file
 * serving is never enabled.
 */
#include "app/app.h"

extern const char pt_demo_page_html[];
extern const size_t pt_demo_page_html_len;
/* Generated with the page: its inline script and style allowed by hash,
 * nothing else (tools/page_embed.py). */
extern const char pt_demo_page_csp[];

static void get_demo_page(pt_req *req, pt_res *res, void *ud)
{
    (void)req;
    (void)ud;
    pt_res_bytes(res, 200, "text/html; charset=utf-8", pt_demo_page_html, pt_demo_page_html_len);
    pt_res_header(res, "Content-Security-Policy", pt_demo_page_csp);
    pt_res_header(res, "X-Content-Type-Options", "nosniff");
    pt_res_header(res, "Cache-Control", "no-cache");
}

int pt_routes_demo_page(pt_app *app)
{
    return pt_router_add(app->router, "GET", "/", PT_ROUTE_PUBLIC, get_demo_page, NULL);
}
