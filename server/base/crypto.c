/*
 * crypto.c - the one place libsodium is initialised.
 */
#include "base/crypto.h"

#include "base/common.h"

#include <sodium.h>

int pt_crypto_init(void)
{
    /* sodium_init is itself thread-safe and returns 1 once initialised. */
    if (sodium_init() < 0) {
        pt_error_set("libsodium failed to initialise");
        return PT_ERR;
    }
    return 0;
}
