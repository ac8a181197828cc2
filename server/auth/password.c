/*
 * password.c - Argon2id password hashes (libsodium crypto_pwhash_str).
 *
 * The hash string carries its own algorithm and cost, so raising the cost
 * in the config only affects new hashes and old ones keep verifying.
 */
#include "auth/auth.h"
#include "base/crypto.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static void sodium_start(void)
{
    sodium_ok = pt_crypto_init() == 0;
}

static bool cost_valid(unsigned long long ops, size_t mem)
{
    return ops >= crypto_pwhash_OPSLIMIT_MIN && ops <= crypto_pwhash_OPSLIMIT_MAX &&
           mem >= crypto_pwhash_MEMLIMIT_MIN && mem <= crypto_pwhash_MEMLIMIT_MAX;
}

/* ---- the gate: how many Argon2id computations may run at once ---------- */

/*
 * Each Argon2id holds pwhash_mem (64 MiB by default) for its whole run, so
 * without a bound 64 parallel logins of unknown names took 2.3 GiB and
 * starved every other request of CPU.  A counting gate lets `max` run;
 * others wait up to wait_ms for a slot and then get PT_EBUSY (503).
 * 0 (the default, and the CLI's) means no limit.
 */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
static unsigned gate_max, gate_used, gate_wait_ms;

static void gate_init(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&gate_cond, &a);
    pthread_condattr_destroy(&a);
}

void pt_password_limit_set(unsigned max_concurrent, unsigned wait_ms)
{
    pthread_once(&gate_once, gate_init);
    pthread_mutex_lock(&gate_lock);
    gate_max = max_concurrent;
    gate_wait_ms = wait_ms;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

static int gate_enter(void)
{
    struct timespec until;
    int rc = 0;
    pthread_once(&gate_once, gate_init);
    clock_gettime(CLOCK_MONOTONIC, &until);
    pthread_mutex_lock(&gate_lock);
    until.tv_sec += gate_wait_ms / 1000;
    until.tv_nsec += (long)(gate_wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (gate_max && gate_used >= gate_max && rc == 0)
        rc = pthread_cond_timedwait(&gate_cond, &gate_lock, &until);
    if (gate_max && gate_used >= gate_max) {
        pthread_mutex_unlock(&gate_lock);
        pt_error_set("too many passwords are being checked at once; try again shortly");
        return PT_EBUSY;
    }
    gate_used++;
    pthread_mutex_unlock(&gate_lock);
    return 0;
}

static void gate_leave(void)
{
    pthread_mutex_lock(&gate_lock);
    if (gate_used)
        gate_used--;
    pthread_cond_signal(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

/* ---- hashing and checking ------------------------------------------------ */

int pt_password_hash(char out[128], const char *password, unsigned long long ops, size_t mem)
{
    pthread_once(&sodium_once, sodium_start);
    out[0] = 0;
    if (!sodium_ok) {
        pt_error_set("libsodium failed to initialise");
        return PT_ERR;
    }
    if (!password || !cost_valid(ops, mem)) {
        pt_error_set("bad password or hash cost");
        return PT_EINVAL;
    }
    if (gate_enter() < 0)
        return PT_EBUSY;
    int rc = crypto_pwhash_str(out, password, strlen(password), ops, mem);
    gate_leave();
    if (rc != 0) {
        pt_error_set("out of memory hashing a password");
        return PT_ENOMEM;
    }
    return 0;
}

int pt_password_check(const char *hash, const char *password)
{
    if (gate_enter() < 0)
        return PT_EBUSY;
    bool ok = pt_password_verify(hash, password);
    gate_leave();
    return ok ? 0 : PT_EDENIED;
}

bool pt_password_verify(const char *hash, const char *password)
{
    char buf[crypto_pwhash_STRBYTES];

    pthread_once(&sodium_once, sodium_start);
    if (!sodium_ok || !hash || !password)
        return false;
    /* libsodium reads a fixed-size buffer; never hand it a shorter one. */
    size_t n = strnlen(hash, sizeof buf);
    if (n == 0 || n >= sizeof buf)
        return false;
    memset(buf, 0, sizeof buf);
    memcpy(buf, hash, n);
    return crypto_pwhash_str_verify(buf, password, strlen(password)) == 0;
}

/*
 * The dummy hash is made once per cost setting (normally once per process)
 * from a random password nobody knows, so the verify below always fails
 * but costs exactly what a real account's verify costs.
 */
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[crypto_pwhash_STRBYTES];
static unsigned long long dummy_ops;
static size_t dummy_mem;

int pt_password_dummy_verify(const char *password, unsigned long long ops, size_t mem)
{
    char hash[crypto_pwhash_STRBYTES];

    pthread_once(&sodium_once, sodium_start);
    if (!sodium_ok || !cost_valid(ops, mem))
        return 0;
    pthread_mutex_lock(&dummy_lock);
    if (!dummy_hash[0] || dummy_ops != ops || dummy_mem != mem) {
        unsigned char rnd[32];
        char secret[sizeof rnd * 2 + 1];
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(secret, sizeof secret, rnd, sizeof rnd);
        if (crypto_pwhash_str(dummy_hash, secret, strlen(secret), ops, mem) == 0) {
            dummy_ops = ops;
            dummy_mem = mem;
        } else {
            dummy_hash[0] = 0;
        }
        sodium_memzero(secret, sizeof secret);
    }
    memcpy(hash, dummy_hash, sizeof hash);
    pthread_mutex_unlock(&dummy_lock);
    if (!hash[0])
        return 0;
    int rc = pt_password_check(hash, password ? password : "");
    return rc == PT_EBUSY ? rc : 0;
}
