/* The verified-token cache: hits only for the exact token string, only
 * inside its nbf..exp window, and stays consistent under concurrent use. */
#include "auth/auth.h"
#include "check.h"

#include <pthread.h>
#include <string.h>

static pt_token_claims claims_for(const char *sub, int64_t iat, int64_t exp)
{
    pt_token_claims c;
    memset(&c, 0, sizeof(c));
    pt_strlcpy(c.sub, sub, sizeof(c.sub));
    pt_strlcpy(c.org, "org-a", sizeof(c.org));
    pt_strlcpy(c.sid, "sid-1", sizeof(c.sid));
    c.iat = c.nbf = iat;
    c.exp = exp;
    return c;
}

static void test_window(void)
{
    pt_token_cache *c = NULL;
    CHECK(pt_token_cache_new(&c, 64) == 0);
    pt_token_claims in = claims_for("alice", 1000, 1900), out;
    CHECK(!pt_token_cache_get(c, "a.b.c", 1000, &out)); /* never verified */
    pt_token_cache_put(c, "a.b.c", &in);
    CHECK(pt_token_cache_get(c, "a.b.c", 1000, &out));
    CHECK(strcmp(out.sub, "alice") == 0 && out.exp == 1900);
    CHECK(pt_token_cache_get(c, "a.b.c", 1899, &out));
    CHECK(!pt_token_cache_get(c, "a.b.c", 1900, &out));      /* expired: verify again */
    CHECK(!pt_token_cache_get(c, "a.b.c", 1000 - 31, &out)); /* before nbf - skew */
    CHECK(!pt_token_cache_get(c, "a.b.d", 1000, &out));      /* another string */
    CHECK(!pt_token_cache_get(c, "a.b.c ", 1000, &out));
    CHECK(!pt_token_cache_get(NULL, "a.b.c", 1000, &out));
    pt_token_cache_free(c);
}

/* One slot: the second token evicts the first, never answers for it. */
static void test_eviction(void)
{
    pt_token_cache *c = NULL;
    CHECK(pt_token_cache_new(&c, 1) == 0);
    pt_token_claims a = claims_for("alice", 0, 100), b = claims_for("bob", 0, 100), out;
    pt_token_cache_put(c, "token-a", &a);
    pt_token_cache_put(c, "token-b", &b);
    CHECK(!pt_token_cache_get(c, "token-a", 10, &out));
    CHECK(pt_token_cache_get(c, "token-b", 10, &out) && strcmp(out.sub, "bob") == 0);
    pt_token_cache_free(c);
}

typedef struct worker {
    pt_token_cache *c;
    int id;
    int wrong;
} worker;

static void *hammer(void *arg)
{
    worker *w = arg;
    char tok[32], sub[32];
    for (int i = 0; i < 20000; i++) {
        int k = (i * 7 + w->id) % 500;
        snprintf(tok, sizeof(tok), "tok-%d", k);
        snprintf(sub, sizeof(sub), "user-%d", k);
        pt_token_claims in = claims_for(sub, 0, 100), out;
        pt_token_cache_put(w->c, tok, &in);
        if (pt_token_cache_get(w->c, tok, 1, &out) && strcmp(out.sub, sub) != 0)
            w->wrong++;
    }
    return NULL;
}

static void test_threads(void)
{
    pt_token_cache *c = NULL;
    CHECK(pt_token_cache_new(&c, 128) == 0);
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){c, i, 0};
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_MSG(w[i].wrong == 0, "thread %d saw %d claims of another token", i, w[i].wrong);
    }
    pt_token_cache_free(c);
}

int main(void)
{
    test_window();
    test_eviction();
    test_threads();
    return check_finish("test_token_cache");
}
