/*
 * store_lmdb.c - the LMDB backend of store.h: one environment in the data
 * directory (the default backend).
 *
 * Locking, in the order taken:
 *   q_lock (mutex)      - the group-commit queue (lmdb_write); never held
 *                         while a transaction runs.
 *   write_lock (mutex)  - one writer at a time in this process; LMDB would
 *                         serialise writers anyway, but holding our own
 *                         mutex lets the writer resize the map safely.
 *   map_lock (rwlock)   - every transaction holds it shared for its whole
 *                         life; mdb_env_set_mapsize() needs "no transaction
 *                         open in this process", so a resize takes it
 *                         exclusive.  Writer-preferring so a resize is not
 *                         starved by a stream of readers.
 * A thread-local table remembers which stores this thread already holds, so
 * a nested pt_store_read() inside a callback does not re-acquire the
 * rwlock (which could deadlock behind a waiting resizer) and a nested write
 * fails cleanly instead of deadlocking on the mutex.
 */
#include "store/store_backend.h"

#include "base/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define PT_MAP_SIZE_DEFAULT     ((size_t)64 << 20)
#define PT_MAP_SIZE_MAX_DEFAULT ((size_t)64 << 30)
#define PT_MAX_READERS_DEFAULT  126
#define PT_MAX_DBS              (PT_T__COUNT + 8)
#define PT_RESIZE_RETRIES       8

typedef struct lmdb_store {
    pt_store base; /* first: store.c dispatches through base.ops */
    MDB_env *env;
    MDB_dbi dbi[PT_T__COUNT];
    pthread_mutex_t write_lock;
    pthread_rwlock_t map_lock;
    /* group commit (lmdb_write): queued writes, oldest first */
    pthread_mutex_t q_lock;
    pthread_cond_t q_cond;
    struct write_item *q_head, **q_tail;
    bool q_leader;
    size_t map_size_max;
} lmdb_store;

typedef struct lmdb_txn {
    pt_txn base; /* first: callbacks get &base */
    lmdb_store *store;
    MDB_txn *txn;
    bool write;
    bool map_full; /* an operation hit MDB_MAP_FULL: grow and re-run */
} lmdb_txn;

static const pt_store_ops lmdb_ops;

/* ---- per-thread record of held locks (pt_held, store.c) --------------- */

static bool thread_holds_shared(const lmdb_store *store)
{
    pt_held *h = pt_held_get(&store->base, false);
    return h && h->depth > 0;
}

static int shared_lock(lmdb_store *store)
{
    pt_held *h = pt_held_get(&store->base, true);
    if (h == NULL) {
        pt_error_set("store: too many stores in use on one thread");
        return PT_ERR;
    }
    if (h->depth++ == 0)
        pthread_rwlock_rdlock(&store->map_lock);
    return 0;
}

static void shared_unlock(lmdb_store *store)
{
    pt_held *h = pt_held_get(&store->base, false);
    if (h == NULL || h->depth == 0)
        return;
    if (--h->depth == 0)
        pthread_rwlock_unlock(&store->map_lock);
    pt_held_release(h);
}

/* ---- errors ----------------------------------------------------------- */

/* Maps an LMDB (or errno) code to a pt_error and records the detail. */
static int map_err(int rc, const char *what)
{
    int out;
    switch (rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return PT_ENOTFOUND;
    case MDB_KEYEXIST:
        return PT_EEXISTS;
    case MDB_BAD_VALSIZE:
    case EINVAL:
        out = PT_EINVAL;
        break;
    case ENOMEM:
        out = PT_ENOMEM;
        break;
    case EACCES:
        out = PT_EDENIED;
        break;
    case MDB_TXN_FULL:
        out = PT_ETOOBIG;
        break;
    default:
        out = PT_EIO;
        break;
    }
    pt_error_set("store: %s: %s", what, mdb_strerror(rc));
    return out;
}

/* ---- map size --------------------------------------------------------- */

/*
 * Adopts a size another process (the portico CLI) set, or grows the map to
 * new_size.  mdb_env_set_mapsize() is only legal with no transaction open
 * in this process, hence the exclusive map_lock; a thread that is itself
 * inside a read callback cannot wait for that and gets an error instead.
 */
static int resize_map(lmdb_store *store, bool grow)
{
    if (thread_holds_shared(store)) {
        pt_error_set("store: map must be resized but this thread holds a transaction");
        return PT_EIO;
    }
    int rc = 0;
    pthread_rwlock_wrlock(&store->map_lock);
    if (!grow) {
        rc = map_err(mdb_env_set_mapsize(store->env, 0), "adopting map size");
    } else {
        MDB_envinfo info;
        mdb_env_info(store->env, &info);
        size_t cur = info.me_mapsize;
        if (cur >= store->map_size_max) {
            pt_error_set("store: map full at its ceiling of %zu bytes", store->map_size_max);
            rc = PT_EIO;
        } else {
            size_t next = cur > store->map_size_max / 2 ? store->map_size_max : cur * 2;
            rc = map_err(mdb_env_set_mapsize(store->env, next), "growing map");
        }
    }
    pthread_rwlock_unlock(&store->map_lock);
    return rc;
}

/*
 * Begins a transaction holding map_lock shared.  MDB_MAP_RESIZED means
 * another process grew the file past our mapping: adopt its size (with no
 * transaction of ours open) and try again.
 */
static int txn_begin(lmdb_store *store, bool write, lmdb_txn *out)
{
    memset(out, 0, sizeof(*out));
    out->base.store = &store->base;
    out->base.write = write;
    out->store = store;
    out->write = write;
    for (int attempt = 0;; attempt++) {
        int rc = shared_lock(store);
        if (rc != 0)
            return rc;
        rc = mdb_txn_begin(store->env, NULL, write ? 0 : MDB_RDONLY, &out->txn);
        if (rc == MDB_SUCCESS)
            return 0;
        shared_unlock(store);
        if (rc != MDB_MAP_RESIZED || attempt >= PT_RESIZE_RETRIES)
            return map_err(rc, "beginning transaction");
        rc = resize_map(store, false);
        if (rc != 0)
            return rc;
    }
}

/* ---- open / close ----------------------------------------------------- */

/* mkdir -p with mode 0700 for every component it creates. */
static int mkdir_p(const char *dir)
{
    char path[4096];
    if (pt_strlcpy(path, dir, sizeof(path)) != 0 || path[0] == '\0') {
        pt_error_set("store: bad directory path");
        return PT_EINVAL;
    }
    for (char *p = path + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST) {
                pt_error_set("store: mkdir %s: %s", path, strerror(errno));
                return PT_EIO;
            }
            if (end)
                break;
            *p = '/';
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        pt_error_set("store: %s is not a directory", dir);
        return PT_EIO;
    }
    return 0;
}

static bool data_file_exists(const char *dir)
{
    char path[4096];
    struct stat st;
    int n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
    return n > 0 && (size_t)n < sizeof(path) && stat(path, &st) == 0;
}

/*
 * LMDB maps data.mdb and trusts it: a file cut short (a partial copy, a
 * full disk, a bad restore) is only noticed when a page past the end is
 * touched, and then as SIGBUS, with no message.  So before LMDB sees the
 * file, its two meta pages are read here (the layout of LMDB 0.9's
 * MDB_meta on a 64-bit host, after the 16-byte page header: magic,
 * version, address, mapsize, two MDB_db of 48 bytes whose first holds the
 * page size, last_pg, txnid) and the file must hold every page the newer
 * meta says is in use.  An empty or missing file is a fresh store, unless
 * the directory was used before: then starting empty would silently hide
 * every account beside keys that still sign tokens.
 */
#define LMDB_MAGIC       0xBEEFC0DEu
#define LMDB_VERSION     1u
#define META_OFF         16 /* page header */
#define META_PSIZE_OFF   (META_OFF + 24)
#define META_LAST_PG_OFF (META_OFF + 120)
#define META_TXNID_OFF   (META_OFF + 128)

static const char restore_hint[] =
    "stop here and restore the data directory from the copy made with `portico backup` "
    "(see README, Storage), or point --data at the right directory";

typedef struct lmdb_meta {
    bool ok;
    uint32_t psize;
    uint64_t last_pg, txnid;
} lmdb_meta;

static lmdb_meta meta_read(const unsigned char *page, size_t avail)
{
    lmdb_meta m = {0};
    uint32_t magic, version;
    if (avail < META_TXNID_OFF + 8)
        return m;
    memcpy(&magic, page + META_OFF, 4);
    memcpy(&version, page + META_OFF + 4, 4);
    memcpy(&m.psize, page + META_PSIZE_OFF, 4);
    memcpy(&m.last_pg, page + META_LAST_PG_OFF, 8);
    memcpy(&m.txnid, page + META_TXNID_OFF, 8);
    m.ok = magic == LMDB_MAGIC && version == LMDB_VERSION && m.psize >= 512 && m.psize <= 65536 &&
           (m.psize & (m.psize - 1)) == 0 && m.last_pg >= 1;
    return m;
}

/*
 * Leaves the used-directory marker beside a store that opened, so that a
 * later start can tell "data.mdb lost" from "fresh directory".  Failing to
 * write it only weakens that check, so it is logged, not fatal.
 */
static void marker_create(const char *dir, const char *name)
{
    static const char text[] = "This directory holds a Portico LMDB store (data.mdb); "
                               "see README, Storage.\n";
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno != EEXIST)
            pt_log_warn("store", "cannot create %s: %s", path, strerror(errno));
        return;
    }
    if (write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1) || fsync(fd) != 0)
        pt_log_warn("store", "cannot write %s: %s", path, strerror(errno));
    close(fd);
}

int pt_store_file_check(const char *dir, const char *used_marker)
{
    char path[4096], marker[4096];
    struct stat st;
    int n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        pt_error_set("store: bad directory path");
        return PT_EINVAL;
    }
    bool missing = stat(path, &st) != 0;
    if (missing && errno != ENOENT) {
        pt_error_set("store: %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    if (missing || st.st_size == 0) {
        n = used_marker ? snprintf(marker, sizeof(marker), "%s/%s", dir, used_marker) : -1;
        if (n > 0 && (size_t)n < sizeof(marker) && access(marker, F_OK) == 0) {
            pt_error_set("store: %s is %s, but %s shows this data directory was used before; "
                         "refusing to start an empty store beside it: %s",
                         path, missing ? "missing" : "empty (0 bytes)", marker, restore_hint);
            return PT_EIO;
        }
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        pt_error_set("store: %s is not a regular file", path);
        return PT_EIO;
    }

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pt_error_set("store: %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    /* Page 0 first (it says the page size), then page 1 at that offset. */
    unsigned char page[256];
    ssize_t got = pread(fd, page, sizeof(page), 0);
    lmdb_meta m0 = meta_read(page, got > 0 ? (size_t)got : 0), m1 = {0};
    if (m0.ok) {
        got = pread(fd, page, sizeof(page), (off_t)m0.psize);
        m1 = meta_read(page, got > 0 ? (size_t)got : 0);
    }
    close(fd);
    if (!m0.ok && !m1.ok) {
        pt_error_set("store: %s (%lld bytes) is not an LMDB data file or its header is damaged: "
                     "%s",
                     path, (long long)st.st_size, restore_hint);
        return PT_EIO;
    }
    /* LMDB uses the meta page with the newer transaction id. */
    lmdb_meta m = !m1.ok || (m0.ok && m0.txnid >= m1.txnid) ? m0 : m1;
    if (m1.ok && m0.ok && m1.psize != m0.psize)
        m = m0;
    unsigned long long need = (unsigned long long)(m.last_pg + 1) * m.psize;
    if (m.last_pg > ((uint64_t)1 << 40) || (unsigned long long)st.st_size < need) {
        pt_error_set("store: %s is truncated: it is %lld bytes, but its own header says the store "
                     "uses %llu pages of %u bytes (%llu bytes); %s",
                     path, (long long)st.st_size, (unsigned long long)(m.last_pg + 1), m.psize,
                     need, restore_hint);
        return PT_EIO;
    }
    return 0;
}

/* Opens (creating) every named table once; handles live as long as env. */
static int open_tables(lmdb_store *store)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0)
        return map_err(rc, "opening tables");
    for (int t = 0; t < PT_T__COUNT; t++) {
        rc = mdb_dbi_open(txn, pt_table_name((pt_table)t), MDB_CREATE, &store->dbi[t]);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return map_err(rc, pt_table_name((pt_table)t));
        }
    }
    rc = mdb_txn_commit(txn);
    return rc ? map_err(rc, "opening tables") : 0;
}

/*
 * A fresh environment starts at the configured size; an existing one keeps
 * the (possibly grown) size recorded in the file unless the configured one
 * is larger, so a restart does not shrink the map and grow it again.
 */
int pt_store_lmdb_open(pt_store **out, const char *dir, const pt_store_options *opts)
{
    pt_store_options o = PT_STORE_OPTIONS_INIT;
    *out = NULL;
    if (dir == NULL) {
        pt_error_set("store: no data directory");
        return PT_EINVAL;
    }
    if (opts) {
        if (opts->version != PT_STORE_OPTIONS_VERSION) {
            pt_error_set("store: unsupported options version %u", opts->version);
            return PT_EINVAL;
        }
        o = *opts;
    }
    if (o.map_size == 0)
        o.map_size = PT_MAP_SIZE_DEFAULT;
    if (o.map_size_max == 0)
        o.map_size_max = PT_MAP_SIZE_MAX_DEFAULT;
    if (o.map_size_max < o.map_size)
        o.map_size_max = o.map_size;
    if (o.max_readers == 0)
        o.max_readers = PT_MAX_READERS_DEFAULT;

    int rc = mkdir_p(dir);
    if (rc != 0)
        return rc;
    if ((rc = pt_store_file_check(dir, o.used_marker)) != 0)
        return rc;
    bool existed = data_file_exists(dir);

    lmdb_store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        pt_error_set("store: out of memory");
        return PT_ENOMEM;
    }
    s->base.ops = &lmdb_ops;
    s->map_size_max = o.map_size_max;
    pthread_mutex_init(&s->write_lock, NULL);
    pthread_mutex_init(&s->q_lock, NULL);
    pthread_cond_init(&s->q_cond, NULL);
    s->q_tail = &s->q_head;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->map_lock, &attr);
    pthread_rwlockattr_destroy(&attr);

    const char *step = "creating environment";
    int mrc = mdb_env_create(&s->env);
    if (mrc == 0) {
        step = "setting max dbs";
        mrc = mdb_env_set_maxdbs(s->env, PT_MAX_DBS);
    }
    if (mrc == 0) {
        step = "setting max readers";
        mrc = mdb_env_set_maxreaders(s->env, o.max_readers);
    }
    if (mrc == 0 && !existed) {
        step = "setting map size";
        mrc = mdb_env_set_mapsize(s->env, o.map_size);
    }
    if (mrc == 0) {
        step = "opening environment";
        mrc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600);
    }
    if (mrc == 0 && existed) {
        MDB_envinfo info;
        mdb_env_info(s->env, &info);
        if (info.me_mapsize < o.map_size) {
            step = "setting map size";
            mrc = mdb_env_set_mapsize(s->env, o.map_size);
        }
    }
    if (mrc == 0) {
        int dead = 0;
        step = "checking readers";
        mrc = mdb_reader_check(s->env, &dead);
    }
    if (mrc != 0) {
        rc = map_err(mrc, step);
        goto fail;
    }
    rc = open_tables(s);
    if (rc != 0)
        goto fail;
    if (o.used_marker)
        marker_create(dir, o.used_marker);
    *out = &s->base;
    return 0;

fail:
    if (s->env)
        mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->map_lock);
    pthread_mutex_destroy(&s->write_lock);
    pthread_mutex_destroy(&s->q_lock);
    pthread_cond_destroy(&s->q_cond);
    free(s);
    return rc;
}

static void lmdb_close(pt_store *base)
{
    lmdb_store *store = (lmdb_store *)base;
    if (store == NULL)
        return;
    mdb_env_close(store->env);
    pthread_rwlock_destroy(&store->map_lock);
    pthread_mutex_destroy(&store->write_lock);
    pthread_mutex_destroy(&store->q_lock);
    pthread_cond_destroy(&store->q_cond);
    free(store);
}

/* ---- transactions ----------------------------------------------------- */

static int lmdb_read(pt_store *base, pt_txn_fn fn, void *ctx)
{
    lmdb_store *store = (lmdb_store *)base;
    lmdb_txn t;
    int rc = txn_begin(store, false, &t);
    if (rc != 0)
        return rc;
    rc = fn(&t.base, ctx);
    mdb_txn_abort(t.txn);
    shared_unlock(store);
    return rc;
}

static int lmdb_snapshot_begin(pt_store *base, pt_txn **out)
{
    lmdb_store *store = (lmdb_store *)base;
    *out = NULL;
    lmdb_txn *t = malloc(sizeof(*t));
    if (!t)
        return PT_ENOMEM;
    int rc = txn_begin(store, false, t);
    if (rc != 0) {
        free(t);
        return rc;
    }
    *out = &t->base;
    return 0;
}

static void lmdb_snapshot_end(pt_txn *base)
{
    lmdb_txn *txn = (lmdb_txn *)base;
    if (!txn)
        return;
    mdb_txn_abort(txn->txn);
    shared_unlock(txn->store);
    free(txn);
}

/* ---- group commit ---------------------------------------------------- */

/*
 * Every acknowledged write is synced to disk, and one sync per request
 * caps write throughput at the disk's sync rate.  So concurrent
 * pt_store_write() callers queue here; the first to find no leader becomes
 * it, takes up to PT_GROUP_MAX queued writes and commits them in one
 * transaction (one sync), each in a nested transaction of its own so one
 * caller's failure aborts only its own changes.  Every caller returns only
 * after the commit holding its write, so an acknowledged write is still a
 * durable one.  Callbacks of a group run on the leader's thread; an error
 * detail (thread-local) is carried back to its caller.
 */
#define PT_GROUP_MAX 64

typedef struct write_item {
    pt_txn_fn fn;
    void *ctx;
    int rc;
    bool done;
    struct write_item *next;
    char err[256];
} write_item;

static void item_fail(write_item *it, int rc)
{
    it->rc = rc;
    snprintf(it->err, sizeof(it->err), "%s", pt_error_last());
}

/* Runs one caller's fn in a transaction nested in parent; *regrow when
 * the map is full (the whole group must then run again in a bigger one). */
static void item_run_nested(lmdb_txn *parent, write_item *it, bool *regrow)
{
    lmdb_txn c = *parent;
    c.map_full = false;
    int mrc = mdb_txn_begin(parent->store->env, parent->txn, 0, &c.txn);
    if (mrc != 0) {
        item_fail(it, map_err(mrc, "beginning nested transaction"));
        return;
    }
    it->rc = it->fn(&c.base, it->ctx);
    if (c.map_full) {
        mdb_txn_abort(c.txn);
        *regrow = true;
        return;
    }
    if (it->rc != 0) {
        item_fail(it, it->rc);
        mdb_txn_abort(c.txn);
        return;
    }
    mrc = mdb_txn_commit(c.txn);
    if (mrc == MDB_MAP_FULL)
        *regrow = true;
    else if (mrc != 0)
        item_fail(it, map_err(mrc, "committing nested transaction"));
}

static void group_fail(write_item *items, int rc)
{
    for (write_item *it = items; it; it = it->next)
        if (it->rc == 0)
            item_fail(it, rc);
}

/*
 * Commits a group until it fits the map.  A group of one runs its fn in
 * the transaction itself (nothing to isolate it from).
 */
static void group_commit(lmdb_store *store, write_item *items)
{
    bool single = items->next == NULL;
    pthread_mutex_lock(&store->write_lock);
    for (;;) {
        lmdb_txn t;
        int rc = txn_begin(store, true, &t);
        if (rc != 0) {
            group_fail(items, rc);
            break;
        }
        bool regrow = false, any_ok = false;
        for (write_item *it = items; it && !regrow; it = it->next) {
            it->rc = 0;
            it->err[0] = '\0';
            if (single) {
                it->rc = it->fn(&t.base, it->ctx);
                regrow = t.map_full;
                if (it->rc != 0 && !regrow)
                    item_fail(it, it->rc);
            } else {
                item_run_nested(&t, it, &regrow);
            }
            any_ok = any_ok || it->rc == 0;
        }
        if (regrow || !any_ok) {
            mdb_txn_abort(t.txn);
            shared_unlock(store);
            if (!regrow)
                break;
            if ((rc = resize_map(store, true)) != 0) {
                group_fail(items, rc);
                break;
            }
            continue;
        }
        int mrc = mdb_txn_commit(t.txn);
        shared_unlock(store);
        if (mrc == MDB_MAP_FULL) {
            if ((rc = resize_map(store, true)) != 0) {
                group_fail(items, rc);
                break;
            }
            continue;
        }
        if (mrc != 0)
            group_fail(items, map_err(mrc, "committing"));
        break;
    }
    pthread_mutex_unlock(&store->write_lock);
}

/* Unlinks up to PT_GROUP_MAX queued writes, oldest first (q_lock held). */
static write_item *queue_take(lmdb_store *store)
{
    write_item *head = store->q_head, *last = head;
    for (size_t n = 1; n < PT_GROUP_MAX && last->next; n++)
        last = last->next;
    store->q_head = last->next;
    if (!store->q_head)
        store->q_tail = &store->q_head;
    last->next = NULL;
    return head;
}

/*
 * Runs fn until it commits (in a group, see above).  Not allowed from
 * inside another transaction callback on the same thread (PT_ECONFLICT).
 * A full map aborts, grows the map and re-runs the callbacks from
 * scratch, which is why store.h asks write callbacks to be repeatable.
 */
static int lmdb_write(pt_store *base, pt_txn_fn fn, void *ctx)
{
    lmdb_store *store = (lmdb_store *)base;
    /* A writer may need the map_lock exclusive to grow the map; waiting for
     * the group while holding it shared could deadlock against it, so a
     * write inside a read is refused (pt_held_begin_write). */
    pt_held *h;
    int hrc = pt_held_begin_write(base, &h);
    if (hrc != 0)
        return hrc;
    write_item me = {.fn = fn, .ctx = ctx};
    pthread_mutex_lock(&store->q_lock);
    *store->q_tail = &me;
    store->q_tail = &me.next;
    while (!me.done) {
        if (store->q_leader) {
            pthread_cond_wait(&store->q_cond, &store->q_lock);
            continue;
        }
        store->q_leader = true;
        write_item *group = queue_take(store);
        pthread_mutex_unlock(&store->q_lock);
        group_commit(store, group);
        pthread_mutex_lock(&store->q_lock);
        for (write_item *it = group, *next; it; it = next) {
            next = it->next;
            it->done = true;
        }
        store->q_leader = false;
        pthread_cond_broadcast(&store->q_cond);
    }
    pthread_mutex_unlock(&store->q_lock);
    pt_held_end_write(h);
    if (me.rc != 0)
        pt_error_set("%s", me.err);
    return me.rc;
}

/* Counts the reader lines mdb_reader_list() prints (header lines aside). */
static int count_reader_line(const char *msg, void *ctx)
{
    if (strncmp(msg, "    pid", 7) != 0 && msg[0] != '(')
        (*(unsigned *)ctx)++;
    return 0;
}

static int lmdb_stat(pt_store *base, pt_store_stats *out)
{
    lmdb_store *store = (lmdb_store *)base;
    MDB_envinfo info;
    MDB_stat st;
    memset(out, 0, sizeof(*out));
    int rc = shared_lock(store);
    if (rc != 0)
        return rc;
    int mrc = mdb_env_info(store->env, &info);
    if (mrc == 0)
        mrc = mdb_env_stat(store->env, &st);
    unsigned readers = 0;
    if (mrc == 0 && mdb_reader_list(store->env, count_reader_line, &readers) < 0)
        readers = 0;
    shared_unlock(store);
    if (mrc != 0)
        return map_err(mrc, "stat");
    out->map_size = info.me_mapsize;
    out->used_bytes = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
    out->readers_max = info.me_maxreaders;
    out->readers_used = readers;
    return 0;
}

/* True if dir has no entries besides "." and "..". */
static int dir_is_empty(const char *dir, bool *empty)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        pt_error_set("store: backup: opendir %s: %s", dir, strerror(errno));
        return PT_EIO;
    }
    *empty = true;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            *empty = false;
            break;
        }
    }
    closedir(d);
    return 0;
}

/*
 * mdb_env_copyfd2 runs its own read transaction, so it is bracketed by the
 * shared map_lock like any other; writers carry on meanwhile.  The copy
 * goes into a file we create with mode 0600 (mdb_env_copy2 would create it
 * 0666 less the umask): it holds the signing keys too.
 */
static int lmdb_backup(pt_store *base, const char *dir)
{
    lmdb_store *store = (lmdb_store *)base;
    int rc = mkdir_p(dir);
    if (rc != 0)
        return rc;
    bool empty;
    rc = dir_is_empty(dir, &empty);
    if (rc != 0)
        return rc;
    if (!empty) {
        pt_error_set("store: backup directory %s is not empty", dir);
        return PT_EEXISTS;
    }
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        pt_error_set("store: bad backup directory path");
        return PT_EINVAL;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        pt_error_set("store: %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    rc = shared_lock(store);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    int mrc = mdb_env_copyfd2(store->env, fd, MDB_CP_COMPACT);
    shared_unlock(store);
    if (mrc == 0 && fsync(fd) != 0)
        mrc = errno;
    close(fd);
    return mrc ? map_err(mrc, "backup") : 0;
}

/* ---- operations ------------------------------------------------------- */

static bool table_ok(pt_table t)
{
    if ((int)t < 0 || t >= PT_T__COUNT) {
        pt_error_set("store: no such table %d", (int)t);
        return false;
    }
    return true;
}

/* Records a full map so pt_store_write() knows to grow and re-run. */
static int op_err(lmdb_txn *txn, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL)
        txn->map_full = true;
    return map_err(rc, what);
}

static int lmdb_get(pt_txn *base, pt_table t, const void *key, size_t klen, pt_val *out)
{
    lmdb_txn *txn = (lmdb_txn *)base;
    if (!table_ok(t))
        return PT_EINVAL;
    if (klen == 0)
        return PT_ENOTFOUND;
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn->txn, txn->store->dbi[t], &k, &v);
    if (rc != 0)
        return op_err(txn, rc, "get");
    out->data = v.mv_data;
    out->len = v.mv_size;
    return 0;
}

static int put_flags(lmdb_txn *txn, pt_table t, const void *key, size_t klen, const void *val,
                     size_t vlen, unsigned flags)
{
    if (!table_ok(t))
        return PT_EINVAL;
    if (!txn->write) {
        pt_error_set("store: write in a read-only transaction");
        return PT_EINVAL;
    }
    if (klen == 0) {
        pt_error_set("store: empty key");
        return PT_EINVAL;
    }
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    int rc = mdb_put(txn->txn, txn->store->dbi[t], &k, &v, flags);
    if (rc == MDB_KEYEXIST) {
        pt_error_set("store: key exists");
        return PT_EEXISTS;
    }
    return rc ? op_err(txn, rc, "put") : 0;
}

static int lmdb_put(pt_txn *base, pt_table t, const void *key, size_t klen, const void *val,
                    size_t vlen, bool no_overwrite)
{
    return put_flags((lmdb_txn *)base, t, key, klen, val, vlen, no_overwrite ? MDB_NOOVERWRITE : 0);
}

static int lmdb_del(pt_txn *base, pt_table t, const void *key, size_t klen)
{
    lmdb_txn *txn = (lmdb_txn *)base;
    if (!table_ok(t))
        return PT_EINVAL;
    if (!txn->write) {
        pt_error_set("store: delete in a read-only transaction");
        return PT_EINVAL;
    }
    if (klen == 0)
        return PT_ENOTFOUND;
    MDB_val k = {klen, (void *)key};
    int rc = mdb_del(txn->txn, txn->store->dbi[t], &k, NULL);
    return rc ? op_err(txn, rc, "delete") : 0;
}

/* memcmp order with shorter-is-smaller, which is LMDB's default order. */
static int key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static bool has_prefix(const MDB_val *k, const void *prefix, size_t plen)
{
    return k->mv_size >= plen && (plen == 0 || memcmp(k->mv_data, prefix, plen) == 0);
}

/*
 * Positions a reverse scan on the greatest key strictly below bound (or
 * on the last key when bound is NULL).
 */
static int seek_below(MDB_cursor *cur, const void *bound, size_t blen, MDB_val *k, MDB_val *v)
{
    if (bound == NULL)
        return mdb_cursor_get(cur, k, v, MDB_LAST);
    k->mv_data = (void *)bound;
    k->mv_size = blen;
    int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
        return mdb_cursor_get(cur, k, v, MDB_LAST);
    if (rc != 0)
        return rc;
    return mdb_cursor_get(cur, k, v, MDB_PREV);
}

/*
 * Forward: start at max(prefix, after) and skip `after` itself.  Reverse:
 * start below min(after, successor-of-prefix), where the successor is the
 * prefix with its last non-0xff byte incremented (no successor means "to
 * the end").  Both directions stop at the first key outside the prefix.
 */
static int lmdb_scan(pt_txn *base, pt_table t, const void *prefix, size_t plen, const void *after,
                     size_t alen, bool reverse, pt_scan_fn cb, void *ctx)
{
    lmdb_txn *txn = (lmdb_txn *)base;
    if (!table_ok(t))
        return PT_EINVAL;
    if (prefix == NULL)
        plen = 0;
    if (after == NULL || alen == 0)
        after = NULL, alen = 0;

    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->txn, txn->store->dbi[t], &cur);
    if (rc != 0)
        return op_err(txn, rc, "scan");

    MDB_val k = {0, NULL}, v = {0, NULL};
    unsigned char *succ = NULL;
    if (!reverse) {
        bool skip_equal = false;
        if (after && key_cmp(after, alen, prefix, plen) >= 0) {
            k.mv_data = (void *)after;
            k.mv_size = alen;
            skip_equal = true;
        } else {
            k.mv_data = (void *)prefix;
            k.mv_size = plen;
        }
        if (k.mv_size == 0) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        } else {
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
            if (rc == 0 && skip_equal && key_cmp(k.mv_data, k.mv_size, after, alen) == 0)
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
    } else {
        size_t slen = plen;
        if (plen > 0) {
            succ = malloc(plen);
            if (succ == NULL) {
                mdb_cursor_close(cur);
                pt_error_set("store: out of memory");
                return PT_ENOMEM;
            }
            memcpy(succ, prefix, plen);
            while (slen > 0 && succ[slen - 1] == 0xff)
                slen--;
            if (slen > 0)
                succ[slen - 1]++;
        }
        const void *bound = slen > 0 ? succ : NULL;
        size_t blen = slen;
        if (after && (bound == NULL || key_cmp(after, alen, bound, blen) < 0)) {
            bound = after;
            blen = alen;
        }
        rc = seek_below(cur, bound, blen, &k, &v);
    }

    while (rc == 0 && has_prefix(&k, prefix, plen)) {
        pt_val pk = {k.mv_data, k.mv_size}, pv = {v.mv_data, v.mv_size};
        int crc = cb(&pk, &pv, ctx);
        if (crc == PT_ESTOP) {
            rc = 0;
            goto done;
        }
        if (crc != 0) {
            mdb_cursor_close(cur);
            free(succ);
            return crc;
        }
        rc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND || rc == 0)
        rc = 0;
    else
        rc = op_err(txn, rc, "scan");
done:
    mdb_cursor_close(cur);
    free(succ);
    return rc;
}

/* LMDB is always reachable once open: it is a file in this process. */
static int lmdb_ping(pt_store *base)
{
    (void)base;
    return 0;
}

/* A read transaction sees the data as of the last commit before it
 * began, and LMDB numbers commits, so that number names its snapshot. */
static int lmdb_snapshot_id(pt_txn *base, uint64_t *out)
{
    lmdb_txn *txn = (lmdb_txn *)base;
    if (txn->write)
        return PT_EINVAL;
    *out = (uint64_t)mdb_txn_id(txn->txn);
    return 0;
}

static const pt_store_ops lmdb_ops = {
    .name = "lmdb",
    .close = lmdb_close,
    .read = lmdb_read,
    .write = lmdb_write,
    .snapshot_begin = lmdb_snapshot_begin,
    .snapshot_end = lmdb_snapshot_end,
    .stat = lmdb_stat,
    .backup = lmdb_backup,
    .ping = lmdb_ping,
    .get = lmdb_get,
    .put = lmdb_put,
    .del = lmdb_del,
    .scan = lmdb_scan,
    .snapshot_id = lmdb_snapshot_id,
};
