/*
 * password.c - Argon2id password hashes (libsodium crypto_pwhash_str).
 *
 * The hash string carries its own algorithm and cost, so raising the cost
 * in the config only affects new hashes and old ones keep verifying.
 */
#include "auth/auth.h"
#include "base/crypto.h"

#include <pthread.h>
#include <string.h>

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
    if (crypto_pwhash_str(out, password, strlen(password), ops, mem) != 0) {
        pt_error_set("out of memory hashing a password");
        return PT_ENOMEM;
    }
    return 0;
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

void pt_password_dummy_verify(const char *password, unsigned long long ops, size_t mem)
{
    char hash[crypto_pwhash_STRBYTES];

    pthread_once(&sodium_once, sodium_start);
    if (!sodium_ok || !cost_valid(ops, mem))
        return;
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
    if (hash[0])
        (void)pt_password_verify(hash, password ? password : "");
}
