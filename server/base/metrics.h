/*
 * metrics.h - Prometheus counters: requests by route and status, a latency
 * histogram, and store gauges.  Lock-free on the hot path (atomics).
 */
#ifndef PT_METRICS_H
#define PT_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct pt_metrics pt_metrics;

int pt_metrics_new(pt_metrics **out);
void pt_metrics_free(pt_metrics *m);
/* route is the registered pattern, or "unmatched". */
void pt_metrics_observe(pt_metrics *m, const char *method, const char *route, int status,
                        double seconds);
/* Renders the request counters and latency histograms in the text
 * exposition format into a malloc'd string.  The store gauges are added by
 * the /metrics handler (app/health.c), so metrics do not depend on the
 * store. */
char *pt_metrics_render(pt_metrics *m, size_t *len);

#endif
