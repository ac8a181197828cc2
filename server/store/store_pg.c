/*
 * store_pg.c - the PostgreSQL backend of store.h (libpq), chosen by a
 * postgres:// URL, so several porticod nodes can share one database.
 *
 * Schema (created or migrated at open under an advisory lock, so nodes
 * starting together are safe):
 *   schema_version(version int)              - one row per applied step
 *   kv(tbl smallint, k bytea, v bytea, primary key (tbl, k))
 * Every pt_table is a tbl number; named counters stay in PT_T_META as in
 * LMDB (store.c implements them over get/put), so a copy of kv is a copy
 * of the whole store.  bytea compares like LMDB's default order (memcmp,
 * shorter first), so scans come back in the same order on both backends.
 *
 * Transactions:
 *   write - BEGIN ISOLATION LEVEL SERIALIZABLE; re-run from scratch on a
 *           serialization failure or deadlock (SQLSTATE 40001, 40P01), as
 *           store.h allows.  Writers of one process also take write_lock,
 *           as with LMDB, so retries only come from other nodes.
 *   read  - BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY: one snapshot.
 * Values handed out by get/scan point into PGresults that the transaction
 * keeps until it ends.  Scans fetch in batches (LIMIT, growing), so a scan
 * stopped early does not load the rest.
 *
 * Cost per request: every statement is prepared once per connection
 * (pg_stmts), and a transaction remembers the gets it answered (up to
 * PG_TXN_CACHE, forgotten on a put or delete of the key), because a
 * request reads the same session, account, person and organisation in
 * several layers and each get would otherwise be a round trip.  Within one
 * snapshot (or one's own writes) the answer cannot change, so this is
 * only fewer round trips, never a stale read.
 *
 * Connections: a pool of idle connections per store; a transaction takes
 * one (or opens one) and gives it back when it ends, so a thread holds at
 * most one per open transaction.  A connection that failed is dropped; the
 * operation answers PT_EIO (the API answers 503) and the next transaction
 * opens a fresh one.  A pooled connection found dead (the server was
 * restarted) empties the whole pool and is replaced at once, so the first
 * request after a database restart succeeds.
 */
#include "store/store_backend.h"

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PG_SCHEMA_VERSION   1
#define PG_ADVISORY_KEY     "7040311" /* "portico schema" lock */
#define PG_WRITE_RETRIES    64
#define PG_SCAN_FIRST       128
#define PG_SCAN_MAX         2048
#define PG_POOL_DEFAULT     126 /* as LMDB's reader slots */
#define PG_HELD_SLOTS       4
#define PG_KEY_MAX          511 /* LMDB's limit, so a key fits both backends */
#define PG_TXN_CACHE        32  /* gets remembered per transaction */
#define PG_POOL_FLUSH_BATCH 32

/*
 * Every statement, prepared once per connection (no parse and plan per
 * call).  A scan has one statement per combination of its optional bounds
 * (an upper bound: the prefix has a successor; a cursor: `after`), so
 * each one's generic plan is a plain index range scan; one statement with
 * "$3 IS NULL OR k < $3" would get a generic plan that filters instead of
 * stopping at the end of the prefix.
 */
enum {
    PG_STMT_GET,
    PG_STMT_PUT,
    PG_STMT_INSERT,
    PG_STMT_DEL,
    PG_STMT_PUT_MANY,
    PG_STMT_SCAN, /* + PG_SCAN_UPPER | PG_SCAN_AFTER | PG_SCAN_REVERSE */
    PG_STMT__COUNT = PG_STMT_SCAN + 8
};
#define PG_SCAN_UPPER   1
#define PG_SCAN_AFTER   2
#define PG_SCAN_REVERSE 4
#define PG_SCAN_SELECT  "SELECT k, v FROM kv WHERE tbl = $1 AND k >= $2 "
static const struct {
    const char *name, *sql;
    int nparams;
} pg_stmts[PG_STMT__COUNT] = {
    [PG_STMT_GET] = {"pt_get", "SELECT v FROM kv WHERE tbl = $1 AND k = $2", 2},
    [PG_STMT_PUT] = {"pt_put",
                     "INSERT INTO kv (tbl, k, v) VALUES ($1, $2, $3) "
                     "ON CONFLICT (tbl, k) DO UPDATE SET v = EXCLUDED.v",
                     3},
    [PG_STMT_INSERT] = {"pt_insert",
                        "INSERT INTO kv (tbl, k, v) VALUES ($1, $2, $3) "
                        "ON CONFLICT (tbl, k) DO NOTHING",
                        3},
    [PG_STMT_DEL] = {"pt_del", "DELETE FROM kv WHERE tbl = $1 AND k = $2", 2},
    [PG_STMT_PUT_MANY] = {"pt_put_many",
                          "INSERT INTO kv (tbl, k, v) SELECT $1, u.k, u.v "
                          "FROM unnest($2::bytea[], $3::bytea[]) AS u(k, v) "
                          "ON CONFLICT (tbl, k) DO UPDATE SET v = EXCLUDED.v",
                          3},
    [PG_STMT_SCAN] = {"pt_scan0", PG_SCAN_SELECT "ORDER BY k LIMIT $3", 3},
    [PG_STMT_SCAN +
        PG_SCAN_UPPER] = {"pt_scan1", PG_SCAN_SELECT "AND k < $3 ORDER BY k LIMIT $4", 4},
    [PG_STMT_SCAN +
        PG_SCAN_AFTER] = {"pt_scan2", PG_SCAN_SELECT "AND k > $3 ORDER BY k LIMIT $4", 4},
    [PG_STMT_SCAN + PG_SCAN_UPPER + PG_SCAN_AFTER] = {"pt_scan3",
                                                      PG_SCAN_SELECT "AND k < $3 AND k > $4 "
                                                                     "ORDER BY k LIMIT $5",
                                                      5},
    [PG_STMT_SCAN + PG_SCAN_REVERSE] = {"pt_scan4", PG_SCAN_SELECT "ORDER BY k DESC LIMIT $3", 3},
    [PG_STMT_SCAN + PG_SCAN_REVERSE + PG_SCAN_UPPER] = {"pt_scan5",
                                                        PG_SCAN_SELECT "AND k < $3 "
                                                                       "ORDER BY k DESC LIMIT $4",
                                                        4},
    [PG_STMT_SCAN + PG_SCAN_REVERSE + PG_SCAN_AFTER] = {"pt_scan6",
                                                        PG_SCAN_SELECT "AND k < $3 "
                                                                       "ORDER BY k DESC LIMIT $4",
                                                        4},
    [PG_STMT_SCAN + 7] = {"pt_scan7",
                          PG_SCAN_SELECT "AND k < $3 AND k < $4 ORDER BY k DESC LIMIT $5", 5},
};

/* One remembered get: the key, and the value (pointing into a kept
 * PGresult) or that there was none. */
typedef struct pg_cached {
    pt_table tb;
    unsigned char *key;
    size_t klen;
    pt_val val;
    bool found;
} pg_cached;

typedef struct pg_store {
    pt_store base; /* first: store.c dispatches through base.ops */
    char *url;
    pthread_mutex_t pool_lock;
    PGconn **idle;
    size_t n_idle, pool_max;
    unsigned open_conns;
    pthread_mutex_t write_lock;
    bool prepare; /* the schema is in place: prepare pg_stmts on connect */
} pg_store;

typedef struct pg_txn {
    pt_txn base; /* first: callbacks get &base */
    pg_store *store;
    PGconn *conn;
    PGresult **results; /* kept until the transaction ends */
    size_t n_results, cap_results;
    bool retry;  /* serialization failure: roll back and re-run */
    bool failed; /* a statement failed: PostgreSQL aborted the transaction */
    /* Gets already answered in this transaction: a request reads its
     * session, account, person and organisation several times (auth,
     * then the handler), and each would be a round trip. */
    pg_cached cache[PG_TXN_CACHE];
    size_t n_cache;
} pg_txn;

static const pt_store_ops pg_ops;

/* ---- per-thread nesting (the same rules as LMDB) ----------------------- */

typedef struct pg_held {
    const pg_store *store;
    int depth;
    bool writing;
} pg_held;

static _Thread_local pg_held tl_pg_held[PG_HELD_SLOTS];

static pg_held *held_get(const pg_store *s, bool create)
{
    pg_held *free_slot = NULL;
    for (size_t i = 0; i < PG_HELD_SLOTS; i++) {
        if (tl_pg_held[i].store == s)
            return &tl_pg_held[i];
        if (!free_slot && tl_pg_held[i].depth == 0 && !tl_pg_held[i].writing)
            free_slot = &tl_pg_held[i];
    }
    if (!create || !free_slot)
        return NULL;
    free_slot->store = s;
    free_slot->depth = 0;
    free_slot->writing = false;
    return free_slot;
}

static void held_release(pg_held *h)
{
    if (h && h->depth == 0 && !h->writing)
        h->store = NULL;
}

/* ---- errors ------------------------------------------------------------ */

/* libpq messages end with a newline; the log line should not. */
static void set_pq_error(const char *what, const char *msg)
{
    char buf[512];
    pt_strlcpy(buf, msg ? msg : "unknown error", sizeof(buf));
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    pt_error_set("store: postgres: %s: %s", what, buf);
}

static bool is_retryable(const char *state)
{
    return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

/*
 * Records why a statement failed.  A serialization failure marks the
 * transaction for a re-run; a lost connection or any other failure
 * answers PT_EIO.  Either way PostgreSQL has aborted the transaction.
 */
static int txn_fail(pg_txn *t, PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    t->failed = true;
    if (is_retryable(state))
        t->retry = true;
    if (PQstatus(t->conn) == CONNECTION_BAD)
        set_pq_error("connection lost", PQerrorMessage(t->conn));
    else
        set_pq_error(what, r ? PQresultErrorMessage(r) : PQerrorMessage(t->conn));
    PQclear(r);
    return PT_EIO;
}

/* Keeps r alive until the transaction ends (values point into it). */
static int txn_keep(pg_txn *t, PGresult *r)
{
    if (t->n_results == t->cap_results) {
        size_t cap = t->cap_results ? t->cap_results * 2 : 8;
        PGresult **n = realloc(t->results, cap * sizeof(*n));
        if (!n) {
            PQclear(r);
            pt_error_set("store: out of memory");
            return PT_ENOMEM;
        }
        t->results = n;
        t->cap_results = cap;
    }
    t->results[t->n_results++] = r;
    return 0;
}

static void txn_clear(pg_txn *t)
{
    for (size_t i = 0; i < t->n_cache; i++)
        free(t->cache[i].key);
    t->n_cache = 0;
    for (size_t i = 0; i < t->n_results; i++)
        PQclear(t->results[i]);
    free(t->results);
    t->results = NULL;
    t->n_results = t->cap_results = 0;
}

/*
 * Runs one statement: a prepared one (stmt, see pg_stmts) or, with stmt
 * negative, sql as an unnamed statement.  *out (if given) gets the result
 * on success.
 */
static int txn_exec(pg_txn *t, int stmt, const char *sql, int n, const char *const *vals,
                    const int *lens, const int *fmts, PGresult **out, const char *what)
{
    if (t->failed) {
        pt_error_set("store: postgres: %s after a failed statement in this transaction", what);
        return PT_EIO;
    }
    PGresult *r = stmt >= 0 ? PQexecPrepared(t->conn, pg_stmts[stmt].name, n, vals, lens, fmts, 1)
                            : PQexecParams(t->conn, sql, n, NULL, vals, lens, fmts, 1);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return txn_fail(t, r, what);
    if (out)
        *out = r;
    else
        PQclear(r);
    return 0;
}

/* ---- connections ------------------------------------------------------- */

/* The schema step's "already exists, skipping" notices are not news. */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Prepares pg_stmts on a new connection (after the schema exists: the
 * statements name the kv table). */
static int conn_prepare(PGconn *c)
{
    for (int i = 0; i < PG_STMT__COUNT; i++) {
        PGresult *r = PQprepare(c, pg_stmts[i].name, pg_stmts[i].sql, pg_stmts[i].nparams, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            set_pq_error("prepare", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
            PQclear(r);
            return PT_EIO;
        }
        PQclear(r);
    }
    return 0;
}

static PGconn *conn_open(pg_store *s)
{
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"5", "porticod", s->url, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL) {
        pt_error_set("store: postgres: out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        set_pq_error("cannot connect", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    if (s->prepare && conn_prepare(c) != 0) {
        PQfinish(c);
        return NULL;
    }
    pthread_mutex_lock(&s->pool_lock);
    s->open_conns++;
    pthread_mutex_unlock(&s->pool_lock);
    return c;
}

static void conn_close(pg_store *s, PGconn *c)
{
    if (!c)
        return;
    PQfinish(c);
    pthread_mutex_lock(&s->pool_lock);
    s->open_conns--;
    pthread_mutex_unlock(&s->pool_lock);
}

/*
 * Closes every idle connection.  Called when one of them turns out to be
 * dead: they were all opened to the same server, so after a database
 * restart they are all dead, and without this each would fail one more
 * request (a quiet node would answer 503 several times after the database
 * came back).
 */
static void pool_flush(pg_store *s)
{
    PGconn *dead[PG_POOL_FLUSH_BATCH];
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&s->pool_lock);
        while (s->n_idle > 0 && n < PG_POOL_FLUSH_BATCH)
            dead[n++] = s->idle[--s->n_idle];
        pthread_mutex_unlock(&s->pool_lock);
        if (n == 0)
            return;
        for (size_t i = 0; i < n; i++)
            conn_close(s, dead[i]);
    }
}

/* An idle pooled connection, else a new one; NULL (PT_EIO) if none.
 * *pooled says which (a pooled one may have died unnoticed). */
static PGconn *conn_get_from(pg_store *s, bool *pooled)
{
    PGconn *c = NULL;
    pthread_mutex_lock(&s->pool_lock);
    if (s->n_idle > 0)
        c = s->idle[--s->n_idle];
    pthread_mutex_unlock(&s->pool_lock);
    if (c && PQstatus(c) != CONNECTION_OK) {
        conn_close(s, c);
        pool_flush(s);
        c = NULL;
    }
    *pooled = c != NULL;
    return c ? c : conn_open(s);
}

/* Back to the pool if it is healthy and idle, else closed. */
static void conn_put(pg_store *s, PGconn *c)
{
    if (!c)
        return;
    if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE) {
        pthread_mutex_lock(&s->pool_lock);
        if (s->n_idle < s->pool_max) {
            s->idle[s->n_idle++] = c;
            c = NULL;
        }
        pthread_mutex_unlock(&s->pool_lock);
    }
    conn_close(s, c);
}

/*
 * Takes a connection and opens a transaction on it.  A pooled connection
 * whose server went away is only noticed here: the BEGIN fails with the
 * connection bad, and one fresh connection is tried before giving up.
 */
static int txn_begin(pg_store *s, bool write, pg_txn *t)
{
    memset(t, 0, sizeof(*t));
    t->base.store = &s->base;
    t->base.write = write;
    t->store = s;
    const char *begin = write ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                              : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    for (int attempt = 0; attempt < 2; attempt++) {
        bool pooled;
        t->conn = conn_get_from(s, &pooled);
        if (!t->conn)
            return PT_EIO;
        PGresult *r = PQexec(t->conn, begin);
        if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            PQclear(r);
            return 0;
        }
        set_pq_error("begin", r ? PQresultErrorMessage(r) : PQerrorMessage(t->conn));
        PQclear(r);
        bool bad = PQstatus(t->conn) == CONNECTION_BAD;
        conn_close(s, t->conn);
        t->conn = NULL;
        if (!bad || !pooled)
            break;
        pool_flush(s); /* its siblings are as dead: the retry opens a fresh one */
    }
    return PT_EIO;
}

/* Rolls back (if still open) and gives the connection back. */
static void txn_end(pg_txn *t)
{
    if (t->conn && PQtransactionStatus(t->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(t->conn, "ROLLBACK");
        PQclear(r);
    }
    txn_clear(t);
    conn_put(t->store, t->conn);
    t->conn = NULL;
}

/* ---- schema ------------------------------------------------------------ */

static const char *const migrations[PG_SCHEMA_VERSION] = {
    /* 1 */
    "CREATE TABLE IF NOT EXISTS kv (tbl smallint NOT NULL, k bytea NOT NULL, "
    "v bytea NOT NULL, PRIMARY KEY (tbl, k))",
};

static int simple(PGconn *c, const char *sql, PGresult **out)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_pq_error("schema", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        PQclear(r);
        return PT_EIO;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return 0;
}

/*
 * Brings the schema to PG_SCHEMA_VERSION.  The session advisory lock makes
 * nodes that start together take turns; each step is idempotent and is
 * recorded in schema_version in the same transaction.  A database written
 * by a newer porticod is refused rather than guessed at.
 */
static int schema_migrate(PGconn *c)
{
    int rc = simple(c, "SELECT pg_advisory_lock(" PG_ADVISORY_KEY ")", NULL);
    if (rc != 0)
        return rc;
    PGresult *r = NULL;
    rc = simple(c, "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY)", NULL);
    if (rc == 0)
        rc = simple(c, "SELECT coalesce(max(version), 0) FROM schema_version", &r);
    int have = rc == 0 ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    if (rc == 0 && have > PG_SCHEMA_VERSION) {
        pt_error_set("store: postgres: the database has schema version %d, newer than this "
                     "porticod understands (%d); upgrade porticod",
                     have, PG_SCHEMA_VERSION);
        rc = PT_EIO;
    }
    for (int v = have + 1; rc == 0 && v <= PG_SCHEMA_VERSION; v++) {
        char record[96];
        snprintf(record, sizeof(record),
                 "INSERT INTO schema_version VALUES (%d) ON CONFLICT DO NOTHING", v);
        rc = simple(c, "BEGIN", NULL);
        if (rc == 0)
            rc = simple(c, migrations[v - 1], NULL);
        if (rc == 0)
            rc = simple(c, record, NULL);
        if (rc == 0)
            rc = simple(c, "COMMIT", NULL);
        if (rc != 0)
            PQclear(PQexec(c, "ROLLBACK"));
    }
    PQclear(PQexec(c, "SELECT pg_advisory_unlock(" PG_ADVISORY_KEY ")"));
    return rc;
}

/* ---- open / close ------------------------------------------------------ */

int pt_store_pg_open(pt_store **out, const char *url, const pt_store_options *opts)
{
    *out = NULL;
    if (opts && opts->version != PT_STORE_OPTIONS_VERSION) {
        pt_error_set("store: unsupported options version %u", opts->version);
        return PT_EINVAL;
    }
    pg_store *s = calloc(1, sizeof(*s));
    if (!s) {
        pt_error_set("store: out of memory");
        return PT_ENOMEM;
    }
    s->base.ops = &pg_ops;
    s->pool_max = opts && opts->max_readers ? opts->max_readers : PG_POOL_DEFAULT;
    s->url = strdup(url);
    s->idle = calloc(s->pool_max, sizeof(*s->idle));
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_mutex_init(&s->write_lock, NULL);
    if (!s->url || !s->idle) {
        pg_ops.close(&s->base);
        pt_error_set("store: out of memory");
        return PT_ENOMEM;
    }
    PGconn *c = conn_open(s);
    if (!c) {
        pg_ops.close(&s->base);
        return PT_EIO;
    }
    int rc = schema_migrate(c);
    if (rc == 0) {
        rc = conn_prepare(c);
        s->prepare = true;
    }
    conn_put(s, c);
    if (rc != 0) {
        pg_ops.close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

static void pg_close(pt_store *base)
{
    pg_store *s = (pg_store *)base;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_idle; i++)
        PQfinish(s->idle[i]);
    free(s->idle);
    free(s->url);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_mutex_destroy(&s->write_lock);
    free(s);
}

/* ---- transactions ------------------------------------------------------ */

static int pg_read(pt_store *base, pt_txn_fn fn, void *ctx)
{
    pg_store *s = (pg_store *)base;
    pg_held *h = held_get(s, true);
    if (!h) {
        pt_error_set("store: too many stores in use on one thread");
        return PT_ERR;
    }
    pg_txn t;
    int rc = txn_begin(s, false, &t);
    if (rc == 0) {
        h->depth++;
        rc = fn(&t.base, ctx);
        h->depth--;
        txn_end(&t);
    }
    held_release(h);
    return rc;
}

static int pg_snapshot_begin(pt_store *base, pt_txn **out)
{
    pg_store *s = (pg_store *)base;
    *out = NULL;
    pg_held *h = held_get(s, true);
    if (!h) {
        pt_error_set("store: too many stores in use on one thread");
        return PT_ERR;
    }
    pg_txn *t = malloc(sizeof(*t));
    int rc = t ? txn_begin(s, false, t) : PT_ENOMEM;
    if (rc != 0) {
        free(t);
        held_release(h);
        return rc;
    }
    h->depth++;
    *out = &t->base;
    return 0;
}

static void pg_snapshot_end(pt_txn *base)
{
    pg_txn *t = (pg_txn *)base;
    pg_held *h = held_get(t->store, false);
    if (h && h->depth > 0)
        h->depth--;
    held_release(h);
    txn_end(t);
    free(t);
}

/* A short, growing pause between re-runs so two nodes stop colliding. */
static void retry_pause(int attempt)
{
    unsigned ms = 1u << (attempt < 6 ? attempt : 6);
    ms += (unsigned)rand() % (ms + 1);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/*
 * Runs fn in a SERIALIZABLE transaction until it commits, fn fails, or
 * PG_WRITE_RETRIES serialization failures in a row.  Nesting rules as
 * LMDB: no write inside another transaction callback on this thread.
 */
static int pg_write(pt_store *base, pt_txn_fn fn, void *ctx)
{
    pg_store *s = (pg_store *)base;
    pg_held *h = held_get(s, true);
    if (!h) {
        pt_error_set("store: too many stores in use on one thread");
        return PT_ERR;
    }
    if (h->writing) {
        pt_error_set("store: nested write transaction");
        return PT_ECONFLICT;
    }
    if (h->depth > 0) {
        pt_error_set("store: write transaction inside a read transaction");
        return PT_ECONFLICT;
    }
    pthread_mutex_lock(&s->write_lock);
    h->writing = true;
    int rc = PT_EIO;
    for (int attempt = 0; attempt < PG_WRITE_RETRIES; attempt++) {
        pg_txn t;
        rc = txn_begin(s, true, &t);
        if (rc != 0)
            break;
        rc = fn(&t.base, ctx);
        if (!t.retry && rc == 0 && !t.failed) {
            PGresult *r = PQexec(t.conn, "COMMIT");
            if (PQresultStatus(r) != PGRES_COMMAND_OK)
                rc = txn_fail(&t, r, "commit");
            else
                PQclear(r);
        } else if (rc == 0) {
            rc = PT_EIO; /* fn went on past a failed statement */
        }
        bool again = t.retry;
        txn_end(&t);
        if (!again)
            break;
        rc = PT_EIO;
        pt_error_set("store: postgres: write still conflicting after %d attempts", attempt + 1);
        retry_pause(attempt);
    }
    h->writing = false;
    held_release(h);
    pthread_mutex_unlock(&s->write_lock);
    return rc;
}

/* ---- operations -------------------------------------------------------- */

static bool table_ok(pt_table t)
{
    if ((int)t < 0 || t >= PT_T__COUNT) {
        pt_error_set("store: no such table %d", (int)t);
        return false;
    }
    return true;
}

static bool writable(pg_txn *t, const char *what)
{
    if (!t->base.write) {
        pt_error_set("store: %s in a read-only transaction", what);
        return false;
    }
    return true;
}

/* One statement on one (table, key) pair: $1 the table, $2 the key (binary). */
static int exec_on_key(pg_txn *t, int stmt, pt_table tb, const void *key, size_t klen,
                       PGresult **out, const char *what)
{
    char tbl[8];
    snprintf(tbl, sizeof(tbl), "%d", (int)tb);
    const char *vals[] = {tbl, key};
    int lens[] = {0, (int)klen}, fmts[] = {0, 1};
    return txn_exec(t, stmt, NULL, 2, vals, lens, fmts, out, what);
}

static pg_cached *cache_find(pg_txn *t, pt_table tb, const void *key, size_t klen)
{
    for (size_t i = 0; i < t->n_cache; i++) {
        pg_cached *c = &t->cache[i];
        if (c->tb == tb && c->klen == klen && memcmp(c->key, key, klen) == 0)
            return c;
    }
    return NULL;
}

/* Remembers a get's answer; a full cache just stops remembering. */
static void cache_add(pg_txn *t, pt_table tb, const void *key, size_t klen, const pt_val *val)
{
    if (t->n_cache == PG_TXN_CACHE)
        return;
    unsigned char *k = malloc(klen);
    if (!k)
        return;
    memcpy(k, key, klen);
    pg_cached *c = &t->cache[t->n_cache++];
    c->tb = tb;
    c->key = k;
    c->klen = klen;
    c->found = val != NULL;
    c->val = val ? *val : (pt_val){NULL, 0};
}

/* A put or delete of key makes what was remembered of it stale. */
static void cache_forget(pg_txn *t, pt_table tb, const void *key, size_t klen)
{
    pg_cached *c = cache_find(t, tb, key, klen);
    if (!c)
        return;
    free(c->key);
    *c = t->cache[--t->n_cache];
}

static int pg_get(pt_txn *base, pt_table tb, const void *key, size_t klen, pt_val *out)
{
    pg_txn *t = (pg_txn *)base;
    if (!table_ok(tb))
        return PT_EINVAL;
    if (klen == 0)
        return PT_ENOTFOUND;
    pg_cached *c = cache_find(t, tb, key, klen);
    if (c) {
        if (!c->found)
            return PT_ENOTFOUND;
        *out = c->val;
        return 0;
    }
    PGresult *r = NULL;
    int rc = exec_on_key(t, PG_STMT_GET, tb, key, klen, &r, "get");
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        cache_add(t, tb, key, klen, NULL);
        return PT_ENOTFOUND;
    }
    out->data = PQgetvalue(r, 0, 0);
    out->len = (size_t)PQgetlength(r, 0, 0);
    rc = txn_keep(t, r);
    if (rc == 0)
        cache_add(t, tb, key, klen, out);
    return rc;
}

static int pg_put(pt_txn *base, pt_table tb, const void *key, size_t klen, const void *val,
                  size_t vlen, bool no_overwrite)
{
    pg_txn *t = (pg_txn *)base;
    if (!table_ok(tb))
        return PT_EINVAL;
    if (!writable(t, "write"))
        return PT_EINVAL;
    if (klen == 0) {
        pt_error_set("store: empty key");
        return PT_EINVAL;
    }
    if (klen > PG_KEY_MAX) {
        pt_error_set("store: key of %zu bytes is over the limit of %d", klen, PG_KEY_MAX);
        return PT_EINVAL;
    }
    char tbl[8];
    snprintf(tbl, sizeof(tbl), "%d", (int)tb);
    const char *vals[] = {tbl, key, vlen ? val : ""};
    int lens[] = {0, (int)klen, (int)vlen}, fmts[] = {0, 1, 1};
    cache_forget(t, tb, key, klen);
    PGresult *r = NULL;
    int rc = txn_exec(t, no_overwrite ? PG_STMT_INSERT : PG_STMT_PUT, NULL, 3, vals, lens, fmts, &r,
                      "put");
    if (rc != 0)
        return rc;
    bool inserted = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    if (!inserted) {
        pt_error_set("store: key exists");
        return PT_EEXISTS;
    }
    return 0;
}

/* Appends one bytea element ("\\x<hex>") of an array literal at p. */
static char *array_elem(char *p, const void *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = data;
    memcpy(p, "\"\\\\x", 4);
    p += 4;
    for (size_t i = 0; i < len; i++) {
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p++ = '"';
    return p;
}

/* The text of an array literal of the keys (vals false) or values. */
static char *array_text(const pt_rec *recs, size_t n, bool vals)
{
    size_t size = 3;
    for (size_t i = 0; i < n; i++)
        size += 2 * (vals ? recs[i].vlen : recs[i].klen) + 6;
    if (size > (size_t)1 << 30) {
        pt_error_set("store: batch of %zu records is too big", n);
        return NULL;
    }
    char *text = malloc(size), *p = text;
    if (!text) {
        pt_error_set("store: out of memory");
        return NULL;
    }
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        p = vals ? array_elem(p, recs[i].val, recs[i].vlen)
                 : array_elem(p, recs[i].key, recs[i].klen);
    }
    *p++ = '}';
    *p = '\0';
    return text;
}

/*
 * Many puts in one statement (unnest of two bytea arrays), for bulk
 * copies such as `portico migrate`, where one round trip per record
 * would dominate.  Keys are checked as pg_put checks them.
 */
static int pg_put_many(pt_txn *base, pt_table tb, const pt_rec *recs, size_t n)
{
    pg_txn *t = (pg_txn *)base;
    if (!table_ok(tb))
        return PT_EINVAL;
    if (!writable(t, "write"))
        return PT_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].klen == 0 || recs[i].klen > PG_KEY_MAX) {
            pt_error_set("store: key of %zu bytes is empty or over the limit of %d", recs[i].klen,
                         PG_KEY_MAX);
            return PT_EINVAL;
        }
        cache_forget(t, tb, recs[i].key, recs[i].klen);
    }
    char tbl[8];
    snprintf(tbl, sizeof(tbl), "%d", (int)tb);
    char *keys = array_text(recs, n, false);
    char *vals = keys ? array_text(recs, n, true) : NULL;
    int rc = PT_ENOMEM;
    if (keys && vals) {
        const char *params[] = {tbl, keys, vals};
        int lens[] = {0, 0, 0}, fmts[] = {0, 0, 0};
        rc = txn_exec(t, PG_STMT_PUT_MANY, NULL, 3, params, lens, fmts, NULL, "put");
    }
    free(keys);
    free(vals);
    return rc;
}

static int pg_del(pt_txn *base, pt_table tb, const void *key, size_t klen)
{
    pg_txn *t = (pg_txn *)base;
    if (!table_ok(tb))
        return PT_EINVAL;
    if (!writable(t, "delete"))
        return PT_EINVAL;
    if (klen == 0)
        return PT_ENOTFOUND;
    cache_forget(t, tb, key, klen);
    PGresult *r = NULL;
    int rc = exec_on_key(t, PG_STMT_DEL, tb, key, klen, &r, "delete");
    if (rc != 0)
        return rc;
    bool gone = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    return gone ? 0 : PT_ENOTFOUND;
}

/*
 * The range is [prefix, successor(prefix)); `after` narrows it (strictly
 * above going forward, strictly below in reverse) and then moves to the
 * last key of each batch.  The prefix is checked again in C, for the
 * prefix of only 0xff bytes, which has no successor.
 */
static int pg_scan(pt_txn *base, pt_table tb, const void *prefix, size_t plen, const void *after,
                   size_t alen, bool reverse, pt_scan_fn cb, void *ctx)
{
    pg_txn *t = (pg_txn *)base;
    if (!table_ok(tb))
        return PT_EINVAL;
    if (prefix == NULL)
        plen = 0;
    if (after == NULL || alen == 0)
        after = NULL, alen = 0;
    unsigned char *succ = plen ? malloc(plen) : NULL;
    size_t slen = 0;
    if (plen && !succ) {
        pt_error_set("store: out of memory");
        return PT_ENOMEM;
    }
    if (plen)
        pt_store_prefix_successor(prefix, plen, succ, &slen);

    char tbl[8], limit[16];
    snprintf(tbl, sizeof(tbl), "%d", (int)tb);
    int batch = PG_SCAN_FIRST, rc = 0;
    for (;;) {
        /* $1 table, $2 prefix, then the bounds there are, then the limit */
        const char *vals[5] = {tbl, plen ? prefix : ""};
        int lens[5] = {0, (int)plen}, fmts[5] = {0, 1};
        int n_params = 2, stmt = PG_STMT_SCAN + (reverse ? PG_SCAN_REVERSE : 0);
        if (slen) {
            stmt += PG_SCAN_UPPER;
            vals[n_params] = (const char *)succ, lens[n_params] = (int)slen, fmts[n_params++] = 1;
        }
        if (after) {
            stmt += PG_SCAN_AFTER;
            vals[n_params] = after, lens[n_params] = (int)alen, fmts[n_params++] = 1;
        }
        snprintf(limit, sizeof(limit), "%d", batch);
        vals[n_params] = limit, lens[n_params] = 0, fmts[n_params++] = 0;
        PGresult *r = NULL;
        rc = txn_exec(t, stmt, NULL, n_params, vals, lens, fmts, &r, "scan");
        if (rc != 0)
            break;
        if ((rc = txn_keep(t, r)) != 0)
            break;
        int n = PQntuples(r);
        bool stop = false;
        for (int i = 0; i < n && !stop; i++) {
            pt_val k = {PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0)};
            pt_val v = {PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1)};
            if (k.len < plen || (plen && memcmp(k.data, prefix, plen) != 0)) {
                stop = true;
                break;
            }
            int crc = cb(&k, &v, ctx);
            if (crc == PT_ESTOP)
                stop = true;
            else if (crc != 0) {
                rc = crc;
                stop = true;
            }
            after = k.data;
            alen = k.len;
        }
        if (stop || n < batch)
            break;
        if (batch < PG_SCAN_MAX)
            batch *= 2;
    }
    free(succ);
    return rc;
}

/* ---- stats, ping, backup ----------------------------------------------- */

/* One statement outside a transaction; a dead pooled connection is
 * replaced by a fresh one once, as in txn_begin. */
static int one_shot(pg_store *s, const char *sql, PGresult **out)
{
    PGresult *r = NULL;
    PGconn *c = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool pooled;
        if (!(c = conn_get_from(s, &pooled)))
            return PT_EIO;
        r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            break;
        bool bad = PQstatus(c) == CONNECTION_BAD;
        set_pq_error(bad ? "connection lost" : "query",
                     r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        PQclear(r);
        r = NULL;
        conn_put(s, c);
        if (!bad || !pooled)
            return PT_EIO;
        pool_flush(s);
    }
    if (!r)
        return PT_EIO;
    conn_put(s, c);
    if (out)
        *out = r;
    else
        PQclear(r);
    return 0;
}

static int pg_ping(pt_store *base)
{
    return one_shot((pg_store *)base, "SELECT 1", NULL);
}

/* Database size stands in for the map size, the table for used bytes,
 * pooled connections for reader slots. */
static int pg_stat(pt_store *base, pt_store_stats *out)
{
    pg_store *s = (pg_store *)base;
    memset(out, 0, sizeof(*out));
    PGresult *r = NULL;
    int rc = one_shot(
        s, "SELECT pg_database_size(current_database()), pg_total_relation_size('kv')", &r);
    if (rc != 0)
        return rc;
    out->map_size = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    out->used_bytes = (size_t)strtoull(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    pthread_mutex_lock(&s->pool_lock);
    out->readers_max = (unsigned)s->pool_max;
    out->readers_used = s->open_conns - (unsigned)s->n_idle;
    pthread_mutex_unlock(&s->pool_lock);
    return 0;
}

/*
 * The backup of a PostgreSQL store is an LMDB store in dir holding one
 * snapshot of every table: `portico` and porticod open it like any data
 * directory, and pt_store_copy (portico migrate) puts it back.
 */
static int pg_backup(pt_store *base, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        DIR *d = opendir(dir);
        if (!d) {
            pt_error_set("store: backup: opendir %s: %s", dir, strerror(errno));
            return PT_EIO;
        }
        struct dirent *e;
        bool empty = true;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                empty = false;
        closedir(d);
        if (!empty) {
            pt_error_set("store: backup directory %s is not empty", dir);
            return PT_EEXISTS;
        }
    }
    pt_store *dst = NULL;
    int rc = pt_store_lmdb_open(&dst, dir, NULL);
    if (rc != 0)
        return rc;
    rc = pt_store_copy(dst, base, NULL);
    pt_store_close(dst);
    return rc;
}

static const pt_store_ops pg_ops = {
    .name = "postgres",
    .close = pg_close,
    .read = pg_read,
    .write = pg_write,
    .snapshot_begin = pg_snapshot_begin,
    .snapshot_end = pg_snapshot_end,
    .stat = pg_stat,
    .backup = pg_backup,
    .ping = pg_ping,
    .get = pg_get,
    .put = pg_put,
    .del = pg_del,
    .put_many = pg_put_many,
    .scan = pg_scan,
};
