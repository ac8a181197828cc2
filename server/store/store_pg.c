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
 * Values handed out by get/scan point into PGresults (or copies of written
 * values) that the transaction keeps until it ends.  Scans fetch in
 * batches (LIMIT, growing), so a scan stopped early does not load the rest.
 *
 * Round trips are what a request pays for here, so each transaction keeps
 * a key cache (pg_cache.h): a key is fetched at most once per snapshot,
 * writes wait in the cache and go out in one pipeline (sorted by key)
 * before a scan, at commit or when many are waiting, and BEGIN travels in
 * the same pipeline as the first statement (a transaction that sends
 * nothing costs nothing).  pt_txn_prefetch and pt_txn_prefetch_keys fill
 * the cache with many keys in one round trip.  A read transaction's
 * ROLLBACK is not waited for (the connection's next user reads the
 * answer).  Statements are prepared once per connection and take binary
 * parameters.
 *
 * Connections: a pool of idle connections per store; a transaction takes
 * one (or opens one) and gives it back when it ends, so a thread holds at
 * most one per open transaction.  A connection that failed is dropped; the
 * operation answers PT_EIO (the API answers 503) and the next transaction
 * opens a fresh one.
 */
#include "store/store_backend.h"
#include "store/pg_cache.h"

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

#define PG_SCHEMA_VERSION 1
#define PG_ADVISORY_KEY   "7040311" /* "portico schema" lock */
#define PG_WRITE_RETRIES  64
#define PG_SCAN_FIRST     128
#define PG_SCAN_MAX       2048
#define PG_POOL_DEFAULT   126           /* as LMDB's reader slots */
#define PG_KEY_MAX        511           /* LMDB's limit, so a key fits both backends */
#define PG_PREFETCH_MAX   256           /* rows one prefetch reads */
#define PG_PREFETCH_KEYS  64            /* gets in one prefetch_keys pipeline */
#define PG_FLUSH_ROWS     512           /* waiting writes sent once this many ... */
#define PG_FLUSH_BYTES    (1024 * 1024) /* ... or this many bytes wait */

typedef struct pg_store {
    pt_store base; /* first: store.c dispatches through base.ops */
    char *url;
    pthread_mutex_t pool_lock;
    PGconn **idle;
    size_t n_idle, pool_max;
    unsigned open_conns;
    pthread_mutex_t write_lock;
    bool schema_ready; /* new connections prepare the statements */
} pg_store;

typedef struct pg_txn {
    pt_txn base; /* first: callbacks get &base */
    pg_store *store;
    PGconn *conn;
    PGresult **results; /* kept until the transaction ends */
    size_t n_results, cap_results;
    pg_cache cache; /* keys read or written here; writes not yet sent */
    bool begun;     /* BEGIN has been sent and succeeded */
    bool retry;     /* serialization failure: roll back and re-run */
    bool failed;    /* a statement failed: PostgreSQL aborted the transaction */
} pg_txn;

static const pt_store_ops pg_ops;

/* ---- per-thread nesting: pt_held (store.c), the same rules as LMDB ---- */

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
    for (size_t i = 0; i < t->n_results; i++)
        PQclear(t->results[i]);
    free(t->results);
    t->results = NULL;
    t->n_results = t->cap_results = 0;
    pg_cache_free(&t->cache);
}

/* ---- statements -------------------------------------------------------- */

#define INT2OID  21
#define INT8OID  20
#define BYTEAOID 17

/* Prepared once per connection (conn_prepare); parameters are binary. */
static const struct {
    const char *name, *sql;
    int n;
    Oid types[5];
} pg_prepared[] = {
    {"pt_get", "SELECT v FROM kv WHERE tbl = $1 AND k = $2", 2, {INT2OID, BYTEAOID}},
    {"pt_put",
     "INSERT INTO kv (tbl, k, v) VALUES ($1, $2, $3) "
     "ON CONFLICT (tbl, k) DO UPDATE SET v = EXCLUDED.v",
     3,
     {INT2OID, BYTEAOID, BYTEAOID}},
    {"pt_del", "DELETE FROM kv WHERE tbl = $1 AND k = $2", 2, {INT2OID, BYTEAOID}},
    {"pt_scan_fwd",
     "SELECT k, v FROM kv WHERE tbl = $1 AND k >= $2 AND ($3::bytea IS NULL OR k < $3) "
     "AND ($4::bytea IS NULL OR k > $4) ORDER BY k LIMIT $5",
     5,
     {INT2OID, BYTEAOID, BYTEAOID, BYTEAOID, INT8OID}},
    {"pt_scan_rev",
     "SELECT k, v FROM kv WHERE tbl = $1 AND k >= $2 AND ($3::bytea IS NULL OR k < $3) "
     "AND ($4::bytea IS NULL OR k < $4) ORDER BY k DESC LIMIT $5",
     5,
     {INT2OID, BYTEAOID, BYTEAOID, BYTEAOID, INT8OID}},
};

/* One statement to send: a prepared one by name with binary parameters,
 * or (name NULL) plain SQL without parameters. */
typedef struct pg_stmt {
    const char *name, *sql;
    int n;
    const char *vals[5];
    int lens[5];
    int fmts[5];
    unsigned char tbl[2], limit[8]; /* network order, for vals */
} pg_stmt;

/* Parameters $1 (the table) and $2 (the key) of a statement on one key. */
static void stmt_on_key(pg_stmt *st, const char *name, int tbl, const void *key, size_t klen)
{
    memset(st, 0, sizeof(*st));
    st->name = name;
    st->n = 2;
    st->tbl[0] = (unsigned char)((unsigned)tbl >> 8);
    st->tbl[1] = (unsigned char)tbl;
    st->vals[0] = (const char *)st->tbl;
    st->lens[0] = 2;
    st->vals[1] = key;
    st->lens[1] = (int)klen;
    for (int i = 0; i < 5; i++)
        st->fmts[i] = 1;
}

/* The statement that sends one waiting write: an upsert or a delete. */
static void stmt_for_write(pg_stmt *st, const pg_cache_entry *e)
{
    stmt_on_key(st, e->val ? "pt_put" : "pt_del", e->tbl, e->key, e->klen);
    if (e->val) {
        st->n = 3;
        st->vals[2] = e->vlen ? e->val : "";
        st->lens[2] = (int)e->vlen;
    }
}

static bool stmt_send(PGconn *c, const pg_stmt *st)
{
    if (st->name)
        return PQsendQueryPrepared(c, st->name, st->n, st->vals, st->lens, st->fmts, 1) == 1;
    return PQsendQueryParams(c, st->sql, 0, NULL, NULL, NULL, NULL, 1) == 1;
}

/*
 * The result of the next statement in a pipeline, after which libpq
 * returns NULL once.  NULL here means the connection broke mid-pipeline.
 */
static PGresult *pipe_result(PGconn *c)
{
    PGresult *r = PQgetResult(c);
    if (r) {
        PGresult *extra;
        while ((extra = PQgetResult(c)) != NULL)
            PQclear(extra);
    }
    return r;
}

/*
 * Checks one pipelined result.  The first failure is recorded (txn_fail:
 * it decides between a re-run and PT_EIO); the statements after it come
 * back "aborted" and add nothing.  *broken: no result at all, so the rest
 * of the pipeline cannot be read.
 */
static int pipe_check(pg_txn *t, PGresult *r, const char *what, bool *broken)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return 0;
    if (!r)
        *broken = true;
    if (st == PGRES_PIPELINE_ABORTED || t->failed) {
        PQclear(r);
        t->failed = true;
        return PT_EIO;
    }
    return txn_fail(t, r, what);
}

/* pipe_check for the next statement, whose result nobody needs. */
static int pipe_discard(pg_txn *t, const char *what, bool *broken)
{
    PGresult *r = pipe_result(t->conn);
    int rc = pipe_check(t, r, what, broken); /* clears r on failure */
    if (rc == 0)
        PQclear(r);
    return rc;
}

/* Frees the results a failed pipeline had handed out. */
static void pipe_clear(PGresult **out, size_t n)
{
    for (size_t i = 0; out && i < n; i++) {
        PQclear(out[i]);
        out[i] = NULL;
    }
}

/* BEGIN (when not yet sent), the waiting writes (flush), then st[0..n). */
static bool pipe_send(pg_txn *t, bool flush, const pg_stmt *st, size_t n)
{
    static const pg_stmt begin_rw = {.sql = "BEGIN ISOLATION LEVEL SERIALIZABLE"};
    static const pg_stmt begin_ro = {.sql = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"};
    bool ok = PQenterPipelineMode(t->conn) == 1;
    if (ok && !t->begun)
        ok = stmt_send(t->conn, t->base.write ? &begin_rw : &begin_ro);
    if (flush) {
        pg_cache_sort_dirty(&t->cache);
        for (size_t i = 0; ok && i < t->cache.n_dirty; i++) {
            pg_stmt w;
            stmt_for_write(&w, t->cache.dirty[i]);
            ok = stmt_send(t->conn, &w);
        }
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = stmt_send(t->conn, &st[i]);
    return ok && PQpipelineSync(t->conn) == 1;
}

/*
 * One round trip: pipe_send's statements and a sync, then their results
 * in order.  out[i] (out may be NULL) gets st[i]'s result when every
 * statement succeeded.  A connection that broke mid-pipeline is left in
 * pipeline mode: txn_end closes it.
 */
static int pipe_run(pg_txn *t, bool flush, const pg_stmt *st, size_t n, PGresult **out,
                    const char *what)
{
    bool sent_begin = !t->begun, broken = false;
    size_t n_writes = flush ? t->cache.n_dirty : 0;
    if (!pipe_send(t, flush, st, n)) {
        t->failed = true;
        set_pq_error(PQstatus(t->conn) == CONNECTION_BAD ? "connection lost" : what,
                     PQerrorMessage(t->conn));
        return PT_EIO;
    }
    int rc = 0;
    if (sent_begin && (rc = pipe_discard(t, "begin", &broken)) == 0)
        t->begun = true;
    for (size_t i = 0; i < n_writes && !broken; i++) {
        int wrc = pipe_discard(t, "write", &broken);
        rc = rc ? rc : wrc;
    }
    for (size_t i = 0; i < n && !broken; i++) {
        PGresult *r = pipe_result(t->conn);
        int src = pipe_check(t, r, what, &broken); /* clears r on failure */
        if (src == 0 && out)
            out[i] = r;
        else if (src == 0)
            PQclear(r);
        rc = rc ? rc : src;
    }
    if (broken || rc != 0)
        pipe_clear(out, n);
    if (broken)
        return rc ? rc : PT_EIO;
    PGresult *sync = PQgetResult(t->conn);
    bool synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (!synced || PQexitPipelineMode(t->conn) != 1) {
        t->failed = true;
        set_pq_error("pipeline", PQerrorMessage(t->conn));
        return PT_EIO;
    }
    if (rc == 0 && flush)
        pg_cache_mark_sent(&t->cache);
    return rc;
}

/* ---- connections ------------------------------------------------------- */

/* The schema step's "already exists, skipping" notices are not news. */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*
 * Prepares the statements transactions use, once per connection, so a
 * statement costs a Bind/Execute rather than a parse and plan each time.
 * Needs the kv table, so the first connection (the one that creates it)
 * is prepared after the schema step.
 */
static int conn_prepare(PGconn *c)
{
    for (size_t i = 0; i < sizeof(pg_prepared) / sizeof(pg_prepared[0]); i++) {
        PGresult *r = PQprepare(c, pg_prepared[i].name, pg_prepared[i].sql, pg_prepared[i].n,
                                pg_prepared[i].types);
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
    if (s->schema_ready && conn_prepare(c) != 0) {
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
 * Reads the answer to the ROLLBACK the connection's last transaction sent
 * without waiting for it (txn_end); by now it has normally arrived, so
 * this costs no round trip.  false: the connection is no use.
 */
static bool conn_settle(PGconn *c)
{
    if (PQpipelineStatus(c) == PQ_PIPELINE_OFF)
        return true;
    PGresult *r = pipe_result(c);
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PGresult *sync = ok ? PQgetResult(c) : NULL;
    ok = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    return ok && PQexitPipelineMode(c) == 1;
}

/* An idle pooled connection, else a new one; NULL (PT_EIO) if none. */
static PGconn *conn_get(pg_store *s)
{
    PGconn *c = NULL;
    pthread_mutex_lock(&s->pool_lock);
    if (s->n_idle > 0)
        c = s->idle[--s->n_idle];
    pthread_mutex_unlock(&s->pool_lock);
    if (c && (PQstatus(c) != CONNECTION_OK || !conn_settle(c))) {
        conn_close(s, c);
        c = NULL;
    }
    return c ? c : conn_open(s);
}

/* Back to the pool if it is healthy and idle (or only owes the answer to
 * a ROLLBACK, which conn_get reads), else closed. */
static void conn_put(pg_store *s, PGconn *c)
{
    if (!c)
        return;
    bool idle = PQpipelineStatus(c) == PQ_PIPELINE_ON || PQtransactionStatus(c) == PQTRANS_IDLE;
    if (PQstatus(c) == CONNECTION_OK && idle) {
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
 * Takes a connection for a transaction.  Nothing is sent yet: BEGIN goes
 * out with the first statement (pipe_send), so a pooled connection whose
 * server went away is noticed there (txn_roundtrip).
 */
static int txn_begin(pg_store *s, bool write, pg_txn *t)
{
    memset(t, 0, sizeof(*t));
    t->base.store = &s->base;
    t->base.write = write;
    t->store = s;
    t->conn = conn_get(s);
    return t->conn ? 0 : PT_EIO;
}

/*
 * pipe_run, with one more try on a fresh connection when the pooled one
 * turned out dead before this transaction had begun (the server restarted
 * since it was pooled): nothing was done on it, so nothing is lost.
 */
static int txn_roundtrip(pg_txn *t, bool flush, const pg_stmt *st, size_t n, PGresult **out,
                         const char *what)
{
    if (t->failed) {
        pt_error_set("store: postgres: %s after a failed statement in this transaction", what);
        return PT_EIO;
    }
    int rc = pipe_run(t, flush, st, n, out, what);
    if (rc == 0 || t->begun || PQstatus(t->conn) != CONNECTION_BAD)
        return rc;
    conn_close(t->store, t->conn);
    t->conn = conn_open(t->store);
    if (!t->conn)
        return PT_EIO;
    t->failed = t->retry = false;
    return pipe_run(t, flush, st, n, out, what);
}

/* Sends ROLLBACK and a sync without waiting for the answer: nothing
 * depends on it (the server drops the snapshot as it reads it), and the
 * connection's next user reads it (conn_settle). */
static bool rollback_send(PGconn *c)
{
    static const pg_stmt rollback = {.sql = "ROLLBACK"};
    return PQenterPipelineMode(c) == 1 && stmt_send(c, &rollback) && PQpipelineSync(c) == 1;
}

/*
 * Rolls back (if still open) and gives the connection back.  A connection
 * left mid-pipeline (it broke while results were awaited) is closed.
 */
static void txn_end(pg_txn *t)
{
    if (t->conn && PQpipelineStatus(t->conn) != PQ_PIPELINE_OFF) {
        conn_close(t->store, t->conn);
        t->conn = NULL;
    }
    if (t->conn && PQtransactionStatus(t->conn) != PQTRANS_IDLE && !rollback_send(t->conn)) {
        conn_close(t->store, t->conn);
        t->conn = NULL;
    }
    txn_clear(t);
    conn_put(t->store, t->conn);
    t->conn = NULL;
}

/* Sends the waiting writes and COMMIT in one round trip; a transaction
 * that never sent anything has nothing to commit. */
static int txn_commit(pg_txn *t)
{
    if (!t->begun && t->cache.n_dirty == 0)
        return 0;
    static const pg_stmt commit = {.sql = "COMMIT"};
    return txn_roundtrip(t, true, &commit, 1, NULL, "commit");
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
    if (rc == 0)
        rc = conn_prepare(c);
    s->schema_ready = true;
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
    pt_held *h = pt_held_get(&s->base, true);
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
        if (t.failed && rc != PT_EIO)
            rc = PT_EIO; /* fn went on past a failed statement */
        txn_end(&t);
    }
    pt_held_release(h);
    return rc;
}

static int pg_snapshot_begin(pt_store *base, pt_txn **out)
{
    pg_store *s = (pg_store *)base;
    *out = NULL;
    pt_held *h = pt_held_get(&s->base, true);
    if (!h) {
        pt_error_set("store: too many stores in use on one thread");
        return PT_ERR;
    }
    pg_txn *t = malloc(sizeof(*t));
    int rc = t ? txn_begin(s, false, t) : PT_ENOMEM;
    if (rc != 0) {
        free(t);
        pt_held_release(h);
        return rc;
    }
    h->depth++;
    *out = &t->base;
    return 0;
}

static void pg_snapshot_end(pt_txn *base)
{
    pg_txn *t = (pg_txn *)base;
    pt_held *h = pt_held_get(&t->store->base, false);
    if (h && h->depth > 0)
        h->depth--;
    pt_held_release(h);
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
    pt_held *h;
    int hrc = pt_held_begin_write(base, &h);
    if (hrc != 0)
        return hrc;
    pthread_mutex_lock(&s->write_lock);
    int rc = PT_EIO;
    for (int attempt = 0; attempt < PG_WRITE_RETRIES; attempt++) {
        pg_txn t;
        rc = txn_begin(s, true, &t);
        if (rc != 0)
            break;
        rc = fn(&t.base, ctx);
        if (!t.retry && rc == 0 && !t.failed)
            rc = txn_commit(&t);
        else if (t.failed && rc != PT_EIO)
            rc = PT_EIO; /* fn went on past a failed statement */
        bool again = t.retry;
        txn_end(&t);
        if (!again)
            break;
        rc = PT_EIO;
        pt_error_set("store: postgres: write still conflicting after %d attempts", attempt + 1);
        retry_pause(attempt);
    }
    pt_held_end_write(h);
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

/*
 * The transaction's entry for (tb, key): from the cache, else fetched
 * once and remembered (present or absent), which is exact because the
 * snapshot does not change under the transaction.  A key the transaction
 * has not touched cannot be among its waiting writes, so no flush first.
 */
static int txn_lookup(pg_txn *t, pt_table tb, const void *key, size_t klen, pg_cache_entry **out)
{
    *out = pg_cache_find(&t->cache, (int)tb, key, klen);
    if (*out)
        return 0;
    if (pg_cache_known_absent(&t->cache, (int)tb, key, klen))
        return pg_cache_note(&t->cache, (int)tb, key, klen, NULL, 0, out);
    pg_stmt st;
    stmt_on_key(&st, "pt_get", (int)tb, key, klen);
    PGresult *r = NULL;
    int rc = txn_roundtrip(t, false, &st, 1, &r, "get");
    if (rc != 0)
        return rc;
    if ((rc = txn_keep(t, r)) != 0)
        return rc;
    bool found = PQntuples(r) > 0;
    return pg_cache_note(&t->cache, (int)tb, key, klen, found ? PQgetvalue(r, 0, 0) : NULL,
                         found ? (size_t)PQgetlength(r, 0, 0) : 0, out);
}

static int pg_get(pt_txn *base, pt_table tb, const void *key, size_t klen, pt_val *out)
{
    pg_txn *t = (pg_txn *)base;
    if (!table_ok(tb))
        return PT_EINVAL;
    if (klen == 0)
        return PT_ENOTFOUND;
    pg_cache_entry *e = NULL;
    int rc = txn_lookup(t, tb, key, klen, &e);
    if (rc != 0)
        return rc;
    if (!e->val)
        return PT_ENOTFOUND;
    out->data = e->val;
    out->len = e->vlen;
    return 0;
}

/*
 * Records a write in the cache; it goes to the server with the next
 * flush.  Sent early once PG_FLUSH_ROWS or PG_FLUSH_BYTES wait, so a huge
 * transaction does not send everything at commit in one burst.
 */
static int txn_write(pg_txn *t, pt_table tb, const void *key, size_t klen, const void *val,
                     size_t vlen)
{
    if (t->failed) {
        pt_error_set("store: postgres: write after a failed statement in this transaction");
        return PT_EIO;
    }
    int rc = pg_cache_write(&t->cache, (int)tb, key, klen, val, vlen);
    if (rc == 0 && (t->cache.n_dirty >= PG_FLUSH_ROWS || t->cache.dirty_bytes >= PG_FLUSH_BYTES))
        rc = txn_roundtrip(t, true, NULL, 0, NULL, "write");
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
    if (no_overwrite) {
        pg_cache_entry *e = NULL;
        int rc = txn_lookup(t, tb, key, klen, &e);
        if (rc != 0)
            return rc;
        if (e->val) {
            pt_error_set("store: key exists");
            return PT_EEXISTS;
        }
    }
    return txn_write(t, tb, key, klen, vlen ? val : "", vlen);
}

/* A delete is a lookup (it answers PT_ENOTFOUND) and a waiting write. */
static int pg_del(pt_txn *base, pt_table tb, const void *key, size_t klen)
{
    pg_txn *t = (pg_txn *)base;
    if (!table_ok(tb))
        return PT_EINVAL;
    if (!writable(t, "delete"))
        return PT_EINVAL;
    if (klen == 0)
        return PT_ENOTFOUND;
    pg_cache_entry *e = NULL;
    int rc = txn_lookup(t, tb, key, klen, &e);
    if (rc != 0)
        return rc;
    if (!e->val)
        return PT_ENOTFOUND;
    return txn_write(t, tb, key, klen, NULL, 0);
}

/* One batch of a scan: $3 the prefix's successor, $4 `after` (either
 * NULL when absent), $5 the batch size. */
static void stmt_scan(pg_stmt *st, bool reverse, pt_table tb, const void *prefix, size_t plen,
                      const unsigned char *succ, size_t slen, const void *after, size_t alen,
                      int batch)
{
    stmt_on_key(st, reverse ? "pt_scan_rev" : "pt_scan_fwd", (int)tb, plen ? prefix : "", plen);
    st->n = 5;
    st->vals[2] = slen ? (const char *)succ : NULL;
    st->lens[2] = (int)slen;
    st->vals[3] = after;
    st->lens[3] = (int)alen;
    uint64_t v = (uint64_t)batch;
    for (int i = 7; i >= 0; i--, v >>= 8)
        st->limit[i] = (unsigned char)v;
    st->vals[4] = (const char *)st->limit;
    st->lens[4] = 8;
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

    int batch = PG_SCAN_FIRST, rc = 0;
    for (;;) {
        pg_stmt st;
        stmt_scan(&st, reverse, tb, prefix, plen, succ, slen, after, alen, batch);
        PGresult *r = NULL;
        rc = txn_roundtrip(t, true, &st, 1, &r, "scan"); /* waiting writes first */
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

/*
 * pt_txn_prefetch: one scan of up to PG_PREFETCH_MAX rows under prefix,
 * each noted in the cache unless the transaction already knows the key
 * (its own writes, not yet sent, are newer than the server's rows).  When
 * the scan saw the whole range, a key of it that is not there is known
 * absent too.  No flush: keys this transaction wrote are all cached.
 */
static int pg_prefetch(pt_txn *base, pt_table tb, const void *prefix, size_t plen)
{
    pg_txn *t = (pg_txn *)base;
    if (!table_ok(tb))
        return PT_EINVAL;
    if (prefix == NULL)
        plen = 0;
    unsigned char *succ = plen ? malloc(plen) : NULL;
    size_t slen = 0;
    if (plen && !succ) {
        pt_error_set("store: out of memory");
        return PT_ENOMEM;
    }
    if (plen)
        pt_store_prefix_successor(prefix, plen, succ, &slen);
    pg_stmt st;
    stmt_scan(&st, false, tb, prefix, plen, succ, slen, NULL, 0, PG_PREFETCH_MAX + 1);
    PGresult *r = NULL;
    int rc = txn_roundtrip(t, false, &st, 1, &r, "prefetch");
    free(succ);
    if (rc != 0 || (rc = txn_keep(t, r)) != 0)
        return rc;
    int n = PQntuples(r);
    for (int i = 0; i < n && i < PG_PREFETCH_MAX && rc == 0; i++) {
        const char *k = PQgetvalue(r, i, 0);
        size_t klen = (size_t)PQgetlength(r, i, 0);
        if (klen < plen || (plen && memcmp(k, prefix, plen) != 0))
            break; /* past a prefix of only 0xff bytes */
        if (!pg_cache_find(&t->cache, (int)tb, k, klen))
            rc = pg_cache_note(&t->cache, (int)tb, k, klen, PQgetvalue(r, i, 1),
                               (size_t)PQgetlength(r, i, 1), NULL);
    }
    if (rc == 0 && n <= PG_PREFETCH_MAX)
        rc = pg_cache_note_range(&t->cache, (int)tb, plen ? prefix : "", plen);
    return rc;
}

/*
 * pt_txn_prefetch_keys: the gets of the keys the transaction does not know
 * yet, in pipelines of up to PG_PREFETCH_KEYS, each result noted in the
 * cache as txn_lookup would.  Keys that are invalid for a get are skipped
 * (the get itself will answer for them).
 */
static int pg_prefetch_keys(pt_txn *base, const pt_keyref *keys, size_t n)
{
    pg_txn *t = (pg_txn *)base;
    int rc = 0;
    while (n > 0 && rc == 0) {
        pg_stmt st[PG_PREFETCH_KEYS];
        const pt_keyref *which[PG_PREFETCH_KEYS];
        PGresult *r[PG_PREFETCH_KEYS] = {0};
        size_t m = 0;
        for (; n > 0 && m < PG_PREFETCH_KEYS; keys++, n--) {
            if ((int)keys->t < 0 || keys->t >= PT_T__COUNT || keys->klen == 0 ||
                pg_cache_find(&t->cache, (int)keys->t, keys->key, keys->klen) ||
                pg_cache_known_absent(&t->cache, (int)keys->t, keys->key, keys->klen))
                continue;
            stmt_on_key(&st[m], "pt_get", (int)keys->t, keys->key, keys->klen);
            which[m++] = keys;
        }
        if (m == 0)
            break;
        rc = txn_roundtrip(t, false, st, m, r, "prefetch");
        for (size_t i = 0; i < m && rc == 0; i++)
            if ((rc = txn_keep(t, r[i])) != 0)
                pipe_clear(r + i + 1, m - i - 1);
        for (size_t i = 0; i < m && rc == 0; i++) {
            bool found = PQntuples(r[i]) > 0;
            if (!pg_cache_find(&t->cache, (int)which[i]->t, which[i]->key, which[i]->klen))
                rc = pg_cache_note(&t->cache, (int)which[i]->t, which[i]->key, which[i]->klen,
                                   found ? PQgetvalue(r[i], 0, 0) : NULL,
                                   found ? (size_t)PQgetlength(r[i], 0, 0) : 0, NULL);
        }
    }
    return rc;
}

/* ---- stats, ping, backup ----------------------------------------------- */

static int one_shot(pg_store *s, const char *sql, PGresult **out)
{
    PGconn *c = conn_get(s);
    if (!c)
        return PT_EIO;
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        set_pq_error(PQstatus(c) == CONNECTION_BAD ? "connection lost" : "query",
                     r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        PQclear(r);
        conn_put(s, c);
        return PT_EIO;
    }
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
    .scan = pg_scan,
    .prefetch = pg_prefetch,
    .prefetch_keys = pg_prefetch_keys,
};
