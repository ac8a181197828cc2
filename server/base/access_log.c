/*
 * access_log.c - the JSON access log (see access_log.h).
 */
#include "base/access_log.h"
#include "base/common.h"
#include "base/log.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_fd = -1; /* -1: off */
static bool g_own_fd;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * "off" or an empty string disables the log; "stderr" shares stderr with the
 * event log (one write per line, so lines never interleave mid-line).
 */
int pt_access_log_open(const char *dest)
{
    pt_access_log_close();
    if (!dest || !*dest || strcmp(dest, "off") == 0)
        return 0;
    if (strcmp(dest, "stderr") == 0) {
        g_fd = STDERR_FILENO;
        return 0;
    }
    int fd = open(dest, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        pt_error_set("access log %s: %s", dest, strerror(errno));
        return PT_EIO;
    }
    g_fd = fd;
    g_own_fd = true;
    return 0;
}

void pt_access_log_close(void)
{
    if (g_own_fd && g_fd >= 0)
        close(g_fd);
    g_fd = -1;
    g_own_fd = false;
}

bool pt_access_log_enabled(void)
{
    return g_fd >= 0 && pt_log_enabled(PT_LOG_INFO);
}

/* A value that is not UTF-8 (a client's raw path) is logged as a marker. */
static void put_str(json_t *obj, const char *key, const char *s)
{
    json_t *v = json_string(s ? s : "");
    json_object_set_new(obj, key, v ? v : json_string("(not UTF-8)"));
}

/*
 * jansson escapes every string (control characters, quotes; invalid UTF-8 is
 * replaced by a marker), so a client cannot break a line or forge fields
 * with the path it sends.
 */
void pt_access_log_write(const pt_access_entry *e)
{
    if (!pt_access_log_enabled())
        return;
    struct timespec ts;
    struct tm tm;
    char when[64];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    json_t *line = json_object();
    if (!line)
        return;
    put_str(line, "ts", when);
    put_str(line, "id", e->id);
    put_str(line, "remote", e->remote);
    put_str(line, "method", e->method);
    put_str(line, "path", e->path);
    json_object_set_new(line, "status", json_integer(e->status));
    json_object_set_new(line, "ms", json_real((double)(long long)(e->ms * 100.0 + 0.5) / 100.0));
    json_object_set_new(line, "bytes", json_integer((json_int_t)e->bytes));
    if (e->user && *e->user)
        put_str(line, "user", e->user);
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(line);
    if (!text)
        return;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL: written by length below */
    pthread_mutex_lock(&g_lock);
    ssize_t w = write(g_fd, text, n + 1);
    pthread_mutex_unlock(&g_lock);
    (void)w;
    free(text);
}
