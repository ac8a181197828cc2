/*
 * keys.h - the signing key set inside auth/: its record in the store
 * (keys_store.c), the immutable in-memory snapshot built from it
 * (keyset.c) and the live ring that token.c signs and verifies with
 * (keyring.c).  Only files in server/auth/ include this; the rest of the
 * server uses the pt_keys_* and pt_token_* functions of auth.h.
 *
 * The record: PT_T_META, key PT_KEYS_META_KEY, value compact JSON
 *   {"generation": N, "keys": [{"kid", "state": "next"|"current"|"previous",
 *     "created_at", "activated_at"?, "retired_at"?, "private_pem"}]}
 * with exactly one current, at most one next and at most one previous.
 * generation grows by one at every change, so a node that already holds
 * generation N need not rebuild anything when it reads N again.
 */
#ifndef PT_AUTH_KEYS_H
#define PT_AUTH_KEYS_H

#include "auth/auth.h"

#include <openssl/evp.h>
#include <stdatomic.h>

#define PT_KEYS_MAX     3 /* next, current, previous */
#define PT_KID_LEN      32
#define PT_KEYS_PEM_MAX 4096

typedef struct pt_signing_key {
    char kid[PT_KID_LEN];
    pt_key_state state;
    int64_t created_at, activated_at, retired_at; /* 0: not (yet) */
    EVP_PKEY *pub;                                /* derived from the private key */
    EVP_MD_CTX *verify_tmpl; /* DigestVerifyInit done once; copied per verify */
    unsigned char *priv_pem; /* the current key only: nothing else signs */
    size_t priv_len;
    char x[64], y[64]; /* JWKS coordinates */
} pt_signing_key;

/* One generation of the key set, never changed once built: verifiers
 * hold a reference while they use it, so a reload can swap in the next
 * generation without pulling a key from under a running verify. */
typedef struct pt_keyset {
    atomic_uint refs;
    uint64_t generation;
    size_t n;
    pt_signing_key keys[PT_KEYS_MAX];
    const pt_signing_key *current;
    char *jwks_text; /* {"keys":[...]} of every key, rendered once */
    size_t jwks_len;
} pt_keyset;

/* ---- keyset.c ------------------------------------------------------------ */

/* Builds a snapshot (refs 1) from the record's JSON; PT_EINVAL when the
 * record is not a usable key set (no current key, a bad PEM, ...). */
int pt_keyset_build(pt_keyset **out, const json_t *record);
void pt_keyset_release(pt_keyset *s);
const pt_signing_key *pt_keyset_find(const pt_keyset *s, const char *kid, size_t kid_len);

/* A fresh P-256 private key as PKCS#8 PEM (malloc'd, cleanse before free). */
int pt_signing_key_generate(char **pem, size_t *len);
/* The kid of a private key PEM (PT_EINVAL if it is not a P-256 key). */
int pt_signing_key_kid(char kid[PT_KID_LEN], const char *pem, size_t len);
const char *pt_key_state_name(pt_key_state s);

/* ---- keyring.c ----------------------------------------------------------- */

/* The snapshot to use now, re-read first when the period has passed; a
 * reference: pt_keyset_release it. */
pt_keyset *pt_keys_acquire(pt_keys *k);
/* The key named by kid in *s; when there is none, re-reads the set
 * (rate-limited), replacing *s, and looks again.  NULL: unknown kid. */
const pt_signing_key *pt_keys_lookup(pt_keys *k, pt_keyset **s, const char *kid, size_t kid_len);

/* ---- keys_store.c -------------------------------------------------------- */

/* The record as JSON, read in txn; PT_ENOTFOUND when there is none. */
int pt_keys_record_get(json_t **out, pt_txn *txn);
/* The same in a read transaction of its own (a reload). */
int pt_keys_record_read(json_t **out, pt_store *store);

#endif
