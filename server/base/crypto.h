/*
 * crypto.h - the one place libsodium is initialised.
 */
#ifndef PT_CRYPTO_H
#define PT_CRYPTO_H

/* Initialises libsodium (sodium_init) once; safe to call again and from
 * any thread.  porticod and the CLI call it at start; the parts that use
 * libsodium (http, tokens, passwords, TOTP, throttle) also call it before
 * first use, so unit tests need not.  0, or PT_ERR with pt_error_set. */
int pt_crypto_init(void);

#endif
