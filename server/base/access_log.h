/*
 * access_log.h - one JSON line per HTTP request: when, the request id (also
 * sent as X-Request-Id), the client, method, path (never the query string),
 * status, duration, response bytes and the authenticated user.  Never a
 * token, a query string or a body.
 */
#ifndef PT_ACCESS_LOG_H
#define PT_ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pt_access_entry {
    const char *id;     /* request id */
    const char *remote; /* client address */
    const char *method;
    const char *path; /* raw path, without the query */
    const char *user; /* the verified caller, or NULL */
    int status;
    double ms;
    size_t bytes; /* response body */
} pt_access_entry;

/* Where the lines go: "stderr" (the default), "off", or a file path, opened
 * for appending (created 0640).  Lines are written at log level info: with
 * --log-level warn or error nothing is written. */
int pt_access_log_open(const char *dest);
void pt_access_log_close(void);
bool pt_access_log_enabled(void);
void pt_access_log_write(const pt_access_entry *e);

#endif
