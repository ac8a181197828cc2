/*
 * test_auth_parts.c - passwords, TOTP (RFC 6238 vectors), login throttling
 * and refresh sessions (rotation, reuse detection, revocation, expiry).
 */
#include "auth/auth.h"
#include "auth/session.h"
#include "base/crypto.h"
#include "check.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#define OPS crypto_pwhash_OPSLIMIT_MIN
#define MEM crypto_pwhash_MEMLIMIT_MIN

static void test_password(void)
{
    char h1[128], h2[128];
    CHECK(pt_password_hash(h1, "correct horse", OPS, MEM) == 0);
    CHECK(strncmp(h1, "$argon2id$", 10) == 0);
    CHECK(pt_password_hash(h2, "correct horse", OPS, MEM) == 0);
    CHECK(strcmp(h1, h2) != 0); /* salted */
    CHECK(pt_password_verify(h1, "correct horse"));
    CHECK(!pt_password_verify(h1, "correct horsE"));
    CHECK(!pt_password_verify(h1, ""));
    CHECK(!pt_password_verify("", "x"));
    CHECK(!pt_password_verify("$argon2id$garbage", "x"));
    CHECK(!pt_password_verify(NULL, "x"));
    CHECK(!pt_password_verify(h1, NULL));
    char longhash[300];
    memset(longhash, 'a', sizeof longhash - 1);
    longhash[sizeof longhash - 1] = 0;
    CHECK(!pt_password_verify(longhash, "x"));
    CHECK(pt_password_hash(h2, "x", 0, MEM) == PT_EINVAL);
    CHECK(pt_password_hash(h2, NULL, OPS, MEM) == PT_EINVAL);
    pt_password_dummy_verify("anything", OPS, MEM);
    pt_password_dummy_verify(NULL, OPS, MEM);
}

/* RFC 6238 appendix B, SHA1, truncated to the last 6 digits. */
static void test_totp(void)
{
    const char *secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; /* "12345678901234567890" */
    struct {
        int64_t t;
        const char *otp;
    } v[] = {
        {59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
        {1234567890, "005924"}, {2000000000, "279037"}, {20000000000LL, "353130"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (!pt_totp_check(NULL, secret, v[i].otp, v[i].t, 0)) {
            fprintf(stderr, "RFC 6238 vector t=%lld failed\n", (long long)v[i].t);
            failures++;
        }
    }
    /* window: one step either side, not two */
    CHECK(pt_totp_check(NULL, secret, "050471", 1111111111 + 30, 0));
    CHECK(pt_totp_check(NULL, secret, "050471", 1111111111 - 30, 0));
    CHECK(!pt_totp_check(NULL, secret, "050471", 1111111111 + 61, 0));
    CHECK(!pt_totp_check(NULL, secret, "050471", 1111111111 - 70, 0));
    /* shape */
    CHECK(!pt_totp_check(NULL, secret, "50471", 1111111111, 0));
    CHECK(!pt_totp_check(NULL, secret, "0504710", 1111111111, 0));
    CHECK(!pt_totp_check(NULL, secret, "05047a", 1111111111, 0));
    CHECK(!pt_totp_check(NULL, secret, "", 1111111111, 0));
    CHECK(!pt_totp_check(NULL, secret, NULL, 1111111111, 0));
    CHECK(!pt_totp_check(NULL, NULL, "050471", 1111111111, 0));
    CHECK(!pt_totp_check(NULL, "!!!!", "050471", 1111111111, 0));
    CHECK(!pt_totp_check(NULL, "", "050471", 1111111111, 0));

    /* single use: the matched step is returned, and that step (or any
     * earlier one) is refused next time */
    int64_t step = -1;
    CHECK(pt_totp_check(&step, secret, "050471", 1111111111, 0));
    CHECK(step == 1111111111 / 30);
    CHECK(!pt_totp_check(&step, secret, "050471", 1111111111, 1111111111 / 30));
    CHECK(step == 0);
    CHECK(!pt_totp_check(NULL, secret, "050471", 1111111111 + 30, 1111111111 / 30));
    CHECK(!pt_totp_check(NULL, secret, "050471", 1111111111, 1111111111 / 30 + 1));
    CHECK(pt_totp_check(&step, secret, "050471", 1111111111 + 30, 1111111111 / 30 - 1));
    CHECK(step == 1111111111 / 30);
    /* the code of the step before now is still fine if that step is unused */
    CHECK(pt_totp_check(&step, secret, "081804", 1111111111, 1111111109 / 30 - 1));
    CHECK(step == 1111111109 / 30);

    char s[64];
    CHECK(pt_totp_new_secret(s) == 0);
    CHECK(strlen(s) == 32 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == 32);
    char s2[64];
    CHECK(pt_totp_new_secret(s2) == 0 && strcmp(s, s2) != 0);

    char *uri = pt_totp_uri("Portico", "jo smith@x", s);
    CHECK(uri && strncmp(uri, "otpauth://totp/Portico:jo%20smith%40x?secret=", 45) == 0);
    CHECK(uri && strstr(uri, "&issuer=Portico") && strstr(uri, "period=30") &&
          strstr(uri, "digits=6") && strstr(uri, s));
    free(uri);
}

/* ---- login throttling (in the store) --------------------------------------- */

static pt_store *open_tmp_store(char *dir)
{
    pt_store *st = NULL;
    pt_store_options opts = PT_STORE_OPTIONS_INIT;
    CHECK(mkdtemp(dir) != NULL);
    CHECK(pt_store_open(&st, dir, &opts) == 0);
    return st;
}

typedef struct th_op {
    pt_throttle *t;
    const char *name;
    int64_t now;
    int64_t out;
    char what; /* r reserve, l release, x reset, a retry-after */
} th_op;

static int th_txn(pt_txn *txn, void *arg)
{
    th_op *o = arg;
    switch (o->what) {
    case 'r':
        return pt_throttle_reserve(&o->out, o->t, txn, o->name, o->now);
    case 'l':
        return pt_throttle_release(o->t, txn, o->name, o->now);
    case 'x':
        return pt_throttle_reset(o->t, txn, o->name);
    default:
        return pt_throttle_retry_after(&o->out, o->t, txn, o->name, o->now);
    }
}

/* One operation in its own transaction, as login_guard.c runs them. */
static int64_t th(pt_store *st, pt_throttle *t, char what, const char *name, int64_t now)
{
    th_op o = {t, name, now, -1, what};
    int err = what == 'a' ? pt_store_read(st, th_txn, &o) : pt_store_write(st, th_txn, &o);
    CHECK_MSG(err == 0, "throttle op %c: %s", what, pt_error_last());
    return o.out;
}

static bool blocked(pt_store *st, pt_throttle *t, const char *name, int64_t now)
{
    return th(st, t, 'a', name, now) > 0;
}

typedef struct count_ctx {
    unsigned n;
} count_ctx;

static int count_cb(const pt_val *k, const pt_val *v, void *arg)
{
    (void)k;
    (void)v;
    ((count_ctx *)arg)->n++;
    return 0;
}

static int count_txn(pt_txn *txn, void *arg)
{
    return pt_txn_scan(txn, PT_T_META, "th\0", 3, NULL, 0, false, count_cb, arg);
}

/* Records of the throttle in the store. */
static unsigned th_records(pt_store *st)
{
    count_ctx c = {0};
    CHECK(pt_store_read(st, count_txn, &c) == 0);
    return c.n;
}

static int mention_cb(const pt_val *k, const pt_val *v, void *arg)
{
    const char *name = arg;
    if (memmem(k->data, k->len, name, strlen(name)) || memmem(v->data, v->len, name, strlen(name)))
        return PT_EEXISTS;
    return 0;
}

static int mention_txn(pt_txn *txn, void *arg)
{
    return pt_txn_scan(txn, PT_T_META, "th\0", 3, NULL, 0, false, mention_cb, arg);
}

static bool store_mentions(pt_store *st, const char *name)
{
    return pt_store_read(st, mention_txn, (void *)name) == PT_EEXISTS;
}

static void test_throttle(void)
{
    char dir[] = "/tmp/pt-throttle-XXXXXX";
    pt_store *st = open_tmp_store(dir);
    unsigned char secret[PT_THROTTLE_SECRET_LEN], again[PT_THROTTLE_SECRET_LEN];
    pt_throttle *t = NULL;
    if (!st)
        return;
    CHECK(pt_throttle_secret_load(secret, st) == 0);
    CHECK(pt_throttle_secret_load(again, st) == 0);
    CHECK(memcmp(secret, again, sizeof secret) == 0); /* one secret for every node */
    CHECK(pt_throttle_new(&t, 'u', 5, 900, secret) == 0);
    if (!t)
        return;
    int64_t now = 1000000;
    for (int i = 0; i < 4; i++) {
        CHECK(th(st, t, 'r', "bob", now + i) == 0);
        CHECK(!blocked(st, t, "bob", now + i));
    }
    CHECK(th(st, t, 'a', "bob", now) == 0);
    CHECK(th(st, t, 'r', "bob", now + 5) == 0); /* the fifth attempt goes ahead */
    CHECK(blocked(st, t, "bob", now + 5));
    CHECK(th(st, t, 'a', "bob", now + 5) == 895);
    CHECK(th(st, t, 'r', "bob", now + 5) == 895); /* the sixth does not */
    CHECK(th(st, t, 'r', "bob", now + 6) == 894);
    CHECK(!blocked(st, t, "alice", now + 5));
    CHECK(!blocked(st, t, "bob2", now + 5));
    CHECK(blocked(st, t, "bob", now + 899));
    /* the window passes */
    CHECK(!blocked(st, t, "bob", now + 900));
    CHECK(!blocked(st, t, "bob", now + 901));
    /* a fresh window starts from zero */
    CHECK(th(st, t, 'r', "bob", now + 1000) == 0);
    CHECK(!blocked(st, t, "bob", now + 1000));

    /* reset on success */
    for (int i = 0; i < 5; i++)
        CHECK(th(st, t, 'r', "carol", now) == 0);
    CHECK(blocked(st, t, "carol", now));
    th(st, t, 'x', "carol", now);
    CHECK(!blocked(st, t, "carol", now));

    /* a released attempt (not a failure after all) does not count */
    for (int i = 0; i < 20; i++) {
        CHECK(th(st, t, 'r', "erin", now) == 0);
        th(st, t, 'l', "erin", now);
    }
    CHECK(!blocked(st, t, "erin", now));
    th(st, t, 'l', "nobody", now); /* nothing to give back: harmless */
    th(st, t, 'l', "erin", now);
    for (int i = 0; i < 5; i++)
        CHECK(th(st, t, 'r', "erin", now) == 0);
    CHECK(th(st, t, 'r', "erin", now) > 0);

    /* A second throttle on the same store (another node) sees the same
     * counts: the state is in the store, not in the object. */
    pt_throttle *t2 = NULL;
    CHECK(pt_throttle_new(&t2, 'u', 5, 900, secret) == 0);
    CHECK(t2 && th(st, t2, 'r', "erin", now) > 0);
    CHECK(t2 && th(st, t2, 'r', "bob", now + 1000) == 0); /* bob's second failure */
    CHECK(th(st, t, 'a', "bob", now + 1000) == 0);
    pt_throttle_free(t2);

    /* names are not kept: the store holds only their hashes */
    CHECK(!store_mentions(st, "carol") && !store_mentions(st, "erin"));

    /* bounded: ended records are pruned, live ones are not */
    unsigned before = th_records(st), deleted = 0, total = 0;
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "flood%d", i);
        th(st, t, 'r', name, now + 2000);
    }
    CHECK(th_records(st) == before + 100);
    CHECK(pt_throttle_prune_some(&deleted, st, now + 2000, 1000) == 0);
    CHECK_MSG(deleted == before, "pruned %u of %u ended records", deleted, before);
    CHECK(th_records(st) == 100); /* the flood's windows are still open */
    for (int i = 0; i < 20 && th_records(st) > 0; i++) {
        CHECK(pt_throttle_prune_some(&deleted, st, now + 2900, 16) == 0);
        CHECK(deleted <= 16); /* never more than it looked at */
        total += deleted;
    }
    CHECK_MSG(th_records(st) == 0 && total == 100, "%u left, %u pruned", th_records(st), total);
    pt_throttle_free(t);
    pt_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* Many threads (as many nodes) reserving at once for one name: exactly the
 * limit get through, however the calls interleave. */
#define RACE_THREADS 8
#define RACE_TRIES   12

typedef struct race_ctx {
    pt_store *st;
    pt_throttle *t;
    pthread_barrier_t *go;
    int allowed;
} race_ctx;

static void *race_worker(void *v)
{
    race_ctx *c = v;
    pthread_barrier_wait(c->go);
    for (int i = 0; i < RACE_TRIES; i++)
        if (th(c->st, c->t, 'r', "mallory", 5000) == 0)
            c->allowed++;
    return NULL;
}

static void test_throttle_race(void)
{
    char dir[] = "/tmp/pt-throttle-race-XXXXXX";
    pt_store *st = open_tmp_store(dir);
    unsigned char secret[PT_THROTTLE_SECRET_LEN] = {1};
    pt_throttle *t[RACE_THREADS] = {0};
    pthread_barrier_t go;
    pthread_t thr[RACE_THREADS];
    race_ctx c[RACE_THREADS];
    if (!st)
        return;
    pthread_barrier_init(&go, NULL, RACE_THREADS);
    for (int i = 0; i < RACE_THREADS; i++) {
        CHECK(pt_throttle_new(&t[i], 'u', 5, 900, secret) == 0);
        c[i] = (race_ctx){st, t[i], &go, 0};
        pthread_create(&thr[i], NULL, race_worker, &c[i]);
    }
    int allowed = 0;
    for (int i = 0; i < RACE_THREADS; i++) {
        pthread_join(thr[i], NULL);
        allowed += c[i].allowed;
        pt_throttle_free(t[i]);
    }
    CHECK_MSG(allowed == 5, "%d attempts got through, want 5", allowed);
    pthread_barrier_destroy(&go);
    pt_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* ---- sessions ------------------------------------------------------------ */

typedef struct sctx {
    int64_t now;
    const char *in;
    char *refresh;
    char sid[PT_SID_MAX];
    pt_session s;
    int rc;
} sctx;

static int create_cb(pt_txn *txn, void *v)
{
    sctx *c = v;
    free(c->refresh);
    c->refresh = NULL;
    return pt_session_create(&c->refresh, c->sid, txn, "alice", "demo-trust", true, c->now, 3600);
}

static int rotate_cb(pt_txn *txn, void *v)
{
    sctx *c = v;
    free(c->refresh);
    c->refresh = NULL;
    c->rc = pt_session_rotate(&c->refresh, &c->s, txn, c->in, c->now);
    return c->rc == PT_EDENIED ? 0 : c->rc;
}

static int live_cb(pt_txn *txn, void *v)
{
    sctx *c = v;
    return pt_session_live(txn, c->sid, c->now);
}

static int revoke_cb(pt_txn *txn, void *v)
{
    sctx *c = v;
    return pt_session_revoke(txn, c->sid);
}

static int prune_cb(pt_txn *txn, void *v)
{
    unsigned n = 0;
    int err = pt_session_prune(txn, *(int64_t *)v, 100, &n);
    return err < 0 ? err : (int)n;
}

static int rotate(pt_store *st, sctx *c, const char *tok, char **next)
{
    c->in = tok;
    c->rc = 0;
    int err = pt_store_write(st, rotate_cb, c);
    *next = c->refresh;
    c->refresh = NULL;
    return err < 0 ? err : c->rc;
}

static void test_sessions(void)
{
    char dir[] = "/tmp/pt-auth-parts-XXXXXX";
    pt_store *st = NULL;
    pt_store_options opts = PT_STORE_OPTIONS_INIT;
    CHECK(mkdtemp(dir) != NULL);
    CHECK(pt_store_open(&st, dir, &opts) == 0);
    if (!st)
        return;

    sctx c;
    memset(&c, 0, sizeof c);
    c.now = 5000;
    CHECK(pt_store_write(st, create_cb, &c) == 0);
    char *t1 = c.refresh;
    c.refresh = NULL;
    CHECK(t1 && strncmp(t1, c.sid, strlen(c.sid)) == 0);
    CHECK(strlen(c.sid) == 22);
    CHECK(t1 && strstr(t1, ".1."));
    CHECK(pt_store_read(st, live_cb, &c) == 0);

    /* rotate: t1 -> t2 */
    char *t2 = NULL, *t3 = NULL, *tx = NULL;
    CHECK(rotate(st, &c, t1, &t2) == 0 && t2);
    CHECK(strcmp(c.s.username, "alice") == 0 && strcmp(c.s.org, "demo-trust") == 0);
    CHECK(c.s.mfa && c.s.generation == 2);
    CHECK(t2 && strstr(t2, ".2."));
    /* t2 -> t3 */
    CHECK(rotate(st, &c, t2, &t3) == 0 && t3);

    /* garbage and forgeries: refused, session still live */
    char forged[256];
    snprintf(forged, sizeof forged, "%s.3.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", c.sid);
    CHECK(rotate(st, &c, forged, &tx) == PT_EINVAL && !tx);
    snprintf(forged, sizeof forged, "%s.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", c.sid);
    CHECK(rotate(st, &c, forged, &tx) == PT_EINVAL && !tx); /* old gen, wrong secret */
    snprintf(forged, sizeof forged, "%s.9.AAAA", c.sid);
    CHECK(rotate(st, &c, forged, &tx) == PT_EINVAL);
    const char *junk[] = {
        "",   ".", "..", "a.b.c", "x.1.y", "a.b", "a.01.b", "a.-1.b", "a.99999999999999999999999.b",
        "..."};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        CHECK(rotate(st, &c, junk[i], &tx) == PT_EINVAL);
    CHECK(pt_store_read(st, live_cb, &c) == 0);

    /* reuse of the spent t1: the session is revoked, for t3 as well */
    CHECK(rotate(st, &c, t1, &tx) == PT_EDENIED && !tx);
    CHECK(pt_store_read(st, live_cb, &c) == PT_ENOTFOUND);
    CHECK(rotate(st, &c, t3, &tx) == PT_EINVAL && !tx);

    /* a second session: logout revokes */
    sctx d;
    memset(&d, 0, sizeof d);
    d.now = 5000;
    CHECK(pt_store_write(st, create_cb, &d) == 0);
    CHECK(strcmp(d.sid, c.sid) != 0);
    CHECK(pt_store_read(st, live_cb, &d) == 0);
    CHECK(pt_store_write(st, revoke_cb, &d) == 0);
    CHECK(pt_store_read(st, live_cb, &d) == PT_ENOTFOUND);
    char *dt = d.refresh;
    d.refresh = NULL;
    CHECK(rotate(st, &d, dt, &tx) == PT_EINVAL);
    free(dt);

    /* expiry */
    sctx e;
    memset(&e, 0, sizeof e);
    e.now = 5000;
    CHECK(pt_store_write(st, create_cb, &e) == 0);
    e.now = 5000 + 3599;
    CHECK(pt_store_read(st, live_cb, &e) == 0);
    e.now = 5000 + 3600;
    CHECK(pt_store_read(st, live_cb, &e) == PT_ENOTFOUND);
    char *et = e.refresh;
    e.refresh = NULL;
    CHECK(rotate(st, &e, et, &tx) == PT_EINVAL);
    free(et);

    /* unknown sid */
    sctx u;
    memset(&u, 0, sizeof u);
    strcpy(u.sid, "nope");
    CHECK(pt_store_read(st, live_cb, &u) == PT_ENOTFOUND);
    strcpy(u.sid, "");
    CHECK(pt_store_read(st, live_cb, &u) == PT_ENOTFOUND);

    /* prune removes the expired ones (all three expire at 8600) */
    int64_t later = 10000;
    CHECK(pt_store_write(st, prune_cb, &later) == 3);

    free(t1);
    free(t2);
    free(t3);
    pt_store_close(st);
    CHECK(check_rm_tree(dir) == 0);
}

typedef struct prune_args {
    int64_t now;
    unsigned max, examine; /* examine 0: pt_session_prune */
    unsigned deleted;
} prune_args;

static int prune_some_cb(pt_txn *txn, void *v)
{
    prune_args *a = v;
    if (a->examine == 0)
        return pt_session_prune(txn, a->now, a->max, &a->deleted);
    return pt_session_prune_some(txn, a->now, a->max, a->examine, &a->deleted);
}

static unsigned prune_some(pt_store *st, int64_t now, unsigned max, unsigned examine)
{
    prune_args a = {now, max, examine, 0};
    CHECK(pt_store_write(st, prune_some_cb, &a) == 0);
    return a.deleted;
}

/* Bounded pruning: never more than max deleted, never more than examine
 * looked at, live sessions untouched, and repeated calls clear the lot. */
static void test_prune_bounded(void)
{
    char dir[] = "/tmp/pt-auth-prune-XXXXXX";
    pt_store *st = NULL;
    pt_store_options opts = PT_STORE_OPTIONS_INIT;
    CHECK(mkdtemp(dir) != NULL);
    CHECK(pt_store_open(&st, dir, &opts) == 0);
    if (!st)
        return;
    sctx live[3];
    sctx c;
    memset(&c, 0, sizeof c);
    c.now = 5000; /* expires at 8600 */
    for (int i = 0; i < 40; i++)
        CHECK(pt_store_write(st, create_cb, &c) == 0);
    free(c.refresh);
    for (int i = 0; i < 3; i++) {
        memset(&live[i], 0, sizeof live[i]);
        live[i].now = 9000; /* expires at 12600 */
        CHECK(pt_store_write(st, create_cb, &live[i]) == 0);
        free(live[i].refresh);
    }

    /* looking at 5 records deletes at most 5 */
    unsigned n = prune_some(st, 10000, 16, 5);
    CHECK_MSG(n <= 5, "examined 5, deleted %u", n);
    unsigned total = n;
    /* the login setting: at most 16 per call */
    for (int i = 0; i < 20 && total < 40; i++) {
        n = prune_some(st, 10000, 16, 64);
        CHECK_MSG(n <= 16, "deleted %u > 16", n);
        total += n;
    }
    CHECK_MSG(total == 40, "pruned %u of 40 expired sessions", total);
    CHECK(prune_some(st, 10000, 16, 64) == 0);
    for (int i = 0; i < 3; i++) {
        live[i].now = 10000;
        CHECK(pt_store_read(st, live_cb, &live[i]) == 0);
    }
    /* the unbounded sweep (start-up) also stops at max */
    CHECK(prune_some(st, 20000, 2, 0) == 2);
    CHECK(prune_some(st, 20000, 2, 0) == 1);
    CHECK(prune_some(st, 20000, 2, 0) == 0);
    pt_store_close(st);
    CHECK(check_rm_tree(dir) == 0);
}

static void test_roles(void)
{
    CHECK(pt_role_from_name("portal_admin") == PT_ROLE_PORTAL_ADMIN);
    CHECK(pt_role_from_name("system_admin") == PT_ROLE_SYSTEM_ADMIN);
    CHECK(pt_role_from_name("nope") == 0 && pt_role_from_name(NULL) == 0);
    CHECK(strcmp(pt_role_name(PT_ROLE_HR_ADMIN), "hr_admin") == 0);
    json_t *a = pt_roles_to_json(PT_ROLE_HR_ADMIN | PT_ROLE_PORTAL_ADMIN);
    char *s = json_dumps(a, JSON_COMPACT);
    CHECK(strcmp(s, "[\"portal_admin\",\"hr_admin\"]") == 0);
    free(s);
    json_decref(a);
    CHECK(strcmp(pt_status_name(PT_STATUS_LEAVER), "leaver") == 0);
    CHECK(strcmp(pt_status_name(PT_STATUS_NONE), "none") == 0);
}

/* The login guard: spraying stops at the address limit, and a lock on the
 * username does not stop a client that signed in before. */
static void test_login_guard(void)
{
    pt_config cfg;
    pt_config_defaults(&cfg);
    cfg.login_max_failures = 3;
    cfg.login_max_failures_per_address = 4;
    pt_login_guard *g = NULL, *g2 = NULL;
    pt_login_attempt a;
    int64_t now = 5000000, secs, w = -1;
    char dir[] = "/tmp/pt-guard-XXXXXX";
    pt_store *st = open_tmp_store(dir);
    if (!st)
        return;
    CHECK(pt_login_guard_new(&g, &cfg, st) == 0);
    if (!g)
        return;
    char name[32];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "spray%d", i);
        CHECK((pt_login_guard_reserve(&w, g, &a, name, "10.0.0.1", now) == 0 && w == 0));
    }
    CHECK(pt_login_guard_locked(g, &a, now, &secs) != NULL && secs == 900);
    CHECK((pt_login_guard_reserve(&w, g, &a, "spray9", "10.0.0.1", now) == 0 && w > 0));
    CHECK(a.locked && strcmp(a.locked, "address") == 0);
    CHECK((pt_login_guard_reserve(&w, g, &a, "spray9", "10.0.0.2", now) == 0 && w == 0));

    /* owner signs in from .5; an attacker at .6 locks the username */
    CHECK((pt_login_guard_reserve(&w, g, &a, "owner", "10.0.0.5", now) == 0 && w == 0));
    CHECK(pt_login_guard_success(g, &a, now) == 0);
    for (int i = 0; i < 3; i++)
        CHECK((pt_login_guard_reserve(&w, g, &a, "owner", "10.0.0.6", now) == 0 && w == 0));
    CHECK((pt_login_guard_reserve(&w, g, &a, "owner", "10.0.0.6", now) == 0 && w > 0));
    CHECK(a.locked && strcmp(a.locked, "username") == 0);
    CHECK((pt_login_guard_reserve(&w, g, &a, "owner", "10.0.0.7", now) == 0 && w > 0));
    CHECK((pt_login_guard_reserve(&w, g, &a, "owner", "10.0.0.5", now) == 0 && w == 0) && a.known);
    CHECK(pt_login_guard_success(g, &a, now) == 0);
    /* the owner's success does not clear the attacker's lock */
    CHECK((pt_login_guard_reserve(&w, g, &a, "owner", "10.0.0.6", now) == 0 && w > 0));
    /* a released attempt is not a failure */
    for (int i = 0; i < 10; i++) {
        CHECK((pt_login_guard_reserve(&w, g, &a, "owner", "10.0.0.5", now) == 0 && w == 0));
        CHECK(pt_login_guard_release(g, &a, now) == 0);
    }
    /* A second guard on the same store (another node) sees the locks:
     * the attacker's lock on the username and the owner's known client. */
    CHECK(pt_login_guard_new(&g2, &cfg, st) == 0);
    CHECK(g2 && pt_login_guard_reserve(&w, g2, &a, "owner", "10.0.0.6", now) == 0 && w > 0);
    CHECK(g2 && pt_login_guard_reserve(&w, g2, &a, "owner", "10.0.0.5", now) == 0 && w == 0 &&
          a.known);
    CHECK(g2 && pt_login_guard_reserve(&w, g2, &a, "spray9", "10.0.0.1", now) == 0 && w > 0);
    pt_login_guard_free(g2);
    pt_login_guard_free(g);
    pt_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    if (pt_crypto_init() < 0)
        return 1;
    test_password();
    test_totp();
    test_throttle();
    test_throttle_race();
    test_login_guard();
    test_sessions();
    test_prune_bounded();
    test_roles();
    return check_finish("test_auth_parts");
}
