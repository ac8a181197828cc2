/*
 * people_counts.h - how many people of an organisation have a staff group
 * and an effective status today, answered from a per-organisation cache.
 *
 * Every write of a person record (pt_person_put) advances the
 * organisation's people generation (store/model.h) in the same
 * transaction.  A count reads
 * that generation in the caller's transaction; while it and the day are
 * those of the cached entry the answer comes from memory, otherwise the
 * organisation's people are scanned once and the cache refilled.  So a
 * count is never staler than the caller's own snapshot, and a termination
 * date passing at midnight is seen without any write.
 *
 * Thread-safe.  At most PT_PEOPLE_COUNTS_MAX_ORGS organisations are held
 * (least recently used goes first).
 */
#ifndef PT_PEOPLE_COUNTS_H
#define PT_PEOPLE_COUNTS_H

#include "store/roles.h"
#include "store/store.h"

#define PT_PEOPLE_COUNTS_MAX_ORGS 256

/*
 * *out = number of people of org with that staff_group (NULL: any group)
 * whose effective status today (pt_clock_today) is `status`.  An empty or
 * unknown org counts 0.
 */
int pt_people_count(int64_t *out, pt_txn *txn, const char *org, const char *staff_group,
                    pt_status status);

/* Cache statistics since start (or the last reset), for tests and metrics. */
typedef struct pt_people_counts_stats {
    uint64_t hits;
    uint64_t rebuilds;
    size_t orgs; /* organisations cached now */
} pt_people_counts_stats;
void pt_people_counts_stats_get(pt_people_counts_stats *out);

/* Forgets every cached organisation (tests; a store swapped underneath). */
void pt_people_counts_reset(void);

#endif
