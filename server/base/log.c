/*
 * log.c - one line per event on stderr.
 */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int g_level = PT_LOG_INFO;
static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;

void pt_log_set_level(enum pt_log_level level)
{
    atomic_store(&g_level, (int)level);
}

static const char *level_name(enum pt_log_level level)
{
    switch (level) {
    case PT_LOG_DEBUG:
        return "DEBUG";
    case PT_LOG_INFO:
        return "INFO";
    case PT_LOG_WARN:
        return "WARN";
    case PT_LOG_ERROR:
        return "ERROR";
    }
    return "?";
}

/*
 * Messages may quote client input (paths, usernames), so control
 * characters are blanked: one event must stay one line and nobody can
 * forge extra log lines with an embedded newline.
 */
static void scrub(char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            *s = ' ';
    }
}

/*
 * The timestamp is wall-clock time, not pt_clock: a test that fixes the
 * server clock should not make the log lie about when things happened.
 * The line is assembled first and written with one call under a lock so
 * lines from different threads never interleave.
 */
void pt_log(enum pt_log_level level, const char *subsys, const char *fmt, ...)
{
    if ((int)level < atomic_load(&g_level))
        return;

    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);

    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    scrub(msg);

    char sub[64];
    snprintf(sub, sizeof(sub), "%s", subsys ? subsys : "-");
    scrub(sub);

    pthread_mutex_lock(&g_log_lock);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: %s%s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            level_name(level), sub, msg, n >= (int)sizeof(msg) ? "..." : "");
    fflush(stderr);
    pthread_mutex_unlock(&g_log_lock);
}
