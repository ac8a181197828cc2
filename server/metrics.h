/*
 * metrics.h - Prometheus counters: requests by route and status, a latency
 * histogram, and store gauges.  Lock-free on the hot path (atomics).
 */
#ifndef PT_METRICS_H
#define PT_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct pt_metrics pt_metrics;
struct pt_store;

int pt_metrics_new(pt_metrics **out);
void pt_metrics_free(pt_metrics *m);
/* route is the registered pattern, or "unmatched". */
void pt_metrics_observe(pt_metrics *m, const char *method, const char *route, int status,
                        double seconds);
/* Renders the text exposition format into a malloc'd string. */
char *pt_metrics_render(pt_metrics *m, struct pt_store *store, size_t *len);

#endif
