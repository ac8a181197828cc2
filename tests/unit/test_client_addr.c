/*
 * test_client_addr.c - pt_req_client_addr: the forwarded client address is
 * believed only from a configured proxy, read from the right of
 * X-Forwarded-For, and never taken from a client-written entry.
 */
#include "check.h"
#include "http/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The client address of a fake request (socket peer 127.0.0.1) with one
 * header line (or none), as app sees it. */
static void expect(pt_app *app, const char *header, const char *want)
{
    const char *headers[] = {header, NULL};
    pt_req *req = pt_req_new_fake(app, "GET", "/x", NULL, header ? headers : NULL, NULL, 0);
    CHECK(req != NULL);
    if (!req)
        return;
    const char *got = pt_req_client_addr(req);
    CHECK_MSG(got && strcmp(got, want) == 0, "%s -> %s, want %s", header ? header : "(none)",
              got ? got : "NULL", want);
    pt_req_free_fake(req);
}

static int load(const char *text, pt_config *cfg)
{
    char path[] = "/tmp/portico-cfg-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return PT_EIO;
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    int rc = pt_config_load_file(cfg, path);
    unlink(path);
    return rc;
}

int main(void)
{
    pt_app app;
    memset(&app, 0, sizeof app);
    pt_config_defaults(&app.cfg);

    /* No trusted proxies (the default): headers are ignored. */
    expect(&app, NULL, "127.0.0.1");
    expect(&app, "X-Forwarded-For: 203.0.113.9", "127.0.0.1");
    expect(&app, "X-Real-IP: 203.0.113.9", "127.0.0.1");
    expect(NULL, "X-Forwarded-For: 203.0.113.9", "127.0.0.1");

    /* The peer is a trusted proxy. */
    pt_strlcpy(app.cfg.trusted_proxies[0], "127.0.0.1", sizeof app.cfg.trusted_proxies[0]);
    app.cfg.ntrusted_proxies = 1;
    expect(&app, NULL, "127.0.0.1");
    expect(&app, "X-Forwarded-For: 203.0.113.9", "203.0.113.9");
    expect(&app, "X-Forwarded-For:  2001:db8::7 ", "2001:db8::7");
    expect(&app, "X-Real-IP: 203.0.113.9", "203.0.113.9");
    /* A client-written entry on the left is never taken. */
    expect(&app, "X-Forwarded-For: 10.9.9.9, 203.0.113.9", "203.0.113.9");
    /* Trusted hops on the right are skipped. */
    expect(&app, "X-Forwarded-For: 198.51.100.4, 203.0.113.9, 127.0.0.1", "203.0.113.9");
    /* Garbage stops the walk at the last good hop, or keeps the peer. */
    expect(&app, "X-Forwarded-For: 203.0.113.9, not-an-ip", "127.0.0.1");
    expect(&app, "X-Forwarded-For: evil, 203.0.113.9", "203.0.113.9");
    expect(&app, "X-Forwarded-For: ,", "127.0.0.1");
    expect(&app, "X-Real-IP: 1.2.3.4.5", "127.0.0.1");
    expect(&app, "X-Forwarded-For: 256.1.1.1", "127.0.0.1");

    /* Another peer is trusted, not this one. */
    pt_strlcpy(app.cfg.trusted_proxies[0], "10.0.0.1", sizeof app.cfg.trusted_proxies[0]);
    expect(&app, "X-Forwarded-For: 203.0.113.9", "127.0.0.1");

    /* The config file: addresses only. */
    CHECK(load("{\"trusted_proxies\": [\"127.0.0.1\", \"::1\"]}", &app.cfg) == 0);
    CHECK(app.cfg.ntrusted_proxies == 2 && strcmp(app.cfg.trusted_proxies[1], "::1") == 0);
    CHECK(load("{\"trusted_proxies\": [\"127.0.0.0/8\"]}", &app.cfg) < 0);
    CHECK(load("{\"trusted_proxies\": [\"localhost\"]}", &app.cfg) < 0);
    CHECK(load("{\"trusted_proxies\": \"127.0.0.1\"}", &app.cfg) < 0);
    CHECK(load("{\"request_timeout_ms\": 50}", &app.cfg) < 0);
    CHECK(load("{\"keep_alive_timeout_ms\": 2000, \"body_timeout_ms\": 9000}", &app.cfg) == 0);
    CHECK(app.cfg.keep_alive_timeout_ms == 2000 && app.cfg.body_timeout_ms == 9000);
    return check_finish("test_client_addr");
}
