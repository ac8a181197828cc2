/*
 * app/app.h - start-up pieces of porticod that sit above every subsystem.
 * The server context itself (pt_app) is defined in http/app.h.
 */
#ifndef PT_APP_H
#define PT_APP_H

#include "http/app.h"

int pt_routes_health(pt_app *app);    /* health.c: healthz, readyz, metrics, openapi, test clock */
int pt_routes_demo_page(pt_app *app); /* demo_page.c: GET / (the browser demo page) */

/* First start: creates system admin "admin" from PORTICO_ADMIN_PASSWORD when
 * the store has no accounts (bootstrap.c). */
int pt_bootstrap_admin(pt_app *app);
/* Loads the demo organisation idempotently and prints how to log in (demo.c). */
int pt_demo_load(pt_app *app);

#endif
