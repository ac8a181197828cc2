/*
 * people_counts.h - how many people of an organisation have a staff group
 * and an effective status today, kept exact on write instead of being
 * recomputed on read.
 *
 * Kept in the store (PT_T_META, keys under "hc\0<org>\0"), changed in the
 * same write transaction as the person record (pt_person_put calls
 * pt_people_counts_track):
 *   hc/<org>/t                       -> the local date D the counts are "as of"
 *   hc/<org>/c/<status>[/<group>]    -> number of people (be64)
 *   hc/<org>/x/<be32 date>/<user>    -> a person whose effective status
 *                                       changes on that date (the day after
 *                                       the termination date): {from, to, group}
 * A reader whose org-local today differs from D applies the index entries
 * between D and today to what it read (O(transitions), never O(people);
 * both directions, so a test clock may go back); a writer persists that
 * advance.  Readers keep a small in-memory copy per org keyed by the
 * people generation and the day, so a dashboard usually reads no key at
 * all; a miss costs O(groups).
 *
 * An organisation without kept counts (a store from before they existed)
 * is counted by one scan of its people; porticod builds them for every
 * organisation at start (pt_people_counts_migrate) and the first person
 * write of an org builds them in its transaction.
 *
 * Thread-safe.  At most PT_PEOPLE_COUNTS_MAX_ORGS organisations are held
 * in memory (least recently used goes first).
 */
#ifndef PT_PEOPLE_COUNTS_H
#define PT_PEOPLE_COUNTS_H

#include "store/roles.h"
#include "store/store.h"

#define PT_PEOPLE_COUNTS_MAX_ORGS 256

/*
 * *out = number of people of org with that staff_group (NULL: any group)
 * whose effective status on the organisation's local date now is
 * `status`.  An empty or unknown org counts 0.
 */
int pt_people_count(int64_t *out, pt_txn *txn, const char *org, const char *staff_group,
                    pt_status status);
/* The same for a caller that knows the organisation's local date already
 * (INT32_MIN: read it), so a request reads the org record once. */
int pt_people_count_on(int64_t *out, pt_txn *txn, const char *org, int32_t today,
                       const char *staff_group, pt_status status);

/*
 * Keeps the counts of org exact across one person write, in the writer's
 * transaction: `before` is the stored record (NULL for an insert), `after`
 * the new one (NULL for a removal).  Builds the org's counts first if it
 * has none.  Called by pt_person_put, the one place people are written.
 */
int pt_people_counts_track(pt_txn *txn, const char *org, const json_t *before, const json_t *after);

/*
 * Builds kept counts for every organisation that has none (one scan of
 * its people each, logged); *built is how many were built.  porticod runs
 * it at start.
 */
int pt_people_counts_migrate(pt_store *store, size_t *built);

/*
 * Compares org's kept counts (as of today) and its transition index with
 * a full recount of its people in txn.  report (may be NULL) is called
 * with a line per disagreement; *mismatches is their number (0: exact).
 * An org without kept counts has nothing to disagree with.
 */
typedef void (*pt_people_counts_report_fn)(void *ctx, const char *org, const char *what);
int pt_people_counts_verify(size_t *mismatches, pt_txn *txn, const char *org,
                            pt_people_counts_report_fn report, void *report_ctx);

/* True for a PT_T_META key that belongs to the kept counts ("hc\0..."),
 * whose values are binary (for portico check). */
bool pt_people_counts_meta_key(const void *key, size_t len);

/* Cache statistics since start (or the last reset), for tests and metrics.
 * rebuilds: in-memory entries refilled from the kept counts; scans: full
 * scans of an organisation's people (orgs without kept counts). */
typedef struct pt_people_counts_stats {
    uint64_t hits;
    uint64_t rebuilds;
    uint64_t scans;
    size_t orgs; /* organisations cached now */
} pt_people_counts_stats;
void pt_people_counts_stats_get(pt_people_counts_stats *out);

/* Forgets every cached organisation (tests; a store swapped underneath). */
void pt_people_counts_reset(void);

#endif
