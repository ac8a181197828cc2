/*
 * session.h - refresh sessions: one record per login in PT_T_SESSIONS,
 * keyed by a random session id (sid).
 *
 * A refresh token is "<sid>.<generation>.<secret>".  Only a hash of the
 * current secret is stored.  Each refresh moves the session to the next
 * generation with a new secret; presenting a spent one (an older
 * generation whose secret we can still check) means the token was copied,
 * so the whole session is revoked.  Access tokens carry the sid and are
 * refused once their session is revoked or expired.
 */
#ifndef PT_SESSION_H
#define PT_SESSION_H

#include "auth/auth.h"
#include "store/store.h"

#define PT_SID_MAX     48
#define PT_REFRESH_MAX 256 /* longer refresh tokens are refused unread */

typedef struct pt_session {
    char sid[PT_SID_MAX];
    char username[PT_ID_MAX + 1];
    char org[PT_ID_MAX + 1]; /* "" for none */
    bool mfa;
    uint64_t generation;
    int64_t created_at;
    int64_t expires_at;
    bool revoked;
} pt_session;

/*
 * Creates a session that lives until now + ttl.  *out_refresh (malloc'd)
 * is the first refresh token; out_sid receives the session id.
 */
int pt_session_create(char **out_refresh, char out_sid[PT_SID_MAX], pt_txn *txn,
                      const char *username, const char *org, bool mfa, int64_t now, int64_t ttl);

/*
 * Spends refresh token `refresh` and issues the next one (*out_refresh,
 * malloc'd); *out describes the session.  Returns 0; PT_EINVAL for an
 * unknown, malformed, expired or revoked token; PT_EDENIED when a spent
 * token was presented: the session has then been revoked in txn, and the
 * caller must still COMMIT the transaction (return 0 from its write
 * callback) for the revocation to stick.
 */
int pt_session_rotate(char **out_refresh, pt_session *out, pt_txn *txn, const char *refresh,
                      int64_t now);

/* Marks the session revoked (0, or PT_ENOTFOUND). */
int pt_session_revoke(pt_txn *txn, const char *sid);

/* 0 if the session exists, is not revoked and has not expired at now;
 * PT_ENOTFOUND otherwise. */
int pt_session_live(pt_txn *txn, const char *sid, int64_t now);

/* Reads a session record (any state). */
int pt_session_get(pt_session *out, pt_txn *txn, const char *sid);

/* Deletes up to max sessions that expired before now (housekeeping, e.g.
 * at start-up); *deleted gets the count. */
int pt_session_prune(pt_txn *txn, int64_t now, unsigned max, unsigned *deleted);

/* Like pt_session_prune, but looks at no more than `examine` records,
 * starting from a random place in the table (wrapping round), so its cost
 * does not grow with the number of live sessions: for use on every login.
 * (Added by authfix.) */
int pt_session_prune_some(pt_txn *txn, int64_t now, unsigned max, unsigned examine,
                          unsigned *deleted);

#endif
