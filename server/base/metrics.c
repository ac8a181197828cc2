/*
 * metrics.c - Prometheus counters without locks on the request path.
 *
 * Two fixed-size open-addressing tables: request counts keyed by
 * (method, route, status) and latency histograms keyed by route.  Routes
 * are registered patterns (or "unmatched") and methods outside a small set
 * become "OTHER", so the key space is bounded and the tables never need to
 * grow.  A slot is claimed with a compare-and-swap, its key written, then
 * published; readers skip slots that are not yet published.
 */
#include "base/common.h"
#include "base/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_SLOTS 2048
#define HIST_SLOTS  512
#define ROUTE_MAX   160

enum { SLOT_EMPTY = 0, SLOT_CLAIMED = 1, SLOT_READY = 2 };

static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
#define NBUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

typedef struct count_slot {
    _Atomic int state;
    char method[8];
    char route[ROUTE_MAX];
    int status;
    _Atomic uint64_t count;
} count_slot;

typedef struct hist_slot {
    _Atomic int state;
    char route[ROUTE_MAX];
    _Atomic uint64_t buckets[NBUCKETS]; /* non-cumulative; summed at render */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_ns;
} hist_slot;

struct pt_metrics {
    count_slot counts[COUNT_SLOTS];
    hist_slot hists[HIST_SLOTS];
};

int pt_metrics_new(pt_metrics **out)
{
    pt_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return PT_ENOMEM;
    *out = m;
    return 0;
}

void pt_metrics_free(pt_metrics *m)
{
    free(m);
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static const char *method_label(const char *method)
{
    static const char *const known[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (method && strcmp(method, known[i]) == 0)
            return known[i];
    return "OTHER";
}

/* Waits out the short window between a slot being claimed and published. */
static int slot_state(_Atomic int *state)
{
    int s;
    while ((s = atomic_load_explicit(state, memory_order_acquire)) == SLOT_CLAIMED)
        ;
    return s;
}

static count_slot *count_find(pt_metrics *m, const char *method, const char *route, int status)
{
    uint64_t h = fnv1a(fnv1a(14695981039346656037ull, method), route) ^ (uint64_t)status;
    h *= 1099511628211ull;
    for (size_t i = 0; i < COUNT_SLOTS; i++) {
        count_slot *s = &m->counts[(h + i) % COUNT_SLOTS];
        int st = slot_state(&s->state);
        if (st == SLOT_EMPTY) {
            int expected = SLOT_EMPTY;
            if (atomic_compare_exchange_strong(&s->state, &expected, SLOT_CLAIMED)) {
                snprintf(s->method, sizeof(s->method), "%s", method);
                snprintf(s->route, sizeof(s->route), "%s", route);
                s->status = status;
                atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
                return s;
            }
            st = slot_state(&s->state);
        }
        if (st == SLOT_READY && s->status == status && strcmp(s->method, method) == 0 &&
            strncmp(s->route, route, sizeof(s->route) - 1) == 0)
            return s;
    }
    return NULL; /* full: drop the observation rather than block */
}

static hist_slot *hist_find(pt_metrics *m, const char *route)
{
    uint64_t h = fnv1a(14695981039346656037ull, route);
    for (size_t i = 0; i < HIST_SLOTS; i++) {
        hist_slot *s = &m->hists[(h + i) % HIST_SLOTS];
        int st = slot_state(&s->state);
        if (st == SLOT_EMPTY) {
            int expected = SLOT_EMPTY;
            if (atomic_compare_exchange_strong(&s->state, &expected, SLOT_CLAIMED)) {
                snprintf(s->route, sizeof(s->route), "%s", route);
                atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
                return s;
            }
            st = slot_state(&s->state);
        }
        if (st == SLOT_READY && strncmp(s->route, route, sizeof(s->route) - 1) == 0)
            return s;
    }
    return NULL;
}

void pt_metrics_observe(pt_metrics *m, const char *method, const char *route, int status,
                        double seconds)
{
    if (!m)
        return;
    if (!route)
        route = "unmatched";
    const char *ml = method_label(method);
    count_slot *c = count_find(m, ml, route, status);
    if (c)
        atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
    hist_slot *hs = hist_find(m, route);
    if (hs) {
        if (seconds < 0)
            seconds = 0;
        for (size_t i = 0; i < NBUCKETS; i++)
            if (seconds <= bucket_bounds[i]) {
                atomic_fetch_add_explicit(&hs->buckets[i], 1, memory_order_relaxed);
                break;
            }
        atomic_fetch_add_explicit(&hs->count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&hs->sum_ns, (uint64_t)(seconds * 1e9), memory_order_relaxed);
    }
}

typedef struct out {
    char *p;
    size_t len, cap;
    bool oom;
} out;

static void emit(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(out *o, const char *fmt, ...)
{
    if (o->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->oom = true;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->oom = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
}

/* Label values escaped per the exposition format (\\, \", \n). */
static void label_escape(char *dst, size_t n, const char *src)
{
    size_t o = 0;
    for (; *src && o + 2 < n; src++) {
        if (*src == '\\' || *src == '"') {
            dst[o++] = '\\';
            dst[o++] = *src;
        } else if (*src == '\n') {
            dst[o++] = '\\';
            dst[o++] = 'n';
        } else {
            dst[o++] = *src;
        }
    }
    dst[o] = '\0';
}

char *pt_metrics_render(pt_metrics *m, size_t *len)
{
    out o = {malloc(8192), 0, 8192, false};
    if (!o.p)
        return NULL;
    o.p[0] = '\0';
    char route[2 * ROUTE_MAX + 2];

    emit(&o, "# HELP portico_http_requests_total HTTP requests by method, route and status.\n"
             "# TYPE portico_http_requests_total counter\n");
    for (size_t i = 0; m && i < COUNT_SLOTS; i++) {
        count_slot *s = &m->counts[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
            continue;
        label_escape(route, sizeof(route), s->route);
        emit(&o, "portico_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
             s->method, route, s->status,
             (unsigned long long)atomic_load_explicit(&s->count, memory_order_relaxed));
    }

    emit(&o, "# HELP portico_http_request_duration_seconds Time to answer a request.\n"
             "# TYPE portico_http_request_duration_seconds histogram\n");
    for (size_t i = 0; m && i < HIST_SLOTS; i++) {
        hist_slot *s = &m->hists[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
            continue;
        label_escape(route, sizeof(route), s->route);
        uint64_t cum = 0;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
            emit(&o, "portico_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                 route, bucket_bounds[b], (unsigned long long)cum);
        }
        uint64_t count = atomic_load_explicit(&s->count, memory_order_relaxed);
        if (count < cum)
            count = cum;
        emit(&o, "portico_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
             route, (unsigned long long)count);
        emit(&o, "portico_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route,
             (double)atomic_load_explicit(&s->sum_ns, memory_order_relaxed) / 1e9);
        emit(&o, "portico_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route,
             (unsigned long long)count);
    }

    if (o.oom) {
        free(o.p);
        return NULL;
    }
    if (len)
        *len = o.len;
    return o.p;
}
